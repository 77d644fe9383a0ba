package io.tusk.commit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * Runs blocking tasks on Vert.x worker threads, one at a time per key and in submission order;
 * tasks of different keys run in parallel. Seals of one repo are queued here, so each sees the
 * commit the previous one made as its parent, without a worker thread waiting on a lock.
 */
final class SerialTasks {
  private final Vertx vertx;
  private final Map<String, Future<?>> tails = new HashMap<>();

  SerialTasks(Vertx vertx) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
  }

  /** Runs {@code task} after every task submitted earlier under {@code key} has finished. */
  <T> Future<T> submit(String key, Callable<T> task) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(task, "task");
    synchronized (tails) {
      Future<?> previous = tails.getOrDefault(key, Future.succeededFuture());
      // A failed task must not stop the ones queued behind it: run on any outcome.
      Future<T> next = previous.transform(outcome -> vertx.executeBlocking(task, false));
      tails.put(key, next);
      next.onComplete(
          outcome -> {
            synchronized (tails) {
              tails.remove(key, next);
            }
          });
      return next;
    }
  }
}
