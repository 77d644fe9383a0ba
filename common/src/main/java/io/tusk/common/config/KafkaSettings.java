package io.tusk.common.config;

import io.tusk.schemas.registry.HttpSchemaRegistryClient;
import io.tusk.schemas.registry.SchemaRegistryClient;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How every Tusk service reaches Kafka and the schema registry, and the client settings they share.
 *
 * <p>Any variable {@code TUSK_KAFKA_<NAME>} is passed to every Kafka client as property {@code
 * <name>} (lower case, underscores become dots), e.g. {@code
 * TUSK_KAFKA_SECURITY_PROTOCOL=SASL_SSL}.
 */
public record KafkaSettings(
    String bootstrapServers,
    String registryUrl,
    short replicationFactor,
    int systemPartitions,
    String instanceId,
    Map<String, Object> clientOverrides,
    TopicBounds bounds) {

  public static final ConfigKey BOOTSTRAP_SERVERS =
      ConfigKey.required(
          "TUSK_BOOTSTRAP_SERVERS", "Kafka bootstrap servers, host:port[,host:port]");
  public static final ConfigKey REGISTRY_URL =
      ConfigKey.required(
          "TUSK_REGISTRY_URL",
          "Confluent-compatible schema registry base URL (Apicurio: http://host:port/apis/ccompat/v7)");
  public static final ConfigKey REPLICATION_FACTOR =
      ConfigKey.optional(
          "TUSK_REPLICATION_FACTOR", "1", "Replication factor of topics Tusk creates");
  public static final ConfigKey SYSTEM_PARTITIONS =
      ConfigKey.optional(
          "TUSK_SYSTEM_PARTITIONS",
          "6",
          "Partitions of the tusk.* topics; must be the same for every service of one deployment");
  public static final ConfigKey INSTANCE_ID =
      ConfigKey.optional(
          "TUSK_INSTANCE_ID",
          "",
          "Stable name of this instance, unique per service (default: host name); part of transactional IDs");

  /** The keys every service reads. */
  public static final List<ConfigKey> KEYS =
      List.of(
          BOOTSTRAP_SERVERS,
          REGISTRY_URL,
          REPLICATION_FACTOR,
          SYSTEM_PARTITIONS,
          INSTANCE_ID,
          TopicBounds.COMPACTION_MAX_LAG,
          TopicBounds.TOMBSTONE_RETENTION,
          TopicBounds.SYSTEM_RETENTION);

  /**
   * How Tusk's services compress what they write (Kafka Streams' producers and the plain ones of
   * the rekeyer, the datum processor and the commit service): tightly, as it is kept (changelogs,
   * {@code <repo>.members}, outputs) or re-read (by-member rows, datums). README "Issue 14: bytes
   * written and kept per commit" has the measurements.
   */
  static final String COMPRESSION_TYPE = "zstd";

  /**
   * How loaders ({@link #loader}: {@code tusk put}, the bench's loader) compress: fast, as they are
   * on the user's ingestion path; with zstd the bench's raw produce fell to 158k rows/s from
   * 205-235k with LZ4.
   */
  static final String LOADER_COMPRESSION_TYPE = "lz4";

  /** Prefix of pass-through Kafka client properties. */
  public static final String CLIENT_PROPERTY_PREFIX = "TUSK_KAFKA_";

  /** Heartbeat interval of the group consumers, in ms (Kafka's default: 3,000). */
  static final int HEARTBEAT_INTERVAL_MS = 500;

  public KafkaSettings {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(registryUrl, "registryUrl");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(bounds, "bounds");
    clientOverrides = Map.copyOf(clientOverrides);
  }

  /** Reads the shared settings from loaded config. */
  public static KafkaSettings from(Config config) {
    int replication = config.integer(REPLICATION_FACTOR, 1);
    if (replication > Short.MAX_VALUE) {
      throw new ConfigException(REPLICATION_FACTOR.name() + " is too large: " + replication);
    }
    String instance = config.string(INSTANCE_ID);
    Map<String, Object> overrides = clientProperties(config.withPrefix(CLIENT_PROPERTY_PREFIX));
    return new KafkaSettings(
        config.string(BOOTSTRAP_SERVERS),
        config.string(REGISTRY_URL),
        (short) replication,
        config.integer(SYSTEM_PARTITIONS, 1),
        instance.isEmpty() ? hostName() : instance,
        overrides,
        TopicBounds.from(config));
  }

  /** Settings for code that is given addresses directly (tests, the local stack). */
  public static KafkaSettings of(String bootstrapServers, String registryUrl, String instanceId) {
    return new KafkaSettings(
        bootstrapServers, registryUrl, (short) 1, 3, instanceId, Map.of(), TopicBounds.DEFAULTS);
  }

  /**
   * A copy whose clients also get the {@code TUSK_KAFKA_<NAME>} settings of {@code environment}
   * (normally {@code System.getenv()}): for a command-line client given its bootstrap servers
   * directly, which must reach a secured cluster as the services do.
   */
  public KafkaSettings withClientSettingsFrom(Map<String, String> environment) {
    Map<String, String> passed = new HashMap<>();
    environment.forEach(
        (name, value) -> {
          if (name.startsWith(CLIENT_PROPERTY_PREFIX)) {
            passed.put(name.substring(CLIENT_PROPERTY_PREFIX.length()), value);
          }
        });
    Map<String, Object> overrides = new HashMap<>(clientOverrides);
    overrides.putAll(clientProperties(passed));
    return new KafkaSettings(
        bootstrapServers,
        registryUrl,
        replicationFactor,
        systemPartitions,
        instanceId,
        overrides,
        bounds);
  }

  /** {@code SASL_JAAS_CONFIG} to {@code sasl.jaas.config}: lower case, underscores to dots. */
  private static Map<String, Object> clientProperties(Map<String, String> passed) {
    Map<String, Object> properties = new HashMap<>();
    passed.forEach(
        (name, value) -> properties.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value));
    return properties;
  }

  /** A copy with another instance ID (several instances of one service in one JVM). */
  public KafkaSettings withInstanceId(String id) {
    return new KafkaSettings(
        bootstrapServers,
        registryUrl,
        replicationFactor,
        systemPartitions,
        id,
        clientOverrides,
        bounds);
  }

  /** A copy with another system topic partition count. */
  public KafkaSettings withSystemPartitions(int partitions) {
    return new KafkaSettings(
        bootstrapServers,
        registryUrl,
        replicationFactor,
        partitions,
        instanceId,
        clientOverrides,
        bounds);
  }

  /** A copy with other topic bounds. */
  public KafkaSettings withBounds(TopicBounds topicBounds) {
    return new KafkaSettings(
        bootstrapServers,
        registryUrl,
        replicationFactor,
        systemPartitions,
        instanceId,
        clientOverrides,
        topicBounds);
  }

  /** A registry client for {@link #registryUrl()}. */
  public SchemaRegistryClient registryClient() {
    return new HttpSchemaRegistryClient(registryUrl);
  }

  /** Properties every client gets. */
  public Map<String, Object> common() {
    Map<String, Object> props = new HashMap<>();
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.putAll(clientOverrides);
    return props;
  }

  /** An idempotent byte-array producer; transactional when {@code transactionalId} is not null. */
  public Map<String, Object> producer(String clientId, String transactionalId) {
    return producer(clientId, transactionalId, COMPRESSION_TYPE);
  }

  /**
   * A producer of a loader: {@link #producer} without a transaction, compressing fast ({@link
   * #LOADER_COMPRESSION_TYPE}) unless the client overrides say otherwise.
   */
  public Map<String, Object> loader(String clientId) {
    return producer(clientId, null, LOADER_COMPRESSION_TYPE);
  }

  private Map<String, Object> producer(
      String clientId, String transactionalId, String compressionType) {
    Map<String, Object> props = common();
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compressionType);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    if (transactionalId != null) {
      props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    } else {
      // One request in flight. A partition created a moment ago may refuse a first batch
      // (NOT_LEADER) and then accept the next ones, which leaves the retried first batch out of
      // sequence for good: the producer retries it until the delivery timeout and the rows are
      // lost to the commit. In order, the retry goes before the next batch. Loaders measured no
      // slower this way (tusk put: 155k vs 90k rows/s).
      props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    }
    props.putAll(clientOverrides);
    return props;
  }

  /** A byte-array consumer reading only committed data; in group {@code groupId} if not null. */
  public Map<String, Object> consumer(String clientId, String groupId) {
    Map<String, Object> props = common();
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    if (groupId != null) {
      props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
      props.put(
          ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
          "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
      // A member joining (a second processor instance, a restart) moves partitions in two
      // cooperative rebalances, each seen by the other members on their next heartbeat. With
      // Kafka's 3 s, a new pipeline's datums in the moving partitions sat unowned for 6 s (revoked
      // 3.0 s after the join, assigned 3.0 s after that): the tail of continuous mode's first
      // seconds (README "Issue 3"). Two heartbeats a second per consumer cost the broker little.
      props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, HEARTBEAT_INTERVAL_MS);
    }
    props.putAll(clientOverrides);
    return props;
  }

  /** Admin client properties. */
  public Map<String, Object> admin(String clientId) {
    Map<String, Object> props = common();
    props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
    return props;
  }

  /** Kafka Streams properties: exactly-once v2, replication as configured. */
  public Map<String, Object> streams(String applicationId, String stateDir) {
    Map<String, Object> props = new HashMap<>();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(StreamsConfig.CLIENT_ID_CONFIG, applicationId + "-" + instanceId);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) replicationFactor);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Every instance counts as caught up, so tasks move without warm-up replicas. A warm-up
    // (standby) task recycled to active keeps the input partitions it was built with; a topic of a
    // pattern subscription created since (a new repo's by-member topic) then fails the task with
    // "unknown to the topology" and leaves its RocksDB locked, so the replacement thread fails
    // too (seen with two partition-service instances). The cost: a moved task restores its state
    // before processing instead of in the background.
    props.put(StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, Long.MAX_VALUE);
    // Changelogs, repartition topics, members and datums carry whole members' rows, which
    // compression shrinks several-fold on disk and on the wire. Unprefixed, so
    // TUSK_KAFKA_COMPRESSION_TYPE overrides it as it does for the other producers.
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, COMPRESSION_TYPE);
    // No idling: a task processes whatever its partitions have buffered. Tusk's topologies never
    // rely on timestamp order across a task's input topics (commits complete on barriers and
    // source offsets, job results may precede their job's parts, indexes are upserts), and the
    // default idling (0 ms) costs more than it orders: in Kafka Streams 4.4 it checks every empty
    // input partition before each record and formats a diagnostic string for it, which took 11 %
    // of the partition stream thread and 13 % of the lineage thread under JFR (README "Issue 14").
    props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
    // Kafka 5.0's default, set now so processing errors in global stores are handled the same way.
    props.put("processing.exception.handler.global.enabled", true);
    // Changelogs hold members' rows and outputs: an erased member's records there must be
    // compacted away within the bounds an erasure promises (README "Erasure and retention").
    props.put(
        StreamsConfig.topicPrefix(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG),
        Long.toString(bounds.compactionMaxLagMs()));
    props.put(
        StreamsConfig.topicPrefix(TopicConfig.SEGMENT_MS_CONFIG),
        Long.toString(bounds.segmentMs()));
    props.put(
        StreamsConfig.topicPrefix(TopicConfig.DELETE_RETENTION_MS_CONFIG),
        Long.toString(bounds.tombstoneRetentionMs()));
    props.putAll(clientOverrides);
    return props;
  }

  private static String hostName() {
    String fromEnv = System.getenv("HOSTNAME");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "tusk";
    }
  }
}
