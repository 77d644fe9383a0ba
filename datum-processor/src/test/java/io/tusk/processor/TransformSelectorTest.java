package io.tusk.processor;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.TransformOutput;
import io.tusk.processor.transform.Attempt;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.processor.transform.TransformRunner;
import io.tusk.processor.transform.TransformRunners;
import io.tusk.schemas.Datum;
import io.tusk.schemas.PipelineSpec;
import io.tusk.testfixtures.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransformSelectorTest {
  private static final String PIPELINE = "risk";
  private static final PipelineSpec GIBLEED =
      TestSpecs.javaSpec(PIPELINE, "omop", "gibleed-insights");
  private static final PipelineSpec COHORTS = TestSpecs.javaSpec(PIPELINE, "omop", "cohort-rates");
  private static final PipelineSpec THIRD = TestSpecs.javaSpec(PIPELINE, "omop", "third");

  /** The pipeline's spec as the view has it; tests change it and refresh the watch. */
  private final AtomicReference<PipelineSpec> view = new AtomicReference<>(GIBLEED);

  private final PipelineSpecWatch watch =
      new PipelineSpecWatch(() -> Optional.ofNullable(view.get()));
  private final List<LabelledRunner> runners = new ArrayList<>();

  /** A runner that says which spec it was made for and whether it was closed. */
  private static final class LabelledRunner implements TransformRunner {
    final String specHash;
    volatile boolean closed;

    LabelledRunner(String specHash) {
      this.specHash = specHash;
    }

    @Override
    public Attempt run(Datum datum, RepoLayout layout, Duration timeout) {
      return Attempt.success(TransformOutput.json("{\"spec\":\"" + specHash + "\"}"), "", "");
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** Makes labelled executions; every spec can run except one named "unloadable". */
  private final TransformSelector.ExecutionFactory factory =
      new TransformSelector.ExecutionFactory() {
        @Override
        public void check(PipelineSpec spec) {
          if (spec.getTransform().getName().equals("unloadable")) {
            throw new IllegalArgumentException("no transform named unloadable");
          }
        }

        @Override
        public DatumExecution create(PipelineSpec spec) {
          LabelledRunner runner = new LabelledRunner(spec.getSpecHash());
          runners.add(runner);
          return new DatumExecution(runner, 1, null, null, List.of());
        }
      };

  private TransformSelector selector(Duration wait) {
    watch.refresh();
    return new TransformSelector(PIPELINE, watch, factory, GIBLEED, wait);
  }

  private void viewShows(PipelineSpec spec) {
    view.set(spec);
    watch.refresh();
  }

  private String specOf(TransformSelector.Selection selection) {
    assertThat(selection.error()).isNull();
    assertThat(runners).isNotEmpty();
    return runners.stream()
        .filter(r -> !r.closed)
        .reduce((a, b) -> b)
        .map(r -> r.specHash)
        .orElseThrow();
  }

  @Test
  void shouldRunTheHeldTransformMadeOnceWhenDatumsHaveItsHash() throws Exception {
    // Given a selector holding the spec the processor started with
    TransformSelector selector = selector(Duration.ofSeconds(30));

    // When two datums of its hash come
    TransformSelector.Selection first = selector.select(GIBLEED.getSpecHash());
    TransformSelector.Selection second = selector.select(GIBLEED.getSpecHash());

    // Then both run the same execution, made once on the first datum
    assertThat(first.execution()).isSameAs(second.execution());
    assertThat(runners).hasSize(1);
    assertThat(specOf(first)).isEqualTo(GIBLEED.getSpecHash());
  }

  @Test
  void shouldCloseTheOldTransformAndRunTheNewWhenTheViewHasTheDatumsNewHash() throws Exception {
    // Given a selector that ran its first spec, and a pipeline update the view has read
    TransformSelector selector = selector(Duration.ofSeconds(30));
    selector.select(GIBLEED.getSpecHash());
    viewShows(COHORTS);

    // When a datum of the new hash comes
    TransformSelector.Selection selection = selector.select(COHORTS.getSpecHash());

    // Then the old transform is closed and the new one runs it
    assertThat(runners).hasSize(2);
    assertThat(runners.get(0).closed).isTrue();
    assertThat(specOf(selection)).isEqualTo(COHORTS.getSpecHash());
    assertThat(selector.heldSpecHash()).isEqualTo(COHORTS.getSpecHash());
  }

  @Test
  void shouldWaitForTheViewWhenTheDatumComesBeforeItsSpec() throws Exception {
    // Given a selector whose view still shows the first spec
    TransformSelector selector = selector(Duration.ofSeconds(30));
    Thread caller = Thread.currentThread();

    // When a datum of the new hash comes, and the view reads the update while the datum waits
    CompletableFuture<Void> update =
        CompletableFuture.runAsync(
            () -> {
              Await.until(
                  "the datum waiting for its spec",
                  Duration.ofSeconds(10),
                  () -> caller.getState() == Thread.State.TIMED_WAITING);
              viewShows(COHORTS);
            });
    long start = System.nanoTime();
    TransformSelector.Selection selection = selector.select(COHORTS.getSpecHash());
    update.get(10, TimeUnit.SECONDS);

    // Then the datum runs the new transform as soon as the view has it, well before the bound
    assertThat(specOf(selection)).isEqualTo(COHORTS.getSpecHash());
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void shouldFindASpecTheViewReadWithoutTellingTheWatch() throws Exception {
    // Given a view that holds the new spec but whose listener call was missed
    TransformSelector selector = selector(Duration.ofSeconds(30));
    view.set(COHORTS);

    // When a datum of the new hash comes / Then the bounded re-read finds it
    assertThat(specOf(selector.select(COHORTS.getSpecHash()))).isEqualTo(COHORTS.getSpecHash());
  }

  @Test
  void shouldFailNamingBothHashesAndNotWaitAgainWhenTheDatumsSpecNeverAppears() throws Exception {
    // Given a view that shows the held spec only, and a short bound
    TransformSelector selector = selector(Duration.ofSeconds(2));

    // When two datums of an unknown hash come
    long start = System.nanoTime();
    TransformSelector.Selection first = selector.select("unknown-hash");
    Duration firstTook = Duration.ofNanos(System.nanoTime() - start);
    start = System.nanoTime();
    TransformSelector.Selection second = selector.select("unknown-hash");
    Duration secondTook = Duration.ofNanos(System.nanoTime() - start);

    // Then the first waited the bound and both fail naming the datum's and the pipeline's hash,
    // the second at once; the held transform was left alone
    assertThat(firstTook).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(secondTook).isLessThan(Duration.ofSeconds(1));
    assertThat(first.execution()).isNull();
    assertThat(first.error())
        .contains("unknown-hash")
        .contains(GIBLEED.getSpecHash())
        .contains(PIPELINE)
        .contains("waited 2 s");
    assertThat(second.error()).isEqualTo(first.error());
    assertThat(selector.heldSpecHash()).isEqualTo(GIBLEED.getSpecHash());
    assertThat(runners).isEmpty();
  }

  @Test
  void shouldFailAtOnceWhenTheDatumsSpecWasReplacedSince() throws Exception {
    // Given a selector that moved on from its first spec to a second
    TransformSelector selector = selector(Duration.ofSeconds(30));
    viewShows(COHORTS);
    selector.select(COHORTS.getSpecHash());

    // When a late datum of the first spec comes
    long start = System.nanoTime();
    TransformSelector.Selection late = selector.select(GIBLEED.getSpecHash());

    // Then it fails at once: the spec of its hash was replaced, no transform may run under it
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(late.error())
        .contains(GIBLEED.getSpecHash())
        .contains(COHORTS.getSpecHash())
        .contains("replaced");
    assertThat(selector.heldSpecHash()).isEqualTo(COHORTS.getSpecHash());
  }

  @Test
  void shouldFailTheDatumsAndKeepTheHeldTransformWhenTheNewOneCannotBeLoaded() throws Exception {
    // Given a selector running its spec, and an update naming a transform that does not exist
    TransformSelector selector = selector(Duration.ofSeconds(30));
    TransformSelector.Selection held = selector.select(GIBLEED.getSpecHash());
    PipelineSpec unloadable = TestSpecs.javaSpec(PIPELINE, "omop", "unloadable");
    viewShows(unloadable);

    // When a datum of the new hash comes
    TransformSelector.Selection selection = selector.select(unloadable.getSpecHash());

    // Then it fails clearly, and datums of the held hash still run on the held transform
    assertThat(selection.error())
        .contains("'unloadable'")
        .contains(unloadable.getSpecHash())
        .contains("cannot be loaded: no transform named unloadable");
    assertThat(selector.select(GIBLEED.getSpecHash()).execution()).isSameAs(held.execution());
    assertThat(runners).hasSize(1);
    assertThat(runners.get(0).closed).isFalse();
  }

  @Test
  void shouldRunTheNewTransformWhenThePipelineIsDeletedAndCreatedAgainUnderItsName()
      throws Exception {
    // Given a selector running its spec, then the pipeline deleted
    TransformSelector selector = selector(Duration.ofSeconds(30));
    selector.select(GIBLEED.getSpecHash());
    viewShows(null);

    // When datums of the old job still come / Then they run on the held transform of their hash
    assertThat(specOf(selector.select(GIBLEED.getSpecHash()))).isEqualTo(GIBLEED.getSpecHash());

    // When the pipeline is created again with another transform, and its datums come
    viewShows(THIRD);
    TransformSelector.Selection selection = selector.select(THIRD.getSpecHash());

    // Then they run on the new transform
    assertThat(specOf(selection)).isEqualTo(THIRD.getSpecHash());
    assertThat(runners.get(0).closed).isTrue();
  }

  @Test
  void shouldTryAHashAgainOnceTheViewChanges() throws Exception {
    // Given a datum that failed because the view had no spec of its hash
    TransformSelector selector = selector(Duration.ofMillis(200));
    assertThat(selector.select(COHORTS.getSpecHash()).error()).isNotNull();

    // When the view reads that spec, and another datum of the hash comes
    viewShows(COHORTS);

    // Then it runs
    assertThat(specOf(selector.select(COHORTS.getSpecHash()))).isEqualTo(COHORTS.getSpecHash());
  }

  @Test
  void shouldMakeRealJavaTransformsAndRefuseAnUnknownClass(@TempDir Path work) throws Exception {
    // Given the processor's own factory (TransformRunners) and an update to an unknown class
    ClassLoader loader = getClass().getClassLoader();
    TransformSelector.ExecutionFactory real =
        new TransformSelector.ExecutionFactory() {
          @Override
          public void check(PipelineSpec spec) {
            TransformRunners.check(spec, loader);
          }

          @Override
          public DatumExecution create(PipelineSpec spec) {
            return TransformRunners.create(spec, loader, work, () -> {});
          }
        };
    watch.refresh();
    TransformSelector selector =
        new TransformSelector(PIPELINE, watch, real, GIBLEED, Duration.ofSeconds(30));
    PipelineSpec unknown = TestSpecs.javaSpec(PIPELINE, "omop", "com.example.NoSuchTransform");
    viewShows(unknown);

    // When datums of both hashes come
    TransformSelector.Selection held = selector.select(GIBLEED.getSpecHash());
    TransformSelector.Selection missing = selector.select(unknown.getSpecHash());

    // Then the known one runs and the unknown one fails naming the class, without throwing
    assertThat(held.execution()).isNotNull();
    assertThat(missing.error())
        .contains("com.example.NoSuchTransform")
        .contains("cannot be loaded");
    selector.close();
  }
}
