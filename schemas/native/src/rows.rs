//! Avro bodies → ClickHouse RowBinary rows, byte for byte, with no Python object per field.
//!
//! `RowBinary(program, columns)` reads bodies by a reader program (the same one `Reader`
//! takes) and writes, per body, the listed columns in RowBinary: what a table row is, as plain
//! data. Which field becomes which column, and how, is the caller's plan (`columns`); nothing
//! here knows a table. A body this code does not read exactly as the Python reader would, or
//! a value a column cannot hold as the Python mapping would write it, is *refused*: its index
//! is returned and the caller maps that message itself.
//!
//! Columns, each a tuple:
//! - `("field", kind, path)`: the value at `path` (field indexes from the root record,
//!   through records) written as `kind`;
//! - `("each", kind, path, item_path)`: an Array of `kind`, one item per element of the array
//!   at `path`, the value at `item_path` inside each element;
//! - `("partition",)`, `("offset",)`: Int32 / Int64 from the call's arguments.
//!
//! Kinds: `"string"` (a string, bytes or enum symbol; null refused), `"string_or_empty"`
//! (the same, null written as `''`), `"bool"`, `"int32"` (refused outside 32 bits), `"int64"`,
//! `"datetime64"` (DateTime64(3): milliseconds, refused outside `[min_ms, max_ms]` given at
//! construction), `"map"` (a map of strings as Map(String, String) in the body's order,
//! refused when a key repeats: a dict would keep one).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::binary::{Cursor, Malformed};
use crate::{nodes, Node, MAX_DEPTH};

/// A value read from a body, borrowing its strings.
enum Value<'b> {
    Null,
    Bool(bool),
    Long(i64),
    Text(&'b [u8]),
    Symbol(usize, usize),
    Millis(i64),
    List(Vec<Value<'b>>),
    Pairs(Vec<(&'b [u8], Value<'b>)>),
    Record(Vec<Value<'b>>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    TextOrEmpty,
    Bool,
    Int32,
    Int64,
    DateTime64,
    Map,
}

enum Column {
    Field(Kind, Vec<usize>),
    Each(Kind, Vec<usize>, Vec<usize>),
    Partition,
    Offset,
}

/// A reason a body is refused (the caller maps it itself).
struct Refused;

impl From<Malformed> for Refused {
    fn from(_: Malformed) -> Self {
        Refused
    }
}

#[pyclass(frozen, module = "dua_schemas_native")]
pub struct RowBinary {
    nodes: Vec<Node>,
    /// The symbols of each enum node, as bytes (empty for other nodes).
    symbols: Vec<Vec<Vec<u8>>>,
    columns: Vec<Column>,
    min_ms: i64,
    max_ms: i64,
}

fn kind(name: &str) -> PyResult<Kind> {
    Ok(match name {
        "string" => Kind::Text,
        "string_or_empty" => Kind::TextOrEmpty,
        "bool" => Kind::Bool,
        "int32" => Kind::Int32,
        "int64" => Kind::Int64,
        "datetime64" => Kind::DateTime64,
        "map" => Kind::Map,
        other => return Err(PyValueError::new_err(format!("unknown column kind {other:?}"))),
    })
}

fn column(entry: &Bound<'_, PyAny>) -> PyResult<Column> {
    let entry = entry.cast::<PyTuple>()?;
    let what: String = entry.get_item(0)?.extract()?;
    Ok(match (what.as_str(), entry.len()) {
        ("field", 3) => {
            let name: String = entry.get_item(1)?.extract()?;
            Column::Field(kind(&name)?, entry.get_item(2)?.extract()?)
        }
        ("each", 4) => {
            let name: String = entry.get_item(1)?.extract()?;
            Column::Each(kind(&name)?, entry.get_item(2)?.extract()?, entry.get_item(3)?.extract()?)
        }
        ("partition", 1) => Column::Partition,
        ("offset", 1) => Column::Offset,
        _ => return Err(PyValueError::new_err(format!("unknown column {what:?}"))),
    })
}

/// ClickHouse's unsigned LEB128 (lengths and counts in RowBinary).
#[inline]
fn put_count(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn put_text(out: &mut Vec<u8>, data: &[u8]) {
    put_count(out, data.len() as u64);
    out.extend_from_slice(data);
}

impl RowBinary {
    fn read<'b>(
        &self,
        node: usize,
        c: &mut Cursor<'b>,
        depth: usize,
    ) -> Result<Value<'b>, Refused> {
        if depth > MAX_DEPTH {
            return Err(Refused);
        }
        Ok(match &self.nodes[node] {
            Node::Null => Value::Null,
            Node::Boolean => {
                let byte = c.byte()?;
                c.pos += 1;
                Value::Bool(byte != 0)
            }
            Node::Long => Value::Long(c.long()?),
            Node::String => Value::Text(c.text()?.as_bytes()),
            Node::Bytes => Value::Text(c.sized()?),
            Node::TimestampMillis => Value::Millis(c.long()?),
            Node::Enum(symbols, _) => {
                let index = c.long()?;
                if index < 0 || index as u64 >= symbols.len() as u64 {
                    return Err(Refused);
                }
                Value::Symbol(node, index as usize)
            }
            Node::Nullable(item) => {
                let branch = c.byte()?;
                c.pos += 1;
                match branch {
                    0 => Value::Null,
                    2 => self.read(*item, c, depth + 1)?,
                    _ => return Err(Refused),
                }
            }
            Node::Array(item) => {
                let mut items = Vec::new();
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        items.push(self.read(*item, c, depth + 1)?);
                    }
                    count = c.block_count()?;
                }
                Value::List(items)
            }
            Node::Map(item) => {
                let mut pairs = Vec::new();
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        let key = c.text()?.as_bytes();
                        pairs.push((key, self.read(*item, c, depth + 1)?));
                    }
                    count = c.block_count()?;
                }
                Value::Pairs(pairs)
            }
            Node::Record(fields) => {
                let mut values = Vec::with_capacity(fields.len());
                for (_, field) in fields {
                    values.push(self.read(*field, c, depth + 1)?);
                }
                Value::Record(values)
            }
        })
    }

    fn text_of<'v>(&'v self, value: &'v Value<'_>) -> Option<&'v [u8]> {
        match value {
            Value::Text(data) => Some(data),
            Value::Symbol(node, index) => Some(&self.symbols[*node][*index]),
            _ => None,
        }
    }

    fn put(&self, kind: Kind, value: &Value<'_>, out: &mut Vec<u8>) -> Result<(), Refused> {
        match (kind, value) {
            (Kind::TextOrEmpty, Value::Null) => put_count(out, 0),
            (Kind::Text | Kind::TextOrEmpty, value) => {
                put_text(out, self.text_of(value).ok_or(Refused)?);
            }
            (Kind::Bool, Value::Bool(flag)) => out.push(u8::from(*flag)),
            (Kind::Int32, Value::Long(n)) => {
                let n = i32::try_from(*n).map_err(|_| Refused)?;
                out.extend_from_slice(&n.to_le_bytes());
            }
            (Kind::Int64, Value::Long(n)) => out.extend_from_slice(&n.to_le_bytes()),
            (Kind::DateTime64, Value::Millis(ms)) => {
                if *ms < self.min_ms || *ms > self.max_ms {
                    return Err(Refused);
                }
                out.extend_from_slice(&ms.to_le_bytes());
            }
            (Kind::Map, Value::Pairs(pairs)) => {
                for (at, (key, _)) in pairs.iter().enumerate() {
                    if pairs[..at].iter().any(|(seen, _)| seen == key) {
                        return Err(Refused);
                    }
                }
                put_count(out, pairs.len() as u64);
                for (key, value) in pairs {
                    put_text(out, key);
                    put_text(out, self.text_of(value).ok_or(Refused)?);
                }
            }
            _ => return Err(Refused),
        }
        Ok(())
    }

    /// One body's row appended to `out` (left as it was when refused).
    fn row(
        &self,
        body: &[u8],
        start: usize,
        partition: i32,
        offset: i64,
        out: &mut Vec<u8>,
    ) -> Result<(), Refused> {
        let mut cursor = Cursor::new(body, start);
        let record = self.read(0, &mut cursor, 0)?;
        if cursor.pos != body.len() {
            return Err(Refused);
        }
        let mark = out.len();
        let written = self.columns.iter().try_for_each(|column| match column {
            Column::Field(kind, path) => self.put(*kind, at(&record, path)?, out),
            Column::Each(kind, path, item_path) => {
                let Value::List(items) = at(&record, path)? else {
                    return Err(Refused);
                };
                put_count(out, items.len() as u64);
                items.iter().try_for_each(|item| self.put(*kind, at(item, item_path)?, out))
            }
            Column::Partition => {
                out.extend_from_slice(&partition.to_le_bytes());
                Ok(())
            }
            Column::Offset => {
                out.extend_from_slice(&offset.to_le_bytes());
                Ok(())
            }
        });
        if written.is_err() {
            out.truncate(mark);
        }
        written
    }
}

/// The value at `path` (record field indexes) inside `value`.
fn at<'v, 'b>(value: &'v Value<'b>, path: &[usize]) -> Result<&'v Value<'b>, Refused> {
    let mut here = value;
    for &index in path {
        let Value::Record(fields) = here else {
            return Err(Refused);
        };
        here = fields.get(index).ok_or(Refused)?;
    }
    Ok(here)
}

#[pymethods]
impl RowBinary {
    /// `program`: a reader program (node 0 the root record); `columns`: the row's columns
    /// (see the module's docs); `min_ms`/`max_ms`: the range datetime64 columns accept.
    #[new]
    pub fn new(
        py: Python<'_>,
        program: &Bound<'_, PyList>,
        columns: &Bound<'_, PyList>,
        min_ms: i64,
        max_ms: i64,
    ) -> PyResult<Self> {
        let nodes = nodes(py, program)?;
        let symbols = nodes
            .iter()
            .map(|node| match node {
                Node::Enum(symbols, _) => symbols
                    .iter()
                    .map(|s| Ok(s.bind(py).to_str()?.as_bytes().to_vec()))
                    .collect::<PyResult<Vec<_>>>(),
                _ => Ok(Vec::new()),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let columns = columns.iter().map(|c| column(&c)).collect::<PyResult<Vec<_>>>()?;
        Ok(RowBinary { nodes, symbols, columns, min_ms, max_ms })
    }

    /// `(rows, refused)`: the RowBinary rows of the payloads in order, each a body after
    /// `header`, and the indexes of the payloads refused (left out of `rows`): not bytes, not
    /// starting with `header`, or not read or written as above. `offsets[i]` is payload i's.
    fn rows<'py>(
        &self,
        py: Python<'py>,
        payloads: &Bound<'py, PyList>,
        header: &[u8],
        partition: i32,
        offsets: Vec<i64>,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<usize>)> {
        if offsets.len() != payloads.len() {
            return Err(PyValueError::new_err("one offset per payload"));
        }
        let mut out = Vec::with_capacity(payloads.len() * 256);
        let mut refused = Vec::new();
        for (index, payload) in payloads.iter().enumerate() {
            let body = match payload.cast::<PyBytes>() {
                Ok(bytes) => bytes.as_bytes(),
                Err(_) => {
                    refused.push(index);
                    continue;
                }
            };
            if !body.starts_with(header)
                || self.row(body, header.len(), partition, offsets[index], &mut out).is_err()
            {
                refused.push(index);
            }
        }
        Ok((PyBytes::new(py, &out), refused))
    }
}

#[cfg(test)]
mod tests {
    use super::{put_count, put_text};

    #[test]
    fn counts_are_unsigned_leb128() {
        let mut out = Vec::new();
        put_count(&mut out, 0);
        put_count(&mut out, 127);
        put_count(&mut out, 128);
        put_count(&mut out, 300);
        assert_eq!(out, [0x00, 0x7F, 0x80, 0x01, 0xAC, 0x02]);
    }

    #[test]
    fn text_is_its_length_then_its_bytes() {
        let mut out = Vec::new();
        put_text(&mut out, "名前".as_bytes());
        assert_eq!(out[0], 6);
        assert_eq!(&out[1..], "名前".as_bytes());
    }
}
