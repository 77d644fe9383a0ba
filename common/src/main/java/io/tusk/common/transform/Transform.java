package io.tusk.common.transform;

/**
 * A pipeline's user code: turns one datum (all rows of one member) into one output. It must be
 * deterministic (the same input gives byte-identical output) so that any job can be re-run and
 * reproduce its outputs.
 *
 * <p>Implementations need a public no-argument constructor. A processor thread creates its own
 * instance, so an implementation need not be thread-safe. Register one under {@code
 * META-INF/services/io.tusk.common.transform.Transform} to let pipeline specs name it by {@link
 * #name()}; otherwise specs name its class.
 */
public interface Transform {

  /** The short name a pipeline spec may use for this transform. */
  default String name() {
    return getClass().getName();
  }

  /**
   * Computes the output of one datum.
   *
   * @throws Exception if the datum cannot be processed; the datum is then reported as failed
   */
  TransformOutput apply(DatumInput input) throws Exception;
}
