//! Sealing: every file under `private/` is written encrypted (docs/share-links.md, "Encryption
//! at rest"), so a request that reaches the files without a gate gets ciphertext, and on a host
//! without a gate the reader's browser opens them with the key a share link unwraps.
//!
//! AES-256-GCM, the AEAD every browser and edge runtime has in Web Crypto, through `ring` (already
//! built for `--against-live`'s TLS): its AES-GCM ran 2.5× RustCrypto's `aes-gcm` on tiles, and
//! sealing is most of what a private dataset adds to a build. Sealed media and pages are kept in
//! the cache by what they were made from, so a rebuild seals only what changed, and the same file
//! seals to the same bytes again.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use rayon::prelude::*;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

use super::{Files, Source};
use crate::share::secret::{EdgeKey, Label};

/// The first bytes of every sealed file: `vtr` and the format's version.
pub const MAGIC: [u8; 4] = *b"vtr\x01";
/// Magic, label and nonce.
pub const HEADER: usize = 32;
/// Where a page's sealed bytes are stored on a host without a gate: its own address serves the
/// loader.
pub const SEALED_PAGE_SUFFIX: &str = ".sealed";

/// Seals `plain`, the file at output path `path`, under `key` (the content key of `label`).
pub fn seal(key: &[u8; 32], label: &Label, path: &str, plain: &[u8]) -> Vec<u8> {
    let mut nonce_source = blake3::Hasher::new_keyed(key);
    nonce_source.update(path.as_bytes());
    nonce_source.update(&[0]);
    nonce_source.update(plain);
    let nonce: [u8; 12] = nonce_source.finalize().as_bytes()[..12]
        .try_into()
        .expect("12 of 32 bytes");
    let mut out = Vec::with_capacity(HEADER + plain.len() + 16);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(label);
    out.extend_from_slice(&nonce);
    let aad = [&out[..HEADER], path.as_bytes()].concat();
    out.extend_from_slice(plain);
    let tag = cipher(key)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad),
            &mut out[HEADER..],
        )
        .expect("AES-GCM seals any file under 64 GB");
    out.extend_from_slice(tag.as_ref());
    out
}

/// The AES-256-GCM cipher of `key`.
fn cipher(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key"))
}

/// Opens `sealed` (nonce at `nonce`, ciphertext and tag after it) with `key` and `aad`.
fn open_with(key: &[u8; 32], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = sealed.to_vec();
    let plain = cipher(key)
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .ok()?
        .len();
    buffer.truncate(plain);
    Some(buffer)
}

/// The label in a sealed file's header, or `None` for bytes that are not sealed.
pub fn label_of(sealed: &[u8]) -> Option<Label> {
    (sealed.len() >= HEADER + 16 && sealed[..4] == MAGIC)
        .then(|| sealed[4..20].try_into().expect("16 bytes"))
}

/// Opens a sealed file read from output path `path` with the edge key, as a gate does; `None`
/// when it is not sealed, or was tampered with, or belongs at another path.
pub fn open(edge: &EdgeKey, path: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let label = label_of(sealed)?;
    let aad = [&sealed[..HEADER], path.as_bytes()].concat();
    open_with(
        &edge.content_key(&label),
        &sealed[20..HEADER],
        &aad,
        &sealed[HEADER..],
    )
}

/// Seals `json` as the slot at output path `path` with a link's wrap key: a nonce, then the
/// ciphertext, the path as associated data. Slots are few and small, so the nonce is random.
pub fn seal_slot(wrap: &[u8; 32], path: &str, json: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; 12];
    getrandom::getrandom(&mut nonce)
        .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
    let mut out = [&nonce[..], json].concat();
    let tag = cipher(wrap)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(path.as_bytes()),
            &mut out[12..],
        )
        .expect("a slot is small");
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// The key name of output path `path`, or `None` outside `private/`.
pub fn key_name(path: &str) -> Option<String> {
    let rest = path.strip_prefix("private/")?;
    let (slug, rest) = rest.split_once('/')?;
    let mut parts = rest.split('/');
    Some(match (parts.next(), parts.next(), parts.next()) {
        (Some("annotations"), Some(id), Some(_)) => format!("annotation:{slug}/{id}"),
        (Some("layers"), Some(id), Some(_)) => format!("layer:{slug}/{id}"),
        (Some("media"), Some(_), _) => format!("media:{slug}"),
        _ => format!("dataset:{slug}"),
    })
}

/// Seals the `private/` files of a build with keys from the edge key, reusing what earlier
/// builds sealed (kept under `cache`, named by what each was made from).
pub struct Sealer<'a> {
    pub edge: &'a EdgeKey,
    /// The shares that ended, by the key names they could open (static hosting; empty on a
    /// gated hosting, where the gate refuses them and keys need not change).
    pub ended: &'a BTreeMap<String, Vec<vitrine_verify::ShareId>>,
    /// The folder of sealed files, `.vitrine-cache/sealed/`.
    pub cache: &'a Path,
    /// Static hosting: pages are stored at `…/index.html.sealed`, their addresses left to the
    /// loader.
    pub pages_aside: bool,
}

/// What sealing did: each key name's label and content key, and the cache entries in use.
pub struct Sealed {
    pub labels: BTreeMap<String, (Label, [u8; 32])>,
    used: HashSet<PathBuf>,
}

impl Sealer<'_> {
    /// The label and content key of key name `name`.
    pub fn key(&self, name: &str) -> (Label, [u8; 32]) {
        let ended = self.ended.get(name).map_or(&[][..], Vec::as_slice);
        let label = self.edge.label(name, ended);
        (label, self.edge.content_key(&label))
    }

    /// Replaces every `private/` file of `files` with its sealed form.
    pub fn seal_files(&self, files: &mut Files) -> Result<Sealed> {
        let private: Vec<String> = files
            .range("private/".to_string().."private0".to_string())
            .map(|(path, _)| path.clone())
            .collect();
        let names: BTreeSet<String> = private.iter().filter_map(|p| key_name(p)).collect();
        let labels: BTreeMap<String, (Label, [u8; 32])> = names
            .into_iter()
            .map(|n| (n.clone(), self.key(&n)))
            .collect();
        let used = Mutex::new(HashSet::new());
        let sealed: Vec<(String, String, Source)> = private
            .par_iter()
            .map(|path| {
                let name = key_name(path).expect("a private path has a key name");
                let (label, key) = &labels[&name];
                let source = &files[path];
                let sealed = self
                    .seal_source(key, label, path, source, &used)
                    .with_context(|| format!("sealing `{path}`"))?;
                let to = match self.pages_aside && is_page(path) {
                    true => format!("{path}{SEALED_PAGE_SUFFIX}"),
                    false => path.clone(),
                };
                Ok((path.clone(), to, sealed))
            })
            .collect::<Result<_>>()?;
        for (from, to, source) in sealed {
            files.remove(&from);
            files.insert(to, source);
        }
        let used = used.into_inner().expect("no sealing thread panicked");
        Ok(Sealed { labels, used })
    }

    fn seal_source(
        &self,
        key: &[u8; 32],
        label: &Label,
        path: &str,
        source: &Source,
        used: &Mutex<HashSet<PathBuf>>,
    ) -> Result<Source> {
        let origin = match source {
            Source::Bytes(bytes) => return Ok(Source::Bytes(seal(key, label, path, bytes))),
            Source::Cached(file) => file.display().to_string(),
            Source::File(file) => {
                let meta =
                    fs::metadata(file).with_context(|| format!("reading `{}`", file.display()))?;
                crate::media::Stamp::of(file, &meta).to_string()
            }
            Source::Tree { dir, .. } => dir.display().to_string(),
        };
        let mut id = blake3::Hasher::new();
        for part in [&label[..], path.as_bytes(), origin.as_bytes()] {
            id.update(&(part.len() as u64).to_le_bytes());
            id.update(part);
        }
        let entry = self.cache.join(&id.finalize().to_hex()[..32]);
        used.lock()
            .expect("no sealing thread panicked")
            .insert(entry.clone());
        match source {
            Source::Tree { dir, files } => {
                if !entry.is_dir() {
                    seal_tree(key, label, path, dir, &entry)?;
                }
                Ok(Source::Tree {
                    dir: entry,
                    files: *files,
                })
            }
            Source::Cached(file) | Source::File(file) => {
                if !entry.is_file() {
                    let plain =
                        fs::read(file).with_context(|| format!("reading `{}`", file.display()))?;
                    write_new(&entry, &seal(key, label, path, &plain))?;
                }
                Ok(Source::Cached(entry))
            }
            Source::Bytes(_) => unreachable!("sealed in memory above"),
        }
    }
}

impl Sealed {
    /// Removes the cache's sealed files this build did not use (the cache would otherwise keep
    /// every generation of every private file), except recent ones: another build of the same
    /// site (`serve` beside `build`) may be about to link them.
    pub fn retain(&self, cache: &Path) {
        let Ok(entries) = fs::read_dir(cache) else {
            return;
        };
        let recent = |entry: &fs::DirEntry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age < std::time::Duration::from_secs(600))
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !self.used.contains(&path) && !is_temporary(&path) && !recent(&entry) {
                // Best effort: a stale entry only costs disk.
                let _ = match entry.file_type() {
                    Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
                    _ => fs::remove_file(&path),
                };
            }
        }
    }
}

/// The service worker's name in each private dataset's folder on a host without a gate.
pub const SERVICE_WORKER: &str = "vitrine-sw.js";

/// Whether `source` holds sealed bytes (a tile folder: its first file, since trees are sealed
/// whole).
pub fn is_sealed(source: &Source) -> bool {
    let starts_sealed = |file: &Path| {
        use std::io::Read;
        let mut head = [0u8; 4];
        fs::File::open(file)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| head == MAGIC)
    };
    match source {
        Source::Bytes(bytes) => label_of(bytes).is_some(),
        Source::Cached(file) | Source::File(file) => starts_sealed(file),
        Source::Tree { dir, .. } => walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .find(|e| e.file_type().is_file())
            .is_some_and(|e| starts_sealed(e.path())),
    }
}

/// Whether output path `path` is a share's slot: `private/<slug>/slots/<32 hex digits>`.
pub fn is_slot(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts[..], ["private", _, "slots", id] if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether output path `path` is one of the generic plain files a host without a gate needs
/// under `private/`: the loader at a page's address, and the service worker.
pub fn is_generic(path: &str) -> bool {
    is_page(path) || path.rsplit('/').next() == Some(SERVICE_WORKER)
}

/// Whether output path `path` is a page: a folder's `index.html`.
pub fn is_page(path: &str) -> bool {
    path == "index.html" || path.ends_with("/index.html")
}

fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Seals every file of the tile folder `dir` (output path `path`) into the new folder `to`,
/// through a temporary folder renamed into place, so a killed build leaves no half tree.
fn seal_tree(key: &[u8; 32], label: &Label, path: &str, dir: &Path, to: &Path) -> Result<()> {
    let parent = to.parent().context("a cache entry has a folder")?;
    let tmp = tempfile::Builder::new()
        .prefix(".tree")
        .tempdir_in(parent)
        .with_context(|| format!("creating a folder in `{}`", parent.display()))?;
    let files: Vec<walkdir::DirEntry> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading `{}`", dir.display()))?;
    for entry in files.iter().filter(|e| e.file_type().is_dir()) {
        let rel = entry.path().strip_prefix(dir).expect("walked below dir");
        fs::create_dir_all(tmp.path().join(rel))?;
    }
    files
        .par_iter()
        .filter(|e| !e.file_type().is_dir())
        .try_for_each(|entry| -> Result<()> {
            let rel = entry.path().strip_prefix(dir).expect("walked below dir");
            let file_path = format!("{path}/{}", rel.to_string_lossy());
            let plain = fs::read(entry.path())
                .with_context(|| format!("reading `{}`", entry.path().display()))?;
            fs::write(tmp.path().join(rel), seal(key, label, &file_path, &plain))
                .with_context(|| format!("writing into `{}`", tmp.path().display()))
        })?;
    let tmp = tmp.keep();
    match fs::rename(&tmp, to) {
        Ok(()) => Ok(()),
        // Another build sealed the same tree meanwhile: its copy is identical.
        Err(_) if to.is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("writing `{}`", to.display())),
    }
}

/// Writes a new cache file through a temporary file renamed into place.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().context("a cache entry has a folder")?;
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = tempfile::Builder::new()
        .prefix(".seal")
        .tempfile_in(dir)
        .with_context(|| format!("writing into `{}`", dir.display()))?;
    // Published by a link from the output: readable by the web server's user, unlike the
    // temporary file's 0600.
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o644))?;
    tmp.write_all(bytes)?;
    tmp.persist(path)
        .with_context(|| format!("writing `{}`", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::secret::ContentSecret;

    #[test]
    fn a_sealed_file_opens_only_at_its_path_and_unchanged() {
        let edge = ContentSecret::from_bytes([3; 32]).edge_key();
        let label = edge.label("media:a", &[]);
        let key = edge.content_key(&label);
        let path = "private/a/media/x/tiles_files/0/0_0.jpg";
        let sealed = seal(&key, &label, path, b"plain tile");
        assert_eq!(&sealed[..4], b"vtr\x01");
        assert_eq!(sealed.len(), HEADER + 10 + 16);
        assert_eq!(
            sealed,
            seal(&key, &label, path, b"plain tile"),
            "deterministic"
        );
        assert_eq!(
            open(&edge, path, &sealed).as_deref(),
            Some(&b"plain tile"[..])
        );
        assert!(open(&edge, "private/b/media/x/tiles_files/0/0_0.jpg", &sealed).is_none());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&edge, path, &tampered).is_none());
        let other = ContentSecret::from_bytes([4; 32]).edge_key();
        assert!(open(&other, path, &sealed).is_none());
    }

    #[test]
    fn a_slot_opens_with_its_wrap_key_at_its_path_only() {
        let wrap = [7u8; 32];
        let path = "private/a/slots/00112233445566778899aabbccddeeff";
        let slot = seal_slot(&wrap, path, b"{\"v\":1}").unwrap();
        let open = |wrap: &[u8; 32], path: &str| {
            open_with(wrap, &slot[..12], path.as_bytes(), &slot[12..])
        };
        assert_eq!(open(&wrap, path).as_deref(), Some(&b"{\"v\":1}"[..]));
        assert!(open(&[8; 32], path).is_none());
        assert!(open(&wrap, "private/b/slots/00112233445566778899aabbccddeeff").is_none());
    }

    #[test]
    fn key_names_follow_what_a_share_opens() {
        assert_eq!(key_name("private/a/index.html").unwrap(), "dataset:a");
        assert_eq!(key_name("private/a/media/h/t.jpg").unwrap(), "media:a");
        assert_eq!(
            key_name("private/a/annotations/n1/index.html").unwrap(),
            "annotation:a/n1"
        );
        assert_eq!(key_name("private/a/annotations").unwrap(), "dataset:a");
        assert_eq!(
            key_name("private/a/layers/cells/tiles/h/0/0_0.bin").unwrap(),
            "layer:a/cells"
        );
        assert_eq!(key_name("private/a/layers/").unwrap(), "dataset:a");
        assert!(key_name("datasets/a/index.html").is_none());
    }
}
