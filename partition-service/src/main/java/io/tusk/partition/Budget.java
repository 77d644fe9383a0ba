package io.tusk.partition;

/**
 * What one completion step of the member topology may still do: it bounds the store entries a step
 * visits and the members it changes or emits, so no single Streams transaction grows past the
 * transaction timeout; the step's work resumes from a cursor in the next one.
 */
final class Budget {
  private int rowsLeft;
  private int membersLeft;

  Budget(CompletionSettings settings) {
    rowsLeft = settings.sliceRows();
    membersLeft = settings.sliceMembers();
  }

  /** One store entry visited. */
  void visited() {
    rowsLeft--;
  }

  /** One member changed or one datum emitted. */
  void changed() {
    membersLeft--;
  }

  boolean exhausted() {
    return rowsLeft <= 0 || membersLeft <= 0;
  }
}
