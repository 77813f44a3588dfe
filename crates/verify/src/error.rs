//! The verifier's one flat error type.

use core::fmt;

/// Why a token or revocation list was refused; each maps to one gate answer.
///
/// The variants follow the order of the checks in `docs/share-links.md`, so the first failing
/// check decides the error and every verifier in the project reports the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// Not 125 base62 characters, a non-canonical value, an unknown version, or a malformed list.
    Malformed,
    /// The key id names no key of the site (for example a key removed after a rotation).
    UnknownKey,
    /// The Ed25519 signature does not verify under `verify_strict` rules.
    BadSignature,
    /// A genuine token, but for another dataset or annotation than the one requested.
    WrongScope,
    /// The expiry time has passed (no leeway).
    Expired,
    /// Issued more than 60 seconds in the future of the verifier's clock.
    NotYetValid,
    /// The share id is on the revocation list.
    Revoked,
}

impl Error {
    /// Every error, in the order of the checks.
    pub const ALL: [Error; 7] = [
        Error::Malformed,
        Error::UnknownKey,
        Error::BadSignature,
        Error::WrongScope,
        Error::Expired,
        Error::NotYetValid,
        Error::Revoked,
    ];

    /// The gate's `X-Vitrine-Reason` value and `vitrine verify`'s verdict word for this error.
    ///
    /// Forgeries and garbage share one reason, `invalid`, so a refusal tells a prober nothing.
    pub fn reason(self) -> &'static str {
        match self {
            Error::Malformed | Error::BadSignature => "invalid",
            Error::UnknownKey => "unknown-key",
            Error::WrongScope => "wrong-scope",
            Error::Expired => "expired",
            Error::NotYetValid => "not-yet-valid",
            Error::Revoked => "revoked",
        }
    }

    /// The HTTP status a gate answers with: 410 for a link that was good once, 403 otherwise.
    pub fn http_status(self) -> u16 {
        match self {
            Error::Expired | Error::Revoked => 410,
            _ => 403,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Malformed => "the link's token is malformed (damaged or incomplete)",
            Error::UnknownKey => "the link was signed with a key this site does not list",
            Error::BadSignature => "the link's signature does not verify",
            Error::WrongScope => "the link is for another dataset or annotation",
            Error::Expired => "the link has expired",
            Error::NotYetValid => "the link is not valid yet (issued in the future)",
            Error::Revoked => "the link has been revoked",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::Error;

    /// The gates' table in docs/share-links.md ("Answers"): reason and status of each error.
    #[test]
    fn each_error_answers_as_the_table_says() {
        let table = [
            (Error::Malformed, "invalid", 403),
            (Error::UnknownKey, "unknown-key", 403),
            (Error::BadSignature, "invalid", 403),
            (Error::WrongScope, "wrong-scope", 403),
            (Error::Expired, "expired", 410),
            (Error::NotYetValid, "not-yet-valid", 403),
            (Error::Revoked, "revoked", 410),
        ];
        let mut messages: Vec<String> = Vec::new();
        for (error, reason, status) in table {
            assert_eq!(
                (error.reason(), error.http_status()),
                (reason, status),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.starts_with("the link"), "{error:?}: `{message}`");
            assert!(!messages.contains(&message), "{error:?} shares its message");
            messages.push(message);
        }
    }
}
