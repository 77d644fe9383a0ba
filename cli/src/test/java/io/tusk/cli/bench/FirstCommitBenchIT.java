package io.tusk.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tusk bench first-commit} end to end at a small size, as a smoke test of what the README's
 * figures come from: every member processed by the no-op pipeline, the target projected,
 * and the memory read from this JVM and from the {@code /metrics} of the partition service, which
 * runs in a JVM of its own with its heap bounded.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class FirstCommitBenchIT {
  private static final Pattern CACHE =
      Pattern.compile("block cache \\(.*\\) peak [\\d,]+ MiB of 512 MiB");
  private static final Pattern HEAP =
      Pattern.compile("this JVM \\(.*\\): peak heap after a collection ([\\d,]+) MiB");
  private static final Pattern PARTITION_HEAP =
      Pattern.compile(
          "partition service heap \\(its own JVM\\): bound 256 MiB; peak in use ([\\d,]+) MiB");

  @Test
  void shouldProcessEveryMemberAndReportTheMemoryItTook(@TempDir Path dir) throws Exception {
    // Given a table of 1,000 members and 10,000 rows
    ByteArrayOutputStream printed = new ByteArrayOutputStream();

    // When its first commit is benchmarked
    new FirstCommitBench(
            new PrintStream(printed, true, StandardCharsets.UTF_8),
            new SyntheticTable(1_000, 10_000),
            dir.resolve("home"),
            List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"))
        .run();
    String report = printed.toString(StandardCharsets.UTF_8);

    // Then every row reached its commit and every member its datum, and the target is projected
    assertThat(report).contains("10,000 rows in").contains("1,000 datums processed");
    assertThat(report)
        .contains("target    first commit of 200,000,000 rows, seal -> job SUCCESS: ")
        .contains("at this run's rate");

    // And the memory was read: from the partition service's own JVM its heap within the bound it
    // was given and its bounded cache, and this JVM's line (a run this short may see no collection
    // here, now that the partition service's garbage is collected elsewhere)
    assertThat(HEAP.matcher(report).find()).as(report).isTrue();
    Matcher partitionHeap = PARTITION_HEAP.matcher(report);
    assertThat(partitionHeap.find()).as(report).isTrue();
    assertThat(Long.parseLong(partitionHeap.group(1).replace(",", "")))
        .as(report)
        .isPositive()
        .isLessThanOrEqualTo(256);
    assertThat(CACHE.matcher(report).find()).as(report).isTrue();
    assertThat(report).contains("target    heap per service").doesNotContain("no reading of its");
  }
}
