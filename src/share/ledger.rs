//! The share ledger, `content/shares.yaml`: every share issued (never its token), whether it
//! was revoked, and the signed revocation list the build publishes.
//!
//! Writers take an exclusive lock on `content/.shares.lock` across read-modify-write and replace
//! the file atomically, so concurrent `vitrine share` runs lose nothing and a crash leaves the
//! previous ledger; a ledger that does not parse is reported and never rewritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use vitrine_verify::{Kid, Scope, ShareId};

use super::{hex, parse_hex, rfc3339};
use crate::content::{Diagnostic, Diagnostics};

/// The ledger format this code writes and reads.
const VERSION: u32 = 1;

/// One issued share.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// Random id, carried in the token and on the revocation list.
    #[serde(deserialize_with = "de_hex")]
    pub id: ShareId,
    /// Free text the author chose ("Reviewer 2, Nature"); may be empty.
    #[serde(default)]
    pub label: String,
    /// Key id of the key that signed the link.
    #[serde(deserialize_with = "de_hex")]
    pub kid: Kid,
    /// The dataset's slug.
    pub dataset: String,
    /// The annotation id, for an annotation share.
    #[serde(default)]
    pub annotation: Option<String>,
    /// The layer id, for a layer share (never together with `annotation`).
    #[serde(default)]
    pub layer: Option<String>,
    /// Issue time, Unix seconds.
    #[serde(deserialize_with = "de_time")]
    pub issued: u32,
    /// Expiry, Unix seconds; `None` for never.
    #[serde(deserialize_with = "de_expiry")]
    pub expires: Option<u32>,
    /// When it was revoked, Unix seconds.
    #[serde(default, deserialize_with = "de_opt_time")]
    pub revoked: Option<u32>,
}

/// Where a share stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Opens its dataset, annotation or layer.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked (whatever its expiry).
    Revoked,
}

impl Status {
    /// The word `vitrine shares` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

impl Share {
    /// The share's link at `base`, signed with `key` (the key it was issued with): the same
    /// share always gives the same link, so `shares --link` and `serve --share-local` print
    /// what `share` printed (at another address for the preview).
    pub fn link(&self, key: &ed25519_dalek::SigningKey, base: &crate::content::BaseUrl) -> String {
        let token = super::token::sign(key, self.id, self.scope(), self.issued, self.expires);
        super::token::link(base, self.scope(), &token)
    }

    /// What the share opens.
    pub fn scope(&self) -> Scope<'_> {
        match (&self.annotation, &self.layer) {
            (Some(id), _) => Scope::Annotation(&self.dataset, id),
            (None, Some(id)) => Scope::Layer(&self.dataset, id),
            (None, None) => Scope::Dataset(&self.dataset),
        }
    }

    /// Its status at `now` (Unix seconds); revocation wins over expiry.
    pub fn status(&self, now: u64) -> Status {
        if self.revoked.is_some() {
            Status::Revoked
        } else if self.expires.is_some_and(|e| now >= u64::from(e)) {
            Status::Expired
        } else {
            Status::Active
        }
    }
}

/// The revocation list as last signed (by `vitrine share` the first time, then `vitrine revoke`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedList {
    /// Grows by one with every signing.
    pub serial: u64,
    /// When it was signed, Unix seconds.
    #[serde(deserialize_with = "de_time")]
    pub issued: u32,
    /// Key id of the signing key.
    #[serde(deserialize_with = "de_hex")]
    pub kid: Kid,
    /// Revoked share ids, strictly ascending.
    #[serde(default, deserialize_with = "de_ids")]
    pub revoked: Vec<ShareId>,
    /// Ed25519 signature over `vitrine_verify::revocations_message`.
    #[serde(deserialize_with = "de_hex")]
    pub signature: [u8; 64],
}

/// The whole ledger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    /// Format version, 1.
    #[serde(deserialize_with = "de_version")]
    version: u32,
    /// The signed revocation list; `None` until the first share is issued.
    #[serde(default)]
    pub revocations: Option<SignedList>,
    /// Every share, in issue order.
    #[serde(default)]
    pub shares: Vec<Share>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            version: VERSION,
            revocations: None,
            shares: Vec::new(),
        }
    }
}

impl Ledger {
    /// `content/shares.yaml` under a site root.
    pub fn path(root: &Path) -> PathBuf {
        root.join("content").join("shares.yaml")
    }

    /// Reads the ledger; a missing file is an empty ledger, anything unreadable is a
    /// `path:line:col` diagnostic.
    pub fn load(root: &Path) -> Result<Ledger, Diagnostic> {
        let path = Ledger::path(root);
        let shown = Path::new("content").join("shares.yaml");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ledger::default()),
            Err(e) => {
                return Err(Diagnostic::new(
                    &shown,
                    format!("cannot read the share ledger: {e}"),
                ))
            }
        };
        Ledger::parse(&text).map_err(|(line, col, msg)| match line {
            Some(line) => Diagnostic::at(&shown, line, col, msg),
            None => Diagnostic::new(&shown, msg),
        })
    }

    /// Parses ledger text; errors carry a 1-based position when one is known.
    fn parse(text: &str) -> Result<Ledger, (Option<usize>, usize, String)> {
        let fix = "the ledger was left untouched; repair it (e.g. `git checkout content/shares.yaml`) and run the command again";
        if text.trim().is_empty() {
            return Err((
                None,
                0,
                format!("the share ledger is empty; delete it to start a new one, or {fix}"),
            ));
        }
        let ledger: Ledger = serde_yaml_ng::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or_default();
            let (line, col) = match e.location() {
                Some(l) => refine(text, l.line(), msg)
                    .map_or((Some(l.line()), l.column()), |(line, col)| {
                        (Some(line), col)
                    }),
                None => (None, 0),
            };
            (line, col, format!("{msg}; {fix}"))
        })?;
        let mut seen = std::collections::HashSet::new();
        for share in &ledger.shares {
            if share.annotation.is_some() && share.layer.is_some() {
                let line = text
                    .lines()
                    .position(|l| l.contains(&hex(&share.id)))
                    .map(|i| i + 1);
                return Err((
                    line,
                    1,
                    format!(
                        "share {} names both an annotation and a layer; a share opens one of them; {fix}",
                        hex(&share.id)
                    ),
                ));
            }
            if !seen.insert(share.id) {
                let line = text
                    .lines()
                    .position(|l| l.contains(&hex(&share.id)))
                    .map(|i| i + 1);
                return Err((
                    line,
                    1,
                    format!("share id {} is recorded twice; {fix}", hex(&share.id)),
                ));
            }
        }
        Ok(ledger)
    }

    /// Runs `change` on the current ledger under the exclusive lock and writes the result
    /// atomically; nothing is written if `change` or the load fails.
    pub fn update<T>(root: &Path, change: impl FnOnce(&mut Ledger) -> Result<T>) -> Result<T> {
        let content = root.join("content");
        let lock_path = content.join(".shares.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening the ledger lock `{}`", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("locking `{}`", lock_path.display()))?;
        let mut ledger = Ledger::load(root).map_err(|d| Diagnostics(vec![d]))?;
        let out = change(&mut ledger)?;
        ledger.write(root)?;
        Ok(out)
    }

    /// Replaces the ledger file atomically: a temporary file beside it, then a rename.
    ///
    /// The temporary file has a fixed name (`content/.shares.yaml.tmp`, written only under the
    /// ledger lock), so a writer killed half-way leaves at most that one file, which the next
    /// write replaces, and never a pile of random names in `content/`.
    fn write(&self, root: &Path) -> Result<()> {
        let path = Ledger::path(root);
        let dir = path.parent().context("the ledger has no folder")?;
        let tmp = dir.join(".shares.yaml.tmp");
        let written = (|| -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(self.to_yaml().as_bytes())?;
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
            file.sync_all()
        })();
        written.with_context(|| format!("writing `{}`", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("replacing `{}`", path.display()))?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// The ledger as YAML, in a fixed layout with a header saying what the file is.
    pub fn to_yaml(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut out = String::from(
            "# The share ledger of this site, written by `vitrine share` and `vitrine revoke`.\n\
             # It holds no secret (no token, no key): commit it. Only labels may be edited by hand.\n",
        );
        out.push_str(&format!("version: {VERSION}\n"));
        if let Some(list) = &self.revocations {
            let ids: Vec<String> = list.revoked.iter().map(|id| q(&hex(id))).collect();
            out.push_str(&format!(
                "revocations:\n  serial: {}\n  issued: {}\n  kid: {}\n  revoked: [{}]\n  signature: {}\n",
                list.serial,
                rfc3339(list.issued.into()),
                q(&hex(&list.kid)),
                ids.join(", "),
                q(&hex(&list.signature))
            ));
        }
        out.push_str(if self.shares.is_empty() {
            "shares: []\n"
        } else {
            "shares:\n"
        });
        for s in &self.shares {
            out.push_str(&format!(
                "  - id: {}\n    label: {}\n    kid: {}\n",
                q(&hex(&s.id)),
                q(&s.label),
                q(&hex(&s.kid))
            ));
            out.push_str(&format!("    dataset: {}\n", q(&s.dataset)));
            if let Some(a) = &s.annotation {
                out.push_str(&format!("    annotation: {}\n", q(a)));
            }
            if let Some(l) = &s.layer {
                out.push_str(&format!("    layer: {}\n", q(l)));
            }
            out.push_str(&format!("    issued: {}\n", rfc3339(s.issued.into())));
            match s.expires {
                Some(e) => out.push_str(&format!("    expires: {}\n", rfc3339(e.into()))),
                None => out.push_str("    expires: never\n"),
            }
            if let Some(r) = s.revoked {
                out.push_str(&format!("    revoked: {}\n", rfc3339(r.into())));
            }
        }
        out
    }

    /// The share with this id.
    pub fn find(&self, id: &ShareId) -> Option<&Share> {
        self.shares.iter().find(|s| &s.id == id)
    }

    /// Finds the share a person means: its id (16 hex digits), its link, or its label
    /// (exact, ignoring case); an ambiguous label is an error listing every candidate.
    pub fn resolve(&self, query: &str) -> Result<&Share> {
        let query = query.trim();
        if query.contains("?s=") || query.contains("&s=") {
            let tokens = super::gate::share_tokens(query);
            let [token] = tokens.as_slice() else {
                anyhow::bail!("`{query}` has {} `s=` parameters, so it names no share; give the share's id instead (see `vitrine shares`)", tokens.len());
            };
            let token = vitrine_verify::UntrustedToken::parse(token).map_err(|e| {
                anyhow::anyhow!(
                    "{e}, so it names no share; give the share's id instead (see `vitrine shares`)"
                )
            })?;
            let id = token.share_id();
            return self.find(&id).with_context(|| {
                format!("the link names share {}, which content/shares.yaml does not record (a link of another site?)", hex(&id))
            });
        }
        if let Some(share) = parse_hex::<8>(query).and_then(|id| self.find(&id)) {
            return Ok(share);
        }
        let matches: Vec<&Share> = self
            .shares
            .iter()
            .filter(|s| s.label.eq_ignore_ascii_case(query))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => anyhow::bail!(
                "no share has the id or label `{query}`; `vitrine shares` lists them ({} recorded)",
                self.shares.len()
            ),
            many => {
                let list: Vec<String> = many
                    .iter()
                    .map(|s| {
                        format!(
                            "  {}  {}  issued {}",
                            hex(&s.id),
                            s.scope(),
                            rfc3339(s.issued.into())
                        )
                    })
                    .collect();
                anyhow::bail!(
                    "{} shares have the label `{query}`; name one by its id:\n{}",
                    many.len(),
                    list.join("\n")
                )
            }
        }
    }

    /// Ids of every share marked revoked, ascending: what the next signed list must carry.
    pub fn revoked_ids(&self) -> Vec<ShareId> {
        let mut ids: Vec<ShareId> = self
            .shares
            .iter()
            .filter(|s| s.revoked.is_some())
            .map(|s| s.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// serde_yaml_ng places a field's custom error at its enclosing mapping; point at the line
/// holding the quoted bad value instead, so the position names the field to fix.
fn refine(text: &str, from_line: usize, msg: &str) -> Option<(usize, usize)> {
    let value = msg.split('`').nth(1).filter(|v| !v.is_empty())?;
    text.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find_map(|(i, l)| l.find(value).map(|c| (i + 1, c + 1)))
}

fn de_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v != VERSION {
        return Err(D::Error::custom(format!("ledger version {v} is not known to this vitrine (it reads version {VERSION}); upgrade vitrine")));
    }
    Ok(v)
}

fn de_hex<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    let s = String::deserialize(d)?;
    parse_hex(&s).ok_or_else(|| D::Error::custom(format!("`{s}` is not {} hex digits", 2 * N)))
}

fn de_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ShareId>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    let ids = list
        .iter()
        .map(|s| {
            parse_hex(s)
                .ok_or_else(|| D::Error::custom(format!("`{s}` is not a share id (16 hex digits)")))
        })
        .collect::<Result<Vec<ShareId>, _>>()?;
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(D::Error::custom(
            "revoked ids must be strictly ascending (the list is signed as written)",
        ));
    }
    Ok(ids)
}

fn parse_time<E: serde::de::Error>(s: &str) -> Result<u32, E> {
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| E::custom(format!("`{s}` is not an RFC 3339 time ({e})")))?;
    u32::try_from(t.timestamp()).map_err(|_| E::custom(format!("`{s}` is outside 1970–2106")))
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    parse_time(&String::deserialize(d)?)
}

fn de_opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_time(&s))
        .transpose()
}

fn de_expiry<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let s = String::deserialize(d)?;
    if s == "never" {
        Ok(None)
    } else {
        parse_time(&s).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Ledger {
        Ledger {
            version: VERSION,
            revocations: Some(SignedList {
                serial: 2,
                issued: 1_764_075_600,
                kid: [0x12, 0x34, 0x56, 0x78],
                revoked: vec![[0; 8], [1; 8]],
                signature: [7; 64],
            }),
            shares: vec![
                Share {
                    id: [0; 8],
                    label: "Reviewer 2: \"Nature\" # not a comment".into(),
                    kid: [0x12, 0x34, 0x56, 0x78],
                    dataset: "cortex".into(),
                    annotation: Some("axon-1".into()),
                    layer: None,
                    issued: 1_764_000_000,
                    expires: None,
                    revoked: Some(1_764_075_600),
                },
                Share {
                    id: [0xcd; 8],
                    label: "layer".into(),
                    kid: [0x12, 0x34, 0x56, 0x78],
                    dataset: "cortex".into(),
                    annotation: None,
                    layer: Some("cells".into()),
                    issued: 1_764_000_000,
                    expires: None,
                    revoked: None,
                },
                Share {
                    id: [0xab; 8],
                    label: "yes".into(),
                    kid: [0; 4],
                    dataset: "retina".into(),
                    annotation: None,
                    layer: None,
                    issued: 1_764_000_000,
                    expires: Some(1_764_000_100),
                    revoked: None,
                },
            ],
        }
    }

    #[test]
    fn yaml_round_trips() {
        let ledger = sample();
        assert_eq!(Ledger::parse(&ledger.to_yaml()).unwrap(), ledger);
        let empty = Ledger::default();
        assert_eq!(Ledger::parse(&empty.to_yaml()).unwrap(), empty);
    }

    #[test]
    fn a_share_opens_its_dataset_annotation_or_layer_never_two() {
        let l = sample();
        let scopes: Vec<String> = l.shares.iter().map(|s| s.scope().to_string()).collect();
        assert_eq!(
            scopes,
            [
                "annotation:cortex/axon-1",
                "layer:cortex/cells",
                "dataset:retina"
            ]
        );
        let both = l.to_yaml().replace(
            "    layer: \"cells\"\n",
            "    layer: \"cells\"\n    annotation: \"axon-1\"\n",
        );
        let (line, _, msg) = Ledger::parse(&both).unwrap_err();
        assert!(msg.contains("both an annotation and a layer"), "{msg}");
        assert!(both
            .lines()
            .nth(line.unwrap() - 1)
            .unwrap()
            .contains("cdcdcdcdcdcdcdcd"));
    }

    #[test]
    fn status_prefers_revoked_over_expired() {
        let l = sample();
        assert_eq!(l.shares[0].status(2_000_000_000), Status::Revoked);
        assert_eq!(l.shares[2].status(1_764_000_099), Status::Active);
        assert_eq!(l.shares[2].status(1_764_000_100), Status::Expired);
        assert_eq!(l.revoked_ids(), vec![[0; 8]]);
    }

    #[test]
    fn resolve_by_id_label_and_ambiguity() {
        let mut l = sample();
        assert_eq!(l.resolve("abababababababab").unwrap().dataset, "retina");
        assert_eq!(l.resolve("YES").unwrap().dataset, "retina");
        l.shares[0].label = "yes".into();
        let err = l.resolve("yes").unwrap_err().to_string();
        assert!(
            err.contains("2 shares")
                && err.contains("0000000000000000")
                && err.contains("abababababababab"),
            "{err}"
        );
        assert!(l
            .resolve("nobody")
            .unwrap_err()
            .to_string()
            .contains("no share"));
    }

    #[test]
    fn errors_are_located() {
        let text = sample()
            .to_yaml()
            .replace("dataset: \"retina\"", "datset: \"retina\"");
        let (line, _, msg) = Ledger::parse(&text).unwrap_err();
        assert!(line.is_some() && msg.contains("datset"), "{msg}");
        let text = sample()
            .to_yaml()
            .replace("expires: never", "expires: soon");
        let (line, _, msg) = Ledger::parse(&text).unwrap_err();
        let expected = text
            .lines()
            .position(|l| l.contains("expires: soon"))
            .unwrap()
            + 1;
        assert_eq!(line, Some(expected), "{msg}");
        let doubled = sample()
            .to_yaml()
            .replace("abababababababab", "0000000000000000");
        assert!(Ledger::parse(&doubled).unwrap_err().2.contains("twice"));
        assert!(Ledger::parse("version: 2\n")
            .unwrap_err()
            .2
            .contains("version 2"));
        assert!(Ledger::parse("").unwrap_err().2.contains("empty"));
    }
}
