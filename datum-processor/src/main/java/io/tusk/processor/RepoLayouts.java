package io.tusk.processor;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.RepoSpec;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Layouts of the repos in {@code tusk.repos}, built once per spec version: a layout is rebuilt only
 * when the view holds a different spec object for the repo.
 */
final class RepoLayouts implements Function<String, Optional<RepoLayout>> {
  private final CompactedTopicView<RepoSpec> repos;
  private final Map<String, RepoLayout> layouts = new ConcurrentHashMap<>();

  RepoLayouts(CompactedTopicView<RepoSpec> repos) {
    this.repos = Objects.requireNonNull(repos, "repos");
  }

  /** The layout of {@code repo}, or empty if no such repo is known. */
  @Override
  public Optional<RepoLayout> apply(String repo) {
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
}
