package dua.producer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A bounded queue drained by one background worker. Live: messages go to the Kafka producer;
 * one it cannot take, or whose delivery fails, goes to the spool and switches to spooling.
 * Spooling: messages go to the spool behind the ones there while the worker replays it; once
 * empty, live again. A full queue sends the message to the spool at once: emit never blocks.
 */
final class Delivery {
  private static final Logger LOG = Logger.getLogger("dua.producer");
  private static final Message STOP = new Message("", new byte[0], new byte[0]);

  record Message(String topic, byte[] key, byte[] value) {}

  private final Producer<byte[], byte[]> producer;
  private final Spool spool;
  private final Metrics metrics;
  private final BlockingQueue<Message> queue;
  private final Duration replayTimeout;
  /** Messages handed to {@link #send} and not yet acknowledged by Kafka nor in the spool. */
  private final AtomicLong unsettled = new AtomicLong();
  private final Object settledMonitor = new Object();
  private final Thread worker;
  private volatile boolean spooling;

  Delivery(Producer<byte[], byte[]> producer, Spool spool, Metrics metrics, int queueSize, Duration replayTimeout) {
    this.producer = producer;
    this.spool = spool;
    this.metrics = metrics;
    this.queue = new ArrayBlockingQueue<>(queueSize);
    this.replayTimeout = replayTimeout;
    this.spooling = spool.pending() > 0; // left-overs of an earlier run go first
    this.worker = new Thread(this::run, "dua-delivery");
    worker.setDaemon(true);
    worker.start();
  }

  void send(String topic, byte[] key, byte[] value) {
    Message m = new Message(topic, key, value);
    unsettled.incrementAndGet();
    if (!queue.offer(m)) {
      enterSpooling("the SDK's queue is full");
      toSpool(m);
    }
  }

  /** Messages not yet acknowledged by Kafka nor in the spool. */
  long unsettled() {
    return unsettled.get();
  }

  /**
   * Waits until every message is acknowledged or spooled, or {@code deadlineNanos} (of {@link
   * System#nanoTime}) passes; never calls the producer's unbounded {@code flush()}.
   */
  long awaitSettled(long deadlineNanos) throws InterruptedException {
    synchronized (settledMonitor) {
      while (unsettled.get() > 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          break;
        }
        TimeUnit.NANOSECONDS.timedWait(settledMonitor, left);
      }
    }
    return unsettled.get();
  }

  private void settled() {
    if (unsettled.decrementAndGet() == 0) {
      synchronized (settledMonitor) {
        settledMonitor.notifyAll();
      }
    }
  }

  boolean spooling() {
    return spooling;
  }

  void stop(Duration timeout) throws InterruptedException {
    while (!queue.offer(STOP, 10, TimeUnit.MILLISECONDS)) {
      if (!worker.isAlive()) {
        break;
      }
    }
    worker.join(Math.max(1, timeout.toMillis()));
  }

  private void run() {
    long backoffMs = 100;
    while (true) {
      try {
        if (spooling) {
          List<Message> drained = new ArrayList<>();
          queue.drainTo(drained);
          boolean stop = false;
          for (Message m : drained) {
            if (m == STOP) {
              stop = true;
            } else {
              toSpool(m);
            }
          }
          if (stop) {
            return;
          }
          if (replayBatch()) {
            backoffMs = 100;
          } else {
            Message m = queue.poll(backoffMs, TimeUnit.MILLISECONDS);
            backoffMs = Math.min(backoffMs * 2, 5_000);
            if (m == STOP) {
              return;
            }
            if (m != null) {
              toSpool(m);
            }
          }
          continue;
        }
        Message m = queue.poll(100, TimeUnit.MILLISECONDS);
        if (m == STOP) {
          return;
        }
        if (m != null) {
          produce(m);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "dua: delivery worker error", e);
      }
    }
  }

  private void produce(Message m) {
    if (spooling) {
      toSpool(m);
      return;
    }
    try {
      producer.send(new ProducerRecord<>(m.topic(), m.key(), m.value()), (metadata, error) -> {
        if (error == null) {
          metrics.delivered.inc();
          settled();
        } else {
          metrics.failed.inc();
          enterSpooling(error.toString());
          toSpool(m);
        }
      });
    } catch (RuntimeException e) { // buffer full or no metadata within max.block.ms, or closed
      enterSpooling(e.toString());
      toSpool(m);
    }
  }

  /**
   * Sends one batch of spooled records and waits for them; true if the spool made progress.
   *
   * <p>The spool acknowledges a prefix of a segment. Kafka orders records per partition only, so
   * after a failure later records of the batch may have arrived: acknowledging only the prefix
   * would send those again. They are not: the failed ones are appended to the spool again and
   * the whole batch is acknowledged. Only when an outcome is unknown (no answer within the replay
   * timeout) or the spool cannot take them, the prefix rule applies (at least once).
   */
  private boolean replayBatch() {
    Spool.Batch batch;
    try {
      batch = spool.next(500);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "dua: cannot read the spool", e);
      return false;
    }
    if (batch == null) {
      spooling = false;
      LOG.info("dua: the audit spool is empty: events go to Kafka directly again");
      return true;
    }
    List<SpoolFormat.SpoolRecord> records = batch.records();
    Outcome[] outcomes = replayOutcomes(records);
    int prefix = 0;
    while (prefix < outcomes.length && outcomes[prefix] == Outcome.DELIVERED) {
      prefix++;
    }
    int delivered = 0;
    boolean unknown = false;
    for (Outcome outcome : outcomes) {
      delivered += outcome == Outcome.DELIVERED ? 1 : 0;
      unknown |= outcome == Outcome.UNKNOWN;
    }
    int settled = prefix;
    if (delivered > prefix && !unknown && requeueFailed(records, outcomes)) {
      settled = records.size();
    }
    int credited = settled == records.size() ? delivered : prefix;
    metrics.delivered.inc(credited); // before the spool shrinks: an empty spool's are counted
    metrics.replayed.inc(credited);
    try {
      spool.settle(batch, settled);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "dua: cannot write the spool's ack cursor", e);
    }
    return credited > 0;
  }

  private enum Outcome { DELIVERED, FAILED, UNKNOWN }

  private Outcome[] replayOutcomes(List<SpoolFormat.SpoolRecord> records) {
    Outcome[] outcomes = new Outcome[records.size()];
    java.util.Arrays.fill(outcomes, Outcome.FAILED); // not sent: a send that threw stops the batch
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try {
      for (SpoolFormat.SpoolRecord r : records) {
        sent.add(producer.send(new ProducerRecord<>(r.topic(), r.key(), r.value())));
      }
    } catch (RuntimeException e) {
      LOG.fine("dua: replay send refused: " + e);
    }
    long deadline = System.nanoTime() + replayTimeout.toNanos();
    for (int i = 0; i < sent.size(); i++) {
      try {
        sent.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        outcomes[i] = Outcome.DELIVERED;
      } catch (ExecutionException e) {
        outcomes[i] = Outcome.FAILED;
      } catch (TimeoutException e) {
        outcomes[i] = Outcome.UNKNOWN;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        for (int j = i; j < sent.size(); j++) {
          outcomes[j] = Outcome.UNKNOWN;
        }
        break;
      }
    }
    return outcomes;
  }

  /** Appends the records of the batch that did not arrive to the spool again; false if it cannot. */
  private boolean requeueFailed(List<SpoolFormat.SpoolRecord> records, Outcome[] outcomes) {
    for (int i = 0; i < records.size(); i++) {
      SpoolFormat.SpoolRecord r = records.get(i);
      if (outcomes[i] != Outcome.DELIVERED && !spool.append(r.topic(), r.key(), r.value())) {
        LOG.warning("dua: the spool cannot take failed replays again; some may be sent twice");
        return false;
      }
    }
    return true;
  }

  private void enterSpooling(String reason) {
    if (!spooling) {
      spooling = true;
      LOG.warning("dua: audit events go to the spool until Kafka takes them again: " + reason);
    }
  }

  /** Settles a live message by writing it to the spool (or dropping it, loudly, if it cannot). */
  private void toSpool(Message m) {
    try {
      if (spool.append(m.topic(), m.key(), m.value())) {
        metrics.spooled.inc();
      } else {
        metrics.dropped.inc();
        LOG.severe("dua: DROPPED an audit event: the spool is full or unwritable and Kafka does not take it");
      }
    } finally {
      settled();
    }
  }
}
