//! `vitrine shares`: list issued shares, or print one share's link again.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use crate::content::{self, Diagnostics};
use crate::share::ledger::{Ledger, Share};
use crate::share::{hex, keys, rfc3339};

/// Options of `vitrine shares`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the list as JSON (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Print the link of this share (id or label) again; needs the key that signed it.
    #[arg(long, value_name = "ID")]
    pub link: Option<String>,
    /// The signing key file for `--link`; default: the share's key in the key folder.
    #[arg(long, value_name = "FILE", env = "VITRINE_KEY")]
    pub key: Option<PathBuf>,
}

/// Runs `vitrine shares`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::load(root).map_err(|d| Diagnostics(vec![d]))?;
    let now = crate::share::now();
    if let Some(query) = &args.link {
        let content = content::load(root)?;
        let share = ledger.resolve(query)?;
        let status = share.status(now);
        if status != crate::share::ledger::Status::Active {
            eprintln!(
                "note: this share is {}; gates refuse its link",
                status.as_str()
            );
        }
        let key = || {
            keys::signing_key(
                &content.config.keys,
                args.key.as_deref(),
                Some(&hex(&share.kid)),
            )
            .map(|(key, _)| key)
        };
        let link = crate::share::link_of(share, &content.config, &content.config.base_url, key)?;
        println!("{link}");
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let list: Vec<_> = ledger.shares.iter().map(|s| share_json(s, now)).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if ledger.shares.is_empty() {
        eprintln!("no shares yet; issue one with `vitrine share SLUG`");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", table(&ledger.shares, now));
    Ok(ExitCode::SUCCESS)
}

fn share_json(s: &Share, now: u64) -> serde_json::Value {
    json!({
        "id": hex(&s.id),
        "label": s.label,
        "kid": hex(&s.kid),
        "scope": s.scope().to_string(),
        "dataset": s.dataset,
        "annotation": s.annotation,
        "layer": s.layer,
        "issued": rfc3339(s.issued.into()),
        "expires": s.expires.map(|e| rfc3339(e.into())),
        "revoked": s.revoked.map(|r| rfc3339(r.into())),
        "status": s.status(now).as_str(),
    })
}

/// Aligned columns: id, label, scope, issued, expires, status.
fn table(shares: &[Share], now: u64) -> String {
    let day = |t: u32| rfc3339(t.into()).replace('T', " ")[..16].to_string();
    let mut rows = vec![[
        "ID",
        "LABEL",
        "SCOPE",
        "ISSUED (UTC)",
        "EXPIRES (UTC)",
        "STATUS",
    ]
    .map(String::from)
    .to_vec()];
    for s in shares {
        rows.push(vec![
            hex(&s.id),
            if s.label.is_empty() {
                "-".into()
            } else {
                s.label.clone()
            },
            s.scope().to_string(),
            day(s.issued),
            s.expires.map_or("never".into(), day),
            s.status(now).as_str().into(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
