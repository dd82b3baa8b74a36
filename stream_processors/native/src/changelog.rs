//! The batch's changelog records: `TableState.drain_changes` made natively, with the JSON
//! orjson writes (Faust's `json` serializer), for the kinds table values are made of.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString};

const JSON_DEPTH: usize = 32;

/// `value` in JSON as orjson writes it (compact, UTF-8, its escapes), for the kinds table
/// values are made of: None, bool, int (64-bit), str, dict with str keys, list. False for
/// anything else (orjson, or `json` where orjson refuses, then writes it).
pub fn json(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> bool {
    if depth > JSON_DEPTH {
        return false;
    }
    if value.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(flag) = value.cast_exact::<PyBool>() {
        out.extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
    } else if let Ok(number) = value.cast_exact::<PyInt>() {
        let Ok(number) = number.extract::<i64>() else {
            return false;
        };
        out.extend_from_slice(number.to_string().as_bytes());
    } else if let Ok(text) = value.cast_exact::<PyString>() {
        let Ok(text) = text.to_str() else {
            return false;
        }; // lone surrogates: `json` writes them
        json_string(text, out);
    } else if let Ok(dict) = value.cast_exact::<PyDict>() {
        out.push(b'{');
        for (i, (key, item)) in dict.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let Ok(key) = key.cast_exact::<PyString>() else {
                return false;
            };
            let Ok(key) = key.to_str() else { return false };
            json_string(key, out);
            out.push(b':');
            if !json(&item, out, depth + 1) {
                return false;
            }
        }
        out.push(b'}');
    } else if let Ok(list) = value.cast_exact::<PyList>() {
        out.push(b'[');
        for (i, item) in list.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if !json(&item, out, depth + 1) {
                return false;
            }
        }
        out.push(b']');
    } else {
        return false;
    }
    true
}

fn json_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::json_string;

    fn quoted(text: &str) -> String {
        let mut out = Vec::new();
        json_string(text, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_orjson_escapes_them() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(quoted("q\"b\\"), "\"q\\\"b\\\\\"");
        assert_eq!(quoted("\u{8}\t\n\u{c}\r"), "\"\\b\\t\\n\\f\\r\"");
        assert_eq!(quoted("\u{1}\u{1f}"), "\"\\u0001\\u001f\"");
        assert_eq!(quoted("/ \u{7f} é \u{2028}"), "\"/ \u{7f} é \u{2028}\"");
    }
}
