package io.tusk.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The token-signing key of a local Tusk (the {@code ./tusk} stack, the tests): an RSA key pair
 * under one directory, the private key in {@code private-key.pem} (owner-only, it never leaves the
 * directory) and the public key as a JWKS in {@code jwks.json}, which the services are given as
 * {@code TUSK_AUTH_JWKS_FILE}. It mints RS256 bearer tokens for any subject, and a random internal
 * secret ({@code internal-secret}, owner-only) for the services' internal listeners.
 *
 * <p>Plain JDK cryptography, so the local stack needs no JWT library; the services verify the
 * tokens with vertx-auth-jwt.
 */
public final class AuthKeys {
  /** The issuer ({@code iss}) of every token minted here. */
  public static final String ISSUER = "tusk-local";

  private static final String PRIVATE_KEY_FILE = "private-key.pem";
  private static final String JWKS_FILE = "jwks.json";
  private static final String SECRET_FILE = "internal-secret";
  private static final String PEM_HEADER = "-----BEGIN PRIVATE KEY-----";
  private static final String PEM_FOOTER = "-----END PRIVATE KEY-----";
  private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();

  private final Path dir;
  private final RSAPrivateCrtKey privateKey;
  private final String keyId;
  private final String internalSecret;

  private AuthKeys(Path dir, RSAPrivateCrtKey privateKey, String internalSecret) {
    this.dir = dir;
    this.privateKey = privateKey;
    this.keyId = keyId(privateKey.getModulus());
    this.internalSecret = internalSecret;
  }

  /**
   * The keys under {@code dir}: read when they exist, else generated and written (the private key
   * and the secret readable by the owner only).
   *
   * @throws UncheckedIOException if they cannot be read or written
   */
  public static AuthKeys loadOrCreate(Path dir) {
    Objects.requireNonNull(dir, "dir");
    try {
      Files.createDirectories(dir);
      Path keyFile = dir.resolve(PRIVATE_KEY_FILE);
      Path secretFile = dir.resolve(SECRET_FILE);
      RSAPrivateCrtKey key;
      if (Files.exists(keyFile)) {
        key = readPrivateKey(Files.readString(keyFile));
      } else {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        key = (RSAPrivateCrtKey) pair.getPrivate();
        writeOwnerOnly(keyFile, pem(key.getEncoded()));
      }
      String secret;
      if (Files.exists(secretFile)) {
        secret = Files.readString(secretFile).strip();
      } else {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        secret = URL.encodeToString(random);
        writeOwnerOnly(secretFile, secret);
      }
      AuthKeys keys = new AuthKeys(dir, key, secret);
      Files.writeString(dir.resolve(JWKS_FILE), keys.jwks());
      return keys;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the local token keys under " + dir, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make or read the local token keys", e);
    }
  }

  /** The public key set file, for {@code TUSK_AUTH_JWKS_FILE}. */
  public Path jwksFile() {
    return dir.resolve(JWKS_FILE);
  }

  /** The secret the services present on each other's internal listener. */
  public String internalSecret() {
    return internalSecret;
  }

  /** The key's ID ({@code kid}). */
  public String keyId() {
    return keyId;
  }

  /** A token for {@code subject}, issued by {@link #ISSUER}, valid for {@code validity}. */
  public String mint(String subject, Duration validity) {
    Instant now = Instant.now();
    return mint(subject, ISSUER, null, now, now.plus(validity));
  }

  /**
   * A token with the given claims ({@code issuer} or {@code audience} null: left out).
   *
   * @param subject {@code sub}
   * @param issuedAt {@code iat}
   * @param expires {@code exp}
   */
  public String mint(
      String subject, String issuer, String audience, Instant issuedAt, Instant expires) {
    StringBuilder claims = new StringBuilder("{");
    claims.append("\"sub\":").append(jsonString(subject));
    if (issuer != null) {
      claims.append(",\"iss\":").append(jsonString(issuer));
    }
    if (audience != null) {
      claims.append(",\"aud\":").append(jsonString(audience));
    }
    claims.append(",\"iat\":").append(issuedAt.getEpochSecond());
    claims.append(",\"exp\":").append(expires.getEpochSecond());
    claims.append('}');
    return sign(claims.toString());
  }

  /** A token whose payload is {@code claimsJson} as given, signed with this key. */
  public String sign(String claimsJson) {
    String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":" + jsonString(keyId) + "}";
    String signingInput = base64Url(header) + "." + base64Url(claimsJson);
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(privateKey);
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + URL.encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a token", e);
    }
  }

  /** The public key as a JSON Web Key Set. */
  public String jwks() {
    return "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":"
        + jsonString(keyId)
        + ",\"n\":\""
        + URL.encodeToString(unsigned(privateKey.getModulus()))
        + "\",\"e\":\""
        + URL.encodeToString(unsigned(privateKey.getPublicExponent()))
        + "\"}]}\n";
  }

  private static String keyId(BigInteger modulus) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(unsigned(modulus));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no SHA-256", e);
    }
  }

  /** A big integer's magnitude without the sign byte, as JWK wants it. */
  private static byte[] unsigned(BigInteger value) {
    byte[] bytes = value.toByteArray();
    return bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
  }

  private static String base64Url(String json) {
    return URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** A JSON string literal: quotes, backslashes and control characters escaped. */
  static String jsonString(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private static String pem(byte[] der) {
    return PEM_HEADER
        + "\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n"
        + PEM_FOOTER
        + "\n";
  }

  private static RSAPrivateCrtKey readPrivateKey(String pem) throws GeneralSecurityException {
    String base64 = pem.replace(PEM_HEADER, "").replace(PEM_FOOTER, "").replaceAll("\\s", "");
    byte[] der = Base64.getDecoder().decode(base64);
    return (RSAPrivateCrtKey)
        KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
  }

  /** Writes {@code text} so that only the owner can read it, replacing the file atomically. */
  public static void writeOwnerOnly(Path file, String text) throws IOException {
    Path temp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
    try {
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: its default permissions apply.
    }
    Files.writeString(temp, text);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
