package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Picks the next operation at random (weighted, from a seeded {@link Random}) among those that make
 * sense in the model's state, and makes up the rows to produce: new, corrected, re-sent, deleted
 * and moved keyed rows, appended notes, failure markers and malformed records, in CSV and JSON; now
 * and then an erasure of a member.
 */
final class OpGenerator {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Every member rows name: numeric IDs of different lengths, as claims data has, so that key order
   * (shorter first) and text order ("1110" before "194") differ and every diff page shows it.
   */
  static final List<String> MEMBERS = List.of("7", "10", "23", "100", "194", "1110", "1228", "m8");

  /** Only these members get notes (un-keyed rows stay forever): the others can disappear. */
  private static final List<String> NOTE_MEMBERS = List.of("7", "10");

  /**
   * The chance that an operation is an erasure (drawn before the other operations' weighted choice;
   * at 0 nothing is drawn, so a seed gives the operations it gave before erasures existed).
   */
  static final double ERASE_PROBABILITY = 0.02;

  /** {@link #ERASE_PROBABILITY}, or the system property {@code tusk.soak.eraseProbability}. */
  static double eraseProbability() {
    return Double.parseDouble(
        System.getProperty("tusk.soak.eraseProbability", Double.toString(ERASE_PROBABILITY)));
  }

  /** Of erasures, the share (1 in N) naming a member no row has named yet. */
  private static final int ERASE_UNKNOWN_ONE_IN = 5;

  /**
   * Of erasures while a pipeline follows master and another branch exists, the share (1 in N) on
   * that branch: the model expects 409.
   */
  private static final int ERASE_ELSEWHERE_ONE_IN = 4;

  /** A member rows never name: erased when every member of {@link #MEMBERS} has had rows. */
  static final String NEVER_MEMBER = "99999";

  private static final List<String> CODES = List.of("A", "B", "C");
  private static final List<String> AMOUNTS = List.of("1", "2.5", "10", "-3", "7.25", "0");
  private static final List<String> DELETE_OPS = List.of("D", "d", " D ", "delete", "DELETE");
  private static final List<String> PLAIN_DELETE_OPS = List.of("D", "d", "delete", "DELETE");

  private final Random random;
  private final SoakState state;

  /**
   * Avoid the row cases that are hardest to get right (see {@link Soak.Settings#simpleRows()}): one
   * version per key between seals, records keyed by event ID (one partition per key), deletes
   * naming the row's owner with a plain op value.
   */
  private final boolean simpleRows;

  /** Keys given a version since the last seal (simple rows touch each at most once). */
  private final Set<String> touched = new HashSet<>();

  /** The generator's own view of each event key's newest values (null once deleted). */
  private final Map<String, List<String>> latest = new TreeMap<>();

  /** Members some valid row (other than a delete) has named. */
  private final Set<String> named = new TreeSet<>();

  /**
   * Commits after which the run changes the repo's layout once (NOTE gains TAG). Drawn from no
   * random number, so a seed gives the operations it gave before layout changes existed, plus this
   * one.
   */
  static final int TAG_AFTER_COMMITS = 3;

  /** Whether the run changes the layout: the system property {@code tusk.soak.layoutChange}. */
  static boolean layoutChange() {
    return Boolean.parseBoolean(System.getProperty("tusk.soak.layoutChange", "true"));
  }

  /** Whether NOTE has TAG (from the layout update on, new notes mostly carry one). */
  private boolean tagged;

  private int taggedNotes;
  private int nextEvent = 1;
  private int nextNote = 1;
  private int nextBranch = 1;

  OpGenerator(long seed, SoakState state, boolean simpleRows) {
    this.random = new Random(seed);
    this.state = state;
    this.simpleRows = simpleRows;
  }

  /** A weighted choice. */
  private record Choice(int weight, Supplier<Op> op) {}

  Op next() {
    RepoModel repo = state.repo;
    List<Choice> choices = new ArrayList<>();
    List<String> otherBranches =
        repo.heads().keySet().stream().filter(b -> !b.equals("master")).toList();
    boolean hasCommits = repo.newest().isPresent();
    if (!tagged && layoutChange() && repo.commits().size() >= TAG_AFTER_COMMITS) {
      tagged = true;
      return new Op.TagNotes();
    }
    double eraseProbability = eraseProbability();
    if (eraseProbability > 0 && random.nextDouble() < eraseProbability) {
      return erase(otherBranches);
    }
    choices.add(new Choice(30, this::produce));
    choices.add(
        new Choice(12, () -> new Op.Seal("master", state.rows != null && random.nextInt(6) == 0)));
    if (!otherBranches.isEmpty()) {
      choices.add(new Choice(4, () -> new Op.Seal(pick(otherBranches), false)));
      choices.add(new Choice(1, () -> new Op.MoveBranch(pick(otherBranches), retainedSequence())));
      choices.add(new Choice(1, () -> new Op.DeleteBranch(pick(otherBranches))));
    }
    if (hasCommits) {
      if (otherBranches.size() < 2) {
        choices.add(
            new Choice(2, () -> new Op.CreateBranch("dev" + nextBranch++, retainedSequence())));
      }
      choices.add(new Choice(4, () -> new Op.MoveBranch("master", retainedSequence())));
    }
    if (state.rows == null) {
      choices.add(
          new Choice(
              10,
              () ->
                  new Op.CreatePipeline(
                      PipelineModel.Stage.ROWS, variant(), random.nextInt(4) == 0)));
    } else {
      if (state.groups == null) {
        choices.add(
            new Choice(5, () -> new Op.CreatePipeline(PipelineModel.Stage.GROUPS, "a", false)));
      } else {
        choices.add(new Choice(1, () -> new Op.DeletePipeline(PipelineModel.Stage.GROUPS)));
      }
      // Deleting the first stage while the second reads it must be refused (409).
      choices.add(new Choice(1, () -> new Op.DeletePipeline(PipelineModel.Stage.ROWS)));
      choices.add(
          new Choice(
              3,
              () -> {
                PipelineModel rows = state.rows;
                String variant = variant();
                boolean errCmd = random.nextInt(4) == 0;
                if (variant.equals(rows.variant()) && errCmd == rows.errCmd()) {
                  variant = variant.equals("a") ? "b" : "a";
                }
                return new Op.UpdatePipeline(variant, errCmd, random.nextInt(4) == 0);
              }));
      ExpectedJob last = state.rows.lastWritingJob();
      if (last != null && last.state().equals("FAILURE")) {
        choices.add(new Choice(5, Op.Restart::new));
      }
      List<Integer> rerunnable = rerunnableJobs();
      if (!rerunnable.isEmpty()) {
        choices.add(new Choice(3, () -> new Op.Rerun(pick(rerunnable), random.nextInt(4) != 0)));
      }
    }
    choices.add(new Choice(2, () -> new Op.SetFlaky(!state.flakyFails)));
    List<Long> beyond =
        repo.commits().stream()
            .filter(repo::beyondFloor)
            .map(RepoModel.CommitInfo::sequence)
            .toList();
    if (!beyond.isEmpty()) {
      choices.add(new Choice(1, () -> new Op.ProbeFloor(pick(beyond), pick(MEMBERS))));
    }
    int total = choices.stream().mapToInt(Choice::weight).sum();
    int roll = random.nextInt(total);
    for (Choice choice : choices) {
      roll -= choice.weight();
      if (roll < 0) {
        Op op = choice.op().get();
        if (op instanceof Op.Seal) {
          touched.clear();
        }
        return op;
      }
    }
    throw new IllegalStateException("no operation chosen");
  }

  /**
   * An erasure: mostly of a member rows have named (it exists or existed), sometimes of one they
   * never named; on master, or now and then on another branch while a pipeline follows master.
   */
  private Op erase(List<String> otherBranches) {
    String branch =
        state.rows != null
                && !otherBranches.isEmpty()
                && random.nextInt(ERASE_ELSEWHERE_ONE_IN) == 0
            ? pick(otherBranches)
            : "master";
    List<String> known = List.copyOf(named);
    boolean unknown = known.isEmpty() || random.nextInt(ERASE_UNKNOWN_ONE_IN) == 0;
    String member =
        unknown
            ? MEMBERS.stream().filter(m -> !named.contains(m)).findFirst().orElse(NEVER_MEMBER)
            : pick(known);
    if (!state.erasureRefused(branch)) {
      // The erasure commit seals every row sent so far and removes the member's keyed rows.
      touched.clear();
      latest.replaceAll(
          (key, values) ->
              values != null && values.get(SoakTables.EVENT_MEMBER).equals(member) ? null : values);
    }
    return new Op.Erase(member, branch, !unknown);
  }

  /** Jobs of the first stage over commits within the history retention. */
  private List<Integer> rerunnableJobs() {
    List<Integer> indexes = new ArrayList<>();
    List<ExpectedJob> jobs = state.rows.jobs();
    for (int i = 0; i < jobs.size(); i++) {
      if (state.repo.retained(state.repo.commit(jobs.get(i).commitId()))) {
        indexes.add(i);
      }
    }
    return indexes;
  }

  private long retainedSequence() {
    List<Long> retained =
        state.repo.commits().stream()
            .filter(state.repo::retained)
            .map(RepoModel.CommitInfo::sequence)
            .toList();
    return pick(retained);
  }

  private String variant() {
    return random.nextBoolean() ? "a" : "b";
  }

  private <T> T pick(List<T> items) {
    return items.get(random.nextInt(items.size()));
  }

  private Op produce() {
    int count = 1 + random.nextInt(6);
    List<Op.RowToSend> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      rows.add(row());
    }
    return new Op.Produce(rows);
  }

  private Op.RowToSend row() {
    List<String> live =
        latest.entrySet().stream()
            .filter(e -> e.getValue() != null && untouched(e.getKey()))
            .map(Map.Entry::getKey)
            .toList();
    List<String> dead =
        latest.entrySet().stream()
            .filter(e -> e.getValue() == null && untouched(e.getKey()))
            .map(Map.Entry::getKey)
            .toList();
    int roll = random.nextInt(100);
    if (live.isEmpty() || roll < 28) {
      String id = !dead.isEmpty() && random.nextInt(5) == 0 ? pick(dead) : "e" + nextEvent++;
      return event("new", id, pick(MEMBERS), pick(CODES), pick(AMOUNTS), null);
    }
    String key = pick(live);
    List<String> now = latest.get(key);
    String member = now.get(SoakTables.EVENT_MEMBER);
    String code = now.get(SoakTables.EVENT_CODE);
    String amount = now.get(3);
    String op = now.get(SoakTables.EVENT_OP);
    if (roll < 42) {
      return random.nextBoolean()
          ? event("correct", key, member, otherThan(CODES, code), amount, op)
          : event("correct", key, member, code, otherThan(AMOUNTS, amount), op);
    }
    if (roll < 51) {
      return event("resend", key, member, code, amount, op);
    }
    if (roll < 63) {
      String names = !simpleRows && random.nextInt(5) == 0 ? pick(MEMBERS) : member;
      return event(
          "delete", key, names, code, amount, pick(simpleRows ? PLAIN_DELETE_OPS : DELETE_OPS));
    }
    if (roll < 73) {
      return event("move", key, otherThan(MEMBERS, member), code, amount, op);
    }
    if (roll < 81) {
      String text = "n" + nextNote++ + (random.nextInt(4) == 0 ? ", with a comma" : "");
      return note(pick(NOTE_MEMBERS), text);
    }
    if (roll < 87) {
      return malformed(key);
    }
    if (roll < 89) {
      return event("fail-marker", key, member, SoakTables.FAIL_CODE, amount, op);
    }
    if (roll < 93) {
      return event("flaky-marker", key, member, SoakTables.FLAKY_CODE, amount, op);
    }
    if (roll < 96) {
      // An op value that is not a delete is an ordinary value.
      return event("op-u", key, member, code, amount, "U");
    }
    return event("delete-unknown", "x" + nextEvent++, pick(MEMBERS), "A", "1", "D");
  }

  /** True if the key may get another version now (simple rows: once between seals). */
  private boolean untouched(String key) {
    return !simpleRows || !touched.contains(key);
  }

  private <T> T otherThan(List<T> items, T current) {
    List<T> others = items.stream().filter(i -> !i.equals(current)).toList();
    return pick(others);
  }

  private Op.RowToSend event(
      String kind, String id, String member, String code, String amount, String op) {
    List<String> values = Arrays.asList(id, member, code, amount, op);
    latest.put(id, SoakTables.isDelete(op) ? null : values);
    if (!SoakTables.isDelete(op)) {
      named.add(member);
    }
    touched.add(id);
    // Producers usually key rows by member, so a moved row changes partition; simple rows keep
    // every version of a key in one partition.
    String key = simpleRows ? id : member;
    if (random.nextBoolean()) {
      return new Op.RowToSend(SoakTables.EVENT, "csv", values, csv(values), kind, id, key);
    }
    ObjectNode json = JSON.createObjectNode().put("EVENT_ID", id).put("MEMBER", member);
    json.put("CODE", code);
    if (random.nextBoolean()) {
      json.putRawValue("AMOUNT", new RawValue(amount));
    } else {
      json.put("AMOUNT", amount);
    }
    if (op != null) {
      json.put("OP", op);
    } else if (random.nextBoolean()) {
      json.putNull("OP");
    }
    return new Op.RowToSend(SoakTables.EVENT, "json", values, json.toString(), kind, id, key);
  }

  private Op.RowToSend note(String member, String text) {
    // After the layout update two notes in three carry a TAG, the third is in the old width.
    List<String> values =
        tagged && taggedNotes++ % 3 != 0
            ? List.of(member, text, "t" + (1 + taggedNotes % 2))
            : List.of(member, text);
    named.add(member);
    if (random.nextBoolean()) {
      return new Op.RowToSend(SoakTables.NOTE, "csv", values, csv(values), "note", member, member);
    }
    ObjectNode json = JSON.createObjectNode().put("MEMBER", member).put("TEXT", text);
    if (values.size() == 3) {
      json.put(SoakTables.NOTE_TAG, values.get(2));
    }
    return new Op.RowToSend(
        SoakTables.NOTE, "json", values, json.toString(), "note", member, member);
  }

  private Op.RowToSend malformed(String key) {
    String member = pick(MEMBERS);
    return switch (random.nextInt(7)) {
      case 0 -> bad(SoakTables.EVENT, "csv", key + "," + member + ",A", "wrong-field-count", key);
      case 1 -> bad(SoakTables.EVENT, "csv", key + "," + member + ",A,abc,", "wrong-type", key);
      case 2 -> bad(SoakTables.EVENT, "csv", key + ",,A,1,", "missing-member", key);
      case 3 -> bad(SoakTables.EVENT, "json", "[1,2]", "not-an-object", key);
      case 4 -> bad(SoakTables.EVENT, "json", "{\"EVENT_ID\":\"" + key + "\"", "bad-json", key);
      case 5 ->
          bad(
              SoakTables.EVENT,
              "json",
              "{\"EVENT_ID\":\"" + key + "\",\"CODE\":\"A\",\"AMOUNT\":1}",
              "no-member-field",
              key);
      default ->
          bad(
              SoakTables.NOTE,
              "csv",
              member + (tagged ? ",x,y,z" : ",x,y"),
              "wrong-field-count",
              member);
    };
  }

  private static Op.RowToSend bad(
      String table, String format, String payload, String reason, String id) {
    return new Op.RowToSend(table, format, null, payload, "malformed-" + reason, id, id);
  }

  private static String csv(List<String> values) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < values.size(); i++) {
      String value = values.get(i);
      if (i > 0) {
        line.append(',');
      }
      if (value != null) {
        line.append(value.contains(",") ? "\"" + value.replace("\"", "\"\"") + "\"" : value);
      }
    }
    return line.toString();
  }
}
