//! Reads the site folder (`content/site.yaml`, `content/datasets/*/dataset.yaml`) into a
//! validated [`Content`]; reports every problem as a `path:line:col` [`Diagnostic`].
//!
//! This is the only stage that reads descriptors, and it never writes anything.

pub mod annotation;
mod config;
mod dataset;
pub mod description;
mod diagnostic;
pub mod model;
pub mod segments;
mod volume;
mod yaml;

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

pub use config::{is_slug, load_config, site_yaml};
use dataset::load_dataset;
pub use diagnostic::{report, Diagnostic, Diagnostics};
pub use model::*;
pub use volume::RemoteVolume;

/// Reads and validates the whole site; every problem of every file is reported together,
/// with paths relative to `root`.
pub fn load(root: &Path) -> Result<Content, Diagnostics> {
    load_reusing(root, |_| None)
}

/// [`load`], taking each dataset folder's [`Dataset`] from `known` when it has one (a caller
/// that knows the folder is unchanged since it was loaded) instead of reading it again.
pub fn load_reusing(
    root: &Path,
    known: impl Fn(&Path) -> Option<Arc<Dataset>> + Sync,
) -> Result<Content, Diagnostics> {
    let mut problems = Diagnostics::default();
    let config = load_config(root);
    let datasets_dir = root.join("content").join("datasets");
    let mut dirs = Vec::new();
    match std::fs::read_dir(&datasets_dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let path = entry.path();
                if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    dirs.push(path);
                } else if entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
                    problems.push(Diagnostic::new(
                        &path,
                        "dataset folders may not be symlinks (their files could lie anywhere); move the folder here",
                    ));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(Diagnostic::new(
            &datasets_dir,
            format!("cannot list datasets: {e}"),
        )),
    }
    dirs.sort();
    // Dataset folders are not symlinks (refused above), so resolving their parent once is
    // enough: `realpath` of each folder cost seven syscalls a dataset.
    let canonical = datasets_dir
        .canonicalize()
        .unwrap_or_else(|_| datasets_dir.clone());

    let results: Vec<_> = dirs
        .par_iter()
        .map(|dir| {
            let canonical_dir = canonical.join(dir.file_name().expect("listed folders have names"));
            known(dir).map_or_else(|| load_dataset(dir, &canonical_dir).map(Arc::new), Ok)
        })
        .collect();
    let mut datasets = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(d) => datasets.push(d),
            Err(ds) => ds.into_iter().for_each(|d| problems.push(d)),
        }
    }
    let config = match config {
        Ok(c) => Some(c),
        Err(ds) => {
            ds.into_iter().for_each(|d| problems.push(d));
            None
        }
    };
    match config {
        Some(config) if problems.is_empty() => {
            datasets.sort_by(|a, b| a.slug.cmp(&b.slug));
            Ok(Content {
                root: root.to_path_buf(),
                config,
                datasets,
            })
        }
        _ => Err(Diagnostics(
            problems
                .0
                .into_iter()
                .map(|d| d.relative_to(root))
                .collect(),
        )
        .sorted()),
    }
}
