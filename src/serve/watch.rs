//! Watches `content/` and `themes/` (debounced) and sorts each batch of file events into the
//! kinds of change a rebuild cares about, the way Zola's `fs_utils` does.
//!
//! Editors save in odd ways (a temporary file renamed over the original, delete then create, a
//! backup file beside it); all of them end in events on the real path, and the swap and backup
//! files themselves are ignored. Output and cache folders are never watched.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};

/// Quiet time before a batch is handed over: long enough to gather an editor's rename dance
/// (a few milliseconds), short enough to feel instant. A `git checkout` that takes longer ends
/// in more batches, which the rebuild loop merges while it builds.
const DEBOUNCE: Duration = Duration::from_millis(10);

/// One debounced batch of changes.
#[derive(Debug, Default)]
pub struct Batch {
    /// What changed, sorted by kind (editor litter and outputs have none).
    pub kinds: Vec<ChangeKind>,
    /// Every path the events named, litter included: the build looks at each again.
    pub paths: Vec<PathBuf>,
    /// Events were lost (or the watcher failed): every input must be looked at again.
    pub rescan: bool,
}

/// What changed, sorted by what a rebuild has to redo for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// `content/site.yaml`: settings every page depends on.
    SiteConfig,
    /// `content/shares.yaml`: the ledger, hence the revocation list and the gate.
    Ledger,
    /// A dataset folder appeared or went away (the gallery, indices and its pages).
    DatasetFolder(String),
    /// A dataset's `dataset.yaml` (its page, the gallery and the indices).
    Descriptor(String),
    /// Any other file in a dataset's folder: an image or an annotation file.
    Image(String),
    /// A theme template (the pages that use it).
    Template(PathBuf),
    /// A theme static file (copied as is; stylesheets can be swapped without a reload).
    Static(PathBuf),
    /// Anything else under `content/` or `themes/`, or one of those folders itself.
    Other(PathBuf),
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangeKind::SiteConfig => write!(f, "site config"),
            ChangeKind::Ledger => write!(f, "share ledger"),
            ChangeKind::DatasetFolder(slug) => write!(f, "dataset folder `{slug}`"),
            ChangeKind::Descriptor(slug) => write!(f, "descriptor of `{slug}`"),
            ChangeKind::Image(slug) => write!(f, "file of `{slug}`"),
            ChangeKind::Template(p) => write!(f, "template `{}`", p.display()),
            ChangeKind::Static(p) => write!(f, "static file `{}`", p.display()),
            ChangeKind::Other(p) => write!(f, "`{}`", p.display()),
        }
    }
}

/// Sorts one changed path (absolute, under `root`) into its kind; `None` for paths no build
/// reads: outputs, caches, editor swap and backup files, anything outside `content/` and
/// `themes/`.
pub fn classify(root: &Path, path: &Path) -> Option<ChangeKind> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if is_editor_litter(parts.last()?) {
        return None;
    }
    let kind = match parts.as_slice() {
        ["content", "site.yaml"] => ChangeKind::SiteConfig,
        ["content", "shares.yaml"] => ChangeKind::Ledger,
        ["content", "datasets", slug] => ChangeKind::DatasetFolder((*slug).to_owned()),
        ["content", "datasets", slug, "dataset.yaml"] => ChangeKind::Descriptor((*slug).to_owned()),
        ["content", "datasets", slug, ..] => ChangeKind::Image((*slug).to_owned()),
        ["themes", _, "templates", ..] => ChangeKind::Template(rel.to_path_buf()),
        ["themes", _, "static", ..] => ChangeKind::Static(rel.to_path_buf()),
        ["content" | "themes", ..] => ChangeKind::Other(rel.to_path_buf()),
        _ => return None,
    };
    Some(kind)
}

/// Swap, backup and lock files editors write beside the file being edited.
fn is_editor_litter(name: &str) -> bool {
    name.ends_with('~')
        || name.starts_with(".#")
        || name == "4913"
        || name == ".DS_Store"
        || name.starts_with(".goutputstream-")
        || [
            ".swp",
            ".swx",
            ".swo",
            ".kate-swp",
            "___jb_tmp___",
            "___jb_old___",
        ]
        .iter()
        .any(|s| name.ends_with(s))
}

/// The watcher: alive as long as this value is.
pub struct Watcher {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    root: PathBuf,
    watched: BTreeSet<PathBuf>,
}

impl Watcher {
    /// Starts watching `root` (canonical), sending every batch that names a path to `batches`.
    pub fn start(root: &Path, batches: Sender<Batch>) -> anyhow::Result<Watcher> {
        let base = root.to_path_buf();
        let handler = move |result: DebounceEventResult| match result {
            Ok(events) => {
                let events = events
                    .iter()
                    .filter(|e| !matches!(e.kind, EventKind::Access(_)));
                let mut batch = Batch::default();
                for event in events {
                    batch.rescan |= event.need_rescan();
                    batch.paths.extend(event.paths.iter().cloned());
                }
                batch.kinds = batch
                    .paths
                    .iter()
                    .filter_map(|p| classify(&base, p))
                    .collect();
                batch.kinds.sort();
                batch.kinds.dedup();
                if !batch.paths.is_empty() || batch.rescan {
                    let _ = batches.send(batch);
                }
            }
            Err(errors) => {
                for err in errors {
                    eprintln!("warning: watching files: {err}");
                }
                let _ = batches.send(Batch {
                    rescan: true,
                    ..Batch::default()
                });
            }
        };
        let mut debouncer = new_debouncer(DEBOUNCE, None, handler)?;
        // The root itself, not recursively: to see `content/` or `themes/` appear, without
        // watching `target/` or `public/` trees that can hold millions of files.
        debouncer
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|e| anyhow::anyhow!("cannot watch `{}`: {e}", root.display()))?;
        let mut watcher = Watcher {
            debouncer,
            root: root.to_path_buf(),
            watched: BTreeSet::new(),
        };
        watcher.refresh();
        Ok(watcher)
    }

    /// Watches `content/` and `themes/` recursively if they exist and are not watched yet
    /// (a theme folder may be created while serving). Called before every rebuild.
    pub fn refresh(&mut self) {
        for name in ["content", "themes"] {
            let dir = self.root.join(name);
            let exists = dir.is_dir();
            if exists && !self.watched.contains(&dir) {
                match self.debouncer.watch(&dir, RecursiveMode::Recursive) {
                    Ok(()) => {
                        self.watched.insert(dir);
                    }
                    Err(err) => eprintln!("warning: cannot watch `{}`: {err}", dir.display()),
                }
            } else if !exists {
                // A removed folder's watch is gone with it; watch it again once it is back.
                self.watched.remove(&dir);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str) -> Option<ChangeKind> {
        classify(Path::new("/site"), &Path::new("/site").join(path))
    }

    #[test]
    fn paths_sort_into_kinds() {
        assert_eq!(kind("content/site.yaml"), Some(ChangeKind::SiteConfig));
        assert_eq!(kind("content/shares.yaml"), Some(ChangeKind::Ledger));
        assert_eq!(
            kind("content/datasets/fly"),
            Some(ChangeKind::DatasetFolder("fly".into()))
        );
        assert_eq!(
            kind("content/datasets/fly/dataset.yaml"),
            Some(ChangeKind::Descriptor("fly".into()))
        );
        assert_eq!(
            kind("content/datasets/fly/em/z01.png"),
            Some(ChangeKind::Image("fly".into()))
        );
        assert_eq!(
            kind("themes/lab/templates/page.html"),
            Some(ChangeKind::Template(
                "themes/lab/templates/page.html".into()
            ))
        );
        assert_eq!(
            kind("themes/lab/static/site.css"),
            Some(ChangeKind::Static("themes/lab/static/site.css".into()))
        );
        assert_eq!(kind("themes"), Some(ChangeKind::Other("themes".into())));
    }

    #[test]
    fn outputs_caches_and_editor_litter_are_ignored() {
        for path in [
            "public/index.html",
            ".vitrine-cache/serve-1111/index.html",
            "Cargo.lock",
            "content/datasets/fly/.dataset.yaml.swp",
            "content/datasets/fly/dataset.yaml~",
            "content/datasets/fly/4913",
            "content/.#site.yaml",
            "themes/lab/templates/page.html___jb_tmp___",
        ] {
            assert_eq!(kind(path), None, "{path}");
        }
        assert_eq!(
            classify(
                Path::new("/site"),
                Path::new("/elsewhere/content/site.yaml")
            ),
            None
        );
    }
}
