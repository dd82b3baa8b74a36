//! Avro's binary encoding of longs and sized values, and the civil-date arithmetic of
//! timestamp-millis: plain Rust, no Python, so it is tested with `cargo test`.

use std::fmt;

/// Bytes not read, or a value not written, the way the Python code would (the caller then
/// leaves it to fastavro). Becomes a `ValueError` in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Malformed {}

pub const ENDS_EARLY: Malformed = Malformed("the body ends early");

// datetime's range in seconds from the epoch: 0001-01-01T00:00:00 to 9999-12-31T23:59:59
pub const MIN_SECOND: i64 = -62_135_596_800;
pub const MAX_SECOND: i64 = 253_402_300_799;

/// A position in an Avro body.
pub struct Cursor<'b> {
    pub b: &'b [u8],
    pub pos: usize,
}

impl<'b> Cursor<'b> {
    pub fn new(b: &'b [u8], pos: usize) -> Self {
        Cursor { b, pos }
    }

    #[inline]
    pub fn byte(&self) -> Result<u8, Malformed> {
        self.b.get(self.pos).copied().ok_or(ENDS_EARLY)
    }

    /// An Avro int/long: a base-128 varint, zig-zag decoded.
    #[inline]
    pub fn long(&mut self) -> Result<i64, Malformed> {
        let first = self.byte()?;
        if first < 0x80 {
            self.pos += 1;
            let n = first as i64;
            return Ok((n >> 1) ^ -(n & 1));
        }
        // fastavro keeps 64 bits and drops the rest: wider values are left to it
        let mut n: u128 = 0;
        let mut shift: u32 = 0;
        loop {
            let byte = self.byte()?;
            self.pos += 1;
            n |= ((byte & 0x7F) as u128) << shift;
            if byte < 0x80 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(Malformed("varint longer than 10 bytes"));
            }
        }
        if n >> 64 != 0 {
            return Err(Malformed("varint wider than 64 bits"));
        }
        let n = n as u64;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// The bytes of a string or bytes value (its length first).
    #[inline]
    pub fn sized(&mut self) -> Result<&'b [u8], Malformed> {
        let size = self.long()?;
        if size < 0 {
            return Err(Malformed("negative length"));
        }
        let start = self.pos;
        let end = start.checked_add(size as usize).ok_or(ENDS_EARLY)?;
        if end > self.b.len() {
            return Err(ENDS_EARLY);
        }
        self.pos = end;
        Ok(&self.b[start..end])
    }

    /// A string value, strict UTF-8 as `bytes.decode()` (Rust and Python refuse the same).
    #[inline]
    pub fn text(&mut self) -> Result<&'b str, Malformed> {
        std::str::from_utf8(self.sized()?).map_err(|_| Malformed("invalid UTF-8"))
    }

    /// The item count of an array or map block; 0 ends it.
    pub fn block_count(&mut self) -> Result<usize, Malformed> {
        let count = self.long()?;
        let count = if count < 0 {
            self.long()?; // the block's size in bytes: fastavro reads, then ignores it
            count.checked_neg().ok_or(Malformed("block count"))?
        } else {
            count
        };
        // more items than bytes left: only zero-width items could fit; left to fastavro
        if count as u64 > (self.b.len() - self.pos.min(self.b.len())) as u64 {
            return Err(Malformed("block of more items than bytes"));
        }
        Ok(count as usize)
    }
}

/// An Avro int/long: zig-zag, then a base-128 varint.
#[inline]
pub fn put_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A string or bytes value: its length, then the bytes.
#[inline]
pub fn put_sized(out: &mut Vec<u8>, data: &[u8]) {
    put_long(out, data.len() as i64);
    out.extend_from_slice(data);
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (H. Hinnant's).
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A UTC moment as datetime's fields, to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub microsecond: u32,
}

/// The UTC moment of a timestamp-millis, or None outside datetime's range (Python's
/// `OverflowError`, as fastavro's `epoch + timedelta(...)` raises).
pub fn civil_from_millis(ms: i64) -> Option<Civil> {
    let second = ms.div_euclid(1000);
    if !(MIN_SECOND..=MAX_SECOND).contains(&second) {
        return None;
    }
    let (year, month, day) = civil_from_days(second.div_euclid(86_400));
    let of_day = second.rem_euclid(86_400);
    Some(Civil {
        year: year as i32,
        month,
        day,
        hour: (of_day / 3600) as u8,
        minute: (of_day / 60 % 60) as u8,
        second: (of_day % 60) as u8,
        microsecond: ms.rem_euclid(1000) as u32 * 1000,
    })
}

/// Whether a timestamp-millis is within datetime's range.
pub fn millis_in_range(ms: i64) -> bool {
    (MIN_SECOND..=MAX_SECOND).contains(&ms.div_euclid(1000))
}

/// Epoch milliseconds (floored, as `// timedelta(milliseconds=1)`) of a UTC moment given as
/// datetime's fields and a UTC offset in microseconds.
pub fn millis_from_civil(civil: Civil, offset_us: i64) -> i64 {
    let days = days_from_civil(i64::from(civil.year), i64::from(civil.month), i64::from(civil.day));
    let seconds = days * 86_400
        + i64::from(civil.hour) * 3600
        + i64::from(civil.minute) * 60
        + i64::from(civil.second);
    let micros = seconds * 1_000_000 + i64::from(civil.microsecond) - offset_us;
    micros.div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, value);
        out
    }

    #[test]
    fn longs_are_zigzag_varints() {
        assert_eq!(encoded(0), [0x00]);
        assert_eq!(encoded(-1), [0x01]);
        assert_eq!(encoded(1), [0x02]);
        assert_eq!(encoded(-64), [0x7f]);
        assert_eq!(encoded(64), [0x80, 0x01]);
        assert_eq!(encoded(i64::MAX), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(encoded(i64::MIN), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    }

    #[test]
    fn longs_read_back_as_written() {
        for value in [0, 1, -1, 63, -64, 64, 8191, -8192, 1 << 40, i64::MAX, i64::MIN] {
            let body = encoded(value);
            let mut cursor = Cursor::new(&body, 0);
            assert_eq!(cursor.long(), Ok(value));
            assert_eq!(cursor.pos, body.len());
        }
    }

    #[test]
    fn varints_past_64_bits_or_10_bytes_are_refused() {
        let wide = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03];
        assert_eq!(Cursor::new(&wide, 0).long(), Err(Malformed("varint wider than 64 bits")));
        let long = [0x80; 11];
        assert_eq!(Cursor::new(&long, 0).long(), Err(Malformed("varint longer than 10 bytes")));
    }

    #[test]
    fn truncated_input_ends_early() {
        assert_eq!(Cursor::new(&[], 0).long(), Err(ENDS_EARLY));
        assert_eq!(Cursor::new(&[0x80], 0).long(), Err(ENDS_EARLY));
        assert_eq!(Cursor::new(&[0x06, b'a', b'b'], 0).sized(), Err(ENDS_EARLY));
        assert_eq!(Cursor::new(&[0x02], 0).byte(), Ok(0x02));
        assert_eq!(Cursor::new(&[0x02], 1).byte(), Err(ENDS_EARLY));
    }

    #[test]
    fn sized_values_are_read_by_their_length() {
        let mut body = Vec::new();
        put_sized(&mut body, "個人".as_bytes());
        put_sized(&mut body, b"");
        body.push(0x7f);
        let mut cursor = Cursor::new(&body, 0);
        assert_eq!(cursor.text(), Ok("個人"));
        assert_eq!(cursor.sized(), Ok(&b""[..]));
        assert_eq!(cursor.sized(), Err(Malformed("negative length")));
    }

    #[test]
    fn strings_are_strict_utf8() {
        let mut body = Vec::new();
        put_sized(&mut body, &[0xed, 0xa0, 0x80]); // a UTF-8 encoded surrogate
        assert_eq!(Cursor::new(&body, 0).text(), Err(Malformed("invalid UTF-8")));
    }

    #[test]
    fn block_counts_take_negative_counts_with_a_size() {
        // -2 items, then a block size of 4 bytes, then room for the items
        let body = [0x03, 0x08, 0, 0, 0, 0];
        let mut cursor = Cursor::new(&body, 0);
        assert_eq!(cursor.block_count(), Ok(2));
        assert_eq!(cursor.pos, 2);
        assert_eq!(
            Cursor::new(&[0x0a, 0], 0).block_count(),
            Err(Malformed("block of more items than bytes"))
        );
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1), MIN_SECOND / 86_400);
        for days in (-800_000..3_000_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, i64::from(month), i64::from(day)), days);
        }
    }

    #[test]
    fn timestamps_are_utc_fields_within_datetime_range() {
        let moment = civil_from_millis(1_793_491_200_123).unwrap();
        assert_eq!(
            moment,
            Civil {
                year: 2026,
                month: 11,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                microsecond: 123_000
            }
        );
        assert_eq!(millis_from_civil(moment, 0), 1_793_491_200_123);
        // +09:00: the same fields are nine hours earlier in UTC
        assert_eq!(millis_from_civil(moment, 9 * 3_600_000_000), 1_793_458_800_123);
        let before = civil_from_millis(-1).unwrap();
        assert_eq!((before.year, before.second, before.microsecond), (1969, 59, 999_000));
        assert_eq!(civil_from_millis(MAX_SECOND * 1000 + 999).map(|c| c.year), Some(9999));
        assert_eq!(civil_from_millis((MAX_SECOND + 1) * 1000), None);
        assert_eq!(civil_from_millis(MIN_SECOND * 1000 - 1), None);
        assert!(millis_in_range(0) && !millis_in_range(i64::MIN));
    }
}
