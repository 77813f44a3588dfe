//! Reads the site folder (`content/site.yaml`, `content/datasets/*/dataset.yaml`) into a
//! validated [`Content`]; reports every problem as a `path:line:col` [`Diagnostic`].
//!
//! This is the only stage that reads descriptors, and it never writes anything.

mod diagnostic;
mod model;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use model::*;
