package io.tusk.partition;

import io.tusk.commit.CommitSealer;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.SealRequest;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;

/**
 * In integration tests without a commit service, does its part of a job's end: for every seal
 * request, announces the job's end to the member partitions with the commit service's own {@link
 * CommitSealer#announceJobDone} (docs/internals.md), so the pipeline's next job can start.
 */
final class JobEndAnnouncer implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final CompactedTopicView<RepoSpec> repos;
  private final Thread thread;
  private volatile boolean running = true;

  private JobEndAnnouncer(KafkaSettings settings, Topics topics, CommitSealer sealer) {
    String group = "it-job-end-announcer-" + UUID.randomUUID();
    this.consumer = new KafkaConsumer<>(settings.consumer(group, group));
    this.repos = CompactedTopicView.start(settings, topics.repos, Duration.ofSeconds(60));
    consumer.subscribe(List.of(topics.sealRequests.name()));
    this.thread =
        new Thread(
            () -> {
              try {
                while (running) {
                  for (ConsumerRecord<byte[], byte[]> record :
                      consumer.poll(Duration.ofMillis(100))) {
                    SealRequest request = topics.sealRequests.readValue(record.value());
                    repos
                        .get(request.getRepo())
                        .ifPresent(
                            repo ->
                                sealer.announceJobDone(
                                    repo.getName(),
                                    repo.getMemberPartitions(),
                                    request.getPipeline(),
                                    request.getJobId(),
                                    request.getRound()));
                  }
                }
              } catch (WakeupException e) {
                // closing
              } finally {
                consumer.close();
              }
            },
            group);
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts announcing the ends of every job whose seal request appears from now on. */
  static JobEndAnnouncer start(KafkaSettings settings, Topics topics, CommitSealer sealer) {
    return new JobEndAnnouncer(settings, topics, sealer);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    consumer.wakeup();
    thread.join(10_000);
    repos.close();
  }
}
