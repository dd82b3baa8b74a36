//! Avro bodies → one ClickHouse Native block, column by column, with no Python object per field.
//!
//! `NativeBlock(program, columns, names, min_ms, max_ms)` reads bodies by a reader program
//! (the same one `Reader` takes) and writes the listed columns of all of them as one block in
//! ClickHouse's `Native` format: what a batch of table rows is, as plain data. Native, not
//! RowBinary: ClickHouse takes a column as it is instead of parsing each row's values in turn
//! (about 40% less time per insert into the audit tables, `docs/performance.md`). Which field
//! becomes which column, and how, is the caller's plan (`columns`); nothing here knows a
//! table. A body this code does not read exactly as the Python reader would, or a value a
//! column cannot hold as the Python mapping would write it, is *refused*: its index is
//! returned and the caller maps that message itself.
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
//!
//! The block names plain types (`String` where the table has `LowCardinality(String)`):
//! ClickHouse converts a Native column to its table column's type on insert.

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
pub struct NativeBlock {
    nodes: Vec<Node>,
    /// The symbols of each enum node, as bytes (empty for other nodes).
    symbols: Vec<Vec<Vec<u8>>>,
    columns: Vec<Column>,
    /// Each column's name and Native type, as the block's header writes them.
    headers: Vec<(String, String)>,
    min_ms: i64,
    max_ms: i64,
}

/// One column's data while a block is written: Native keeps an Array's (and a Map's) sizes,
/// a Map's keys and the values in streams of their own, written one after the other.
#[derive(Default)]
struct Stream {
    /// Cumulative item counts, one per row (Array and Map columns only).
    sizes: Vec<u64>,
    /// A Map's keys.
    keys: Vec<u8>,
    /// Values: the column's own, an Array's items, or a Map's values.
    data: Vec<u8>,
}

impl Stream {
    fn mark(&self) -> (usize, usize, usize) {
        (self.sizes.len(), self.keys.len(), self.data.len())
    }

    fn truncate(&mut self, (sizes, keys, data): (usize, usize, usize)) {
        self.sizes.truncate(sizes);
        self.keys.truncate(keys);
        self.data.truncate(data);
    }

    fn end_row(&mut self, items: usize) {
        let total = self.sizes.last().copied().unwrap_or(0);
        self.sizes.push(total + items as u64);
    }

    fn len(&self) -> usize {
        self.sizes.len() * 8 + self.keys.len() + self.data.len()
    }
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

/// The Native type of a kind's values.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text | Kind::TextOrEmpty => "String",
        Kind::Bool => "Bool",
        Kind::Int32 => "Int32",
        Kind::Int64 => "Int64",
        Kind::DateTime64 => "DateTime64(3, 'UTC')",
        Kind::Map => "Map(String, String)",
    }
}

fn column_type(column: &Column) -> String {
    match column {
        Column::Field(kind, _) => type_name(*kind).to_owned(),
        Column::Each(kind, _, _) => format!("Array({})", type_name(*kind)),
        Column::Partition => "Int32".to_owned(),
        Column::Offset => "Int64".to_owned(),
    }
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
            let item = kind(&name)?;
            if item == Kind::Map {
                return Err(PyValueError::new_err("an array of maps is not a column kind"));
            }
            Column::Each(item, entry.get_item(2)?.extract()?, entry.get_item(3)?.extract()?)
        }
        ("partition", 1) => Column::Partition,
        ("offset", 1) => Column::Offset,
        _ => return Err(PyValueError::new_err(format!("unknown column {what:?}"))),
    })
}

/// ClickHouse's unsigned LEB128 (string lengths, and the block's column and row counts).
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

impl NativeBlock {
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

    /// One value of a scalar kind (not a map) appended to `out`.
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
            _ => return Err(Refused),
        }
        Ok(())
    }

    /// One row's value of `column` appended to its stream.
    fn put_column(
        &self,
        column: &Column,
        record: &Value<'_>,
        partition: i32,
        offset: i64,
        stream: &mut Stream,
    ) -> Result<(), Refused> {
        match column {
            Column::Field(Kind::Map, path) => {
                let Value::Pairs(pairs) = at(record, path)? else {
                    return Err(Refused);
                };
                for (index, (key, _)) in pairs.iter().enumerate() {
                    if pairs[..index].iter().any(|(seen, _)| seen == key) {
                        return Err(Refused);
                    }
                }
                for (key, value) in pairs {
                    put_text(&mut stream.keys, key);
                    put_text(&mut stream.data, self.text_of(value).ok_or(Refused)?);
                }
                stream.end_row(pairs.len());
            }
            Column::Field(kind, path) => self.put(*kind, at(record, path)?, &mut stream.data)?,
            Column::Each(kind, path, item_path) => {
                let Value::List(items) = at(record, path)? else {
                    return Err(Refused);
                };
                for item in items {
                    self.put(*kind, at(item, item_path)?, &mut stream.data)?;
                }
                stream.end_row(items.len());
            }
            Column::Partition => stream.data.extend_from_slice(&partition.to_le_bytes()),
            Column::Offset => stream.data.extend_from_slice(&offset.to_le_bytes()),
        }
        Ok(())
    }

    /// One body's row appended to the streams (left as they were when refused).
    fn row(
        &self,
        body: &[u8],
        start: usize,
        partition: i32,
        offset: i64,
        streams: &mut [Stream],
    ) -> Result<(), Refused> {
        let mut cursor = Cursor::new(body, start);
        let record = self.read(0, &mut cursor, 0)?;
        if cursor.pos != body.len() {
            return Err(Refused);
        }
        let marks: Vec<_> = streams.iter().map(Stream::mark).collect();
        let written =
            self.columns.iter().zip(streams.iter_mut()).try_for_each(|(column, stream)| {
                self.put_column(column, &record, partition, offset, stream)
            });
        if written.is_err() {
            for (stream, mark) in streams.iter_mut().zip(marks) {
                stream.truncate(mark);
            }
        }
        written
    }

    /// The Native block of `rows` rows: counts, then each column's name, type and streams.
    fn assemble(&self, streams: &[Stream], rows: usize) -> Vec<u8> {
        let size = streams.iter().map(Stream::len).sum::<usize>() + 64 * streams.len();
        let mut out = Vec::with_capacity(size);
        put_count(&mut out, self.columns.len() as u64);
        put_count(&mut out, rows as u64);
        for ((name, type_name), stream) in self.headers.iter().zip(streams) {
            put_text(&mut out, name.as_bytes());
            put_text(&mut out, type_name.as_bytes());
            for size in &stream.sizes {
                out.extend_from_slice(&size.to_le_bytes());
            }
            out.extend_from_slice(&stream.keys);
            out.extend_from_slice(&stream.data);
        }
        out
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
impl NativeBlock {
    /// `program`: a reader program (node 0 the root record); `columns`: the block's columns
    /// (see the module's docs) and `names` their names, in the same order; `min_ms`/`max_ms`:
    /// the range datetime64 columns accept.
    #[new]
    pub fn new(
        py: Python<'_>,
        program: &Bound<'_, PyList>,
        columns: &Bound<'_, PyList>,
        names: Vec<String>,
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
        if names.len() != columns.len() {
            return Err(PyValueError::new_err("one name per column"));
        }
        let headers = names.into_iter().zip(columns.iter().map(column_type)).collect();
        Ok(NativeBlock { nodes, symbols, columns, headers, min_ms, max_ms })
    }

    /// `(block, rows, refused)`: the Native block of the payloads read, in order, each a
    /// body after `header`; its row count; and the indexes of the payloads refused (left out
    /// of the block): not bytes, not starting with `header`, or not read or written as above.
    /// `offsets[i]` is payload i's.
    fn block<'py>(
        &self,
        py: Python<'py>,
        payloads: &Bound<'py, PyList>,
        header: &[u8],
        partition: i32,
        offsets: Vec<i64>,
    ) -> PyResult<(Bound<'py, PyBytes>, usize, Vec<usize>)> {
        if offsets.len() != payloads.len() {
            return Err(PyValueError::new_err("one offset per payload"));
        }
        // Strong references to the bytes (immutable) keep the slices valid while the block is
        // built without the GIL: the sink's consuming thread reads on meanwhile.
        let held: Vec<Option<Bound<'py, PyBytes>>> =
            payloads.iter().map(|payload| payload.cast_into::<PyBytes>().ok()).collect();
        let bodies: Vec<Option<&[u8]>> =
            held.iter().map(|bytes| bytes.as_ref().map(|b| b.as_bytes())).collect();
        let (block, refused) = py.detach(|| self.build(&bodies, header, partition, &offsets));
        let rows = payloads.len() - refused.len();
        Ok((PyBytes::new(py, &block), rows, refused))
    }
}

impl NativeBlock {
    fn build(
        &self,
        bodies: &[Option<&[u8]>],
        header: &[u8],
        partition: i32,
        offsets: &[i64],
    ) -> (Vec<u8>, Vec<usize>) {
        let mut streams: Vec<Stream> = self.columns.iter().map(|_| Stream::default()).collect();
        let mut refused = Vec::new();
        for (index, body) in bodies.iter().enumerate() {
            let Some(body) = body else {
                refused.push(index);
                continue;
            };
            if !body.starts_with(header)
                || self.row(body, header.len(), partition, offsets[index], &mut streams).is_err()
            {
                refused.push(index);
            }
        }
        let rows = bodies.len() - refused.len();
        (self.assemble(&streams, rows), refused)
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
