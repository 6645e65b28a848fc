package io.bpfwatch.http;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.Test;

import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** http.tls's key file in each PEM form openssl writes, and what is refused with a reason. */
class PemTest {
    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private static PrivateKey generate(String algorithm, Object spec) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
        if (spec instanceof Integer bits) g.initialize(bits);
        else if (spec != null) g.initialize((ECGenParameterSpec) spec);
        return g.generateKeyPair().getPrivate();
    }

    @Test
    void readsPkcs8RsaEcAndEd25519() throws Exception {
        for (PrivateKey key : new PrivateKey[] {generate("RSA", 2048), generate("EC", new ECGenParameterSpec("secp256r1")), generate("Ed25519", null)}) {
            PrivateKey read = Pem.privateKey("a comment openssl may leave\n" + pem("PRIVATE KEY", key.getEncoded()), "key.pem");
            assertThat(read.getAlgorithm()).as(key.getAlgorithm()).isEqualTo(key.getAlgorithm());
            assertThat(read.getEncoded()).as(key.getAlgorithm()).isEqualTo(key.getEncoded());
        }
    }

    @Test
    void readsPkcs1RsaAndSec1Ec() throws Exception {
        PrivateKey rsa = generate("RSA", 2048);
        byte[] pkcs1 = PrivateKeyInfo.getInstance(rsa.getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded();
        assertThat(Pem.privateKey(pem("RSA PRIVATE KEY", pkcs1), "rsa.pem").getEncoded()).isEqualTo(rsa.getEncoded());

        PrivateKey ec = generate("EC", new ECGenParameterSpec("secp384r1"));
        // SEC1 as openssl writes it: the curve named inside the key
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(ec.getEncoded());
        org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        byte[] sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(384, inner.getKey(), inner.getPublicKey(), info.getPrivateKeyAlgorithm().getParameters())
                .getEncoded();
        PrivateKey read = Pem.privateKey(pem("EC PARAMETERS", new byte[] {6, 5, 43, (byte) 129, 4, 0, 34}) + pem("EC PRIVATE KEY", sec1), "ec.pem");
        assertThat(read.getAlgorithm()).isEqualTo("EC");
        assertThat(((java.security.interfaces.ECPrivateKey) read).getS()).isEqualTo(((java.security.interfaces.ECPrivateKey) ec).getS());
    }

    @Test
    void refusesWhatItCannotUseAndSaysWhy() {
        assertThatThrownBy(() -> Pem.privateKey(pem("CERTIFICATE", new byte[] {1, 2, 3}), "cert.pem"))
                .isInstanceOf(GeneralSecurityException.class).hasMessage("cert.pem: no PEM private key in it");
        assertThatThrownBy(() -> Pem.privateKey(pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}), "k.pem"))
                .hasMessageContaining("k.pem: the key is encrypted");
        assertThatThrownBy(() -> Pem.privateKey(pem("PRIVATE KEY", new byte[] {48, 3, 2, 1, 0}), "k.pem"))
                .isInstanceOf(GeneralSecurityException.class).hasMessageStartingWith("k.pem: the PRIVATE KEY is not valid");
        assertThatThrownBy(() -> Pem.privateKey("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "k.pem"))
                .isInstanceOf(GeneralSecurityException.class).hasMessageStartingWith("k.pem: no PEM private key in it");
        assertThatThrownBy(() -> Pem.privateKey("", "empty.pem")).hasMessage("empty.pem: no PEM private key in it");
    }
}
