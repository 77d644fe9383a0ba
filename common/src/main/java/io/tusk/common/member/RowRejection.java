package io.tusk.common.member;

/**
 * A record found bad while parsing: thrown out of the parsing steps and turned into a {@link
 * ParseResult.Rejected}. Carries no stack trace: rejections are expected, and may be frequent.
 */
final class RowRejection extends Exception {
  private static final long serialVersionUID = 1L;

  private final RejectReason reason;

  RowRejection(RejectReason reason, String detail) {
    super(detail, null, false, false);
    this.reason = reason;
  }

  RejectReason reason() {
    return reason;
  }
}
