package io.tusk.partition;

import io.tusk.common.member.RepoLayout;
import io.tusk.common.topics.Headers;
import io.tusk.schemas.Commit;
import io.tusk.schemas.RepoSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the member topology's collaborators share within one task: its context (to forward records),
 * its stores, the member versions, and the repos' layouts (cached per spec).
 */
final class MemberTask {
  private static final Logger log = LoggerFactory.getLogger(MemberTask.class);

  final ProcessorContext<String, Object> context;
  final MemberStores stores;
  final MemberVersions.Writable versions;
  final CompletionSettings settings;
  private final Function<String, Optional<RepoSpec>> repos;
  private final Map<String, RepoLayout> layouts = new HashMap<>();
  private final Set<String> reposWithoutSpec = new HashSet<>();
  private final Set<String> layoutsAwaited = new HashSet<>();

  MemberTask(
      ProcessorContext<String, Object> context,
      Function<String, Optional<RepoSpec>> repos,
      CompletionSettings settings) {
    this.context = context;
    this.stores = MemberStores.of(context);
    this.versions =
        new MemberVersions.Writable(stores.versions(), stores.chunks(), stores.deltas());
    this.repos = repos;
    this.settings = settings;
  }

  /** This task's member partition. */
  int partition() {
    return context.taskId().partition();
  }

  long now() {
    return context.currentSystemTimeMs();
  }

  Optional<RepoSpec> spec(String repo) {
    return repos.apply(repo);
  }

  /** The repo's layout, or null (logged once) while its spec is unknown: its work waits. */
  RepoLayout layout(String repo) {
    Optional<RepoSpec> spec = repos.apply(repo);
    if (spec.isEmpty()) {
      if (reposWithoutSpec.add(repo)) {
        log.warn("Repo {} has a ready commit but its spec is unknown; waiting for it", repo);
      }
      return null;
    }
    reposWithoutSpec.remove(repo);
    RepoLayout layout = layouts.get(repo);
    if (layout == null || layout.spec() != spec.get()) {
      layout = new RepoLayout(spec.get());
      layouts.put(repo, layout);
    }
    return layout;
  }

  /**
   * The layout {@code commit} is read with, or null (logged once) while the repo's spec is unknown
   * or older than the layout version the commit was sealed under: its work waits for the view.
   */
  RepoLayout layout(String repo, Commit commit) {
    RepoLayout current = layout(repo);
    if (current == null) {
      return null;
    }
    if (current.version() < commit.getLayoutVersion()) {
      if (layoutsAwaited.add(repo + "@" + commit.getLayoutVersion())) {
        log.warn(
            "Commit {} of repo {} needs layout version {}, known: {}; waiting for it",
            commit.getId(),
            repo,
            commit.getLayoutVersion(),
            current.version());
      }
      return null;
    }
    return current.at(commit.getSequence());
  }

  /** Forwards a record whose value does not name its repo: the repo goes in a header. */
  void forwardWithRepo(String repo, String key, Object value, String sink) {
    context.forward(new Record<>(key, value, now(), repoHeader(repo)), sink);
  }

  static RecordHeaders repoHeader(String repo) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.REPO, Headers.bytes(repo));
    return headers;
  }
}
