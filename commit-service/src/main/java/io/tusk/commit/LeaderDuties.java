package io.tusk.commit;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.ops.Observability;
import io.tusk.common.service.Lifecycle;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What only the leading commit service instance runs besides answering writes: the master branches
 * every repo needs, the output commits of the DAG ({@link OutputCommits}), repo triggers ({@link
 * TriggerScheduler}) and erasure sweeps ({@link ErasureSweep}). Started when the instance takes the
 * lead and closed when it loses it, newest first; each start builds them anew (their threads and
 * clients do not restart).
 */
final class LeaderDuties implements Leadership.Duties {
  private static final Logger log = LoggerFactory.getLogger(LeaderDuties.class);

  private final CommitServiceConfig config;
  private final KafkaSettings kafka;
  private final ControlPlane control;
  private final ErasureControl erasures;
  private final ErasurePlaces erasurePlaces;
  private final Observability observability;
  private final Lifecycle lifecycle;
  private final Deque<AutoCloseable> running = new ArrayDeque<>();
  private volatile OutputCommits outputCommits;

  LeaderDuties(
      CommitServiceConfig config,
      KafkaSettings kafka,
      ControlPlane control,
      ErasureControl erasures,
      ErasurePlaces erasurePlaces,
      Observability observability,
      Lifecycle lifecycle) {
    this.config = config;
    this.kafka = kafka;
    this.control = control;
    this.erasures = erasures;
    this.erasurePlaces = erasurePlaces;
    this.observability = observability;
    this.lifecycle = lifecycle;
  }

  @Override
  public synchronized void take() {
    control.ensureMasterBranches();
    OutputCommits commits = started(new OutputCommits(kafka, control, observability.registry()));
    commits.onDenied(lifecycle::fail);
    commits.start();
    outputCommits = commits;
    started(
            new TriggerScheduler(
                control,
                control.topicAdmin.admin(),
                Clock.systemUTC(),
                config.triggerPollMillis(),
                observability.registry()))
        .start();
    started(new ErasureSweep(kafka, erasures, erasurePlaces)).start(config.erasureSweepMillis());
  }

  private <T extends AutoCloseable> T started(T duty) {
    running.push(duty);
    return duty;
  }

  @Override
  public synchronized void drop() {
    outputCommits = null;
    for (AutoCloseable duty = running.poll(); duty != null; duty = running.poll()) {
      try {
        duty.close();
      } catch (Exception e) {
        log.warn("Stopping {} failed", duty.getClass().getSimpleName(), e);
      }
    }
  }

  /** True unless the output commits' consumer stopped while this instance leads. */
  boolean isHealthy() {
    OutputCommits commits = outputCommits;
    return commits == null || commits.isHealthy();
  }
}
