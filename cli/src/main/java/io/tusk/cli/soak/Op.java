package io.tusk.cli.soak;

import java.util.List;
import java.util.stream.Collectors;

/** One operation of a soak run; {@link #describe()} is what the run prints (IDs, never values). */
sealed interface Op {

  String describe();

  /**
   * A record to send to the repo's updates topic.
   *
   * @param values the row's values, or null for a malformed record
   * @param payload the record value as sent
   * @param kind why it was generated (new, correct, resend, delete, move, note, malformed...)
   * @param id the event ID or note member it concerns (for printing)
   * @param key the record key (it decides the partition)
   */
  record RowToSend(
      String table,
      String format,
      List<String> values,
      String payload,
      String kind,
      String id,
      String key) {}

  /** Produce rows to the updates topic. */
  record Produce(List<RowToSend> rows) implements Op {
    @Override
    public String describe() {
      return "produce "
          + rows.size()
          + " records: "
          + rows.stream()
              .map(r -> r.kind() + "(" + r.format() + ") " + r.id())
              .collect(Collectors.joining(", "));
    }
  }

  /** Seal a commit on a branch, optionally with the first stage's processor stopped meanwhile. */
  record Seal(String branch, boolean stopProcessor) implements Op {
    @Override
    public String describe() {
      return "seal on " + branch + (stopProcessor ? " (processor stopped until sealed)" : "");
    }
  }

  record CreateBranch(String name, long atSequence) implements Op {
    @Override
    public String describe() {
      return "create branch " + name + " at commit #" + atSequence;
    }
  }

  record MoveBranch(String name, long toSequence) implements Op {
    @Override
    public String describe() {
      return "move branch " + name + " to commit #" + toSequence;
    }
  }

  record DeleteBranch(String name) implements Op {
    @Override
    public String describe() {
      return "delete branch " + name;
    }
  }

  /** Create the first stage (following master) or the second (reading the first's outputs). */
  record CreatePipeline(PipelineModel.Stage stage, String variant, boolean errCmd) implements Op {
    @Override
    public String describe() {
      return "create pipeline "
          + stage.name().toLowerCase()
          + (stage == PipelineModel.Stage.ROWS
              ? " variant " + variant + (errCmd ? " +errCmd" : "")
              : "");
    }
  }

  /** Update the first stage's spec (another transform variant or error command). */
  record UpdatePipeline(String variant, boolean errCmd, boolean keepOutputs) implements Op {
    @Override
    public String describe() {
      return "update pipeline rows to variant "
          + variant
          + (errCmd ? " +errCmd" : "")
          + (keepOutputs ? " keepOutputsOnUpdate" : "");
    }
  }

  record DeletePipeline(PipelineModel.Stage stage) implements Op {
    @Override
    public String describe() {
      return "delete pipeline " + stage.name().toLowerCase();
    }
  }

  /** Restart the failed datums of the first stage's newest job. */
  record Restart() implements Op {
    @Override
    public String describe() {
      return "restart the failed datums of the newest rows job";
    }
  }

  /** Re-run a job of the first stage (by its index among the model's jobs). */
  record Rerun(int jobIndex, boolean reprocess) implements Op {
    @Override
    public String describe() {
      return "rerun rows job #" + jobIndex + (reprocess ? " with reprocess" : "");
    }
  }

  /** Turn the failure of FLAKY members on or off (the environment "breaks" or is "fixed"). */
  record SetFlaky(boolean fails) implements Op {
    @Override
    public String describe() {
      return "flaky members " + (fails ? "fail" : "succeed") + " from now on";
    }
  }

  /** Ask for a commit older than the history floor: 410 for a member and for a branch there. */
  record ProbeFloor(long sequence, String member) implements Op {
    @Override
    public String describe() {
      return "probe commit #" + sequence + " beyond the history floor (member " + member + ")";
    }
  }

  /**
   * Erase a member (README "Erasure and retention") on a branch: an erasure commit, unless a
   * pipeline reading the repo follows another branch (then 409).
   *
   * @param known whether rows ever named the member (false: it never existed when erased)
   */
  /** The layout change: NOTE gains column TAG from the next commit on. */
  record TagNotes() implements Op {
    @Override
    public String describe() {
      return "layout update: add column NOTE." + SoakTables.NOTE_TAG;
    }
  }

  record Erase(String member, String branch, boolean known) implements Op {
    @Override
    public String describe() {
      return "erase member " + member + (known ? "" : " (never existed)") + " on " + branch;
    }
  }
}
