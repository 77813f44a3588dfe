//! The signed revocation list (`share/revocations.json`): which shares no gate may open.
//!
//! The list is signed with a site key so a mirror or a third party can check it, and carries a
//! serial that only grows so a gate can refuse to go back to an older list.

use sha2::{Digest, Sha512};

use crate::signature::{verify_signature, KeySet, Kid};
use crate::token::{RevokedSet, ShareId};
use crate::Error;

/// The domain-separation prefix of the signed list: `vitrine/revocations/v1` and a NUL byte.
pub const REVOCATIONS_CONTEXT: &[u8; 23] = b"vitrine/revocations/v1\0";

/// The signed message's size: context, kid, serial, issued, id count, SHA-512 of the ids.
pub const REVOCATIONS_MESSAGE_LEN: usize = REVOCATIONS_CONTEXT.len() + 4 + 8 + 8 + 4 + 64;

/// The message a revocation list's signature covers.
///
/// The ids enter as a SHA-512 digest so the message has a fixed size however long the list is.
pub fn revocations_message(
    kid: &Kid,
    serial: u64,
    issued: u64,
    revoked: &[ShareId],
) -> [u8; REVOCATIONS_MESSAGE_LEN] {
    let mut h = Sha512::new();
    for id in revoked {
        h.update(id);
    }
    let count = u32::try_from(revoked.len()).unwrap_or(u32::MAX);
    let mut m = [0u8; REVOCATIONS_MESSAGE_LEN];
    let parts: [&[u8]; 6] = [
        REVOCATIONS_CONTEXT,
        kid,
        &serial.to_be_bytes(),
        &issued.to_be_bytes(),
        &count.to_be_bytes(),
        &h.finalize(),
    ];
    let mut at = 0;
    for part in parts {
        m[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    m
}

/// Who signed a list, and the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    /// Key id of the signing key.
    pub kid: Kid,
    /// Ed25519 signature over [`revocations_message`].
    pub signature: [u8; 64],
}

/// A revocation list as read from JSON: **untrusted** until [`verify`](Self::verify) succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UntrustedRevocationList<'a> {
    /// Grows by one with every revocation.
    pub serial: u64,
    /// When the list was signed, Unix seconds.
    pub issued: u64,
    /// Revoked share ids, strictly ascending.
    pub revoked: &'a [ShareId],
    /// `None` only for the empty list of a site that has not signed one yet.
    pub signer: Option<Signer>,
}

impl<'a> UntrustedRevocationList<'a> {
    /// Checks order and signature; the unsigned list is accepted only when it is the empty one
    /// (serial 0, issued 0, no ids), so an unsigned list is always [`RevocationList::EMPTY`].
    ///
    /// Ids out of order → [`Error::Malformed`]; a missing or wrong signature →
    /// [`Error::BadSignature`]; a key the site does not list → [`Error::UnknownKey`].
    pub fn verify<K: KeySet + ?Sized>(&self, keys: &K) -> Result<RevocationList<'a>, Error> {
        if self.revoked.windows(2).any(|w| w[0] >= w[1])
            || u32::try_from(self.revoked.len()).is_err()
        {
            return Err(Error::Malformed);
        }
        match &self.signer {
            None if self.serial == 0 && self.issued == 0 && self.revoked.is_empty() => {}
            None => return Err(Error::BadSignature),
            Some(signer) => {
                let key = keys.public_key(&signer.kid).ok_or(Error::UnknownKey)?;
                let message =
                    revocations_message(&signer.kid, self.serial, self.issued, self.revoked);
                verify_signature(key, &message, &signer.signature)?;
            }
        }
        Ok(RevocationList {
            serial: self.serial,
            issued: self.issued,
            revoked: self.revoked,
        })
    }
}

/// A verified revocation list; only [`UntrustedRevocationList::verify`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationList<'a> {
    serial: u64,
    issued: u64,
    revoked: &'a [ShareId],
}

impl<'a> RevocationList<'a> {
    /// The empty list every gate starts from: serial 0, nothing revoked.
    pub const EMPTY: RevocationList<'static> = RevocationList {
        serial: 0,
        issued: 0,
        revoked: &[],
    };

    /// The list's serial number.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// When the list was signed, Unix seconds (0 for the unsigned empty list).
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// The revoked share ids, strictly ascending.
    pub fn revoked(&self) -> &'a [ShareId] {
        self.revoked
    }

    /// Whether this list should replace `held`: only a strictly higher serial does.
    ///
    /// Equal serials keep the held list, so a replayed copy never changes a gate's state.
    pub fn supersedes(&self, held: &RevocationList<'_>) -> bool {
        self.serial > held.serial
    }
}

impl RevokedSet for RevocationList<'_> {
    fn is_revoked(&self, share_id: &ShareId) -> bool {
        self.revoked.binary_search(share_id).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;
    use crate::kid_of;

    const IDS: [ShareId; 3] = [[0x10; 8], [0x50; 8], [0x90; 8]];
    const ISSUED: u64 = 1_764_075_600;

    fn site() -> (SigningKey, [(Kid, [u8; 32]); 1]) {
        let key = SigningKey::from_bytes(&[9; 32]);
        let public = key.verifying_key().to_bytes();
        (key, [(kid_of(&public), public)])
    }

    fn signed<'a>(
        key: &SigningKey,
        serial: u64,
        ids: &'a [ShareId],
    ) -> UntrustedRevocationList<'a> {
        let kid = kid_of(&key.verifying_key().to_bytes());
        let signature = key
            .sign(&revocations_message(&kid, serial, ISSUED, ids))
            .to_bytes();
        UntrustedRevocationList {
            serial,
            issued: ISSUED,
            revoked: ids,
            signer: Some(Signer { kid, signature }),
        }
    }

    fn unsigned(serial: u64, issued: u64, ids: &[ShareId]) -> UntrustedRevocationList<'_> {
        UntrustedRevocationList {
            serial,
            issued,
            revoked: ids,
            signer: None,
        }
    }

    #[test]
    fn only_the_empty_list_may_be_unsigned() {
        let (_, keys) = site();
        assert_eq!(unsigned(0, 0, &[]).verify(&keys), Ok(RevocationList::EMPTY));
        for (serial, issued, ids) in [
            (0, 0, &IDS[..]),
            (5, 0, &[][..]),
            (5, 0, &IDS[..]),
            (0, ISSUED, &[][..]),
        ] {
            assert_eq!(
                unsigned(serial, issued, ids).verify(&keys),
                Err(Error::BadSignature),
                "unsigned list at serial {serial}, issued {issued}, with {} ids",
                ids.len()
            );
        }
    }

    #[test]
    fn a_verified_list_keeps_what_was_signed() {
        let (key, keys) = site();
        let list = signed(&key, 7, &IDS).verify(&keys).unwrap();
        assert_eq!(
            (list.serial(), list.issued(), list.revoked()),
            (7, ISSUED, &IDS[..])
        );
    }

    #[test]
    fn only_a_strictly_higher_serial_supersedes() {
        let (key, keys) = site();
        let at = |serial| signed(&key, serial, &IDS).verify(&keys).unwrap();
        let (four, five, six) = (at(4), at(5), at(6));
        let empty = RevocationList::EMPTY;
        assert!(five.supersedes(&four), "higher serial");
        assert!(!five.supersedes(&five), "equal serial");
        assert!(!five.supersedes(&six), "lower serial");
        assert!(
            five.supersedes(&empty),
            "any signed list over the empty one"
        );
        assert!(!empty.supersedes(&five), "the empty list over a signed one");
        assert!(!empty.supersedes(&empty), "the empty list over itself");
        let signed_empty = signed(&key, 0, &[]).verify(&keys).unwrap();
        assert!(!signed_empty.supersedes(&empty), "serial 0 over serial 0");
    }

    #[test]
    fn a_verified_list_revokes_exactly_its_ids() {
        let (key, keys) = site();
        let list = signed(&key, 3, &IDS).verify(&keys).unwrap();
        for id in &IDS {
            assert!(list.is_revoked(id), "{id:?} is on the list");
        }
        for id in [
            [0; 8],
            [0x11; 8],
            [0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x51],
            [0xff; 8],
        ] {
            assert!(!list.is_revoked(&id), "{id:?} is not on the list");
        }
        assert!(!RevocationList::EMPTY.is_revoked(&[0; 8]));
    }
}
