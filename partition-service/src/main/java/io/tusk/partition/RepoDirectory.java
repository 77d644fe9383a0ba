package io.tusk.partition;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.schemas.RepoSpec;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** What the rekeyer needs to know of the repos: their names, their specs, and when they change. */
interface RepoDirectory {

  /** The spec of {@code repo}, if known. */
  Optional<RepoSpec> get(String repo);

  /** The names of every known repo. */
  Set<String> names();

  /** Calls {@code listener} (on any thread) after a repo was added, changed or removed. */
  void onChange(Runnable listener);

  /**
   * Waits until the directory knows every spec written before this call (a layout change a row may
   * already be in), at most {@code timeout}; false if it could not tell in time.
   */
  default boolean sync(Duration timeout) {
    return true;
  }

  /** The repos of a view of {@code tusk.repos}. */
  static RepoDirectory of(CompactedTopicView<RepoSpec> view) {
    Objects.requireNonNull(view, "view");
    return new RepoDirectory() {
      @Override
      public Optional<RepoSpec> get(String repo) {
        return view.get(repo);
      }

      @Override
      public Set<String> names() {
        return view.snapshot().keySet();
      }

      @Override
      public void onChange(Runnable listener) {
        view.addListener((repo, spec) -> listener.run());
      }

      @Override
      public boolean sync(Duration timeout) {
        return view.sync(timeout);
      }
    };
  }
}
