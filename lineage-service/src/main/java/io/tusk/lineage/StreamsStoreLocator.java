package io.tusk.lineage;

import io.tusk.common.security.InternalListener;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads a key's partition of a store where it lives: from this instance's store when this instance
 * is its active owner, otherwise from the owner over HTTP ({@code GET /internal/stores/...}, served
 * by {@link #localGet} and {@link #localRange} there). A {@link #scan} of keys without a routing
 * part asks every instance that holds partitions of the store ({@link #localScan} there). The owner
 * is found with {@code KafkaStreams#queryMetadataForKey} on the key's routing key; the instances'
 * addresses are their {@code application.server} settings: their internal listeners, which want the
 * shared secret.
 *
 * <p>While Kafka Streams starts or rebalances, or the owner cannot be reached or is not the owner
 * any more, reads throw {@link InvalidStateStoreException}: the API answers 503 with Retry-After.
 */
final class StreamsStoreLocator implements StoreLocator {
  /** Path of the internal store endpoints. */
  static final String INTERNAL_PATH = "/internal/stores/";

  private static final Duration REMOTE_TIMEOUT = Duration.ofSeconds(10);

  private final Map<String, Serde<?>> serdes;
  private final String secret;
  private final HttpClient http;
  private final AtomicLong remoteReads = new AtomicLong();
  // While this instance is the only one it owns every partition: a scan uses one cached store over
  // all local partitions. Both are reset on every state change. A key or prefix read still goes to
  // its one partition: over all partitions it would read every partition's store in turn (each read
  // holding that RocksDB store's lock), a convoy under concurrent lookups.
  private final Map<String, ReadOnlyKeyValueStore<String, ?>> allLocal = new ConcurrentHashMap<>();
  private volatile boolean alone;
  private volatile KafkaStreams streams;
  private volatile HostInfo self;

  /**
   * @param serdes the value serde of every store, to pass values between instances
   * @param secret the shared secret of the instances' internal listeners (empty: none)
   */
  StreamsStoreLocator(Map<String, Serde<?>> serdes, String secret) {
    this.serdes = Map.copyOf(serdes);
    this.secret = Objects.requireNonNull(secret, "secret");
    // HTTP/1.1: the services' servers do not upgrade to h2c.
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
  }

  /** Starts answering from {@code streams}, whose {@code application.server} is {@code self}. */
  void attach(KafkaStreams streams, HostInfo self) {
    this.self = Objects.requireNonNull(self, "self");
    this.streams = Objects.requireNonNull(streams, "streams");
    stateChanged(streams.state());
  }

  /** Called on every Kafka Streams state change: ownership may have moved. */
  void stateChanged(KafkaStreams.State state) {
    allLocal.clear();
    KafkaStreams current = streams;
    alone =
        current != null
            && state == KafkaStreams.State.RUNNING
            && current.metadataForAllStreamsClients().size() == 1;
  }

  @Override
  public <V> V get(String storeName, String key) {
    KeyQueryMetadata owner = owner(storeName, key);
    if (owner.activeHost().equals(self)) {
      return this.<V>local(storeName, owner.partition()).get(key);
    }
    byte[] body = remote(owner.activeHost(), storeName, "get?key=" + encode(key));
    return body == null
        ? null
        : this.<V>serde(storeName).deserializer().deserialize(topic(storeName), body);
  }

  @Override
  public <V> List<KeyValue<String, V>> range(
      String storeName, String prefix, String after, int limit) {
    KeyQueryMetadata owner = owner(storeName, prefix);
    if (owner.activeHost().equals(self)) {
      return StoreReads.range(local(storeName, owner.partition()), prefix, after, limit);
    }
    String query =
        "range?prefix="
            + encode(prefix)
            + (after == null ? "" : "&after=" + encode(after))
            + "&limit="
            + limit;
    return decodeRange(storeName, remote(owner.activeHost(), storeName, query));
  }

  @Override
  public <V> List<KeyValue<String, V>> scan(String storeName, String prefix, int limit) {
    if (alone) {
      return StoreReads.scan(this.<V>allLocal(storeName), prefix, limit, IndexReads.MAX_LIMIT);
    }
    KafkaStreams current = streams;
    if (current == null) {
      throw new InvalidStateStoreException("the indexes are starting");
    }
    // Every instance holding active partitions of the store answers for them; one that cannot
    // answer fails the whole scan (503). While a partition moves between instances (a rebalance)
    // neither may hold it, so a prefix can briefly answer 404 as a key read answers 503.
    Collection<StreamsMetadata> owners = current.streamsMetadataForStore(storeName);
    if (owners.isEmpty()) {
      throw new InvalidStateStoreException("the owners of " + storeName + " are not known yet");
    }
    List<KeyValue<String, V>> found = new ArrayList<>();
    for (StreamsMetadata owner : owners) {
      if (owner.hostInfo().equals(self)) {
        found.addAll(
            StoreReads.scan(this.<V>activeLocal(storeName), prefix, limit, IndexReads.MAX_LIMIT));
      } else {
        String query = "scan?prefix=" + encode(prefix) + "&limit=" + limit;
        found.addAll(decodeRange(storeName, remote(owner.hostInfo(), storeName, query)));
      }
    }
    return StoreReads.inKeyOrder(found, limit);
  }

  /** The serialized value of {@code key}, if this instance owns it; for the internal endpoint. */
  byte[] localGet(String storeName, String key) {
    KeyQueryMetadata owner = owner(storeName, key);
    requireOwned(owner, storeName);
    Object value = local(storeName, owner.partition()).get(key);
    return value == null ? null : serialize(storeName, value);
  }

  /** The serialized entries of a range, if this instance owns it; for the internal endpoint. */
  byte[] localRange(String storeName, String prefix, String after, int limit) {
    KeyQueryMetadata owner = owner(storeName, prefix);
    requireOwned(owner, storeName);
    return encodeEntries(
        storeName, StoreReads.range(local(storeName, owner.partition()), prefix, after, limit));
  }

  /**
   * The serialized entries of this instance's active partitions of a store whose keys start with
   * {@code prefix}; for the internal endpoint of {@link #scan}.
   */
  byte[] localScan(String storeName, String prefix, int limit) {
    return encodeEntries(
        storeName, StoreReads.scan(activeLocal(storeName), prefix, limit, IndexReads.MAX_LIMIT));
  }

  private byte[] encodeEntries(String storeName, List<KeyValue<String, Object>> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(entries.size());
      for (KeyValue<String, Object> entry : entries) {
        byte[] key = entry.key.getBytes(StandardCharsets.UTF_8);
        byte[] value = serialize(storeName, entry.value);
        out.writeInt(key.length);
        out.write(key);
        out.writeInt(value.length);
        out.write(value);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Reads answered by another instance so far. */
  long remoteReads() {
    return remoteReads.get();
  }

  /** True if {@code storeName} is a store this locator knows. */
  boolean knows(String storeName) {
    return serdes.containsKey(storeName);
  }

  /** Decodes a key or prefix sent by {@link #encode}. */
  static String decode(String encoded) {
    return new String(Base64.getUrlDecoder().decode(encoded), StandardCharsets.UTF_8);
  }

  private static String encode(String key) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private KeyQueryMetadata owner(String storeName, String key) {
    KafkaStreams current = streams;
    if (current == null) {
      throw new InvalidStateStoreException("the indexes are starting");
    }
    KeyQueryMetadata owner =
        current.queryMetadataForKey(storeName, StoreKeys.routing(key), new RoutingPartitioner<>());
    if (owner == null
        || owner.equals(KeyQueryMetadata.NOT_AVAILABLE)
        || owner.activeHost() == null
        || owner.activeHost().port() < 0) {
      throw new InvalidStateStoreException("the owner of " + storeName + " is not known yet");
    }
    return owner;
  }

  private void requireOwned(KeyQueryMetadata owner, String storeName) {
    if (!owner.activeHost().equals(self)) {
      throw new InvalidStateStoreException(
          "this instance does not own that part of " + storeName + " any more");
    }
  }

  @SuppressWarnings("unchecked")
  private <V> ReadOnlyKeyValueStore<String, V> allLocal(String storeName) {
    try {
      return (ReadOnlyKeyValueStore<String, V>)
          allLocal.computeIfAbsent(
              storeName,
              name ->
                  streams.store(
                      StoreQueryParameters.fromNameAndType(
                          name, QueryableStoreTypes.<String, V>keyValueStore())));
    } catch (InvalidStateStoreException e) {
      allLocal.remove(storeName);
      throw e;
    }
  }

  /** The store over every partition this instance holds active (not cached: ownership moves). */
  private <V> ReadOnlyKeyValueStore<String, V> activeLocal(String storeName) {
    return streams.store(
        StoreQueryParameters.fromNameAndType(
            storeName, QueryableStoreTypes.<String, V>keyValueStore()));
  }

  private <V> ReadOnlyKeyValueStore<String, V> local(String storeName, int partition) {
    return streams.store(
        StoreQueryParameters.fromNameAndType(
                storeName, QueryableStoreTypes.<String, V>keyValueStore())
            .withPartition(partition));
  }

  private byte[] remote(HostInfo owner, String storeName, String query) {
    URI uri =
        URI.create(
            "http://"
                + owner.host()
                + ":"
                + owner.port()
                + INTERNAL_PATH
                + storeName
                + "/"
                + query);
    HttpResponse<byte[]> response;
    remoteReads.incrementAndGet();
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(REMOTE_TIMEOUT).GET();
    if (!secret.isEmpty()) {
      request.header(InternalListener.SECRET_HEADER, secret);
    }
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new InvalidStateStoreException(
          "the owner " + owner + " of " + storeName + " cannot be reached: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InvalidStateStoreException("interrupted asking " + owner);
    }
    return switch (response.statusCode()) {
      case 200 -> response.body();
      case 204 -> null;
      case 503 ->
          throw new InvalidStateStoreException(
              "the owner " + owner + " of " + storeName + " is rebalancing");
      default ->
          throw new IllegalStateException(
              "the owner " + owner + " answered " + response.statusCode() + " for " + storeName);
    };
  }

  private <V> List<KeyValue<String, V>> decodeRange(String storeName, byte[] body) {
    Serde<V> serde = serde(storeName);
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
      int count = in.readInt();
      List<KeyValue<String, V>> entries = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String key = new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
        V value = serde.deserializer().deserialize(topic(storeName), in.readNBytes(in.readInt()));
        entries.add(KeyValue.pair(key, value));
      }
      return entries;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private byte[] serialize(String storeName, Object value) {
    return this.<Object>serde(storeName).serializer().serialize(topic(storeName), value);
  }

  @SuppressWarnings("unchecked")
  private <V> Serde<V> serde(String storeName) {
    Serde<?> serde = serdes.get(storeName);
    if (serde == null) {
      throw new IllegalArgumentException("no serde for store " + storeName);
    }
    return (Serde<V>) serde;
  }

  /** The topic name the store's values are serialized for: its changelog, as Streams does. */
  private static String topic(String storeName) {
    return LineageService.APPLICATION_ID + "-" + storeName + "-changelog";
  }
}
