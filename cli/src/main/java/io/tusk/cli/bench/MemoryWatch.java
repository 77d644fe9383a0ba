package io.tusk.cli.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The peak memory of a benchmark's services while it runs: the heap left after each garbage
 * collection of this JVM (the broker and every service the bench runs in it), and what a partition
 * service reports on its {@code /metrics} of RocksDB: the shared, bounded block cache ({@code
 * tusk_rocksdb_memory_*}) and the memtables of its stores (Kafka Streams' {@code
 * size-all-mem-tables}), which come on top of that bound.
 */
final class MemoryWatch implements AutoCloseable {
  static final String CACHE_USAGE = "tusk_rocksdb_memory_usage_bytes";
  static final String CACHE_CAPACITY = "tusk_rocksdb_memory_capacity_bytes";
  static final String MEMTABLES = "kafka_stream_state_size_all_mem_tables";

  private static final long SCRAPE_SECONDS = 5;

  private final Set<String> heapPools =
      ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(pool -> pool.getType() == MemoryType.HEAP)
          .map(MemoryPoolMXBean::getName)
          .collect(Collectors.toSet());
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener onCollection = this::onCollection;
  private final ScheduledExecutorService scraper =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "tusk-bench-memory-watch");
            thread.setDaemon(true);
            return thread;
          });

  private long peakHeapAfterCollection;
  private long collections;
  private RocksDbMemory peakRocksDb = new RocksDbMemory(0, 0, 0);
  private int scrapes;
  private String scrapeError;

  private MemoryWatch() {}

  /** Starts noting the heap after every collection of this JVM. */
  static MemoryWatch start() {
    MemoryWatch watch = new MemoryWatch();
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (collector instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(watch.onCollection, null, null);
        watch.emitters.add(emitter);
      }
    }
    return watch;
  }

  /** Also reads the RocksDB figures from {@code metricsUrl} every few seconds. */
  void scrape(LineageLookups.LineageHttp http, String metricsUrl) {
    scraper.scheduleWithFixedDelay(
        () -> {
          try {
            HttpResponse<String> response =
                http.client()
                    .send(
                        http.request(URI.create(metricsUrl)).build(),
                        HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
              throw new IllegalStateException("GET /metrics answered " + response.statusCode());
            }
            RocksDbMemory reading = RocksDbMemory.parse(response.body());
            synchronized (this) {
              peakRocksDb = peakRocksDb.max(reading);
              scrapes++;
            }
          } catch (Exception e) {
            synchronized (this) {
              scrapeError = e.toString();
            }
          }
        },
        0,
        SCRAPE_SECONDS,
        TimeUnit.SECONDS);
  }

  private void onCollection(Notification notification, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
        notification.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    long heap = 0;
    for (var pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(pool.getKey())) {
        MemoryUsage usage = pool.getValue();
        heap += usage.getUsed();
      }
    }
    synchronized (this) {
      peakHeapAfterCollection = Math.max(peakHeapAfterCollection, heap);
      collections++;
    }
  }

  /** The largest heap left after a collection so far, in bytes. */
  synchronized long peakHeapAfterCollection() {
    return peakHeapAfterCollection;
  }

  /** The report's lines. */
  synchronized List<String> report() {
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            "memory    peak heap after a collection: %,d MiB (%,d collections; this JVM holds the"
                + " broker and every service; -Xmx %,d MiB)",
            mib(peakHeapAfterCollection), collections, mib(Runtime.getRuntime().maxMemory())));
    if (scrapes == 0) {
      lines.add(
          "memory    RocksDB: no reading of the partition service's /metrics: "
              + (scrapeError == null ? "none was taken" : scrapeError));
    } else {
      lines.add(
          String.format(
              "memory    RocksDB block cache (shared by every store of the JVM, bounded): peak %,d"
                  + " MiB of %,d MiB; memtables of the partition service's stores: peak %,d MiB"
                  + " (%,d readings)",
              mib(peakRocksDb.cacheUsage()),
              mib(peakRocksDb.cacheCapacity()),
              mib(peakRocksDb.memtables()),
              scrapes));
    }
    return lines;
  }

  private static long mib(long bytes) {
    return bytes / (1024 * 1024);
  }

  @Override
  public void close() {
    scraper.shutdownNow();
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(onCollection);
      } catch (ListenerNotFoundException e) {
        // Not registered: nothing to remove.
      }
    }
  }

  /**
   * One reading of a partition service's RocksDB memory, in bytes.
   *
   * @param cacheUsage what the shared block cache holds
   * @param cacheCapacity the cache's bound
   * @param memtables the memtables of every store, summed
   */
  record RocksDbMemory(long cacheUsage, long cacheCapacity, long memtables) {
    /** The figures in a Prometheus text exposition (absent ones read 0). */
    static RocksDbMemory parse(String exposition) {
      long usage = 0;
      long capacity = 0;
      long memtables = 0;
      for (String line : exposition.split("\n")) {
        if (isSample(line, CACHE_USAGE)) {
          usage += value(line);
        } else if (isSample(line, CACHE_CAPACITY)) {
          capacity += value(line);
        } else if (isSample(line, MEMTABLES)) {
          memtables += value(line);
        }
      }
      return new RocksDbMemory(usage, capacity, memtables);
    }

    /** The larger of each figure. */
    RocksDbMemory max(RocksDbMemory other) {
      return new RocksDbMemory(
          Math.max(cacheUsage, other.cacheUsage),
          Math.max(cacheCapacity, other.cacheCapacity),
          Math.max(memtables, other.memtables));
    }

    private static boolean isSample(String line, String name) {
      return line.startsWith(name)
          && line.length() > name.length()
          && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ');
    }

    private static long value(String line) {
      double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      return Double.isFinite(value) ? (long) value : 0;
    }
  }
}
