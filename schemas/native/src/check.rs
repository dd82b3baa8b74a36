//! `Checker(spec).check(value)`: the quick yes of `dua_schemas.validation.validate_event`.
//!
//! The processor and the SDK validate every event. The Python quick check
//! (`validation._plainly_valid`) takes ~3 µs of an event's ~40 µs, nearly all of it in the
//! interpreter; this walks the same checks over the same dict in ~0.3 µs. Like the Python
//! one, it only answers "certainly valid" (true) or "not sure" (false): on false the full
//! Python checks decide and name the field, so the messages stay in one place.
//!
//! `spec` is built by `validation.py` from its own limits and symbol lists; this module knows
//! no field names. Types are checked exactly (`type(x) is str`, not `isinstance`), as the
//! Python quick check does, and "blank" is Python's `str.isspace`, not Rust's.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyInt, PyList, PyString, PyTuple, PyTzInfoAccess};

/// Deeper than any spec `validation.py` builds; a hostile spec stops here.
const MAX_DEPTH: usize = 32;

enum Check {
    /// `type(v) is str`, at most `limit` characters, and not blank unless `blank_ok`.
    Text {
        limit: usize,
        blank_ok: bool,
    },
    /// A UUID in the canonical 8-4-4-4-12 hex form.
    Uuid,
    /// One of these strings.
    Symbols(Vec<String>),
    Bool,
    /// `type(v) is int` (so not a bool), from the first bound to the second.
    Int(i64, i64),
    /// `type(v) is datetime` with a tzinfo.
    AwareDatetime,
    /// None, or what the inner check accepts.
    Nullable(Box<Check>),
    /// `type(v) is dict` with each named key present and passing its check (others ignored).
    Record(Vec<(Py<PyString>, Check)>),
    /// `type(v) is list` with `min..=max` items, each passing the check.
    List(usize, usize, Box<Check>),
    /// `type(v) is dict` with at most `max` entries, keys and values passing their checks.
    Map(usize, Box<Check>, Box<Check>),
}

fn bad_spec(what: String) -> PyErr {
    PyValueError::new_err(format!("invalid check spec: {what}"))
}

fn compile(py: Python<'_>, entry: &Bound<'_, PyAny>, depth: usize) -> PyResult<Check> {
    if depth > MAX_DEPTH {
        return Err(bad_spec("nested too deep".to_owned()));
    }
    let entry = entry.cast::<PyTuple>().map_err(|_| bad_spec("an entry is not a tuple".into()))?;
    let kind: String = entry.get_item(0)?.extract()?;
    let arg = |i: usize| entry.get_item(i);
    Ok(match (kind.as_str(), entry.len()) {
        ("text", 3) => Check::Text { limit: arg(1)?.extract()?, blank_ok: arg(2)?.extract()? },
        ("uuid", 1) => Check::Uuid,
        ("symbols", 2) => Check::Symbols(arg(1)?.extract()?),
        ("bool", 1) => Check::Bool,
        ("int", 3) => Check::Int(arg(1)?.extract()?, arg(2)?.extract()?),
        ("aware_datetime", 1) => Check::AwareDatetime,
        ("nullable", 2) => Check::Nullable(Box::new(compile(py, &arg(1)?, depth + 1)?)),
        ("record", 2) => {
            let fields = arg(1)?;
            let fields = fields.cast::<PyTuple>().map_err(|_| bad_spec("record fields".into()))?;
            let mut out = Vec::with_capacity(fields.len());
            for field in fields.iter() {
                let (name, check): (String, Bound<'_, PyAny>) = field.extract()?;
                out.push((PyString::intern(py, &name).unbind(), compile(py, &check, depth + 1)?));
            }
            Check::Record(out)
        }
        ("list", 4) => Check::List(
            arg(1)?.extract()?,
            arg(2)?.extract()?,
            Box::new(compile(py, &arg(3)?, depth + 1)?),
        ),
        ("map", 4) => Check::Map(
            arg(1)?.extract()?,
            Box::new(compile(py, &arg(2)?, depth + 1)?),
            Box::new(compile(py, &arg(3)?, depth + 1)?),
        ),
        _ => return Err(bad_spec(format!("unknown check {kind:?} of {} items", entry.len()))),
    })
}

/// Python's `str.isspace` for one character (CPython's `_PyUnicode_IsWhitespace`: bidi
/// classes WS, B and S, and category Zs). Rust's `char::is_whitespace` differs (U+001C..1F).
fn python_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

fn exact_text<'a>(value: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    // to_str fails on lone surrogates: "not sure", the full checks decide
    value.cast_exact::<PyString>().ok()?.to_str().ok()
}

fn text_fits(text: &str, limit: usize, blank_ok: bool) -> bool {
    // Python counts code points; a UTF-8 string has at most as many as it has bytes
    let fits = text.len() <= limit || text.chars().count() <= limit;
    fits && (blank_ok || !text.chars().all(python_space))
}

fn canonical_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn holds(check: &Check, value: &Bound<'_, PyAny>) -> bool {
    match check {
        Check::Text { limit, blank_ok } => {
            exact_text(value).is_some_and(|t| text_fits(t, *limit, *blank_ok))
        }
        Check::Uuid => exact_text(value).is_some_and(canonical_uuid),
        Check::Symbols(symbols) => {
            exact_text(value).is_some_and(|t| symbols.iter().any(|s| s == t))
        }
        Check::Bool => value.is_exact_instance_of::<PyBool>(),
        Check::Int(low, high) => {
            value.is_exact_instance_of::<PyInt>()
                && value.extract::<i64>().is_ok_and(|n| *low <= n && n <= *high)
        }
        Check::AwareDatetime => {
            value.cast_exact::<PyDateTime>().is_ok_and(|moment| moment.get_tzinfo().is_some())
        }
        Check::Nullable(inner) => value.is_none() || holds(inner, value),
        Check::Record(fields) => value.cast_exact::<PyDict>().is_ok_and(|record| {
            fields.iter().all(|(name, check)| {
                matches!(record.get_item(name.bind(value.py())), Ok(Some(v)) if holds(check, &v))
            })
        }),
        Check::List(min, max, item) => value.cast_exact::<PyList>().is_ok_and(|list| {
            (*min..=*max).contains(&list.len()) && list.iter().all(|v| holds(item, &v))
        }),
        Check::Map(max, key, item) => value.cast_exact::<PyDict>().is_ok_and(|map| {
            map.len() <= *max && map.iter().all(|(k, v)| holds(key, &k) && holds(item, &v))
        }),
    }
}

/// The quick yes of one record kind; see the module docs.
#[pyclass(frozen, module = "dua_schemas_native")]
pub struct Checker {
    root: Check,
}

#[pymethods]
impl Checker {
    /// `spec`: nested tuples, `("record", (("field", check), ...))` at the root; see
    /// `dua_schemas.validation` for the kinds.
    #[new]
    pub fn new(py: Python<'_>, spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Checker { root: compile(py, spec, 0)? })
    }

    /// True only if `value` passes every check; False means "not sure".
    fn check(&self, value: &Bound<'_, PyAny>) -> bool {
        holds(&self.root, value)
    }
}

impl Checker {
    /// `check`, for native callers.
    pub fn accepts(&self, value: &Bound<'_, PyAny>) -> bool {
        holds(&self.root, value)
    }
}
