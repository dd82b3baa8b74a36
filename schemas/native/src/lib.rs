//! Byte-level Avro work for data-usage-audit records, in native code: compiled readers and
//! writers, the tagged-event splicer, and the quick yes of event validation. Nothing here
//! knows the policy or the processor: those build on this crate (`stream_processors/native`).
//!
//! `dua_schemas.avro_reader` walks a schema once and hands this module a flat *program*: a
//! list of `(kind, argument)` nodes, node 0 the root record. `Reader(program).read(body, pos)`
//! then returns `(record, end)` exactly as the pure-Python compiled reader does (and so as
//! fastavro's `schemaless_reader` does): the same dicts, lists, strings, enum symbols, aware
//! UTC datetimes and bytes. On anything it does not read the same way it raises `ValueError`,
//! and the caller asks fastavro, whose answer is authoritative. The rules it follows are the
//! Python reader's, one for one; see that module's docstring for why each exists.
//!
//! `Writer(program).write(record)` is the other direction: the bytes the pure-Python compiled
//! writer (and so fastavro's `schemaless_writer`) writes, for values of exactly the types that
//! writer takes. On any other value it raises `ValueError` and the caller falls back to the
//! Python writers. `Splicer` writes a TaggedAccessEvent from its DataAccessEvent's bytes and
//! the verdict's fields (see `dua_stream.processor.splice`). `Checker` (module `check`) is
//! the quick yes of event validation; `NativeBlock` (module `rows`) writes ClickHouse Native
//! blocks from bodies for the sink. Module `binary` holds the encoding itself (varints,
//! sized values, civil dates), plain Rust tested with `cargo test`.
//!
//! The Python module `dua_schemas_native` is the default feature `module`; a crate that builds
//! on this one (`default-features = false`) makes its own objects from the same programs.

use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyInt, PyList,
    PyString, PyTimeAccess, PyTuple, PyTzInfo, PyTzInfoAccess,
};
use std::collections::HashMap;

pub mod binary;
pub mod check;
pub mod rows;

pub use binary::{put_long, put_sized, Cursor, Malformed};
pub use check::Checker;

/// Deeper than any dua record; a recursive schema fed hostile bytes stops here, not in a
/// stack overflow (Python's reader stops at its recursion limit the same way).
pub(crate) const MAX_DEPTH: usize = 256;

/// A node of a program: what one value is.
pub enum Node {
    Null,
    Boolean,
    Long,
    String,
    Bytes,
    TimestampMillis,
    Enum(Vec<Py<PyString>>, HashMap<String, usize>),
    Array(usize),
    Map(usize),
    Nullable(usize),
    Record(Vec<(Py<PyString>, usize)>),
}

impl From<Malformed> for PyErr {
    fn from(error: Malformed) -> PyErr {
        PyValueError::new_err(error.0)
    }
}

/// The `ValueError` of bytes not read, or a value not written, the way the Python code would:
/// the caller then leaves it to fastavro.
fn malformed(what: &'static str) -> PyErr {
    Malformed(what).into()
}

#[pyclass(frozen, module = "dua_schemas_native")]
pub struct Reader {
    pub nodes: Vec<Node>,
}

impl Reader {
    /// The value of `node` at the cursor; the strings of the nodes `strings` marks (if given)
    /// are taken from it (one object per distinct value) instead of made anew.
    pub fn value_in<'py>(
        &self,
        py: Python<'py>,
        node: usize,
        c: &mut Cursor<'_>,
        depth: usize,
        mut strings: Option<&mut Interner>,
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
            Node::String => match strings {
                Some(strings) if strings.marked[node] => strings.string(py, c),
                _ => string(py, c),
            },
            Node::Bytes => Ok(PyBytes::new(py, c.sized()?).into_any()),
            Node::TimestampMillis => timestamp_millis(py, c.long()?),
            Node::Enum(symbols, _) => {
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
                    2 => self.value_in(py, *item, c, depth + 1, strings),
                    _ => Err(malformed("union branch byte")),
                }
            }
            Node::Array(item) => {
                let list = PyList::empty(py);
                let mut count = c.block_count()?;
                while count > 0 {
                    for _ in 0..count {
                        list.append(self.value_in(
                            py,
                            *item,
                            c,
                            depth + 1,
                            strings.as_deref_mut(),
                        )?)?;
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
                        let key = match strings.as_deref_mut() {
                            Some(strings) if strings.marked[node] => strings.string(py, c)?,
                            _ => string(py, c)?,
                        };
                        let value =
                            self.value_in(py, *item, c, depth + 1, strings.as_deref_mut())?;
                        dict.set_item(key, value)?;
                    }
                    count = c.block_count()?;
                }
                Ok(dict.into_any())
            }
            Node::Record(fields) => {
                let dict = PyDict::new(py);
                for (name, field) in fields {
                    let value = self.value_in(py, *field, c, depth + 1, strings.as_deref_mut())?;
                    dict.set_item(name.bind(py), value)?;
                }
                Ok(dict.into_any())
            }
        }
    }
}

impl Reader {
    /// Past one value of `node`, by the same rules as `value_in`, building nothing.
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
                if !binary::millis_in_range(c.long()?) {
                    return Err(PyOverflowError::new_err("date value out of range"));
                }
            }
            Node::String => {
                c.text()?;
            }
            Node::Bytes => {
                c.sized()?;
            }
            Node::Enum(symbols, _) => {
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
                        c.text()?;
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

/// Strings that recur (codes, names) as one object per distinct value, for the nodes marked:
/// no new object, no UTF-8 check, and dict lookups that find the very same object.
pub struct Interner {
    marked: Vec<bool>,
    known: HashMap<Box<[u8]>, Py<PyString>>,
    limit: usize,
}

impl Interner {
    /// For a reader of `nodes`, marking the subtrees of the root record's fields `fields`.
    pub fn new(py: Python<'_>, nodes: &[Node], fields: &[String], limit: usize) -> Self {
        fn mark(nodes: &[Node], node: usize, marked: &mut Vec<bool>) {
            if marked[node] {
                return;
            }
            marked[node] = true;
            match &nodes[node] {
                Node::Array(item) | Node::Map(item) | Node::Nullable(item) => {
                    mark(nodes, *item, marked)
                }
                Node::Record(record) => {
                    for (_, field) in record {
                        mark(nodes, *field, marked);
                    }
                }
                _ => {}
            }
        }
        let mut marked = vec![false; nodes.len()];
        if let Some(Node::Record(record)) = nodes.first() {
            for (name, field) in record {
                if fields.iter().any(|f| name.bind(py).to_str().is_ok_and(|n| n == f)) {
                    mark(nodes, *field, &mut marked);
                }
            }
        }
        Interner { marked, known: HashMap::new(), limit }
    }

    fn string<'py>(&mut self, py: Python<'py>, c: &mut Cursor<'_>) -> PyResult<Bound<'py, PyAny>> {
        let data = c.sized()?;
        if let Some(known) = self.known.get(data) {
            return Ok(known.bind(py).clone().into_any());
        }
        let text = std::str::from_utf8(data).map_err(|_| malformed("invalid UTF-8"))?;
        let made = PyString::new(py, text);
        if self.known.len() >= self.limit {
            self.known.clear(); // bounded, whatever arrives: relearn what recurs
        }
        self.known.insert(data.into(), made.clone().unbind());
        Ok(made.into_any())
    }
}

fn string<'py>(py: Python<'py>, c: &mut Cursor<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyString::new(py, c.text()?).into_any())
}

fn timestamp_millis(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let Some(moment) = binary::civil_from_millis(ms) else {
        return Err(PyOverflowError::new_err("date value out of range"));
    };
    let utc = PyTzInfo::utc(py)?;
    Ok(PyDateTime::new(
        py,
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
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
        "enum" => {
            let symbols: Vec<Py<PyString>> = arg
                .try_iter()?
                .map(|s| Ok(s?.cast_into::<PyString>()?.unbind()))
                .collect::<PyResult<_>>()?;
            let mut indexes = HashMap::with_capacity(symbols.len());
            for (at, symbol) in symbols.iter().enumerate() {
                if indexes.insert(symbol.bind(py).to_str()?.to_owned(), at).is_some() {
                    return Err(PyValueError::new_err("an enum symbol appears twice"));
                }
            }
            Node::Enum(symbols, indexes)
        }
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

/// The nodes of a program (see `dua_schemas.avro_reader.compile_program`).
pub(crate) fn nodes(py: Python<'_>, program: &Bound<'_, PyList>) -> PyResult<Vec<Node>> {
    let len = program.len();
    if len == 0 {
        return Err(PyValueError::new_err("an empty program"));
    }
    program.iter().map(|entry| node(py, &entry, len)).collect()
}

#[pymethods]
impl Reader {
    /// `program`: a list of `(kind, argument)` nodes, node 0 the root.
    #[new]
    pub fn new(py: Python<'_>, program: &Bound<'_, PyList>) -> PyResult<Self> {
        Ok(Reader { nodes: nodes(py, program)? })
    }

    /// `(value, end)`: the value of node 0 starting at `body[pos]` and the position after it.
    fn read<'py>(
        &self,
        py: Python<'py>,
        body: &[u8],
        pos: usize,
    ) -> PyResult<(Bound<'py, PyAny>, usize)> {
        let mut cursor = Cursor { b: body, pos };
        let value = self.value_in(py, 0, &mut cursor, 0, None)?;
        Ok((value, cursor.pos))
    }
}

impl Reader {
    /// Where the root record's first `count` fields end: `[pos, end of field 0, …]`, read
    /// by the rules of `read` without building the values (`ValueError` where it fails).
    fn field_ends(&self, body: &[u8], pos: usize, count: usize) -> PyResult<Vec<usize>> {
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

// ---------------------------------------------------------------------------------------
// Writing

/// A Python int that is not a bool, as the Python writer takes them, within 64 bits.
fn long_of(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(malformed("not an int"));
    }
    value.extract::<i64>().map_err(|_| malformed("an int wider than 64 bits"))
}

fn text_of<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    // str subclasses too (StrEnum members): the Python writer calls `value.encode()`
    let text = value.cast::<PyString>().map_err(|_| malformed("not a str"))?;
    text.to_str().map_err(|_| malformed("a str that is not valid UTF-8 (surrogates)"))
}

/// `(value - epoch) // timedelta(milliseconds=1)` of an aware datetime, as the Python writer.
pub fn datetime_millis(value: &Bound<'_, PyDateTime>) -> PyResult<i64> {
    let py = value.py();
    let tz = value
        .get_tzinfo()
        .ok_or_else(|| malformed("timestamp-millis needs a timezone-aware datetime"))?;
    let offset_us = if tz.is(PyTzInfo::utc(py)?) {
        0
    } else {
        let offset = value.call_method0("utcoffset")?;
        let offset = offset
            .cast::<PyDelta>()
            .map_err(|_| malformed("a datetime whose tzinfo gives no UTC offset"))?;
        i64::from(offset.get_days()) * 86_400_000_000
            + i64::from(offset.get_seconds()) * 1_000_000
            + i64::from(offset.get_microseconds())
    };
    let civil = binary::Civil {
        year: value.get_year(),
        month: value.get_month(),
        day: value.get_day(),
        hour: value.get_hour(),
        minute: value.get_minute(),
        second: value.get_second(),
        microsecond: value.get_microsecond(),
    };
    Ok(binary::millis_from_civil(civil, offset_us))
}

pub fn put_value(
    nodes: &[Node],
    node: usize,
    value: &Bound<'_, PyAny>,
    out: &mut Vec<u8>,
    depth: usize,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deep"));
    }
    match &nodes[node] {
        Node::Null => {
            if !value.is_none() {
                return Err(malformed("not None"));
            }
        }
        Node::Boolean => {
            // exactly True or False, as the Python writer (1 is not a boolean)
            let flag = value.cast_exact::<PyBool>().map_err(|_| malformed("not a bool"))?;
            out.push(u8::from(flag.is_true()));
        }
        Node::Long => put_long(out, long_of(value)?),
        Node::String => put_sized(out, text_of(value)?.as_bytes()),
        Node::Bytes => {
            let data = value.cast::<PyBytes>().map_err(|_| malformed("not bytes"))?;
            put_sized(out, data.as_bytes());
        }
        Node::TimestampMillis => match value.cast::<PyDateTime>() {
            Ok(moment) => put_long(out, datetime_millis(moment)?),
            Err(_) => put_long(out, long_of(value)?),
        },
        Node::Enum(_, indexes) => {
            let at = indexes
                .get(text_of(value)?)
                .ok_or_else(|| malformed("not a symbol of the enum"))?;
            put_long(out, *at as i64);
        }
        Node::Nullable(item) => {
            if value.is_none() {
                out.push(0);
            } else {
                out.push(2);
                put_value(nodes, *item, value, out, depth + 1)?;
            }
        }
        Node::Array(item) => {
            if let Ok(list) = value.cast::<PyList>() {
                if !list.is_empty() {
                    put_long(out, list.len() as i64);
                    for element in list.iter() {
                        put_value(nodes, *item, &element, out, depth + 1)?;
                    }
                }
            } else if let Ok(tuple) = value.cast::<PyTuple>() {
                if !tuple.is_empty() {
                    put_long(out, tuple.len() as i64);
                    for element in tuple.iter() {
                        put_value(nodes, *item, &element, out, depth + 1)?;
                    }
                }
            } else {
                return Err(malformed("not a list"));
            }
            out.push(0);
        }
        Node::Map(item) => {
            let dict = value.cast_exact::<PyDict>().map_err(|_| malformed("not a dict"))?;
            if !dict.is_empty() {
                put_long(out, dict.len() as i64);
                for (key, element) in dict.iter() {
                    put_sized(out, text_of(&key)?.as_bytes());
                    put_value(nodes, *item, &element, out, depth + 1)?;
                }
            }
            out.push(0);
        }
        Node::Record(fields) => {
            let dict = value.cast_exact::<PyDict>().map_err(|_| malformed("not a dict"))?;
            for (name, field) in fields {
                // a missing field: fastavro may fill in its default, so it decides
                let element = dict
                    .get_item(name.bind(value.py()))?
                    .ok_or_else(|| malformed("a field is missing"))?;
                put_value(nodes, *field, &element, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

#[pyclass(frozen, module = "dua_schemas_native")]
pub struct Writer {
    pub nodes: Vec<Node>,
}

#[pymethods]
impl Writer {
    /// `program`: a list of `(kind, argument)` nodes, node 0 the root.
    #[new]
    pub fn new(py: Python<'_>, program: &Bound<'_, PyList>) -> PyResult<Self> {
        Ok(Writer { nodes: nodes(py, program)? })
    }

    /// The Avro binary of `value` as node 0 (`ValueError`/`TypeError` for a value the Python
    /// writer would not take as it is).
    fn write<'py>(&self, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::with_capacity(256);
        put_value(&self.nodes, 0, value, &mut out, 0)?;
        Ok(PyBytes::new(value.py(), &out))
    }
}

// ---------------------------------------------------------------------------------------
// Splicing

pub enum Step {
    /// Input fields `first..stop`, copied as they are.
    Copy(usize, usize),
    /// `values[value]` written as the output program's node `node`.
    Write(usize, usize),
    /// The attribute `name` of the verdict, written as node `node` (no Python call to get it).
    Attr(usize, Py<PyString>),
    /// `values[value]`, bytes already encoded by the caller.
    Raw(usize),
}

/// A TaggedAccessEvent body from a DataAccessEvent body and the verdict's own fields.
///
/// `steps` (from `dua_stream.processor.splice`): `("copy", first, stop)` copies the input
/// fields `first..stop`; `("write", node, value)` writes `values[value]` as node `node` of the
/// output program; `("attr", node, name)` writes the verdict's attribute `name` as node
/// `node`; `("raw", value)` appends `values[value]` (bytes). The boundaries of the
/// first `needed` input fields are found (and checked) by the input program's rules; a copy
/// ending past them runs to the end of the body.
#[pyclass(frozen, module = "dua_schemas_native")]
pub struct Splicer {
    input: Reader,
    output: Vec<Node>,
    header: Vec<u8>,
    needed: usize,
    /// The plan, in order.
    pub steps: Vec<Step>,
    /// How many values the steps use.
    pub values: usize,
}

fn step(entry: &Bound<'_, PyAny>) -> PyResult<Step> {
    let entry = entry.cast::<PyTuple>()?;
    let kind: String = entry.get_item(0)?.extract()?;
    Ok(match (kind.as_str(), entry.len()) {
        ("copy", 3) => Step::Copy(entry.get_item(1)?.extract()?, entry.get_item(2)?.extract()?),
        ("write", 3) => Step::Write(entry.get_item(1)?.extract()?, entry.get_item(2)?.extract()?),
        ("raw", 2) => Step::Raw(entry.get_item(1)?.extract()?),
        ("attr", 3) => {
            let name: String = entry.get_item(2)?.extract()?;
            Step::Attr(entry.get_item(1)?.extract()?, PyString::intern(entry.py(), &name).unbind())
        }
        _ => return Err(PyValueError::new_err(format!("unknown splice step {kind:?}"))),
    })
}

#[pymethods]
impl Splicer {
    #[new]
    pub fn new(
        py: Python<'_>,
        input_program: &Bound<'_, PyList>,
        output_program: &Bound<'_, PyList>,
        header: &[u8],
        steps: &Bound<'_, PyList>,
        needed: usize,
    ) -> PyResult<Self> {
        let input = Reader { nodes: nodes(py, input_program)? };
        let output = nodes(py, output_program)?;
        let Node::Record(fields) = &input.nodes[0] else {
            return Err(PyValueError::new_err("the input root is not a record"));
        };
        if needed > fields.len() {
            return Err(PyValueError::new_err("needs more fields than the input has"));
        }
        let steps = steps.iter().map(|s| step(&s)).collect::<PyResult<Vec<_>>>()?;
        let mut values = 0;
        for s in &steps {
            match *s {
                Step::Copy(first, stop) => {
                    if first >= stop || first > needed || stop > fields.len() {
                        return Err(PyValueError::new_err("a copy outside the input fields"));
                    }
                }
                Step::Write(node, value) => {
                    if node >= output.len() {
                        return Err(PyValueError::new_err("a write of an unknown node"));
                    }
                    values = values.max(value + 1);
                }
                Step::Attr(node, _) => {
                    if node >= output.len() {
                        return Err(PyValueError::new_err("a write of an unknown node"));
                    }
                }
                Step::Raw(value) => values = values.max(value + 1),
            }
        }
        Ok(Splicer { input, output, header: header.to_vec(), needed, steps, values })
    }

    /// The framed output of the input record at `body[start:]` (the rest of `body`), the
    /// `verdict` ("attr" steps) and `values`, the other fields in the order the steps name them.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        body: &[u8],
        start: usize,
        verdict: &Bound<'py, PyAny>,
        values: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        if values.len() < self.values {
            return Err(PyValueError::new_err("fewer values than the steps use"));
        }
        let out = self.splice(
            body,
            start,
            |name| verdict.getattr(name.bind(py)),
            |value| values.get_item(value),
        )?;
        Ok(PyBytes::new(py, &out))
    }
}

impl Splicer {
    /// `encode` with the attributes and values given by functions (for a native caller that
    /// has no verdict object): the framed output.
    pub fn splice<'py>(
        &self,
        body: &[u8],
        start: usize,
        attr: impl Fn(&Py<PyString>) -> PyResult<Bound<'py, PyAny>>,
        value_of: impl Fn(usize) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Vec<u8>> {
        let bounds = self.input.field_ends(body, start, self.needed)?;
        let mut out = Vec::with_capacity(self.header.len() + body.len() + 128);
        out.extend_from_slice(&self.header);
        for s in &self.steps {
            match s {
                &Step::Copy(first, stop) => {
                    let end = if stop <= self.needed { bounds[stop] } else { body.len() };
                    out.extend_from_slice(&body[bounds[first]..end]);
                }
                &Step::Write(node, value) => {
                    put_value(&self.output, node, &value_of(value)?, &mut out, 1)?;
                }
                Step::Attr(node, name) => {
                    put_value(&self.output, *node, &attr(name)?, &mut out, 1)?;
                }
                &Step::Raw(value) => {
                    let item = value_of(value)?;
                    let data = item.cast::<PyBytes>().map_err(|_| malformed("not bytes"))?;
                    out.extend_from_slice(data.as_bytes());
                }
            }
        }
        Ok(out)
    }
}

#[cfg(feature = "module")]
#[pymodule]
fn dua_schemas_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Reader>()?;
    m.add_class::<Writer>()?;
    m.add_class::<Splicer>()?;
    m.add_class::<check::Checker>()?;
    m.add_class::<rows::NativeBlock>()?;
    Ok(())
}
