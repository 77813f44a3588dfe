//! Refuses to build when private key material sits where the build reads or publishes:
//! `content/`, `themes/` or the output folder. Keys belong in `$XDG_CONFIG_HOME/vitrine/keys/`.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use rayon::prelude::*;

use super::{text_of, Files, Manifest, TREE};

/// The DER prefix of a PKCS#8 Ed25519 private key (RFC 8410), as `vitrine keygen` writes it.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// What the key check looks at. Contents are read only where something may have changed:
/// input files not checked before as they are now, files in the output the build did not
/// write, and the published files chosen by `read_file`.
pub struct KeyCheck<'a> {
    /// The site folder, to name input files relative to it.
    pub root: &'a Path,
    /// Every file under `content/` and `themes/` with its identity (path, size, mtime); each
    /// is checked by name.
    pub inputs: &'a [(PathBuf, String)],
    /// The identities of input files read and found free of keys before: only the others'
    /// first bytes are read.
    pub keyless: &'a HashSet<String>,
    /// The output folder, searched for files the build did not write (except inside the tile
    /// folders it wrote); `None` for a preview's folder, which is vitrine's own and never
    /// deployed.
    pub out: Option<&'a Path>,
    /// What the last build wrote there: anything else is a stranger and is read.
    pub written: &'a Manifest,
    /// The files about to be published.
    pub files: &'a Files,
    /// Whether a published text file must be read (the others were checked when published).
    pub read_file: &'a (dyn Fn(&str) -> bool + Sync),
}

impl KeyCheck<'_> {
    /// Fails, naming every offending file, if private key material is found.
    pub fn run(&self) -> Result<()> {
        let mut found: Vec<String> = self
            .inputs
            .par_iter()
            .filter(|(path, id)| {
                has_key_name(path) || (!self.keyless.contains(id) && starts_like_a_key(path))
            })
            .map(|(path, _)| {
                path.strip_prefix(self.root)
                    .unwrap_or(path)
                    .display()
                    .to_string()
            })
            .collect();
        // Files vitrine wrote came from the checked sources below; only strangers need reading.
        if let Some(out) = self.out {
            found.par_extend(
                self.strangers(out, out)
                    .into_par_iter()
                    .filter(|path| has_key_name(path) || starts_like_a_key(path))
                    .map(|path| path.display().to_string()),
            );
        }
        found.par_extend(
            self.files
                .par_iter()
                .filter(|(path, source)| {
                    (self.read_file)(path)
                        && text_of(path, source).is_some_and(|bytes| is_key_material(&bytes))
                })
                .map(|(path, _)| format!("{path} (in the rendered output)")),
        );
        if !found.is_empty() {
            bail!(
                "private key material found where the build reads or publishes it: {}. Move key files out of the site \
                 (vitrine keygen keeps them in $XDG_CONFIG_HOME/vitrine/keys/), and if this site was ever pushed or deployed, \
                 treat the key as leaked: run `vitrine keygen`, remove the old key from content/site.yaml and re-issue its shares",
                found.join(", ")
            );
        }
        Ok(())
    }
}

impl KeyCheck<'_> {
    /// The files under `dir` (inside `out`) that the last build did not write, its folders
    /// read in parallel: with deep-zoom tiles an output has thousands of them.
    fn strangers(&self, out: &Path, dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let entries: Vec<std::fs::DirEntry> = entries.filter_map(Result::ok).collect();
        entries
            .par_iter()
            .flat_map_iter(|entry| {
                let path = entry.path();
                match entry.file_type() {
                    // A symlink is the output's business only if vitrine wrote it; never followed.
                    // A tile folder vitrine linked from its cache is not walked: a pyramid's
                    // thousands of tiles were most of a rebuild's reads.
                    Ok(kind) if kind.is_dir() => {
                        let rel = path.strip_prefix(out).unwrap_or(&path).to_string_lossy();
                        match self.written.get(rel.as_ref()) {
                            Some(fingerprint) if fingerprint.starts_with(TREE) => Vec::new(),
                            _ => self.strangers(out, &path),
                        }
                    }
                    Ok(kind) if kind.is_file() => {
                        let rel = path.strip_prefix(out).unwrap_or(&path).to_string_lossy();
                        if self.written.contains_key(rel.as_ref()) {
                            Vec::new()
                        } else {
                            vec![path]
                        }
                    }
                    _ => Vec::new(),
                }
            })
            .collect()
    }
}

fn has_key_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "key" || e == "pem")
}

fn starts_like_a_key(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4096];
    let n = f.read(&mut head).unwrap_or(0);
    is_key_material(&head[..n])
}

fn is_key_material(bytes: &[u8]) -> bool {
    bytes.starts_with(&PKCS8_ED25519_PREFIX)
        || memchr::memmem::find(bytes, b"PRIVATE KEY-----").is_some()
}
