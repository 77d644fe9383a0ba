package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.common.Ids;
import io.tusk.common.member.CsvLine;
import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.ParseResult;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.member.RowParser;
import io.tusk.processor.transform.CommandRunner;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.processor.transform.TransformRunners;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumState;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.serde.TrustedClasses;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A pipeline run on local files, nothing deployed: the same partitioning into member objects
 * ({@link RowParser}, {@link MemberObjects}), the same hashes ({@link Hashing}) and the same
 * transform execution ({@link TransformRunners}, {@link DatumExecution}) as the datum processor.
 * Given an earlier run's output directory, members whose datum hash is unchanged and succeeded
 * there are skipped and their outputs copied, as a pipeline skips them.
 *
 * <p>The output directory holds {@code outputs/<member>.<ext>} (member URL-encoded), {@code
 * failed/<member>.txt} (the error and the datum's log) and {@code manifest.json}: the spec hash
 * and, per member, its datum hash, state, attempts, output hash, content type and file.
 */
public final class LocalRun {
  /** The file that records a run's datums, read by the next run's {@code --previous}. */
  public static final String MANIFEST = "manifest.json";

  private static final String OUTPUTS = "outputs";
  private static final String FAILED = "failed";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_REPORTED_REJECTS = 10;

  /** One input table: its name and CSV file (header line first). */
  public record Input(String table, Path file) {}

  /**
   * CSV tables read into member rows, as the member side would hold them.
   *
   * @param repo the repo the tables make up
   * @param rowsByMember each member's rows in source order, members in key order
   * @param rows rows read
   * @param rejected records rejected (reasons are reported, never the rows)
   */
  public record LocalRepo(
      RepoSpec repo, Map<String, List<Row>> rowsByMember, long rows, long rejected) {}

  /** What a run did. */
  public record Summary(
      int members,
      int processed,
      int skipped,
      int failed,
      int recovered,
      int removed,
      long rows,
      long rejected) {}

  private final PipelineSpec spec;
  private final List<Input> inputs;
  private final String memberKey;
  private final Map<String, List<String>> rowKeys;
  private final Path previous;
  private final Path out;
  private final int threads;
  private final PrintStream log;

  /**
   * @param spec the pipeline (its input repo names the local repo)
   * @param inputs the tables, each a CSV file with a header line
   * @param memberKey the member key column, the same in every table
   * @param rowKeys row-key columns by table (tables without row keys append their rows)
   * @param previous an earlier run's output directory, or null
   * @param out the output directory (new, empty, or an earlier run's to replace)
   * @param threads transform threads, each with its own runner
   * @param log where progress and rejects are reported (never row values)
   */
  public LocalRun(
      PipelineSpec spec,
      List<Input> inputs,
      String memberKey,
      Map<String, List<String>> rowKeys,
      Path previous,
      Path out,
      int threads,
      PrintStream log) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.inputs = List.copyOf(inputs);
    this.memberKey = Objects.requireNonNull(memberKey, "memberKey");
    this.rowKeys = Map.copyOf(rowKeys);
    this.previous = previous;
    this.out = Objects.requireNonNull(out, "out");
    this.threads = Math.max(1, threads);
    this.log = Objects.requireNonNull(log, "log");
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("give at least one --input TABLE=FILE.csv");
    }
  }

  /** Runs the pipeline and writes the output directory. */
  public Summary run() throws IOException, InterruptedException {
    LocalRepo local = load(spec.getInputRepo(), inputs, memberKey, rowKeys, log);
    RepoSpec repo = local.repo();
    RepoLayout layout = new RepoLayout(repo);
    Map<String, List<Row>> rowsByMember = local.rowsByMember();
    long[] counts = {local.rows(), local.rejected()};
    Map<String, JsonNode> before = previousManifest();
    prepareOut();

    String jobId = "local-" + Ids.newId();
    Map<String, Datum> toRun = new LinkedHashMap<>();
    ObjectNode members = JSON.createObjectNode();
    int skipped = 0;
    for (Map.Entry<String, List<Row>> entry : rowsByMember.entrySet()) {
      String member = entry.getKey();
      List<Row> rows = MemberObjects.apply(List.of(), entry.getValue(), layout);
      String memberHash = Hashing.memberHash(rows);
      String datumHash = Hashing.datumHash(spec.getSpecHash(), memberHash);
      JsonNode earlier = before.get(member);
      if (earlier != null
          && succeeded(earlier)
          && datumHash.equals(earlier.path("datumHash").asText())) {
        copyOutput(earlier);
        members.set(member, earlier);
        skipped++;
        continue;
      }
      MemberObject object =
          MemberObject.newBuilder()
              .setRepo(repo.getName())
              .setMember(member)
              .setHash(memberHash)
              .setCommitId("local")
              .setSequence(1)
              .setRows(rows)
              .build();
      toRun.put(
          member,
          Datum.newBuilder()
              .setPipeline(spec.getName())
              .setJobId(jobId)
              .setCommitId("local")
              .setGlobalId(jobId)
              .setDatumHash(datumHash)
              .setSpecHash(spec.getSpecHash())
              .setMemberObject(object)
              .build());
    }
    int removed = 0;
    for (String member : before.keySet()) {
      removed += rowsByMember.containsKey(member) ? 0 : 1;
    }
    log.printf(
        "%,d members (%,d rows, %,d rejected): %,d to process, %,d unchanged%n",
        rowsByMember.size(), counts[0], counts[1], toRun.size(), skipped);

    Map<String, DatumExecution.Result> results = execute(toRun, layout);
    int failed = 0;
    int recovered = 0;
    for (Map.Entry<String, DatumExecution.Result> entry : results.entrySet()) {
      DatumExecution.Result result = entry.getValue();
      members.set(entry.getKey(), record(entry.getKey(), toRun.get(entry.getKey()), result));
      failed += result.state() == DatumState.FAILED ? 1 : 0;
      recovered += result.state() == DatumState.RECOVERED ? 1 : 0;
    }
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("pipeline", spec.getName());
    manifest.put("specHash", spec.getSpecHash());
    manifest.put("jobId", jobId);
    manifest.set("members", sorted(members));
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve(MANIFEST).toFile(), manifest);
    return new Summary(
        rowsByMember.size(),
        toRun.size() - failed - recovered,
        skipped,
        failed,
        recovered,
        removed,
        counts[0],
        counts[1]);
  }

  /**
   * Reads CSV tables (header line first) into member rows: the file's index is each row's source
   * partition and its record number the offset, as if the rows had come through a repo's updates.
   *
   * @param repoName the repo's name
   * @param memberKey the member key column of every table
   * @param rowKeys row-key columns by table
   * @param log where rejects are reported (reason and position, never the row)
   * @throws IllegalArgumentException naming the file whose header lacks a key column
   */
  public static LocalRepo load(
      String repoName,
      List<Input> inputs,
      String memberKey,
      Map<String, List<String>> rowKeys,
      PrintStream log)
      throws IOException {
    TrustedClasses.install();
    RepoSpec repo = repo(repoName, inputs, memberKey, rowKeys);
    Map<String, List<Row>> rowsByMember = new TreeMap<>();
    long[] counts = readRows(repo, inputs, rowsByMember, log);
    return new LocalRepo(repo, rowsByMember, counts[0], counts[1]);
  }

  private static RepoSpec repo(
      String repoName, List<Input> inputs, String memberKey, Map<String, List<String>> rowKeys)
      throws IOException {
    List<TableSpec> tables = new ArrayList<>();
    for (Input input : inputs) {
      List<String> columns = header(input);
      if (!columns.contains(memberKey)) {
        throw new IllegalArgumentException(
            input.file() + " has no member key column " + memberKey + " (--member-key)");
      }
      List<String> rowKey = rowKeys.getOrDefault(input.table(), List.of());
      for (String column : rowKey) {
        if (!columns.contains(column)) {
          throw new IllegalArgumentException(
              input.file() + " has no row-key column " + column + " (--row-key)");
        }
      }
      tables.add(
          TableSpec.newBuilder()
              .setName(input.table())
              .setColumns(columns)
              .setMemberKey(memberKey)
              .setRowKey(rowKey)
              .build());
    }
    return RepoSpec.newBuilder()
        .setName(repoName)
        .setFormat(RowFormat.CSV)
        .setDefaultTable(inputs.get(0).table())
        .setTables(tables)
        .setUpdatePartitions(1)
        .setMemberPartitions(1)
        .setCreatedAt(0)
        .build();
  }

  private static List<String> header(Input input) throws IOException {
    try (BufferedReader reader = Files.newBufferedReader(input.file(), StandardCharsets.UTF_8)) {
      String line = reader.readLine();
      if (line == null) {
        throw new IllegalArgumentException(input.file() + " is empty: it needs a header line");
      }
      return CsvLine.parse(stripBom(line));
    } catch (CsvLine.MalformedCsvException e) {
      throw new IllegalArgumentException(input.file() + ": the header line is not CSV");
    }
  }

  /** Parses every file into rows by member, as the rekeyer does; returns rows and rejects. */
  private static long[] readRows(
      RepoSpec repo, List<Input> inputs, Map<String, List<Row>> rowsByMember, PrintStream log)
      throws IOException {
    RowParser parser = new RowParser(repo);
    long rows = 0;
    long rejected = 0;
    for (int i = 0; i < inputs.size(); i++) {
      Input input = inputs.get(i);
      try (BufferedReader reader = Files.newBufferedReader(input.file(), StandardCharsets.UTF_8)) {
        reader.readLine(); // the header
        long number = 1;
        String record;
        while ((record = nextRecord(reader)) != null) {
          number++;
          if (record.isEmpty()) {
            continue;
          }
          ParseResult result =
              parser.parse(record.getBytes(StandardCharsets.UTF_8), input.table(), i, number);
          if (result instanceof ParseResult.Accepted accepted) {
            rowsByMember
                .computeIfAbsent(accepted.member(), m -> new ArrayList<>())
                .add(accepted.row());
            rows++;
          } else if (result instanceof ParseResult.Rejected reject) {
            if (rejected++ < MAX_REPORTED_REJECTS) {
              log.printf(
                  "rejected %s record %d: %s (%s)%n",
                  input.file().getFileName(), number, reject.reason(), reject.detail());
            }
          }
        }
      }
    }
    return new long[] {rows, rejected};
  }

  /** One CSV record: a line, or several while a quoted field spans line breaks. */
  private static String nextRecord(BufferedReader reader) throws IOException {
    String line = reader.readLine();
    if (line == null) {
      return null;
    }
    StringBuilder record = new StringBuilder(line);
    while (quotes(record) % 2 == 1) {
      String next = reader.readLine();
      if (next == null) {
        break;
      }
      record.append('\n').append(next);
    }
    return record.toString();
  }

  private static long quotes(CharSequence text) {
    return text.chars().filter(c -> c == '"').count();
  }

  private static String stripBom(String line) {
    return line.startsWith("\uFEFF") ? line.substring(1) : line;
  }

  /** Runs the datums on {@code threads} threads, each with its own runner. */
  private Map<String, DatumExecution.Result> execute(Map<String, Datum> datums, RepoLayout layout)
      throws InterruptedException, IOException {
    Map<String, DatumExecution.Result> results = new TreeMap<>();
    if (datums.isEmpty()) {
      return results;
    }
    ConcurrentLinkedQueue<Datum> queue = new ConcurrentLinkedQueue<>(datums.values());
    Path work = Files.createTempDirectory("tusk-run-");
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Map<String, DatumExecution.Result>>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Path threadDir = work.resolve("thread-" + t);
        futures.add(
            pool.submit(
                () -> {
                  Map<String, DatumExecution.Result> done = new LinkedHashMap<>();
                  try (DatumExecution execution =
                      TransformRunners.create(
                          spec, LocalRun.class.getClassLoader(), threadDir, () -> {})) {
                    Datum datum;
                    while ((datum = queue.poll()) != null) {
                      done.put(
                          datum.getMemberObject().getMember(), execution.execute(datum, layout));
                    }
                  }
                  return done;
                }));
      }
      for (Future<Map<String, DatumExecution.Result>> future : futures) {
        results.putAll(future.get());
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("a transform thread failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
      CommandRunner.deleteTree(work);
    }
    return results;
  }

  private ObjectNode record(String member, Datum datum, DatumExecution.Result result)
      throws IOException {
    ObjectNode entry = JSON.createObjectNode();
    entry.put("datumHash", datum.getDatumHash());
    entry.put("state", result.state().name());
    entry.put("attempts", result.attempts());
    if (result.state() == DatumState.SUCCESS) {
      String file = OUTPUTS + "/" + fileName(member) + extension(result.output().contentType());
      Files.write(out.resolve(file), result.output().data());
      entry.put("outputHash", Hashing.bytesHash(result.output().data()));
      entry.put("contentType", result.output().contentType());
      entry.put("file", file);
    } else {
      String file = FAILED + "/" + fileName(member) + ".txt";
      String text =
          result.error()
              + (result.stderr().isEmpty() ? "" : "\n-- stderr (end) --\n" + result.stderr())
              + (result.log() == null ? "" : "\n-- log --\n" + result.log());
      Files.writeString(out.resolve(file), text);
      entry.put("error", result.error());
      entry.put("file", file);
    }
    return entry;
  }

  private static boolean succeeded(JsonNode entry) {
    String state = entry.path("state").asText();
    return state.equals(DatumState.SUCCESS.name()) || state.equals(DatumState.RECOVERED.name());
  }

  private void copyOutput(JsonNode earlier) throws IOException {
    if (!earlier.hasNonNull("outputHash")) {
      return; // recovered: no output
    }
    String file = earlier.path("file").asText();
    Files.copy(previous.resolve(file), out.resolve(file), StandardCopyOption.REPLACE_EXISTING);
  }

  private Map<String, JsonNode> previousManifest() throws IOException {
    Map<String, JsonNode> members = new TreeMap<>();
    if (previous == null) {
      return members;
    }
    Path manifest = previous.resolve(MANIFEST);
    if (!Files.exists(manifest)) {
      throw new IllegalArgumentException(
          previous + " holds no " + MANIFEST + ": --previous takes an earlier --out directory");
    }
    JsonNode root = JSON.readTree(manifest.toFile());
    root.path("members").fields().forEachRemaining(e -> members.put(e.getKey(), e.getValue()));
    return members;
  }

  /** Creates the output directory, replacing an earlier run's; refuses to mix with other files. */
  private void prepareOut() throws IOException {
    Files.createDirectories(out);
    if (previous != null && Files.isSameFile(previous, out)) {
      throw new IllegalArgumentException("--out must not be the --previous directory");
    }
    boolean earlierRun = Files.exists(out.resolve(MANIFEST));
    try (var entries = Files.list(out)) {
      if (!earlierRun && entries.findAny().isPresent()) {
        throw new IllegalArgumentException(
            out + " is not empty and holds no earlier run: choose a new --out directory");
      }
    }
    for (String dir : List.of(OUTPUTS, FAILED)) {
      CommandRunner.deleteTree(out.resolve(dir));
      Files.createDirectories(out.resolve(dir));
    }
    Files.deleteIfExists(out.resolve(MANIFEST));
  }

  private static ObjectNode sorted(ObjectNode members) {
    ObjectNode sorted = JSON.createObjectNode();
    new TreeMap<String, JsonNode>(toMap(members)).forEach(sorted::set);
    return sorted;
  }

  private static Map<String, JsonNode> toMap(ObjectNode node) {
    Map<String, JsonNode> map = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue()));
    return map;
  }

  private static String fileName(String member) {
    return URLEncoder.encode(member, StandardCharsets.UTF_8).replace("*", "%2A");
  }

  private static String extension(String contentType) {
    return switch (contentType) {
      case "application/json" -> ".json";
      case "application/x-ndjson" -> ".jsonl";
      case "text/csv" -> ".csv";
      case "text/plain" -> ".txt";
      default -> ".out";
    };
  }
}
