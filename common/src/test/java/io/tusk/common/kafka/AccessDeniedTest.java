package io.tusk.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class AccessDeniedTest {

  @Test
  void shouldNameTheTopicAndTheAclThatGrantsItWhenATopicIsDenied() {
    // Given a producer's denial, wrapped as a failed transaction reports it
    KafkaException failure =
        new KafkaException(
            "transaction failed",
            new TopicAuthorizationException(
                "Not authorized to access topics: [tusk.commits]", Set.of("tusk.commits")));

    // When it is explained for the partition service
    String message = AccessDenied.explain("partition-service", failure).orElseThrow();

    // Then it names the service, the topic and the table's rule that covers it
    assertThat(message)
        .startsWith("Kafka denied partition-service access to TOPIC tusk.commits")
        .contains("grant the partition-service principal TOPIC PREFIXED 'tusk.' (READ, WRITE,")
        .endsWith("as README 'Kafka ACLs' lists");
  }

  @Test
  void shouldPointARepoTopicAtTheNamesPrefixRule() {
    String message =
        AccessDenied.explain(
                "datum-processor",
                new TopicAuthorizationException("denied", Set.of("claims.by-member")))
            .orElseThrow();
    assertThat(message)
        .contains("TOPIC claims.by-member")
        .contains("TOPIC PREFIXED '<names-prefix>'");
  }

  @Test
  void shouldFindTheDenialInsideAKafkaStreamsException() {
    StreamsException failure =
        new StreamsException(
            "thread failed", new GroupAuthorizationException("denied", "tusk-lineage"));
    assertThat(AccessDenied.explain("lineage-service", failure))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .contains("access to GROUP tusk-lineage")
                    .contains("GROUP LITERAL 'tusk-lineage' (READ)"));
  }

  @Test
  void shouldListEveryTransactionalIdRuleOfTheServiceSinceKafkaDoesNotNameTheId() {
    String message =
        AccessDenied.explain(
                "partition-service", new TransactionalIdAuthorizationException("denied"))
            .orElseThrow();
    assertThat(message)
        .contains("access to TRANSACTIONAL_ID (")
        .contains("TRANSACTIONAL_ID PREFIXED 'tusk-rekeyer-'")
        .contains("TRANSACTIONAL_ID PREFIXED 'tusk-partition-'");
  }

  @Test
  void shouldPointAtTheReadmeWhenNoRuleCoversTheDenial() {
    assertThat(AccessDenied.explain("commit-service", new ClusterAuthorizationException("denied")))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .contains("access to CLUSTER kafka-cluster")
                    .endsWith("the ACLs README 'Kafka ACLs' lists for commit-service"));
  }

  @Test
  void shouldLeaveOtherFailuresAsTheyAre() {
    RuntimeException timeout = new KafkaException("broken", new TimeoutException("slow"));
    assertThat(AccessDenied.explain("commit-service", timeout)).isEmpty();
    assertThat(AccessDenied.explained("commit-service", timeout)).isSameAs(timeout);
  }

  @Test
  void shouldWrapADenialOnceKeepingItAsTheCause() {
    GroupAuthorizationException denied = new GroupAuthorizationException("d", "tusk-rekeyer");
    RuntimeException explained = AccessDenied.explained("partition-service", denied);
    assertThat(explained)
        .isInstanceOf(AccessDenied.AccessDeniedException.class)
        .hasCause(denied)
        .hasMessageContaining("GROUP LITERAL 'tusk-rekeyer' (READ)");
    assertThat(AccessDenied.explained("partition-service", explained)).isSameAs(explained);
  }
}
