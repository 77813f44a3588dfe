//! Signing keys: creating them outside the site, publishing their public half in `site.yaml`,
//! and finding the right one when a link is signed.
//!
//! A key file is PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`, the seed alone) with mode 0600
//! under `$XDG_CONFIG_HOME/vitrine/keys/<kid>.key`, the form OpenSSL 3 and Node's
//! `crypto.createPrivateKey` load; files written before (PKCS#8 v2 with the public key, as PEM
//! or DER) are still read. Nothing here ever writes a private key inside the site folder.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::SigningKey;
use vitrine_verify::kid_of;

use super::hex;
use crate::content::{site_yaml, PublicKeyEntry};

/// The folder key files go to by default: `$XDG_CONFIG_HOME/vitrine/keys`, else
/// `~/.config/vitrine/keys`.
pub fn key_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).context(
                "neither XDG_CONFIG_HOME nor HOME is set, so there is no default key folder; pass --key FILE",
            )?;
            PathBuf::from(home).join(".config")
        }
    };
    Ok(base.join("vitrine").join("keys"))
}

/// The key id of a signing key, as 8 lowercase hex digits.
pub fn kid_hex(key: &SigningKey) -> String {
    hex(&kid_of(&key.verifying_key().to_bytes()))
}

/// A fresh signing key from the system's random generator.
pub fn generate() -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `key` to `path` as PKCS#8 v1 PEM, mode 0600, creating its folder (mode 0700).
///
/// Refuses a path inside `root` (a key there would be committed or published) and an existing
/// file (overwriting a key would orphan every link it signed).
pub fn write_key_file(root: &Path, path: &Path, key: &SigningKey) -> Result<()> {
    let target = absolute(path)?;
    let site = fs::canonicalize(root)
        .with_context(|| format!("reading the site folder `{}`", root.display()))?;
    if resolve(&target)?.starts_with(&site) {
        bail!(
            "refusing to write a private key inside the site folder (`{}`): it could be committed or published; \
             leave out --key to use {}, or pick a path outside `{}`",
            path.display(),
            key_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "the default key folder".into()),
            site.display()
        );
    }
    if let Some(parent) = target.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .with_context(|| format!("creating the key folder `{}`", parent.display()))?;
    }
    let pem = key_file_text(key)?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&target)
        .with_context(|| match target.exists() {
            true => format!(
                "`{}` already exists; a key file is never overwritten, choose another --key path",
                target.display()
            ),
            false => format!("creating the key file `{}`", target.display()),
        })?;
    file.write_all(pem.as_bytes())
        .and_then(|_| file.sync_all())
        .with_context(|| format!("writing the key file `{}`", target.display()))?;
    Ok(())
}

/// The text of a key file: PKCS#8 v1 PEM, without the optional public key, because OpenSSL 3.0
/// and Node 20 refuse the v2 form (`DECODER routines::unsupported`).
pub fn key_file_text(key: &SigningKey) -> Result<String> {
    let seed = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    let pem = seed
        .to_pkcs8_pem(Default::default())
        .context("encoding the key as PKCS#8")?;
    Ok(pem.to_string())
}

/// Reads a key file (PKCS#8 v1 or v2, PEM or DER), refusing one that others can read (as ssh
/// does).
pub fn load_key_file(path: &Path) -> Result<SigningKey> {
    let meta =
        fs::metadata(path).with_context(|| format!("reading the key file `{}`", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "key file `{}` can be read by other users (mode {mode:o}); run `chmod 600 {}`, and if others did read it, \
             rotate the key (docs/share-links.md, \"Rotating keys\")",
            path.display(),
            path.display()
        );
    }
    let bytes =
        fs::read(path).with_context(|| format!("reading the key file `{}`", path.display()))?;
    parse_key_file(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is not an Ed25519 PKCS#8 key file, PEM or DER ({e}); key files are written by `vitrine keygen`",
            path.display()
        )
    })
}

/// Parses a key file's bytes: PEM when they are text starting with `-----BEGIN`, else DER. A
/// v2 file's public key must match its seed.
fn parse_key_file(bytes: &[u8]) -> ed25519_dalek::pkcs8::Result<SigningKey> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
            SigningKey::from_pkcs8_pem(text.trim_start())
        }
        _ => SigningKey::from_pkcs8_der(bytes),
    }
}

/// Where the file of key `kid` is on this machine: `<key folder>/<kid>.key`, or the path
/// `vitrine keygen --key FILE` remembered for it (`<key folder>/<kid>.where`), so a key kept
/// elsewhere is found by every command without `--key` again. `None` when neither exists.
pub fn key_file(kid: &str) -> Option<PathBuf> {
    let dir = key_dir().ok()?;
    let default = dir.join(format!("{kid}.key"));
    if default.is_file() {
        return Some(default);
    }
    let remembered = fs::read_to_string(dir.join(format!("{kid}.where"))).ok()?;
    Some(PathBuf::from(remembered.trim_end_matches('\n'))).filter(|p| p.is_file())
}

/// Remembers that key `kid` lives at `path` (outside the key folder), for [`key_file`]. The
/// note holds a path, no key material.
pub fn remember_key_file(kid: &str, path: &Path) -> Result<()> {
    let dir = key_dir()?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating the key folder `{}`", dir.display()))?;
    let note = dir.join(format!("{kid}.where"));
    let target = absolute(path)?;
    fs::write(&note, format!("{}\n", target.display()))
        .with_context(|| format!("remembering where key {kid} is, in `{}`", note.display()))
}

/// Finds the signing key for a site: `explicit` if given (it must be listed in `site.yaml`),
/// else `<key_dir>/<kid>.key` for `want`, or for the newest listed key that has a file here.
pub fn signing_key(
    keys: &[PublicKeyEntry],
    explicit: Option<&Path>,
    want: Option<&str>,
) -> Result<(SigningKey, PathBuf)> {
    if let Some(path) = explicit {
        let key = load_key_file(path)?;
        let kid = kid_hex(&key);
        if let Some(want) = want.filter(|w| *w != kid) {
            bail!(
                "`{}` holds key {kid}, but key {want} is needed here; pass the file of key {want}",
                path.display()
            );
        }
        if !keys.iter().any(|k| k.kid_hex() == kid) {
            bail!(
                "key {kid} (`{}`) is not listed under sharing.keys in content/site.yaml, so gates would answer \
                 unknown-key; use a listed key, or add its public half ({}) with its kid",
                path.display(),
                hex(&key.verifying_key().to_bytes())
            );
        }
        return Ok((key, path.to_path_buf()));
    }
    if keys.is_empty() {
        bail!(
            "content/site.yaml lists no signing key under sharing.keys; run `vitrine keygen` first"
        );
    }
    let dir = key_dir()?;
    let candidates: Vec<String> = match want {
        Some(kid) => vec![kid.to_string()],
        None => keys.iter().rev().map(PublicKeyEntry::kid_hex).collect(),
    };
    for kid in &candidates {
        if let Some(path) = key_file(kid) {
            return Ok((load_key_file(&path)?, path));
        }
    }
    bail!(
        "no key file found for key{} {} in `{}`; pass --key FILE (or set VITRINE_KEY), or run `vitrine keygen` for a new key",
        if candidates.len() == 1 { "" } else { "s" },
        candidates.join(", "),
        dir.display()
    )
}

/// The signing keys of `keys` whose files are on this machine ([`key_file`], or named by
/// `VITRINE_KEY`): the build searches its inputs and output for their seeds in every encoding.
pub fn local_keys(keys: &[PublicKeyEntry]) -> Vec<SigningKey> {
    let named = std::env::var_os("VITRINE_KEY").map(PathBuf::from);
    let files = keys
        .iter()
        .filter_map(|k| key_file(&k.kid_hex()))
        .chain(named);
    let mut found: Vec<SigningKey> = Vec::new();
    for key in files
        .filter(|f| f.is_file())
        .filter_map(|f| load_key_file(&f).ok())
    {
        if !found.iter().any(|k| k.to_bytes() == key.to_bytes()) {
            found.push(key);
        }
    }
    found
}

/// Adds `{kid, public_key}` to `sharing.keys` in `content/site.yaml` as a text edit, keeping
/// every comment and the user's formatting, and replaces the file atomically.
pub fn add_to_site_yaml(root: &Path, public_key: &[u8; 32]) -> Result<()> {
    let path = site_yaml(root);
    let text =
        fs::read_to_string(&path).with_context(|| format!("reading `{}`", path.display()))?;
    let kid = hex(&kid_of(public_key));
    let edited = insert_key(&text, &kid, &hex(public_key)).map_err(|(line, msg)| {
        anyhow::anyhow!(
            "{}:{line}: {msg}; add the key by hand under sharing.keys:\n    - kid: \"{kid}\"\n      public_key: \"{}\"",
            path.display(),
            hex(public_key)
        )
    })?;
    if !lists_key(&edited, &kid) {
        bail!(
            "{}: could not add key {kid} without breaking the file; add it by hand under sharing.keys:\n    - kid: \"{kid}\"\n      public_key: \"{}\"",
            path.display(),
            hex(public_key)
        );
    }
    let dir = path.parent().context("site.yaml has no folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing into `{}`", dir.display()))?;
    tmp.write_all(edited.as_bytes())?;
    let perms = fs::metadata(&path)?.permissions();
    tmp.as_file().set_permissions(perms)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path)
        .with_context(|| format!("replacing `{}`", path.display()))?;
    Ok(())
}

/// Whether the YAML text lists `kid` under `sharing.keys`.
fn lists_key(text: &str, kid: &str) -> bool {
    let Ok(value) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) else {
        return false;
    };
    value
        .get("sharing")
        .and_then(|s| s.get("keys"))
        .and_then(|k| k.as_sequence())
        .is_some_and(|keys| {
            keys.iter()
                .any(|k| k.get("kid").and_then(|v| v.as_str()) == Some(kid))
        })
}

/// The text edit behind [`add_to_site_yaml`]; an error names the 1-based line it gave up at.
fn insert_key(text: &str, kid: &str, public_key: &str) -> Result<String, (usize, String)> {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let item = |indent: usize| {
        let pad = " ".repeat(indent);
        vec![
            format!("{pad}- kid: \"{kid}\""),
            format!("{pad}  public_key: \"{public_key}\""),
        ]
    };
    let Some(sharing) = lines.iter().position(|l| key_of(l) == Some((0, "sharing"))) else {
        lines.push("sharing:".into());
        lines.push("  keys:".into());
        lines.extend(item(4));
        return Ok(join(&lines, nl));
    };
    match inline_value(&lines[sharing]) {
        "" => {}
        "{}" => lines[sharing] = "sharing:".into(),
        _ => {
            return Err((
                sharing + 1,
                "`sharing:` is written inline; write it as an indented block".into(),
            ))
        }
    }
    let block_end = block_end(&lines, sharing + 1, 0);
    let child = lines[sharing + 1..block_end]
        .iter()
        .find(|l| !is_blank(l))
        .map_or(2, |l| indent_of(l));
    let Some(keys) = (sharing + 1..block_end).find(|&i| key_of(&lines[i]) == Some((child, "keys")))
    else {
        let mut new = vec![format!("{}keys:", " ".repeat(child))];
        new.extend(item(child + 2));
        lines.splice(sharing + 1..sharing + 1, new);
        return Ok(join(&lines, nl));
    };
    match inline_value(&lines[keys]) {
        "" => {}
        "[]" => lines[keys] = format!("{}keys:", " ".repeat(child)),
        _ => {
            return Err((
                keys + 1,
                "`keys:` is written inline; write it as a block list (`- kid: …`)".into(),
            ))
        }
    }
    // Items may sit at the key's own indent (`keys:\n- kid: …`), so the list ends at the first
    // content line that is less indented, or equally indented but not an item.
    let mut last = keys;
    let mut dash = None;
    for (i, line) in lines.iter().enumerate().skip(keys + 1) {
        if is_blank(line) {
            continue;
        }
        let ind = indent_of(line);
        let is_item = line.trim_start().starts_with('-');
        if ind < child || (ind == child && !is_item) {
            break;
        }
        if is_item && dash.is_none() {
            dash = Some(ind);
        }
        last = i;
    }
    lines.splice(last + 1..last + 1, item(dash.unwrap_or(child + 2)));
    Ok(join(&lines, nl))
}

fn join(lines: &[String], nl: &str) -> String {
    let mut out = lines.join(nl);
    out.push_str(nl);
    out
}

/// `(indent, key)` when the line is `key:` possibly followed by a value or comment.
fn key_of(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let (key, _) = trimmed.split_once(':')?;
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some((indent_of(line), key))
}

/// What follows `key:` on its line, without a trailing comment.
fn inline_value(line: &str) -> &str {
    let after = line.split_once(':').map_or("", |(_, v)| v);
    after.split(" #").next().unwrap_or_default().trim()
}

/// The first line at or after `from` that is content indented `indent` or less.
fn block_end(lines: &[String], from: usize, indent: usize) -> usize {
    (from..lines.len())
        .find(|&i| !is_blank(&lines[i]) && indent_of(&lines[i]) <= indent)
        .unwrap_or(lines.len())
}

fn is_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// An absolute version of `path` without touching the disk.
fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

/// `path` with its longest existing ancestor resolved through symlinks, so a link pointing
/// into the site cannot smuggle a key file there.
fn resolve(path: &Path) -> Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut out = fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.iter().rev() {
        out.push(name);
    }
    // `..` in the part that does not exist yet is resolved lexically.
    let mut clean = PathBuf::new();
    for c in out.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PK: &str = "ab";

    #[test]
    fn key_files_are_v1_pem_and_every_earlier_form_still_reads() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = key_file_text(&key).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        // v1: version 0 and no public key, 48 bytes of DER.
        let der = ed25519_dalek::pkcs8::Document::from_pem(&text).unwrap().1;
        assert_eq!(der.as_bytes().len(), 48);
        assert_eq!(
            &der.as_bytes()[..16],
            b"\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20"
        );
        let v2_pem = key.to_pkcs8_pem(Default::default()).unwrap();
        let v2_der = key.to_pkcs8_der().unwrap();
        for bytes in [
            text.as_bytes(),
            v2_pem.as_bytes(),
            v2_der.as_bytes(),
            der.as_bytes(),
        ] {
            assert_eq!(parse_key_file(bytes).unwrap().to_bytes(), key.to_bytes());
        }
        // A v2 file whose public key belongs to another seed is refused.
        let mut other = v2_der.as_bytes().to_vec();
        let at = other.len() - 1;
        other[at] ^= 1;
        assert!(parse_key_file(&other).is_err());
    }

    fn add(text: &str) -> String {
        insert_key(text, "1a2b3c4d", PK).unwrap()
    }

    #[test]
    fn appends_a_sharing_section_when_there_is_none() {
        let text = "# my lab\ntitle: Lab # the name\nbase_url: https://x.org\n";
        assert_eq!(
            add(text),
            "# my lab\ntitle: Lab # the name\nbase_url: https://x.org\nsharing:\n  keys:\n    - kid: \"1a2b3c4d\"\n      public_key: \"ab\"\n"
        );
    }

    #[test]
    fn appends_after_the_last_key_keeping_comments() {
        let text = "title: t\nsharing:\n  # rotation: old key first\n  keys:\n  - kid: \"00000000\"\n    public_key: \"cd\" # old\n\n  default_expiry: 90d\nviewer:\n  pyramids: false\n";
        assert_eq!(
            add(text),
            "title: t\nsharing:\n  # rotation: old key first\n  keys:\n  - kid: \"00000000\"\n    public_key: \"cd\" # old\n  - kid: \"1a2b3c4d\"\n    public_key: \"ab\"\n\n  default_expiry: 90d\nviewer:\n  pyramids: false\n"
        );
    }

    #[test]
    fn adds_keys_to_an_existing_sharing_block_and_fills_empty_lists() {
        let text = "sharing:\n    default_expiry: 30d\ntitle: t\n";
        assert_eq!(add(text), "sharing:\n    keys:\n      - kid: \"1a2b3c4d\"\n        public_key: \"ab\"\n    default_expiry: 30d\ntitle: t\n");
        let text = "sharing:\n  keys: [] # none yet\n";
        assert_eq!(
            add(text),
            "sharing:\n  keys:\n    - kid: \"1a2b3c4d\"\n      public_key: \"ab\"\n"
        );
        assert_eq!(add("sharing: {}\r\ntitle: t\r\n"), "sharing:\r\n  keys:\r\n    - kid: \"1a2b3c4d\"\r\n      public_key: \"ab\"\r\ntitle: t\r\n");
    }

    #[test]
    fn inline_lists_are_refused_with_their_line() {
        let err = insert_key(
            "title: t\nsharing:\n  keys: [{kid: a, public_key: b}]\n",
            "k",
            "p",
        )
        .unwrap_err();
        assert_eq!(err.0, 3);
    }

    #[test]
    fn every_edit_parses_and_lists_the_key() {
        for text in [
            "title: t\n",
            "sharing:\n  keys:\n    - kid: \"00000000\"\n      public_key: \"cd\"\n",
            "sharing:\n  keys:\n  - {kid: \"00000000\", public_key: \"cd\"}\n# end\n",
        ] {
            assert!(lists_key(&add(text), "1a2b3c4d"), "{text}");
        }
    }
}
