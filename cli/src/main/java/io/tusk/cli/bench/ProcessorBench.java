package io.tusk.cli.bench;

import io.tusk.cli.Home;
import io.tusk.cli.commands.LocalRun;
import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.localstack.LocalStack;
import io.tusk.processor.examples.GiBleedInsights;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tusk bench processors}: what the datum processor costs, on a fresh local stack, with the
 * members of the OMOP GiBleed sample (about 60 rows each) cycled to the requested count:
 *
 * <ul>
 *   <li>the baseline: a bare transactional consume-produce loop copying the same datum records;
 *   <li>datums/s per transform kind (Java, long-lived worker with row objects and with the split
 *       layout, command per datum) from a backlog;
 *   <li>the processor's own cost: a no-op Java transform against the baseline, per datum;
 *   <li>the member side's skip decision on an unchanged member ({@link MemberObjects#apply} and
 *       {@link Hashing}), per member;
 *   <li>scaling from one processor instance to two.
 * </ul>
 *
 * Figures depend on the machine: read them as ratios to the baseline of the same run. The runs
 * themselves are {@link ProcessorRuns}, the skip cost {@link SkipCost}.
 */
@Command(
    name = "processors",
    description =
        "Benchmark the datum processor: datums/s per transform kind, overhead, skip cost,"
            + " scaling from 1 to 2 instances.")
public final class ProcessorBench implements Callable<Integer> {
  private static final String REPO = "bench-omop";
  private static final int PARTITIONS = 4;
  private static final String[] TABLES = {
    "PERSON", "CONDITION_ERA", "DRUG_ERA", "PROCEDURE_OCCURRENCE", "VISIT_OCCURRENCE", "OBSERVATION"
  };

  @Option(
      names = "--datums",
      defaultValue = "100000",
      description = "Datums per measurement (default ${DEFAULT-VALUE}).")
  int datums;

  @Option(
      names = "--command-datums",
      defaultValue = "1000",
      description =
          "Datums for the command-per-datum kind, a process each (default ${DEFAULT-VALUE}).")
  int commandDatums;

  /** Rounds of Java, row-object worker and split-layout worker, alternated. */
  private static final int WORKER_ROUNDS = 3;

  @Option(
      names = "--data",
      description = "The OMOP CSV directory (default: <repo>/data/omop-gibleed).")
  Path data;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    Path root = Home.root();
    Path dir = data == null ? root.resolve("data/omop-gibleed") : data;
    List<LocalRun.Input> inputs = new ArrayList<>();
    for (String table : TABLES) {
      inputs.add(new LocalRun.Input(table, dir.resolve(table + ".csv")));
    }
    LocalRun.LocalRepo local = LocalRun.load(REPO, inputs, "PERSON_ID", rowKeys(), out);
    RepoSpec repo = local.repo();
    RepoLayout layout = new RepoLayout(repo);
    List<MemberObject> members = new ArrayList<>();
    long rows = 0;
    for (Map.Entry<String, List<Row>> entry : local.rowsByMember().entrySet()) {
      List<Row> canonical = MemberObjects.apply(List.of(), entry.getValue(), layout);
      rows += canonical.size();
      members.add(
          MemberObject.newBuilder()
              .setRepo(REPO)
              .setMember(entry.getKey())
              .setHash(Hashing.memberHash(canonical))
              .setCommitId("bench")
              .setSequence(1)
              .setRows(canonical)
              .build());
    }
    double rowsPerMember = (double) rows / members.size();
    out.printf(
        "Tusk processor bench: %,d datums per run, members of the GiBleed sample (%,d members,"
            + " %.0f rows each on average) cycled, %d partitions%n",
        datums, members.size(), rowsPerMember, PARTITIONS);

    SkipCost skip = SkipCost.measure(members, layout);
    Path home = Home.home().resolve("bench-processors");
    Home.clean(home);
    try (LocalStack stack = LocalStack.start(home, LocalStack.Ports.ephemeral())) {
      ProcessorRuns runs = new ProcessorRuns(stack, home, repo, PARTITIONS, members);
      String noop = java(NoopTransform.class);
      String insights = java(GiBleedInsights.class);

      // Warm the broker, the registry and the JIT; the first pass against a cold broker is slow.
      runs.run("warm", noop, Math.min(datums, 10_000), 1, 2);

      ProcessorRuns.Rate raw = runs.rawCopy(noop, datums);
      out.printf(
          "baseline  raw consume+produce (EOS, 1 thread)        %,10.0f datums/s  (%.0f us CPU"
              + " per datum)%n",
          raw.perSecond(), raw.cpuMicros());
      ProcessorRuns.Rate bare = runs.run("noop", noop, datums, 1, 1);
      double overheadMicros = 1e6 / bare.perSecond() - 1e6 / raw.perSecond();
      double overheadCpu = bare.cpuMicros() - raw.cpuMicros();
      out.printf(
          "java      no-op transform (1 instance x 1 thread)      %,10.0f datums/s  (%.0f us CPU)"
              + " = %.2f x baseline time; overhead %.0f us/datum wall, %.0f us/datum CPU%n",
          bare.perSecond(),
          bare.cpuMicros(),
          raw.perSecond() / bare.perSecond(),
          overheadMicros,
          overheadCpu);
      ProcessorRuns.Rate java = runs.run("java", insights, datums, 1, 2);
      out.printf(
          "java      gibleed-insights (1 instance x 2 threads)    %,10.0f datums/s  (%.0f us CPU)%n",
          java.perSecond(), java.cpuMicros());
      // The machine's noise is as large as the layouts' difference: alternate them with the Java
      // transform, and compare each round's rates.
      Path workerScript = root.resolve("examples/python-worker/insight_worker.py");
      List<Double> splitVsJava = new ArrayList<>();
      List<Double> splitVsObjects = new ArrayList<>();
      List<Double> splitRates = new ArrayList<>();
      for (int round = 1; round <= WORKER_ROUNDS; round++) {
        ProcessorRuns.Rate javaNow = round == 1 ? java : runs.run("java", insights, datums, 1, 2);
        ProcessorRuns.Rate objects =
            runs.run("worker-objects", worker(workerScript, null), datums, 1, 2);
        ProcessorRuns.Rate split =
            runs.run("worker", worker(workerScript, PipelineSpecs.SPLIT), datums, 1, 2);
        splitRates.add(split.perSecond());
        splitVsJava.add(split.perSecond() / javaNow.perSecond());
        splitVsObjects.add(split.perSecond() / objects.perSecond());
        out.printf(
            "worker    round %d, 1 x 2 threads: java %,.0f; python insight_worker.py with row"
                + " objects %,.0f (CPU per datum: JVM %.0f us + child processes %.0f us), split layout %,.0f"
                + " datums/s (JVM %.0f us + children %.0f us) = %.2f x java = %.2f x row objects%n",
            round,
            javaNow.perSecond(),
            objects.perSecond(),
            objects.cpuMicros(),
            objects.childCpuMicros(),
            split.perSecond(),
            split.cpuMicros(),
            split.childCpuMicros(),
            splitVsJava.get(round - 1),
            splitVsObjects.get(round - 1));
      }
      // The exchange alone: a Python worker that reads each line and answers without parsing it.
      Path echo = home.resolve("noop_worker.py");
      Files.writeString(
          echo,
          "import sys\nfor line in sys.stdin:\n"
              + "    sys.stdout.write('{\"output\":null}\\n')\n    sys.stdout.flush()\n");
      ProcessorRuns.Rate exchange =
          runs.run("worker-noop", worker(echo, PipelineSpecs.SPLIT), datums, 1, 2);
      out.printf(
          "worker    no-op Python worker, split layout (1 x 2 threads): %,.0f datums/s (JVM %.0f us +"
              + " child processes %.0f us CPU per datum) = %.2f x java: the exchange's own cost%n",
          exchange.perSecond(),
          exchange.cpuMicros(),
          exchange.childCpuMicros(),
          exchange.perSecond() / java.perSecond());
      double worker = median(splitVsJava);
      out.printf(
          "worker    split layout, median of %d rounds: %,.0f datums/s = %.2f x java = %.2f x row"
              + " objects%n",
          WORKER_ROUNDS, median(splitRates), worker, median(splitVsObjects));
      double command =
          runs.run(
                  "command",
                  command(root.resolve("examples/python-command/insight.py")),
                  commandDatums,
                  1,
                  2)
              .perSecond();
      out.printf(
          "command   python insight.py per datum (1 x 2 threads)  %,10.1f datums/s  (%,d datums;"
              + " %.1f ms each)%n",
          command, commandDatums, 2_000 / command);
      double one = runs.run("one", insights, datums, 1, 1).perSecond();
      double two = runs.run("two", insights, datums, 2, 1).perSecond();
      out.printf(
          "scaling   gibleed-insights, 1 -> 2 instances (1 thread each): %,.0f -> %,.0f datums/s"
              + " = %.2f x%n",
          one, two, two / one);
      out.printf(
          "skip      unchanged member (~%.0f rows), CPU time: %.1f us = apply %.1f + hash %.1f"
              + " us/member; MemberSkip.unchanged short-cut %.2f us/member%n",
          rowsPerMember, skip.total(), skip.apply(), skip.hash(), skip.shortCut());
      out.printf(
          "targets   java overhead (CPU) <= 100 us: %s; worker >= 5,000 datums/s: %s; worker >="
              + " 0.7 x java: %s; skip <= 5 us: %s with apply + hash, %s with the short-cut%n",
          Targets.verdict(overheadCpu <= 100),
          Targets.verdict(median(splitRates) >= 5_000),
          Targets.verdict(worker >= 0.7),
          Targets.verdict(skip.total() <= 5),
          Targets.verdict(skip.shortCut() <= 5));
    } finally {
      Home.clean(home);
    }
    return 0;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int middle = sorted.size() / 2;
    return sorted.size() % 2 == 1
        ? sorted.get(middle)
        : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
  }

  private static Map<String, List<String>> rowKeys() {
    Map<String, List<String>> keys = new HashMap<>();
    keys.put("PERSON", List.of("PERSON_ID"));
    keys.put("CONDITION_ERA", List.of("CONDITION_ERA_ID"));
    keys.put("DRUG_ERA", List.of("DRUG_ERA_ID"));
    keys.put("PROCEDURE_OCCURRENCE", List.of("PROCEDURE_OCCURRENCE_ID"));
    keys.put("VISIT_OCCURRENCE", List.of("VISIT_OCCURRENCE_ID"));
    keys.put("OBSERVATION", List.of("OBSERVATION_ID"));
    return keys;
  }

  private static String java(Class<?> transform) {
    return "transform: {java: " + transform.getName() + "}\n";
  }

  private static String command(Path script) {
    return "transform: {cmd: [python3, '" + script + "']}\n" + "datumTimeout: 60s\n";
  }

  /** The long-lived worker spec, its tables as row objects (layout null) or in that layout. */
  private static String worker(Path script, String layout) {
    return "transform: {cmd: [python3, '"
        + script
        + "'], worker: true"
        + (layout == null ? "" : ", inputFormat: " + layout)
        + "}\n"
        + "datumTimeout: 60s\n";
  }
}
