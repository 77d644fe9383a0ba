package io.tusk.commit;

import static io.tusk.common.pipeline.SpecFields.echo;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a request may name a commit by, wherever it names one (README "Commit references"), as git
 * does: a full commit ID; a unique prefix of at least {@link #MIN_PREFIX} hex characters (an
 * ambiguous one is a 409 listing the candidates); a branch name (its head); and any of those
 * followed by {@code ~N}, {@code ~} or {@code ^}, each going that many parents back along the
 * commit chain ({@code master~2}, {@code master^^}, {@code 3f9a2c^}). An exact branch name wins
 * over a prefix of the same characters, as in git. The one owner of that rule: every endpoint
 * resolves through {@link ControlPlane#commitOf}, and queries forwarded to the partition service
 * carry the full IDs it answers.
 */
final class CommitRefs {
  /** The shortest commit ID prefix accepted (git's default abbreviation is 7). */
  static final int MIN_PREFIX = 6;

  /** How many candidates an ambiguous prefix's 409 lists. */
  private static final int MAX_CANDIDATES = 10;

  /** A base followed by ancestry steps: {@code ~N}, {@code ~} or {@code ^}, in any number. */
  private static final Pattern REF = Pattern.compile("^(.+?)((?:~[0-9]*|\\^)*)$");

  private static final Pattern STEP = Pattern.compile("~([0-9]*)|\\^");

  private static final Pattern HEX_PREFIX = Pattern.compile("[0-9a-f]{" + MIN_PREFIX + ",32}");

  private final CommitIndex commits;
  private final BiFunction<String, String, Optional<Branch>> branches;

  /**
   * @param branches a repo's branch by name, empty when it has none of that name
   */
  CommitRefs(CommitIndex commits, BiFunction<String, String, Optional<Branch>> branches) {
    this.commits = commits;
    this.branches = branches;
  }

  /**
   * The commit of {@code repo} that {@code ref} names: 400 when it cannot be a reference, 404 when
   * nothing matches (or the chain ends before the ancestor), 409 when a prefix is ambiguous.
   *
   * @param field the request's parameter or field, for messages
   */
  Commit resolve(String repo, String field, String ref) {
    Matcher parts = ref == null ? null : REF.matcher(ref.trim());
    if (parts == null || !parts.matches()) {
      throw invalid(field, ref);
    }
    Commit commit = base(repo, field, parts.group(1));
    Matcher steps = STEP.matcher(parts.group(2));
    long back = 0;
    while (steps.find()) {
      String n = steps.group(1);
      back += n == null || n.isEmpty() ? 1 : parseSteps(field, ref, n);
    }
    for (long i = 0; i < back; i++) {
      String parent = commit.getParent();
      Optional<Commit> older = parent == null ? Optional.empty() : commits.get(parent);
      if (older.isEmpty()) {
        throw ApiException.notFound(
            field
                + " '"
                + ref
                + "' goes back "
                + back
                + " commits, but the chain ends after "
                + i
                + " (at commit "
                + commit.getId()
                + ")");
      }
      commit = older.get();
    }
    return commit;
  }

  /**
   * The commit a full ID or a unique prefix names, in whichever repo ({@code GET /commits/{id}} has
   * no repo, so no branch either): 404 when none, 409 when the prefix is ambiguous.
   */
  Commit anyRepo(String field, String ref) {
    if (ref == null || !HEX_PREFIX.matcher(ref).matches()) {
      throw ApiException.badRequest(
          field
              + " must be a commit ID or a prefix of at least "
              + MIN_PREFIX
              + " of its characters, got "
              + (ref == null ? "nothing" : echo(ref)));
    }
    List<Commit> matches = commits.withPrefix(null, ref, MAX_CANDIDATES + 1);
    if (matches.isEmpty()) {
      throw ApiException.notFound("no commit '" + ref + "'");
    }
    if (matches.size() > 1) {
      throw ambiguous(field, ref, matches);
    }
    return matches.get(0);
  }

  /** As {@link #anyRepo}, empty instead of an error (for access decisions). */
  Optional<Commit> find(String ref) {
    if (ref == null || !HEX_PREFIX.matcher(ref).matches()) {
      return Optional.empty();
    }
    List<Commit> matches = commits.withPrefix(null, ref, 2);
    return matches.size() == 1 ? Optional.of(matches.get(0)) : Optional.empty();
  }

  /** The commit a reference without ancestry steps names. */
  private Commit base(String repo, String field, String base) {
    if (Ids.isValid(base)) {
      Commit commit =
          commits
              .get(base)
              .orElseThrow(() -> ApiException.notFound("no commit '" + base + "' (" + field + ")"));
      requireOfRepo(repo, field, commit);
      return commit;
    }
    if (!TopicNames.NAME_PATTERN.matcher(base).matches()) {
      throw invalid(field, base);
    }
    Optional<Branch> branch = branches.apply(repo, base);
    if (branch.isPresent()) {
      String head = branch.get().getHead();
      if (head == null) {
        throw ApiException.notFound(
            field + ": branch '" + base + "' of repo '" + repo + "' has no commit yet");
      }
      return commits
          .get(head)
          .orElseThrow(
              () -> ApiException.notFound("no commit '" + head + "' (head of " + base + ")"));
    }
    if (!HEX_PREFIX.matcher(base).matches()) {
      throw base.length() < MIN_PREFIX && base.matches("[0-9a-f]+")
          ? ApiException.badRequest(
              field
                  + " '"
                  + base
                  + "' is too short: a commit ID prefix needs at least "
                  + MIN_PREFIX
                  + " characters")
          : ApiException.notFound(
              "no commit or branch '" + base + "' in repo '" + repo + "' (" + field + ")");
    }
    List<Commit> matches = commits.withPrefix(repo, base, MAX_CANDIDATES + 1);
    if (matches.isEmpty()) {
      throw ApiException.notFound(
          "no commit of repo '" + repo + "' starts with '" + base + "' (" + field + ")");
    }
    if (matches.size() > 1) {
      throw ambiguous(field, base, matches);
    }
    return matches.get(0);
  }

  /** 409 listing the commits an ambiguous prefix starts (at most {@link #MAX_CANDIDATES}). */
  private static ApiException ambiguous(String field, String prefix, List<Commit> matches) {
    StringBuilder message =
        new StringBuilder(field)
            .append(" '")
            .append(prefix)
            .append("' is ambiguous: it starts the IDs of ")
            .append(matches.size() > MAX_CANDIDATES ? "more than " + MAX_CANDIDATES + " " : "")
            .append("commits");
    String separator = ": ";
    for (Commit commit : matches.subList(0, Math.min(MAX_CANDIDATES, matches.size()))) {
      message
          .append(separator)
          .append(commit.getId())
          .append(" (repo ")
          .append(commit.getRepo())
          .append(", sequence ")
          .append(commit.getSequence())
          .append(')');
      separator = ", ";
    }
    return ApiException.conflict(message.toString());
  }

  /** 400 when a full commit ID names a commit of another repo. */
  private static void requireOfRepo(String repo, String field, Commit commit) {
    if (!commit.getRepo().equals(repo)) {
      throw ApiException.badRequest(
          field
              + " '"
              + commit.getId()
              + "' is a commit of repo '"
              + commit.getRepo()
              + "', not of '"
              + repo
              + "'");
    }
  }

  private static long parseSteps(String field, String ref, String n) {
    try {
      return Long.parseLong(n);
    } catch (NumberFormatException e) {
      throw invalid(field, ref);
    }
  }

  private static ApiException invalid(String field, String ref) {
    return ApiException.badRequest(
        field
            + " must be a commit reference (a commit ID, a unique prefix of at least "
            + MIN_PREFIX
            + " characters, a branch, or one of them followed by ~N or ^), got "
            + (ref == null || ref.isBlank() ? "nothing" : echo(ref)));
  }
}
