package dua.producer;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Subject pseudonyms: HMAC-SHA256 of the raw id under the subject key, as 64 hex characters.
 *
 * <p>The one normalization of every dua SDK: a string is hashed exactly as given (UTF-8, no
 * trimming) and refused when empty or only White_Space ({@code empty}) or when it holds a lone
 * surrogate ({@code invalid_unicode}); an integer as its decimal text (a {@code long}; a
 * {@code BigInteger} outside it is {@code out_of_range}); a UUID as its lower-case text.
 */
final class Pseudonyms {
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
  private final SecretKeySpec key;

  Pseudonyms(String key) {
    this(key.getBytes(StandardCharsets.UTF_8));
  }

  Pseudonyms(byte[] key) {
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  /** One initialized Mac per thread: getting and keying one costs more than the hash itself. */
  private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

  String pseudonym(Object rawId) {
    String raw = subjectText(rawId);
    if (Validation.isBlank(raw)) {
      throw new InvalidEventException("subject", "empty", "must not be empty");
    }
    return HexFormat.of().formatHex(macs.get().doFinal(utf8(raw))); // doFinal also resets it
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new DuaException("HmacSHA256 is not available", e);
    }
  }

  static String subjectText(Object rawId) {
    if (rawId instanceof String s) {
      return s;
    }
    if (rawId instanceof Long || rawId instanceof Integer || rawId instanceof Short) {
      return rawId.toString();
    }
    if (rawId instanceof BigInteger big) {
      if (big.compareTo(LONG_MIN) < 0 || big.compareTo(LONG_MAX) > 0) {
        throw new InvalidEventException(
            "subject", "out_of_range", "is an integer outside the signed 64-bit range");
      }
      return big.toString();
    }
    if (rawId instanceof UUID uuid) {
      return uuid.toString().toLowerCase(Locale.ROOT);
    }
    String type = rawId == null ? "null" : rawId.getClass().getSimpleName();
    throw new InvalidEventException("subject", "wrong_type", "must be a string or an integer, got " + type);
  }

  /** Strict UTF-8: Java's encoder would write '?' for a lone surrogate. */
  private static byte[] utf8(String raw) {
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < raw.length() && Character.isLowSurrogate(raw.charAt(i + 1))) {
          i++;
          continue;
        }
        throw lone();
      }
      if (Character.isLowSurrogate(c)) {
        throw lone();
      }
    }
    return raw.getBytes(StandardCharsets.UTF_8);
  }

  private static InvalidEventException lone() {
    return new InvalidEventException(
        "subject", "invalid_unicode", "holds a lone surrogate (not Unicode text)");
  }
}
