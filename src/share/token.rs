//! Issuing share links: share ids, expiry parsing, signing, and reading links back.
//!
//! Signing is deterministic (Ed25519), so a recorded share and its key give the same link again;
//! checking a link is left to `vitrine-verify`.

use crate::content::BaseUrl;
use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, NaiveTime};
use ed25519_dalek::{Signer, SigningKey};
use vitrine_verify::{kid_of, Scope, ShareId, TokenFields};

/// Seconds in a day.
const DAY: u64 = 86_400;

/// Draws a random share id, the name of a share in the ledger and on the revocation list.
pub fn new_share_id() -> Result<ShareId> {
    let mut id = [0u8; 8];
    getrandom::getrandom(&mut id)
        .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
    Ok(id)
}

/// Parses `--expires` (or `sharing.default_expiry`): `90d`, `12w`, `1y`, `YYYY-MM-DD` or
/// `never`, counted from `now` (Unix seconds); returns the expiry, `None` for never.
///
/// A date means "valid through that day": the link expires at the following midnight UTC, so
/// a reviewer told "until 31 March" still gets in on the 31st.
pub fn parse_expiry(text: &str, now: u64) -> Result<Option<u32>> {
    let text = text.trim();
    let help = "write a duration (90d, 12w, 1y), a date (YYYY-MM-DD) or `never`";
    if text == "never" {
        return Ok(None);
    }
    let expires = if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let end = date
            .succ_opt()
            .context("date out of range")?
            .and_time(NaiveTime::MIN);
        let end = end.and_utc().timestamp();
        if end <= now as i64 {
            bail!("expiry `{text}` is in the past; {help}");
        }
        end as u64
    } else {
        let seconds = parse_duration(text)
            .map_err(|why| anyhow::anyhow!("cannot read expiry `{text}`{why}; {help}"))?;
        now.saturating_add(seconds)
    };
    u32::try_from(expires).map(Some).map_err(|_| {
        anyhow::anyhow!(
            "expiry `{text}` lies after 2106, beyond what a link can carry; use `never`"
        )
    })
}

/// A duration as `--expires` writes it (`90d`, `12w`, `1y`: days, weeks, 365-day years), in
/// seconds; the error is what follows the text in a message (empty, or `: why`).
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let days = match unit {
        "d" => 1,
        "w" => 7,
        "y" => 365,
        _ => return Err(String::new()),
    };
    let n: u64 = number
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!(": `{number}` is not a positive whole number"))?;
    Ok(n.saturating_mul(days * DAY))
}

/// Signs a token; the same inputs always give the same 125 characters.
pub fn sign(
    key: &SigningKey,
    share_id: ShareId,
    scope: Scope<'_>,
    issued: u32,
    expires: Option<u32>,
) -> String {
    let fields = TokenFields {
        kid: kid_of(&key.verifying_key().to_bytes()),
        share_id,
        scope: scope.digest(),
        issued,
        expires: expires.unwrap_or(0),
    };
    let signature = key.sign(&fields.signing_message()).to_bytes();
    fields
        .encode(&signature)
        .iter()
        .map(|&c| c as char)
        .collect()
}

/// The link for a token: `<base>/<address of what it opens>?s=…`.
pub fn link(base: &BaseUrl, scope: Scope<'_>, token: &str) -> String {
    base.join(&format!("{}?s={token}", address(scope)))
}

/// The private address a scope opens, relative to the site root: `private/<slug>/`,
/// `private/<slug>/annotations/<id>/` or `private/<slug>/layers/<id>/`. Links of both
/// hostings (a token in the query, a secret in the fragment) point there.
pub fn address(scope: Scope<'_>) -> String {
    match scope {
        Scope::Dataset(slug) => format!("private/{slug}/"),
        Scope::Annotation(slug, id) => format!("private/{slug}/annotations/{id}/"),
        Scope::Layer(slug, id) => format!("private/{slug}/layers/{id}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_verify::UntrustedToken;

    const NOW: u64 = 1_764_000_000; // 2025-11-24T16:00:00Z

    #[test]
    fn expiry_forms() {
        assert_eq!(parse_expiry("never", NOW).unwrap(), None);
        assert_eq!(
            parse_expiry("90d", NOW).unwrap(),
            Some((NOW + 90 * DAY) as u32)
        );
        assert_eq!(
            parse_expiry("12w", NOW).unwrap(),
            Some((NOW + 84 * DAY) as u32)
        );
        assert_eq!(
            parse_expiry("1y", NOW).unwrap(),
            Some((NOW + 365 * DAY) as u32)
        );
        // Valid through 2026-03-31: expires at midnight starting 1 April.
        assert_eq!(
            parse_expiry("2026-03-31", NOW).unwrap(),
            Some(1_775_001_600)
        );
    }

    #[test]
    fn expiry_errors_say_what_to_write() {
        for bad in [
            "",
            "90",
            "d",
            "0d",
            "-3d",
            "3m",
            "2025-01-01",
            "2200-01-01",
            "soon",
        ] {
            let err = parse_expiry(bad, NOW).unwrap_err().to_string();
            assert!(err.contains(bad.trim()), "{bad}: {err}");
        }
        assert!(parse_expiry("3m", NOW)
            .unwrap_err()
            .to_string()
            .contains("90d, 12w, 1y"));
    }

    #[test]
    fn signing_is_deterministic_and_verifies() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let public = key.verifying_key().to_bytes();
        let scope = Scope::Annotation("cortex", "axon-1");
        let t1 = sign(&key, [1; 8], scope, NOW as u32, Some(NOW as u32 + 10));
        assert_eq!(
            t1,
            sign(&key, [1; 8], scope, NOW as u32, Some(NOW as u32 + 10))
        );
        assert_eq!(t1.len(), 125);
        let keys = [(kid_of(&public), public)];
        let claims = UntrustedToken::parse(&t1)
            .unwrap()
            .verify(&keys, &[scope], &[[0u8; 8]; 0], NOW)
            .unwrap();
        assert_eq!(claims.share_id(), [1; 8]);
    }

    #[test]
    fn links_are_spelled_as_the_contract_says_and_read_back_as_gates_read_them() {
        use crate::share::gate::share_tokens;
        let token = "0".repeat(125);
        let url = link(
            &BaseUrl::new("https://data.example-lab.org/"),
            Scope::Annotation("cortex", "axon-1"),
            &token,
        );
        assert_eq!(
            url,
            format!("https://data.example-lab.org/private/cortex/annotations/axon-1/?s={token}")
        );
        assert_eq!(share_tokens(&url), std::slice::from_ref(&token));
        // Broken over two lines, as copied from a PDF.
        let wrapped = format!("{}\n{}", &url[..70], &url[70..]);
        assert_eq!(share_tokens(&wrapped), std::slice::from_ref(&token));
        let base = BaseUrl::new("https://data.example-lab.org/");
        assert_eq!(
            link(&base, Scope::Layer("cortex", "cells"), &token),
            format!("https://data.example-lab.org/private/cortex/layers/cells/?s={token}")
        );
        assert_eq!(
            link(&base, Scope::Dataset("cortex"), &token),
            format!("https://data.example-lab.org/private/cortex/?s={token}")
        );
    }
}
