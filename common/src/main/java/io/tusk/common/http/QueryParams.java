package io.tusk.common.http;

import io.tusk.common.pipeline.SpecFields;

/**
 * Query parameters every API reads alike: one rule each, so a page size is bounded the same way on
 * every route and a bad value is a 400 that quotes only a short prefix of it.
 */
public final class QueryParams {
  private QueryParams() {}

  /**
   * A {@code limit} (page size) from 1 to {@code max}; absent: {@code defaultValue}.
   *
   * @throws ApiException 400 for anything else (negative, zero, over {@code max}, over 2^31, not a
   *     whole number)
   */
  public static int limit(String value, int defaultValue, int max) {
    if (value == null) {
      return defaultValue;
    }
    try {
      int limit = Integer.parseInt(value.trim());
      if (limit >= 1 && limit <= max) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below with the rule
    }
    throw ApiException.badRequest(
        "limit must be a whole number from 1 to " + max + ", got " + SpecFields.echo(value));
  }
}
