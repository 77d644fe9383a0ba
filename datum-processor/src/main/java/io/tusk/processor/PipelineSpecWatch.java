package io.tusk.processor;

import io.tusk.schemas.PipelineSpec;
import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The current spec of one pipeline as the pipelines view has it, shared by an instance's workers:
 * they wait here for a spec hash the view has not read yet, and learn which hashes it has read and
 * then left behind.
 *
 * <p>{@link #refresh} re-reads the source under the lock, so whichever call comes last leaves the
 * newest value, however the view's listener and the seeding at start interleave.
 */
final class PipelineSpecWatch {
  private final Supplier<Optional<PipelineSpec>> source;
  private final Set<String> superseded = new HashSet<>();
  private PipelineSpec current;

  /**
   * @param source the pipeline's spec as the view holds it now (empty: deleted or not yet created)
   */
  PipelineSpecWatch(Supplier<Optional<PipelineSpec>> source) {
    this.source = Objects.requireNonNull(source, "source");
  }

  /** Reads the source again and wakes the workers waiting for a spec. */
  synchronized void refresh() {
    PipelineSpec next = source.get().orElse(null);
    String before = hash(current);
    String after = hash(next);
    if (before != null && !before.equals(after)) {
      superseded.add(before);
    }
    if (after != null) {
      superseded.remove(after); // deleted and created again with the same spec
    }
    current = next;
    notifyAll();
  }

  /** The spec as of the last refresh; empty when the pipeline does not exist. */
  synchronized Optional<PipelineSpec> current() {
    return Optional.ofNullable(current);
  }

  /** True if the view held a spec of {@code specHash} and has moved on since this watch began. */
  synchronized boolean isSuperseded(String specHash) {
    return superseded.contains(specHash);
  }

  /**
   * Waits until the current spec has {@code specHash}, at most {@code timeout}.
   *
   * @return that spec, or empty if none came in time
   * @throws InterruptedException if the worker is stopped while waiting
   */
  synchronized Optional<PipelineSpec> await(String specHash, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!specHash.equals(hash(current))) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Optional.empty();
      }
      // Woken by refresh(); the bounded wait re-reads the source in case a listener call was
      // missed.
      wait(Math.max(1, Math.min(left / 1_000_000, 1_000)));
      refresh();
    }
    return Optional.of(current);
  }

  private static String hash(PipelineSpec spec) {
    return spec == null ? null : spec.getSpecHash();
  }
}
