package io.tusk.common;

import java.security.SecureRandom;
import java.util.HexFormat;

/** New opaque IDs: 32 lower-case hex characters (128 random bits), printable and URL-safe. */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private Ids() {}

  /** A new random ID. */
  public static String newId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return HEX.formatHex(bytes);
  }

  /** True if {@code id} has the form of an ID Tusk makes. */
  public static boolean isValid(String id) {
    return id != null
        && id.length() == 32
        && id.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
}
