package io.tusk.processor;

import io.tusk.processor.transform.DatumExecution;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's transform, picked by each datum's spec hash: a datum's result is recorded under its
 * spec hash, so it must run the transform of exactly that spec. The held transform serves the
 * datums of its own hash; a datum of another hash makes the worker load the pipeline's current spec
 * if it has that hash (closing the old transform, worker processes too), waiting a bounded time for
 * the pipelines view to read it. Otherwise the datum cannot run here and {@link #select} says why.
 *
 * <p>Not thread-safe: one per worker thread.
 */
final class TransformSelector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TransformSelector.class);

  /**
   * Longest a datum waits for the view to show its spec. The commit service writes a spec before it
   * starts the job whose datums carry its hash, so the view is normally there before the datum; the
   * wait only covers a lagging view (a loaded broker, a slow view restart). It stays far below the
   * consumer's poll interval (at least 5 minutes), and only the first datum of an unknown hash
   * waits: the others fail at once while the view shows the same spec.
   */
  static final Duration SPEC_WAIT = Duration.ofSeconds(30);

  /** Makes a worker's execution of a spec's transform. */
  interface ExecutionFactory {
    /**
     * Checks that the transform can run here without starting anything.
     *
     * @throws IllegalArgumentException saying why not (an unknown class, no command)
     */
    void check(PipelineSpec spec);

    /**
     * Makes the execution.
     *
     * @throws IllegalArgumentException if the transform cannot be made
     */
    DatumExecution create(PipelineSpec spec);
  }

  /**
   * What a datum runs: an execution, or why there is none.
   *
   * @param execution the transform of the datum's spec hash; null when {@code error} is set
   * @param error why the datum cannot run here, naming the hashes; null with an execution
   */
  record Selection(DatumExecution execution, String error) {}

  private final String pipeline;
  private final PipelineSpecWatch specs;
  private final ExecutionFactory factory;
  private final Duration specWait;

  /** The spec the held execution runs; also known when making its execution failed. */
  private PipelineSpec heldSpec;

  private DatumExecution held;

  /** Hashes found unrunnable, with why; valid while the view shows {@link #unavailableAt}. */
  private final Map<String, String> unavailable = new HashMap<>();

  private String unavailableAt;

  /**
   * @param pipeline the pipeline (named in errors)
   * @param specs the pipeline's current spec
   * @param factory makes executions
   * @param initial the spec to hold at start (its execution is made on its first datum)
   * @param specWait the longest a datum waits for its spec to appear ({@link #SPEC_WAIT})
   */
  TransformSelector(
      String pipeline,
      PipelineSpecWatch specs,
      ExecutionFactory factory,
      PipelineSpec initial,
      Duration specWait) {
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.specs = Objects.requireNonNull(specs, "specs");
    this.factory = Objects.requireNonNull(factory, "factory");
    this.heldSpec = initial;
    this.specWait = Objects.requireNonNull(specWait, "specWait");
  }

  /** The spec hash of the transform held now; null before any. */
  String heldSpecHash() {
    return heldSpec == null ? null : heldSpec.getSpecHash();
  }

  /**
   * The execution for a datum of {@code specHash}.
   *
   * @throws InterruptedException if the worker is stopped while waiting for the view
   */
  Selection select(String specHash) throws InterruptedException {
    Objects.requireNonNull(specHash, "specHash");
    if (heldSpec != null && specHash.equals(heldSpec.getSpecHash())) {
      return held();
    }
    String current = currentHash();
    if (!Objects.equals(current, unavailableAt)) {
      unavailable.clear();
      unavailableAt = current;
    }
    String known = unavailable.get(specHash);
    if (known != null) {
      return new Selection(null, known);
    }
    Optional<PipelineSpec> spec =
        specs.isSuperseded(specHash) ? Optional.empty() : specs.await(specHash, specWait);
    if (spec.isEmpty()) {
      return unavailable(specHash, noSuchSpec(specHash));
    }
    try {
      factory.check(spec.get());
    } catch (IllegalArgumentException e) {
      return unavailable(specHash, cannotLoad(spec.get(), e));
    }
    log.info(
        "Pipeline {}: switching from the transform of spec hash {} to {} ({})",
        pipeline,
        heldSpecHash(),
        specHash,
        describe(spec.get().getTransform()));
    closeHeld();
    heldSpec = spec.get();
    return held();
  }

  private Selection held() {
    if (held == null) {
      try {
        held = factory.create(heldSpec);
      } catch (IllegalArgumentException e) {
        return new Selection(null, cannotLoad(heldSpec, e));
      }
    }
    return new Selection(held, null);
  }

  private Selection unavailable(String specHash, String error) {
    unavailable.put(specHash, error);
    return new Selection(null, error);
  }

  private String noSuchSpec(String specHash) {
    Optional<PipelineSpec> current = specs.current();
    return "no transform of spec hash "
        + specHash
        + " (this worker holds "
        + heldSpecHash()
        + "): pipeline "
        + pipeline
        + (current.isPresent()
            ? "'s current spec has hash " + current.get().getSpecHash()
            : " does not exist now")
        + (specs.isSuperseded(specHash)
            ? " (the spec of that hash was replaced)"
            : " (waited "
                + (specWait.toMillis() % 1000 == 0
                    ? specWait.toSeconds() + " s"
                    : specWait.toMillis() + " ms")
                + " for it)")
        + "; the datum must not run another transform under its hash";
  }

  private static String cannotLoad(PipelineSpec spec, IllegalArgumentException e) {
    return "the transform '"
        + describe(spec.getTransform())
        + "' of spec hash "
        + spec.getSpecHash()
        + " cannot be loaded: "
        + e.getMessage();
  }

  private String currentHash() {
    return specs.current().map(PipelineSpec::getSpecHash).orElse(null);
  }

  static String describe(TransformSpec transform) {
    return transform.getKind() == TransformKind.JAVA
        ? transform.getName()
        : String.join(" ", transform.getCmd());
  }

  private void closeHeld() {
    if (held == null) {
      return;
    }
    try {
      held.close();
    } catch (RuntimeException e) {
      log.warn("Pipeline {}: stopping the old transform failed: {}", pipeline, e.toString());
    }
    held = null;
  }

  /** Stops the held transform (worker processes) and deletes its work directories. */
  @Override
  public void close() {
    closeHeld();
  }
}
