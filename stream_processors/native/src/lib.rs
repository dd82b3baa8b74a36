//! The stream processor's native acceleration: `AccessPath`, the per-event work on access
//! events for the common case, in one call per batch (module `access_path`).
//!
//! Byte-level work (the Avro reader and writer, the tagged-event splicer, the quick check)
//! is the schemas crate's (`schemas/native`), built here from the same plain data programs
//! the Python code compiles. What crosses from Python is declared in module `spec`: plain data
//! read by field name, and the engine's own lookup tables. See stream_processors/README.md.

use pyo3::prelude::*;

mod access_path;
mod changelog;
mod spec;

#[pymodule]
fn dua_stream_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<access_path::AccessPath>()?;
    Ok(())
}
