//! `vitrine revoke`: mark a share revoked and sign the next revocation list.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::content;
use crate::share::ledger::Ledger;
use crate::share::secret::ContentSecret;
use crate::share::slots::share_of_link;
use crate::share::{hex, keys, permanence, revocations, rfc3339};
use crate::site::{default_out, outputs_in_sight};

/// Options of `vitrine revoke`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The share to revoke: its id, its label, or its link.
    #[arg(value_name = "ID|LABEL|URL", required_unless_present = "resign")]
    pub share: Option<String>,
    /// Sign the revocation list again without revoking anything (after a key rotation, when
    /// `vitrine build` reports that the list does not verify, or to carry the ids revoked in a
    /// newer published or recorded list into a restored `content/shares.yaml`).
    #[arg(long, conflicts_with = "share")]
    pub resign: bool,
    /// The signing key file; default: the newest key of site.yaml found in the key folder.
    #[arg(long, value_name = "FILE", env = "VITRINE_KEY")]
    pub key: Option<PathBuf>,
}

/// Runs `vitrine revoke`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let content = content::load(root)?;
    let (key, _) = keys::signing_key(&content.config.keys, args.key.as_deref(), None)?;
    let now = crate::share::now();
    let base_url = &content.config.base_url;
    let seen = permanence::in_sight(&outputs_in_sight(root, &default_out(root)), base_url, false)?;
    let message = Ledger::update(root, |ledger| {
        let Some(query) = &args.share else {
            revocations::sign_next(ledger, &key, now, &seen)?;
            revocations::record(ledger, base_url)?;
            return Ok(String::from("signed the revocation list again"));
        };
        // A link of a host without a gate names its share by the secret in its fragment.
        let by_fragment = match query.contains('#') {
            true => ContentSecret::find_or_create(&content.config.keys)?
                .and_then(|(secret, _)| share_of_link(ledger, &secret, query).cloned()),
            false => None,
        };
        let share = match by_fragment {
            Some(share) => share,
            None => ledger.resolve(query)?.clone(),
        };
        let label = if share.label.is_empty() {
            String::new()
        } else {
            format!(" ({})", share.label)
        };
        if let Some(at) = share.revoked {
            return Ok(format!(
                "share {}{label} was already revoked on {}; nothing changed",
                hex(&share.id),
                rfc3339(at.into())
            ));
        }
        let revoked_at = u32::try_from(now)?;
        if let Some(s) = ledger.shares.iter_mut().find(|s| s.id == share.id) {
            s.revoked = Some(revoked_at);
        }
        revocations::sign_next(ledger, &key, now, &seen)?;
        revocations::record(ledger, base_url)?;
        Ok(format!(
            "revoked share {}{label}, {}",
            hex(&share.id),
            share.scope()
        ))
    })?;
    let serial = Ledger::load(root)
        .ok()
        .and_then(|l| l.revocations)
        .map_or(0, |l| l.serial);
    eprintln!(
        "{message}; revocation list serial {serial}. Run `vitrine build` and deploy: gates refuse the link from the next deploy on."
    );
    Ok(ExitCode::SUCCESS)
}
