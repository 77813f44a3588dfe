//! The project's own token and revocation-list vectors, `tests/vectors/share-tokens.json`:
//! every case verifies exactly as the file says, and the file is what the generator below
//! writes (refresh it with `VITRINE_REGENERATE_VECTORS=1 cargo test -p vitrine-verify --test
//! share_tokens`). The edge modules' tests read the same file.

use std::path::PathBuf;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::traits::IsIdentity;
use curve25519_dalek::Scalar;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha512};
use vitrine_verify::{
    base62, kid_of, revocations_message, verify_signature, Error, Scope, Signer as ListSigner,
    TokenFields, UntrustedRevocationList, UntrustedToken, TOKEN_CONTEXT,
};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/share-tokens.json")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(s: &str, what: &str) -> [u8; N] {
    assert_eq!(s.len(), 2 * N, "{what}: `{s}` is not {N} bytes of hex");
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    out
}

fn error_name(e: Error) -> &'static str {
    match e {
        Error::Malformed => "Malformed",
        Error::UnknownKey => "UnknownKey",
        Error::BadSignature => "BadSignature",
        Error::WrongScope => "WrongScope",
        Error::Expired => "Expired",
        Error::NotYetValid => "NotYetValid",
        Error::Revoked => "Revoked",
    }
}

// ---------------------------------------------------------------------------------------------
// Checking the file.

fn keys_of(v: &Value, name: &str) -> Vec<([u8; 4], [u8; 32])> {
    v["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: `keys` is not a list"))
        .iter()
        .map(|k| {
            (
                unhex(k["kid"].as_str().unwrap(), name),
                unhex(k["public_key"].as_str().unwrap(), name),
            )
        })
        .collect()
}

fn outcome_of_token(v: &Value, name: &str) -> Value {
    let keys = keys_of(v, name);
    let scope_texts: Vec<&str> = v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let scopes: Vec<Scope> = scope_texts
        .iter()
        .map(|s| Scope::parse(s).unwrap_or_else(|| panic!("{name}: bad scope `{s}`")))
        .collect();
    let revoked: Vec<[u8; 8]> = v["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| unhex(r.as_str().unwrap(), name))
        .collect();
    let now = v["now"].as_u64().unwrap();
    let result = UntrustedToken::parse(v["token"].as_str().unwrap())
        .and_then(|t| t.verify(keys.as_slice(), &scopes, revoked.as_slice(), now));
    match result {
        Ok(claims) => json!({
            "result": "valid",
            "claims": {
                "kid": hex(&claims.kid()),
                "share_id": hex(&claims.share_id()),
                "scope": claims.scope().to_string(),
                "issued": claims.issued(),
                "expires": claims.expires(),
            }
        }),
        Err(e) => json!({ "result": e.reason(), "error": error_name(e) }),
    }
}

/// The largest integer every JSON reader holds exactly (2^53 - 1): the bound on `serial`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A revocation list's fields once read; the signature is not checked yet.
struct ListFields {
    serial: u64,
    issued: u64,
    revoked: Vec<[u8; 8]>,
    signer: Option<ListSigner>,
}

/// Exactly `2 * N` lowercase hex digits, as docs/share-links.md spells kids, ids and signatures.
fn lower_hex<const N: usize>(v: &Value) -> Result<[u8; N], Error> {
    let s = v.as_str().ok_or(Error::Malformed)?;
    let lower = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if s.len() != 2 * N || !s.bytes().all(lower) {
        return Err(Error::Malformed);
    }
    Ok(unhex(s, "hex"))
}

/// A JSON number read by its value, as every JSON reader can (`3.0` is 3), that is a whole
/// number from 0 to `max`.
fn whole_number(v: &Value, max: u64) -> Result<u64, Error> {
    let as_float = || {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=max as f64).contains(f))
            .map(|f| f as u64)
    };
    v.as_u64()
        .or_else(as_float)
        .filter(|&n| n <= max)
        .ok_or(Error::Malformed)
}

/// `share/revocations.json` read as docs/share-links.md requires of every verifier: the seven
/// fields and no other, lowercase hex, whole numbers with `serial` up to 2^53 - 1 and `issued` up to
/// 2^32 - 1, and
/// `issued_at` the RFC 3339 spelling of `issued` (null exactly when the list is unsigned).
/// Anything else is [`Error::Malformed`], before any signature is looked at.
fn read_list(list: &Value) -> Result<ListFields, Error> {
    const FIELDS: [&str; 7] = [
        "format",
        "serial",
        "issued",
        "issued_at",
        "kid",
        "revoked",
        "signature",
    ];
    let obj = list.as_object().ok_or(Error::Malformed)?;
    if obj.len() != FIELDS.len() || FIELDS.iter().any(|f| !obj.contains_key(*f)) {
        return Err(Error::Malformed);
    }
    if obj["format"] != "vitrine-revocations-v1" {
        return Err(Error::Malformed);
    }
    let serial = whole_number(&obj["serial"], MAX_SAFE_INTEGER)?;
    let issued = whole_number(&obj["issued"], u64::from(u32::MAX))?;
    let revoked = obj["revoked"]
        .as_array()
        .ok_or(Error::Malformed)?
        .iter()
        .map(lower_hex::<8>)
        .collect::<Result<Vec<_>, _>>()?;
    let signer = match (&obj["kid"], &obj["signature"]) {
        (Value::Null, Value::Null) => None,
        (kid, signature) => Some(ListSigner {
            kid: lower_hex(kid)?,
            signature: lower_hex(signature)?,
        }),
    };
    let issued_at = signer.as_ref().map(|_| {
        let at = chrono::DateTime::from_timestamp(issued as i64, 0).expect("a u32 time");
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    });
    if obj["issued_at"] != json!(issued_at) {
        return Err(Error::Malformed);
    }
    Ok(ListFields {
        serial,
        issued,
        revoked,
        signer,
    })
}

fn outcome_of_list(v: &Value, name: &str) -> Value {
    let keys = keys_of(v, name);
    let verified = read_list(&v["list"]).and_then(|list| {
        UntrustedRevocationList {
            serial: list.serial,
            issued: list.issued,
            revoked: &list.revoked,
            signer: list.signer,
        }
        .verify(keys.as_slice())
        .map(|l| l.serial())
    });
    match verified {
        Ok(serial) => json!({ "result": "valid", "serial": serial }),
        Err(e) => json!({ "result": e.reason(), "error": error_name(e) }),
    }
}

fn expected_of(v: &Value) -> Value {
    let mut e = v["expected"].clone();
    if e["result"] == "valid" {
        e.as_object_mut().unwrap().remove("error");
    }
    e
}

#[test]
fn every_share_token_vector_verifies_as_recorded() {
    let path = vectors_path();
    // While regenerating, check the fresh text: the other test may not have written it yet.
    let text = match std::env::var_os("VITRINE_REGENERATE_VECTORS") {
        Some(_) => generate(),
        None => {
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }
    };
    let file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut failures = Vec::new();
    let tokens = file["tokens"].as_array().unwrap();
    let lists = file["revocation_lists"].as_array().unwrap();
    for v in tokens {
        let name = v["name"].as_str().unwrap();
        let got = outcome_of_token(v, name);
        if got != expected_of(v) {
            failures.push(format!(
                "token vector `{name}`: expected {}, got {got}",
                v["expected"]
            ));
        }
    }
    for v in lists {
        let name = v["name"].as_str().unwrap();
        let got = outcome_of_list(v, name);
        if got != expected_of(v) {
            failures.push(format!(
                "revocation-list vector `{name}`: expected {}, got {got}",
                v["expected"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}:\n{}",
        path.display(),
        failures.join("\n")
    );
    assert!(
        tokens.len() >= 40 && lists.len() >= 5,
        "the vector file lost cases"
    );
}

/// What a mainstream Ed25519 library checks when it is not strict: A and R decode (any y, read
/// mod p), S is read mod ℓ, and [S]B = R + [k]A holds as points, without the cofactor.
fn lenient_accepts(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let r: [u8; 32] = signature[..32].try_into().unwrap();
    let s: [u8; 32] = signature[32..].try_into().unwrap();
    let (Some(a), Some(big_r)) = (
        CompressedEdwardsY(*public).decompress(),
        CompressedEdwardsY(r).decompress(),
    ) else {
        return false;
    };
    let k = challenge(&r, public, message);
    EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(s)) == big_r + k * a
}

/// Item 6 of issue 15: a verifier that does the Ed25519 equation but not the strict checks of
/// step 3 must fail some vector for each check: every small-order or non-canonical key listed,
/// the identity as R in each spelling, and S ≥ ℓ.
#[test]
fn vectors_refuse_what_only_a_lenient_verifier_accepts() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).unwrap();
    let small: Vec<[u8; 32]> = SMALL_ORDER.iter().map(|(l, h)| unhex(h, l)).collect();
    let (mut keys_caught, mut rs_caught, mut s_caught) = (Vec::new(), Vec::new(), false);
    for v in file["tokens"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let Ok(token) = base62::decode(v["token"].as_str().unwrap().as_bytes()) else {
            continue;
        };
        let Some(public) = keys_of(v, name)
            .into_iter()
            .find(|(kid, _)| kid[..] == token[1..5])
            .map(|(_, public)| public)
        else {
            continue;
        };
        let mut message = TOKEN_CONTEXT.to_vec();
        message.extend_from_slice(&token[..29]);
        let signature: [u8; 64] = token[29..].try_into().unwrap();
        let strict = verify_signature(&public, &message, &signature).is_ok();
        let lenient = lenient_accepts(&public, &message, &signature);
        assert!(
            lenient || !strict,
            "{name}: the lenient model refuses a signature verify_strict accepts"
        );
        if strict || !lenient {
            continue;
        }
        assert_eq!(
            v["expected"]["error"], "BadSignature",
            "{name}: only strict Ed25519 refuses it"
        );
        let r: [u8; 32] = signature[..32].try_into().unwrap();
        let s: [u8; 32] = signature[32..].try_into().unwrap();
        let broken = [
            small.contains(&public).then(|| keys_caught.push(public)),
            small.contains(&r).then(|| rs_caught.push(r)),
            bool::from(Scalar::from_canonical_bytes(s).is_none()).then(|| s_caught = true),
        ];
        assert!(
            broken.iter().any(Option::is_some),
            "{name}: refused, yet it breaks no rule of step 3"
        );
    }
    for (label, hex_key) in SMALL_ORDER {
        assert!(
            keys_caught.contains(&unhex(hex_key, label)),
            "no vector lists the {label} key {hex_key} under a signature whose equation holds"
        );
        assert!(
            !label.starts_with("identity") || rs_caught.contains(&unhex(hex_key, label)),
            "no vector has R = {hex_key} ({label}) in a signature whose equation holds"
        );
    }
    assert!(
        s_caught,
        "no vector has S ≥ ℓ in a signature that holds mod ℓ"
    );
}

#[test]
fn vector_file_is_what_the_generator_writes() {
    let path = vectors_path();
    let fresh = generate();
    if std::env::var_os("VITRINE_REGENERATE_VECTORS").is_some() {
        std::fs::write(&path, &fresh).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let on_disk =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        on_disk == fresh,
        "{} is stale; refresh it with VITRINE_REGENERATE_VECTORS=1 cargo test -p vitrine-verify --test share_tokens",
        path.display()
    );
}

// ---------------------------------------------------------------------------------------------
// The generator. Expected outcomes are written down per case from the rules in
// docs/share-links.md, never computed by the verifier, so the check above is not circular.

/// The fixed test seeds: key A is bytes 0x00..0x1f, key B bytes 0x20..0x3f, key C 0x40..0x5f.
fn test_key(first: u8) -> SigningKey {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = first + i as u8;
    }
    SigningKey::from_bytes(&seed)
}

fn key_json(k: &SigningKey) -> Value {
    let public = k.verifying_key().to_bytes();
    json!({ "kid": hex(&kid_of(&public)), "public_key": hex(&public) })
}

const T: u32 = 1_764_000_000; // 2025-11-24T16:00:00Z
const DAY: u32 = 86_400;
const SHARE: [u8; 8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
const OTHER_SHARE: [u8; 8] = [0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18];

fn fields(key: &SigningKey, scope: &str, issued: u32, expires: u32) -> TokenFields {
    TokenFields {
        kid: kid_of(&key.verifying_key().to_bytes()),
        share_id: SHARE,
        scope: Scope::parse(scope).unwrap().digest(),
        issued,
        expires,
    }
}

fn sign(key: &SigningKey, f: &TokenFields) -> [u8; 93] {
    let text = f.encode(&key.sign(&f.signing_message()).to_bytes());
    base62::decode(&text).unwrap()
}

fn text(bytes: &[u8; 93]) -> String {
    String::from_utf8(base62::encode(bytes).to_vec()).unwrap()
}

/// The base62 spelling of n + 2^744: a second, non-canonical spelling of the same 93 bytes.
fn plus_2_pow_744(canonical: &str) -> String {
    let mut power = [0u8; 125]; // little-endian base62 digits
    power[0] = 1;
    for _ in 0..744 {
        let mut carry = 0;
        for d in power.iter_mut() {
            let t = *d * 2 + carry;
            *d = t % 62;
            carry = t / 62;
        }
        assert_eq!(carry, 0);
    }
    let digits = base62::ALPHABET;
    let value = |c: u8| digits.iter().position(|&d| d == c).unwrap() as u8;
    let mut out = [0u8; 125];
    let mut carry = 0;
    for (i, c) in canonical.bytes().rev().enumerate() {
        let t = value(c) + power[i] + carry;
        out[124 - i] = digits[(t % 62) as usize];
        carry = t / 62;
    }
    assert_eq!(carry, 0, "n + 2^744 does not fit 125 digits");
    String::from_utf8(out.to_vec()).unwrap()
}

struct Gen {
    tokens: Vec<Value>,
}

impl Gen {
    #[allow(clippy::too_many_arguments)]
    fn case(
        &mut self,
        name: &str,
        comment: &str,
        token: &str,
        scopes: &[&str],
        keys: &[&SigningKey],
        revoked: &[[u8; 8]],
        now: u32,
        expected: Value,
    ) {
        let keys = keys.iter().map(|k| key_json(k)).collect();
        self.case_listing(name, comment, token, scopes, keys, revoked, now, expected);
    }

    /// A case whose site lists keys that no signing key stands behind (small-order points).
    #[allow(clippy::too_many_arguments)]
    fn case_listing(
        &mut self,
        name: &str,
        comment: &str,
        token: &str,
        scopes: &[&str],
        keys: Vec<Value>,
        revoked: &[[u8; 8]],
        now: u32,
        expected: Value,
    ) {
        self.tokens.push(json!({
            "name": name,
            "comment": comment,
            "token": token,
            "scopes": scopes,
            "keys": keys,
            "revoked": revoked.iter().map(|r| hex(r)).collect::<Vec<_>>(),
            "now": now,
            "expected": expected,
        }));
    }
}

fn valid(key: &SigningKey, scope: &str, issued: u32, expires: u32) -> Value {
    json!({
        "result": "valid",
        "claims": {
            "kid": hex(&kid_of(&key.verifying_key().to_bytes())),
            "share_id": hex(&SHARE),
            "scope": scope,
            "issued": issued,
            "expires": if expires == 0 { Value::Null } else { json!(expires) },
        }
    })
}

fn refused(e: Error) -> Value {
    json!({ "result": e.reason(), "error": error_name(e) })
}

fn generate() -> String {
    let a = test_key(0x00);
    let b = test_key(0x20);
    let c = test_key(0x40);
    let ds = "dataset:cortex-l4";
    let an = "annotation:cortex-l4/axon-7";
    let exp = T + 90 * DAY;
    let now = T + 3600;
    let mut g = Gen { tokens: Vec::new() };

    let d = sign(&a, &fields(&a, ds, T, exp));
    let dt = text(&d);
    g.case(
        "valid-dataset",
        "a dataset token on its dataset's page",
        &dt,
        &[ds],
        &[&a],
        &[],
        now,
        valid(&a, ds, T, exp),
    );
    let an_bytes = sign(&a, &fields(&a, an, T, exp));
    let at = text(&an_bytes);
    g.case(
        "valid-annotation",
        "an annotation token on its annotation page, which also opens with the dataset scope",
        &at,
        &[ds, an],
        &[&a],
        &[],
        now,
        valid(&a, an, T, exp),
    );
    g.case(
        "valid-dataset-on-annotation-page",
        "a dataset token opens its annotations' pages too",
        &dt,
        &[ds, an],
        &[&a],
        &[],
        now,
        valid(&a, ds, T, exp),
    );
    let never = text(&sign(&a, &fields(&a, ds, T, 0)));
    g.case(
        "valid-never-expires",
        "expires = 0 means never; checked 70 years on",
        &never,
        &[ds],
        &[&a],
        &[],
        u32::MAX - 1,
        valid(&a, ds, T, 0),
    );
    let by_b = text(&sign(&b, &fields(&b, ds, T, exp)));
    g.case(
        "valid-second-key",
        "during a rotation the site lists two keys; a token signed by either verifies",
        &by_b,
        &[ds],
        &[&a, &b],
        &[],
        now,
        valid(&b, ds, T, exp),
    );
    g.case(
        "valid-other-share-revoked",
        "revoking another share changes nothing",
        &dt,
        &[ds],
        &[&a],
        &[OTHER_SHARE],
        now,
        valid(&a, ds, T, exp),
    );
    g.case(
        "valid-last-second",
        "one second before expiry",
        &dt,
        &[ds],
        &[&a],
        &[],
        exp - 1,
        valid(&a, ds, T, exp),
    );
    g.case(
        "expired-exact-second",
        "now == expires is expired: no leeway on expiry",
        &dt,
        &[ds],
        &[&a],
        &[],
        exp,
        refused(Error::Expired),
    );
    g.case(
        "expired-later",
        "a year after expiry",
        &dt,
        &[ds],
        &[&a],
        &[],
        exp + 365 * DAY,
        refused(Error::Expired),
    );
    g.case(
        "valid-inside-leeway",
        "issued 60 s in the verifier's future: inside the leeway",
        &dt,
        &[ds],
        &[&a],
        &[],
        T - 60,
        valid(&a, ds, T, exp),
    );
    g.case(
        "not-yet-valid",
        "issued 61 s in the verifier's future",
        &dt,
        &[ds],
        &[&a],
        &[],
        T - 61,
        refused(Error::NotYetValid),
    );
    g.case(
        "revoked",
        "the share id is on the revocation list",
        &dt,
        &[ds],
        &[&a],
        &[OTHER_SHARE, SHARE],
        now,
        refused(Error::Revoked),
    );
    g.case(
        "revoked-before-expired",
        "revocation is checked before expiry",
        &dt,
        &[ds],
        &[&a],
        &[SHARE],
        exp + DAY,
        refused(Error::Revoked),
    );
    g.case(
        "wrong-scope-other-dataset",
        "a dataset token on another dataset",
        &dt,
        &["dataset:retina"],
        &[&a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "wrong-scope-annotation-on-dataset",
        "an annotation token on its dataset's page",
        &at,
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "wrong-scope-other-annotation",
        "an annotation token on a sibling annotation",
        &at,
        &[ds, "annotation:cortex-l4/axon-8"],
        &[&a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "wrong-scope-before-revoked",
        "scope is checked before revocation",
        &dt,
        &["dataset:retina"],
        &[&a],
        &[SHARE],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "unknown-key",
        "the signing key was removed from site.yaml",
        &dt,
        &[ds],
        &[&b, &c],
        &[],
        now,
        refused(Error::UnknownKey),
    );
    g.case(
        "unknown-key-no-keys",
        "a site with no keys at all",
        &dt,
        &[ds],
        &[],
        &[],
        now,
        refused(Error::UnknownKey),
    );

    let tamper = |at: usize, xor: u8| {
        let mut t = d;
        t[at] ^= xor;
        text(&t)
    };
    g.case(
        "tampered-version-2",
        "version byte 0x02",
        &tamper(0, 0x03),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "tampered-version-0",
        "version byte 0x00",
        &tamper(0, 0x01),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "tampered-kid-unknown",
        "one bit of the key id flipped: names no key",
        &tamper(1, 0x01),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::UnknownKey),
    );
    let mut swapped_kid = d;
    swapped_kid[1..5].copy_from_slice(&kid_of(&b.verifying_key().to_bytes()));
    g.case(
        "tampered-kid-other-key",
        "key id replaced by the other site key's id",
        &text(&swapped_kid),
        &[ds],
        &[&a, &b],
        &[],
        now,
        refused(Error::BadSignature),
    );
    g.case(
        "tampered-share-id",
        "one bit of the share id flipped",
        &tamper(12, 0x80),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    let mut rescoped = d;
    rescoped[13..21].copy_from_slice(&Scope::Dataset("retina").digest());
    g.case(
        "tampered-scope",
        "scope digest replaced by that of the requested dataset",
        &text(&rescoped),
        &["dataset:retina"],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    g.case(
        "tampered-issued",
        "issue time moved",
        &tamper(24, 0x01),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    let mut forever = d;
    forever[25..29].copy_from_slice(&[0; 4]);
    g.case(
        "tampered-expires-never",
        "expiry set to 0 (never)",
        &text(&forever),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    g.case(
        "tampered-expires",
        "expiry moved",
        &tamper(28, 0x10),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    g.case(
        "tampered-signature-r",
        "first signature byte flipped (R)",
        &tamper(29, 0x01),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    g.case(
        "tampered-signature-s",
        "last signature byte flipped (S)",
        &tamper(92, 0x01),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    let mut s_plus_l = d;
    add_group_order(&mut s_plus_l[61..93]);
    g.case(
        "non-canonical-signature-s",
        "S + ℓ: the same signature in a malleable spelling (verify_strict refuses)",
        &text(&s_plus_l),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    let mut zero_sig = d;
    zero_sig[29..93].copy_from_slice(&[0; 64]);
    g.case(
        "small-order-r",
        "signature R and S all zero",
        &text(&zero_sig),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::BadSignature),
    );
    let other_signed = {
        let f = fields(&a, ds, T, exp);
        let mut bytes = sign(&a, &f);
        bytes[29..].copy_from_slice(&b.sign(&f.signing_message()).to_bytes());
        text(&bytes)
    };
    g.case(
        "signed-by-other-key",
        "kid of key A, signature by key B",
        &other_signed,
        &[ds],
        &[&a, &b],
        &[],
        now,
        refused(Error::BadSignature),
    );

    strict_cases(&mut g, &a, ds, now, exp);

    g.case(
        "non-canonical-plus-2-pow-744",
        "the same bytes spelled as n + 2^744 (125 characters, too large)",
        &plus_2_pow_744(&dt),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "non-canonical-all-z",
        "the largest 125-character string",
        &"z".repeat(125),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    for (label, bad) in [
        ("hyphen", "-"),
        ("underscore", "_"),
        ("dot", "."),
        ("tilde", "~"),
        ("equals", "="),
        ("plus", "+"),
        ("slash", "/"),
        ("space", " "),
        ("percent", "%"),
        ("non-ascii", "é"),
    ] {
        let mut t = dt.clone();
        t.replace_range(60..61, bad);
        g.case(
            &format!("bad-character-{label}"),
            &format!("character 61 replaced by `{bad}`"),
            &t,
            &[ds],
            &[&a],
            &[],
            now,
            refused(Error::Malformed),
        );
    }
    g.case(
        "truncated-124",
        "last character missing",
        &dt[..124],
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "truncated-half",
        "cut in half, as a line break in a PDF would",
        &dt[..62],
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "empty",
        "the empty string",
        "",
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "trailing-garbage",
        "one extra character",
        &format!("{dt}0"),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "leading-zero",
        "a leading `0`: same value, 126 characters",
        &format!("0{dt}"),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );
    g.case(
        "trailing-newline",
        "a newline after the token",
        &format!("{dt}\n"),
        &[ds],
        &[&a],
        &[],
        now,
        refused(Error::Malformed),
    );

    layer_cases(&mut g, &a, ds, an, now, exp);

    let lists = revocation_cases(&a, &b);
    let file = json!({
        "format": "vitrine-share-token-vectors-v1",
        "description": concat!(
            "Share-token and revocation-list vectors for every vitrine verifier (docs/share-links.md). ",
            "Keys are Ed25519 keys from fixed test seeds: key A seed = bytes 00 01 .. 1f, key B = 20 21 .. 3f, ",
            "key C = 40 41 .. 5f (hex below is lowercase). ",
            "tokens[]: {name, comment, token (the ?s= text), scopes (scope strings the request allows, in the ",
            "order tried), keys ([{kid, public_key}] the site lists), revoked (share ids as 16 hex digits), ",
            "now (Unix seconds), expected}. expected.result is 'valid' or the gate's X-Vitrine-Reason ",
            "(invalid, unknown-key, wrong-scope, expired, revoked, not-yet-valid); expected.error is the ",
            "precise error (Malformed, BadSignature, UnknownKey, WrongScope, Expired, NotYetValid, Revoked); ",
            "a valid case has expected.claims {kid, share_id, scope (the allowed scope that matched), issued, ",
            "expires (null = never)}. ",
            "revocation_lists[]: {name, comment, list (as published in share/revocations.json), keys, expected} ",
            "with expected.result 'valid' (and expected.serial) or a reason as above. ",
            "Regenerate with VITRINE_REGENERATE_VECTORS=1 cargo test -p vitrine-verify --test share_tokens."
        ),
        "test_keys": {
            "A": { "seed": hex(&a.to_bytes()), "kid": key_json(&a)["kid"], "public_key": key_json(&a)["public_key"] },
            "B": { "seed": hex(&b.to_bytes()), "kid": key_json(&b)["kid"], "public_key": key_json(&b)["public_key"] },
            "C": { "seed": hex(&c.to_bytes()), "kid": key_json(&c)["kid"], "public_key": key_json(&c)["public_key"] },
        },
        "tokens": g.tokens,
        "revocation_lists": lists,
    });
    serde_json::to_string_pretty(&sorted(file)).unwrap() + "\n"
}

/// Layer tokens (`layer:<slug>/<id>`), added after every earlier case so that those keep their
/// place in the file. What a gate allows where is in docs/share-links.md, "Which scopes open the
/// path": a layer page of a private dataset opens with the dataset scope or its own; one of a
/// public dataset with its own alone.
fn layer_cases(g: &mut Gen, a: &SigningKey, ds: &str, an: &str, now: u32, exp: u32) {
    let ly = "layer:cortex-l4/cells";
    let lt = text(&sign(a, &fields(a, ly, T, exp)));
    g.case(
        "valid-layer",
        "a layer token on its layer page, which also opens with the dataset scope",
        &lt,
        &[ds, ly],
        &[a],
        &[],
        now,
        valid(a, ly, T, exp),
    );
    g.case(
        "valid-layer-alone",
        "a layer token on a layer page of a public dataset, which opens with the layer scope alone",
        &lt,
        &[ly],
        &[a],
        &[],
        now,
        valid(a, ly, T, exp),
    );
    g.case(
        "wrong-scope-layer-on-dataset",
        "a layer token on its dataset's page",
        &lt,
        &[ds],
        &[a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "wrong-scope-other-layer",
        "a layer token on a sibling layer",
        &lt,
        &[ds, "layer:cortex-l4/nuclei"],
        &[a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "wrong-scope-layer-as-annotation",
        "a layer token where an annotation of the same id opens: the kind is part of the scope",
        &lt,
        &[ds, "annotation:cortex-l4/cells"],
        &[a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    let at = text(&sign(a, &fields(a, an, T, exp)));
    g.case(
        "wrong-scope-annotation-as-layer",
        "an annotation token on a layer page of the same id",
        &at,
        &["layer:cortex-l4/axon-7"],
        &[a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    let dt = text(&sign(a, &fields(a, ds, T, exp)));
    g.case(
        "wrong-scope-dataset-on-public-layer",
        "a dataset token on a layer page of a public dataset, which opens with the layer scope alone",
        &dt,
        &[ly],
        &[a],
        &[],
        now,
        refused(Error::WrongScope),
    );
    g.case(
        "expired-layer",
        "a layer token after its expiry",
        &lt,
        &[ly],
        &[a],
        &[],
        exp,
        refused(Error::Expired),
    );
}

/// `value` with every object's keys in sorted order: the file must not depend on whether
/// serde_json's `preserve_order` is on, which another crate of the workspace (zarrs) turns on
/// when both are built together.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The 14 encodings that `verify_strict` refuses as a public key or as `R`, named: the 8 points
/// of small order, then the 6 non-canonical spellings (y ≥ p, or x = 0 with the sign bit set).
const SMALL_ORDER: [(&str, &str); 14] = [
    (
        "identity",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-2",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "order-4",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-4-negative-x",
        "0000000000000000000000000000000000000000000000000000000000000080",
    ),
    (
        "order-8-a",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    ),
    (
        "order-8-a-negative-x",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    ),
    (
        "order-8-b",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ),
    (
        "order-8-b-negative-x",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ),
    (
        "identity-sign-bit",
        "0100000000000000000000000000000000000000000000000000000000000080",
    ),
    (
        "identity-y-plus-p",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "identity-y-plus-p-sign-bit",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    (
        "order-2-sign-bit",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    (
        "order-4-y-plus-p",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "order-4-y-plus-p-sign-bit",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
];

/// The Ed25519 challenge k = SHA-512(R ‖ A ‖ message) mod ℓ.
fn challenge(r: &[u8; 32], public: &[u8; 32], message: &[u8]) -> Scalar {
    let hash: [u8; 64] = Sha512::new()
        .chain_update(r)
        .chain_update(public)
        .chain_update(message)
        .finalize()
        .into();
    Scalar::from_bytes_mod_order_wide(&hash)
}

/// Tokens that a lenient Ed25519 verifier accepts and `verify_strict` refuses: each satisfies
/// [S]B = R + [k]A, so only the checks of step 3 beyond the equation tell them from genuine ones.
fn strict_cases(g: &mut Gen, a: &SigningKey, ds: &str, now: u32, exp: u32) {
    let public_a = a.verifying_key().to_bytes();
    // R given as bytes, S = k·a: valid for a verifier that does not look at R itself.
    let with_r = |r_hex: &str| {
        let r: [u8; 32] = unhex(r_hex, "R");
        let f = fields(a, ds, T, exp);
        let s = challenge(&r, &public_a, &f.signing_message()) * a.to_scalar();
        let mut bytes = sign(a, &f);
        bytes[29..61].copy_from_slice(&r);
        bytes[61..].copy_from_slice(&s.to_bytes());
        text(&bytes)
    };
    for (label, r_hex) in SMALL_ORDER {
        // Only the identity's spellings can satisfy the equation: [S]B - [k]A is in the
        // prime-order subgroup, which holds no other point of small order.
        if !label.starts_with("identity") {
            continue;
        }
        g.case(
            &format!("strict-r-{label}"),
            &format!("R = {r_hex} (the identity point{}), S = k·a: the equation holds, verify_strict refuses R", if label == "identity" { "" } else { ", non-canonical spelling" }),
            &with_r(r_hex),
            &[ds],
            &[a],
            &[],
            now,
            refused(Error::BadSignature),
        );
    }

    // A small-order key listed in site.yaml: R = [r]B and S = r, with the share id chosen so
    // that [k]A is the identity; then [S]B = R + [k]A for any verifier that accepts the key.
    let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(b"vitrine strict vectors").into());
    let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
    for (label, key_hex) in SMALL_ORDER {
        let key: [u8; 32] = unhex(key_hex, label);
        let point = CompressedEdwardsY(key)
            .decompress()
            .unwrap_or_else(|| panic!("{label}: {key_hex} does not decode"));
        assert!(point.is_small_order(), "{label} is not of small order");
        let mut f = fields(a, ds, T, exp);
        f.kid = kid_of(&key);
        let share_id = (0u64..)
            .map(u64::to_be_bytes)
            .find(|id| {
                f.share_id = *id;
                (challenge(&big_r, &key, &f.signing_message()) * point).is_identity()
            })
            .unwrap();
        f.share_id = share_id;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&big_r);
        signature[32..].copy_from_slice(&r.to_bytes());
        let listed = json!({ "kid": hex(&f.kid), "public_key": key_hex });
        g.case_listing(
            &format!("strict-key-{label}"),
            &format!("site.yaml lists the small-order key {key_hex}; a token naming it whose equation holds"),
            core::str::from_utf8(&f.encode(&signature)).unwrap(),
            &[ds],
            vec![key_json(a), listed],
            &[],
            now,
            refused(Error::BadSignature),
        );
    }
}

/// Adds the group order ℓ to a little-endian 32-byte scalar (S + ℓ still fits 256 bits).
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let t = u16::from(*b) + u16::from(l) + carry;
        *b = t as u8;
        carry = t >> 8;
    }
    assert_eq!(carry, 0);
}

fn revocation_cases(a: &SigningKey, b: &SigningKey) -> Vec<Value> {
    let kid_a = kid_of(&a.verifying_key().to_bytes());
    let ids = [SHARE, OTHER_SHARE];
    let issued = u64::from(T + DAY);
    let signed_at =
        |serial: u64, issued: u64, issued_at: &str, ids: &[[u8; 8]], by: &SigningKey| {
            let sig = by
                .sign(&revocations_message(&kid_a, serial, issued, ids))
                .to_bytes();
            json!({
                "format": "vitrine-revocations-v1",
                "serial": serial,
                "issued": issued,
                "issued_at": issued_at,
                "kid": hex(&kid_a),
                "revoked": ids.iter().map(|i| hex(i)).collect::<Vec<_>>(),
                "signature": hex(&sig),
            })
        };
    let signed = |serial: u64, ids: &[[u8; 8]], by: &SigningKey| {
        signed_at(serial, issued, "2025-11-25T16:00:00Z", ids, by)
    };
    let case = |name: &str, comment: &str, list: Value, expected: Value| json!({ "name": name, "comment": comment, "list": list, "keys": [key_json(a), key_json(b)], "expected": expected });
    let mut tampered_serial = signed(3, &ids, a);
    tampered_serial["serial"] = json!(4);
    let mut dropped = signed(3, &ids, a);
    dropped["revoked"] = json!([hex(&SHARE)]);
    let mut unknown = signed(3, &ids, a);
    unknown["kid"] = json!("00000000");
    let unsigned = |serial: u64, issued: u64, ids: &[[u8; 8]]| {
        json!({
            "format": "vitrine-revocations-v1", "serial": serial, "issued": issued, "issued_at": null,
            "kid": null, "revoked": ids.iter().map(|i| hex(i)).collect::<Vec<_>>(), "signature": null,
        })
    };
    // Signed lists changed in one field after signing: only the reading rules refuse them.
    let edited = |field: &str, value: Value| {
        let mut list = signed(3, &ids, a);
        list[field] = value;
        list
    };
    let mut extra_field = signed(3, &ids, a);
    extra_field["note"] = json!("revoked after the review");
    let mut no_issued_at = signed(3, &ids, a);
    no_issued_at.as_object_mut().unwrap().remove("issued_at");
    let upper = |field: &str| {
        let list = signed(3, &ids, a);
        let value = match &list[field] {
            Value::Array(items) => json!([items[0], items[1].as_str().unwrap().to_uppercase()]),
            other => json!(other.as_str().unwrap().to_uppercase()),
        };
        edited(field, value)
    };
    let max_safe = (1u64 << 53) - 1;
    let by_small_order_key = {
        // The identity as public key: [k]A is the identity for every k, so R = [r]B, S = r holds.
        let identity: [u8; 32] = unhex(SMALL_ORDER[0].1, "identity");
        let kid = kid_of(&identity);
        let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(b"vitrine strict list").into());
        let mut signature = EdwardsPoint::mul_base(&r).compress().to_bytes().to_vec();
        signature.extend_from_slice(&r.to_bytes());
        let mut list = signed(3, &ids, a);
        list["kid"] = json!(hex(&kid));
        list["signature"] = json!(hex(&signature));
        json!({
            "name": "list-small-order-key",
            "comment": "signed with the identity point listed as a site key; the equation holds, verify_strict refuses the key",
            "list": list,
            "keys": [key_json(a), { "kid": hex(&kid), "public_key": SMALL_ORDER[0].1 }],
            "expected": refused(Error::BadSignature),
        })
    };
    vec![
        case(
            "list-valid",
            "two revoked ids, signed by key A",
            signed(3, &ids, a),
            json!({"result": "valid", "serial": 3}),
        ),
        case(
            "list-valid-empty-signed",
            "the serial-0 list `vitrine share` signs first",
            signed(0, &[], a),
            json!({"result": "valid", "serial": 0}),
        ),
        case(
            "list-empty-unsigned",
            "the unsigned empty list of a site that never signed one",
            unsigned(0, 0, &[]),
            json!({"result": "valid", "serial": 0}),
        ),
        case(
            "list-unsigned-with-ids",
            "ids without a signature",
            unsigned(3, 0, &ids),
            refused(Error::BadSignature),
        ),
        case(
            "list-unsigned-serial-0-with-ids",
            "serial 0 but ids, unsigned: only the empty list may go unsigned",
            unsigned(0, 0, &ids),
            refused(Error::BadSignature),
        ),
        case(
            "list-unsigned-serial-5-empty",
            "no ids but serial 5, unsigned: a gate would take it over every list up to serial 4",
            unsigned(5, 0, &[]),
            refused(Error::BadSignature),
        ),
        case(
            "list-unsigned-empty-issued",
            "serial 0 and no ids, unsigned, but issued is not 0: not the empty list",
            unsigned(0, issued, &[]),
            refused(Error::BadSignature),
        ),
        case(
            "list-serial-max",
            "serial 2^53 - 1, the largest every JSON reader holds exactly",
            signed(max_safe, &ids, a),
            json!({"result": "valid", "serial": max_safe}),
        ),
        case(
            "list-serial-2-pow-53",
            "serial 2^53, validly signed: beyond what a JSON reader holds exactly",
            signed(max_safe + 1, &ids, a),
            refused(Error::Malformed),
        ),
        case(
            "list-serial-written-3.0",
            "serial written 3.0: numbers are read by value, as JSON.parse reads them, so this is 3",
            edited("serial", json!(3.0)),
            json!({"result": "valid", "serial": 3}),
        ),
        case(
            "list-serial-fraction",
            "serial 3.5",
            edited("serial", json!(3.5)),
            refused(Error::Malformed),
        ),
        case(
            "list-serial-string",
            "serial written as a string",
            edited("serial", json!("3")),
            refused(Error::Malformed),
        ),
        case(
            "list-serial-negative",
            "serial -1",
            edited("serial", json!(-1)),
            refused(Error::Malformed),
        ),
        case(
            "list-issued-max",
            "issued 2^32 - 1, the last second a token can name",
            signed_at(3, u64::from(u32::MAX), "2106-02-07T06:28:15Z", &ids, a),
            json!({"result": "valid", "serial": 3}),
        ),
        case(
            "list-issued-2-pow-32",
            "issued 2^32, validly signed: beyond a u32",
            signed_at(3, 1 << 32, "2106-02-07T06:28:16Z", &ids, a),
            refused(Error::Malformed),
        ),
        case(
            "list-issued-at-other-second",
            "issued_at one second after issued",
            edited("issued_at", json!("2025-11-25T16:00:01Z")),
            refused(Error::Malformed),
        ),
        case(
            "list-issued-at-fraction",
            "issued_at with milliseconds: the same instant, another spelling",
            edited("issued_at", json!("2025-11-25T16:00:00.000Z")),
            refused(Error::Malformed),
        ),
        case(
            "list-issued-at-offset",
            "issued_at with a +01:00 offset: the same instant, another spelling",
            edited("issued_at", json!("2025-11-25T17:00:00+01:00")),
            refused(Error::Malformed),
        ),
        case(
            "list-issued-at-null",
            "issued_at null on a signed list",
            edited("issued_at", Value::Null),
            refused(Error::Malformed),
        ),
        case(
            "list-unknown-field",
            "a field the format does not have",
            extra_field,
            refused(Error::Malformed),
        ),
        case(
            "list-missing-field",
            "issued_at left out",
            no_issued_at,
            refused(Error::Malformed),
        ),
        case(
            "list-other-format",
            "format vitrine-revocations-v2",
            edited("format", json!("vitrine-revocations-v2")),
            refused(Error::Malformed),
        ),
        case(
            "list-uppercase-id",
            "the second id in uppercase hex: same bytes, other spelling",
            upper("revoked"),
            refused(Error::Malformed),
        ),
        case(
            "list-uppercase-kid",
            "the kid in uppercase hex",
            upper("kid"),
            refused(Error::Malformed),
        ),
        case(
            "list-uppercase-signature",
            "the signature in uppercase hex",
            upper("signature"),
            refused(Error::Malformed),
        ),
        case(
            "list-short-id",
            "an id of 15 hex digits",
            edited("revoked", json!([hex(&SHARE), &hex(&OTHER_SHARE)[1..]])),
            refused(Error::Malformed),
        ),
        case(
            "list-kid-without-signature",
            "a kid but a null signature",
            edited("signature", Value::Null),
            refused(Error::Malformed),
        ),
        by_small_order_key,
        case(
            "list-tampered-serial",
            "serial raised after signing",
            tampered_serial,
            refused(Error::BadSignature),
        ),
        case(
            "list-dropped-id",
            "an id removed after signing",
            dropped,
            refused(Error::BadSignature),
        ),
        case(
            "list-unknown-key",
            "kid names no site key",
            unknown,
            refused(Error::UnknownKey),
        ),
        case(
            "list-out-of-order",
            "ids not strictly ascending",
            signed(3, &[OTHER_SHARE, SHARE], a),
            refused(Error::Malformed),
        ),
        case(
            "list-duplicate-id",
            "the same id twice",
            signed(3, &[SHARE, SHARE], a),
            refused(Error::Malformed),
        ),
        case(
            "list-signed-by-other-key",
            "kid of key A, signature by key B",
            signed(3, &ids, b),
            refused(Error::BadSignature),
        ),
    ]
}
