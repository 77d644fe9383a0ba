package io.tusk.common.security;

import io.tusk.common.topics.TopicNames;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs each Tusk service (and the CLI's loader) needs on a cluster with authorization on:
 * the one list the README's "Kafka ACLs" table and {@code kafka-acls} commands are rendered from,
 * the tests grant from, and a denied service names in its error.
 *
 * <p>Names are in terms of a deployment's prefixes: {@code tusk.} for the system topics, the Kafka
 * Streams application IDs for internal topics and groups, the transactional ID prefixes, and {@code
 * <names-prefix>} for every repo and pipeline topic. Repo and pipeline topics are {@code
 * <name>.<suffix>} ({@code claims.updates}, {@code claims.by-member}, {@code insights.output},
 * derived repos {@code <pipeline>-by-<key>.*}), so they share a prefix only if the deployment's
 * repo and pipeline names do (e.g. all start with {@code acme-}; the commit service enforces it
 * with {@code TUSK_NAMES_PREFIX}); without such a convention the operator grants LITERAL {@code *}
 * (every topic) in its place. Services create topics at run time (repos, pipelines), so they get
 * CREATE on their topic prefixes, never on the cluster.
 *
 * <p>Over 500 lines on purpose: most of it is the one table of rules, each with the reason the
 * README prints; split across files, the table a reviewer must read whole would be scattered.
 */
public final class ServiceAcls {

  /** Who needs ACLs: the four services and the CLI (its row loader, {@code tusk put}). */
  public enum Principal {
    COMMIT_SERVICE("commit-service"),
    PARTITION_SERVICE("partition-service"),
    DATUM_PROCESSOR("datum-processor"),
    LINEAGE_SERVICE("lineage-service"),
    CLI("cli");

    private final String serviceName;

    Principal(String serviceName) {
      this.serviceName = serviceName;
    }

    /** The service's name, as in its logs and main class's {@code ServiceRunner} name. */
    public String serviceName() {
      return serviceName;
    }

    /** The principal a deployment names after the service, {@code User:<service name>}. */
    public String conventionalPrincipal() {
      return "User:" + serviceName;
    }

    /** The principal of {@code serviceName}. */
    public static Optional<Principal> ofService(String serviceName) {
      for (Principal p : values()) {
        if (p.serviceName.equals(serviceName)) {
          return Optional.of(p);
        }
      }
      return Optional.empty();
    }
  }

  /** Placeholder for the prefix every repo and pipeline name of a deployment starts with. */
  public static final String NAMES_PREFIX = "<names-prefix>";

  /** Placeholder for one repo's name (the CLI is granted per repo it loads). */
  public static final String REPO = "<repo>";

  /** Placeholder for the topic {@code TUSK_OPENLINEAGE_TOPIC} names. */
  public static final String OPENLINEAGE_TOPIC = "<openlineage-topic>";

  private static final Pattern PLACEHOLDER = Pattern.compile("<[a-z-]+>");

  /**
   * One ACL of one principal: a resource pattern and the operations allowed on it.
   *
   * @param optional true if only some deployments need it (its placeholder may have no value)
   * @param purpose what the service does with it, for the README
   */
  public record Rule(
      Principal principal,
      ResourceType resourceType,
      PatternType patternType,
      String name,
      Set<AclOperation> operations,
      boolean optional,
      String purpose) {
    public Rule {
      Objects.requireNonNull(principal, "principal");
      Objects.requireNonNull(resourceType, "resourceType");
      Objects.requireNonNull(patternType, "patternType");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(purpose, "purpose");
      operations = Set.copyOf(EnumSet.copyOf(operations));
    }

    /** The operations in a stable order (Kafka's enum order). */
    public List<AclOperation> sortedOperations() {
      return operations.stream().sorted().toList();
    }

    /** True if the name holds a placeholder such as {@link #NAMES_PREFIX}. */
    public boolean hasPlaceholder() {
      return PLACEHOLDER.matcher(name).find();
    }

    /**
     * True if this rule's pattern covers {@code resource} of {@code type}. A rule with a
     * placeholder covers nothing here: its real name is the deployment's.
     */
    public boolean covers(ResourceType type, String resource) {
      if (type != resourceType || hasPlaceholder()) {
        return false;
      }
      return switch (patternType) {
        case LITERAL -> name.equals(ResourcePattern.WILDCARD_RESOURCE) || name.equals(resource);
        case PREFIXED -> resource.startsWith(name);
        default -> false;
      };
    }

    /**
     * Pattern, name and operations as the README writes them, e.g. {@code TOPIC PREFIXED tusk.}.
     */
    public String describe() {
      return resourceType
          + " "
          + patternType
          + " '"
          + name
          + "' ("
          + sortedOperations().stream().map(Enum::name).collect(Collectors.joining(", "))
          + ")";
    }
  }

  private static final List<Rule> RULES = buildRules();

  private ServiceAcls() {}

  private static List<Rule> buildRules() {
    List<Rule> rules = new ArrayList<>();
    Set<AclOperation> createReadWrite =
        EnumSet.of(
            AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE);
    Set<AclOperation> transactional = EnumSet.of(AclOperation.DESCRIBE, AclOperation.WRITE);
    Set<AclOperation> group = EnumSet.of(AclOperation.READ);
    // Kafka Streams creates its internal topics and purges what it consumed of its repartition
    // topics (DeleteRecords needs DELETE).
    Set<AclOperation> streamsInternal =
        EnumSet.of(
            AclOperation.CREATE,
            AclOperation.DELETE,
            AclOperation.DESCRIBE,
            AclOperation.READ,
            AclOperation.WRITE);

    // commit-service: the control plane. It also sets topic configs (retention bounds) and, for
    // erasures, reads every topic that can hold a member and rolls compacted ones.
    Principal commit = Principal.COMMIT_SERVICE;
    Set<AclOperation> controlPlane =
        EnumSet.of(
            AclOperation.CREATE,
            AclOperation.DESCRIBE,
            AclOperation.READ,
            AclOperation.WRITE,
            AclOperation.ALTER_CONFIGS,
            AclOperation.DESCRIBE_CONFIGS);
    rules.add(
        topic(
            commit,
            PatternType.PREFIXED,
            "tusk.",
            controlPlane,
            "creates the system topics and sets their retention; reads and writes specs, branches,"
                + " commits, the erasure log; reads jobs and seal requests"));
    rules.add(
        topic(
            commit,
            PatternType.PREFIXED,
            NAMES_PREFIX,
            controlPlane,
            "creates repo and pipeline topics and sets their retention; writes seals and job"
                + " requests to `<repo>.by-member`; reads `<repo>.rejected` and the end offsets of"
                + " `<repo>.updates`, `<pipeline>.output` and `<pipeline>.datums`; erasures: scans"
                + " every topic, rolls compacted ones"));
    for (String application : List.of("tusk-partition-", "tusk-lineage-")) {
      rules.add(
          topic(
              commit,
              PatternType.PREFIXED,
              application,
              EnumSet.of(
                  AclOperation.DESCRIBE,
                  AclOperation.DESCRIBE_CONFIGS,
                  AclOperation.READ,
                  AclOperation.WRITE),
              "erasures: scans the Streams changelogs for the member (verification) and appends"
                  + " roll markers so compaction reaches its last records"));
    }
    rules.add(
        rule(
            commit,
            ResourceType.GROUP,
            PatternType.LITERAL,
            "tusk-commit-sealer",
            group,
            "the consumer of seal requests (output commits)"));
    rules.add(
        rule(
            commit,
            ResourceType.GROUP,
            PatternType.LITERAL,
            "tusk-commit-leader",
            group,
            "the instances' election of the one that seals (the member assigned `tusk.commit-leader`)"));
    rules.add(
        rule(
            commit,
            ResourceType.GROUP,
            PatternType.PREFIXED,
            "tusk-processor-",
            EnumSet.of(AclOperation.DESCRIBE),
            "status: the offsets the datum processors committed (the lag of `<pipeline>.datums`)"));
    rules.add(
        rule(
            commit,
            ResourceType.TRANSACTIONAL_ID,
            PatternType.PREFIXED,
            "tusk-sealer-",
            transactional,
            "seals: `tusk-sealer-leader`, one ID for every instance, so a new leader fences the last"));

    // partition-service: rekeyer and the tusk-partition Kafka Streams application.
    Principal partition = Principal.PARTITION_SERVICE;
    rules.add(
        topic(
            partition,
            PatternType.PREFIXED,
            "tusk.",
            createReadWrite,
            "creates the system topics; reads specs, branches, commits, datum results; writes"
                + " commit stats, job parts, jobs, seal requests"));
    rules.add(
        topic(
            partition,
            PatternType.PREFIXED,
            NAMES_PREFIX,
            createReadWrite,
            "creates missing repo topics; reads `<repo>.updates` and upstream `<pipeline>.output`;"
                + " reads and writes `<repo>.by-member` and `<repo>.row-owners`; writes"
                + " `<repo>.members`, `<repo>.rejected`, `<pipeline>.datums`"));
    rules.add(
        topic(
            partition,
            PatternType.PREFIXED,
            "tusk-partition-",
            streamsInternal,
            "Kafka Streams internal topics: changelogs, repartition topics (purged)"));
    rules.add(
        rule(
            partition,
            ResourceType.GROUP,
            PatternType.LITERAL,
            "tusk-rekeyer",
            group,
            "the rekeyer's consumer group"));
    rules.add(
        rule(
            partition,
            ResourceType.GROUP,
            PatternType.LITERAL,
            "tusk-partition",
            group,
            "the Kafka Streams application's group"));
    rules.add(
        rule(
            partition,
            ResourceType.TRANSACTIONAL_ID,
            PatternType.PREFIXED,
            "tusk-rekeyer-",
            transactional,
            "rekeyer threads: `tusk-rekeyer-<instance>-<thread>`"));
    rules.add(
        rule(
            partition,
            ResourceType.TRANSACTIONAL_ID,
            PatternType.PREFIXED,
            "tusk-partition-",
            transactional,
            "Kafka Streams exactly-once producers"));

    // datum-processor: one consumer group per pipeline.
    Principal processor = Principal.DATUM_PROCESSOR;
    rules.add(
        topic(
            processor,
            PatternType.PREFIXED,
            "tusk.",
            createReadWrite,
            "creates the system topics; reads repo and pipeline specs; writes datum results"));
    rules.add(
        topic(
            processor,
            PatternType.PREFIXED,
            NAMES_PREFIX,
            createReadWrite,
            "creates missing pipeline topics; reads `<pipeline>.datums`; writes `<pipeline>.output`,"
                + " `<pipeline>.failed` and datum outcomes to `<repo>.by-member`"));
    rules.add(
        rule(
            processor,
            ResourceType.GROUP,
            PatternType.PREFIXED,
            "tusk-processor-",
            group,
            "`tusk-processor-<pipeline>`"));
    rules.add(
        rule(
            processor,
            ResourceType.TRANSACTIONAL_ID,
            PatternType.PREFIXED,
            "tusk-processor-",
            transactional,
            "workers: `tusk-processor-<pipeline>-<instance>-<thread>`"));

    // lineage-service: the tusk-lineage Kafka Streams application (at least once: no
    // transactions) and a reader of input rows by position.
    Principal lineage = Principal.LINEAGE_SERVICE;
    rules.add(
        topic(
            lineage,
            PatternType.PREFIXED,
            "tusk.",
            EnumSet.of(AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.READ),
            "creates the system topics; reads specs, commits, jobs, datum results, role bindings"));
    rules.add(
        topic(
            lineage,
            PatternType.LITERAL,
            TopicNames.AUDIT,
            EnumSet.of(AclOperation.WRITE),
            "writes the audit trail of its requests"));
    rules.add(
        topic(
            lineage,
            PatternType.PREFIXED,
            NAMES_PREFIX,
            EnumSet.of(AclOperation.DESCRIBE, AclOperation.READ),
            "reads every `<pipeline>.output` (by pattern) and input rows of `<repo>.updates`"));
    rules.add(
        topic(
            lineage,
            PatternType.PREFIXED,
            "tusk-lineage-",
            streamsInternal,
            "Kafka Streams internal topics: changelogs, repartition topics (purged)"));
    rules.add(
        rule(
            lineage,
            ResourceType.GROUP,
            PatternType.LITERAL,
            "tusk-lineage",
            group,
            "the Kafka Streams application's group"));
    rules.add(
        new Rule(
            lineage,
            ResourceType.TOPIC,
            PatternType.LITERAL,
            OPENLINEAGE_TOPIC,
            EnumSet.of(AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.WRITE),
            true,
            "only with `TUSK_OPENLINEAGE_TOPIC`: the OpenLineage events"));

    // The CLI's loader (tusk put): a producer of one repo's rows.
    rules.add(
        topic(
            Principal.CLI,
            PatternType.LITERAL,
            REPO + ".updates",
            EnumSet.of(AclOperation.DESCRIBE, AclOperation.WRITE),
            "`tusk put`: rows of each repo it loads"));
    return List.copyOf(rules);
  }

  private static Rule topic(
      Principal principal,
      PatternType pattern,
      String name,
      Set<AclOperation> operations,
      String purpose) {
    return rule(principal, ResourceType.TOPIC, pattern, name, operations, purpose);
  }

  private static Rule rule(
      Principal principal,
      ResourceType type,
      PatternType pattern,
      String name,
      Set<AclOperation> operations,
      String purpose) {
    return new Rule(principal, type, pattern, name, operations, false, purpose);
  }

  /** Every rule, by principal in {@link Principal} order. */
  public static List<Rule> rules() {
    return RULES;
  }

  /** The rules of one principal. */
  public static List<Rule> rules(Principal principal) {
    return RULES.stream().filter(r -> r.principal() == principal).toList();
  }

  /**
   * The ACL bindings that grant {@code kafkaPrincipal} (e.g. {@code User:lineage-service}) what
   * {@code principal} needs, placeholders replaced by {@code values} (e.g. {@link #NAMES_PREFIX} to
   * {@code acme-}). An optional rule whose placeholder has no value is left out.
   *
   * @throws IllegalArgumentException if a required rule's placeholder has no value
   */
  public static List<AclBinding> bindings(
      Principal principal, String kafkaPrincipal, Map<String, String> values) {
    Objects.requireNonNull(kafkaPrincipal, "kafkaPrincipal");
    List<AclBinding> bindings = new ArrayList<>();
    for (Rule rule : rules(principal)) {
      Optional<String> name = resolve(rule.name(), values);
      if (name.isEmpty()) {
        if (rule.optional()) {
          continue;
        }
        throw new IllegalArgumentException(
            "no value for the placeholder in " + rule.name() + " (" + principal + ")");
      }
      ResourcePattern pattern =
          new ResourcePattern(rule.resourceType(), name.get(), patternOf(rule, name.get()));
      for (AclOperation operation : rule.sortedOperations()) {
        bindings.add(
            new AclBinding(
                pattern,
                new AccessControlEntry(kafkaPrincipal, "*", operation, AclPermissionType.ALLOW)));
      }
    }
    return bindings;
  }

  /** A prefixed rule given {@code *} as its prefix (no naming convention) is the wildcard. */
  private static PatternType patternOf(Rule rule, String name) {
    return name.equals(ResourcePattern.WILDCARD_RESOURCE)
        ? PatternType.LITERAL
        : rule.patternType();
  }

  private static Optional<String> resolve(String name, Map<String, String> values) {
    Matcher m = PLACEHOLDER.matcher(name);
    StringBuilder resolved = new StringBuilder();
    while (m.find()) {
      String value = values.get(m.group());
      if (value == null) {
        return Optional.empty();
      }
      m.appendReplacement(resolved, Matcher.quoteReplacement(value));
    }
    m.appendTail(resolved);
    return Optional.of(resolved.toString());
  }

  /**
   * The rules of {@code principal} that a denial of {@code resource} (of {@code type}) points at:
   * those whose pattern covers it, the most specific first; if none does, its rules of that type
   * with a placeholder (a repo or pipeline topic is under {@link #NAMES_PREFIX}); for a
   * transactional ID, which Kafka's error does not name, every such rule.
   */
  public static List<Rule> pointedAt(Principal principal, ResourceType type, String resource) {
    List<Rule> ofType = rules(principal).stream().filter(r -> r.resourceType() == type).toList();
    if (resource == null) {
      return ofType;
    }
    List<Rule> covering =
        ofType.stream()
            .filter(r -> r.covers(type, resource))
            .sorted(Comparator.comparingInt((Rule r) -> r.name().length()).reversed())
            .toList();
    if (!covering.isEmpty()) {
      return covering;
    }
    return ofType.stream().filter(Rule::hasPlaceholder).filter(r -> !r.optional()).toList();
  }

  /** The README table: one row per rule. */
  public static String markdownTable() {
    StringBuilder table = new StringBuilder();
    table.append("| principal | resource | pattern | name | operations | for |\n");
    table.append("|---|---|---|---|---|---|\n");
    for (Rule rule : RULES) {
      table
          .append("| ")
          .append(rule.principal().serviceName())
          .append(" | ")
          .append(rule.resourceType())
          .append(" | ")
          .append(rule.patternType())
          .append(" | `")
          .append(rule.name())
          .append("` | ")
          .append(
              rule.sortedOperations().stream().map(Enum::name).collect(Collectors.joining(", ")))
          .append(" | ")
          .append(rule.purpose())
          .append(" |\n");
    }
    return table.toString();
  }

  /**
   * The {@code kafka-acls} command lines that grant every rule, one per rule, to the conventionally
   * named principals ({@code User:commit-service}, ...), against {@code $BOOTSTRAP} with an admin's
   * client settings in {@code admin.properties}.
   */
  public static List<String> kafkaAclsCommands() {
    List<String> commands = new ArrayList<>();
    for (Rule rule : RULES) {
      StringBuilder command =
          new StringBuilder(
              "kafka-acls.sh --bootstrap-server \"$BOOTSTRAP\" --command-config admin.properties"
                  + " --add --allow-principal ");
      command.append(rule.principal().conventionalPrincipal());
      for (AclOperation operation : rule.sortedOperations()) {
        command.append(" --operation ").append(camelCase(operation));
      }
      switch (rule.resourceType()) {
        case TOPIC -> command.append(" --topic '").append(rule.name()).append('\'');
        case GROUP -> command.append(" --group '").append(rule.name()).append('\'');
        case TRANSACTIONAL_ID ->
            command.append(" --transactional-id '").append(rule.name()).append('\'');
        case CLUSTER -> command.append(" --cluster");
        default -> throw new IllegalStateException("no kafka-acls flag for " + rule.resourceType());
      }
      if (rule.patternType() == PatternType.PREFIXED) {
        command.append(" --resource-pattern-type prefixed");
      }
      commands.add(command.toString());
    }
    return commands;
  }

  /** {@code IDEMPOTENT_WRITE} as kafka-acls spells it: {@code IdempotentWrite}. */
  private static String camelCase(AclOperation operation) {
    StringBuilder name = new StringBuilder();
    for (String part : operation.name().split("_")) {
      name.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return name.toString();
  }
}
