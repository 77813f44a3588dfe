//! What each share opens on a host without a gate (docs/share-links.md, "Links without a
//! gate"): the key names a share can open, the shares that ended (whose keys must change), and
//! the slot of each active share, which hands its link's holder the content keys.

use std::collections::BTreeMap;

use anyhow::Result;
use vitrine_verify::ShareId;

use super::hex;
use super::ledger::{Ledger, Share, Status};
use super::secret::{ContentSecret, Label, LinkSecret};
use crate::content::BaseUrl;

/// Whether `share` can open key name `name` (`dataset:`, `media:` or `annotation:`): a dataset
/// share opens everything of its dataset, an annotation share its annotation and the dataset's
/// images it is drawn over. As the gates' scopes (docs/share-links.md, "Which scopes open the
/// path").
pub fn opens(share: &Share, name: &str) -> bool {
    let slug = &share.dataset;
    match &share.annotation {
        None => {
            name == format!("dataset:{slug}")
                || name == format!("media:{slug}")
                || name.starts_with(&format!("annotation:{slug}/"))
        }
        Some(id) => name == format!("annotation:{slug}/{id}") || name == format!("media:{slug}"),
    }
}

/// The ids of the shares that ended by `now` (revoked or expired) and could open `name`: the
/// key of `name` depends on them, so it changes when one more ends.
pub fn ended(ledger: &Ledger, now: u64, name: &str) -> Vec<ShareId> {
    ledger
        .shares
        .iter()
        .filter(|s| s.status(now) != Status::Active && opens(s, name))
        .map(|s| s.id)
        .collect()
}

/// The first time after `now` at which an active share expires: a build of a host without a
/// gate is out of date from then on, even if no file changed.
pub fn next_expiry(ledger: &Ledger, now: u64) -> Option<u64> {
    ledger
        .shares
        .iter()
        .filter(|s| s.status(now) == Status::Active)
        .filter_map(|s| s.expires.map(u64::from))
        .min()
}

/// The slots of the active shares of `ledger` at `now`: output path and sealed bytes, for the
/// key names built in this output (`keys`, name → label and content key). A share none of
/// whose names was built (its dataset was published since) gets none.
pub fn slots(
    ledger: &Ledger,
    now: u64,
    secret: &ContentSecret,
    keys: &BTreeMap<String, (Label, [u8; 32])>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for share in ledger
        .shares
        .iter()
        .filter(|s| s.status(now) == Status::Active)
    {
        let opened: BTreeMap<String, String> = keys
            .iter()
            .filter(|(name, _)| opens(share, name))
            .map(|(_, (label, key))| (hex(label), hex(key)))
            .collect();
        if opened.is_empty() {
            continue;
        }
        let link = secret.link_secret(&share.id);
        let path = slot_path(&share.dataset, &link.slot_id());
        let json = serde_json::json!({
            "v": 1,
            "scope": share.scope().to_string(),
            "expires": share.expires.unwrap_or(0),
            "keys": opened,
        });
        let sealed =
            crate::output::seal::seal_slot(&link.wrap_key(), &path, json.to_string().as_bytes())?;
        out.push((path, sealed));
    }
    Ok(out)
}

/// The share a link of a host without a gate opens: the one whose link secret its fragment
/// holds (`None` for a link without such a fragment, or one no share of `ledger` made). Only
/// the content secret makes a link secret, so this is how `verify` and `revoke` read a link.
pub fn share_of_link<'l>(
    ledger: &'l Ledger,
    secret: &ContentSecret,
    url: &str,
) -> Option<&'l Share> {
    let url: String = url.chars().filter(|c| !c.is_whitespace()).collect();
    let fragment = LinkSecret::from_base62(url.split_once('#')?.1)?;
    ledger
        .shares
        .iter()
        .find(|s| secret.link_secret(&s.id) == fragment)
}

/// The output path of a slot.
pub fn slot_path(slug: &str, slot_id: &str) -> String {
    format!("private/{slug}/slots/{slot_id}")
}

/// A share's link on a host without a gate: the share's address with its secret as fragment.
pub fn link(share: &Share, secret: &ContentSecret, base: &BaseUrl) -> String {
    let fragment = secret.link_secret(&share.id).to_base62();
    match &share.annotation {
        None => base.join(&format!("private/{}/#{fragment}", share.dataset)),
        Some(id) => base.join(&format!(
            "private/{}/annotations/{id}/#{fragment}",
            share.dataset
        )),
    }
}
