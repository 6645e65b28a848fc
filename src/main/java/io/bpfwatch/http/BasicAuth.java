package io.bpfwatch.http;

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
public final class BasicAuth {
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

    /** Whether a request with this Authorization header (null: none) may pass. */
    public boolean allows(String header) {
        Map<String, String> now = users.get();
        if (now.isEmpty()) return true;
        Verified v = verified;
        if (v.users() != now) verified = v = new Verified(now);
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) return false;
        String key = sha256(header);
        String user = v.byHeader().get(key);
        if (user == null) user = check(now, header.substring(6).trim());
        if (user == null) return false;
        if (v.byHeader().size() < 1024) v.byHeader().put(key, user);
        return true;
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
