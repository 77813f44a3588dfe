//! The share token: 93 bytes (version, key id, share id, scope digest, issued, expires,
//! signature) written as 125 base62 characters.
//!
//! Parsing yields an [`UntrustedToken`]; only [`UntrustedToken::verify`] yields [`Claims`], so
//! code holding claims knows every check has passed.

use crate::signature::{verify_signature, KeySet, Kid};
use crate::{base62, Error, Scope};

/// The only token version this crate reads or writes.
pub const VERSION: u8 = 1;

/// A token's size in bytes.
pub const TOKEN_BYTES: usize = base62::BYTES;

/// A token's size in characters.
pub const TOKEN_CHARS: usize = base62::CHARS;

/// The domain-separation prefix of the signed message: `vitrine/share/v1` and a NUL byte.
///
/// No other vitrine signature starts with it, so no other signature can be replayed as a token.
pub const TOKEN_CONTEXT: &[u8; 17] = b"vitrine/share/v1\0";

/// The signed message's size: the context and the token's first 29 bytes.
pub const SIGNING_MESSAGE_LEN: usize = TOKEN_CONTEXT.len() + HEADER;

/// Clock leeway in seconds, applied to the not-before check only.
pub const LEEWAY_SECS: u64 = 60;

/// A share id: 8 random bytes, written as 16 lowercase hex digits.
pub type ShareId = [u8; 8];

/// Bytes before the signature: version, kid, share id, scope, issued, expires.
const HEADER: usize = 29;

/// The share ids a verifier must refuse.
///
/// A trait so the gate can use a set and the CLI a slice; both answer the same question.
pub trait RevokedSet {
    /// Whether this share has been revoked.
    fn is_revoked(&self, share_id: &ShareId) -> bool;
}

impl RevokedSet for [ShareId] {
    fn is_revoked(&self, share_id: &ShareId) -> bool {
        self.contains(share_id)
    }
}

impl<const N: usize> RevokedSet for [ShareId; N] {
    fn is_revoked(&self, share_id: &ShareId) -> bool {
        self.contains(share_id)
    }
}

impl<R: RevokedSet + ?Sized> RevokedSet for &R {
    fn is_revoked(&self, share_id: &ShareId) -> bool {
        (**self).is_revoked(share_id)
    }
}

/// The fields a signer chooses; the issuing side builds a token from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFields {
    /// Key id of the signing key.
    pub kid: Kid,
    /// The share's random id.
    pub share_id: ShareId,
    /// Digest of the scope string (see [`Scope::digest`]).
    pub scope: [u8; 8],
    /// Issue time, Unix seconds; also the not-before time.
    pub issued: u32,
    /// Expiry, Unix seconds; `0` means never.
    pub expires: u32,
}

impl TokenFields {
    /// The token's first 29 bytes, the part the signature covers.
    fn header(&self) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[0] = VERSION;
        h[1..5].copy_from_slice(&self.kid);
        h[5..13].copy_from_slice(&self.share_id);
        h[13..21].copy_from_slice(&self.scope);
        h[21..25].copy_from_slice(&self.issued.to_be_bytes());
        h[25..29].copy_from_slice(&self.expires.to_be_bytes());
        h
    }

    /// The 46 bytes to sign with Ed25519: [`TOKEN_CONTEXT`] then the header.
    pub fn signing_message(&self) -> [u8; SIGNING_MESSAGE_LEN] {
        let mut m = [0u8; SIGNING_MESSAGE_LEN];
        m[..TOKEN_CONTEXT.len()].copy_from_slice(TOKEN_CONTEXT);
        m[TOKEN_CONTEXT.len()..].copy_from_slice(&self.header());
        m
    }

    /// The token text (ASCII, 125 characters) for these fields and their signature.
    pub fn encode(&self, signature: &[u8; 64]) -> [u8; TOKEN_CHARS] {
        let mut bytes = [0u8; TOKEN_BYTES];
        bytes[..HEADER].copy_from_slice(&self.header());
        bytes[HEADER..].copy_from_slice(signature);
        base62::encode(&bytes)
    }
}

/// A decoded token whose fields are **untrusted** until [`verify`](Self::verify) succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UntrustedToken {
    bytes: [u8; TOKEN_BYTES],
}

impl UntrustedToken {
    /// Decodes token text: exactly 125 canonical base62 characters of a version-1 token.
    pub fn parse(text: impl AsRef<[u8]>) -> Result<Self, Error> {
        let bytes = base62::decode(text.as_ref())?;
        if bytes[0] != VERSION {
            return Err(Error::Malformed);
        }
        Ok(UntrustedToken { bytes })
    }

    /// The claimed key id (**untrusted**).
    pub fn kid(&self) -> Kid {
        self.array(1)
    }

    /// The claimed share id (**untrusted**); lets `vitrine verify` name a refused share.
    pub fn share_id(&self) -> ShareId {
        self.array(5)
    }

    /// The claimed scope digest (**untrusted**).
    pub fn scope_digest(&self) -> [u8; 8] {
        self.array(13)
    }

    /// The claimed issue time (**untrusted**).
    pub fn issued(&self) -> u32 {
        u32::from_be_bytes(self.array(21))
    }

    /// The claimed expiry (**untrusted**); `None` for a token that never expires.
    pub fn expires(&self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array(25))).filter(|&e| e != 0)
    }

    /// Runs checks 2–7 of `docs/share-links.md` in order and returns the trusted claims.
    ///
    /// `scopes` are those the request may be opened with; the claims name the one that matched.
    /// `now` is Unix seconds. The first failing check decides the error.
    pub fn verify<'s, K, R>(
        &self,
        keys: &K,
        scopes: &[Scope<'s>],
        revoked: &R,
        now: u64,
    ) -> Result<Claims<'s>, Error>
    where
        K: KeySet + ?Sized,
        R: RevokedSet + ?Sized,
    {
        let kid = self.kid();
        let key = keys.public_key(&kid).ok_or(Error::UnknownKey)?;
        let fields = self.fields();
        verify_signature(key, &fields.signing_message(), &self.bytes[HEADER..])?;
        let scope = *scopes
            .iter()
            .find(|s| s.digest() == fields.scope)
            .ok_or(Error::WrongScope)?;
        if revoked.is_revoked(&fields.share_id) {
            return Err(Error::Revoked);
        }
        if now.saturating_add(LEEWAY_SECS) < u64::from(fields.issued) {
            return Err(Error::NotYetValid);
        }
        if fields.expires != 0 && now >= u64::from(fields.expires) {
            return Err(Error::Expired);
        }
        Ok(Claims {
            kid,
            share_id: fields.share_id,
            scope,
            issued: fields.issued,
            expires: self.expires(),
        })
    }

    fn fields(&self) -> TokenFields {
        TokenFields {
            kid: self.kid(),
            share_id: self.share_id(),
            scope: self.scope_digest(),
            issued: self.issued(),
            expires: u32::from_be_bytes(self.array(25)),
        }
    }

    fn array<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[at..at + N]);
        out
    }
}

/// What a verified token grants; only [`UntrustedToken::verify`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims<'s> {
    kid: Kid,
    share_id: ShareId,
    scope: Scope<'s>,
    issued: u32,
    expires: Option<u32>,
}

impl<'s> Claims<'s> {
    /// The key that signed the token.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// The share this token belongs to.
    pub fn share_id(&self) -> ShareId {
        self.share_id
    }

    /// The allowed scope the token matched (which decides the gate's cookie name).
    pub fn scope(&self) -> Scope<'s> {
        self.scope
    }

    /// Issue time, Unix seconds.
    pub fn issued(&self) -> u32 {
        self.issued
    }

    /// Expiry, Unix seconds; `None` for a token that never expires.
    pub fn expires(&self) -> Option<u32> {
        self.expires
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;
    use crate::{kid_of, revocations_message, RevocationList, Signer, UntrustedRevocationList};

    /// Three revoked ids; tokens carry the first, the middle, the last, or one of the gaps.
    const REVOKED: [ShareId; 3] = [[0x10; 8], [0x50; 8], [0x90; 8]];
    const ABSENT: [ShareId; 4] = [[0; 8], [0x30; 8], [0x70; 8], [0xff; 8]];
    const NOW: u64 = 1_764_000_000;
    const SCOPES: [Scope<'static>; 1] = [Scope::Dataset("cortex")];

    fn token(key: &SigningKey, share_id: ShareId) -> UntrustedToken {
        let fields = TokenFields {
            kid: kid_of(&key.verifying_key().to_bytes()),
            share_id,
            scope: SCOPES[0].digest(),
            issued: NOW as u32,
            expires: 0,
        };
        UntrustedToken::parse(fields.encode(&key.sign(&fields.signing_message()).to_bytes()))
            .unwrap()
    }

    /// The verdict for each of `REVOKED` then each of `ABSENT` against one revoked set.
    fn verdicts<R: RevokedSet + ?Sized>(key: &SigningKey, revoked: &R) -> [bool; 7] {
        let public = key.verifying_key().to_bytes();
        let keys = [(kid_of(&public), public)];
        let mut out = [false; 7];
        for (slot, id) in out.iter_mut().zip(REVOKED.iter().chain(&ABSENT)) {
            *slot = match token(key, *id).verify(&keys, &SCOPES, revoked, NOW) {
                Ok(_) => false,
                Err(Error::Revoked) => true,
                Err(e) => panic!("share {id:?}: unexpected {e:?}"),
            };
        }
        out
    }

    #[test]
    fn every_revoked_set_refuses_exactly_its_ids() {
        let key = SigningKey::from_bytes(&[11; 32]);
        let kid = kid_of(&key.verifying_key().to_bytes());
        let signature = key
            .sign(&revocations_message(&kid, 2, NOW, &REVOKED))
            .to_bytes();
        let public = key.verifying_key().to_bytes();
        let list: RevocationList<'_> = UntrustedRevocationList {
            serial: 2,
            issued: NOW,
            revoked: &REVOKED,
            signer: Some(Signer { kid, signature }),
        }
        .verify(&[(kid, public)])
        .unwrap();
        let want = [true, true, true, false, false, false, false];
        let slice: &[ShareId] = &REVOKED;
        assert_eq!(verdicts(&key, &list), want, "RevocationList");
        assert_eq!(verdicts(&key, &&list), want, "&RevocationList");
        assert_eq!(verdicts(&key, slice), want, "[ShareId]");
        assert_eq!(verdicts(&key, &slice), want, "&[ShareId]");
        assert_eq!(verdicts(&key, &REVOKED), want, "[ShareId; 3]");
        assert_eq!(verdicts(&key, &&REVOKED), want, "&[ShareId; 3]");
        let none: [ShareId; 0] = [];
        assert_eq!(verdicts(&key, &none), [false; 7], "[ShareId; 0]");
        assert_eq!(
            verdicts(&key, &RevocationList::EMPTY),
            [false; 7],
            "the empty list"
        );
    }
}
