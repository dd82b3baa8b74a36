//! Compiled Avro readers for data-usage-audit records, in native code.
//!
//! `dua_schemas.avro_reader` walks a schema once and hands this module a flat *program*: a
//! list of `(kind, argument)` nodes, node 0 the root record. `Reader(program).read(body, pos)`
//! then returns `(record, end)` exactly as the pure-Python compiled reader does (and so as
//! fastavro's `schemaless_reader` does): the same dicts, lists, strings, enum symbols, aware
//! UTC datetimes and bytes. On anything it does not read the same way it raises `ValueError`,
//! and the caller asks fastavro, whose answer is authoritative. The rules it follows are the
//! Python reader's, one for one; see that module's docstring for why each exists.

use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDateTime, PyDict, PyList, PyString, PyTuple, PyTzInfo};

/// Deeper than any dua record; a recursive schema fed hostile bytes stops here, not in a
/// stack overflow (Python's reader stops at its recursion limit the same way).
const MAX_DEPTH: usize = 256;

// datetime's range in seconds from the epoch: 0001-01-01T00:00:00 to 9999-12-31T23:59:59
const MIN_SECOND: i64 = -62_135_596_800;
const MAX_SECOND: i64 = 253_402_300_799;

enum Node {
    Null,
    Boolean,
    Long,
    String,
    Bytes,
    TimestampMillis,
    Enum(Vec<Py<PyString>>),
    Array(usize),
    Map(usize),
    Nullable(usize),
    Record(Vec<(Py<PyString>, usize)>),
}

fn malformed(what: &str) -> PyErr {
    PyValueError::new_err(what.to_owned())
}

fn ends_early() -> PyErr {
    malformed("the body ends early")
}

struct Cursor<'b> {
    b: &'b [u8],
    pos: usize,
}

impl<'b> Cursor<'b> {
    #[inline]
    fn byte(&self) -> PyResult<u8> {
        self.b.get(self.pos).copied().ok_or_else(ends_early)
    }

    #[inline]
    fn long(&mut self) -> PyResult<i64> {
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
                return Err(malformed("varint longer than 10 bytes"));
            }
        }
        if n >> 64 != 0 {
            return Err(malformed("varint wider than 64 bits"));
        }
        let n = n as u64;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    #[inline]
    fn sized(&mut self) -> PyResult<&'b [u8]> {
        let size = self.long()?;
        if size < 0 {
            return Err(malformed("negative length"));
        }
        let start = self.pos;
        let end = start.checked_add(size as usize).ok_or_else(ends_early)?;
        if end > self.b.len() {
            return Err(ends_early());
        }
        self.pos = end;
        Ok(&self.b[start..end])
    }

    /// The item count of an array or map block; 0 ends it.
    fn block_count(&mut self) -> PyResult<usize> {
        let count = self.long()?;
        let count = if count < 0 {
            self.long()?; // the block's size in bytes: fastavro reads, then ignores it
            count.checked_neg().ok_or_else(|| malformed("block count"))?
        } else {
            count
        };
        // more items than bytes left: only zero-width items could fit; left to fastavro
        if count as u64 > (self.b.len() - self.pos.min(self.b.len())) as u64 {
            return Err(malformed("block of more items than bytes"));
        }
        Ok(count as usize)
    }
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (H. Hinnant's).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
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

#[pyclass(frozen, module = "dua_schemas_native")]
struct Reader {
    nodes: Vec<Node>,
}

impl Reader {
    fn value<'py>(
        &self,
        py: Python<'py>,
        node: usize,
        c: &mut Cursor<'_>,
        depth: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(malformed("nested too deep"));
        }
        match &self.nodes[node] {
            Node::Null => Ok(py.None().into_bound(py)),
            Node::Boolean => {
                let byte = c.byte()?;
                c.pos += 1;
                Ok(PyBool::new(py, byte != 0).to_owned().into_any()) // any byte but 0 is true
            }
            Node::Long => Ok(c.long()?.into_pyobject(py)?.into_any()),
            Node::String => string(py, c),
            Node::Bytes => Ok(PyBytes::new(py, c.sized()?).into_any()),
            Node::TimestampMillis => timestamp_millis(py, c.long()?),
            Node::Enum(symbols) => {
                let index = c.long()?;
                if index < 0 || index as u64 >= symbols.len() as u64 {
                    return Err(malformed("enum index out of range"));
                }
                Ok(symbols[index as usize].bind(py).clone().into_any())
            }
            Node::Nullable(item) => {
                let branch = c.byte()?;
                c.pos += 1;
                match branch {
                    0 => Ok(py.None().into_bound(py)),
                    2 => self.value(py, *item, c, depth + 1),
                    _ => Err(malformed("union branch byte")),
                }
            }
            Node::Array(item) => {
                let list = PyList::empty(py);
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        list.append(self.value(py, *item, c, depth + 1)?)?;
                    }
                    count = c.block_count()?;
                }
                Ok(list.into_any())
            }
            Node::Map(item) => {
                let dict = PyDict::new(py);
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        let key = string(py, c)?;
                        dict.set_item(key, self.value(py, *item, c, depth + 1)?)?;
                    }
                    count = c.block_count()?;
                }
                Ok(dict.into_any())
            }
            Node::Record(fields) => {
                let dict = PyDict::new(py);
                for (name, field) in fields {
                    dict.set_item(name.bind(py), self.value(py, *field, c, depth + 1)?)?;
                }
                Ok(dict.into_any())
            }
        }
    }
}

impl Reader {
    /// Past one value of `node`, by the same rules as `value`, building nothing.
    fn skip(&self, node: usize, c: &mut Cursor<'_>, depth: usize) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(malformed("nested too deep"));
        }
        match &self.nodes[node] {
            Node::Null => {}
            Node::Boolean => {
                c.byte()?;
                c.pos += 1;
            }
            Node::Long => {
                c.long()?;
            }
            Node::TimestampMillis => {
                let ms = c.long()?;
                let second = ms.div_euclid(1000);
                if !(MIN_SECOND..=MAX_SECOND).contains(&second) {
                    return Err(PyOverflowError::new_err("date value out of range"));
                }
            }
            Node::String => {
                std::str::from_utf8(c.sized()?).map_err(|_| malformed("invalid UTF-8"))?;
            }
            Node::Bytes => {
                c.sized()?;
            }
            Node::Enum(symbols) => {
                let index = c.long()?;
                if index < 0 || index as u64 >= symbols.len() as u64 {
                    return Err(malformed("enum index out of range"));
                }
            }
            Node::Nullable(item) => {
                let branch = c.byte()?;
                c.pos += 1;
                match branch {
                    0 => {}
                    2 => self.skip(*item, c, depth + 1)?,
                    _ => return Err(malformed("union branch byte")),
                }
            }
            Node::Array(item) => {
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        self.skip(*item, c, depth + 1)?;
                    }
                    count = c.block_count()?;
                }
            }
            Node::Map(item) => {
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        std::str::from_utf8(c.sized()?).map_err(|_| malformed("invalid UTF-8"))?;
                        self.skip(*item, c, depth + 1)?;
                    }
                    count = c.block_count()?;
                }
            }
            Node::Record(fields) => {
                for (_, field) in fields {
                    self.skip(*field, c, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

fn string<'py>(py: Python<'py>, c: &mut Cursor<'_>) -> PyResult<Bound<'py, PyAny>> {
    // strict UTF-8, as bytes.decode(): Rust and Python refuse the same byte sequences
    let text = std::str::from_utf8(c.sized()?).map_err(|_| malformed("invalid UTF-8"))?;
    Ok(PyString::new(py, text).into_any())
}

fn timestamp_millis(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let second = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000) as u32;
    if !(MIN_SECOND..=MAX_SECOND).contains(&second) {
        return Err(PyOverflowError::new_err("date value out of range"));
    }
    let (year, month, day) = civil_from_days(second.div_euclid(86_400));
    let of_day = second.rem_euclid(86_400);
    let utc = PyTzInfo::utc(py)?;
    Ok(PyDateTime::new(
        py,
        year as i32,
        month,
        day,
        (of_day / 3600) as u8,
        (of_day / 60 % 60) as u8,
        (of_day % 60) as u8,
        millis * 1000,
        Some(&utc),
    )?
    .into_any())
}

fn index(item: &Bound<'_, PyAny>, len: usize) -> PyResult<usize> {
    let at: usize = item.extract()?;
    if at >= len {
        return Err(PyValueError::new_err(format!("node {at} is not in the program")));
    }
    Ok(at)
}

fn node(py: Python<'_>, entry: &Bound<'_, PyAny>, len: usize) -> PyResult<Node> {
    let entry = entry.cast::<PyTuple>()?;
    let kind: String = entry.get_item(0)?.extract()?;
    let arg = entry.get_item(1)?;
    Ok(match kind.as_str() {
        "null" => Node::Null,
        "boolean" => Node::Boolean,
        "long" => Node::Long,
        "string" => Node::String,
        "bytes" => Node::Bytes,
        "timestamp-millis" => Node::TimestampMillis,
        "enum" => Node::Enum(
            arg.try_iter()?
                .map(|s| Ok(s?.cast_into::<PyString>()?.unbind()))
                .collect::<PyResult<_>>()?,
        ),
        "array" => Node::Array(index(&arg, len)?),
        "map" => Node::Map(index(&arg, len)?),
        "nullable" => Node::Nullable(index(&arg, len)?),
        "record" => Node::Record(
            arg.try_iter()?
                .map(|field| {
                    let field = field?;
                    let field = field.cast::<PyTuple>()?;
                    let name: String = field.get_item(0)?.extract()?;
                    let name = PyString::intern(py, &name).unbind();
                    Ok((name, index(&field.get_item(1)?, len)?))
                })
                .collect::<PyResult<_>>()?,
        ),
        other => return Err(PyValueError::new_err(format!("unknown node kind {other:?}"))),
    })
}

#[pymethods]
impl Reader {
    /// `program`: a list of `(kind, argument)` nodes, node 0 the root.
    #[new]
    fn new(py: Python<'_>, program: &Bound<'_, PyList>) -> PyResult<Self> {
        let len = program.len();
        if len == 0 {
            return Err(PyValueError::new_err("an empty program"));
        }
        let nodes = program
            .iter()
            .map(|entry| node(py, &entry, len))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Reader { nodes })
    }

    /// `(value, end)`: the value of node 0 starting at `body[pos]` and the position after it.
    fn read<'py>(
        &self,
        py: Python<'py>,
        body: &[u8],
        pos: usize,
    ) -> PyResult<(Bound<'py, PyAny>, usize)> {
        let mut cursor = Cursor { b: body, pos };
        let value = self.value(py, 0, &mut cursor, 0)?;
        Ok((value, cursor.pos))
    }

    /// Where the root record's first `count` fields end: `[pos, end of field 0, …]`, read
    /// by the rules of `read` without building the values (`ValueError` where it fails).
    fn bounds(&self, body: &[u8], pos: usize, count: usize) -> PyResult<Vec<usize>> {
        let Node::Record(fields) = &self.nodes[0] else {
            return Err(PyValueError::new_err("the root is not a record"));
        };
        if count > fields.len() {
            return Err(PyValueError::new_err("more fields than the record has"));
        }
        let mut cursor = Cursor { b: body, pos };
        let mut ends = Vec::with_capacity(count + 1);
        ends.push(pos);
        for (_, field) in &fields[..count] {
            self.skip(*field, &mut cursor, 1)?;
            ends.push(cursor.pos);
        }
        Ok(ends)
    }
}

#[pymodule]
fn dua_schemas_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Reader>()?;
    Ok(())
}
