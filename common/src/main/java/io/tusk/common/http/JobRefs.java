package io.tusk.common.http;

import io.tusk.common.Ids;
import io.tusk.common.pipeline.SpecFields;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a request may name a job by (README "Job references"), as git names commits: its full ID, or
 * a unique prefix of at least {@link #MIN_PREFIX} of its characters. An ambiguous prefix is a 409
 * listing the candidates, an unknown one a 404, anything else a 400. The rule lives here so that
 * the commit service and the lineage service answer alike; each service passes the one lookup of
 * its own job store ({@link Candidates}).
 */
public final class JobRefs {
  /** The shortest prefix accepted, as for commits (git's default abbreviation is 7). */
  public static final int MIN_PREFIX = 6;

  /** How many candidates an ambiguous prefix's 409 lists. */
  public static final int MAX_CANDIDATES = 10;

  private static final Pattern HEX = Pattern.compile("[0-9a-f]+");

  /** A service's job IDs by prefix. */
  @FunctionalInterface
  public interface Candidates {
    /**
     * Up to {@code limit} full job IDs that start with {@code prefix}, in ID order (so that an
     * answer never depends on where the IDs were found).
     */
    List<String> withPrefix(String prefix, int limit);
  }

  private JobRefs() {}

  /**
   * The full job ID {@code ref} names. A full ID is returned as it is, unlooked-up (the caller
   * answers 404 for an unknown job as it did before references existed).
   *
   * @param field the request's parameter, for messages
   * @throws ApiException 400 when {@code ref} cannot be a job reference or is shorter than {@link
   *     #MIN_PREFIX}, 404 when no job starts with it, 409 when several do
   */
  public static String resolve(String field, String ref, Candidates jobs) {
    Objects.requireNonNull(jobs, "jobs");
    if (Ids.isValid(ref)) {
      return ref;
    }
    if (ref == null || ref.length() > 32 || !HEX.matcher(ref).matches()) {
      throw ApiException.badRequest(
          field
              + " must be a job ID or a prefix of at least "
              + MIN_PREFIX
              + " of its characters (lower-case hex), got "
              + (ref == null || ref.isEmpty() ? "nothing" : SpecFields.echo(ref)));
    }
    if (ref.length() < MIN_PREFIX) {
      throw ApiException.badRequest(
          field
              + " '"
              + ref
              + "' is too short: a job ID prefix needs at least "
              + MIN_PREFIX
              + " characters");
    }
    List<String> matches = jobs.withPrefix(ref, MAX_CANDIDATES + 1);
    if (matches.isEmpty()) {
      throw ApiException.notFound("no job ID starts with '" + ref + "' (" + field + ")");
    }
    if (matches.size() > 1) {
      throw ambiguous(field, ref, matches);
    }
    return matches.get(0);
  }

  /**
   * As {@link #resolve}, empty instead of an error (for access decisions, which must not look
   * further than the request can see).
   */
  public static Optional<String> find(String ref, Candidates jobs) {
    if (Ids.isValid(ref)) {
      return Optional.of(ref);
    }
    if (ref == null
        || ref.length() < MIN_PREFIX
        || ref.length() > 32
        || !HEX.matcher(ref).matches()) {
      return Optional.empty();
    }
    List<String> matches = jobs.withPrefix(ref, 2);
    return matches.size() == 1 ? Optional.of(matches.get(0)) : Optional.empty();
  }

  /** 409 listing the job IDs an ambiguous prefix starts (at most {@link #MAX_CANDIDATES}). */
  private static ApiException ambiguous(String field, String prefix, List<String> matches) {
    StringBuilder message =
        new StringBuilder(field)
            .append(" '")
            .append(prefix)
            .append("' is ambiguous: it starts the IDs of ")
            .append(matches.size() > MAX_CANDIDATES ? "more than " + MAX_CANDIDATES + " " : "")
            .append("jobs: ");
    message.append(String.join(", ", matches.subList(0, Math.min(MAX_CANDIDATES, matches.size()))));
    return ApiException.conflict(message.toString());
  }
}
