//! `AccessPath`: the stream processor's per-event work on access events, for the common case,
//! in one native call per batch (see `dua_stream.processor.fastpath`).
//!
//! For each raw message of a batch, in order, it does what `BatchProcessor._access` does:
//! decode (single-object framing, newest schema), the quick validation, the policy engine's
//! plan lookups, the stateful checks and their state writes, the spliced tagged event and the
//! violation records. The findings themselves (message, violation id) are the engine's:
//! `Engine.finding`, called for each fired step. What it would not do exactly as Python does
//! it hands back *before it changes anything*: `slow(message)` then runs the Python path for
//! that message. That is any other framing, a body it does not read, an event the quick
//! check does not accept, an unknown purpose, a shape or element list the engine has not
//! compiled yet, an event time too far ahead, and state of an unexpected form. Past that
//! point (state written), what it cannot write natively goes to `tail(...)`, where Python
//! makes the verdict and outputs.
//!
//! The engine's tables (purposes, services, plans) are the engine's own Python objects, read
//! here, never copied: a plan compiled by the Python path is found here on the next event.
//! Three policy rules are restated here, for speed, and held equal to `dua_policy.stateful`
//! and `dua_policy.engine` by the differential tests (tests/unit/stream_processor/
//! test_fastpath.py): an opted-out or consent-missing step (`opted_out`, `consent_given`, for
//! a subject with at most one consent change: a longer history is Python's), the shape's
//! recipient and bulk parts (`Engine._recipient_and_bulk`) and a re-identification step (`observe_reidentification`, its pruning
//! included), and so is keeping an access an opted-out step did not fire on for a consent
//! re-check (`dua_stream.processor.recheck.remember`). Everything else a step means comes
//! from the compiled plan as data.

use dua_schemas_native::{
    datetime_millis, put_value, Checker, Cursor, Interner, Node, Reader, Splicer,
    Step as SpliceStep, Writer,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType,
};
use std::collections::HashMap;

use crate::changelog::json;
use crate::spec::{AccessPathSpec, BatchInput, StateView};

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
    /// 0: found on time (`detected_late_ms`; only a consent re-check finds one late).
    Zero,
}

/// The sources of the Violation writer's fields in order, or None if one is not known here.
fn violation_sources(py: Python<'_>, nodes: &[Node]) -> PyResult<Option<Vec<(usize, Source)>>> {
    let Some(Node::Record(fields)) = nodes.first() else { return Ok(None) };
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
            "detected_late_ms" => Source::Zero,
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

/// See `Prepared::judged`.
type Judged<'py> = (Bound<'py, PyString>, Option<Bound<'py, PyList>>, bool, String);

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
    /// The tagged event's `provision` record (`ElementsPlan.provisions`).
    provision: Bound<'py, PyAny>,
    steps: Vec<Planned<'py>>,
    reid_key: Option<Bound<'py, PyString>>,
    actor: Option<Bound<'py, PyString>>,
    event_id: Bound<'py, PyAny>,
    /// An access to keep for a consent re-check (an opted-out step did not fire, there is a
    /// subject): the key, the entries kept so far, whether it is among them, its payload's
    /// text.
    judged: Option<Judged<'py>>,
}

/// The state and result objects of one batch.
struct Batch<'py> {
    state: Bound<'py, PyAny>,
    reid: Bound<'py, PyDict>,
    consent: Bound<'py, PyDict>,
    changes: Bound<'py, PyDict>,
    watermarks: Bound<'py, PyDict>,
    consent_partitions: Bound<'py, PyDict>,
    now_ms: i64,
    outputs: Bound<'py, PyList>,
    events: Bound<'py, PyDict>,
    violations: Bound<'py, PyDict>,
    occurred: Bound<'py, PyList>,
    processed_at: Bound<'py, PyBytes>,
    now: Bound<'py, PyAny>,
    latest_ms: i64,
    headers: Bound<'py, PyAny>,
}

#[pyclass(module = "dua_stream_native")]
pub struct AccessPath {
    reader: Reader,
    checker: Checker,
    splicer: Splicer,
    header: Vec<u8>,
    values: Vec<Value>,
    purposes: Py<PyDict>,
    services: Py<PyAny>,
    flags: Vec<Py<PyString>>,
    plans: Py<PyDict>,
    window_ms: i64,
    recipients: Py<PyAny>,
    thresholds: Py<PyDict>,
    threshold: i64,
    policy_version: Py<PyString>,
    fires: i64,
    opted_out: i64,
    consent_missing: i64,
    reidentification: i64,
    prune_above: usize,
    reid_prefix: String,
    consent_prefix: String,
    consent_history: Py<PyString>,
    judged_prefix: String,
    judged_entries: Py<PyString>,
    judged_kept: usize,
    finding: Py<PyAny>,
    reid_table: Py<PyString>,
    consent_table: Py<PyString>,
    output: Py<PyAny>,
    tagged_topic: Py<PyString>,
    no_category: Py<PyString>,
    elements: Py<PyAny>,
    violation_writer: Writer,
    violation_header: Vec<u8>,
    violations_topic: Py<PyString>,
    /// Where each field of a Violation comes from, when every one is known here (else
    /// `Verdict.violation_records` makes the records in Python).
    violation_fields: Option<Vec<(usize, Source)>>,
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

/// `base64.b64encode(data).decode("ascii")`: standard alphabet, padded.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

fn bytes_of(py: Python<'_>, bytes: &Py<PyBytes>) -> Vec<u8> {
    bytes.bind(py).as_bytes().to_vec()
}

#[pymethods]
impl AccessPath {
    /// Built from an `AccessPathSpec` (`dua_stream.processor.fastpath`), read by field name.
    #[new]
    fn new(py: Python<'_>, spec: AccessPathSpec) -> PyResult<Self> {
        let values = spec
            .splice_values
            .iter()
            .map(|kind| match kind.as_str() {
                "processed_at" => Ok(Value::ProcessedAt),
                "elements" => Ok(Value::Elements),
                "summaries" => Ok(Value::Summaries),
                other => Err(PyValueError::new_err(format!(
                    "the fast path cannot give the splicer value {other:?}"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let plan = &spec.splice;
        let splicer = Splicer::new(
            py,
            plan.input_program.bind(py),
            plan.output_program.bind(py),
            plan.header.bind(py).as_bytes(),
            plan.steps.bind(py),
            plan.needed,
        )?;
        if values.len() < splicer.values {
            return Err(PyValueError::new_err("fewer values than the steps use"));
        }
        for step in &splicer.steps {
            if let SpliceStep::Attr(_, name) = step {
                let name = name.bind(py).to_str()?;
                if !matches!(
                    name,
                    "policy_version" | "purpose_category" | "purpose_known" | "provision"
                ) {
                    return Err(PyValueError::new_err(format!(
                        "the fast path cannot give the verdict's {name:?}"
                    )));
                }
            }
        }
        if !spec.output.bind(py).cast::<PyType>()?.is_subclass_of::<PyTuple>()? {
            return Err(PyTypeError::new_err("output must be a tuple type"));
        }
        let reader = Reader::new(py, spec.access_program.bind(py))?;
        let strings = Interner::new(py, &reader.nodes, &spec.interned_fields, STRINGS_LIMIT);
        let violation_writer = Writer::new(py, spec.violation_program.bind(py))?;
        let violation_fields = violation_sources(py, &violation_writer.nodes)?;
        let tables = spec.tables;
        Ok(AccessPath {
            reader,
            checker: Checker::new(py, spec.quick_check.bind(py))?,
            splicer,
            header: bytes_of(py, &spec.access_header),
            values,
            purposes: tables.purposes,
            services: tables.services,
            flags: tables.consent_flags,
            plans: tables.plans,
            window_ms: tables.window_ms,
            recipients: tables.recipients,
            thresholds: tables.thresholds,
            threshold: tables.threshold,
            policy_version: spec.policy_version,
            fires: spec.fires,
            opted_out: spec.opted_out,
            consent_missing: spec.consent_missing,
            reidentification: spec.reidentification,
            prune_above: spec.prune_above,
            reid_prefix: spec.reidentification_prefix,
            consent_prefix: spec.consent_prefix,
            consent_history: spec.consent_history,
            judged_prefix: spec.judged_prefix,
            judged_entries: spec.judged_entries,
            judged_kept: spec.judged_kept,
            finding: spec.finding,
            reid_table: spec.reidentification_table,
            consent_table: spec.consent_table,
            output: spec.output,
            tagged_topic: spec.tagged_topic,
            no_category: spec.no_category,
            elements: spec.elements,
            violation_writer,
            violation_header: bytes_of(py, &spec.violation_header),
            violations_topic: spec.violations_topic,
            violation_fields,
            encoded: HashMap::new(),
            strings,
        })
    }

    /// Process a batch's raw messages, in order, into its result (a `NativeBatch`, read by
    /// field name; `slow` and `tail` as the module says). Returns how many it processed itself.
    fn run<'py>(&mut self, py: Python<'py>, input: BatchInput<'py>) -> PyResult<usize> {
        let view = stores(&input.state)?;
        let result = &input.result;
        let found = (
            view,
            result.getattr(intern!(py, "outputs"))?.cast_into_exact::<PyList>().ok(),
            result.getattr(intern!(py, "events"))?.cast_into::<PyDict>().ok(),
            result.getattr(intern!(py, "violations"))?.cast_into::<PyDict>().ok(),
            result.getattr(intern!(py, "occurred_at"))?.cast_into_exact::<PyList>().ok(),
        );
        let (
            Some((reid, consent, changes, watermarks, consent_partitions)),
            Some(outputs),
            Some(events),
            Some(violations),
            Some(occurred),
        ) = found
        else {
            // stores of another kind: every message the Python way
            for message in input.messages.try_iter()? {
                input.slow.call1((message?,))?;
            }
            return Ok(0);
        };
        let batch = Batch {
            state: input.state.clone(),
            reid,
            consent,
            changes,
            watermarks,
            consent_partitions,
            now_ms: datetime_millis(input.now.cast::<PyDateTime>()?)?,
            outputs,
            events,
            violations,
            occurred,
            processed_at: input.processed_at.clone(),
            now: input.now.clone(),
            latest_ms: input.latest_ms,
            headers: input.headers.clone(),
        };
        let mut done = 0;
        for message in input.messages.try_iter()? {
            let message = message?;
            // an error while reading is a message for Python: it says precisely what is wrong
            match self.prepare(py, &message, &batch).ok().flatten() {
                Some(event) => {
                    self.commit(py, &message, event, &batch, &input.tail)?;
                    done += 1;
                }
                None => {
                    input.slow.call1((&message,))?;
                }
            }
        }
        Ok(done)
    }

    /// `TableState.drain_changes` made into changelog outputs (appended to `outputs`), the
    /// keys and values in JSON as orjson writes them; `topics`: table name -> changelog topic.
    /// False, with nothing drained, when a key or value is of a kind left to orjson (or the
    /// stores are not plain dicts).
    fn drain<'py>(
        &self,
        py: Python<'py>,
        state: &Bound<'py, PyAny>,
        outputs: &Bound<'py, PyList>,
        topics: &Bound<'py, PyDict>,
    ) -> PyResult<bool> {
        let Some((reid, consent, changes, _, _)) = stores(state)? else { return Ok(false) };
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

/// The stores of a `TableState` (`view()`: re-identification, consent, changes, watermarks,
/// consent partitions), or None when one is not a plain dict (then Python reads and writes
/// them).
#[allow(clippy::type_complexity)]
fn stores<'py>(
    state: &Bound<'py, PyAny>,
) -> PyResult<
    Option<(
        Bound<'py, PyDict>,
        Bound<'py, PyDict>,
        Bound<'py, PyDict>,
        Bound<'py, PyDict>,
        Bound<'py, PyDict>,
    )>,
> {
    let view: StateView<'py> = state.call_method0(intern!(state.py(), "view"))?.extract()?;
    let exact = |store: Bound<'py, PyAny>| store.cast_into_exact::<PyDict>().ok();
    Ok(
        match (
            exact(view.reidentification),
            exact(view.consent),
            exact(view.changes),
            exact(view.watermarks),
            exact(view.consent_partitions),
        ) {
            (Some(reid), Some(consent), Some(changes), Some(watermarks), Some(partitions)) => {
                Some((reid, consent, changes, watermarks, partitions))
            }
            _ => None,
        },
    )
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
        let mut cursor = Cursor::new(body, self.header.len());
        let record = self.reader.value_in(py, 0, &mut cursor, 0, Some(&mut self.strings))?;
        if cursor.pos != body.len() || !self.checker.accepts(&record) {
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
        // the shape's recipient and bulk parts, as `Engine._recipient_and_bulk` makes them
        let kind = item(&destination, intern!(py, "kind"))?;
        let name = item(&destination, intern!(py, "name"))?;
        let declared = !name.is_none()
            && self.recipients.bind(py).contains(PyTuple::new(py, [&kind, &name])?)?;
        let threshold = if purpose.is_none() {
            self.threshold
        } else {
            match self.thresholds.bind(py).get_item(&purpose)? {
                Some(own) => own.extract()?,
                None => self.threshold,
            }
        };
        let Some(record_count) = exact_long(&item(&record, intern!(py, "record_count"))?) else {
            return Ok(None);
        };
        let shape = PyTuple::new(
            py,
            [
                purpose.clone(),
                if services.contains(&service)? { service.clone() } else { none.clone() },
                if services.contains(origin)? { origin.clone() } else { none.clone() },
                PyBool::new(py, cross).to_owned().into_any(),
                kind,
                item(&record, intern!(py, "operation"))?,
                item(&record, intern!(py, "processing"))?,
                PyTuple::new(py, flags)?.into_any(),
                if declared { name } else { none.clone() },
                PyBool::new(py, record_count > threshold).to_owned().into_any(),
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
        // the APPI provision record: the element plan's, unless the link consent decides it
        // (an Art. 31 case: Python's, as `Engine.classify` asks the consent history)
        let provisions = seen.getattr(intern!(py, "provisions"))?.cast_into::<PyTuple>()?;
        let provision = provisions.get_item(0)?;
        if !provision.is(&provisions.get_item(1)?) {
            return Ok(None);
        }
        let subject = item(&record, intern!(py, "subject_id"))?;
        let subject = if subject.is_none() { None } else { Some(subject.cast_into::<PyString>()?) };
        let mut steps = Vec::new();
        let mut actor = None;
        let mut reid_key = None;
        let mut judged = None;
        for step in seen.getattr(intern!(py, "steps"))?.cast_into_exact::<PyTuple>()?.iter() {
            let check: i64 = step.getattr(intern!(py, "check"))?.extract()?;
            if check == self.fires {
                steps.push(Planned::Fires(step));
            } else if check == self.opted_out || check == self.consent_missing {
                let flag = step.getattr(intern!(py, "flag"))?;
                // a flag the event cannot carry (third_party_link_consent) comes from the
                // consent stream alone
                let on_event = match consent.get_item(&flag)? {
                    Some(set) => set.is_truthy()?,
                    None => false,
                };
                let out = if on_event {
                    true
                } else if let Some(subject) = &subject {
                    let key = joined(&self.consent_prefix, "", subject.to_str()?);
                    match batch.consent.get_item(key)? {
                        None => false,
                        Some(known) => {
                            let Ok(known) = known.cast_exact::<PyDict>() else {
                                return Ok(None);
                            };
                            // a history of changes is Python's (`consent_in_force`)
                            if known.contains(self.consent_history.bind(py))? {
                                return Ok(None);
                            }
                            let at = known
                                .get_item(intern!(py, "occurred_at"))?
                                .and_then(|at| exact_long(&at));
                            let Some(at) = at else { return Ok(None) };
                            // the one change is in force from its own millisecond on
                            at <= occurred_ms
                                && match known.get_item(&flag)? {
                                    Some(set) => set.is_truthy()?,
                                    None => false,
                                }
                        }
                    }
                } else {
                    false
                };
                if check == self.consent_missing {
                    // `consent_given`: the finding is made unless the consent was in force
                    if !out {
                        steps.push(Planned::Fires(step));
                    }
                    continue;
                }
                if !out && judged.is_none() {
                    if let Some(subject) = &subject {
                        let Some(kept) = self.judged_of(py, batch, subject, &value)? else {
                            return Ok(None);
                        };
                        judged = Some(kept);
                    }
                }
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
            provision,
            seen,
            steps,
            reid_key,
            actor,
            judged,
        }))
    }

    /// The key and entries of `subject`'s accesses kept for a consent re-check, whether this
    /// message's payload is among them, and its text; None when the value has a form Python
    /// reads.
    fn judged_of<'py>(
        &self,
        py: Python<'py>,
        batch: &Batch<'py>,
        subject: &Bound<'py, PyString>,
        value: &Bound<'py, PyBytes>,
    ) -> PyResult<Option<Judged<'py>>> {
        let key = PyString::new(py, &joined(&self.judged_prefix, "", subject.to_str()?));
        let text = base64(value.as_bytes());
        let Some(known) = batch.consent.get_item(&key)? else {
            return Ok(Some((key, None, false, text)));
        };
        let Ok(known) = known.cast_exact::<PyDict>() else { return Ok(None) };
        let Some(entries) = known.get_item(self.judged_entries.bind(py))? else {
            return Ok(None);
        };
        let Ok(entries) = entries.cast_into_exact::<PyList>() else { return Ok(None) };
        let mut kept = false;
        for entry in entries.iter() {
            let Ok(entry) = entry.cast_exact::<PyList>() else { return Ok(None) };
            if entry.len() < 3 {
                return Ok(None);
            }
            let Ok(payload) = entry.get_item(2)?.cast_into_exact::<PyString>() else {
                return Ok(None);
            };
            kept |= payload.to_str()? == text;
        }
        Ok(Some((key, Some(entries), kept, text)))
    }

    /// `dua_stream.processor.recheck.remember` followed by `TableState.put`.
    fn remember<'py>(
        &self,
        py: Python<'py>,
        batch: &Batch<'py>,
        event: &Prepared<'py>,
        key: &Bound<'py, PyString>,
        entries: Option<&Bound<'py, PyList>>,
        text: &str,
    ) -> PyResult<()> {
        let entries = match entries {
            Some(entries) => entries.clone(),
            None => PyList::empty(py),
        };
        let entry = PyList::empty(py);
        entry.append(event.occurred_ms)?;
        entry.append(batch.now_ms)?;
        entry.append(PyString::new(py, text))?;
        entries.append(entry)?;
        if entries.len() > self.judged_kept {
            entries.del_item(0)?;
        }
        let value = PyDict::new(py);
        value.set_item(self.judged_entries.bind(py), entries)?;
        value.set_item(intern!(py, "p"), &event.partition)?;
        batch.consent.set_item(key, value)?;
        batch.changes.set_item(
            PyTuple::new(py, [self.consent_table.bind(py).clone(), key.clone()])?,
            &event.partition,
        )?;
        batch.consent_partitions.set_item(key, &event.partition)?;
        Ok(())
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
        if let Some((key, entries, false, text)) = &event.judged {
            self.remember(py, batch, &event, key, entries.as_ref(), text)?;
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
    /// steps (`Engine.finding`'s), with the violations counted; None where the native code does
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
            // the findings are the engine's own (message template, violation id)
            let finding = self.finding.bind(py);
            let made = PyList::empty(py);
            let summaries = PyList::empty(py);
            for step in fired.iter() {
                let made_one = finding.call1((step, &event.record))?;
                summaries.append(made_one.call_method0(intern!(py, "summary"))?)?;
                made.append(made_one)?;
            }
            (summaries.into_any(), Some(made))
        };
        let encoded = self.elements_of(py, &event.seen)?;
        let policy_version = self.policy_version.bind(py);
        let Ok(spliced) = self.splicer.splice(
            event.value.as_bytes(),
            self.header.len(),
            |name| {
                Ok(match name.bind(py).to_str()? {
                    "policy_version" => policy_version.clone().into_any(),
                    "purpose_category" => event.category.clone(),
                    "provision" => event.provision.clone(),
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
        let nodes = &self.violation_writer.nodes;
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
                Source::Zero => 0_i64.into_pyobject(py)?.into_any(),
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

    /// `dua_policy.stateful.observe_reidentification` followed by `TableState.put`,
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
