package io.tusk.processor.transform;

import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.Datum;
import java.time.Duration;

/**
 * Runs one kind of transform (Java, a command per datum, a long-lived worker) on a datum, once. A
 * processor thread owns one runner; runners are not thread-safe. Retries, the error command and the
 * bookkeeping around attempts are {@link DatumExecution}'s.
 */
public interface TransformRunner extends AutoCloseable {

  /**
   * Runs the transform on {@code datum} once.
   *
   * @param layout the column names of the datum's repo
   * @param timeout the longest the attempt may take; null for no limit
   * @return the output, or the reason the attempt failed; user code failing never throws
   */
  Attempt run(Datum datum, RepoLayout layout, Duration timeout);

  /** Stops whatever the runner started (worker processes, timeout threads). */
  @Override
  void close();
}
