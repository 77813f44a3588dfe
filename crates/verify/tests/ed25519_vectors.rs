//! Every public Ed25519 vector in `tests/vectors/ed25519/` gets exactly the answer ed25519-dalek's
//! `verify_strict` gave when it was measured (`measured-results.json`), through
//! [`vitrine_verify::verify_signature`].

use std::path::PathBuf;

use serde_json::Value;
use vitrine_verify::verify_signature;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/ed25519")
}

fn read_json(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// One vector: its id in `measured-results.json`, key, message and signature.
struct Case {
    id: String,
    key: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let wycheproof = read_json("wycheproof/ed25519_test.json");
    for group in wycheproof["testGroups"].as_array().unwrap() {
        let key = hex(group["publicKey"]["pk"].as_str().unwrap());
        for t in group["tests"].as_array().unwrap() {
            cases.push(Case {
                id: format!("wycheproof:{}", t["tcId"]),
                key: key.clone(),
                msg: hex(t["msg"].as_str().unwrap()),
                sig: hex(t["sig"].as_str().unwrap()),
            });
        }
    }
    for v in read_json("rfc8032-ed25519.json")["vectors"]
        .as_array()
        .unwrap()
    {
        cases.push(Case {
            id: format!("rfc8032:{}", v["name"].as_str().unwrap()),
            key: hex(v["public_key"].as_str().unwrap()),
            msg: hex(v["message"].as_str().unwrap()),
            sig: hex(v["signature"].as_str().unwrap()),
        });
    }
    for (i, v) in read_json("speccheck/cases.json")
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        cases.push(Case {
            id: format!("speccheck:{i}"),
            key: hex(v["pub_key"].as_str().unwrap()),
            msg: hex(v["message"].as_str().unwrap()),
            sig: hex(v["signature"].as_str().unwrap()),
        });
    }
    for v in read_json("cctv-ed25519/ed25519vectors.json")
        .as_array()
        .unwrap()
    {
        cases.push(Case {
            id: format!("cctv:{}", v["number"]),
            key: hex(v["key"].as_str().unwrap()),
            msg: v["msg"].as_str().unwrap().as_bytes().to_vec(),
            sig: hex(v["sig"].as_str().unwrap()),
        });
    }
    cases
}

#[test]
fn every_public_vector_matches_measured_verify_strict() {
    let measured = read_json("measured-results.json");
    let results = measured["results"].as_object().unwrap();
    let cases = all_cases();
    assert_eq!(
        cases.len(),
        results.len(),
        "vector count differs from measured-results.json"
    );
    let mut failures = Vec::new();
    let mut accepted = 0;
    for case in &cases {
        let expected = results
            .get(&case.id)
            .unwrap_or_else(|| panic!("{} has no measured result", case.id))["dalek_verify_strict"]
            .as_bool()
            .unwrap();
        let got = verify_signature(&case.key, &case.msg, &case.sig).is_ok();
        accepted += usize::from(got);
        if got != expected {
            failures.push(format!(
                "{}: expected accept={expected}, got accept={got}",
                case.id
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // 88 Wycheproof + 5 RFC 8032 + 1 speccheck + 43 CCTV, as the README measured.
    assert_eq!(accepted, 137, "accept count differs from the measured 137");
}
