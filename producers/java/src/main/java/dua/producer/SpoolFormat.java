package dua.producer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The spool segment format shared by every dua SDK:
 *
 * <pre>
 * record := length (u32 BE, of body) | crc32(body) (u32 BE) | body
 * body   := topic length (u16 BE) | topic (UTF-8) | key length (u16 BE) | key | value
 * </pre>
 */
final class SpoolFormat {
  static final int HEADER = 8;
  static final long MAX_BODY = 16L * 1024 * 1024;

  private SpoolFormat() {}

  record SpoolRecord(String topic, byte[] key, byte[] value, long end) {}

  /** Where a scan stopped; {@code reason} is null when clean. */
  record ScanEnd(long offset, boolean clean, String reason) {}

  record Scan(List<SpoolRecord> records, ScanEnd end) {}

  static byte[] frame(String topic, byte[] key, byte[] value) {
    byte[] name = topic.getBytes(StandardCharsets.UTF_8);
    int bodyLength = 2 + name.length + 2 + key.length + value.length;
    ByteBuffer body = ByteBuffer.allocate(bodyLength);
    body.putShort((short) name.length).put(name).putShort((short) key.length).put(key).put(value);
    CRC32 crc = new CRC32();
    crc.update(body.array());
    return ByteBuffer.allocate(HEADER + bodyLength)
        .putInt(bodyLength).putInt((int) crc.getValue()).put(body.array()).array();
  }

  static Scan scan(byte[] data, int start) {
    List<SpoolRecord> records = new ArrayList<>();
    int offset = start;
    ByteBuffer buf = ByteBuffer.wrap(data);
    while (offset + HEADER <= data.length) {
      long length = Integer.toUnsignedLong(buf.getInt(offset));
      long crc = Integer.toUnsignedLong(buf.getInt(offset + 4));
      long end = offset + HEADER + length;
      if (length > MAX_BODY || end > data.length) {
        return new Scan(records, new ScanEnd(offset, false, "torn_record"));
      }
      CRC32 check = new CRC32();
      check.update(data, offset + HEADER, (int) length);
      if (check.getValue() != crc) {
        return new Scan(records, new ScanEnd(offset, false, "checksum_mismatch"));
      }
      SpoolRecord parsed = parse(buf, offset + HEADER, (int) end);
      if (parsed == null) {
        return new Scan(records, new ScanEnd(offset, false, "bad_body"));
      }
      records.add(parsed);
      offset = (int) end;
    }
    if (offset == data.length) {
      return new Scan(records, new ScanEnd(offset, true, null));
    }
    return new Scan(records, new ScanEnd(offset, false, "torn_header"));
  }

  private static SpoolRecord parse(ByteBuffer buf, int bodyStart, int end) {
    if (bodyStart + 2 > end) {
      return null;
    }
    int topicLength = Short.toUnsignedInt(buf.getShort(bodyStart));
    int topicStart = bodyStart + 2;
    if (topicStart + topicLength + 2 > end) {
      return null;
    }
    String topic;
    try {
      topic = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(buf.array(), topicStart, topicLength)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    int keyLength = Short.toUnsignedInt(buf.getShort(topicStart + topicLength));
    int keyStart = topicStart + topicLength + 2;
    if (keyStart + keyLength > end) {
      return null;
    }
    byte[] key = new byte[keyLength];
    System.arraycopy(buf.array(), keyStart, key, 0, keyLength);
    byte[] value = new byte[end - keyStart - keyLength];
    System.arraycopy(buf.array(), keyStart + keyLength, value, 0, value.length);
    return new SpoolRecord(topic, key, value, end);
  }
}
