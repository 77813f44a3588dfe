//! Any byte string through the share-token decoder and the full verifier, with the site keys
//! of `tests/vectors/share-tokens.json` (test keys A, B and C) so that mutations of the seed
//! tokens reach the Ed25519 check and, for the genuine ones, every claims check after it.
//!
//! Invariants, each checked on every input:
//! - nothing panics (and, with `-Coverflow-checks`, nothing overflows);
//! - base62: the text decodes exactly when it is 125 alphanumerics spelling a value below
//!   2^744 (a fixed-width spelling compares as a number, so that is a byte comparison with the
//!   spelling of 2^744 - 1), and what decodes re-encodes to exactly the input: one spelling per
//!   token; any 93 bytes encode to a spelling that decodes back to them;
//! - parsing accepts exactly the decodable version-1 tokens, and the parsed fields re-encode
//!   (through `TokenFields::encode`, the issuing side) to exactly the input;
//! - a token whose kid the site does not list is `UnknownKey`; anything that gets past the
//!   signature check (verifies, or fails a later check) is byte for byte one of the tokens in
//!   the vectors: no mutation is accepted as genuine;
//! - for a genuine token, the verdict in every one of a grid of contexts (allowed scopes,
//!   revoked ids, clock around the token's own times) equals a separate model of checks 4–7 of
//!   `docs/share-links.md`, and the claims of an accepted token are the token's own fields.

#![no_main]

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use vitrine_verify::{
    base62, kid_of, Error, Kid, Scope, ShareId, TokenFields, UntrustedToken, LEEWAY_SECS,
    TOKEN_BYTES, TOKEN_CHARS,
};

const VECTORS: &str = include_str!("../../tests/vectors/share-tokens.json");

/// The allowed scopes, revoked ids and clock every input is verified with first.
const SCOPES: [Scope<'static>; 2] = [
    Scope::Dataset("cortex-l4"),
    Scope::Annotation("cortex-l4", "axon-7"),
];
const REVOKED: [ShareId; 1] = [[0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18]];
const NOW: u64 = 1_764_003_600;

/// Where the signature starts in the decoded token (after the 29-byte header).
const HEADER: usize = 29;

struct Fixture {
    /// The site's keys: test keys A, B and C, derived from their seeds as the vectors describe.
    keys: [(Kid, [u8; 32]); 3],
    /// Every `token` string of the vectors, as written in the JSON.
    vector_tokens: HashSet<Vec<u8>>,
    /// `base62::encode` of 2^744 - 1: the greatest spelling that decodes.
    max_spelling: [u8; TOKEN_CHARS],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = |first: u8| {
            let seed: [u8; 32] = core::array::from_fn(|i| first + i as u8);
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            (kid_of(&public), public)
        };
        let vector_tokens: HashSet<Vec<u8>> = VECTORS
            .split("\"token\": \"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().as_bytes().to_vec())
            .collect();
        let keys = [key(0x00), key(0x20), key(0x40)];
        // Without one accepted seed the claims checks would go unfuzzed, silently.
        assert!(
            vector_tokens.iter().any(|t| UntrustedToken::parse(t)
                .and_then(|t| t.verify(&keys, &SCOPES, &REVOKED, NOW))
                .is_ok()),
            "no token of the vectors verifies with the fuzzer's keys, scopes and clock"
        );
        Fixture {
            keys,
            vector_tokens,
            max_spelling: base62::encode(&[0xff; TOKEN_BYTES]),
        }
    })
}

thread_local! {
    /// Genuine tokens already run through the context grid (the verdicts are deterministic).
    static GRID_DONE: RefCell<HashSet<Vec<u8>>> = RefCell::new(HashSet::new());
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();

    // base62, both directions.
    let decoded = base62::decode(data);
    let canonical = data.len() == TOKEN_CHARS
        && data.iter().all(u8::is_ascii_alphanumeric)
        && data <= &fx.max_spelling[..];
    assert_eq!(decoded.is_ok(), canonical, "decode accepts the wrong texts");
    if let Ok(bytes) = &decoded {
        assert_eq!(
            &base62::encode(bytes)[..],
            data,
            "a second spelling decoded"
        );
    }
    if let Some(bytes) = data.first_chunk::<TOKEN_BYTES>() {
        let text = base62::encode(bytes);
        assert!(
            text <= fx.max_spelling,
            "encoded above the largest spelling"
        );
        assert_eq!(
            base62::decode(&text),
            Ok(*bytes),
            "encode does not round-trip"
        );
    }

    // Parsing, and the fields read back through the issuing side's encoder.
    let token = match UntrustedToken::parse(data) {
        Ok(token) => token,
        Err(e) => {
            assert_eq!(e, Error::Malformed);
            assert!(
                decoded.is_err() || decoded.unwrap()[0] != 1,
                "refused a v1 token"
            );
            return;
        }
    };
    let bytes = decoded.expect("parsed without decoding");
    let fields = TokenFields {
        kid: token.kid(),
        share_id: token.share_id(),
        scope: token.scope_digest(),
        issued: token.issued(),
        expires: token.expires().unwrap_or(0),
    };
    assert_ne!(token.expires(), Some(0));
    let signature: &[u8; 64] = bytes[HEADER..].try_into().unwrap();
    assert_eq!(
        &fields.encode(signature)[..],
        data,
        "fields do not re-encode"
    );

    // The full verifier.
    let verdict = token.verify(&fx.keys, &SCOPES, &REVOKED, NOW);
    if !fx.keys.iter().any(|(kid, _)| *kid == fields.kid) {
        assert_eq!(verdict, Err(Error::UnknownKey));
        return;
    }
    match verdict {
        Err(Error::BadSignature) => return,
        Err(Error::Malformed | Error::UnknownKey) => panic!("{verdict:?} after parsing"),
        _ => {}
    }
    assert!(
        fx.vector_tokens.contains(data),
        "a token that is not in the vectors passed the signature check: {verdict:?}"
    );
    check(&token, &fields, &SCOPES, &REVOKED, NOW);
    if GRID_DONE.with(|done| done.borrow_mut().insert(data.to_vec())) {
        grid(&token, &fields);
    }
});

/// Checks a genuine token in contexts around its own scope, share id and times.
fn grid(token: &UntrustedToken, fields: &TokenFields) {
    let scope_sets: [&[Scope<'static>]; 6] = [
        &[],
        &[Scope::Dataset("cortex-l4")],
        &[
            Scope::Annotation("cortex-l4", "axon-7"),
            Scope::Dataset("cortex-l4"),
        ],
        &[
            Scope::Dataset("retina"),
            Scope::Annotation("cortex-l4", "axon-8"),
        ],
        // A layer page of a private dataset, and of a public one (its own scope alone).
        &[
            Scope::Dataset("cortex-l4"),
            Scope::Layer("cortex-l4", "cells"),
        ],
        &[
            Scope::Layer("cortex-l4", "cells"),
            Scope::Annotation("cortex-l4", "cells"),
        ],
    ];
    let revoked_sets: [&[ShareId]; 3] = [&[], &[fields.share_id], &[REVOKED[0], fields.share_id]];
    let issued = u64::from(fields.issued);
    let expires = u64::from(fields.expires);
    let nows = [
        0,
        issued.saturating_sub(LEEWAY_SECS + 1),
        issued.saturating_sub(LEEWAY_SECS),
        issued,
        expires.saturating_sub(1),
        expires,
        expires + 1,
        u64::from(u32::MAX),
        u64::MAX,
    ];
    for scopes in scope_sets {
        for revoked in revoked_sets {
            for now in nows {
                check(token, fields, scopes, revoked, now);
            }
        }
    }
}

/// Verifies a token known to carry a good signature and compares with a model of checks 4–7.
fn check(
    token: &UntrustedToken,
    fields: &TokenFields,
    scopes: &[Scope<'static>],
    revoked: &[ShareId],
    now: u64,
) {
    let keys = &fixture().keys;
    let model = scopes
        .iter()
        .find(|s| s.digest() == fields.scope)
        .ok_or(Error::WrongScope)
        .and_then(|scope| {
            if revoked.contains(&fields.share_id) {
                Err(Error::Revoked)
            } else if u128::from(now) + u128::from(LEEWAY_SECS) < u128::from(fields.issued) {
                Err(Error::NotYetValid)
            } else if fields.expires != 0 && u128::from(now) >= u128::from(fields.expires) {
                Err(Error::Expired)
            } else {
                Ok(*scope)
            }
        });
    let verdict = token.verify(keys, scopes, revoked, now);
    match (verdict, model) {
        (Ok(claims), Ok(scope)) => {
            assert_eq!(claims.kid(), fields.kid);
            assert_eq!(claims.share_id(), fields.share_id);
            assert_eq!(claims.scope(), scope);
            assert_eq!(claims.issued(), fields.issued);
            assert_eq!(claims.expires(), token.expires());
        }
        (verdict, model) => assert_eq!(
            verdict.map(|c| c.scope()),
            model,
            "verdict differs from the model (now {now}, {} scopes, {} revoked)",
            scopes.len(),
            revoked.len()
        ),
    }
}
