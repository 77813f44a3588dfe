//! Refuses to build when private key material sits where the build reads or publishes:
//! `content/`, `themes/` or the output folder. Keys belong in `$XDG_CONFIG_HOME/vitrine/keys/`.
//!
//! Key material is any PKCS#8 Ed25519 key (version 1 or 2, DER or PEM, or a PEM body without
//! its header lines) and, for the site's keys whose files are on this machine, the 32-byte seed
//! itself: raw, hex, base64 (standard or URL-safe) or base62, the forms people paste it in.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use anyhow::{bail, Result};
use base64ct::{Base64Unpadded, Base64UrlUnpadded, Encoding};
use ed25519_dalek::SigningKey;
use rayon::prelude::*;

use super::{text_of, Files};

/// The middle of every PKCS#8 Ed25519 private key's DER (RFC 8410), v1 and v2 alike: the
/// algorithm identifier (OID 1.3.101.112) followed by the OCTET STRING that wraps the 32-byte
/// seed. A public key (SPKI) has a BIT STRING there instead, so this never matches one.
const PKCS8_ED25519_CORE: &[u8] = &[
    0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The base64 of the first 16 DER bytes of a v1 and a v2 key: a PEM body pasted without its
/// `-----BEGIN` line still starts with one of these.
const PKCS8_BASE64_STARTS: [&str; 2] = ["MC4CAQAwBQYDK2VwBCIEI", "MFECAQEwBQYDK2VwBCIEI"];

/// Input files up to this size are read whole; larger ones (raw microscopy images) only in
/// their first [`HEAD`] bytes, where a key file renamed to an image's name would show.
const READ_WHOLE: u64 = 16 << 20;
/// How much of a larger input file is read.
const HEAD: usize = 64 << 10;

/// What private key material looks like, for one build.
pub struct KeyMaterial {
    patterns: AhoCorasick,
    /// A digest of the patterns: files found free of key material under other patterns (a key
    /// added since) must be read again.
    digest: blake3::Hash,
}

impl KeyMaterial {
    /// The generic PKCS#8 patterns, and every encoding of each of `keys`' seeds.
    pub fn new(keys: &[SigningKey]) -> KeyMaterial {
        let mut patterns: Vec<Vec<u8>> =
            vec![PKCS8_ED25519_CORE.to_vec(), b"PRIVATE KEY-----".to_vec()];
        patterns.extend(PKCS8_BASE64_STARTS.iter().map(|s| s.as_bytes().to_vec()));
        for key in keys {
            let seed = key.to_bytes();
            let hex = crate::hex::hex(&seed);
            patterns.push(seed.to_vec());
            patterns.push(hex.to_ascii_uppercase().into_bytes());
            patterns.push(hex.into_bytes());
            patterns.push(Base64Unpadded::encode_string(&seed).into_bytes());
            patterns.push(Base64UrlUnpadded::encode_string(&seed).into_bytes());
            patterns.push(base62(&seed).into_bytes());
        }
        let mut digest = blake3::Hasher::new();
        for p in &patterns {
            digest.update(&(p.len() as u64).to_le_bytes());
            digest.update(p);
        }
        KeyMaterial {
            patterns: AhoCorasick::new(patterns).expect("fixed-size literal patterns"),
            digest: digest.finalize(),
        }
    }

    /// What [`KeyMaterial::new`] was made from, as a digest that reveals nothing of it.
    pub fn digest(&self) -> blake3::Hash {
        self.digest
    }

    /// Whether `bytes` hold key material anywhere.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        self.patterns.is_match(bytes)
    }

    /// Whether the file at `path` holds key material (read whole up to [`READ_WHOLE`]).
    fn in_file(&self, path: &Path) -> bool {
        let Ok(f) = std::fs::File::open(path) else {
            return false;
        };
        let whole = f.metadata().is_ok_and(|m| m.len() <= READ_WHOLE);
        let mut bytes = Vec::new();
        let limit = if whole { READ_WHOLE } else { HEAD as u64 };
        if f.take(limit).read_to_end(&mut bytes).is_err() {
            return false;
        }
        self.found_in(&bytes)
    }
}

/// `bytes` as one big-endian number in base62 (the share tokens' alphabet), without leading
/// zeros. Written here because the verifier's base62 is fixed to a token's 93 bytes and no
/// maintained crate encodes arbitrary lengths with this alphabet as a plain number.
fn base62(bytes: &[u8]) -> String {
    let mut number = bytes.to_vec();
    let mut digits = Vec::new();
    while number.iter().any(|&b| b != 0) {
        let mut rest = 0u32;
        for b in &mut number {
            let acc = (rest << 8) | u32::from(*b);
            *b = (acc / 62) as u8;
            rest = acc % 62;
        }
        digits.push(vitrine_verify::base62::ALPHABET[rest as usize]);
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII alphabet")
}

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
    /// The files in the output folder that the last build did not write ([`super::strangers`]):
    /// each is read.
    pub strangers: &'a [PathBuf],
    /// The files about to be published.
    pub files: &'a Files,
    /// Whether a published text file must be read (the others were checked when published).
    pub read_file: &'a (dyn Fn(&str) -> bool + Sync),
    /// What key material looks like.
    pub material: &'a KeyMaterial,
}

impl KeyCheck<'_> {
    /// Fails, naming every offending file, if private key material is found.
    pub fn run(&self) -> Result<()> {
        let mut found: Vec<String> = self
            .inputs
            .par_iter()
            .filter(|(path, id)| {
                has_key_name(path) || (!self.keyless.contains(id) && self.material.in_file(path))
            })
            .map(|(path, _)| {
                path.strip_prefix(self.root)
                    .unwrap_or(path)
                    .display()
                    .to_string()
            })
            .collect();
        // Files vitrine wrote came from the checked sources below; only strangers need reading.
        found.par_extend(
            self.strangers
                .par_iter()
                .filter(|path| has_key_name(path) || self.material.in_file(path))
                .map(|path| path.display().to_string()),
        );
        found.par_extend(
            self.files
                .par_iter()
                .filter(|(path, source)| {
                    (self.read_file)(path)
                        && text_of(path, source).is_some_and(|bytes| self.material.found_in(&bytes))
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

fn has_key_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "key" || e == "pem")
}
