//! A revocation is permanent. Every revocation list in sight — the last output and its spare,
//! the record `vitrine revoke` keeps beside the signing keys, and on request the list deployed
//! at `base_url` — must be contained in the list a build publishes: a higher or equal serial,
//! and every id. So restoring an older `content/shares.yaml` (a `git revert`, a merge that kept
//! "theirs", a backup) is refused instead of silently opening revoked links again.
//!
//! There is deliberately no command that un-revokes: a reviewer who should see the data again
//! gets a new link (`vitrine share`).

use crate::content::BaseUrl;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use vitrine_verify::ShareId;

use super::{hex, keys, parse_hex};

/// Where the published list lives in an output folder (and at `base_url`).
pub const LIST_PATH: &str = "share/revocations.json";

/// How long `--against-live` waits for the deployed list: a build must not hang on a network.
const LIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A revocation list seen somewhere: its place (as messages name it), serial and ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// A file path or URL.
    pub place: String,
    /// The list's serial.
    pub serial: u64,
    /// Its revoked share ids.
    pub revoked: BTreeSet<ShareId>,
}

/// The fields of `share/revocations.json` this check needs; the signature is not checked here,
/// because a list in sight only ever adds constraints (a forged one can block a build, never
/// open a link).
#[derive(Deserialize)]
struct Published {
    format: String,
    serial: u64,
    revoked: Vec<String>,
}

impl Seen {
    /// Parses a published list (`share/revocations.json`'s format).
    pub fn parse(place: &str, text: &str) -> Result<Seen> {
        let list: Published = serde_json::from_str(text).with_context(|| {
            format!("{place}: not a vitrine revocation list; it must stay readable, because a revocation is permanent")
        })?;
        if list.format != "vitrine-revocations-v1" {
            bail!("{place}: unknown revocation list format `{}`", list.format);
        }
        let revoked = list
            .revoked
            .iter()
            .map(|id| {
                parse_hex::<8>(id)
                    .with_context(|| format!("{place}: `{id}` is not a share id (16 hex digits)"))
            })
            .collect::<Result<_>>()?;
        Ok(Seen {
            place: place.to_string(),
            serial: list.serial,
            revoked,
        })
    }

    /// The list in the file at `path`; `None` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<Seen>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Seen::parse(&path.display().to_string(), &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading `{}`", path.display())),
        }
    }

    /// The list deployed at `base_url`; `None` when the site answers 404 (nothing deployed yet).
    pub fn fetch_live(base_url: &BaseUrl) -> Result<Option<Seen>> {
        let url = base_url.join(LIST_PATH);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(LIVE_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        let offline = |e: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "--against-live: cannot read the deployed revocation list {url}: {e}. Check the network and \
                 `base_url`, or build without --against-live (the last output and the local record are still checked)"
            )
        };
        let mut response = agent.get(&url).call().map_err(|e| offline(&e))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            status => return Err(offline(&format!("HTTP {status}"))),
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| offline(&e))?;
        Seen::parse(&url, &text).map(Some)
    }
}

/// The record of revoked ids kept beside the signing keys for the site at `base_url`
/// (`<key folder>/revocations/<host and path>.json`): outside the site, so no checkout, revert
/// or restore of the site folder can take it back.
pub fn record_path(base_url: &BaseUrl) -> Result<PathBuf> {
    Ok(record_in(&records_dir()?, base_url))
}

/// The folder of the records of every site: a build's inputs include it, so a newer record
/// (a revocation made from another checkout) is never skipped by a no-change build.
pub fn records_dir() -> Result<PathBuf> {
    Ok(keys::key_dir()?.join("revocations"))
}

/// [`record_path`] in the records folder `dir`.
fn record_in(dir: &Path, base_url: &BaseUrl) -> PathBuf {
    let name: String = base_url
        .split_once("://")
        .map_or(&**base_url, |(_, rest)| rest)
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '-') => c,
            _ => '_',
        })
        .collect();
    dir.join(format!("{name}.json"))
}

/// Records the list with `serial` and `revoked` (`json`, as published) for the site at
/// `base_url`, unless the record already holds a list it does not contain: the record never
/// goes back, whatever ledger a command ran on.
pub fn write_record(
    base_url: &BaseUrl,
    serial: u64,
    revoked: &[ShareId],
    json: &str,
) -> Result<()> {
    let path = record_path(base_url)?;
    if let Some(recorded) = Seen::read(&path)? {
        if check(serial, revoked, &[recorded]).is_err() {
            return Ok(());
        }
    }
    let dir = path.parent().context("the record has a folder")?;
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .with_context(|| format!("creating `{}`", dir.display()))?;
    crate::output::write_file_atomically(&path, json.as_bytes()).with_context(|| {
        format!(
            "recording the revocation list beside the keys in `{}`",
            path.display()
        )
    })
}

/// Every list in sight: the published list of each folder in `outputs` (the output and its
/// spare), the record beside the keys, and with `live` the list deployed at `base_url`.
pub fn in_sight(outputs: &[PathBuf], base_url: &BaseUrl, live: bool) -> Result<Vec<Seen>> {
    let mut seen = Vec::new();
    for dir in outputs {
        seen.extend(Seen::read(&dir.join(LIST_PATH))?);
    }
    if let Ok(record) = record_path(base_url) {
        seen.extend(Seen::read(&record)?);
    }
    if live {
        seen.extend(Seen::fetch_live(base_url)?);
    }
    Ok(seen)
}

/// Fails, naming every id a list in sight revokes and `revoked` does not (and every serial
/// above `serial`), so a build never publishes a list that takes a revocation back.
pub fn check(serial: u64, revoked: &[ShareId], seen: &[Seen]) -> Result<()> {
    let ours: BTreeSet<&ShareId> = revoked.iter().collect();
    let mut problems = Vec::new();
    for list in seen {
        let missing: Vec<String> = list
            .revoked
            .iter()
            .filter(|id| !ours.contains(id))
            .map(|id| hex(id))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{} (serial {}) revokes {} that content/shares.yaml does not: {}",
                list.place,
                list.serial,
                if missing.len() == 1 {
                    "a share"
                } else {
                    "shares"
                },
                missing.join(", ")
            ));
        } else if list.serial > serial {
            problems.push(format!(
                "{} has serial {}, newer than content/shares.yaml's {serial}",
                list.place, list.serial
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "content/shares.yaml holds an older revocation list than one already published or recorded, and \
             publishing it would open revoked links again:\n  {}\nA revocation is permanent: restore the newer \
             content/shares.yaml (e.g. from git history), or run `vitrine revoke --resign` to carry every revoked id \
             into it, then build again.",
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// The highest serial and every revoked id among `seen`, for the next list to start from.
pub fn carried(seen: &[Seen]) -> (u64, BTreeSet<ShareId>) {
    let serial = seen.iter().map(|s| s.serial).max().unwrap_or(0);
    let ids = seen
        .iter()
        .flat_map(|s| s.revoked.iter().copied())
        .collect();
    (serial, ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(place: &str, serial: u64, ids: &[u8]) -> Seen {
        Seen {
            place: place.into(),
            serial,
            revoked: ids.iter().map(|&b| [b; 8]).collect(),
        }
    }

    #[test]
    fn a_list_that_drops_an_id_or_goes_back_is_refused() {
        let lists = [seen("public", 3, &[1, 2]), seen("record", 2, &[1])];
        assert!(check(3, &[[1; 8], [2; 8]], &lists).is_ok());
        assert!(check(4, &[[1; 8], [2; 8], [3; 8]], &lists).is_ok());
        let err = check(2, &[[1; 8]], &lists).unwrap_err().to_string();
        assert!(err.contains("public (serial 3) revokes a share"), "{err}");
        assert!(err.contains(&hex(&[2; 8])), "{err}");
        let err = check(2, &[[1; 8], [2; 8]], &lists).unwrap_err().to_string();
        assert!(err.contains("serial 3, newer than"), "{err}");
        assert!(check(0, &[], &[]).is_ok());
    }

    #[test]
    fn published_lists_parse_and_junk_is_named() {
        let text = r#"{"format":"vitrine-revocations-v1","serial":4,"issued":1,"issued_at":null,
            "kid":null,"revoked":["0101010101010101"],"signature":null}"#;
        assert_eq!(Seen::parse("x", text).unwrap(), seen("x", 4, &[1]));
        assert!(Seen::parse("y", "{}")
            .unwrap_err()
            .to_string()
            .starts_with("y:"));
        let bad = text.replace("0101010101010101", "01");
        assert!(Seen::parse("z", &bad).is_err());
    }

    #[test]
    fn the_record_is_named_after_the_site_address() {
        let base = BaseUrl::new("https://Data.Example-Lab.org/em/");
        let path = record_in(Path::new("/records"), &base);
        assert_eq!(path, Path::new("/records/data.example-lab.org_em.json"));
        assert_eq!(
            carried(&[seen("a", 3, &[1]), seen("b", 5, &[2])]),
            (5, [[1; 8], [2; 8]].into_iter().collect())
        );
    }
}
