//! The declared interface: what `AccessPath` is built from and what it reads of a batch,
//! read from Python objects by field name (`dua_stream.processor.fastpath.AccessPathSpec`,
//! `dua_policy.engine.EngineTables`, `dua_stream.processor.splice.SplicePlan`,
//! `dua_stream.processor.state.StateView`). Public names only; plain data, except the engine's
//! own lookup tables and the few callables named below.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

/// `AccessPathSpec`: see its docstring in `fastpath.py` for each field.
#[derive(FromPyObject)]
pub struct AccessPathSpec {
    // byte level: programs of `dua_schemas.avro_reader.compile_program`, and framings
    pub access_program: Py<PyList>,
    pub access_header: Py<PyBytes>,
    pub quick_check: Py<PyAny>,
    pub splice: SplicePlan,
    pub splice_values: Vec<String>,
    pub violation_program: Py<PyList>,
    pub violation_header: Py<PyBytes>,
    pub interned_fields: Vec<String>,
    // the policy: the engine's tables, and the meaning of its compiled steps
    pub tables: Tables,
    pub policy_version: Py<PyString>,
    pub fires: i64,
    pub opted_out: i64,
    pub consent_missing: i64,
    pub reidentification: i64,
    pub prune_above: usize,
    pub consent_prefix: String,
    pub reidentification_prefix: String,
    /// `dua_policy.stateful.HISTORY`: a consent value with older changes (Python's to read).
    pub consent_history: Py<PyString>,
    /// `dua_stream.processor.recheck`: the key prefix, entries field and bound of the
    /// accesses kept for a consent re-check.
    pub judged_prefix: String,
    pub judged_entries: Py<PyString>,
    pub judged_kept: usize,
    /// `Engine.finding(step, event)`: the finding of a fired step (message, violation id).
    pub finding: Py<PyAny>,
    // the processor: its outputs and state tables
    pub reidentification_table: Py<PyString>,
    pub consent_table: Py<PyString>,
    pub output: Py<PyAny>,
    pub tagged_topic: Py<PyString>,
    pub violations_topic: Py<PyString>,
    pub no_category: Py<PyString>,
    /// The encoded tagged elements of an element plan (`ElementsPlan.tagged` -> bytes).
    pub elements: Py<PyAny>,
}

/// `SplicePlan`: the arguments of a `Splicer`, as plain data.
#[derive(FromPyObject)]
pub struct SplicePlan {
    pub input_program: Py<PyList>,
    pub output_program: Py<PyList>,
    pub header: Py<PyBytes>,
    pub steps: Py<PyList>,
    pub needed: usize,
}

/// `EngineTables`: the engine's own lookup objects (not copies: a shape the Python path
/// compiles is found here on the next event).
#[derive(FromPyObject)]
pub struct Tables {
    pub purposes: Py<PyDict>,
    pub services: Py<PyAny>,
    pub consent_flags: Vec<Py<PyString>>,
    pub plans: Py<PyDict>,
    pub window_ms: i64,
    /// (destination kind, name) pairs the policy declares as recipients.
    pub recipients: Py<PyAny>,
    /// record_count thresholds of the purposes that have their own, and the default.
    pub thresholds: Py<PyDict>,
    pub threshold: i64,
}

/// `TableState.view()`: the state's stores themselves, read and written here as `get`, `put`
/// and `at` do; the caller checks they are plain dicts.
#[derive(FromPyObject)]
pub struct StateView<'py> {
    pub consent: Bound<'py, PyAny>,
    pub reidentification: Bound<'py, PyAny>,
    pub changes: Bound<'py, PyAny>,
    pub watermarks: Bound<'py, PyAny>,
    pub consent_partitions: Bound<'py, PyAny>,
}

/// `NativeBatch`: one batch's inputs, results and callbacks (see `AccessPath::run`).
#[derive(FromPyObject)]
pub struct BatchInput<'py> {
    /// The raw-topic records, in order (`value`, `key` and `partition` are read).
    pub messages: Bound<'py, PyAny>,
    /// The `TableState`: its `view()` is read and written, its `partition` and `event_ms` set.
    pub state: Bound<'py, PyAny>,
    /// The `BatchResult`: `outputs`, `events`, `violations` and `occurred_at` are added to.
    pub result: Bound<'py, PyAny>,
    pub processed_at: Bound<'py, PyBytes>,
    pub now: Bound<'py, PyAny>,
    pub latest_ms: i64,
    pub headers: Bound<'py, PyAny>,
    /// `slow(message)`: the Python path for a message, before anything is changed.
    pub slow: Bound<'py, PyAny>,
    /// `tail(message, event, elements_plan, purpose, fired_steps, occurred_ms)`: the verdict
    /// and outputs in Python of an event whose state is written.
    pub tail: Bound<'py, PyAny>,
}
