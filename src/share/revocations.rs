//! The signed revocation list: signing it when a key is at hand (`vitrine share`, `vitrine
//! revoke`), and publishing it as `share/revocations.json` without any key (`vitrine build`).

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;
use vitrine_verify::{
    kid_of, revocations_message, RevocationList, ShareId, Signer as ListSigner,
    UntrustedRevocationList,
};

use super::ledger::{Ledger, SignedList};
use super::permanence::{self, Seen};
use super::{hex, rfc3339};
use crate::content::PublicKeyEntry;

/// Signs the next list: the ledger's revoked ids, the ids its last list carried, and every id
/// of the lists in sight (`seen`), with a serial above all of theirs (1 for the first list).
///
/// Every signing bumps the serial, so a gate that sees two lists can always tell the newer; and
/// a revocation is permanent ([`permanence`]): a share that a list in sight revokes but a
/// restored ledger shows active is marked revoked again (at `now`, its first date being lost).
pub fn sign_next(ledger: &mut Ledger, key: &SigningKey, now: u64, seen: &[Seen]) -> Result<()> {
    let (seen_serial, _) = permanence::carried(seen);
    let revoked = revoked_in_sight(ledger, seen);
    let issued = u32::try_from(now)?;
    for share in &mut ledger.shares {
        if share.revoked.is_none() && revoked.contains(&share.id) {
            share.revoked = Some(issued);
        }
    }
    let serial = ledger
        .revocations
        .as_ref()
        .map_or(0, |l| l.serial)
        .max(seen_serial)
        + 1;
    let revoked: Vec<_> = revoked.into_iter().collect();
    let kid = kid_of(&key.verifying_key().to_bytes());
    let signature = key
        .sign(&revocations_message(&kid, serial, issued.into(), &revoked))
        .to_bytes();
    ledger.revocations = Some(SignedList {
        serial,
        issued,
        kid,
        revoked,
        signature,
    });
    Ok(())
}

/// Every share id revoked anywhere in sight: marked in the ledger, on its signed list, or on a
/// list in `seen` (see [`permanence`]). A revocation is permanent, so this is what is revoked.
pub fn revoked_in_sight(ledger: &Ledger, seen: &[Seen]) -> BTreeSet<ShareId> {
    let (_, mut revoked) = permanence::carried(seen);
    revoked.extend(ledger.revoked_ids());
    revoked.extend(
        ledger
            .revocations
            .iter()
            .flat_map(|l| l.revoked.iter().copied()),
    );
    revoked
}

/// Signs a first list when there is none, or a fresh one when its signer is no longer listed
/// in `site.yaml` (after a key rotation), so the published list always verifies.
pub fn ensure_signed(
    ledger: &mut Ledger,
    key: &SigningKey,
    keys: &[PublicKeyEntry],
    now: u64,
    seen: &[Seen],
) -> Result<()> {
    let signer_listed = ledger
        .revocations
        .as_ref()
        .is_some_and(|l| keys.iter().any(|k| k.kid == l.kid));
    if !signer_listed {
        sign_next(ledger, key, now, seen)?;
    }
    Ok(())
}

/// The list as recorded, for [`UntrustedRevocationList::verify`]; the unsigned empty list when
/// no share was ever issued.
pub fn untrusted(ledger: &Ledger) -> UntrustedRevocationList<'_> {
    match &ledger.revocations {
        Some(l) => UntrustedRevocationList {
            serial: l.serial,
            issued: l.issued.into(),
            revoked: &l.revoked,
            signer: Some(ListSigner {
                kid: l.kid,
                signature: l.signature,
            }),
        },
        None => UntrustedRevocationList {
            serial: 0,
            issued: 0,
            revoked: &[],
            signer: None,
        },
    }
}

/// The recorded list, verified against the site's keys: what a build publishes and a gate
/// enforces.
///
/// Fails when the list was edited by hand, when it lags behind the shares marked revoked (or
/// lists a share the ledger shows active), or when its signing key left `site.yaml`; the message
/// says which command repairs it. The list may carry ids the ledger has no share for: ids
/// carried over from a list in sight after an older ledger was restored.
pub fn verified<'a>(ledger: &'a Ledger, keys: &[PublicKeyEntry]) -> Result<RevocationList<'a>> {
    let pairs: Vec<([u8; 4], [u8; 32])> = keys.iter().map(|k| (k.kid, k.public_key)).collect();
    let list = untrusted(ledger).verify(pairs.as_slice()).map_err(|e| {
        let why = match e {
            vitrine_verify::Error::UnknownKey => "its signing key is no longer listed in content/site.yaml",
            _ => "its signature does not match (was it edited by hand?)",
        };
        anyhow::anyhow!(
            "content/shares.yaml: the signed revocation list does not verify: {why}; run `vitrine revoke --resign` with a listed key to sign it again"
        )
    })?;
    let listed = |id: &ShareId| list.revoked().binary_search(id).is_ok();
    let lagging = ledger
        .shares
        .iter()
        .any(|s| s.revoked.is_some() != listed(&s.id));
    if lagging {
        bail!(
            "content/shares.yaml: the shares marked `revoked` differ from the signed revocation list; \
             run `vitrine revoke --resign` to sign the list again"
        );
    }
    Ok(list)
}

/// Records the ledger's signed list beside the keys ([`permanence::write_record`]).
pub fn record(ledger: &Ledger, base_url: &crate::content::BaseUrl) -> Result<()> {
    match &ledger.revocations {
        Some(l) => {
            permanence::write_record(base_url, l.serial, &l.revoked, &revocations_json(ledger))
        }
        None => Ok(()),
    }
}

/// `share/revocations.json` for a ledger, exactly as docs/share-links.md specifies it; needs no
/// key, because the list was signed when it changed.
pub fn revocations_json(ledger: &Ledger) -> String {
    let value = match &ledger.revocations {
        Some(l) => json!({
            "format": "vitrine-revocations-v1",
            "serial": l.serial,
            "issued": l.issued,
            "issued_at": rfc3339(l.issued.into()),
            "kid": hex(&l.kid),
            "revoked": l.revoked.iter().map(|id| hex(id)).collect::<Vec<_>>(),
            "signature": hex(&l.signature),
        }),
        None => json!({
            "format": "vitrine-revocations-v1",
            "serial": 0,
            "issued": 0,
            "issued_at": null,
            "kid": null,
            "revoked": [],
            "signature": null,
        }),
    };
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::ledger::Share;

    fn entry(key: &SigningKey) -> PublicKeyEntry {
        let public_key = key.verifying_key().to_bytes();
        PublicKeyEntry {
            kid: kid_of(&public_key),
            public_key,
        }
    }

    fn share(id: u8, revoked: bool) -> Share {
        Share {
            id: [id; 8],
            label: String::new(),
            kid: [0; 4],
            dataset: "d".into(),
            annotation: None,
            layer: None,
            issued: 1,
            expires: None,
            revoked: revoked.then_some(5),
        }
    }

    #[test]
    fn signed_lists_verify_and_serials_grow() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let keys = [entry(&key)];
        let mut ledger = Ledger::default();
        assert_eq!(verified(&ledger, &keys).unwrap().serial(), 0);
        ensure_signed(&mut ledger, &key, &keys, 100, &[]).unwrap();
        ensure_signed(&mut ledger, &key, &keys, 200, &[]).unwrap();
        assert_eq!(
            verified(&ledger, &keys).unwrap().serial(),
            1,
            "a listed signer is not re-signed"
        );
        ledger.shares = vec![share(9, true), share(2, true), share(4, false)];
        assert!(
            verified(&ledger, &keys).is_err(),
            "a list behind the ledger is refused"
        );
        sign_next(&mut ledger, &key, 300, &[]).unwrap();
        let list = verified(&ledger, &keys).unwrap();
        assert_eq!(
            (list.serial(), list.revoked()),
            (2, [[2; 8], [9; 8]].as_slice())
        );
    }

    #[test]
    fn rotation_re_signs_with_the_new_key() {
        let old = SigningKey::from_bytes(&[3; 32]);
        let new = SigningKey::from_bytes(&[4; 32]);
        let mut ledger = Ledger::default();
        sign_next(&mut ledger, &old, 100, &[]).unwrap();
        let keys = [entry(&new)];
        assert!(verified(&ledger, &keys)
            .unwrap_err()
            .to_string()
            .contains("no longer listed"));
        ensure_signed(&mut ledger, &new, &keys, 200, &[]).unwrap();
        assert_eq!(verified(&ledger, &keys).unwrap().serial(), 2);
    }

    #[test]
    fn published_json_verifies_as_the_gates_read_it() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let mut ledger = Ledger::default();
        ledger.shares = vec![share(1, true)];
        sign_next(&mut ledger, &key, 1_764_075_600, &[]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&revocations_json(&ledger)).unwrap();
        assert_eq!(v["issued_at"], "2025-11-25T13:00:00Z");
        let kid = crate::share::parse_hex::<4>(v["kid"].as_str().unwrap()).unwrap();
        let ids = [crate::share::parse_hex::<8>(v["revoked"][0].as_str().unwrap()).unwrap()];
        let list = UntrustedRevocationList {
            serial: v["serial"].as_u64().unwrap(),
            issued: v["issued"].as_u64().unwrap(),
            revoked: &ids,
            signer: Some(ListSigner {
                kid,
                signature: crate::share::parse_hex(v["signature"].as_str().unwrap()).unwrap(),
            }),
        };
        let pk = key.verifying_key().to_bytes();
        assert_eq!(list.verify(&[(kid_of(&pk), pk)]).unwrap().serial(), 1);
        let empty: serde_json::Value =
            serde_json::from_str(&revocations_json(&Ledger::default())).unwrap();
        assert_eq!(
            (empty["serial"].as_u64(), empty["signature"].is_null()),
            (Some(0), true)
        );
    }
}
