package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SerialTasksTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void closeVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void shouldRunTasksOfOneKeyOneAtATimeInOrderWhenSubmittedTogether() throws Exception {
    // Given 20 tasks of one key, the first of which fails
    SerialTasks tasks = new SerialTasks(vertx);
    AtomicInteger running = new AtomicInteger();
    List<Integer> order = new ArrayList<>();
    List<Future<Integer>> results = new ArrayList<>();

    // When they are submitted at once
    for (int i = 0; i < 20; i++) {
      int n = i;
      results.add(
          tasks.submit(
              "repo:a",
              () -> {
                assertThat(running.incrementAndGet()).as("tasks running at once").isEqualTo(1);
                synchronized (order) {
                  order.add(n);
                }
                running.decrementAndGet();
                if (n == 0) {
                  throw new IllegalStateException("first task fails");
                }
                return n;
              }));
    }
    // join waits for all; the expected failure of the first is checked below
    Future.join(results)
        .otherwiseEmpty()
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);

    // Then they ran alone and in submission order, the failure stopping none of the others
    assertThat(order).containsExactlyElementsOf(IntStream.range(0, 20).boxed().toList());
    assertThat(results.get(0).failed()).isTrue();
    assertThat(results.subList(1, 20)).allSatisfy(f -> assertThat(f.succeeded()).isTrue());
  }

  @Test
  void shouldRunTasksOfDifferentKeysInParallelWhenOneIsBlocked() throws Exception {
    // Given a task of key a that waits until a task of key b has run
    SerialTasks tasks = new SerialTasks(vertx);
    CountDownLatch bRan = new CountDownLatch(1);
    Future<Boolean> a = tasks.submit("a", () -> bRan.await(30, TimeUnit.SECONDS));

    // When a task of key b is submitted
    Future<String> b =
        tasks.submit(
            "b",
            () -> {
              bRan.countDown();
              return "b";
            });

    // Then b is not queued behind a
    assertThat(b.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS))
        .isEqualTo("b");
    assertThat(a.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)).isTrue();
  }
}
