//! `vitrine verify`: check a link offline, exactly as a gate would, and say why.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use vitrine_verify::{Error, RevocationList, Scope, UntrustedToken};

use crate::content::{self, Diagnostics};
use crate::share::gate::{self, Decision, GateData};
use crate::share::ledger::{Ledger, Share};
use crate::share::secret::{ContentSecret, LinkSecret, LINK_SECRET_CHARS};
use crate::share::slots::share_of_link;
use crate::share::{hex, revocations, rfc3339, token};

/// Options of `vitrine verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The share link, as `vitrine share` printed it (line breaks from a PDF are ignored).
    #[arg(value_name = "URL")]
    pub url: String,
    /// Check at this time instead of now: 2026-03-01T12:00:00Z, a date (2026-03-01, from its
    /// first second in UTC) or a duration from now as `share --expires` takes it (90d, 12w, 1y).
    #[arg(long, value_name = "TIME|DATE|DURATION", value_parser = parse_at)]
    pub at: Option<u64>,
}

/// `url` as the site's gate receives it: a site whose `base_url` has a path
/// (`https://lab.example.org/data/`) is served from that folder by a proxy in front of the host,
/// so the gate sees the path below it (`/private/…`). A URL outside the folder is left as it is.
fn below_base(url: &str, base_path: &str) -> String {
    let trimmed = url.trim();
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    match path.strip_prefix(base_path) {
        Some(below) if base_path != "/" => format!("{scheme}://{host}/{below}"),
        _ => url.to_string(),
    }
}

fn parse_at(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let seconds = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        t.timestamp()
    } else if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
    } else if let Ok(ahead) = token::parse_duration(text) {
        crate::share::now().saturating_add(ahead) as i64
    } else {
        return Err(
            "not a time: write 2026-03-01T12:00:00Z, a date (2026-03-01) or a duration from now (90d, 12w, 1y)"
                .to_string(),
        );
    };
    u64::try_from(seconds).map_err(|_| "times before 1970 are not supported".to_string())
}

/// Runs `vitrine verify`: one verdict line on stdout, details below it; exit 0 only for valid.
///
/// The verdict is the gate's own ([`gate::open_link`]): what a browser opening the link gets
/// from `serve` or an edge built from this site now, redirects followed.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let content = content::load(root)?;
    let ledger = Ledger::load(root).map_err(|d| Diagnostics(vec![d]))?;
    let now = args.at.unwrap_or_else(crate::share::now);
    let mut data = GateData::from_site(&content, &RevocationList::EMPTY)?;
    // Revoked anywhere in sight is revoked: the ledger, its list, and the lists published or
    // recorded beside the keys (a restored older ledger must not make `verify` say `valid`).
    let outputs = crate::site::outputs_in_sight(root, &crate::site::default_out(root));
    let seen = crate::share::permanence::in_sight(&outputs, &content.config.base_url, false)?;
    data.revoked = revocations::revoked_in_sight(&ledger, &seen)
        .into_iter()
        .collect();
    if !content.config.hosting.has_gate() {
        return verify_without_gate(&content, &ledger, &data.revoked, &args.url, now);
    }

    let base = crate::render::base_path(&content.config.base_url);
    let (decision, at) = gate::open_link(&data, &below_base(&args.url, &base), now);
    let tokens = gate::share_tokens(&args.url);
    let untrusted = match tokens.as_slice() {
        [token] => UntrustedToken::parse(token).ok(),
        _ => None,
    };
    let valid = match &decision {
        Decision::Redirect { status: 302, .. } => {
            println!(
                "valid: opens {}",
                opened(&data, untrusted.as_ref(), &at, now)
            );
            true
        }
        Decision::Pass if at.starts_with("/datasets/") => {
            println!("valid: the dataset is public now; the link opens {at}");
            true
        }
        Decision::Pass => {
            println!(
                "invalid: `{}` is not a share link: its path is not under /private/",
                args.url.trim()
            );
            false
        }
        Decision::Refuse { reason, .. } => {
            println!("{reason}: {}", why(reason, &tokens, &content, &at));
            false
        }
        Decision::Serve { .. } | Decision::Redirect { .. } => {
            println!("invalid: the gate answers this address unexpectedly ({decision:?})");
            false
        }
    };
    // Details come from the ledger only for a signature that verified: otherwise the share id
    // is as untrusted as the rest of the token.
    let signed = untrusted.filter(|_| match &decision {
        Decision::Redirect { status: 302, .. } => true,
        Decision::Refuse { reason, .. } => {
            matches!(
                *reason,
                "wrong-scope" | "revoked" | "expired" | "not-yet-valid"
            )
        }
        _ => false,
    });
    if let Some(t) = signed {
        match ledger.find(&t.share_id()) {
            Some(s) => print_share(s),
            None => {
                println!(
                    "  share:   {} (not recorded in content/shares.yaml)",
                    hex(&t.share_id())
                );
                println!(
                    "  expires: {}",
                    t.expires()
                        .map_or("never".to_string(), |e| rfc3339(e.into()))
                );
            }
        }
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The ledger's record of a share, below a verdict.
fn print_share(s: &Share) {
    let label = if s.label.is_empty() {
        "(no label)".to_string()
    } else {
        format!("\"{}\"", s.label)
    };
    println!("  share:   {} {label}, {}", hex(&s.id), s.scope());
    println!("  issued:  {}", rfc3339(s.issued.into()));
    println!(
        "  expires: {}",
        s.expires.map_or("never".to_string(), |e| rfc3339(e.into()))
    );
    if let Some(r) = s.revoked {
        println!("  revoked: {}", rfc3339(r.into()));
    }
}

/// `verify` on a host without a gate: the secret in the link's fragment names one share of the
/// ledger (only this site's content secret makes it), and that share's state at `now` says
/// whether the next build gives it a slot, i.e. whether the deployed link opens.
fn verify_without_gate(
    content: &content::Content,
    ledger: &Ledger,
    revoked: &[vitrine_verify::ShareId],
    url: &str,
    now: u64,
) -> anyhow::Result<ExitCode> {
    let url: String = url.chars().filter(|c| !c.is_whitespace()).collect();
    let (address, fragment) = url.split_once('#').unwrap_or((&url, ""));
    let verdict = |word: &str, why: String| {
        println!("{word}: {why}");
        Ok(ExitCode::from(1))
    };
    if fragment.is_empty() {
        return verdict(
            "missing",
            "the link has no secret: the part after `#` is missing".into(),
        );
    }
    if LinkSecret::from_base62(fragment).is_none() {
        return verdict(
            "invalid",
            format!(
                "the part after `#` is not a link secret ({LINK_SECRET_CHARS} letters and digits; damaged when copied?)"
            ),
        );
    }
    let (content_secret, _) = ContentSecret::find_or_create(&content.config.keys)?
        .context("this machine has not the site's content secret, which made the link: set VITRINE_CONTENT_SECRET")?;
    let Some(share) = share_of_link(ledger, &content_secret, &url) else {
        return verdict(
            "invalid",
            "the secret opens no share of this site (damaged when copied, or made for another site)".into(),
        );
    };
    let path = address.split('?').next().unwrap_or_default();
    let wanted = format!("/{}", crate::share::token::address(share.scope()));
    let code = if !path.ends_with(&wanted) {
        verdict(
            "wrong-scope",
            format!("{} (the share opens {wanted})", Error::WrongScope),
        )?
    } else if share.revoked.is_some() || revoked.contains(&share.id) {
        verdict(
            "revoked",
            format!("{}; the next build removes its slot", Error::Revoked),
        )?
    } else if share.expires.is_some_and(|e| now >= u64::from(e)) {
        verdict(
            "expired",
            format!("{}; the next build removes its slot", Error::Expired),
        )?
    } else {
        println!(
            "valid: opens {} once a build made after the share was issued is deployed",
            share.scope()
        );
        ExitCode::SUCCESS
    };
    print_share(share);
    Ok(code)
}

/// What a link the gate accepted at `at` (a canonical `/private/…` path) opens: its token's
/// scope, checked as the gate checked it.
fn opened(data: &GateData, token: Option<&UntrustedToken>, at: &str, now: u64) -> String {
    let path = at.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let slug = segs.get(1).copied().unwrap_or_default();
    let mut scopes = vec![Scope::Dataset(slug)];
    match segs.as_slice() {
        ["private", _, "annotations", id, ..] => scopes.push(Scope::Annotation(slug, id)),
        ["private", _, "layers", id, ..] => scopes.push(Scope::Layer(slug, id)),
        _ => {}
    }
    let keys: Vec<([u8; 4], [u8; 32])> = data.keys.iter().map(|(k, v)| (*k, *v)).collect();
    token
        .and_then(|t| {
            t.verify(keys.as_slice(), &scopes, data.revoked.as_slice(), now)
                .ok()
        })
        .map_or_else(|| path.to_string(), |claims| claims.scope().to_string())
}

/// The reason behind a refusal, in the words of someone holding the link.
fn why(reason: &str, tokens: &[String], content: &content::Content, at: &str) -> String {
    match (reason, tokens) {
        ("missing", _) => "the link has no token: the part after `?s=` is missing".to_string(),
        ("invalid", []) => format!("the address `{at}` cannot be read (damaged when copied?)"),
        ("invalid", [token]) if UntrustedToken::parse(token).is_err() => malformed_detail(token),
        ("invalid", [_]) => Error::BadSignature.to_string(),
        ("invalid", _) => "the link has more than one `s=` parameter; gates refuse it".to_string(),
        ("unknown-key", [token]) => format!(
            "{} (key {}; content/site.yaml lists {})",
            Error::UnknownKey,
            UntrustedToken::parse(token)
                .map(|t| hex(&t.kid()))
                .unwrap_or_default(),
            if content.config.keys.is_empty() {
                "none".to_string()
            } else {
                let kids: Vec<String> = content.config.keys.iter().map(|k| k.kid_hex()).collect();
                kids.join(", ")
            }
        ),
        ("wrong-scope", _) => format!("{} (at {at})", Error::WrongScope),
        ("expired", _) => Error::Expired.to_string(),
        ("revoked", _) => Error::Revoked.to_string(),
        ("not-yet-valid", _) => Error::NotYetValid.to_string(),
        _ => format!("the gate refuses `{at}`"),
    }
}

/// Why a token does not decode, in the words of someone holding the broken link.
fn malformed_detail(token: &str) -> String {
    let n = token.chars().count();
    if let Some((i, c)) = token
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return format!("the token has `{c}` at character {}, but share tokens are letters and digits only (damaged when copied?)", token[..i].chars().count() + 1);
    }
    if n != vitrine_verify::TOKEN_CHARS {
        return format!("the token has {n} characters, but share tokens have {} (cut short, or text stuck to its end?)", vitrine_verify::TOKEN_CHARS);
    }
    "the token is not a share token of a version this vitrine reads (damaged when copied?)"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::below_base;

    #[test]
    fn a_site_in_a_folder_is_verified_below_it() {
        let link = "https://lab.example.org/data/private/a/?s=abc";
        assert_eq!(
            below_base(link, "/data/"),
            "https://lab.example.org/private/a/?s=abc"
        );
        // At the host's root, or outside the folder, the link is what the gate sees.
        assert_eq!(below_base(link, "/"), link);
        assert_eq!(below_base(link, "/other/"), link);
        assert_eq!(below_base("not a url", "/data/"), "not a url");
    }
}
