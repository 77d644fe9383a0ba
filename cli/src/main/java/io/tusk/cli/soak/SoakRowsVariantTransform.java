package io.tusk.cli.soak;

/** The first stage's other variant, which pipeline updates switch to and from. */
public final class SoakRowsVariantTransform extends SoakRowsTransform {
  @Override
  protected String variant() {
    return "b";
  }
}
