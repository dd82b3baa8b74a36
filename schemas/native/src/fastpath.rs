//! `AccessPath`: the stream processor's per-event work on access events, for the common case,
//! in one native call per batch (see `dua_stream.processor.fastpath`).
//!
//! For each raw message of a batch, in order, it does what `BatchProcessor._access` does:
//! decode (single-object framing, newest schema), the quick validation, the policy engine's
//! plan lookups, the stateful checks and their state writes, the findings (message templates
//! filled in, violation ids from `hashlib.sha256`), the spliced tagged event and the violation
//! records. What it would not do exactly as Python does it hands back *before it changes
//! anything*: `slow(message)` then runs the Python path for that message. That is any other
//! framing, a body it does not read, an event the quick check does not accept, an unknown
//! purpose, a shape or element list the engine has not compiled yet, an event time too far
//! ahead, and state of an unexpected form. Past that point (state written), what it cannot
//! write natively (a finding message or Violation field it does not know) goes to
//! `tail(...)`, where Python makes the verdict and outputs.
//!
//! The engine's tables (purposes, services, plans) are the engine's own Python objects, read
//! here, never copied: a plan compiled by the Python path is found here on the next event.

use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType,
};
use std::collections::HashMap;

use crate::check::Checker;
use crate::{
    datetime_millis, put_value, Cursor, Interner, Reader, Splicer, Step as SpliceStep, Writer,
};

/// Element-list encodings remembered (by plan object) before the cache starts again.
const ENCODED_LIMIT: usize = 10_000;
/// Distinct strings of the interned fields remembered before the table starts again.
const STRINGS_LIMIT: usize = 65_536;

/// What each value of the splicer's steps is, on the fast path.
enum Value {
    /// The batch's processing time, encoded once per batch by the caller.
    ProcessedAt,
    /// The tagged elements of the event's element plan, encoded once per plan.
    Elements,
    /// The violation summaries of the event's findings (none for most events).
    Summaries,
}

/// Where a field of a Violation record comes from (`Verdict.violation_records`, field by
/// field; the differential tests compare the bytes with the Python path's).
enum Source {
    Finding(Py<PyString>),
    Event(Py<PyString>),
    Actor(Py<PyString>),
    DestinationKind,
    DetectedAt,
    PolicyVersion,
    PurposeCategory,
}

/// The sources of the Violation writer's fields in order, or None if one is not known here.
fn violation_sources(
    py: Python<'_>,
    nodes: &[crate::Node],
) -> PyResult<Option<Vec<(usize, Source)>>> {
    let Some(crate::Node::Record(fields)) = nodes.first() else { return Ok(None) };
    let mut sources = Vec::with_capacity(fields.len());
    for (name, node) in fields {
        let text = name.bind(py).to_str()?;
        let source = match text {
            "violation_id" | "rule" | "severity" | "mode" | "elements" | "message" => {
                Source::Finding(name.clone_ref(py))
            }
            "event_id" | "occurred_at" | "service" | "subject_id" | "purpose" | "trace_id" => {
                Source::Event(name.clone_ref(py))
            }
            "actor_kind" => Source::Actor(PyString::intern(py, "kind").unbind()),
            "actor_id" => Source::Actor(PyString::intern(py, "id").unbind()),
            "destination_kind" => Source::DestinationKind,
            "detected_at" => Source::DetectedAt,
            "policy_version" => Source::PolicyVersion,
            "purpose_category" => Source::PurposeCategory,
            _ => return Ok(None),
        };
        sources.push((*node, source));
    }
    Ok(Some(sources))
}

/// What a step of the element plan does to this event, decided before anything is written.
enum Planned<'py> {
    Fires(Bound<'py, PyAny>),
    OptedOut(Bound<'py, PyAny>, bool),
    Reidentification(Bound<'py, PyAny>, bool, bool),
}

/// One message, read and checked; nothing changed yet.
struct Prepared<'py> {
    value: Bound<'py, PyBytes>,
    record: Bound<'py, PyDict>,
    occurred_ms: i64,
    raises_watermark: bool,
    partition: Bound<'py, PyAny>,
    service: Bound<'py, PyAny>,
    known: Option<Bound<'py, PyAny>>,
    category: Bound<'py, PyAny>,
    seen: Bound<'py, PyAny>,
    steps: Vec<Planned<'py>>,
    reid_key: Option<Bound<'py, PyString>>,
    actor: Option<Bound<'py, PyString>>,
    event_id: Bound<'py, PyAny>,
}

/// The state and result objects of one batch.
struct Batch<'py> {
    state: Bound<'py, PyAny>,
    reid: Bound<'py, PyDict>,
    consent: Bound<'py, PyDict>,
    changes: Bound<'py, PyDict>,
    watermarks: Bound<'py, PyDict>,
    outputs: Bound<'py, PyList>,
    events: Bound<'py, PyDict>,
    violations: Bound<'py, PyDict>,
    occurred: Bound<'py, PyList>,
    processed_at: Bound<'py, PyBytes>,
    now: Bound<'py, PyAny>,
    latest_ms: i64,
    headers: Bound<'py, PyAny>,
}

#[pyclass(module = "dua_schemas_native")]
pub struct AccessPath {
    reader: Py<Reader>,
    checker: Py<Checker>,
    splicer: Py<Splicer>,
    header: Vec<u8>,
    values: Vec<Value>,
    purposes: Py<PyDict>,
    services: Py<PyAny>,
    flags: Vec<Py<PyString>>,
    plans: Py<PyDict>,
    window_ms: i64,
    policy_version: Py<PyString>,
    fires: i64,
    opted_out: i64,
    reidentification: i64,
    prune_above: usize,
    reid_prefix: String,
    consent_prefix: String,
    reid_table: Py<PyString>,
    output: Py<PyAny>,
    tagged_topic: Py<PyString>,
    no_category: Py<PyString>,
    elements: Py<PyAny>,
    violation_writer: Py<Writer>,
    violation_header: Vec<u8>,
    violations_topic: Py<PyString>,
    /// Where each field of a Violation comes from, when every one is known here (else
    /// `Verdict.violation_records` makes the records in Python).
    violation_fields: Option<Vec<(usize, Source)>>,
    findings: Findings,
    encoded: HashMap<usize, (Py<PyAny>, Py<PyBytes>)>,
    strings: Interner,
}

fn item<'py>(dict: &Bound<'py, PyDict>, key: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    dict.get_item(key)?.ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.clone().unbind()))
}

/// An exact int that fits i64 (not a bool: Python's `max` and JSON would treat it otherwise).
fn exact_long(value: &Bound<'_, PyAny>) -> Option<i64> {
    value.cast_exact::<PyInt>().ok()?.extract::<i64>().ok()
}

/// A dict field that is absent or an exact int.
fn time_field(entry: &Bound<'_, PyDict>, name: &Bound<'_, PyString>) -> Option<Option<i64>> {
    match entry.get_item(name).ok()? {
        None => Some(None),
        Some(value) => exact_long(&value).map(Some),
    }
}

/// `tuple.__new__(cls, items)` without the call, for a subclass of tuple (a NamedTuple):
/// allocated as `tuple.__new__` allocates it (the type's allocator, then the items; nothing
/// runs in between).
fn new_tuple<'py>(
    py: Python<'py>,
    cls: &Bound<'py, PyAny>,
    items: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = cls.as_ptr().cast::<ffi::PyTypeObject>();
    // SAFETY: every `cls` here was checked at construction to be a subclass of tuple: its
    // allocator returns a tuple of `items.len()` empty slots (or NULL with an exception set),
    // and every slot gets an owned reference before the object is used.
    unsafe {
        let alloc = (*cls).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
        let object = alloc(cls, items.len() as ffi::Py_ssize_t);
        if object.is_null() {
            return Err(PyErr::fetch(py));
        }
        for (i, item) in items.into_iter().enumerate() {
            ffi::PyTuple_SET_ITEM(object, i as ffi::Py_ssize_t, item.into_ptr());
        }
        Ok(Bound::from_owned_ptr(py, object))
    }
}

/// A part of a finding message template (`str.format` syntax, placeholders only: the policy
/// loader refuses anything else).
enum Part {
    Text(String),
    Field(String),
}

/// `{{`, `}}`, `{name}` and text, or None for anything else (left to Python's `format`).
fn parse_template(template: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        c if c.is_ascii_alphanumeric() || c == '_' => name.push(c),
                        _ => return None,
                    }
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Field(name));
            }
            '}' => return None,
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Some(parts)
}

/// The engine's findings (`Engine._finding`) made natively: the message from the rule's
/// template, the violation id from `hashlib.sha256`, as `Finding` tuples.
struct Findings {
    cls: Py<PyAny>,
    fields: Vec<Py<PyString>>,
    purpose_texts: Py<PyDict>,
    no_purpose: Py<PyString>,
    window_text: Py<PyString>,
    sha256: Py<PyAny>,
    id_length: usize,
    templates: HashMap<usize, (Py<PyString>, Option<Vec<Part>>)>,
}

impl Findings {
    /// The findings of the `fired` steps, or None where Python makes them.
    fn make<'py>(
        &mut self,
        py: Python<'py>,
        fired: &Bound<'py, PyList>,
        event: &Prepared<'py>,
        version: &Bound<'py, PyString>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let mut made = Vec::with_capacity(fired.len());
        for step in fired.iter() {
            let plan = step.getattr(intern!(py, "plan"))?;
            let rule = plan.getattr(intern!(py, "rule"))?;
            let template = plan.getattr(intern!(py, "message"))?.cast_into::<PyString>()?;
            let involved = step.getattr(intern!(py, "involved"))?.cast_into_exact::<PyTuple>()?;
            let rule_id = rule.getattr(intern!(py, "id"))?.cast_into::<PyString>()?;
            let Some(message) = self.message(py, &template, &involved, event)? else {
                return Ok(None);
            };
            let event_id = item(&event.record, intern!(py, "event_id"))?.cast_into::<PyString>()?;
            let (Ok(event_id), Ok(rule_text), Ok(version)) =
                (event_id.to_str(), rule_id.to_str(), version.to_str())
            else {
                return Ok(None);
            };
            let seed = joined(&joined(event_id, "\x1f", rule_text), "\x1f", version);
            let digest = self.sha256.bind(py).call1((PyBytes::new(py, seed.as_bytes()),))?;
            let hex = digest.call_method0(intern!(py, "hexdigest"))?.cast_into::<PyString>()?;
            let Some(id) = hex.to_str()?.get(..self.id_length) else { return Ok(None) };
            let mut items = Vec::with_capacity(self.fields.len());
            for field in &self.fields {
                items.push(match field.bind(py).to_str()? {
                    "violation_id" => PyString::new(py, id).into_any(),
                    "rule" => rule_id.clone().into_any(),
                    "severity" => rule.getattr(intern!(py, "severity"))?,
                    "mode" => rule.getattr(intern!(py, "mode"))?,
                    "elements" => involved.clone().into_any(),
                    "message" => message.clone().into_any(),
                    _ => return Ok(None),
                });
            }
            made.push(new_tuple(py, self.cls.bind(py), items)?);
        }
        Ok(Some(PyTuple::new(py, made)?))
    }

    /// The message of a rule's template for this event, or None where Python makes it.
    fn message<'py>(
        &mut self,
        py: Python<'py>,
        template: &Bound<'py, PyString>,
        involved: &Bound<'py, PyTuple>,
        event: &Prepared<'py>,
    ) -> PyResult<Option<Bound<'py, PyString>>> {
        let key = template.as_ptr() as usize;
        if !self.templates.contains_key(&key) {
            if self.templates.len() >= ENCODED_LIMIT {
                self.templates.clear();
            }
            let parts = parse_template(template.to_str()?);
            // the template is kept alive with its entry: its address is not reused meanwhile
            self.templates.insert(key, (template.clone().unbind(), parts));
        }
        let Some((_, Some(parts))) = self.templates.get(&key) else { return Ok(None) };
        let record = &event.record;
        let text = |name: &Bound<'py, PyString>| -> PyResult<Option<String>> {
            let value = item(record, name)?;
            Ok(value.cast::<PyString>().ok().and_then(|v| v.to_str().ok().map(str::to_owned)))
        };
        let mut out = String::with_capacity(256);
        for part in parts {
            let Part::Field(name) = part else {
                if let Part::Text(literal) = part {
                    out.push_str(literal);
                }
                continue;
            };
            let value = match name.as_str() {
                "service" => text(intern!(py, "service"))?,
                "operation" => text(intern!(py, "operation"))?,
                "processing" => text(intern!(py, "processing"))?,
                "origin" => {
                    let origin = item(record, intern!(py, "origin_service"))?;
                    if origin.is_truthy()? {
                        origin
                            .cast::<PyString>()
                            .ok()
                            .and_then(|o| o.to_str().ok().map(str::to_owned))
                    } else {
                        text(intern!(py, "service"))?
                    }
                }
                "purpose" => {
                    let purpose = item(record, intern!(py, "purpose"))?;
                    let described = if purpose.is_none() {
                        Some(self.no_purpose.bind(py).clone().into_any())
                    } else {
                        self.purpose_texts.bind(py).get_item(&purpose)?
                    };
                    described.and_then(|d| {
                        d.cast::<PyString>().ok().and_then(|d| d.to_str().ok().map(str::to_owned))
                    })
                }
                "elements" => {
                    let mut codes = Vec::with_capacity(involved.len());
                    for code in involved.iter() {
                        let code = code.cast_into::<PyString>()?;
                        codes.push(code.to_str()?.to_owned());
                    }
                    Some(if codes.is_empty() { "no elements".to_owned() } else { codes.join(", ") })
                }
                "destination" => {
                    let destination =
                        item(record, intern!(py, "destination"))?.cast_into_exact::<PyDict>()?;
                    let kind = item(&destination, intern!(py, "kind"))?.cast_into::<PyString>()?;
                    let name = item(&destination, intern!(py, "name"))?;
                    let kind = kind.to_str()?;
                    if name.is_truthy()? {
                        let name = name.cast_into::<PyString>()?;
                        Some(joined(&joined(kind, " \"", name.to_str()?), "", "\""))
                    } else {
                        Some(kind.to_owned())
                    }
                }
                "actor" => {
                    let actor = item(record, intern!(py, "actor"))?.cast_into_exact::<PyDict>()?;
                    let kind = item(&actor, intern!(py, "kind"))?.cast_into::<PyString>()?;
                    let id = item(&actor, intern!(py, "id"))?.cast_into::<PyString>()?;
                    Some(joined(kind.to_str()?, " ", id.to_str()?))
                }
                "window" => Some(self.window_text.bind(py).to_str()?.to_owned()),
                _ => None,
            };
            let Some(value) = value else { return Ok(None) };
            out.push_str(&value);
        }
        Ok(Some(PyString::new(py, &out)))
    }

    /// `finding.summary()`: the ViolationSummary record of a finding (its fields by name).
    fn summary<'py>(
        &self,
        py: Python<'py>,
        finding: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let summary = PyDict::new(py);
        for field in &self.fields {
            let field = field.bind(py);
            summary.set_item(field, finding.getattr(field)?)?;
        }
        Ok(summary.into_any())
    }
}

/// `counter[key] += 1` on a `collections.Counter` (a dict: absent keys count 0).
fn count<'py>(counter: &Bound<'py, PyDict>, key: Bound<'py, PyTuple>) -> PyResult<()> {
    let now = match counter.get_item(&key)? {
        Some(count) => count.extract::<i64>()?,
        None => 0,
    };
    counter.set_item(key, now + 1)
}

/// `first + middle + last` (`format!` costs more, in the hot path).
fn joined(first: &str, middle: &str, last: &str) -> String {
    let mut text = String::with_capacity(first.len() + middle.len() + last.len());
    text.push_str(first);
    text.push_str(middle);
    text.push_str(last);
    text
}

fn within(first: i64, second: Option<i64>, span: i64) -> bool {
    second.is_some_and(|second| (first - second).abs() <= span)
}

#[pymethods]
impl AccessPath {
    /// Built by `dua_stream.processor.fastpath.build_access_path` from the codec's and the
    /// engine's own objects; `values` names what each value of the splicer's steps is.
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        reader, checker, splicer, header, values, purposes, services, consent_flags, plans,
        window_ms, policy_version, checks, prune_above, reid_prefix, consent_prefix,
        reid_table, output, tagged_topic, no_category, elements, violation_writer,
        violation_header, violations_topic, interned, finding, finding_fields, purpose_texts,
        no_purpose, window_text, sha256, id_length
    ))]
    fn new(
        py: Python<'_>,
        reader: Py<Reader>,
        checker: Py<Checker>,
        splicer: Py<Splicer>,
        header: &[u8],
        values: Vec<String>,
        purposes: Py<PyDict>,
        services: Py<PyAny>,
        consent_flags: Vec<Py<PyString>>,
        plans: Py<PyDict>,
        window_ms: i64,
        policy_version: Py<PyString>,
        checks: (i64, i64, i64),
        prune_above: usize,
        reid_prefix: String,
        consent_prefix: String,
        reid_table: Py<PyString>,
        output: Py<PyAny>,
        tagged_topic: Py<PyString>,
        no_category: Py<PyString>,
        elements: Py<PyAny>,
        violation_writer: Py<Writer>,
        violation_header: &[u8],
        violations_topic: Py<PyString>,
        interned: Vec<String>,
        finding: Py<PyAny>,
        finding_fields: Vec<String>,
        purpose_texts: Py<PyDict>,
        no_purpose: Py<PyString>,
        window_text: Py<PyString>,
        sha256: Py<PyAny>,
        id_length: usize,
    ) -> PyResult<Self> {
        let values = values
            .iter()
            .map(|kind| match kind.as_str() {
                "processed_at" => Ok(Value::ProcessedAt),
                "elements" => Ok(Value::Elements),
                "summaries" => Ok(Value::Summaries),
                other => Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "the fast path cannot give the splicer value {other:?}"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let plan = splicer.get();
        if values.len() < plan.values {
            return Err(pyo3::exceptions::PyValueError::new_err("fewer values than the steps use"));
        }
        for step in &plan.steps {
            if let SpliceStep::Attr(_, name) = step {
                let name = name.bind(py).to_str()?;
                if !matches!(name, "policy_version" | "purpose_category" | "purpose_known") {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "the fast path cannot give the verdict's {name:?}"
                    )));
                }
            }
        }
        if !output.bind(py).cast::<PyType>()?.is_subclass_of::<PyTuple>()? {
            return Err(pyo3::exceptions::PyTypeError::new_err("output must be a tuple type"));
        }
        let strings = Interner::new(py, &reader.get().nodes, &interned, STRINGS_LIMIT);
        let violation_fields = violation_sources(py, &violation_writer.get().nodes)?;
        if !finding.bind(py).cast::<PyType>()?.is_subclass_of::<PyTuple>()? {
            return Err(pyo3::exceptions::PyTypeError::new_err("finding must be a tuple type"));
        }
        let findings = Findings {
            cls: finding,
            fields: finding_fields.iter().map(|name| PyString::intern(py, name).unbind()).collect(),
            purpose_texts,
            no_purpose,
            window_text,
            sha256,
            id_length,
            templates: HashMap::new(),
        };
        Ok(AccessPath {
            reader,
            checker,
            splicer,
            header: header.to_vec(),
            values,
            purposes,
            services,
            flags: consent_flags,
            plans,
            window_ms,
            policy_version,
            fires: checks.0,
            opted_out: checks.1,
            reidentification: checks.2,
            prune_above,
            reid_prefix,
            consent_prefix,
            reid_table,
            output,
            tagged_topic,
            no_category,
            elements,
            violation_writer,
            violation_header: violation_header.to_vec(),
            violations_topic,
            violation_fields,
            findings,
            encoded: HashMap::new(),
            strings,
        })
    }

    /// Process `messages` (raw-topic records, in order) into `result`, with `state` (a
    /// `TableState`); `slow(message)` and `tail(message, event, elements_plan, purpose,
    /// fired_steps, occurred_ms)` as the module says. Returns how many it processed itself.
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        state: &Bound<'py, PyAny>,
        result: &Bound<'py, PyAny>,
        processed_at: &Bound<'py, PyBytes>,
        now: &Bound<'py, PyAny>,
        latest_ms: i64,
        headers: &Bound<'py, PyAny>,
        slow: &Bound<'py, PyAny>,
        tail: &Bound<'py, PyAny>,
    ) -> PyResult<usize> {
        fn exact<'py>(owner: &Bound<'py, PyAny>, name: &str) -> Option<Bound<'py, PyDict>> {
            owner.getattr(name).ok()?.cast_into_exact::<PyDict>().ok()
        }
        let stores = (
            exact(state, "_reid"),
            exact(state, "_consent"),
            exact(state, "_changes"),
            exact(state, "watermarks"),
            result.getattr("outputs")?.cast_into_exact::<PyList>().ok(),
            result.getattr("events")?.cast_into::<PyDict>().ok(),
            result.getattr("violations")?.cast_into::<PyDict>().ok(),
            result.getattr("occurred_at")?.cast_into_exact::<PyList>().ok(),
        );
        let (
            Some(reid),
            Some(consent),
            Some(changes),
            Some(watermarks),
            Some(outputs),
            Some(events),
            Some(violations),
            Some(occurred),
        ) = stores
        else {
            // stores of another kind: every message the Python way
            for message in messages.try_iter()? {
                slow.call1((message?,))?;
            }
            return Ok(0);
        };
        let batch = Batch {
            state: state.clone(),
            reid,
            consent,
            changes,
            watermarks,
            outputs,
            events,
            violations,
            occurred,
            processed_at: processed_at.clone(),
            now: now.clone(),
            latest_ms,
            headers: headers.clone(),
        };
        let mut done = 0;
        for message in messages.try_iter()? {
            let message = message?;
            // an error while reading is a message for Python: it says precisely what is wrong
            match self.prepare(py, &message, &batch).ok().flatten() {
                Some(event) => {
                    self.commit(py, &message, event, &batch, tail)?;
                    done += 1;
                }
                None => {
                    slow.call1((&message,))?;
                }
            }
        }
        Ok(done)
    }

    /// `TableState.drain_changes` made into changelog outputs (appended to `outputs`), the
    /// keys and values in JSON as orjson writes them; `topics`: table name -> changelog topic.
    /// False, with nothing drained, when a key or value is of a kind left to orjson.
    fn drain<'py>(
        &self,
        py: Python<'py>,
        state: &Bound<'py, PyAny>,
        outputs: &Bound<'py, PyList>,
        topics: &Bound<'py, PyDict>,
    ) -> PyResult<bool> {
        let changes = state.getattr(intern!(py, "_changes"))?.cast_into_exact::<PyDict>()?;
        let reid = state.getattr(intern!(py, "_reid"))?.cast_into_exact::<PyDict>()?;
        let consent = state.getattr(intern!(py, "_consent"))?.cast_into_exact::<PyDict>()?;
        let reid_table = self.reid_table.bind(py);
        let mut made = Vec::with_capacity(changes.len());
        let mut buffer = Vec::with_capacity(256);
        for (change, partition) in changes.iter() {
            let change = change.cast_into_exact::<PyTuple>()?;
            let table = change.get_item(0)?;
            let key = change.get_item(1)?;
            let store = if table.eq(reid_table)? { &reid } else { &consent };
            buffer.clear();
            if !json(&key, &mut buffer, 0) {
                return Ok(false);
            }
            let key_bytes = PyBytes::new(py, &buffer).into_any();
            let value = match store.get_item(&key)? {
                None => py.None().into_bound(py),
                Some(value) => {
                    buffer.clear();
                    if !json(&value, &mut buffer, 0) {
                        return Ok(false);
                    }
                    PyBytes::new(py, &buffer).into_any()
                }
            };
            let topic = item(topics, &table.cast_into::<PyString>()?)?;
            made.push(
                self.new_output(
                    py,
                    [topic, key_bytes, value, py.None().into_bound(py), partition],
                )?,
            );
        }
        for output in made {
            outputs.append(output)?;
        }
        changes.clear();
        Ok(true)
    }
}

/// Deeper than any table value; orjson's own limit is higher, and it decides past this one.
const JSON_DEPTH: usize = 32;

/// `value` in JSON as orjson writes it (compact, UTF-8, its escapes), for the kinds table
/// values are made of: None, bool, int (64-bit), str, dict with str keys, list. False for
/// anything else (orjson, or `json` where orjson refuses, then writes it).
fn json(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> bool {
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

impl AccessPath {
    /// The message read and every decision made, or None for the Python path. Writes nothing.
    fn prepare<'py>(
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        batch: &Batch<'py>,
    ) -> PyResult<Option<Prepared<'py>>> {
        let value = message.getattr(intern!(py, "value"))?.cast_into::<PyBytes>()?;
        let body = value.as_bytes();
        if !body.starts_with(&self.header) {
            return Ok(None);
        }
        let mut cursor = Cursor { b: body, pos: self.header.len() };
        let record = self.reader.get().value_in(py, 0, &mut cursor, 0, Some(&mut self.strings))?;
        if cursor.pos != body.len() || !self.checker.get().accepts(&record) {
            return Ok(None);
        }
        let record = record.cast_into_exact::<PyDict>()?;
        let occurred_ms =
            datetime_millis(item(&record, intern!(py, "occurred_at"))?.cast::<PyDateTime>()?)?;
        if occurred_ms > batch.latest_ms {
            return Ok(None); // the clock check and its counter are Python's
        }
        let purpose = item(&record, intern!(py, "purpose"))?;
        let known = if purpose.is_none() {
            None
        } else {
            match self.purposes.bind(py).get_item(&purpose)? {
                Some(known) => Some(known),
                None => return Ok(None), // an unknown purpose has a shape of its own
            }
        };
        let service = item(&record, intern!(py, "service"))?;
        let origin_service = item(&record, intern!(py, "origin_service"))?;
        let origin = if origin_service.is_truthy()? { &origin_service } else { &service };
        let services = self.services.bind(py);
        let none = py.None().into_bound(py);
        let consent = item(&record, intern!(py, "consent"))?.cast_into_exact::<PyDict>()?;
        let mut flags = Vec::with_capacity(self.flags.len());
        for flag in &self.flags {
            flags.push(item(&consent, flag.bind(py))?);
        }
        let destination = item(&record, intern!(py, "destination"))?.cast_into_exact::<PyDict>()?;
        let cross = !origin_service.is_none() && origin_service.ne(&service)?;
        let shape = PyTuple::new(
            py,
            [
                purpose.clone(),
                if services.contains(&service)? { service.clone() } else { none.clone() },
                if services.contains(origin)? { origin.clone() } else { none.clone() },
                PyBool::new(py, cross).to_owned().into_any(),
                item(&destination, intern!(py, "kind"))?,
                item(&record, intern!(py, "operation"))?,
                item(&record, intern!(py, "processing"))?,
                PyTuple::new(py, flags)?.into_any(),
            ],
        )?;
        let Some(plan) = self.plans.bind(py).get_item(&shape)? else {
            return Ok(None); // a shape not compiled yet: Python compiles it
        };
        let elements = item(&record, intern!(py, "elements"))?.cast_into_exact::<PyList>()?;
        let seen_plans = plan.getattr(intern!(py, "seen"))?.cast_into_exact::<PyDict>()?;
        let Some(seen) = seen_plans.get_item(elements.to_tuple())? else {
            return Ok(None); // an element list not seen with this shape yet
        };
        let subject = item(&record, intern!(py, "subject_id"))?;
        let subject = if subject.is_none() { None } else { Some(subject.cast_into::<PyString>()?) };
        let mut steps = Vec::new();
        let mut actor = None;
        let mut reid_key = None;
        for step in seen.getattr(intern!(py, "steps"))?.cast_into_exact::<PyTuple>()?.iter() {
            let check: i64 = step.getattr(intern!(py, "check"))?.extract()?;
            if check == self.fires {
                steps.push(Planned::Fires(step));
            } else if check == self.opted_out {
                let flag = step
                    .getattr(intern!(py, "plan"))?
                    .getattr(intern!(py, "rule"))?
                    .getattr(intern!(py, "params"))?
                    .get_item(intern!(py, "flag"))?;
                let Some(on_event) = consent.get_item(&flag)? else {
                    return Ok(None);
                };
                let out = if on_event.is_truthy()? {
                    true
                } else if let Some(subject) = &subject {
                    let key = joined(&self.consent_prefix, "", subject.to_str()?);
                    match batch.consent.get_item(key)? {
                        None => false,
                        Some(known) => {
                            let Ok(known) = known.cast_exact::<PyDict>() else {
                                return Ok(None);
                            };
                            match known.get_item(&flag)? {
                                Some(set) => set.is_truthy()?,
                                None => false,
                            }
                        }
                    }
                } else {
                    false
                };
                steps.push(Planned::OptedOut(step, out));
            } else if check == self.reidentification {
                let linkable = step.getattr(intern!(py, "linkable"))?.is_truthy()?;
                let identifying = step.getattr(intern!(py, "identifying"))?.is_truthy()?;
                if let Some(subject) = &subject {
                    if actor.is_none() {
                        let who =
                            item(&record, intern!(py, "actor"))?.cast_into_exact::<PyDict>()?;
                        let kind = item(&who, intern!(py, "kind"))?.cast_into::<PyString>()?;
                        let id = item(&who, intern!(py, "id"))?.cast_into::<PyString>()?;
                        actor = Some(PyString::new(py, &joined(kind.to_str()?, ":", id.to_str()?)));
                    }
                    if reid_key.is_none() {
                        let Some(name) = actor.as_ref() else { return Ok(None) };
                        let key =
                            PyString::new(py, &joined(&self.reid_prefix, "", subject.to_str()?));
                        if !self.reid_valid(py, &batch.reid, &key, name)? {
                            return Ok(None);
                        }
                        reid_key = Some(key);
                    }
                }
                steps.push(Planned::Reidentification(step, linkable, identifying));
            } else {
                return Ok(None);
            }
        }
        let partition = message.getattr(intern!(py, "partition"))?;
        let raises_watermark = match batch.watermarks.get_item(&partition)? {
            None => occurred_ms > 0,
            Some(mark) => match exact_long(&mark) {
                Some(mark) => occurred_ms > mark,
                None => return Ok(None),
            },
        };
        let category = match &known {
            Some(known) => known.getattr(intern!(py, "category"))?,
            None => none,
        };
        Ok(Some(Prepared {
            event_id: item(&record, intern!(py, "event_id"))?,
            value,
            record,
            occurred_ms,
            raises_watermark,
            partition,
            service,
            known,
            category,
            seen,
            steps,
            reid_key,
            actor,
        }))
    }

    /// Whether the re-identification value of `subject` has the form `observe` works on.
    fn reid_valid(
        &self,
        py: Python<'_>,
        reid: &Bound<'_, PyDict>,
        key: &Bound<'_, PyString>,
        actor: &Bound<'_, PyString>,
    ) -> PyResult<bool> {
        let Some(wrapped) = reid.get_item(key)? else {
            return Ok(true);
        };
        let Ok(wrapped) = wrapped.cast_exact::<PyDict>() else {
            return Ok(false);
        };
        if wrapped.get_item(intern!(py, "t"))?.and_then(|t| exact_long(&t)).is_none() {
            return Ok(false);
        }
        let Some(actors) = wrapped.get_item(intern!(py, "v"))? else {
            return Ok(false);
        };
        let Ok(actors) = actors.cast_exact::<PyDict>() else {
            return Ok(false);
        };
        let names =
            [intern!(py, "linkable_at"), intern!(py, "identifying_at"), intern!(py, "fired_at")];
        let entry_valid = |entry: &Bound<'_, PyAny>| {
            entry
                .cast_exact::<PyDict>()
                .is_ok_and(|entry| names.iter().all(|name| time_field(entry, name).is_some()))
        };
        let entry = actors.get_item(actor)?;
        if let Some(entry) = &entry {
            if !entry_valid(entry) {
                return Ok(false);
            }
        }
        // pruning reads every entry's times
        if actors.len() + usize::from(entry.is_none()) > self.prune_above {
            return Ok(actors.iter().all(|(_, entry)| entry_valid(&entry)));
        }
        Ok(true)
    }

    /// Write the message's state and outputs (or hand its findings to `tail`).
    fn commit<'py>(
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        event: Prepared<'py>,
        batch: &Batch<'py>,
        tail: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        // TableState.at(partition, occurred_ms)
        if event.raises_watermark {
            batch.watermarks.set_item(&event.partition, event.occurred_ms)?;
        }
        batch.state.setattr(intern!(py, "partition"), &event.partition)?;
        batch.state.setattr(intern!(py, "event_ms"), event.occurred_ms)?;
        let mut fired = Vec::new();
        for step in &event.steps {
            match step {
                Planned::Fires(step) => fired.push(step.clone()),
                Planned::OptedOut(step, out) => {
                    if *out {
                        fired.push(step.clone());
                    }
                }
                Planned::Reidentification(step, linkable, identifying) => {
                    if let (Some(key), Some(actor)) = (&event.reid_key, &event.actor) {
                        if self.observe(py, batch, &event, key, actor, *linkable, *identifying)? {
                            fired.push(step.clone());
                        }
                    }
                }
            }
        }
        let known = event.known.clone().unwrap_or_else(|| py.None().into_bound(py));
        let fired = PyList::new(py, fired)?;
        let written = self.outputs(py, message, &event, &fired, batch).ok().flatten();
        let Some(outputs) = written else {
            // what the native code does not write, Python does (and says what is wrong)
            tail.call1((message, &event.record, &event.seen, known, fired, event.occurred_ms))?;
            return Ok(());
        };
        for output in outputs {
            batch.outputs.append(output)?;
        }
        let category = if !event.category.is_truthy()? {
            self.no_category.bind(py).clone().into_any()
        } else {
            event.category.clone()
        };
        count(&batch.events, PyTuple::new(py, [event.service.clone(), category])?)?;
        batch.occurred.append(PyFloat::new(py, event.occurred_ms as f64 / 1000.0))?;
        Ok(())
    }

    /// The event's outputs: its tagged event, then a Violation per finding of the `fired`
    /// steps (`Findings::make`), with the violations counted; None where the native code does
    /// not make or write them all (nothing written or counted then: the Python tail does it).
    fn outputs<'py>(
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        event: &Prepared<'py>,
        fired: &Bound<'py, PyList>,
        batch: &Batch<'py>,
    ) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
        let purpose_known = PyBool::new(py, event.known.is_some()).to_owned().into_any();
        let (summaries, findings) = if fired.is_empty() {
            (PyTuple::empty(py).into_any(), None)
        } else {
            // findings or Violation fields not made here: the Python tail does the event
            if self.violation_fields.is_none() {
                return Ok(None);
            }
            let Some(made) = self.findings.make(py, fired, event, self.policy_version.bind(py))?
            else {
                return Ok(None);
            };
            let summaries = PyList::empty(py);
            for finding in made.iter() {
                summaries.append(self.findings.summary(py, &finding)?)?;
            }
            (summaries.into_any(), Some(made))
        };
        let encoded = self.elements_of(py, &event.seen)?;
        let policy_version = self.policy_version.bind(py);
        let Ok(spliced) = self.splicer.get().splice(
            event.value.as_bytes(),
            self.header.len(),
            |name| {
                Ok(match name.bind(py).to_str()? {
                    "policy_version" => policy_version.clone().into_any(),
                    "purpose_category" => event.category.clone(),
                    _ => purpose_known.clone(),
                })
            },
            |value| {
                Ok(match self.values[value] {
                    Value::ProcessedAt => batch.processed_at.clone().into_any(),
                    Value::Elements => encoded.clone().into_any(),
                    Value::Summaries => summaries.clone(),
                })
            },
        ) else {
            return Ok(None); // bytes the splicer does not read: Python encodes in full
        };
        let key = message.getattr(intern!(py, "key"))?;
        let mut outputs =
            vec![self.output(py, self.tagged_topic.bind(py), &key, &spliced, batch)?];
        if let (Some(findings), Some(fields)) = (findings, &self.violation_fields) {
            let mut body = Vec::with_capacity(512);
            for finding in findings.iter() {
                body.clear();
                body.extend_from_slice(&self.violation_header);
                self.write_violation(py, fields, &finding, event, batch, &mut body)?;
                outputs.push(self.output(
                    py,
                    self.violations_topic.bind(py),
                    &key,
                    &body,
                    batch,
                )?);
                let rule = finding.getattr(intern!(py, "rule"))?;
                let severity = finding.getattr(intern!(py, "severity"))?;
                let mode = finding.getattr(intern!(py, "mode"))?;
                count(
                    &batch.violations,
                    PyTuple::new(py, [rule, severity, mode, event.service.clone()])?,
                )?;
            }
        }
        Ok(Some(outputs))
    }

    /// The body of the Violation record of `finding`, written field by field.
    #[allow(clippy::too_many_arguments)]
    fn write_violation<'py>(
        &self,
        py: Python<'py>,
        fields: &[(usize, Source)],
        finding: &Bound<'py, PyAny>,
        event: &Prepared<'py>,
        batch: &Batch<'py>,
        out: &mut Vec<u8>,
    ) -> PyResult<()> {
        let nodes = &self.violation_writer.get().nodes;
        for (node, source) in fields {
            let value = match source {
                Source::Finding(name) => finding.getattr(name.bind(py))?,
                Source::Event(name) => item(&event.record, name.bind(py))?,
                Source::Actor(name) => item(
                    &item(&event.record, intern!(py, "actor"))?.cast_into_exact::<PyDict>()?,
                    name.bind(py),
                )?,
                Source::DestinationKind => item(
                    &item(&event.record, intern!(py, "destination"))?
                        .cast_into_exact::<PyDict>()?,
                    intern!(py, "kind"),
                )?,
                Source::DetectedAt => batch.now.clone(),
                Source::PolicyVersion => self.policy_version.bind(py).clone().into_any(),
                Source::PurposeCategory => event.category.clone(),
            };
            put_value(nodes, *node, &value, out, 1)?;
        }
        Ok(())
    }

    /// An `Output` of the batch (topic, key, value, the policy version header, no partition).
    fn output<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyString>,
        key: &Bound<'py, PyAny>,
        value: &[u8],
        batch: &Batch<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.new_output(
            py,
            [
                topic.clone().into_any(),
                key.clone(),
                PyBytes::new(py, value).into_any(),
                batch.headers.clone(),
                py.None().into_bound(py),
            ],
        )
    }

    /// An `Output` of `items` (topic, key, value, headers, partition).
    fn new_output<'py>(
        &self,
        py: Python<'py>,
        items: [Bound<'py, PyAny>; 5],
    ) -> PyResult<Bound<'py, PyAny>> {
        new_tuple(py, self.output.bind(py), items.into_iter().collect())
    }

    /// `dua_stream.policy.stateful.observe_reidentification` followed by `TableState.put`,
    /// line for line (the dicts' key order is the changelog's JSON key order).
    #[allow(clippy::too_many_arguments)]
    fn observe<'py>(
        &self,
        py: Python<'py>,
        batch: &Batch<'py>,
        event: &Prepared<'py>,
        key: &Bound<'py, PyString>,
        actor: &Bound<'py, PyString>,
        linkable: bool,
        identifying: bool,
    ) -> PyResult<bool> {
        let at = event.occurred_ms;
        let window = self.window_ms;
        let wrapped =
            batch.reid.get_item(key)?.map(|w| w.cast_into_exact::<PyDict>()).transpose()?;
        let actors = match &wrapped {
            Some(wrapped) => item(wrapped, intern!(py, "v"))?.cast_into_exact::<PyDict>()?,
            None => PyDict::new(py),
        };
        let entry = match actors.get_item(actor)? {
            Some(entry) => entry.cast_into_exact::<PyDict>()?,
            None => {
                let entry = PyDict::new(py);
                actors.set_item(actor, &entry)?;
                entry
            }
        };
        let linkable_at = intern!(py, "linkable_at");
        let identifying_at = intern!(py, "identifying_at");
        let fired_at = intern!(py, "fired_at");
        let fired_by = intern!(py, "fired_by");
        let time = |name: &Bound<'py, PyString>| -> PyResult<Option<i64>> {
            entry.get_item(name)?.map(|t| t.extract::<i64>()).transpose()
        };
        if linkable {
            entry.set_item(linkable_at, at.max(time(linkable_at)?.unwrap_or(at)))?;
        }
        if identifying {
            entry.set_item(identifying_at, at.max(time(identifying_at)?.unwrap_or(at)))?;
        }
        let other = if linkable && identifying {
            Some(at)
        } else {
            time(if linkable { identifying_at } else { linkable_at })?
        };
        let repeat = match entry.get_item(fired_by)? {
            Some(by) => by.eq(&event.event_id)?,
            None => event.event_id.is_none(),
        };
        let fire = if repeat {
            true // a repeat of the access that made the finding
        } else {
            let fire = within(at, other, window) && !within(at, time(fired_at)?, window);
            if fire {
                entry.set_item(fired_at, at)?;
                entry.set_item(fired_by, &event.event_id)?;
            }
            fire
        };
        if actors.len() > self.prune_above {
            let horizon = at - window;
            let mut stale = Vec::new();
            for (name, entry) in actors.iter() {
                let entry = entry.cast_into_exact::<PyDict>()?;
                let mut newest = 0;
                for field in [linkable_at, identifying_at, fired_at] {
                    if let Some(t) = entry.get_item(field)? {
                        newest = newest.max(t.extract::<i64>()?);
                    }
                }
                if newest < horizon {
                    stale.push(name);
                }
            }
            for name in stale {
                actors.del_item(name)?;
            }
        }
        // TableState.put
        let newest = match &wrapped {
            Some(wrapped) => {
                event.occurred_ms.max(item(wrapped, intern!(py, "t"))?.extract::<i64>()?)
            }
            None => event.occurred_ms,
        };
        let value = PyDict::new(py);
        value.set_item(intern!(py, "p"), &event.partition)?;
        value.set_item(intern!(py, "t"), newest)?;
        value.set_item(intern!(py, "v"), &actors)?;
        batch.reid.set_item(key, value)?;
        batch.changes.set_item(
            PyTuple::new(py, [self.reid_table.bind(py).clone(), key.clone()])?,
            &event.partition,
        )?;
        Ok(fire)
    }

    /// The encoded tagged elements of an element plan (Python's writer, once per plan).
    fn elements_of<'py>(
        &mut self,
        py: Python<'py>,
        seen: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let id = seen.as_ptr() as usize;
        if let Some((_, encoded)) = self.encoded.get(&id) {
            return Ok(encoded.bind(py).clone());
        }
        let tagged = seen.getattr(intern!(py, "tagged"))?;
        let encoded = self.elements.bind(py).call1((tagged,))?.cast_into::<PyBytes>()?;
        if self.encoded.len() >= ENCODED_LIMIT {
            self.encoded.clear();
        }
        // the plan is kept alive with its entry: its address is not reused while remembered
        self.encoded.insert(id, (seen.clone().unbind(), encoded.clone().unbind()));
        Ok(encoded)
    }
}
