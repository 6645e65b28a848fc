package io.bpfwatch.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.mindrot.jbcrypt.BCrypt;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP basic auth against bcrypt hashes ({@code http.basic-auth}). bcrypt is slow on purpose
 * (~50 ms at cost 10), so a verified header is remembered (by its SHA-256) and a scrape every
 * few seconds costs one hash lookup; a wrong password always pays the full price.
 */
public final class BasicAuth implements Handler<RoutingContext> {
    private final Map<String, String> users;
    private final Map<String, String> verified = new ConcurrentHashMap<>();

    public BasicAuth(Map<String, String> users) {
        this.users = Map.copyOf(users);
    }

    @Override
    public void handle(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
            String key = sha256(header);
            String user = verified.get(key);
            if (user == null) user = check(header.substring(6).trim());
            if (user != null) {
                if (verified.size() < 1024) verified.put(key, user);
                ctx.next();
                return;
            }
        }
        ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Basic realm=\"bpfwatch\"").end("Unauthorized\n");
    }

    private String check(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) return null;
        String user = decoded.substring(0, colon);
        String hash = users.get(user);
        if (hash == null) return null;
        // jBCrypt knows the $2a$ prefix; $2b$ and $2y$ (htpasswd) are the same algorithm
        String normalized = "$2a$" + hash.substring(hash.indexOf('$', 1) + 1);
        try {
            return BCrypt.checkpw(decoded.substring(colon + 1), normalized) ? user : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String sha256(String s) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
