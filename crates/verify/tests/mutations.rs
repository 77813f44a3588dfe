//! The one rule, as a property: a token that was not issued never verifies, and no input makes
//! the verifier panic. Mutations are flips, inserts, deletes, swaps and truncations of a valid
//! token's text, and bit flips of its decoded bytes (which re-encode canonically, so they reach
//! the signature check instead of stopping at the decoder).

use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;
use vitrine_verify::{base62, kid_of, Scope, TokenFields, UntrustedToken};

const NOW: u64 = 1_764_000_000;

/// The site's one key, as `(kid, public key)`.
type Keys = [([u8; 4], [u8; 32]); 1];

fn issued() -> (String, Keys) {
    let key = SigningKey::from_bytes(&[42; 32]);
    let public = key.verifying_key().to_bytes();
    let fields = TokenFields {
        kid: kid_of(&public),
        share_id: [5; 8],
        scope: Scope::Dataset("cortex").digest(),
        issued: NOW as u32,
        expires: 0,
    };
    let text = fields.encode(&key.sign(&fields.signing_message()).to_bytes());
    (
        String::from_utf8(text.to_vec()).unwrap(),
        [(kid_of(&public), public)],
    )
}

fn verifies(text: &[u8], keys: &[([u8; 4], [u8; 32])]) -> bool {
    let scopes = [Scope::Dataset("cortex"), Scope::Annotation("cortex", "a")];
    let revoked: [[u8; 8]; 0] = [];
    UntrustedToken::parse(text)
        .and_then(|t| t.verify(keys, &scopes, &revoked, NOW))
        .is_ok()
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Swap(usize, usize),
    Truncate(usize),
    FlipBit(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..125usize, any::<u8>()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        (0..126usize, any::<u8>()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        (0..125usize).prop_map(Mutation::Delete),
        (0..125usize, 0..125usize).prop_map(|(i, j)| Mutation::Swap(i, j)),
        (0..125usize).prop_map(Mutation::Truncate),
        (0..93usize, 0..8u8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
    ]
}

fn apply(text: &[u8], m: &Mutation) -> Vec<u8> {
    let mut t = text.to_vec();
    match *m {
        Mutation::Replace(i, c) if !t.is_empty() => {
            let n = t.len();
            t[i % n] = c;
        }
        Mutation::Insert(i, c) => {
            let at = i.min(t.len());
            t.insert(at, c);
        }
        Mutation::Delete(i) if !t.is_empty() => {
            t.remove(i % t.len());
        }
        Mutation::Swap(i, j) if !t.is_empty() => {
            let n = t.len();
            t.swap(i % n, j % n);
        }
        Mutation::Truncate(n) => t.truncate(n),
        // A bit flip of the decoded bytes, where the text still decodes.
        Mutation::FlipBit(i, b) => {
            if let Ok(mut bytes) = base62::decode(&t) {
                bytes[i] ^= 1 << b;
                t = base62::encode(&bytes).to_vec();
            }
        }
        Mutation::Replace(..) | Mutation::Delete(_) | Mutation::Swap(..) => {}
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn no_mutation_of_a_valid_token_verifies(ms in proptest::collection::vec(mutation(), 1..4)) {
        let (token, keys) = issued();
        prop_assert!(verifies(token.as_bytes(), &keys), "the unmutated token must verify");
        let text = ms.iter().fold(token.as_bytes().to_vec(), |t, m| apply(&t, m));
        prop_assume!(text != token.as_bytes());
        prop_assert!(!verifies(&text, &keys), "mutated token verified: {:?}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (_, keys) = issued();
        prop_assert!(!verifies(&bytes, &keys));
    }

    #[test]
    fn arbitrary_alphabet_strings_never_verify(text in "[0-9A-Za-z]{125}") {
        let (_, keys) = issued();
        prop_assert!(!verifies(text.as_bytes(), &keys));
    }
}
