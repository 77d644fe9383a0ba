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
import java.util.concurrent.ExecutionException;
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
 * service in a JVM of its own reports on its {@code /metrics}: its heap (Micrometer's JVM meters:
 * in use, its bound, the live data left after old-generation collections, the pauses) and its
 * RocksDB memory, that is the shared, bounded block cache ({@code tusk_rocksdb_memory_*}) and the
 * memtables of its stores (Kafka Streams' {@code size-all-mem-tables}), which come on top of that
 * bound.
 */
final class MemoryWatch implements AutoCloseable {
  static final String CACHE_USAGE = "tusk_rocksdb_memory_usage_bytes";
  static final String CACHE_CAPACITY = "tusk_rocksdb_memory_capacity_bytes";
  static final String MEMTABLES = "kafka_stream_state_size_all_mem_tables";
  static final String HEAP_USED = "jvm_memory_used_bytes";
  static final String HEAP_MAX = "jvm_memory_max_bytes";
  static final String LIVE_DATA = "jvm_gc_live_data_size_bytes";
  static final String GC_PAUSES = "jvm_gc_pause_seconds_sum";

  /**
   * A common Prometheus interval. Rendering a partition service's thousands of Kafka Streams meters
   * takes a Vert.x worker a noticeable share of a core (JFR, 2,000,000-member first commit), so the
   * bench reads no more often than an operator's server would.
   */
  private static final long SCRAPE_SECONDS = 15;

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

  private Runnable scraped;
  private long peakHeapAfterCollection;
  private long collections;
  private ServiceMemory peakService = ServiceMemory.NONE;
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

  /**
   * Also reads a service's heap and RocksDB figures from {@code metricsUrl} every few seconds, and
   * once more on {@link #readLast}.
   */
  void scrape(LineageLookups.LineageHttp http, String metricsUrl) {
    scraped = () -> read(http, metricsUrl);
    scraper.scheduleWithFixedDelay(scraped, 0, SCRAPE_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Reads the scraped service once more now, while it still runs: a run shorter than the interval
   * would otherwise have only the reading taken as it started, before its stores opened.
   */
  void readLast() throws InterruptedException, ExecutionException {
    if (scraped != null) {
      scraper.submit(scraped).get();
    }
  }

  private void read(LineageLookups.LineageHttp http, String metricsUrl) {
    try {
      HttpResponse<String> response =
          http.client()
              .send(
                  http.request(URI.create(metricsUrl)).build(),
                  HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("GET /metrics answered " + response.statusCode());
      }
      ServiceMemory reading = ServiceMemory.parse(response.body());
      synchronized (this) {
        peakService = peakService.max(reading);
        scrapes++;
      }
    } catch (Exception e) {
      synchronized (this) {
        scrapeError = e.toString();
      }
    }
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

  /**
   * The largest of each figure the scraped service reported; {@link ServiceMemory#NONE} if none.
   */
  synchronized ServiceMemory peakService() {
    return scrapes == 0 ? ServiceMemory.NONE : peakService;
  }

  /**
   * The report's lines.
   *
   * @param thisJvm what this JVM runs, for the heap line
   */
  synchronized List<String> report(String thisJvm) {
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            "memory    this JVM (%s): peak heap after a collection %,d MiB (%,d collections;"
                + " -Xmx %,d MiB)",
            thisJvm,
            mib(peakHeapAfterCollection),
            collections,
            mib(Runtime.getRuntime().maxMemory())));
    if (scrapes == 0) {
      lines.add(
          "memory    partition service: no reading of its /metrics: "
              + (scrapeError == null ? "none was taken" : scrapeError));
    } else {
      lines.add(
          String.format(
              "memory    partition service heap (its own JVM): bound %,d MiB; peak in use %,d MiB"
                  + " (garbage included); peak live data after an old-generation collection %,d"
                  + " MiB; collector pauses %.1f s in all (%,d readings)",
              mib(peakService.heapMax()),
              mib(peakService.heapUsed()),
              mib(peakService.liveData()),
              peakService.gcPauseSeconds(),
              scrapes));
      lines.add(
          String.format(
              "memory    partition service RocksDB: block cache (shared by its stores, bounded)"
                  + " peak %,d MiB of %,d MiB; memtables peak %,d MiB over %,d stores (each may"
                  + " hold Kafka Streams' 3 x 16 MiB)",
              mib(peakService.cacheUsage()),
              mib(peakService.cacheCapacity()),
              mib(peakService.memtables()),
              peakService.stores()));
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
   * One reading of a service's memory from its {@code /metrics}, in bytes (pauses in seconds).
   *
   * @param heapUsed its heap pools in use, summed
   * @param heapMax its heap bound (the pools' maxima that are defined, summed)
   * @param liveData the old generation left after the last collection that shrank it
   * @param gcPauseSeconds the collector's pauses since the service started
   * @param cacheUsage what the shared block cache holds
   * @param cacheCapacity the cache's bound
   * @param memtables the memtables of every store, summed
   * @param stores the stores reporting memtables
   */
  record ServiceMemory(
      long heapUsed,
      long heapMax,
      long liveData,
      double gcPauseSeconds,
      long cacheUsage,
      long cacheCapacity,
      long memtables,
      int stores) {
    static final ServiceMemory NONE = new ServiceMemory(0, 0, 0, 0, 0, 0, 0, 0);

    /** The figures in a Prometheus text exposition (absent ones read 0). */
    static ServiceMemory parse(String exposition) {
      long heapUsed = 0;
      long heapMax = 0;
      long liveData = 0;
      double pauses = 0;
      long usage = 0;
      long capacity = 0;
      long memtables = 0;
      int stores = 0;
      for (String line : exposition.split("\n")) {
        if (isSample(line, HEAP_USED) && line.contains("area=\"heap\"")) {
          heapUsed += value(line);
        } else if (isSample(line, HEAP_MAX) && line.contains("area=\"heap\"")) {
          // G1 leaves its young pools' maxima undefined (-1): only the defined ones add up.
          heapMax += Math.max(0, value(line));
        } else if (isSample(line, LIVE_DATA)) {
          liveData += value(line);
        } else if (isSample(line, GC_PAUSES)) {
          pauses += number(line);
        } else if (isSample(line, CACHE_USAGE)) {
          usage += value(line);
        } else if (isSample(line, CACHE_CAPACITY)) {
          capacity += value(line);
        } else if (isSample(line, MEMTABLES)) {
          memtables += value(line);
          stores++;
        }
      }
      return new ServiceMemory(
          heapUsed, heapMax, liveData, pauses, usage, capacity, memtables, stores);
    }

    /** The larger of each figure. */
    ServiceMemory max(ServiceMemory other) {
      return new ServiceMemory(
          Math.max(heapUsed, other.heapUsed),
          Math.max(heapMax, other.heapMax),
          Math.max(liveData, other.liveData),
          Math.max(gcPauseSeconds, other.gcPauseSeconds),
          Math.max(cacheUsage, other.cacheUsage),
          Math.max(cacheCapacity, other.cacheCapacity),
          Math.max(memtables, other.memtables),
          Math.max(stores, other.stores));
    }

    private static boolean isSample(String line, String name) {
      return line.startsWith(name)
          && line.length() > name.length()
          && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ');
    }

    private static long value(String line) {
      return (long) number(line);
    }

    private static double number(String line) {
      double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      return Double.isFinite(value) ? value : 0;
    }
  }
}
