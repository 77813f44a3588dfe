//! The site's content secret and what is derived from it (docs/share-links.md, "Encryption at
//! rest"): the edge key the gates decrypt with, each key name's label and content key, and each
//! share's link secret and slot on hosts without a gate.
//!
//! One secret per site, so one thing to back up and one repository secret for CI; the gates get
//! only the edge key, a one-way derivation that can open files but cannot make a link.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use vitrine_verify::ShareId;

use super::{hex, keys, parse_hex};
use crate::content::PublicKeyEntry;

/// The environment variable that carries the content secret (CI builds).
pub const ENV: &str = "VITRINE_CONTENT_SECRET";

/// The site's content secret *C*: 32 random bytes every private file's key comes from.
#[derive(Clone)]
pub struct ContentSecret([u8; 32]);

/// Where a content secret was found, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The environment variable [`ENV`].
    Env,
    /// A file in the key folder.
    File(PathBuf),
    /// Made just now, in this file.
    Created(PathBuf),
    /// Kept in the site's cache, where nothing else needs it (see [`ContentSecret::of_site`]):
    /// it only lets rebuilds reuse what they sealed.
    Cache(PathBuf),
    /// Made in memory for one `vitrine check`, where a build would make and keep one.
    Unkept,
}

impl ContentSecret {
    /// The site's content secret: [`ENV`], else `<key folder>/<kid>.content` for a key id of
    /// `keys`, else a new one written beside the first of `keys` whose key file is on this
    /// machine (so the lab's key folder holds both, and one backup keeps both). `None` when
    /// there is none and none can be made here (CI without the variable, a site without keys).
    pub fn find_or_create(keys: &[PublicKeyEntry]) -> Result<Option<(ContentSecret, Origin)>> {
        if let Some(found) = ContentSecret::find(keys)? {
            return Ok(Some(found));
        }
        let Some(path) = ContentSecret::new_file(keys)? else {
            return Ok(None);
        };
        let secret = ContentSecret(random()?);
        write_file(&path, &secret)?;
        Ok(Some((secret, Origin::Created(path))))
    }

    /// [`ENV`], else `<key folder>/<kid>.content` for a key id of `keys`.
    fn find(keys: &[PublicKeyEntry]) -> Result<Option<(ContentSecret, Origin)>> {
        if let Some(text) = std::env::var_os(ENV).filter(|v| !v.is_empty()) {
            let text = text.to_string_lossy();
            let bytes = parse_hex::<32>(text.trim()).with_context(|| {
                format!("{ENV} must be 64 hex digits, as `vitrine secret` prints it")
            })?;
            return Ok(Some((ContentSecret(bytes), Origin::Env)));
        }
        let dir = keys::key_dir()?;
        for entry in keys {
            let path = dir.join(format!("{}.content", entry.kid_hex()));
            if let Some(secret) = read_file(&path)? {
                return Ok(Some((secret, Origin::File(path))));
            }
        }
        Ok(None)
    }

    /// Where a new secret goes: beside the first of `keys` whose key file is on this machine.
    fn new_file(keys: &[PublicKeyEntry]) -> Result<Option<PathBuf>> {
        let Some(entry) = keys.iter().find(|k| keys::key_file(&k.kid_hex()).is_some()) else {
            return Ok(None);
        };
        Ok(Some(
            keys::key_dir()?.join(format!("{}.content", entry.kid_hex())),
        ))
    }

    /// The secret a site's private files are sealed with: [`ContentSecret::find_or_create`],
    /// else one kept in the site's cache folder `cache` when nothing outside the build needs
    /// the same secret again: a site without keys (no link can exist yet), or one whose gate
    /// carries its key in the module the build writes (`kept_outside` false: Netlify). Else an
    /// error saying what to do (a CI build without [`ENV`] for Cloudflare or a static host,
    /// whose worker secret or link secrets come from the site's own secret).
    ///
    /// With `keep` false (`vitrine check`) a secret that would be made beside the keys is made
    /// in memory only ([`Origin::Unkept`]), so checking leaves the key folder as it was.
    pub fn of_site(
        cache: &Path,
        keys: &[PublicKeyEntry],
        kept_outside: bool,
        keep: bool,
    ) -> Result<(ContentSecret, Origin)> {
        let found = match keep {
            true => ContentSecret::find_or_create(keys)?,
            false => match ContentSecret::find(keys)? {
                Some(found) => Some(found),
                None => match ContentSecret::new_file(keys)? {
                    Some(_) => Some((ContentSecret(random()?), Origin::Unkept)),
                    None => None,
                },
            },
        };
        if let Some(found) = found {
            return Ok(found);
        }
        if keys.is_empty() || !kept_outside {
            let path = cache.join("unshared.secret");
            return Ok((ContentSecret::kept_in(&path)?, Origin::Cache(path)));
        }
        bail!(
            "private items are sealed with the site's content secret, and it is not here: set {ENV} to it \
             (`vitrine secret` prints it on the machine that holds the key folder), or build where \
             the key folder holds `<kid>.content` for a key of content/site.yaml"
        )
    }

    /// A secret from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> ContentSecret {
        ContentSecret(bytes)
    }

    /// The secret kept in the file `path`, made there first if there is none.
    pub fn kept_in(path: &Path) -> Result<ContentSecret> {
        if let Some(secret) = read_file(path)? {
            return Ok(secret);
        }
        let secret = ContentSecret(random()?);
        write_file(path, &secret)?;
        Ok(secret)
    }

    /// As 64 hex digits, the form [`ENV`] takes.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The edge key *E* the gates hold.
    pub fn edge_key(&self) -> EdgeKey {
        EdgeKey(hkdf::<32>(&self.0, &[b"vitrine/edge/v1"]))
    }

    /// The secret in the fragment of a static share link.
    pub fn link_secret(&self, share: &ShareId) -> LinkSecret {
        let full = hmac(&self.0, &[b"vitrine/link-secret/v1\0", share]);
        LinkSecret(full[..16].try_into().expect("16 of 32 bytes"))
    }
}

/// The edge key *E*: derives every content key from a file's label.
#[derive(Clone, PartialEq, Eq)]
pub struct EdgeKey([u8; 32]);

impl std::fmt::Debug for EdgeKey {
    /// Never the key itself: reports and errors are printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EdgeKey(..)")
    }
}

/// A key name's public label, written in each sealed file's header.
pub type Label = [u8; 16];

impl EdgeKey {
    /// As 64 hex digits, the form the gates take it in.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The label of key name `name` (`dataset:<slug>`, `media:<slug>`,
    /// `annotation:<slug>/<id>`, `layer:<slug>/<id>`) when the shares `ended` could open it:
    /// another set of ended shares, another key.
    pub fn label(&self, name: &str, ended: &[ShareId]) -> Label {
        let mut ids: Vec<String> = ended.iter().map(|id| hex(id)).collect();
        ids.sort();
        let full = hmac(
            &self.0,
            &[
                b"vitrine/label/v1\0",
                name.as_bytes(),
                b"\0",
                ids.join(",").as_bytes(),
            ],
        );
        full[..16].try_into().expect("16 of 32 bytes")
    }

    /// The content key of `label`.
    pub fn content_key(&self, label: &Label) -> [u8; 32] {
        hkdf::<32>(&self.0, &[b"vitrine/content/v1\0", label])
    }
}

/// A static link's secret: 16 bytes, written as 22 base62 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret([u8; 16]);

/// Base62 digits of a link secret.
pub const LINK_SECRET_CHARS: usize = 22;

impl LinkSecret {
    /// The slot's file name: only the link's holder can name it.
    pub fn slot_id(&self) -> String {
        hex(&hkdf::<16>(&self.0, &[b"vitrine/slot-id/v1"]))
    }

    /// The key the slot is sealed with.
    pub fn wrap_key(&self) -> [u8; 32] {
        hkdf::<32>(&self.0, &[b"vitrine/slot-key/v1"])
    }

    /// The 22 base62 digits of the link.
    pub fn to_base62(&self) -> String {
        let alphabet = vitrine_verify::base62::ALPHABET;
        let mut n = u128::from_be_bytes(self.0);
        let mut digits = [b'0'; LINK_SECRET_CHARS];
        for d in digits.iter_mut().rev() {
            *d = alphabet[(n % 62) as usize];
            n /= 62;
        }
        String::from_utf8(digits.to_vec()).expect("base62 is ASCII")
    }

    /// Reads 22 base62 digits; `None` for another length, a foreign character or 2^128 or more.
    pub fn from_base62(text: &str) -> Option<LinkSecret> {
        if text.len() != LINK_SECRET_CHARS {
            return None;
        }
        let alphabet = vitrine_verify::base62::ALPHABET;
        let mut n: u128 = 0;
        for c in text.bytes() {
            let d = alphabet.iter().position(|&a| a == c)? as u128;
            n = n.checked_mul(62)?.checked_add(d)?;
        }
        Some(LinkSecret(n.to_be_bytes()))
    }
}

/// HMAC-SHA256 over the concatenation of `parts`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 with an empty salt, `N` bytes, info the concatenation of `info`.
fn hkdf<const N: usize>(ikm: &[u8], info: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    hkdf::Hkdf::<Sha256>::new(Some(&[]), ikm)
        .expand_multi_info(info, &mut out)
        .expect("N is far below HKDF's limit");
    out
}

fn random() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
    Ok(bytes)
}

/// Reads a secret file (64 hex digits), refusing one others can read, as key files are.
fn read_file(path: &Path) -> Result<Option<ContentSecret>> {
    use std::os::unix::fs::PermissionsExt;
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", path.display())),
    };
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "`{}` can be read by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let bytes = parse_hex::<32>(text.trim()).with_context(|| {
        format!(
            "`{}` is not a content secret (64 hex digits)",
            path.display()
        )
    })?;
    Ok(Some(ContentSecret(bytes)))
}

/// Writes a new secret file, mode 0600, never over an existing one (that would orphan every
/// static link made from it).
fn write_file(path: &Path, secret: &ContentSecret) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating `{}`", dir.display()))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing the content secret `{}`", path.display()))?;
    file.write_all(format!("{}\n", secret.to_hex()).as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_secrets_are_22_base62_digits_and_read_back() {
        let secret = ContentSecret::from_bytes([9; 32]);
        for id in [[0u8; 8], [255; 8], [1, 2, 3, 4, 5, 6, 7, 8]] {
            let link = secret.link_secret(&id);
            let text = link.to_base62();
            assert_eq!(text.len(), 22);
            assert!(text.bytes().all(|c| c.is_ascii_alphanumeric()));
            assert!(LinkSecret::from_base62(&text) == Some(link));
        }
        assert!(
            LinkSecret::from_base62(&"z".repeat(22)).is_none(),
            "2^128 or more"
        );
        assert!(LinkSecret::from_base62(&"0".repeat(21)).is_none());
        assert!(LinkSecret::from_base62(&format!("{}-", "0".repeat(21))).is_none());
        let max = LinkSecret([255; 16]).to_base62();
        assert!(LinkSecret::from_base62(&max).is_some());
    }

    #[test]
    fn an_ended_share_changes_the_label_and_the_order_does_not() {
        let edge = ContentSecret::from_bytes([1; 32]).edge_key();
        let none = edge.label("media:a", &[]);
        let ab = edge.label("media:a", &[[1; 8], [2; 8]]);
        assert_ne!(none, ab);
        assert_eq!(ab, edge.label("media:a", &[[2; 8], [1; 8]]));
        assert_ne!(none, edge.label("media:b", &[]));
        assert_ne!(edge.content_key(&none), edge.content_key(&ab));
    }
}
