package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.localstack.LocalStack;
import io.tusk.schemas.AuditEvent;
import io.tusk.schemas.RoleBinding;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TopicReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Role bindings and the audit trail on the real broker: a grant written by one view takes effect in
 * another within seconds, a revocation too, a view started later reads the compacted state; audit
 * events land on their topic with their time as the record timestamp.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class RoleBindingsIT {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  @Test
  void shouldTakeGrantsAndRevocationsEverywhereWhenWrittenByOneView(LocalStack stack)
      throws Exception {
    // Given a topic of its own, the commit service's (writable) view and another service's view
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    KafkaSettings settings =
        KafkaSettings.of(
            stack.bootstrapServers(), stack.registryUrl(), "role-bindings-it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    Topic<String, RoleBinding> topic =
        new Topic<>(
            "it-role-bindings-" + suffix, topics.keySerde(), topics.avro(RoleBinding.class));
    try (Admin admin = Admin.create(settings.admin("role-bindings-it-" + suffix))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic.name(), 1, (short) 1)
                      .configs(Map.of("cleanup.policy", "compact"))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    Resource claims = Resource.repo("claims");
    try (RoleBindings writer = RoleBindings.start(settings, topic, DEADLINE, true);
        RoleBindings reader =
            RoleBindings.start(
                settings.withInstanceId("other-" + suffix), topic, DEADLINE, false)) {

      // When alice is granted writer and content on claims
      writer.grant(claims, Role.WRITER, "alice", "root");
      writer.grant(claims, Role.CONTENT, "alice", "root");

      // Then the writer sees it at once, the other view within seconds
      assertThat(writer.rolesOf("alice", claims)).isEqualTo(Set.of(Role.WRITER, Role.CONTENT));
      Await.until(
          "the grant reaches the other view",
          DEADLINE,
          () -> reader.rolesOf("alice", claims),
          roles -> roles.equals(Set.of(Role.WRITER, Role.CONTENT)));

      // When the content right is revoked / Then it is gone everywhere, writer kept
      assertThat(writer.revoke(claims, Role.CONTENT, "alice")).isTrue();
      Await.until(
          "the revocation reaches the other view",
          DEADLINE,
          () -> reader.rolesOf("alice", claims),
          roles -> roles.equals(Set.of(Role.WRITER)));
      assertThat(reader.on(claims)).extracting(RoleBinding::getGrantedBy).containsExactly("root");
    }

    // When a view starts later / Then it has read the state before returning
    try (RoleBindings late =
        RoleBindings.start(settings.withInstanceId("late-" + suffix), topic, DEADLINE, false)) {
      assertThat(late.rolesOf("alice", claims)).isEqualTo(Set.of(Role.WRITER));
    }
  }

  @Test
  void shouldWriteAuditEventsWithTheirTimeWhenRecorded(LocalStack stack) throws Exception {
    // Given an audit writer on a topic of its own
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), "audit-it-" + suffix);
    Topics topics = new Topics(settings.registryClient());
    Topic<String, AuditEvent> topic =
        new Topic<>("it-audit-" + suffix, topics.keySerde(), topics.avro(AuditEvent.class));
    try (Admin admin = Admin.create(settings.admin("audit-it-" + suffix))) {
      admin
          .createTopics(List.of(new NewTopic(topic.name(), 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }

    // When two events are recorded
    try (Audit audit = Audit.toKafka(settings, topic, "it-service")) {
      audit.record(
          "alice", "POST /repos/:repo/commits", Resource.repo("claims"), "success", 201, null);
      audit.record(
          "", "GET /repos/:repo", Resource.repo("claims"), "unauthenticated", 401, "no token");
    }

    // Then both are on the topic, keyed by principal, timestamped with their time
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(settings.consumer("audit-it-" + suffix, null))) {
      TopicPartition partition = new TopicPartition(topic.name(), 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      List<ConsumerRecord<byte[], byte[]>> records = TopicReader.readToEnd(consumer, DEADLINE);
      assertThat(records).hasSize(2);
      AuditEvent first = topic.readValue(records.get(0).value());
      assertThat(topic.readKey(records.get(0).key())).isEqualTo("alice");
      assertThat(first.getService()).isEqualTo("it-service");
      assertThat(first.getResource()).isEqualTo("repo:claims");
      assertThat(records.get(0).timestamp()).isEqualTo(first.getTime());
      assertThat(topic.readValue(records.get(1).value()).getOutcome()).isEqualTo("unauthenticated");
    }
  }
}
