package io.tusk.commit;

import io.tusk.common.config.ConfigKey;
import io.tusk.common.http.ApiException;

/**
 * The prefix every repo and pipeline name of a deployment must start with, so that Kafka ACLs can
 * grant the services their topics with one prefixed ACL (README "Kafka ACLs": {@code
 * <names-prefix>}). Topics are {@code <name>.<suffix>} and derived repos {@code
 * <pipeline>-by-<key>}, so checking the names a caller chooses covers every topic Tusk creates.
 */
record NamesPrefix(String prefix) {
  static final ConfigKey KEY =
      ConfigKey.optional(
          "TUSK_NAMES_PREFIX",
          "",
          "Prefix every repo and pipeline name must start with (e.g. acme-), so the services' topic"
              + " ACLs can be one prefixed ACL; empty: any name");

  /**
   * Refuses a name that does not start with the prefix.
   *
   * @param kind what is named, for the message ("repo", "pipeline")
   * @throws ApiException 400 naming the prefix and the key
   */
  void check(String kind, String name) {
    if (!name.startsWith(prefix)) {
      throw ApiException.badRequest(
          kind + " names must start with '" + prefix + "' in this deployment (" + KEY.name() + ")");
    }
  }
}
