package io.tusk.common.kafka;

import io.tusk.common.security.ServiceAcls;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Turns Kafka's authorization errors into a message an operator can act on: which resource Kafka
 * denied to which service, and which ACL of the README's "Kafka ACLs" table ({@link ServiceAcls})
 * grants it. Kafka's own errors name the resource at best ("Not authorized to access topics:
 * [tusk.commits]"), never the ACL, and a Kafka Streams application wraps them in a {@code
 * StreamsException}; so the whole cause chain is searched.
 */
public final class AccessDenied {

  /** A start or a part of a service failed because Kafka denied it an operation. */
  public static final class AccessDeniedException extends KafkaException {
    private static final long serialVersionUID = 1L;

    AccessDeniedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private AccessDenied() {}

  /** The first authorization error in {@code failure}'s cause chain, if any. */
  public static Optional<AuthorizationException> find(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof AuthorizationException denied) {
        return Optional.of(denied);
      }
    }
    return Optional.empty();
  }

  /**
   * What Kafka denied {@code service} and the ACL that grants it, if {@code failure} is (or is
   * caused by) an authorization error.
   *
   * @param service the service's name as {@link ServiceAcls.Principal#serviceName} spells it
   */
  public static Optional<String> explain(String service, Throwable failure) {
    Objects.requireNonNull(service, "service");
    if (failure instanceof AccessDeniedException) {
      return Optional.of(failure.getMessage());
    }
    return find(failure).map(denied -> message(service, denied));
  }

  /**
   * {@code failure} as it is, or, if Kafka denied an operation, an {@link AccessDeniedException}
   * whose message names the ACL (and whose cause is {@code failure}).
   */
  public static RuntimeException explained(String service, RuntimeException failure) {
    if (failure instanceof AccessDeniedException) {
      return failure;
    }
    return explain(service, failure)
        .<RuntimeException>map(message -> new AccessDeniedException(message, failure))
        .orElse(failure);
  }

  private static String message(String service, AuthorizationException denied) {
    ResourceType type;
    String resource;
    if (denied instanceof TopicAuthorizationException topics
        && !topics.unauthorizedTopics().isEmpty()) {
      type = ResourceType.TOPIC;
      resource = topics.unauthorizedTopics().stream().sorted().findFirst().orElseThrow();
    } else if (denied instanceof TopicAuthorizationException) {
      type = ResourceType.TOPIC;
      resource = null;
    } else if (denied instanceof GroupAuthorizationException group) {
      type = ResourceType.GROUP;
      resource = group.groupId();
    } else if (denied instanceof TransactionalIdAuthorizationException) {
      type = ResourceType.TRANSACTIONAL_ID;
      resource = null; // Kafka's error does not say which
    } else if (denied instanceof ClusterAuthorizationException) {
      type = ResourceType.CLUSTER;
      resource = "kafka-cluster";
    } else {
      type = ResourceType.UNKNOWN;
      resource = null;
    }
    String what =
        type == ResourceType.UNKNOWN
            ? "an operation"
            : type + (resource == null ? "" : " " + resource);
    String prefix =
        "Kafka denied "
            + service
            + " access to "
            + what
            + " ("
            + denied.getClass().getSimpleName()
            + ": "
            + denied.getMessage()
            + "): ";
    List<ServiceAcls.Rule> rules =
        ServiceAcls.Principal.ofService(service)
            .map(p -> ServiceAcls.pointedAt(p, type, resource))
            .orElse(List.of());
    if (rules.isEmpty()) {
      return prefix
          + "grant the "
          + service
          + " principal the ACLs README 'Kafka ACLs' lists for "
          + service;
    }
    return prefix
        + "grant the "
        + service
        + " principal "
        + rules.stream().map(ServiceAcls.Rule::describe).collect(Collectors.joining("; "))
        + " as README 'Kafka ACLs' lists";
  }
}
