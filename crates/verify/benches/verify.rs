//! Verify time per token, with a plain `Instant` harness (no extra dependency):
//! `cargo bench -p vitrine-verify`. Prints one line per measurement.

use std::hint::black_box;
use std::time::Instant;

use ed25519_dalek::{Signer, SigningKey};
use vitrine_verify::{base62, kid_of, Scope, TokenFields, UntrustedToken};

/// Runs `f` `n` times after a warm-up and prints the mean time per call.
fn measure(name: &str, n: u32, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    let per = start.elapsed().as_secs_f64() / f64::from(n);
    println!("{name:<44} {:>9.2} µs/op  ({n} runs)", per * 1e6);
}

fn main() {
    let key = SigningKey::from_bytes(&[42; 32]);
    let public = key.verifying_key().to_bytes();
    let keys = [(kid_of(&public), public), ([0; 4], [0; 32])];
    let fields = TokenFields {
        kid: kid_of(&public),
        share_id: [5; 8],
        scope: Scope::Dataset("cortex-l4").digest(),
        issued: 1_764_000_000,
        expires: 0,
    };
    let text = fields.encode(&key.sign(&fields.signing_message()).to_bytes());
    let revoked: Vec<[u8; 8]> = (0u64..1000).map(|i| (i * 7919).to_be_bytes()).collect();
    let scopes = [
        Scope::Dataset("cortex-l4"),
        Scope::Annotation("cortex-l4", "axon-7"),
    ];

    measure("base62 decode (125 chars -> 93 bytes)", 200_000, || {
        black_box(base62::decode(black_box(&text)).unwrap());
    });
    measure("base62 encode (93 bytes -> 125 chars)", 200_000, || {
        black_box(base62::encode(black_box(&[0xa5; 93])));
    });
    measure("scope digest (SHA-512)", 200_000, || {
        black_box(black_box(Scope::Annotation("cortex-l4", "axon-7")).digest());
    });
    measure("parse + verify, valid token, 1000 revoked", 20_000, || {
        let t = UntrustedToken::parse(black_box(&text)).unwrap();
        black_box(
            t.verify(&keys, &scopes, revoked.as_slice(), 1_764_000_100)
                .unwrap(),
        );
    });
    let mut forged = base62::decode(&text).unwrap();
    forged[40] ^= 1;
    let forged = base62::encode(&forged);
    measure("parse + verify, forged signature", 20_000, || {
        let t = UntrustedToken::parse(black_box(&forged)).unwrap();
        black_box(
            t.verify(&keys, &scopes, revoked.as_slice(), 1_764_000_100)
                .unwrap_err(),
        );
    });
    measure("parse, malformed (bad character)", 200_000, || {
        let mut t = text;
        t[60] = b'-';
        black_box(UntrustedToken::parse(black_box(&t)).unwrap_err());
    });
}
