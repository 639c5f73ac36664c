//! The JS mount API: `mount(element, options) → handle` with `handle.unmount()`,
//! `handle.loadRows(rows, options)` and `handle.exportAnnotations()`; the app
//! tells the host what happens through `fannotate:*` DOM events.
//!
//! The bundled page and host pages use the same entry; every element with a
//! `data-fannotate-mount` attribute is mounted at start-up, reading its options
//! from `data-*` attributes.

mod autostart;
mod host_api;
mod mount;

pub use mount::{mount, MountHandle};
