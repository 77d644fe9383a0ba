package io.tusk.common.security;

import io.tusk.common.topics.TopicNames;
import java.util.Objects;

/**
 * What a role is held on: a repo, a pipeline, or the whole cluster (admin, metrics). Written as
 * {@code repo:<name>}, {@code pipeline:<name>} or {@code cluster} in role bindings, the API and the
 * audit trail.
 */
public record Resource(Kind kind, String name) {

  /** The kinds of resource. */
  public enum Kind {
    REPO,
    PIPELINE,
    CLUSTER
  }

  /** The one cluster resource. */
  public static final Resource CLUSTER = new Resource(Kind.CLUSTER, "");

  public Resource {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
  }

  public static Resource repo(String name) {
    return new Resource(Kind.REPO, name);
  }

  public static Resource pipeline(String name) {
    return new Resource(Kind.PIPELINE, name);
  }

  /**
   * Parses {@code repo:<name>}, {@code pipeline:<name>} or {@code cluster}.
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  public static Resource parse(String text) {
    if ("cluster".equals(text)) {
      return CLUSTER;
    }
    int colon = text == null ? -1 : text.indexOf(':');
    if (colon > 0) {
      String name = text.substring(colon + 1);
      if (TopicNames.isValidName(name)) {
        switch (text.substring(0, colon)) {
          case "repo":
            return repo(name);
          case "pipeline":
            return pipeline(name);
          default:
            break;
        }
      }
    }
    throw new IllegalArgumentException(
        "a resource is repo:<name>, pipeline:<name> or cluster, not '" + text + "'");
  }

  /**
   * How a message names it: {@code repo 'claims'}, {@code pipeline 'risk'}, {@code the cluster}.
   */
  public String describe() {
    return kind == Kind.CLUSTER
        ? "the cluster"
        : kind.name().toLowerCase(java.util.Locale.ROOT) + " '" + name + "'";
  }

  @Override
  public String toString() {
    return kind == Kind.CLUSTER
        ? "cluster"
        : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + name;
  }
}
