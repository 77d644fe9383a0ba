package io.tusk.common.transform;

import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.lang.reflect.InvocationTargetException;
import java.util.ServiceLoader;

/** Finds a pipeline's transform: by ServiceLoader name first, then by class name. */
public final class Transforms {
  private Transforms() {}

  /**
   * Creates a new instance of the transform {@code spec} names.
   *
   * @throws IllegalArgumentException if no transform has that name or class
   */
  public static Transform load(TransformSpec spec, ClassLoader loader) {
    if (spec.getKind() != TransformKind.JAVA) {
      throw new IllegalArgumentException("unsupported transform kind " + spec.getKind());
    }
    String name = spec.getName();
    for (ServiceLoader.Provider<Transform> provider :
        ServiceLoader.load(Transform.class, loader).stream().toList()) {
      Transform candidate = provider.get();
      if (candidate.name().equals(name)) {
        return candidate;
      }
    }
    try {
      Class<?> type = Class.forName(name, true, loader);
      if (!Transform.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(
            name + " does not implement " + Transform.class.getName());
      }
      return (Transform) type.getDeclaredConstructor().newInstance();
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException(
          "no transform named " + name + " (neither a registered name nor a class)", e);
    } catch (NoSuchMethodException
        | InstantiationException
        | IllegalAccessException
        | InvocationTargetException e) {
      throw new IllegalArgumentException("cannot instantiate transform " + name + ": " + e, e);
    }
  }

  /** True if {@link #load} would find {@code spec}'s transform. */
  public static boolean exists(TransformSpec spec, ClassLoader loader) {
    try {
      load(spec, loader);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
