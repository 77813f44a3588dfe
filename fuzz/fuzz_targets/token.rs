//! Any byte string through the token decoder and the verifier: nothing panics, every decoded
//! token re-encodes to exactly its input (one spelling per token), and only the one token
//! issued here ever verifies.

#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use vitrine_verify::{base62, kid_of, Scope, TokenFields, UntrustedToken};

const NOW: u64 = 1_764_000_000;

type Issued = ([u8; 125], [([u8; 4], [u8; 32]); 1]);

/// The one issued token and the site's keys, signed once (signing per input would dominate).
fn issued() -> &'static Issued {
    static ISSUED: std::sync::OnceLock<Issued> = std::sync::OnceLock::new();
    ISSUED.get_or_init(sign_one)
}

fn sign_one() -> Issued {
    let key = SigningKey::from_bytes(&[42; 32]);
    let public = key.verifying_key().to_bytes();
    let fields = TokenFields {
        kid: kid_of(&public),
        share_id: [5; 8],
        scope: Scope::Dataset("cortex").digest(),
        issued: NOW as u32,
        expires: 0,
    };
    (
        fields.encode(&key.sign(&fields.signing_message()).to_bytes()),
        [(kid_of(&public), public)],
    )
}

fuzz_target!(|data: &[u8]| {
    let (token, keys) = issued();
    if let Ok(bytes) = base62::decode(data) {
        assert_eq!(
            &base62::encode(&bytes)[..],
            data,
            "a second spelling decoded"
        );
    }
    let scopes = [Scope::Dataset("cortex"), Scope::Annotation("cortex", "a")];
    let revoked: [[u8; 8]; 0] = [];
    let ok = UntrustedToken::parse(data)
        .and_then(|t| t.verify(keys, &scopes, &revoked, NOW))
        .is_ok();
    assert_eq!(
        ok,
        data == token.as_slice(),
        "verified a token that was not issued"
    );
});
