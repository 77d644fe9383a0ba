package io.tusk.partition;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds of one completion step of the member topology: a ready commit is applied in slices so that
 * no Kafka Streams transaction grows past the transaction timeout.
 *
 * @param sliceRows most pending rows and reject notices visited in one step
 * @param sliceMembers most changed members emitted in one step
 * @param interval wall-clock punctuation interval that completes ready commits without new input
 */
public record CompletionSettings(int sliceRows, int sliceMembers, Duration interval) {

  /** The defaults of {@link PartitionServiceConfig}. */
  public static final CompletionSettings DEFAULTS =
      new CompletionSettings(20_000, 2_000, Duration.ofMillis(100));

  public CompletionSettings {
    Objects.requireNonNull(interval, "interval");
    if (sliceRows < 1 || sliceMembers < 1) {
      throw new IllegalArgumentException("slice bounds must be positive");
    }
  }
}
