//! What each share opens on a host without a gate (docs/share-links.md, "Links without a
//! gate"): the key names a share can open, the shares that ended (whose keys must change), and
//! the slot of each active share, which hands its link's holder the content keys.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use vitrine_verify::{Scope, ShareId};

use super::hex;
use super::ledger::{Ledger, Share, Status};
use super::secret::{ContentSecret, Label, LinkSecret};
use crate::content::BaseUrl;

/// Whether `share` can open key name `name` (`dataset:`, `media:`, `annotation:` or `layer:`),
/// where `published` are the slugs of the public datasets: a dataset share opens everything of
/// its dataset, except the private layers once the dataset is published (they then have no
/// dataset link); an annotation or layer share opens its own name and the dataset's images it
/// is drawn over. As the gates' scopes (docs/share-links.md, "Which scopes open the path").
pub fn opens(share: &Share, name: &str, published: &BTreeSet<String>) -> bool {
    let slug = &share.dataset;
    let media = name == format!("media:{slug}");
    match share.scope() {
        Scope::Dataset(_) => {
            name == format!("dataset:{slug}")
                || media
                || name.starts_with(&format!("annotation:{slug}/"))
                || (name.starts_with(&format!("layer:{slug}/")) && !published.contains(slug))
        }
        scope => media || name == scope.to_string(),
    }
}

/// The ids of the shares that ended by `now` (revoked or expired) and could open `name`: the
/// key of `name` depends on them, so it changes when one more ends. `published` as for
/// [`opens`].
pub fn ended(ledger: &Ledger, now: u64, name: &str, published: &BTreeSet<String>) -> Vec<ShareId> {
    ledger
        .shares
        .iter()
        .filter(|s| s.status(now) != Status::Active && opens(s, name, published))
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
/// key names built in this output (`keys`, name → label and content key; `published` as for
/// [`opens`]). A share none of whose names was built (its dataset was published since) gets
/// none.
pub fn slots(
    ledger: &Ledger,
    now: u64,
    secret: &ContentSecret,
    keys: &BTreeMap<String, (Label, [u8; 32])>,
    published: &BTreeSet<String>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for share in ledger
        .shares
        .iter()
        .filter(|s| s.status(now) == Status::Active)
    {
        let opened: BTreeMap<String, String> = keys
            .iter()
            .filter(|(name, _)| opens(share, name, published))
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
    base.join(&format!(
        "{}#{fragment}",
        super::token::address(share.scope())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(dataset: &str, annotation: Option<&str>, layer: Option<&str>) -> Share {
        Share {
            id: [1; 8],
            label: String::new(),
            kid: [0; 4],
            dataset: dataset.into(),
            annotation: annotation.map(Into::into),
            layer: layer.map(Into::into),
            issued: 0,
            expires: None,
            revoked: None,
        }
    }

    #[test]
    fn each_share_opens_what_the_gates_open() {
        let none = BTreeSet::new();
        let published: BTreeSet<String> = ["a".to_string()].into();
        let dataset = share("a", None, None);
        let layer = share("a", None, Some("cells"));
        let annotation = share("a", Some("n1"), None);
        for name in ["dataset:a", "media:a", "annotation:a/n1", "layer:a/cells"] {
            assert!(opens(&dataset, name, &none), "{name}");
        }
        // Once the dataset is published, its private layers have no dataset link.
        assert!(!opens(&dataset, "layer:a/cells", &published));
        assert!(opens(&dataset, "annotation:a/n1", &published));
        assert!(!opens(&dataset, "dataset:b", &none));
        for (name, want) in [
            ("layer:a/cells", true),
            ("media:a", true),
            ("dataset:a", false),
            ("layer:a/nuclei", false),
            ("annotation:a/cells", false),
            ("layer:b/cells", false),
        ] {
            assert_eq!(opens(&layer, name, &published), want, "{name}");
            assert_eq!(opens(&layer, name, &none), want, "{name}");
        }
        assert!(opens(&annotation, "annotation:a/n1", &none));
        assert!(!opens(&annotation, "layer:a/n1", &none));
    }
}
