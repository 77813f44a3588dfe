//! `vitrine verify`: check a link offline, exactly as a gate would, and say why.

use std::path::Path;
use std::process::ExitCode;

use vitrine_verify::{Error, UntrustedToken};

use crate::content::{self, Diagnostics};
use crate::share::ledger::Ledger;
use crate::share::{hex, parse_hex, rfc3339, token};

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
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let content = content::load(root)?;
    let ledger = Ledger::load(root).map_err(|d| Diagnostics(vec![d]))?;
    let now = args.at.unwrap_or_else(crate::share::now);
    let link = match token::parse_link(&args.url) {
        Ok(link) => link,
        Err(e) => {
            println!("invalid: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let keys: Vec<([u8; 4], [u8; 32])> = content
        .config
        .keys
        .iter()
        .filter_map(|k| Some((parse_hex::<4>(&k.kid)?, k.public_key)))
        .collect();
    // Revoked anywhere in sight is revoked: the ledger, its list, and the lists published or
    // recorded beside the keys (a restored older ledger must not make `verify` say `valid`).
    let outputs = crate::site::outputs_in_sight(root, &crate::site::default_out(root));
    let seen = crate::share::permanence::in_sight(&outputs, &content.config.base_url, false)?;
    let (_, mut revoked) = crate::share::permanence::carried(&seen);
    revoked.extend(ledger.revoked_ids());
    revoked.extend(
        ledger
            .revocations
            .iter()
            .flat_map(|l| l.revoked.iter().copied()),
    );
    let revoked: Vec<_> = revoked.into_iter().collect();
    let untrusted = UntrustedToken::parse(&link.token);
    let result =
        untrusted.and_then(|t| t.verify(keys.as_slice(), &link.scopes(), revoked.as_slice(), now));
    let share = untrusted.ok().and_then(|t| ledger.find(&t.share_id()));
    match result {
        Ok(claims) => println!("valid: opens {}", claims.scope()),
        Err(Error::Malformed) => println!("invalid: {}", malformed_detail(&link.token)),
        Err(Error::UnknownKey) => println!(
            "unknown-key: {} (key {}; content/site.yaml lists {})",
            Error::UnknownKey,
            untrusted.map(|t| hex(&t.kid())).unwrap_or_default(),
            if content.config.keys.is_empty() {
                "none".to_string()
            } else {
                content
                    .config
                    .keys
                    .iter()
                    .map(|k| k.kid.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        Err(Error::WrongScope) => println!(
            "wrong-scope: {} (this path opens {})",
            Error::WrongScope,
            link.scopes()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Err(e) => println!("{}: {e}", e.reason()),
    }
    // Details come from the ledger only for a signature that verified: otherwise the share id
    // is as untrusted as the rest of the token.
    let signed = matches!(
        result,
        Ok(_) | Err(Error::WrongScope | Error::Revoked | Error::Expired | Error::NotYetValid)
    );
    match share.filter(|_| signed) {
        Some(s) => {
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
        None if signed => {
            let t = untrusted.expect("a signed token parsed");
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
        None => {}
    }
    if result.is_ok()
        && content
            .datasets
            .iter()
            .any(|d| d.slug == link.slug && d.is_public())
    {
        println!(
            "  note:    `{}` is public now; gates redirect this link to /datasets/{}/",
            link.slug, link.slug
        );
    }
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
