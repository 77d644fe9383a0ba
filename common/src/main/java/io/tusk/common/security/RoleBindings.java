package io.tusk.common.security;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.TopicFeed;
import io.tusk.common.topics.Topic;
import io.tusk.schemas.RoleBinding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who holds which role on what: an in-memory view of {@code tusk.role-bindings} (compacted; key
 * {@code <resource>/<role>/<subject>}, a tombstone revokes), fed by a {@link TopicFeed} on every
 * instance of every service, so a grant takes effect everywhere within the feed's poll interval.
 * Lookups never block (Vert.x event loops call them). The commit service also writes bindings
 * ({@link #grant}, {@link #revoke}); its own reads see a write as soon as Kafka acknowledged it.
 */
public final class RoleBindings implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoleBindings.class);
  private static final long WRITE_TIMEOUT_SECONDS = 30;

  /** Every binding by key. */
  private final Map<String, RoleBinding> bindings = new ConcurrentHashMap<>();

  /** Subject to resource to the roles held there: what {@link Access} asks for each request. */
  private final Map<String, Map<Resource, Set<Role>>> bySubject = new ConcurrentHashMap<>();

  private final Topic<String, RoleBinding> topic;
  private TopicFeed<RoleBinding> feed;
  private KafkaProducer<byte[], byte[]> producer;

  private RoleBindings(Topic<String, RoleBinding> topic) {
    this.topic = topic;
  }

  /**
   * Starts a view of {@code topic} and returns once it has read every binding written before.
   *
   * @param writable true for the service that grants and revokes (the commit service)
   * @throws KafkaException if the view cannot catch up within {@code timeout}
   */
  public static RoleBindings start(
      KafkaSettings settings,
      Topic<String, RoleBinding> topic,
      Duration timeout,
      boolean writable) {
    RoleBindings view = new RoleBindings(Objects.requireNonNull(topic, "topic"));
    if (writable) {
      view.producer =
          new KafkaProducer<>(
              settings.producer("tusk-role-bindings-" + settings.instanceId(), null));
    }
    try {
      view.feed = TopicFeed.start(settings, topic, timeout, view::apply);
    } catch (RuntimeException e) {
      view.close();
      throw e;
    }
    return view;
  }

  /** A view without a topic, changed only through {@link #apply}; for tests of the rules. */
  public static RoleBindings inMemory() {
    return new RoleBindings(null);
  }

  /** The key of a binding in the topic. */
  public static String key(Resource resource, Role role, String subject) {
    return resource + "/" + role.label() + "/" + subject;
  }

  /** The roles {@code subject} holds on {@code resource} (bound there, not implied). */
  public Set<Role> rolesOf(String subject, Resource resource) {
    Map<Resource, Set<Role>> held = bySubject.get(subject);
    if (held == null) {
      return Set.of();
    }
    return held.getOrDefault(resource, Set.of());
  }

  /** The bindings on {@code resource}, by role then subject. */
  public List<RoleBinding> on(Resource resource) {
    String text = resource.toString();
    return sorted(bindings.values().stream().filter(b -> b.getResource().equals(text)).toList());
  }

  /** The bindings of {@code subject}. */
  public List<RoleBinding> of(String subject) {
    return sorted(bindings.values().stream().filter(b -> b.getSubject().equals(subject)).toList());
  }

  /** Every binding. */
  public List<RoleBinding> all() {
    return sorted(List.copyOf(bindings.values()));
  }

  /**
   * Records a binding read from the topic (or written here): {@code value} null revokes {@code
   * key}. A record that does not parse is skipped, logged with its key.
   */
  public void apply(String key, RoleBinding value) {
    if (value != null) {
      try {
        Resource.parse(value.getResource());
        Role.parse(value.getRole());
      } catch (IllegalArgumentException e) {
        log.error("Skipping role binding {}: {}", key, e.getMessage());
        return;
      }
    }
    RoleBinding previous = value == null ? bindings.remove(key) : bindings.put(key, value);
    if (previous != null) {
      index(previous, false);
    }
    if (value != null) {
      index(value, true);
    }
  }

  /** The record of {@code subject} holding {@code role} on {@code resource}, as it is written. */
  public static RoleBinding binding(
      Resource resource, Role role, String subject, String grantedBy, long grantedAtMillis) {
    return RoleBinding.newBuilder()
        .setSubject(subject)
        .setResource(resource.toString())
        .setRole(role.label())
        .setGrantedBy(grantedBy)
        .setGrantedAt(grantedAtMillis)
        .build();
  }

  /**
   * Writes a binding and waits until Kafka has it; blocks, so never call it on an event loop.
   *
   * @throws KafkaException if it cannot be written in time
   */
  public RoleBinding grant(Resource resource, Role role, String subject, String grantedBy) {
    RoleBinding binding = binding(resource, role, subject, grantedBy, System.currentTimeMillis());
    String key = key(resource, role, subject);
    write(key, binding);
    apply(key, binding);
    return binding;
  }

  /**
   * Writes the tombstone of a binding and waits until Kafka has it; blocks.
   *
   * @return true if the binding was held
   */
  public boolean revoke(Resource resource, Role role, String subject) {
    String key = key(resource, role, subject);
    boolean held = bindings.containsKey(key);
    write(key, null);
    apply(key, null);
    return held;
  }

  /** True while the view is reading. */
  public boolean isHealthy() {
    return feed == null || feed.isHealthy();
  }

  private void write(String key, RoleBinding binding) {
    if (producer == null) {
      throw new IllegalStateException("this view of the role bindings is read-only");
    }
    try {
      producer
          .send(
              new ProducerRecord<>(
                  topic.name(), topic.key(key), binding == null ? null : topic.value(binding)))
          .get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted writing role binding " + key, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot write role binding " + key + ": " + e.getMessage(), e);
    }
  }

  private void index(RoleBinding binding, boolean add) {
    Resource resource = Resource.parse(binding.getResource());
    Role role = Role.parse(binding.getRole());
    bySubject
        .computeIfAbsent(binding.getSubject(), s -> new ConcurrentHashMap<>())
        .compute(
            resource,
            (r, roles) -> {
              EnumSet<Role> next = EnumSet.noneOf(Role.class);
              if (roles != null) {
                next.addAll(roles);
              }
              if (add) {
                next.add(role);
              } else {
                next.remove(role);
              }
              return next.isEmpty() ? null : Set.copyOf(next);
            });
  }

  private static List<RoleBinding> sorted(List<RoleBinding> bindings) {
    List<RoleBinding> result = new ArrayList<>(bindings);
    result.sort(
        Comparator.comparing(RoleBinding::getResource)
            .thenComparing(RoleBinding::getRole)
            .thenComparing(RoleBinding::getSubject));
    return result;
  }

  @Override
  public void close() {
    if (feed != null) {
      feed.close();
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(10));
    }
  }
}
