package dua.producer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;

/**
 * A durable, bounded queue of messages Kafka did not take, in the directory layout every dua
 * SDK shares: {@code <n>.seg} segments (16-digit numbers) of {@link SpoolFormat} records,
 * {@code <n>.ack} cursors (bytes of the segment delivered, ASCII decimal) and {@code spool.lock},
 * locked (fcntl record lock, the one Python takes) while a process owns the directory.
 */
final class Spool implements AutoCloseable {
  private final Path directory;
  private final long maxBytes;
  private final long segmentBytes;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Deque<Long> sealed = new ArrayDeque<>();
  private FileChannel active;
  private long activeNumber = -1;
  private long activeSize;
  private long activeRecords;
  private long bytes;
  private long pending;

  Spool(Path directory, long maxBytes, long segmentBytes) {
    this.directory = directory;
    this.maxBytes = maxBytes;
    this.segmentBytes = segmentBytes;
    try {
      Files.createDirectories(directory);
      lockChannel = FileChannel.open(directory.resolve("spool.lock"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
      FileLock taken;
      try {
        taken = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        taken = null;
      }
      if (taken == null) {
        lockChannel.close();
        throw new DuaException("spool directory " + directory
            + " is in use by another process; give each process its own spool directory");
      }
      lock = taken;
      recover();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  synchronized long pending() {
    return pending;
  }

  synchronized long sizeBytes() {
    return bytes;
  }

  /** Appends one message; false when the spool is full or the disk refused it. */
  synchronized boolean append(String topic, byte[] key, byte[] value) {
    byte[] data = SpoolFormat.frame(topic, key, value);
    if (lockChannel == null || !lockChannel.isOpen() || bytes + data.length > maxBytes) {
      return false;
    }
    try {
      if (active == null || (activeSize > 0 && activeSize + data.length > segmentBytes)) {
        startSegment();
      }
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) {
        active.write(buf);
      }
    } catch (IOException e) {
      return false;
    }
    activeSize += data.length;
    activeRecords++;
    bytes += data.length;
    pending++;
    return true;
  }

  /** A batch of the oldest undelivered records (at most {@code limit}) and the segment they are in. */
  synchronized Batch next(int limit) throws IOException {
    if (sealed.isEmpty() && active != null && activeRecords > 0) {
      sealActive();
    }
    Long head = sealed.peekFirst();
    if (head == null) {
      return null;
    }
    byte[] data = Files.readAllBytes(segment(head));
    long cursor = readCursor(head);
    SpoolFormat.Scan scan = SpoolFormat.scan(data, (int) cursor);
    List<SpoolFormat.SpoolRecord> records = scan.records();
    if (records.isEmpty()) {
      delete(head, data.length);
      return next(limit);
    }
    return new Batch(head, new ArrayList<>(records.subList(0, Math.min(limit, records.size()))),
        records.size(), data.length);
  }

  /** The first {@code delivered} records of {@code batch} reached Kafka. */
  synchronized void settle(Batch batch, int delivered) throws IOException {
    if (delivered == 0) {
      return;
    }
    pending -= delivered;
    if (delivered == batch.remainingInSegment) {
      delete(batch.segment, batch.segmentSize);
      return;
    }
    Path ack = directory.resolve(String.format("%016d.ack", batch.segment));
    Path tmp = directory.resolve(String.format("%016d.ack.tmp", batch.segment));
    Files.writeString(tmp, Long.toString(batch.records.get(delivered - 1).end()), StandardCharsets.US_ASCII);
    Files.move(tmp, ack, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  record Batch(long segment, List<SpoolFormat.SpoolRecord> records, int remainingInSegment, long segmentSize) {}

  synchronized void sync() {
    try {
      if (active != null) {
        active.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      if (active != null) {
        active.force(false);
        active.close();
        if (activeRecords == 0) {
          Files.deleteIfExists(segment(activeNumber));
        }
        active = null;
      }
      if (lockChannel.isOpen()) {
        lock.release();
        lockChannel.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path segment(long number) {
    return directory.resolve(String.format("%016d.seg", number));
  }

  private void recover() throws IOException {
    List<Path> segments;
    try (Stream<Path> files = Files.list(directory)) {
      segments = files.filter(p -> p.getFileName().toString().matches("\\d+\\.seg")).sorted().toList();
    }
    for (Path path : segments) {
      long number = Long.parseLong(path.getFileName().toString().replace(".seg", ""));
      byte[] data = Files.readAllBytes(path);
      long cursor = readCursor(number);
      SpoolFormat.Scan scan = SpoolFormat.scan(data, 0);
      if (cursor != 0 && scan.records().stream().noneMatch(r -> r.end() == cursor)) {
        Files.deleteIfExists(directory.resolve(String.format("%016d.ack", number)));
      }
      long live = SpoolFormat.scan(data, (int) readCursor(number)).records().size();
      if (live == 0) {
        delete(number, 0);
        continue;
      }
      sealed.addLast(number);
      bytes += data.length;
      pending += live;
    }
  }

  private long readCursor(long number) {
    try {
      String text = Files.readString(directory.resolve(String.format("%016d.ack", number)), StandardCharsets.US_ASCII).strip();
      return text.isEmpty() ? 0 : Long.parseLong(text);
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  private void startSegment() throws IOException {
    sealActive();
    long number = Math.max(activeNumber, sealed.isEmpty() ? 0 : sealed.peekLast()) + 1;
    active = FileChannel.open(segment(number), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    activeNumber = number;
    activeSize = 0;
    activeRecords = 0;
  }

  private void sealActive() throws IOException {
    if (active == null) {
      return;
    }
    active.force(false);
    active.close();
    active = null;
    if (activeRecords > 0) {
      sealed.addLast(activeNumber);
    } else {
      Files.deleteIfExists(segment(activeNumber));
    }
  }

  private void delete(long number, long size) throws IOException {
    sealed.remove(number);
    bytes -= size;
    Files.deleteIfExists(segment(number));
    Files.deleteIfExists(directory.resolve(String.format("%016d.ack", number)));
  }
}
