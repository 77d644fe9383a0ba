package io.tusk.processor;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.RepoSpec;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Layouts of the repos in {@code tusk.repos}, built once per spec version: a layout is rebuilt only
 * when the view holds a different spec object for the repo.
 */
final class RepoLayouts implements DatumMapper.Layouts {
  /**
   * How long a datum waits for the view to read {@code tusk.repos} to its end when the datum names
   * a newer layout than the view knows (the spec is written before the commit that uses it).
   */
  private static final Duration LAYOUT_SYNC = Duration.ofSeconds(30);

  private final CompactedTopicView<RepoSpec> repos;
  private final Map<String, RepoLayout> layouts = new ConcurrentHashMap<>();

  RepoLayouts(CompactedTopicView<RepoSpec> repos) {
    this.repos = Objects.requireNonNull(repos, "repos");
  }

  /** The layout of {@code repo}, or empty if no such repo is known. */
  @Override
  public Optional<RepoLayout> of(String repo) {
    Optional<RepoSpec> spec = repos.get(repo);
    if (spec.isEmpty()) {
      return Optional.empty();
    }
    RepoSpec current = spec.get();
    return Optional.of(
        layouts.compute(
            repo,
            (name, old) -> old != null && old.spec() == current ? old : new RepoLayout(current)));
  }

  /** Reads {@code tusk.repos} to its end first if the view knows an older layout than asked. */
  @Override
  public Optional<RepoLayout> atLeast(String repo, int version) {
    Optional<RepoLayout> layout = of(repo);
    if (layout.isPresent() && layout.get().version() < version) {
      repos.sync(LAYOUT_SYNC);
      layout = of(repo);
    }
    return layout;
  }
}
