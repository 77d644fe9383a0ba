package io.tusk.processor.transform;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.TransformOutput;
import io.tusk.schemas.Datum;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-lived worker process: started once (on the first datum) and fed one JSON line per datum on
 * stdin, {@code {"member", "jobId", "commitId", "datumHash", "tables": {TABLE: [{column:
 * value}]}}}, or with the split layout {@code {TABLE: {"columns": [column], "data": [[value]]}}};
 * it answers one line on stdout, {@code {"output": <any JSON>}} (the output, stored as compact
 * JSON, {@code application/json}) or {@code {"error": "..."}} (the attempt failed, the worker goes
 * on). stderr is the worker's log: what it writes while a datum is in flight is that datum's. A
 * worker that exits, gives no answer within the datum timeout (plus {@link #START_ALLOWANCE} for a
 * fresh worker's first answer), or answers something else (the stream could be out of step) is
 * killed with its process tree; the attempt fails and the next one starts a fresh worker, so the
 * in-flight datum is retried.
 *
 * <p>Environment: {@code TUSK_PIPELINE}, the spec's {@code env}, and the processor's environment
 * without its {@code TUSK_*} settings; the working directory is the runner's own.
 */
public final class WorkerRunner implements TransformRunner {
  private static final Logger log = LoggerFactory.getLogger(WorkerRunner.class);

  /** Longest answer line read, in characters; a longer one is invalid output. */
  static final int MAX_LINE_CHARS = 4 * 1024 * 1024;

  private static final long GRACEFUL_EXIT_SECONDS = 2;

  /** How long an exited worker's stderr pipe may take to deliver its last bytes. */
  private static final Duration STDERR_END_WAIT = Duration.ofSeconds(1);

  /**
   * Extra time for a fresh worker's first answer: starting (an interpreter, libraries, a model)
   * must not count as a datum that hangs.
   */
  public static final Duration START_ALLOWANCE = Duration.ofSeconds(60);

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private final List<String> cmd;
  private final Map<String, String> env;
  private final boolean split;
  private final String pipeline;
  private final Path workDir;
  private final int maxOutputBytes;
  private final Runnable onStart;

  /** The request buffer's size, kept between datums; a larger one is dropped after its datum. */
  private static final int REQUEST_BUFFER_BYTES = 256 * 1024;

  private ByteArrayOutputStream request = new ByteArrayOutputStream(REQUEST_BUFFER_BYTES);
  private Process process;
  private OutputStream stdin;
  private BlockingQueue<Line> lines;
  private StderrTail stderr;
  private boolean fresh;

  /**
   * @param cmd the worker command and its arguments
   * @param env the spec's environment variables
   * @param split whether tables are written in the split layout rather than as row objects
   * @param pipeline the pipeline (its name is in the worker's environment)
   * @param workDir the worker's working directory (created if missing)
   * @param maxOutputBytes the largest output accepted
   * @param onStart called whenever a worker process starts (a metric)
   */
  public WorkerRunner(
      List<String> cmd,
      Map<String, String> env,
      boolean split,
      String pipeline,
      Path workDir,
      int maxOutputBytes,
      Runnable onStart) {
    if (cmd.isEmpty()) {
      throw new IllegalArgumentException("a worker transform needs a command");
    }
    this.cmd = List.copyOf(cmd);
    this.env = Map.copyOf(env);
    this.split = split;
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.workDir = Objects.requireNonNull(workDir, "workDir");
    this.maxOutputBytes = maxOutputBytes;
    this.onStart = Objects.requireNonNull(onStart, "onStart");
  }

  /** One line of the worker's stdout, or the end of it. */
  private record Line(String text, boolean end, boolean tooLong) {}

  @Override
  public Attempt run(Datum datum, RepoLayout layout, Duration timeout) {
    request.reset();
    try {
      DatumFiles.writeWorkerRequest(datum, layout, split, request);
    } catch (IOException | IllegalArgumentException e) {
      return Attempt.failure("cannot write the datum as JSON: " + e.getMessage(), "", "");
    }
    if (process == null) {
      try {
        start();
      } catch (IOException e) {
        return Attempt.failure("cannot start the worker: " + e.getMessage(), "", "");
      }
    } else {
      stderr.drain(); // what it wrote between datums belongs to none of them
    }
    try {
      request.writeTo(stdin);
      stdin.write('\n');
      stdin.flush();
    } catch (IOException e) {
      return restart("the worker could not take the datum (" + exitStatus() + ")");
    } finally {
      if (request.size() > REQUEST_BUFFER_BYTES) {
        request = new ByteArrayOutputStream(REQUEST_BUFFER_BYTES); // a big member's is let go
      }
    }
    Line line;
    Duration wait = timeout == null || !fresh ? timeout : timeout.plus(START_ALLOWANCE);
    fresh = false;
    try {
      line = wait == null ? lines.take() : lines.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return restart("interrupted");
    }
    if (line == null) {
      return restart("the worker gave no answer within " + ProcessTrees.describe(wait));
    }
    if (line.end()) {
      // Its last words on stderr may still be in the pipe: let the pump reach the end (bounded,
      // a child of the worker may hold stderr open) so they are in this attempt's log.
      stderr.awaitEnd(STDERR_END_WAIT);
      return restart("the worker exited before answering (" + exitStatus() + ")");
    }
    if (line.tooLong()) {
      return restart("the worker's answer is longer than " + MAX_LINE_CHARS + " characters");
    }
    return answer(line.text());
  }

  private Attempt answer(String text) {
    JsonNode answer;
    try {
      answer = JSON.readTree(text);
    } catch (IOException e) {
      return restart("the worker's answer is not a JSON line");
    }
    boolean hasOutput = answer != null && answer.has("output");
    boolean hasError = answer != null && answer.hasNonNull("error");
    if (answer == null || !answer.isObject() || hasOutput == hasError) {
      return restart(
          "the worker's answer is not {\"output\": ...} or {\"error\": \"...\"} on one line");
    }
    if (hasError) {
      JsonNode error = answer.get("error");
      return Attempt.failure(
          "the worker reported: " + (error.isTextual() ? error.asText() : error.toString()),
          "",
          stderr.drain());
    }
    byte[] data;
    try {
      data = JSON.writeValueAsBytes(answer.get("output"));
    } catch (IOException e) {
      return restart("the worker's output cannot be written as JSON");
    }
    if (data.length > maxOutputBytes) {
      return Attempt.failure(
          "invalid output: " + data.length + " bytes, more than the limit of " + maxOutputBytes,
          "",
          stderr.drain());
    }
    return Attempt.success(new TransformOutput("application/json", data), "", stderr.drain());
  }

  /** Fails the attempt and kills the worker, so the next attempt starts a fresh one. */
  private Attempt restart(String why) {
    String err = stderr == null ? "" : stderr.drain();
    stop(false);
    return Attempt.failure(why + "; the worker is restarted", "", err);
  }

  private void start() throws IOException {
    Files.createDirectories(workDir);
    ProcessBuilder builder = new ProcessBuilder(cmd).directory(workDir.toFile());
    Map<String, String> environment = builder.environment();
    environment.clear();
    environment.putAll(ProcessTrees.environment(env, Map.of("TUSK_PIPELINE", pipeline)));
    Process started = builder.start();
    onStart.run();
    process = started;
    fresh = true;
    stdin = new BufferedOutputStream(started.getOutputStream(), 64 * 1024);
    lines = new LinkedBlockingQueue<>();
    stderr = new StderrTail(DatumExecution.MAX_LOG_CHARS);
    BlockingQueue<Line> queue = lines;
    daemon("tusk-worker-stdout-" + started.pid(), () -> readLines(started.getInputStream(), queue))
        .start();
    StderrTail tail = stderr;
    daemon("tusk-worker-stderr-" + started.pid(), () -> tail.pump(started.getErrorStream()))
        .start();
    log.info("Started worker process {} for pipeline {}", started.pid(), pipeline);
  }

  private String exitStatus() {
    Process current = process;
    if (current == null) {
      return "not running";
    }
    try {
      if (current.waitFor(100, TimeUnit.MILLISECONDS)) {
        return "exit status " + current.exitValue();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "still running";
  }

  /** Reads lines into {@code queue}, bounded in length, then an end marker. */
  private static void readLines(InputStream in, BlockingQueue<Line> queue) {
    try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      char[] buffer = new char[64 * 1024];
      StringBuilder line = new StringBuilder();
      boolean tooLong = false;
      int n;
      while ((n = reader.read(buffer)) >= 0) {
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buffer[i] != '\n') {
            continue;
          }
          if (!tooLong) {
            line.append(buffer, start, i - start);
          }
          queue.add(
              tooLong ? new Line(null, false, true) : new Line(line.toString(), false, false));
          line.setLength(0);
          tooLong = false;
          start = i + 1;
        }
        if (!tooLong) {
          line.append(buffer, start, n - start);
          if (line.length() > MAX_LINE_CHARS) {
            tooLong = true;
            line.setLength(0);
          }
        }
      }
    } catch (IOException e) {
      log.debug("Worker stdout closed: {}", e.toString());
    } finally {
      queue.add(new Line(null, true, false));
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    return thread;
  }

  /**
   * Stops the worker: {@code graceful} closes its stdin first and gives it a moment to exit; then
   * the process tree is killed.
   */
  private void stop(boolean graceful) {
    Process current = process;
    if (current == null) {
      return;
    }
    process = null;
    try {
      stdin.close();
    } catch (IOException e) {
      log.debug("Closing the worker's stdin: {}", e.toString());
    }
    if (graceful) {
      try {
        current.waitFor(GRACEFUL_EXIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (current.isAlive() || current.descendants().findAny().isPresent()) {
      ProcessTrees.kill(current);
    }
  }

  @Override
  public void close() {
    stop(true);
  }

  /** The end of a stream, kept since the last drain, bounded. */
  static final class StderrTail {
    private final int max;
    private final StringBuilder text = new StringBuilder();
    private final CountDownLatch ended = new CountDownLatch(1);

    StderrTail(int max) {
      this.max = max;
    }

    void pump(InputStream in) {
      try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
        char[] buffer = new char[8192];
        int n;
        while ((n = reader.read(buffer)) >= 0) {
          append(buffer, n);
        }
      } catch (IOException e) {
        log.debug("Worker stderr closed: {}", e.toString());
      } finally {
        ended.countDown();
      }
    }

    /** Waits at most {@code wait} for the stream's end to have been read. */
    void awaitEnd(Duration wait) {
      try {
        ended.await(wait.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private synchronized void append(char[] buffer, int n) {
      text.append(buffer, 0, n);
      if (text.length() > 2 * max) {
        text.delete(0, text.length() - max);
      }
    }

    /** What arrived since the last drain (its last {@code max} characters). */
    synchronized String drain() {
      String all = Tails.tail(text.toString(), max);
      text.setLength(0);
      return all;
    }
  }
}
