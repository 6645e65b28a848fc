package io.bpfwatch.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * HTTP basic auth against bcrypt hashes ({@code http.basic-auth}; $2a$, $2b$ and htpasswd's $2y$),
 * checked with Bouncy Castle's OpenBSD bcrypt. The users come from the running config, so a
 * reload changes them; with none configured every request passes. bcrypt is slow on purpose
 * (~50 ms at cost 10), so a verified header is remembered (by its SHA-256) until the users
 * change, and a scrape every few seconds costs one hash lookup; a wrong password always pays
 * the full price.
 */
public final class BasicAuth implements Handler<RoutingContext> {
    private final Supplier<Map<String, String>> users;
    private volatile Verified verified = new Verified(Map.of());

    /** Headers already checked against one set of users. */
    private record Verified(Map<String, String> users, Map<String, String> byHeader) {
        Verified(Map<String, String> users) {
            this(users, new ConcurrentHashMap<>());
        }
    }

    public BasicAuth(Supplier<Map<String, String>> users) {
        this.users = users;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Map<String, String> now = users.get();
        if (now.isEmpty()) {
            ctx.next();
            return;
        }
        Verified v = verified;
        if (v.users() != now) verified = v = new Verified(now);
        String header = ctx.request().getHeader("Authorization");
        if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
            String key = sha256(header);
            String user = v.byHeader().get(key);
            if (user == null) user = check(now, header.substring(6).trim());
            if (user != null) {
                if (v.byHeader().size() < 1024) v.byHeader().put(key, user);
                ctx.next();
                return;
            }
        }
        ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Basic realm=\"bpfwatch\"").end("Unauthorized\n");
    }

    static String check(Map<String, String> users, String encoded) {
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
        try {
            return OpenBSDBCrypt.checkPassword(hash, decoded.substring(colon + 1).toCharArray()) ? user : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String sha256(String s) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
