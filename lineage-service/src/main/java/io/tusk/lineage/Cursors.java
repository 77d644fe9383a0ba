package io.tusk.lineage;

import io.tusk.common.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Opaque page cursors of lists kept in key order: the rest of the last answered entry's store key
 * after the list's prefix, base64url-encoded (keys contain separators that do not belong in URLs).
 */
final class Cursors {
  private Cursors() {}

  /** The cursor after the entry with store key {@code key} of the list under {@code prefix}. */
  static String of(String prefix, String key) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(key.substring(prefix.length()).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The store key a cursor stands for, or null for no cursor.
   *
   * @throws ApiException 400 naming the parameter {@code after} if it is not a cursor
   */
  static String key(String prefix, String cursor) {
    if (cursor == null) {
      return null;
    }
    try {
      String rest = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      return prefix + rest;
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("query parameter 'after' is not a cursor of this list");
    }
  }
}
