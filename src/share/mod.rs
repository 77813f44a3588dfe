//! Private share links beside the build pipeline: issuing and signing tokens ([`token`]), the
//! signing keys ([`keys`]), the share ledger `content/shares.yaml` ([`ledger`]), the signed
//! revocation list ([`revocations`]), the gate's decision ([`gate`]), and the content secret
//! private files are sealed with ([`secret`]) with the slots that open them without a gate
//! ([`slots`]).
//!
//! What a *valid* link is lives in the `vitrine-verify` crate and nowhere else; this module
//! only signs, records and asks that crate. It never writes a private key or a token into the
//! site folder, and the build reads from it only what is public.

pub mod gate;
pub mod keys;
pub mod ledger;
pub mod permanence;
pub mod revocations;
pub mod secret;
pub mod slots;
pub mod token;

pub use crate::hex::{hex, parse_hex};

use anyhow::{Context, Result};

use crate::content::{BaseUrl, SiteConfig};

/// The link of `share` on the site's hosting: behind a gate a signed token, which needs the
/// key that signed the share (`key`); on a host without a gate the link secret in the
/// fragment, which needs the site's content secret.
pub fn link_of(
    share: &ledger::Share,
    config: &SiteConfig,
    base: &BaseUrl,
    key: impl FnOnce() -> Result<ed25519_dalek::SigningKey>,
) -> Result<String> {
    if config.hosting.has_gate() {
        return Ok(share.link(&key()?, base));
    }
    let (secret, _) = secret::ContentSecret::find_or_create(&config.keys)?.with_context(|| {
        format!(
            "a link of a host without a gate carries a secret made from the site's content secret, and it is not here: \
             set {} or use the machine that holds the key folder",
            secret::ENV
        )
    })?;
    Ok(slots::link(share, &secret, base))
}

/// Unix seconds as an RFC 3339 UTC time (`2026-02-22T16:00:00Z`), as the ledger and the CLI
/// print it.
pub fn rfc3339(unix: u64) -> String {
    match chrono::DateTime::from_timestamp(unix as i64, 0) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => format!("@{unix}"),
    }
}

/// Now, in Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
