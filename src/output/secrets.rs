//! Refuses to build when private key material sits where the build reads or publishes:
//! `content/`, `themes/` or the output folder. Keys belong in `$XDG_CONFIG_HOME/vitrine/keys/`.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Result};

use super::{Files, Manifest, Source};

/// The DER prefix of a PKCS#8 Ed25519 private key (RFC 8410), as `vitrine keygen` writes it.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Fails, naming every offending file, if a private key is found under any of `dirs`, or in
/// the output folder `out` among the files the build did not write itself (`written`), or in
/// the rendered bytes about to be published.
pub fn check_no_private_keys(
    root: &Path,
    dirs: &[&Path],
    out: &Path,
    written: &Manifest,
    files: &Files,
) -> Result<()> {
    let mut found = Vec::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_file() && looks_like_private_key(entry.path()) {
                let shown = entry.path().strip_prefix(root).unwrap_or(entry.path());
                found.push(shown.display().to_string());
            }
        }
    }
    // Files vitrine wrote came from the checked sources below; only strangers need reading.
    for entry in walkdir::WalkDir::new(out)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(rel) = entry.path().strip_prefix(out) else {
            continue;
        };
        let rel = rel.to_string_lossy();
        if entry.file_type().is_file()
            && !written.contains_key(rel.as_ref())
            && looks_like_private_key(entry.path())
        {
            found.push(entry.path().display().to_string());
        }
    }
    for (path, source) in files {
        if let Source::Bytes(bytes) = source {
            if is_key_material(bytes) {
                found.push(format!("{path} (in the rendered output)"));
            }
        }
    }
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

fn looks_like_private_key(path: &Path) -> bool {
    if path.extension().is_some_and(|e| e == "key" || e == "pem") {
        return true;
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4096];
    let n = f.read(&mut head).unwrap_or(0);
    is_key_material(&head[..n])
}

fn is_key_material(bytes: &[u8]) -> bool {
    const PEM: &[u8] = b"PRIVATE KEY-----";
    bytes.starts_with(&PKCS8_ED25519_PREFIX) || bytes.windows(PEM.len()).any(|w| w == PEM)
}
