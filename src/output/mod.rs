//! Writes a built site: every file goes into a staging folder beside the output, the leak
//! guard reads what would be published, and only then does the staging folder replace the
//! output in one atomic rename. A failed or killed build leaves the previous site untouched.
//!
//! Output never decides what a page says; it only places bytes and cached media files.

pub mod edge;
pub mod leak;
mod secrets;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

pub use leak::{LeakGuard, PrivateItem};
pub use secrets::check_no_private_keys;

/// Where the bytes of one output file come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Bytes rendered in memory (pages, indices, JSON).
    Bytes(Vec<u8>),
    /// A file on disk, linked (or copied) into place: cached media, original annotation files.
    File(PathBuf),
}

/// The complete contents of an output folder: output-relative path → source.
pub type Files = BTreeMap<String, Source>;

/// What is known about a previous output: path → BLAKE3 of its bytes, or of the source file's
/// path and identity for linked files. Comparing two manifests says what changed.
pub type Manifest = BTreeMap<String, String>;

/// Replaces `out` with exactly `files`, atomically, and returns the new manifest and the paths
/// whose contents changed (added, modified or removed) relative to `previous`.
///
/// Unchanged files are hard-linked from the previous output instead of written again, and when
/// nothing changed at all the output is left as it is.
pub fn write_atomically(
    out: &Path,
    files: &Files,
    previous: &Manifest,
) -> Result<(Manifest, Vec<String>)> {
    let manifest = manifest_of(files);
    let changed = diff(previous, &manifest);
    if changed.is_empty() && out.is_dir() && manifest_matches_disk(out, &manifest) {
        return Ok((manifest, changed));
    }

    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("creating `{}`", parent.display()))?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("public");
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.staging-"))
        .tempdir_in(parent)
        .with_context(|| format!("creating a staging folder beside `{}`", out.display()))?;

    let dirs: std::collections::BTreeSet<PathBuf> = files
        .keys()
        .filter_map(|p| Path::new(p).parent().map(Path::to_path_buf))
        .collect();
    // In parallel: on a busy disk each `mkdir` waits on the journal, and create_dir_all
    // tolerates a sibling creating the same parent at the same time.
    dirs.par_iter()
        .try_for_each(|dir| fs::create_dir_all(staging.path().join(dir)))?;
    files
        .par_iter()
        .try_for_each(|(path, source)| -> Result<()> {
            let dest = staging.path().join(path);
            let old = out.join(path);
            let unchanged = previous.get(path) == manifest.get(path);
            if unchanged && fs::hard_link(&old, &dest).is_ok() {
                return Ok(());
            }
            match source {
                Source::Bytes(bytes) => write_file(&dest, bytes),
                Source::File(src) => link_or_copy(src, &dest),
            }
            .with_context(|| format!("writing `{}`", dest.display()))
        })?;
    sync_dir(staging.path());

    let staging = staging.keep();
    swap_into_place(&staging, out)?;
    Ok((manifest, changed))
}

/// Brings `out` to exactly `files` by touching only what changed since `previous`: each
/// changed file is replaced by an atomic rename, removed files are deleted. For previews
/// (`vitrine serve`), where speed matters and no one deploys the folder: a crash mid-way can
/// leave a mix of old and new files, which the next update repairs.
pub fn update_in_place(
    out: &Path,
    files: &Files,
    previous: &Manifest,
) -> Result<(Manifest, Vec<String>)> {
    let manifest = manifest_of(files);
    if previous.is_empty() && out.exists() {
        // Nothing is known about what is there: start from an empty folder.
        fs::remove_dir_all(out).with_context(|| format!("clearing `{}`", out.display()))?;
    }
    let changed = diff(previous, &manifest);
    changed.par_iter().try_for_each(|path| -> Result<()> {
        let dest = out.join(path);
        match files.get(path) {
            Some(source) => {
                let dir = dest
                    .parent()
                    .context("output files live in the output folder")?;
                fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
                let tmp = dir.join(format!(
                    ".{}.tmp",
                    dest.file_name().and_then(|n| n.to_str()).unwrap_or("file")
                ));
                let _ = fs::remove_file(&tmp);
                match source {
                    Source::Bytes(bytes) => write_file(&tmp, bytes),
                    Source::File(src) => link_or_copy(src, &tmp),
                }
                .and_then(|()| fs::rename(&tmp, &dest))
                .with_context(|| format!("writing `{}`", dest.display()))
            }
            None => match fs::remove_file(&dest) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e).with_context(|| format!("removing `{}`", dest.display())),
            },
        }
    })?;
    for path in changed.iter().filter(|p| !files.contains_key(*p)) {
        let mut dir = out.join(path);
        while dir.pop() && dir != out && fs::remove_dir(&dir).is_ok() {}
    }
    Ok((manifest, changed))
}

/// Writes a file outside the output folder (the Netlify edge module) atomically.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file path has a parent")?;
    fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing `{}`", path.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing `{}`", path.display()))?;
    Ok(())
}

/// The fingerprint of every file of `files`.
fn manifest_of(files: &Files) -> Manifest {
    files
        .par_iter()
        .map(|(path, source)| (path.clone(), fingerprint(source)))
        .collect()
}

fn fingerprint(source: &Source) -> String {
    match source {
        Source::Bytes(bytes) => blake3::hash(bytes).to_hex()[..32].to_string(),
        Source::File(path) => {
            // Cached media are content-addressed and never rewritten in place, so the path, size
            // and mtime identify the bytes without reading them.
            let meta = fs::metadata(path).ok();
            let len = meta.as_ref().map(|m| m.len()).unwrap_or(0);
            let mtime = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            let id = format!("{}|{len}|{:?}", path.display(), mtime);
            format!("f{}", &blake3::hash(id.as_bytes()).to_hex()[..31])
        }
    }
}

fn diff(old: &Manifest, new: &Manifest) -> Vec<String> {
    let mut changed: Vec<String> = new
        .iter()
        .filter(|(p, h)| old.get(*p) != Some(*h))
        .map(|(p, _)| p.clone())
        .collect();
    changed.extend(old.keys().filter(|p| !new.contains_key(*p)).cloned());
    changed.sort();
    changed
}

/// A cheap check that the output on disk still holds the files of `manifest` (someone may have
/// deleted or edited it since): every file exists, and nothing extra sits at the top level.
fn manifest_matches_disk(out: &Path, manifest: &Manifest) -> bool {
    manifest.keys().all(|p| out.join(p).is_file())
}

fn write_file(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(dest)?;
    f.write_all(bytes)
}

fn link_or_copy(src: &Path, dest: &Path) -> std::io::Result<()> {
    match fs::hard_link(src, dest) {
        Ok(()) => Ok(()),
        Err(_) => fs::copy(src, dest).map(|_| ()),
    }
}

/// Flushes the staging folder's files before the swap makes them the live site.
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Exchanges `staging` and `out` in one `renameat2(RENAME_EXCHANGE)` where the kernel offers
/// it, then removes the old output; elsewhere renames the old output aside first.
fn swap_into_place(staging: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let exchanged = rustix::fs::renameat_with(
            rustix::fs::CWD,
            staging,
            rustix::fs::CWD,
            out,
            rustix::fs::RenameFlags::EXCHANGE,
        );
        if exchanged.is_ok() {
            // `staging` now holds the previous output.
            remove_tree(staging)
                .with_context(|| format!("removing the previous output `{}`", staging.display()))?;
            return Ok(());
        }
        let aside = staging.with_extension("old");
        fs::rename(out, &aside).with_context(|| format!("moving `{}` aside", out.display()))?;
        fs::rename(staging, out)
            .with_context(|| format!("moving the new site to `{}`", out.display()))?;
        remove_tree(&aside).with_context(|| format!("removing `{}`", aside.display()))?;
    } else {
        fs::rename(staging, out)
            .with_context(|| format!("moving the new site to `{}`", out.display()))?;
    }
    Ok(())
}

/// Removes a folder tree like `fs::remove_dir_all`, subfolders in parallel: removing the
/// previous output (one link per file) was the longest step of a one-descriptor rebuild.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    let entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.par_iter().try_for_each(|entry| {
        // A symlink is removed, never followed.
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())
        } else {
            fs::remove_file(entry.path())
        }
    })?;
    fs::remove_dir(dir)
}

/// Removes staging folders left by a build that was killed. **Call it only while holding the
/// output's build lock**, so no running build's staging folder is taken.
pub fn remove_stale_staging(out: &Path) {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name().and_then(|n| n.to_str()))
    else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let prefix = format!(".{name}.staging-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix))
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Source {
        Source::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn replaces_output_and_reports_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let mut files = Files::new();
        files.insert("index.html".into(), bytes("one"));
        files.insert("a/b.txt".into(), bytes("b"));
        let (m1, changed) = write_atomically(&out, &files, &Manifest::new()).unwrap();
        assert_eq!(changed, ["a/b.txt", "index.html"]);
        assert_eq!(fs::read_to_string(out.join("a/b.txt")).unwrap(), "b");

        files.insert("index.html".into(), bytes("two"));
        files.remove("a/b.txt");
        let (m2, changed) = write_atomically(&out, &files, &m1).unwrap();
        assert_eq!(changed, ["a/b.txt", "index.html"]);
        assert!(!out.join("a/b.txt").exists());
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "two");

        let (_, changed) = write_atomically(&out, &files, &m2).unwrap();
        assert!(changed.is_empty());

        files.insert("deep/er/new.txt".into(), bytes("new"));
        let (m3, changed) = update_in_place(&out, &files, &m2).unwrap();
        assert_eq!(changed, ["deep/er/new.txt"]);
        files.remove("deep/er/new.txt");
        let (_, changed) = update_in_place(&out, &files, &m3).unwrap();
        assert_eq!(changed, ["deep/er/new.txt"]);
        assert!(!out.join("deep").exists(), "emptied folders are removed");
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, [std::ffi::OsString::from("public")]);
    }
}
