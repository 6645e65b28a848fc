package io.bpfwatch.http;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code http.tls}: a server certificate chain and its private key, both PEM, made into an
 * SSLContext. The key may be PKCS#8 ({@code BEGIN PRIVATE KEY}, what openssl writes by default),
 * PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) or SEC1 EC ({@code BEGIN EC PRIVATE KEY}); not
 * encrypted (the daemon starts unattended, so a passphrase would sit beside the key anyway).
 */
public final class Pem {
    private Pem() {}

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

    public static SSLContext serverContext(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] none = new char[0];
        store.setKeyEntry("bpfwatch", key, none, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, none);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        return tls;
    }

    /** The certificate chain in a PEM file; a message naming the file if there is none or one is not valid. */
    public static Collection<? extends Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.ISO_8859_1);
        if (!text.contains("-----BEGIN CERTIFICATE-----")) throw new GeneralSecurityException(file + ": no PEM certificate in it");
        try {
            Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)));
            if (chain.isEmpty()) throw new GeneralSecurityException(file + ": no PEM certificate in it");
            return chain;
        } catch (java.security.cert.CertificateException e) {
            throw new GeneralSecurityException(file + ": a certificate in it is not valid: " + e.getMessage());
        }
    }

    /** The first private key in a PEM file. */
    public static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        return privateKey(Files.readString(file, StandardCharsets.ISO_8859_1), file.toString());
    }

    /** The first private key in {@code pem}; {@code name} is for messages. */
    static PrivateKey privateKey(String pem, String name) throws GeneralSecurityException {
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            if (!type.endsWith("PRIVATE KEY")) continue;
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(m.group(2));
            } catch (IllegalArgumentException e) {
                throw new GeneralSecurityException(name + ": the " + type + " block is not base64");
            }
            try {
                return switch (type) {
                    case "PRIVATE KEY" -> pkcs8(PrivateKeyInfo.getInstance(der));
                    case "RSA PRIVATE KEY" -> pkcs8(new PrivateKeyInfo(
                            new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE), ASN1Primitive.fromByteArray(der)));
                    case "EC PRIVATE KEY" -> {
                        ECPrivateKey ec = ECPrivateKey.getInstance(der);
                        if (ec.getParametersObject() == null) throw new GeneralSecurityException(name + ": the EC key does not name its curve");
                        yield pkcs8(new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, ec.getParametersObject()), ec));
                    }
                    case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException(name + ": the key is encrypted; give it unencrypted (readable by the daemon only)");
                    default -> throw new GeneralSecurityException(name + ": a " + type + " is not a key bpfwatch reads (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
                };
            } catch (IOException | IllegalArgumentException | IllegalStateException e) {
                throw new GeneralSecurityException(name + ": the " + type + " is not valid: " + e.getMessage());
            }
        }
        throw new GeneralSecurityException(name + ": no PEM private key in it");
    }

    /** RFC 8410's identifiers (Bouncy Castle keeps its own constants internal). */
    private static final ASN1ObjectIdentifier ED25519 = new ASN1ObjectIdentifier("1.3.101.112"), ED448 = new ASN1ObjectIdentifier("1.3.101.113");

    private static PrivateKey pkcs8(PrivateKeyInfo info) throws IOException, GeneralSecurityException {
        ASN1ObjectIdentifier alg = info.getPrivateKeyAlgorithm().getAlgorithm();
        String kind;
        if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) kind = "RSA";
        else if (alg.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) kind = "RSASSA-PSS";
        else if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) kind = "EC";
        else if (alg.equals(ED25519) || alg.equals(ED448)) kind = "EdDSA";
        else throw new GeneralSecurityException("a key of algorithm " + alg + " (RSA, EC and EdDSA are read)");
        return KeyFactory.getInstance(kind).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    }
}
