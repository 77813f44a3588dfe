//! Private share links beside the build pipeline: issuing and signing tokens ([`token`]), the
//! signing keys ([`keys`]), the share ledger `content/shares.yaml` ([`ledger`]), the signed
//! revocation list ([`revocations`]) and the gate's decision ([`gate`]).
//!
//! What a *valid* link is lives in the `vitrine-verify` crate and nowhere else; this module
//! only signs, records and asks that crate. It never writes a private key or a token into the
//! site folder, and the build reads from it only what is public.

pub mod gate;
pub mod keys;
pub mod ledger;
pub mod permanence;
pub mod revocations;
pub mod token;

pub use crate::hex::{hex, parse_hex};

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
