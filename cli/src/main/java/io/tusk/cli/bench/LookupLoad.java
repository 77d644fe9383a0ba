package io.tusk.cli.bench;

import io.tusk.localstack.JavaProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The lineage bench's load generator as a JVM of its own: the bench's JVM also runs the broker and
 * the other services, and its collector's pauses (20-50 ms young pauses of a 4 GB heap) stopped the
 * generator, whose open-loop latencies then counted them. Sends {@link LineageLookups#lookups}
 * after an untimed warm-up at the same rate (connections opened, code compiled) and prints the
 * figures as one line.
 */
final class LookupLoad {
  /** Untimed lookups at the same rate before each timed round. */
  static final Duration WARM_UP = Duration.ofSeconds(5);

  /**
   * The environment variable carrying the Authorization header (never an argument: ps shows it).
   */
  private static final String AUTHORIZATION = "LOOKUP_AUTHORIZATION";

  private static final String RESULT = "lookups ";
  private static final String SERVICE = "service ";
  private static final Duration EXIT_WAIT = Duration.ofMinutes(2);

  private LookupLoad() {}

  /** Arguments: base URL, pipeline, members, rate per second, seconds. */
  public static void main(String[] args) throws Exception {
    String base = args[0];
    String pipeline = args[1];
    int members = Integer.parseInt(args[2]);
    int rate = Integer.parseInt(args[3]);
    Duration duration = Duration.ofSeconds(Long.parseLong(args[4]));
    LineageLookups.LineageHttp http = LineageLookups.LineageHttp.of(System.getenv(AUTHORIZATION));
    LineageLookups.lookups(http, base, pipeline, SyntheticTable::memberId, members, rate, WARM_UP);
    ServerTimes before = ServerTimes.read(http, base);
    LineageLookups.Lookups timed =
        LineageLookups.lookups(
            http, base, pipeline, SyntheticTable::memberId, members, rate, duration);
    System.out.println(SERVICE + ServerTimes.read(http, base).since(before).report());
    long[] latency = timed.latencyMicros();
    System.out.println(
        RESULT
            + timed.requests()
            + " "
            + timed.errors()
            + " "
            + timed.achievedRate()
            + " "
            + String.join(" ", Arrays.stream(latency).mapToObj(Long::toString).toList()));
  }

  /**
   * A timed round: the lookups as the generator timed them, and as the service timed the answers of
   * the same window ({@link ServerTimes#report}).
   */
  record Round(LineageLookups.Lookups lookups, String service) {}

  /**
   * Runs the lookups in a child JVM ({@code -Xmx256m}, this JVM's class path) and returns its
   * figures; its output is appended to {@code log}.
   */
  static Round run(
      String authorization,
      String base,
      String pipeline,
      int members,
      int rate,
      Duration duration,
      Path log)
      throws IOException, InterruptedException {
    JavaProcess load =
        new JavaProcess(
            LookupLoad.class.getName(),
            List.of(
                base,
                pipeline,
                Integer.toString(members),
                Integer.toString(rate),
                Long.toString(duration.toSeconds())),
            List.of("-Xmx256m"),
            authorization == null ? Map.of() : Map.of(AUTHORIZATION, authorization),
            log);
    load.start();
    try {
      if (!load.awaitExit(duration.plus(WARM_UP).plus(EXIT_WAIT))) {
        throw new IllegalStateException("the lookup load did not end; see " + log);
      }
    } finally {
      load.kill();
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    String[] fields = lastLine(lines, RESULT, log).split(" ");
    try {
      return new Round(
          new LineageLookups.Lookups(
              Long.parseLong(fields[0]),
              Long.parseLong(fields[1]),
              Double.parseDouble(fields[2]),
              Arrays.stream(fields, 3, 7).mapToLong(Long::parseLong).toArray()),
          lastLine(lines, SERVICE, log));
    } catch (RuntimeException e) {
      throw new UncheckedIOException(new IOException("unreadable figures in " + log, e));
    }
  }

  /** The rest of the last line of {@code lines} starting with {@code prefix}. */
  private static String lastLine(List<String> lines, String prefix, Path log) {
    return lines.stream()
        .filter(line -> line.startsWith(prefix))
        .reduce((first, second) -> second)
        .map(line -> line.substring(prefix.length()))
        .orElseThrow(
            () ->
                new IllegalStateException("the lookup load printed no " + prefix + "; see " + log));
  }
}
