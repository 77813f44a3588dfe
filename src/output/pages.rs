//! Rendered pages kept between builds of one output, named by the key of what they were
//! rendered from ([`crate::render::PageJob::key`]): a rebuild renders only the pages whose
//! template or context changed, and links the others, like cached media. The output's files
//! are hard links to these, so an unchanged page keeps its identity and is not rewritten.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The page cache of one output folder.
pub struct PageCache {
    dir: PathBuf,
    salt: String,
}

impl PageCache {
    /// The cache in `dir`. `salt` names the code that renders (vitrine's version and binary):
    /// a page rendered by another build of vitrine is not reused.
    pub fn open(dir: &Path, salt: &str) -> Result<PageCache> {
        fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
        Ok(PageCache {
            dir: dir.to_path_buf(),
            salt: salt.to_string(),
        })
    }

    /// Where the page rendered from `key` is kept.
    pub fn file(&self, key: &str) -> PathBuf {
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.salt.as_bytes());
        hasher.update(&[0]);
        hasher.update(key.as_bytes());
        self.dir.join(&hasher.finalize().to_hex()[..32])
    }

    /// The kept page rendered from `key`, if there is one.
    pub fn get(&self, key: &str) -> Option<PathBuf> {
        let file = self.file(key);
        file.is_file().then_some(file)
    }

    /// Keeps `bytes` as the page rendered from `key` (written whole, then renamed into place)
    /// and returns its file.
    pub fn put(&self, key: &str, bytes: &[u8]) -> Result<PathBuf> {
        let file = self.file(key);
        let name = file.file_name().expect("cache files have names");
        let tmp = self.dir.join(format!(".{}.tmp", name.to_string_lossy()));
        fs::write(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, &file))
            .with_context(|| format!("writing `{}`", file.display()))?;
        Ok(file)
    }

    /// Removes every kept page but `used` (which may name any file: only this cache's count),
    /// so the cache holds one generation, the current one.
    pub fn retain<'a>(&self, used: impl IntoIterator<Item = &'a Path>) {
        // With deep-zoom tiles an output names 100k+ cached files; hash only the pages.
        let used: HashSet<&Path> = used
            .into_iter()
            .filter(|file| file.parent() == Some(self.dir.as_path()))
            .collect();
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if !used.contains(entry.path().as_path()) {
                // Best effort: a file left behind costs disk space, nothing else.
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_pages_by_key_and_salt_and_one_generation() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = PageCache::open(tmp.path(), "v1").unwrap();
        assert!(cache.get("a").is_none());
        let a = cache.put("a", b"<p>a</p>").unwrap();
        assert_eq!(cache.get("a"), Some(a.clone()));
        assert_eq!(fs::read(&a).unwrap(), b"<p>a</p>");
        let other_code = PageCache::open(tmp.path(), "v2").unwrap();
        assert!(
            other_code.get("a").is_none(),
            "another vitrine renders anew"
        );

        let b = cache.put("b", b"<p>b</p>").unwrap();
        cache.retain([b.as_path(), Path::new("/elsewhere/tile.jpg")]);
        assert!(cache.get("a").is_none());
        assert_eq!(cache.get("b"), Some(b));
    }
}
