//! Key ids, key lookup and the one Ed25519 check every signature in vitrine goes through.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

use crate::Error;

/// A key id: the first 4 bytes of SHA-512 of the public key, written as 8 lowercase hex digits.
pub type Kid = [u8; 4];

/// The key id of a public key.
///
/// Derived, never chosen, so `site.yaml` cannot pair a key id with the wrong key unnoticed.
pub fn kid_of(public_key: &[u8; 32]) -> Kid {
    let hash = Sha512::digest(public_key);
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The site's public keys, looked up by key id.
///
/// A trait rather than a type so the gate can keep keys in whatever map it likes; a slice of
/// `(kid, public key)` pairs works as it is.
pub trait KeySet {
    /// The public key with this key id, if the site lists one.
    fn public_key(&self, kid: &Kid) -> Option<&[u8; 32]>;
}

impl KeySet for [(Kid, [u8; 32])] {
    fn public_key(&self, kid: &Kid) -> Option<&[u8; 32]> {
        self.iter().find(|(k, _)| k == kid).map(|(_, key)| key)
    }
}

impl<const N: usize> KeySet for [(Kid, [u8; 32]); N] {
    fn public_key(&self, kid: &Kid) -> Option<&[u8; 32]> {
        self.as_slice().public_key(kid)
    }
}

impl<K: KeySet + ?Sized> KeySet for &K {
    fn public_key(&self, kid: &Kid) -> Option<&[u8; 32]> {
        (**self).public_key(kid)
    }
}

/// Checks an Ed25519 signature with ed25519-dalek's `verify_strict` rules.
///
/// Strict means: a 64-byte signature, canonical `S` below the group order, and neither the key
/// nor `R` of small order; anything else is [`Error::BadSignature`]. Lengths are taken as
/// slices so a wrong-length signature from the outside is refused here, not by a panic.
pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
    let key: &[u8; 32] = public_key.try_into().map_err(|_| Error::BadSignature)?;
    let key = VerifyingKey::from_bytes(key).map_err(|_| Error::BadSignature)?;
    let sig = Signature::from_slice(signature).map_err(|_| Error::BadSignature)?;
    key.verify_strict(message, &sig)
        .map_err(|_| Error::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<K: KeySet + ?Sized>(keys: &K, kid: &Kid) -> Option<[u8; 32]> {
        keys.public_key(kid).copied()
    }

    #[test]
    fn every_key_set_finds_exactly_the_listed_keys() {
        let (a, b) = ([1; 32], [2; 32]);
        let keys = [(kid_of(&a), a), (kid_of(&b), b)];
        let slice: &[(Kid, [u8; 32])] = &keys;
        let absent = kid_of(&[3; 32]);
        for (what, found) in [
            (
                "array",
                [lookup(&keys, &kid_of(&b)), lookup(&keys, &absent)],
            ),
            (
                "&array",
                [lookup(&&keys, &kid_of(&b)), lookup(&&keys, &absent)],
            ),
            (
                "slice",
                [lookup(slice, &kid_of(&b)), lookup(slice, &absent)],
            ),
            (
                "&slice",
                [lookup(&slice, &kid_of(&b)), lookup(&slice, &absent)],
            ),
        ] {
            assert_eq!(found, [Some(b), None], "{what}");
        }
    }
}
