//! The one definition of a valid vitrine share link, and of a valid revocation list.
//!
//! `vitrine share` signs with the same message builders, `vitrine verify` and `vitrine serve`
//! check with [`UntrustedToken::verify`], and the edge modules mirror this crate line by line;
//! `docs/share-links.md` is the normative description and `tests/vectors/share-tokens.json` the
//! shared vectors. The crate is `no_std` and never allocates, so it also builds for
//! `wasm32-unknown-unknown`.
//!
//! ```
//! use ed25519_dalek::{Signer, SigningKey};
//! use vitrine_verify::{kid_of, Error, Scope, TokenFields, UntrustedToken};
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let public = key.verifying_key().to_bytes();
//! let fields = TokenFields {
//!     kid: kid_of(&public),
//!     share_id: [1; 8],
//!     scope: Scope::Dataset("cortex").digest(),
//!     issued: 1_764_000_000,
//!     expires: 0, // never
//! };
//! let signature = key.sign(&fields.signing_message()).to_bytes();
//! let text = fields.encode(&signature);
//!
//! let keys = [(kid_of(&public), public)];
//! let revoked: [[u8; 8]; 0] = [];
//! let token = UntrustedToken::parse(text)?;
//! let claims = token.verify(&keys, &[Scope::Dataset("cortex")], &revoked, 1_764_000_100)?;
//! assert_eq!(claims.share_id(), [1; 8]);
//! assert_eq!(
//!     token.verify(&keys, &[Scope::Dataset("retina")], &revoked, 1_764_000_100),
//!     Err(Error::WrongScope)
//! );
//! # Ok::<(), Error>(())
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod base62;
mod error;
mod revocations;
mod scope;
mod signature;
mod token;

pub use error::Error;
pub use revocations::{
    revocations_message, RevocationList, Signer, UntrustedRevocationList, REVOCATIONS_CONTEXT,
    REVOCATIONS_MESSAGE_LEN,
};
pub use scope::{scope_digest, Scope};
pub use signature::{kid_of, verify_signature, KeySet, Kid};
pub use token::{
    Claims, RevokedSet, ShareId, TokenFields, UntrustedToken, LEEWAY_SECS, SIGNING_MESSAGE_LEN,
    TOKEN_BYTES, TOKEN_CHARS, TOKEN_CONTEXT, VERSION,
};
