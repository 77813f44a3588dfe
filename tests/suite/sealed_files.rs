//! The Rust sealer against `tests/vectors/sealed-files.json`, which was sealed in JavaScript from
//! docs/share-links.md alone (`tests/edge/make-sealed-files.mjs`): the edge key, every label and
//! every sealed byte must come out the same, and every vector must open or fail as the gates
//! (`tests/edge/run`) open or fail it.

use std::fs;

use serde_json::Value;
use vitrine::hex::{hex, parse_hex};
use vitrine::output::seal;
use vitrine::share::secret::ContentSecret;

use crate::common::repo;

fn bytes(v: &Value) -> Vec<u8> {
    let text = v.as_str().unwrap();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn the_rust_sealer_writes_and_opens_every_sealed_files_vector() {
    let path = repo().join("tests/vectors/sealed-files.json");
    let file: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let secret = parse_hex(file["content_secret"].as_str().unwrap()).unwrap();
    let edge = ContentSecret::from_bytes(secret).edge_key();
    assert_eq!(edge.to_hex(), file["edge_key"].as_str().unwrap());
    let vectors = file["vectors"].as_array().unwrap();
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let path = v["path"].as_str().unwrap();
        let sealed = bytes(&v["sealed"]);
        let plain = bytes(&v["plaintext_hex"]);
        let opened = seal::open(&edge, path, &sealed);
        match v["expected"].as_str().unwrap() {
            "open" => {
                assert_eq!(opened.as_deref(), Some(&plain[..]), "{name}: does not open");
                let key_name = seal::key_name(path).unwrap();
                assert_eq!(key_name, v["key_name"].as_str().unwrap(), "{name}");
                let ended: Vec<[u8; 8]> = v["ended"]
                    .as_str()
                    .unwrap()
                    .split(',')
                    .filter(|id| !id.is_empty())
                    .map(|id| parse_hex(id).unwrap())
                    .collect();
                let label = edge.label(&key_name, &ended);
                assert_eq!(hex(&label), v["label"].as_str().unwrap(), "{name}: label");
                let again = seal::seal(&edge.content_key(&label), &label, path, &plain);
                assert_eq!(hex(&again), hex(&sealed), "{name}: sealed to other bytes");
            }
            "fail" => assert!(
                opened.is_none() && sealed.starts_with(&seal::MAGIC),
                "{name}: a sealed file that must not open"
            ),
            "not-sealed" => assert!(seal::label_of(&sealed).is_none(), "{name}: not sealed"),
            other => panic!("{name}: unknown expected {other}"),
        }
    }
    assert!(vectors.len() >= 17, "{} vectors", vectors.len());
}
