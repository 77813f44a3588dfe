//! Writes a built site: every file goes into a staging folder beside the output, the leak
//! guard reads what would be published, and only then does the staging folder replace the
//! output in one atomic rename. A failed or killed build leaves the previous site untouched.
//!
//! Output never decides what a page says; it only places bytes and cached media files.

pub mod edge;
pub mod leak;
mod pages;
mod records;
pub mod seal;
mod secrets;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

pub use leak::{GuardMemory, LeakGuard, PrivateItem};
pub use pages::PageCache;
pub use records::OutputRecords;
pub use secrets::{KeyCheck, KeyMaterial};

/// Where the bytes of one output file come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Bytes rendered in memory (indices, feeds, JSON).
    Bytes(Vec<u8>),
    /// A file of a content-addressed cache (derived media, rendered pages), linked (or copied)
    /// into place: its path alone names its bytes, so it is never read or `stat`ed to see
    /// whether it changed.
    Cached(PathBuf),
    /// A file of the site (an original annotation), linked (or copied) into place; its path,
    /// size and modification time say whether it changed.
    File(PathBuf),
    /// A folder of a content-addressed cache (a deep-zoom pyramid's tiles) linked file by file
    /// into place as the folder at its output path. Its path alone names its bytes, and it is
    /// **one entry** for its thousands of files, so manifests, diffs and checks of a rebuild do
    /// not grow with the tiles. `files` is how many files it holds, for reports.
    Tree { dir: PathBuf, files: usize },
}

/// How many files `files` publishes (a tree counts its files).
pub fn file_count(files: &Files) -> usize {
    files
        .values()
        .map(|source| match source {
            Source::Tree { files, .. } => *files,
            _ => 1,
        })
        .sum()
}

/// The first character of a tree's fingerprint in a [`Manifest`].
pub const TREE: char = 't';

/// The complete contents of an output folder: output-relative path → source.
pub type Files = BTreeMap<String, Source>;

/// What is known about a previous output: path → BLAKE3 of its bytes, or of the source file's
/// path and identity for linked files. Comparing two manifests says what changed.
pub type Manifest = BTreeMap<String, String>;

/// Replaces `out` with exactly `files` (whose manifest is `manifest`), atomically, and returns
/// the paths whose contents changed (added, modified or removed) relative to `previous`, and
/// the files vitrine did not write that it removed from the spare before making it the output.
///
/// The new site is prepared in a second folder beside `out` and exchanged with it in one
/// rename. The previous generation is then kept as that second folder (the *spare*), and
/// `spare_record` remembers what it holds, so the next build only rewrites the files that
/// differ: O(change), not O(files). A build killed while preparing the spare has already
/// deleted the record, so the next build rebuilds the spare from scratch; the live site is
/// never touched until the exchange.
pub fn write_atomically(
    out: &Path,
    files: &Files,
    manifest: &Manifest,
    previous: &Manifest,
    spare_record: &Path,
) -> Result<(Vec<String>, Vec<String>)> {
    let changed = diff(previous, manifest);
    if changed.is_empty() && out.is_dir() && manifest_matches_disk(out, manifest) {
        return Ok((changed, Vec::new()));
    }
    let spare = spare_path(out);
    // Read and forget what the spare holds before touching it.
    let spare_holds: Option<Manifest> = fs::read(spare_record)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let _ = fs::remove_file(spare_record);
    match spare_holds {
        Some(holds) if spare.is_dir() && !holds.is_empty() => {
            update_in_place(&spare, files, manifest, &holds)?;
        }
        _ => {
            if spare.exists() {
                remove_tree(&spare).with_context(|| format!("removing `{}`", spare.display()))?;
            }
            stage(out, &spare, files, previous, manifest)?;
        }
    }
    // The spare was the output before last; whatever was dropped into it must not come back.
    let removed = remove_strangers(&spare, &strangers(&spare, manifest))?;
    sync_dir(&spare);
    if swap_into_place(&spare, out)? {
        // The spare now holds the previous output, which `previous` describes.
        if let Ok(bytes) = serde_json::to_vec(previous) {
            if !previous.is_empty() {
                write_file_atomically(spare_record, &bytes)?;
            }
        }
    }
    Ok((changed, removed))
}

/// The files under `dir` that `written` (the manifest of what vitrine wrote there) does not
/// name: a page copied in by hand, a stray upload. A build removes them, so the output holds
/// exactly what it wrote and everything published has passed the leak guard and key check.
///
/// Folders are read in parallel (an output has thousands). A tile folder vitrine linked from
/// its cache (a [`Source::Tree`]) is not walked: its tiles are most of an output's files, and
/// vitrine only ever places such a folder whole; symlinks are never followed.
pub fn strangers(dir: &Path, written: &Manifest) -> Vec<PathBuf> {
    strangers_below(dir, dir, written)
}

fn strangers_below(out: &Path, dir: &Path, written: &Manifest) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let entries: Vec<fs::DirEntry> = entries.filter_map(Result::ok).collect();
    entries
        .par_iter()
        .flat_map_iter(|entry| {
            let path = entry.path();
            let rel = path.strip_prefix(out).unwrap_or(&path).to_string_lossy();
            match (entry.file_type(), written.get(rel.as_ref())) {
                (Ok(kind), Some(fingerprint)) if kind.is_dir() && fingerprint.starts_with(TREE) => {
                    Vec::new()
                }
                (Ok(kind), _) if kind.is_dir() => strangers_below(out, &path, written),
                (_, Some(_)) => Vec::new(),
                _ => vec![path],
            }
        })
        .collect()
}

/// Removes `strangers` (from [`strangers`]) and the folders they leave empty under `out`;
/// returns their paths relative to `out`, sorted, for the build's summary.
pub fn remove_strangers(out: &Path, strangers: &[PathBuf]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for path in strangers {
        remove(path)?;
        let mut dir = path.clone();
        while dir.pop() && dir != out && fs::remove_dir(&dir).is_ok() {}
        removed.push(path.strip_prefix(out).unwrap_or(path).display().to_string());
    }
    removed.sort();
    Ok(removed)
}

/// The second generation of `out`, beside it: `.<name>.spare`.
pub fn spare_path(out: &Path) -> PathBuf {
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("public");
    out.with_file_name(format!(".{name}.spare"))
}

/// Writes a complete new tree at `dest`, hard-linking the files that did not change from `out`.
fn stage(
    out: &Path,
    dest: &Path,
    files: &Files,
    previous: &Manifest,
    manifest: &Manifest,
) -> Result<()> {
    fs::create_dir_all(dest)
        .with_context(|| format!("creating `{}` beside the output", dest.display()))?;
    let dirs: std::collections::BTreeSet<PathBuf> = files
        .keys()
        .filter_map(|p| Path::new(p).parent().map(Path::to_path_buf))
        .collect();
    // In parallel: on a busy disk each `mkdir` waits on the journal, and create_dir_all
    // tolerates a sibling creating the same parent at the same time.
    dirs.par_iter()
        .try_for_each(|dir| fs::create_dir_all(dest.join(dir)))?;
    files
        .par_iter()
        .try_for_each(|(path, source)| -> Result<()> {
            let to = dest.join(path);
            let unchanged = previous.get(path) == manifest.get(path);
            let tree = matches!(source, Source::Tree { .. });
            if unchanged && !tree && fs::hard_link(out.join(path), &to).is_ok() {
                return Ok(());
            }
            write_source(source, &to).with_context(|| format!("writing `{}`", to.display()))
        })
}

/// Brings `out` to exactly `files` by touching only what changed since `previous`: each
/// changed file is replaced by an atomic rename, removed files are deleted. For previews
/// (`vitrine serve`), where speed matters and no one deploys the folder: a crash mid-way can
/// leave a mix of old and new files, which the next update repairs.
pub fn update_in_place(
    out: &Path,
    files: &Files,
    manifest: &Manifest,
    previous: &Manifest,
) -> Result<Vec<String>> {
    if previous.is_empty() && out.exists() {
        // Nothing is known about what is there: start from an empty folder.
        fs::remove_dir_all(out).with_context(|| format!("clearing `{}`", out.display()))?;
    }
    let changed = diff(previous, manifest);
    // Removals first: a tree may replace the files that were once listed one by one under it.
    changed
        .par_iter()
        .filter(|path| !files.contains_key(*path))
        .try_for_each(|path| remove(&out.join(path)))?;
    changed.par_iter().try_for_each(|path| -> Result<()> {
        let Some(source) = files.get(path) else {
            return Ok(());
        };
        let dest = out.join(path);
        let dir = dest
            .parent()
            .context("output files live in the output folder")?;
        fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
        if let Source::Tree { .. } = source {
            // A tree's path names its bytes; it changes only when its cache folder moved.
            remove(&dest)?;
            return write_source(source, &dest)
                .with_context(|| format!("writing `{}`", dest.display()));
        }
        let tmp = dir.join(format!(
            ".{}.tmp",
            dest.file_name().and_then(|n| n.to_str()).unwrap_or("file")
        ));
        let _ = fs::remove_file(&tmp);
        write_source(source, &tmp)
            .and_then(|()| fs::rename(&tmp, &dest))
            .with_context(|| format!("writing `{}`", dest.display()))
    })?;
    for path in changed.iter().filter(|p| !files.contains_key(*p)) {
        let mut dir = out.join(path);
        while dir.pop() && dir != out && fs::remove_dir(&dir).is_ok() {}
    }
    Ok(changed)
}

/// Writes `source` at `dest`, whose parent exists.
fn write_source(source: &Source, dest: &Path) -> std::io::Result<()> {
    match source {
        Source::Bytes(bytes) => write_file(dest, bytes),
        Source::Cached(src) | Source::File(src) => link_or_copy(src, dest),
        Source::Tree { dir, .. } => {
            fs::create_dir_all(dest)?;
            // Folders come before what they hold.
            for entry in walkdir::WalkDir::new(dir).min_depth(1) {
                let entry = entry?;
                let to = dest.join(entry.path().strip_prefix(dir).expect("walked below dir"));
                if entry.file_type().is_dir() {
                    fs::create_dir_all(&to)?;
                } else {
                    link_or_copy(entry.path(), &to)?;
                }
            }
            Ok(())
        }
    }
}

/// Removes the file or tree at `path`; nothing there is fine.
fn remove(path: &Path) -> Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => remove_tree(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.with_context(|| format!("removing `{}`", path.display()))
}

/// Writes a file outside the output folder (the Netlify edge module) atomically, readable by
/// all (mode 0644, not the temporary file's 0600): deploy tools in CI containers often run as
/// another user than the build.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().context("a file path has a parent")?;
    fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing `{}`", path.display()))?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o644))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing `{}`", path.display()))?;
    Ok(())
}

/// The fingerprint of every file of `files`.
pub fn manifest_of(files: &Files) -> Manifest {
    files
        .par_iter()
        .map(|(path, source)| (path.clone(), fingerprint(source)))
        .collect()
}

fn fingerprint(source: &Source) -> String {
    match source {
        Source::Bytes(bytes) => blake3::hash(bytes).to_hex()[..32].to_string(),
        Source::Cached(path) => {
            let id = blake3::hash(path.as_os_str().as_encoded_bytes());
            format!("c{}", &id.to_hex()[..31])
        }
        Source::Tree { dir, .. } => {
            let id = blake3::hash(dir.as_os_str().as_encoded_bytes());
            format!("{TREE}{}", &id.to_hex()[..31])
        }
        Source::File(path) => {
            let id = match fs::metadata(path) {
                Ok(meta) => crate::media::Stamp::of(path, &meta).to_string(),
                Err(_) => format!("{}|missing", path.display()),
            };
            format!("f{}", &blake3::hash(id.as_bytes()).to_hex()[..31])
        }
    }
}

/// The bytes of a text file of the output (pages, feeds, JSON, scripts, DZI descriptors), read
/// from disk when it is linked from a cache; `None` for images and other binary files.
fn text_of<'a>(path: &str, source: &'a Source) -> Option<std::borrow::Cow<'a, [u8]>> {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let text = matches!(
        ext.as_str(),
        "html"
            | "htm"
            | "xml"
            | "json"
            | "txt"
            | "js"
            | "css"
            | "svg"
            | "dzi"
            | "md"
            | "csv"
            | "tsv"
            | "yaml"
            | "yml"
            | "bib"
            | "ris"
            | "tex"
    );
    match source {
        Source::Bytes(bytes) if text => Some(bytes.into()),
        Source::Cached(file) | Source::File(file) if text => fs::read(file).ok().map(Into::into),
        _ => None,
    }
}

fn diff(old: &Manifest, new: &Manifest) -> Vec<String> {
    differing(old, new)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The paths added, changed or removed between two manifests, in order: one walk along both
/// sorted maps, where a lookup per path cost an edit ~3 ms of string comparisons at N=1,000.
pub fn differing<'m>(old: &'m Manifest, new: &'m Manifest) -> Vec<&'m str> {
    let (mut old, mut new) = (old.iter().peekable(), new.iter().peekable());
    let mut paths = Vec::new();
    loop {
        let path = match (old.peek().copied(), new.peek().copied()) {
            (None, None) => return paths,
            (Some((path, _)), None) => {
                old.next();
                Some(path)
            }
            (None, Some((path, _))) => {
                new.next();
                Some(path)
            }
            (Some((a, was)), Some((b, is))) => match a.cmp(b) {
                std::cmp::Ordering::Less => {
                    old.next();
                    Some(a)
                }
                std::cmp::Ordering::Greater => {
                    new.next();
                    Some(b)
                }
                std::cmp::Ordering::Equal => {
                    old.next();
                    new.next();
                    (was != is).then_some(a)
                }
            },
        };
        paths.extend(path.map(|p| p.as_str()));
    }
}

/// A cheap check that the output on disk still holds the files of `manifest` (someone may have
/// deleted or edited it since): every file exists, and nothing extra sits at the top level.
pub fn manifest_matches_disk(out: &Path, manifest: &Manifest) -> bool {
    !manifest.is_empty()
        && manifest
            .par_iter()
            .all(|(p, fingerprint)| match fingerprint.starts_with(TREE) {
                true => out.join(p).is_dir(),
                false => out.join(p).is_file(),
            })
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
/// it (returning true: `staging` then holds the previous output); elsewhere renames the old
/// output aside, moves the new one in and removes the old (returning false).
fn swap_into_place(staging: &Path, out: &Path) -> Result<bool> {
    if out.exists() {
        let exchanged = rustix::fs::renameat_with(
            rustix::fs::CWD,
            staging,
            rustix::fs::CWD,
            out,
            rustix::fs::RenameFlags::EXCHANGE,
        );
        if exchanged.is_ok() {
            // `staging` now holds the previous output: the spare of the next build.
            return Ok(true);
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
    Ok(false)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Source {
        Source::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn differing_names_added_changed_and_removed_paths_in_order() {
        let manifest = |entries: &[(&str, &str)]| -> Manifest {
            entries
                .iter()
                .map(|(p, f)| (p.to_string(), f.to_string()))
                .collect()
        };
        let old = manifest(&[("a", "1"), ("b", "1"), ("d", "1"), ("e", "1"), ("z", "1")]);
        let new = manifest(&[("b", "2"), ("c", "1"), ("d", "1"), ("e", "1"), ("f", "1")]);
        assert_eq!(differing(&old, &new), ["a", "b", "c", "f", "z"]);
        assert_eq!(differing(&new, &new), Vec::<&str>::new());
        assert_eq!(differing(&Manifest::new(), &new).len(), new.len());
        assert_eq!(differing(&old, &Manifest::new()).len(), old.len());
    }

    /// Every file under `dir`, relative, sorted.
    fn listing(dir: &Path) -> Vec<String> {
        let mut all: Vec<String> = walkdir::WalkDir::new(dir)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_tree_is_one_entry_placed_and_withdrawn_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = |name: &str, tiles: &[&str]| {
            let dir = tmp.path().join("cache").join(name);
            for tile in tiles {
                fs::create_dir_all(dir.join(tile).parent().unwrap()).unwrap();
                fs::write(dir.join(tile), format!("{name} {tile}")).unwrap();
            }
            dir
        };
        let (a, b) = (
            cache("a", &["0/0_0.jpg", "1/0_0.jpg", "1/1_0.jpg"]),
            cache("b", &["0/0_0.png"]),
        );
        let out = tmp.path().join("public");
        let record = tmp.path().join("spare.json");
        // What an older vitrine wrote: every tile its own entry.
        let mut old = Files::new();
        for rel in ["0/0_0.jpg", "1/0_0.jpg", "1/1_0.jpg", "1/9_9.jpg"] {
            old.insert(
                format!("m/a/tiles_files/{rel}"),
                Source::File(a.join(rel).with_file_name("0_0.jpg")),
            );
        }
        old.insert("index.html".into(), bytes("old"));
        let first = manifest_of(&old);
        write_atomically(&out, &old, &first, &Manifest::new(), &record).unwrap();
        old.insert("index.html".into(), bytes("old, again"));
        let m0 = manifest_of(&old);
        write_atomically(&out, &old, &m0, &first, &record).unwrap();
        assert!(
            record.exists(),
            "the spare holds the first per-tile generation"
        );

        let tree = |dir: &Path, files| Source::Tree {
            dir: dir.to_path_buf(),
            files,
        };
        let mut files = Files::new();
        files.insert("index.html".into(), bytes("new"));
        files.insert("m/a/tiles_files".into(), tree(&a, 3));
        assert_eq!(file_count(&files), 4);
        let m1 = manifest_of(&files);
        assert_eq!(m1.len(), 2, "one entry for the tree");
        // Made from the spare, which holds the per-tile generation: exactly the tree remains.
        write_atomically(&out, &files, &m1, &m0, &record).unwrap();
        assert_eq!(
            listing(&out),
            [
                "index.html",
                "m/a/tiles_files/0/0_0.jpg",
                "m/a/tiles_files/1/0_0.jpg",
                "m/a/tiles_files/1/1_0.jpg"
            ]
        );
        assert_eq!(
            fs::read_to_string(out.join("m/a/tiles_files/1/1_0.jpg")).unwrap(),
            "a 1/1_0.jpg"
        );
        assert!(manifest_matches_disk(&out, &m1));

        // Another image: the old tree goes whole, in a new generation and in place.
        files.remove("m/a/tiles_files");
        files.insert("m/b/tiles_files".into(), tree(&b, 1));
        let m2 = manifest_of(&files);
        let (changed, _) = write_atomically(&out, &files, &m2, &m1, &record).unwrap();
        assert_eq!(changed, ["m/a/tiles_files", "m/b/tiles_files"]);
        assert_eq!(listing(&out), ["index.html", "m/b/tiles_files/0/0_0.png"]);
        files.remove("m/b/tiles_files");
        files.insert("m/a/tiles_files".into(), tree(&a, 3));
        let changed = update_in_place(&out, &files, &m1, &m2).unwrap();
        assert_eq!(changed, ["m/a/tiles_files", "m/b/tiles_files"]);
        assert_eq!(listing(&out).len(), 4);
        assert!(!out.join("m/b").exists(), "emptied folders are removed");
    }

    #[test]
    fn replaces_output_and_reports_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let mut files = Files::new();
        files.insert("index.html".into(), bytes("one"));
        files.insert("a/b.txt".into(), bytes("b"));
        let record = tmp.path().join("spare.json");
        let m1 = manifest_of(&files);
        let (changed, _) = write_atomically(&out, &files, &m1, &Manifest::new(), &record).unwrap();
        assert_eq!(changed, ["a/b.txt", "index.html"]);
        assert_eq!(fs::read_to_string(out.join("a/b.txt")).unwrap(), "b");

        files.insert("index.html".into(), bytes("two"));
        files.remove("a/b.txt");
        let m2 = manifest_of(&files);
        let (changed, _) = write_atomically(&out, &files, &m2, &m1, &record).unwrap();
        assert_eq!(changed, ["a/b.txt", "index.html"]);
        assert!(!out.join("a/b.txt").exists());
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "two");

        let (changed, _) = write_atomically(&out, &files, &m2, &m2, &record).unwrap();
        assert!(changed.is_empty());

        // The third generation is made from the spare (which holds the first): it must come
        // out exactly as asked, not as a mix of the first and the third.
        assert!(record.exists() && spare_path(&out).is_dir());
        files.insert("index.html".into(), bytes("three"));
        files.insert("c.txt".into(), bytes("c"));
        let m3 = manifest_of(&files);
        let (changed, _) = write_atomically(&out, &files, &m3, &m2, &record).unwrap();
        assert_eq!(changed, ["c.txt", "index.html"]);
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "three");
        assert!(
            !out.join("a/b.txt").exists(),
            "a file of the spare's generation came back"
        );
        // A record that was lost (a killed build) makes the next build start the spare afresh.
        fs::remove_file(&record).unwrap();
        fs::write(spare_path(&out).join("stray.txt"), "x").unwrap();
        files.insert("index.html".into(), bytes("four"));
        let m4 = manifest_of(&files);
        write_atomically(&out, &files, &m4, &m3, &record).unwrap();
        assert!(!out.join("stray.txt").exists());
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "four");

        files.insert("deep/er/new.txt".into(), bytes("new"));
        let m5 = manifest_of(&files);
        let changed = update_in_place(&out, &files, &m5, &m4).unwrap();
        assert_eq!(changed, ["deep/er/new.txt"]);
        files.remove("deep/er/new.txt");
        let changed = update_in_place(&out, &files, &manifest_of(&files), &m5).unwrap();
        assert_eq!(changed, ["deep/er/new.txt"]);
        assert!(!out.join("deep").exists(), "emptied folders are removed");
        let mut leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        leftovers.sort();
        assert_eq!(leftovers, [".public.spare", "public", "spare.json"]);
    }
}
