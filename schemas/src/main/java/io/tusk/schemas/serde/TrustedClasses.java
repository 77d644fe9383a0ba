package io.tusk.schemas.serde;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes that are not on its trust list; this adds Tusk's
 * generated classes (package {@code io.tusk.schemas}) to it, keeping whatever else is trusted.
 */
public final class TrustedClasses {
  private static final String PACKAGE = "io.tusk.schemas";

  static {
    ClassSecurityValidator.setGlobal(
        ClassSecurityValidator.composite(
            ClassSecurityValidator.getGlobal(), type -> PACKAGE.equals(type.getPackageName())));
  }

  private TrustedClasses() {}

  /** Ensures the trust list includes Tusk's classes; idempotent. */
  public static void install() {
    // The static initializer does the work, once per class loader.
  }
}
