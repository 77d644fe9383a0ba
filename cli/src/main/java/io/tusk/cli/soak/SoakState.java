package io.tusk.cli.soak;

import java.util.List;

/**
 * Everything the reference model knows during a run: the repo, the two stages (null while they do
 * not exist) and whether FLAKY members fail.
 */
final class SoakState {
  final RepoModel repo;
  PipelineModel rows;
  PipelineModel groups;
  boolean flakyFails = true;

  /** Pipelines created so far (names are never reused: a deleted pipeline's topics stay). */
  int pipelinesCreated;

  /**
   * True once an upstream job ended after the derived repo existed: the repo then has a head, so
   * creating the second stage starts a job at once.
   */
  boolean derivedRepoHasHead;

  /** True while a derived repo of the current first stage exists. */
  boolean derivedRepoExists;

  SoakState(RepoModel repo) {
    this.repo = repo;
  }

  /** The branches pipelines reading the repo follow (the first stage follows master). */
  List<String> followedBranches() {
    return rows == null ? List.of() : List.of("master");
  }

  /**
   * True if an erasure on {@code branch} must be refused (409): a pipeline reading the repo follows
   * another branch, so its outputs of the member would stay.
   */
  boolean erasureRefused(String branch) {
    return followedBranches().stream().anyMatch(b -> !b.equals(branch));
  }
}
