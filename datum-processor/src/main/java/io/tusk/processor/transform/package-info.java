/**
 * The three kinds of transform and how a datum runs through them.
 *
 * <ul>
 *   <li>{@link io.tusk.processor.transform.JavaRunner}: a {@link
 *       io.tusk.common.transform.Transform} in the processor's JVM;
 *   <li>{@link io.tusk.processor.transform.CommandRunner}: a command per datum, reading {@code
 *       in/}, writing {@code out/} (Pachyderm's contract, any language);
 *   <li>{@link io.tusk.processor.transform.WorkerRunner}: a long-lived process per processor
 *       thread, JSON lines on stdin and stdout.
 * </ul>
 *
 * {@link io.tusk.processor.transform.DatumExecution} adds tries, timeouts, the error command and
 * the datum log around any of them; {@link io.tusk.processor.transform.TransformRunners} builds it
 * from a pipeline spec.
 */
package io.tusk.processor.transform;
