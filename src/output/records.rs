//! What vitrine keeps about one output folder between builds, all under
//! `.vitrine-cache/outputs/<key>.*`, where `<key>` names the folder's absolute path: one place
//! that names these files, so no stage invents a path of its own.
//!
//! | file | what it holds | who reads it |
//! |---|---|---|
//! | `<key>.json` | the manifest: every file the last build wrote, by fingerprint | the next build's diff, the stranger and key checks |
//! | `<key>.inputs.json` | the inputs the last build saw and its report | the no-change shortcut |
//! | `<key>.spare.json` | the manifest of the spare generation beside the output | [`super::write_atomically`] |
//! | `<key>.pages/` | rendered pages by key | [`super::PageCache`] |
//! | `<key>.guard.json` | which private needles each piece of public text contains | the leak guard ([`super::GuardMemory`]) |
//! | `<key>.cards` | the listings' cards, by the binary that rendered them | `render` (through `Site`) |
//! | `<key>.lock` | an exclusive lock: one build of a folder at a time | every build |

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::leak::Findings;
use super::{GuardMemory, Manifest};
use crate::render::Cards;

/// The records of one output folder.
#[derive(Debug, Clone)]
pub struct OutputRecords {
    /// `.vitrine-cache/outputs/<key>`, without an extension.
    base: PathBuf,
}

impl OutputRecords {
    /// The records of the output folder `out` in the cache folder `cache`.
    pub fn of(cache: &Path, out: &Path) -> OutputRecords {
        let abs = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
        let key = blake3::hash(abs.to_string_lossy().as_bytes()).to_hex()[..16].to_string();
        OutputRecords {
            base: cache.join("outputs").join(key),
        }
    }

    fn with(&self, extension: &str) -> PathBuf {
        self.base.with_extension(extension)
    }

    /// The last build's record of its inputs and report.
    pub fn inputs(&self) -> PathBuf {
        self.with("inputs.json")
    }

    /// The spare generation's manifest.
    pub fn spare(&self) -> PathBuf {
        self.with("spare.json")
    }

    /// The page cache folder.
    pub fn pages(&self) -> PathBuf {
        self.with("pages")
    }

    /// The listings' cards the last build used (see [`Cards`]), if the binary `code` rendered
    /// them; none when there are none (or the file is torn).
    pub fn load_cards(&self, code: &str) -> Cards {
        std::fs::read(self.with("cards"))
            .ok()
            .and_then(|bytes| postcard::from_bytes::<(String, Cards)>(&bytes).ok())
            .filter(|(made_by, _)| made_by == code)
            .map(|(_, cards)| cards)
            .unwrap_or_default()
    }

    /// Keeps `cards` (rendered by the binary `code`) for the next build. Best effort and not
    /// synced: a torn file does not parse and only costs rendering the cards again.
    pub fn save_cards(&self, code: &str, cards: &Cards) {
        if let Ok(bytes) = postcard::to_stdvec(&(code, cards)) {
            let path = self.with("cards");
            let tmp = path.with_extension("tmp");
            let _ = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
        }
    }

    /// The manifest of what the last build wrote; empty when there is none (or it is torn).
    pub fn load_manifest(&self) -> Manifest {
        std::fs::read(self.with("json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Keeps `manifest` for the next build; best effort: without it the next build rewrites.
    pub fn save_manifest(&self, manifest: &Manifest) {
        if let Ok(bytes) = serde_json::to_vec(manifest) {
            let _ = super::write_file_atomically(&self.with("json"), &bytes);
        }
    }

    /// The leak guard's memory the last build left, if the binary `code` made it; empty when
    /// there is none (or the file is torn).
    pub fn load_guard(&self, code: &str) -> GuardMemory {
        std::fs::read(self.with("guard.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<(String, Findings)>(&bytes).ok())
            .filter(|(made_by, _)| made_by == code)
            .map(|(_, findings)| GuardMemory::with_findings(findings))
            .unwrap_or_default()
    }

    /// Keeps what `memory` found for the next build; best effort, like the cards.
    pub fn save_guard(&self, code: &str, memory: &GuardMemory) {
        let Some(findings) = memory.findings() else {
            return;
        };
        if let Ok(bytes) = serde_json::to_vec(&(code, findings)) {
            let path = self.with("guard.json");
            let tmp = path.with_extension("json.tmp");
            let _ = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
        }
    }

    /// Takes the folder's lock, waiting for another build of it to finish.
    pub fn lock(&self) -> Result<File> {
        let path = self.with("lock");
        let dir = path.parent().expect("records live in the cache");
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
        let file = File::create(&path).with_context(|| format!("creating `{}`", path.display()))?;
        file.lock()
            .with_context(|| format!("locking `{}`", path.display()))?;
        Ok(file)
    }
}
