package io.tusk.cli.context;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The CLI's config file: its contexts and which one is current. {@code $TUSK_CONFIG}, default
 * {@code ~/.config/tusk/config.json}:
 *
 * <pre>{@code
 * {"current": "cluster",
 *  "contexts": {"cluster": {"commitUrl": "https://tusk.example.org", "lineageUrl": "...",
 *                           "bootstrapServers": "...", "tokenFile": "...", "caFile": "..."}}}
 * }</pre>
 *
 * <p>It can hold a token, so it is written for its owner only (0600, its directory 0700 when this
 * creates it), through a temporary file moved into place so a crash never leaves half a file. A
 * file that is not what this reads is an error naming the file, never silently ignored: the user
 * would otherwise talk to the wrong place.
 */
public final class ContextConfig {
  /** The owner-only permissions of the file. */
  public static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Set<String> FIELDS =
      Set.of("commitUrl", "lineageUrl", "bootstrapServers", "token", "tokenFile", "caFile");

  private final Path file;
  private String current;
  private final Map<String, Context> contexts;

  private ContextConfig(Path file, String current, Map<String, Context> contexts) {
    this.file = file;
    this.current = current;
    this.contexts = contexts;
  }

  /** Where the config file is: {@code TUSK_CONFIG}, else {@code ~/.config/tusk/config.json}. */
  public static Path path(Function<String, String> env) {
    String configured = env.apply("TUSK_CONFIG");
    if (configured != null && !configured.isBlank()) {
      return Paths.get(configured).toAbsolutePath();
    }
    return Paths.get(System.getProperty("user.home"), ".config", "tusk", "config.json");
  }

  /** The config in {@code file}; none (no context) when the file does not exist. */
  public static ContextConfig read(Path file) {
    if (!Files.exists(file)) {
      return new ContextConfig(file, null, new LinkedHashMap<>());
    }
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw bad(file, "not JSON (" + e.getOriginalMessage() + ")");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the tusk config file " + file + ": " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw bad(file, "not a JSON object");
    }
    Map<String, Context> contexts = new LinkedHashMap<>();
    JsonNode list = root.path("contexts");
    if (!list.isMissingNode() && !list.isObject()) {
      throw bad(file, "\"contexts\" is not an object of contexts by name");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = list.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      contexts.put(entry.getKey(), context(file, entry.getKey(), entry.getValue()));
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!field.equals("current") && !field.equals("contexts")) {
        throw bad(file, "unknown field \"" + field + "\" (known: current, contexts)");
      }
    }
    JsonNode current = root.path("current");
    if (!current.isMissingNode() && !current.isNull() && !current.isTextual()) {
      throw bad(file, "\"current\" is not a context name");
    }
    String currentName = current.isTextual() ? current.asText() : null;
    if (currentName != null && !contexts.containsKey(currentName)) {
      throw bad(file, "the current context \"" + currentName + "\" is not among its contexts");
    }
    return new ContextConfig(file, currentName, contexts);
  }

  private static Context context(Path file, String name, JsonNode node) {
    if (!node.isObject()) {
      throw bad(file, "context \"" + name + "\" is not an object");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!FIELDS.contains(field)) {
        throw bad(
            file,
            "context \""
                + name
                + "\" has an unknown field \""
                + field
                + "\" (known: "
                + String.join(", ", new java.util.TreeSet<>(FIELDS))
                + ")");
      }
    }
    String tokenFile = text(file, name, node, "tokenFile");
    String caFile = text(file, name, node, "caFile");
    return new Context(
        name,
        text(file, name, node, "commitUrl"),
        text(file, name, node, "lineageUrl"),
        text(file, name, node, "bootstrapServers"),
        text(file, name, node, "token"),
        tokenFile == null ? null : Paths.get(tokenFile),
        caFile == null ? null : Paths.get(caFile));
  }

  private static String text(Path file, String name, JsonNode context, String field) {
    JsonNode value = context.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw bad(file, "context \"" + name + "\": \"" + field + "\" is not a string");
    }
    return value.asText();
  }

  private static IllegalArgumentException bad(Path file, String problem) {
    return new IllegalArgumentException(
        "the tusk config file " + file + " is not valid: " + problem + " (fix or delete it)");
  }

  /** The file this config was read from and is written to. */
  public Path file() {
    return file;
  }

  /** The current context, if one is chosen. */
  public Optional<Context> current() {
    return Optional.ofNullable(current).map(contexts::get);
  }

  /** The contexts by name, in the order they were added. */
  public Map<String, Context> contexts() {
    return java.util.Collections.unmodifiableMap(contexts);
  }

  /** Adds a context; refuses a name taken. */
  public void add(Context context) {
    if (contexts.containsKey(context.name())) {
      throw new IllegalArgumentException(
          "context "
              + context.name()
              + " exists already (`tusk context delete "
              + context.name()
              + "` first to replace it)");
    }
    contexts.put(context.name(), context);
  }

  /** Makes {@code name} the current context. */
  public void use(String name) {
    require(name);
    current = name;
  }

  /**
   * Deletes a context.
   *
   * @return true when it was the current one (then none is current)
   */
  public boolean delete(String name) {
    require(name);
    contexts.remove(name);
    if (name.equals(current)) {
      current = null;
      return true;
    }
    return false;
  }

  private void require(String name) {
    if (!contexts.containsKey(name)) {
      throw new IllegalArgumentException(
          "no context "
              + name
              + " in "
              + file
              + (contexts.isEmpty()
                  ? " (it has none: `tusk context add` makes one)"
                  : " (it has " + String.join(", ", contexts.keySet()) + ")"));
    }
  }

  /** Writes the config to its file, readable and writable by its owner only. */
  public void write() {
    ObjectNode root = JSON.createObjectNode();
    if (current != null) {
      root.put("current", current);
    }
    ObjectNode list = root.putObject("contexts");
    contexts.forEach(
        (name, c) -> {
          ObjectNode node = list.putObject(name);
          putIfSet(node, "commitUrl", c.commitUrl());
          putIfSet(node, "lineageUrl", c.lineageUrl());
          putIfSet(node, "bootstrapServers", c.bootstrapServers());
          putIfSet(node, "token", c.token());
          putIfSet(node, "tokenFile", c.tokenFile() == null ? null : c.tokenFile().toString());
          putIfSet(node, "caFile", c.caFile() == null ? null : c.caFile().toString());
        });
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (!Files.isDirectory(dir)) {
        createDirectories(dir);
      }
      Path temp = dir.resolve("." + file.getFileName() + ".tmp");
      Files.deleteIfExists(temp);
      createOwnerOnly(temp);
      Files.writeString(temp, JSON.writeValueAsString(root) + "\n");
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      if (posix(file)) {
        // A file made before, or by hand, with wider permissions is narrowed too.
        Files.setPosixFilePermissions(file, OWNER_ONLY);
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot write the tusk config file " + file + ": " + e.getMessage(), e);
    }
  }

  private static void putIfSet(ObjectNode node, String field, String value) {
    if (value != null) {
      node.put(field, value);
    }
  }

  private static void createDirectories(Path dir) throws IOException {
    if (posix(dir.getRoot())) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    } else {
      Files.createDirectories(dir);
    }
  }

  private static void createOwnerOnly(Path path) throws IOException {
    try {
      if (posix(path.getParent())) {
        // Created 0600 from the start: the token is never readable by others, not even briefly.
        Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } else {
        Files.createFile(path);
      }
    } catch (FileAlreadyExistsException e) {
      throw new IOException("another tusk is writing " + path + " right now; try again", e);
    }
  }

  private static boolean posix(Path path) {
    return path != null && path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }
}
