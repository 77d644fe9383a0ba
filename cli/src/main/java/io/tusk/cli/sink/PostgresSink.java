package io.tusk.cli.sink;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Keeps a PostgreSQL table equal to a pipeline's current outputs: one row per member, upserted when
 * its output changes and deleted when the output is removed (a tombstone on {@code
 * <pipeline>.output}: the member's rows were deleted, or it was erased).
 *
 * <p><b>Exactly once.</b> The sink reads {@code <pipeline>.output} with {@code read_committed} and
 * no consumer group: where it stands in each partition is kept in the table {@code
 * tusk_sink_offsets} of the same schema, written in the same SQL transaction as the rows. A crash
 * between two transactions loses nothing and applies nothing twice; a restart resumes at the stored
 * positions. An upsert that brings the same output hash and lineage again changes nothing (it is
 * counted as unchanged), so even a table fed again from the beginning ends equal.
 *
 * <p>The table's rows hold no more than the output records do, so whoever may read the table sees
 * what a reader of the pipeline sees: grant it as you grant the pipeline.
 */
public final class PostgresSink implements AutoCloseable {
  /** The table that remembers, per sink table, where it stands in each output partition. */
  static final String OFFSETS_TABLE = "tusk_sink_offsets";

  /** The sink table's columns, in the order the upsert binds them. */
  static final List<String> COLUMNS =
      List.of(
          "member",
          "job_id",
          "commit_id",
          "global_id",
          "datum_hash",
          "output_hash",
          "content_type",
          "data",
          "data_text",
          "data_json",
          "updated_at");

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration PARTITION_REFRESH = Duration.ofSeconds(10);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

  /** What a run applied. */
  public record Summary(long records, long upserted, long deleted, long unchanged) {
    Summary plus(Summary other) {
      return new Summary(
          records + other.records,
          upserted + other.upserted,
          deleted + other.deleted,
          unchanged + other.unchanged);
    }
  }

  private final String pipeline;
  private final String schema;
  private final String table;
  private final Connection db;
  private final Topic<String, Output> topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Admin admin;
  private final Set<TopicPartition> assigned = new HashSet<>();
  private String topicId;
  private Map<TopicPartition, Long> written = Map.of();
  private long nextRefresh;

  /**
   * A sink of {@code pipeline}'s outputs into {@code table} ({@code name} or {@code schema.name})
   * of the database {@code db} is connected to. The connection becomes the sink's.
   */
  public PostgresSink(KafkaSettings settings, String pipeline, Connection db, String table)
      throws SQLException {
    String[] parts = table.split("\\.", -1);
    if (parts.length > 2 || !IDENTIFIER.matcher(parts[parts.length - 1]).matches()) {
      throw new IllegalArgumentException(
          "table must be NAME or SCHEMA.NAME, each a letter or _ then letters, digits or _ (at most"
              + " 63): "
              + table);
    }
    if (parts.length == 2 && !IDENTIFIER.matcher(parts[0]).matches()) {
      throw new IllegalArgumentException("schema must be a letter or _ then letters, digits or _");
    }
    this.pipeline = pipeline;
    this.schema = parts.length == 2 ? parts[0] : null;
    this.table = parts[parts.length - 1];
    this.db = db;
    this.topic = new Topics(settings.registryClient()).output(pipeline);
    this.consumer = new KafkaConsumer<>(settings.consumer("tusk-sink-" + pipeline, null));
    this.admin = Admin.create(settings.admin("tusk-sink-" + pipeline));
    db.setAutoCommit(false);
  }

  /** The table a pipeline's outputs go to unless one is named: its name as an SQL identifier. */
  public static String defaultTable(String pipeline) {
    String name = pipeline.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    name = Character.isDigit(name.charAt(0)) ? "p_" + name : name;
    return name.length() > 63 ? name.substring(0, 63) : name;
  }

  /**
   * Creates the table and the offsets table if they are missing, checks an existing table has the
   * sink's columns and is fed by no other pipeline, and positions the consumer where the table
   * stands.
   */
  public void prepare() throws SQLException {
    try (Statement sql = db.createStatement()) {
      sql.execute(
          "CREATE TABLE IF NOT EXISTS "
              + qualified(OFFSETS_TABLE)
              + " (sink_table text NOT NULL, topic text NOT NULL, topic_id text NOT NULL,"
              + " partition int NOT NULL, next_offset bigint NOT NULL,"
              + " PRIMARY KEY (sink_table, partition))");
      sql.execute(
          "CREATE TABLE IF NOT EXISTS "
              + qualified(table)
              + " (member text PRIMARY KEY, job_id text NOT NULL, commit_id text NOT NULL,"
              + " global_id text NOT NULL, datum_hash text NOT NULL, output_hash text NOT NULL,"
              + " content_type text NOT NULL, data bytea NOT NULL, data_text text, data_json jsonb,"
              + " updated_at timestamptz NOT NULL)");
    }
    checkColumns();
    db.commit();
    refresh();
  }

  /**
   * Applies every output committed to the topic when it is called, then returns: what {@code tusk
   * sink --once} does.
   */
  public Summary catchUp() throws SQLException {
    refresh();
    Map<TopicPartition, Long> end = consumer.endOffsets(assigned, METADATA_TIMEOUT);
    Summary total = new Summary(0, 0, 0, 0);
    while (assigned.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
      total = total.plus(apply(consumer.poll(POLL)));
    }
    // Records the positions (and the topic they belong to) even when nothing was read.
    apply(ConsumerRecords.empty());
    return total;
  }

  /**
   * Applies outputs as they come until {@link #wakeup()} is called (from another thread) or the
   * thread is interrupted; {@code progress} hears of every transaction that changed something.
   */
  public Summary follow(Consumer<Summary> progress) throws SQLException {
    Summary total = new Summary(0, 0, 0, 0);
    try {
      while (!Thread.currentThread().isInterrupted()) {
        if (System.nanoTime() >= nextRefresh) {
          refresh();
        }
        Summary applied = apply(consumer.poll(POLL));
        if (applied.records() > 0) {
          progress.accept(applied);
        }
        total = total.plus(applied);
      }
    } catch (WakeupException | InterruptException e) {
      // Asked to stop: everything applied so far is committed with its offsets.
    }
    // An interrupt is how a caller stops this; it is consumed so that closing can run.
    Thread.interrupted();
    return total;
  }

  /** Makes {@link #follow} return; safe from any thread. */
  public void wakeup() {
    consumer.wakeup();
  }

  /** Closes the consumer and the database connection. */
  @Override
  public void close() throws SQLException {
    try (db;
        admin) {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /**
   * One SQL transaction: the newest output of each member in the batch, and the positions the
   * consumer reached. Roll markers (reserved-key tombstones that only make Kafka compact) are
   * skipped.
   */
  private Summary apply(ConsumerRecords<byte[], byte[]> records) throws SQLException {
    Map<TopicPartition, Long> positions = new HashMap<>();
    for (TopicPartition partition : assigned) {
      positions.put(partition, consumer.position(partition));
    }
    if (records.isEmpty() && positions.equals(written)) {
      return new Summary(0, 0, 0, 0); // an idle poll: no transaction
    }
    Map<String, Output> newest = new LinkedHashMap<>();
    long count = 0;
    for (ConsumerRecord<byte[], byte[]> record : records) {
      count++;
      if (record.key() == null || record.headers().lastHeader(Headers.ROLL) != null) {
        continue;
      }
      String member = new String(record.key(), StandardCharsets.UTF_8);
      newest.remove(member);
      newest.put(member, record.value() == null ? null : topic.readValue(record.value()));
    }
    long upserted = 0;
    long deleted = 0;
    long unchanged = 0;
    try (PreparedStatement upsert = db.prepareStatement(upsertSql());
        PreparedStatement delete =
            db.prepareStatement("DELETE FROM " + qualified(table) + " WHERE member = ?");
        PreparedStatement position = db.prepareStatement(positionSql())) {
      List<String> deletes = new ArrayList<>();
      for (Map.Entry<String, Output> entry : newest.entrySet()) {
        if (entry.getValue() == null) {
          delete.setString(1, entry.getKey());
          delete.addBatch();
          deletes.add(entry.getKey());
        } else {
          bind(upsert, OutputRow.of(entry.getKey(), entry.getValue()));
          upsert.addBatch();
        }
      }
      for (int changed : upsert.executeBatch()) {
        if (changed > 0) {
          upserted++;
        } else {
          unchanged++;
        }
      }
      for (int changed : delete.executeBatch()) {
        deleted += Math.max(changed, 0);
      }
      for (TopicPartition partition : assigned) {
        position.setString(1, table);
        position.setString(2, partition.topic());
        position.setString(3, topicId);
        position.setInt(4, partition.partition());
        position.setLong(5, positions.get(partition));
        position.addBatch();
      }
      position.executeBatch();
      db.commit();
      written = positions;
    } catch (SQLException | RuntimeException e) {
      db.rollback();
      throw e;
    }
    return new Summary(count, upserted, deleted, unchanged);
  }

  private String upsertSql() {
    String updates =
        String.join(", ", COLUMNS.stream().skip(1).map(c -> c + " = EXCLUDED." + c).toList());
    // The same output hash and lineage again is not a change: updated_at keeps the first time.
    return "INSERT INTO "
        + qualified(table)
        + " AS t ("
        + String.join(", ", COLUMNS)
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, now())"
        + " ON CONFLICT (member) DO UPDATE SET "
        + updates
        + " WHERE (t.output_hash, t.job_id, t.commit_id, t.global_id)"
        + " IS DISTINCT FROM (EXCLUDED.output_hash, EXCLUDED.job_id, EXCLUDED.commit_id,"
        + " EXCLUDED.global_id)";
  }

  private String positionSql() {
    return "INSERT INTO "
        + qualified(OFFSETS_TABLE)
        + " (sink_table, topic, topic_id, partition, next_offset) VALUES (?, ?, ?, ?, ?)"
        + " ON CONFLICT (sink_table, partition) DO UPDATE SET topic = EXCLUDED.topic,"
        + " topic_id = EXCLUDED.topic_id, next_offset = EXCLUDED.next_offset";
  }

  private static void bind(PreparedStatement upsert, OutputRow row) throws SQLException {
    upsert.setString(1, row.member());
    upsert.setString(2, row.jobId());
    upsert.setString(3, row.commitId());
    upsert.setString(4, row.globalId());
    upsert.setString(5, row.datumHash());
    upsert.setString(6, row.outputHash());
    upsert.setString(7, row.contentType());
    upsert.setBytes(8, row.data());
    upsert.setString(9, row.dataText());
    upsert.setString(10, row.dataJson());
  }

  /** Where the table stands: the topic incarnation it was fed from and its positions. */
  private record Stored(String topicId, Map<Integer, Long> offsets) {}

  /** Positions stored for this table, after checking no other pipeline's topic feeds it. */
  private Stored stored() throws SQLException {
    Map<Integer, Long> offsets = new HashMap<>();
    String storedId = null;
    try (PreparedStatement query =
        db.prepareStatement(
            "SELECT topic, topic_id, partition, next_offset FROM "
                + qualified(OFFSETS_TABLE)
                + " WHERE sink_table = ?")) {
      query.setString(1, table);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          if (!rows.getString(1).equals(topic.name())) {
            throw new IllegalStateException(
                "table "
                    + table
                    + " is fed by "
                    + rows.getString(1)
                    + ", not "
                    + topic.name()
                    + ": name another table with --table");
          }
          storedId = rows.getString(2);
          offsets.put(rows.getInt(3), rows.getLong(4));
        }
      }
    }
    db.commit();
    return new Stored(storedId, offsets);
  }

  /**
   * Follows the output topic as it is now. A pipeline deleted and created again under its name has
   * a new topic (a new topic ID): the table, which holds the old pipeline's outputs, is emptied and
   * fed from the new topic's beginning, in one transaction with its positions. Otherwise partitions
   * the topic gained are assigned at the stored positions.
   */
  private void refresh() throws SQLException {
    TopicDescription description = describe();
    String id = description.topicId().toString();
    if (!id.equals(topicId)) {
      Stored stored = stored();
      Map<Integer, Long> offsets = stored.offsets();
      if (stored.topicId() != null && !stored.topicId().equals(id)) {
        empty();
        offsets = Map.of();
      }
      written = Map.of();
      topicId = id;
      assigned.clear();
      assign(description, offsets);
    } else {
      assign(description, stored().offsets());
    }
    nextRefresh = System.nanoTime() + PARTITION_REFRESH.toNanos();
  }

  private void assign(TopicDescription description, Map<Integer, Long> offsets) {
    List<TopicPartition> fresh = new ArrayList<>();
    for (TopicPartitionInfo info : description.partitions()) {
      TopicPartition partition = new TopicPartition(topic.name(), info.partition());
      if (!assigned.contains(partition)) {
        fresh.add(partition);
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    assigned.addAll(fresh);
    consumer.assign(assigned);
    for (TopicPartition partition : fresh) {
      Long offset = offsets.get(partition.partition());
      if (offset == null) {
        consumer.seekToBeginning(List.of(partition));
      } else {
        consumer.seek(partition, offset);
      }
    }
  }

  private void empty() throws SQLException {
    try (Statement sql = db.createStatement();
        PreparedStatement forget =
            db.prepareStatement(
                "DELETE FROM " + qualified(OFFSETS_TABLE) + " WHERE sink_table = ?")) {
      sql.executeUpdate("DELETE FROM " + qualified(table));
      forget.setString(1, table);
      forget.executeUpdate();
      db.commit();
    } catch (SQLException e) {
      db.rollback();
      throw e;
    }
  }

  private TopicDescription describe() {
    try {
      return admin
          .describeTopics(List.of(topic.name()))
          .allTopicNames()
          .get(METADATA_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .get(topic.name());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        throw new IllegalStateException(
            "topic " + topic.name() + " does not exist: is " + pipeline + " a pipeline?");
      }
      throw new IllegalStateException(
          "cannot describe " + topic.name() + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot describe " + topic.name() + " in time", e);
    } catch (InterruptedException e) {
      throw new InterruptException(e);
    }
  }

  private void checkColumns() throws SQLException {
    Set<String> present = new HashSet<>();
    try (PreparedStatement query =
        db.prepareStatement(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND"
                + " table_schema = COALESCE(?, current_schema())")) {
      query.setString(1, table);
      query.setString(2, schema);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          present.add(rows.getString(1));
        }
      }
    }
    List<String> missing = COLUMNS.stream().filter(c -> !present.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "table " + table + " exists without the sink's columns " + missing + ": name another");
    }
  }

  private String qualified(String name) {
    return schema == null ? "\"" + name + "\"" : "\"" + schema + "\".\"" + name + "\"";
  }
}
