//! `vitrine verify` on the token vectors of `tests/vectors/share-tokens.json`: the CLI must give
//! each the verdict the verifier crate, the Deno gate and the workerd gate give it.

use std::fs;

use serde_json::Value;

use crate::common::{repo, text, vitrine};

/// The link a gate would be asked for with this vector's allowed scopes (docs/share-links.md,
/// "Which scopes open the path"): `[dataset:S]` or `[dataset:S, annotation:S/ID]`.
fn link_for(name: &str, scopes: &[&str], token: &str) -> String {
    let path = match scopes {
        [dataset] => format!("/private/{}/", dataset.strip_prefix("dataset:").unwrap()),
        [dataset, annotation] => {
            let slug = dataset.strip_prefix("dataset:").unwrap();
            let id = annotation
                .strip_prefix(&format!("annotation:{slug}/"))
                .unwrap_or_else(|| panic!("{name}: {annotation} is not an annotation of {slug}"));
            format!("/private/{slug}/annotations/{id}/")
        }
        _ => panic!("{name}: no link asks for the scopes {scopes:?}"),
    };
    format!("https://data.example-lab.org{path}?s={token}")
}

#[test]
fn vitrine_verify_gives_every_token_vector_its_verdict() {
    let path = repo().join("tests/vectors/share-tokens.json");
    let file: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    fs::create_dir_all(root.join("content/datasets")).unwrap();
    let (mut checked, mut failures) = (0, Vec::new());
    for v in file["tokens"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let token = v["token"].as_str().unwrap();
        // Revoked ids come from the signed ledger, which these vectors do not carry; and the
        // CLI drops whitespace pasted with a link, so it would check another token.
        if !v["revoked"].as_array().unwrap().is_empty() || token.contains(char::is_whitespace) {
            continue;
        }
        let keys: String = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                format!(
                    "\n    - kid: \"{}\"\n      public_key: \"{}\"",
                    k["kid"].as_str().unwrap(),
                    k["public_key"].as_str().unwrap()
                )
            })
            .collect();
        fs::write(
            root.join("content/site.yaml"),
            format!(
                "title: Vectors\nbase_url: https://data.example-lab.org\nhosting: netlify\nsharing:\n  keys:{}\n",
                if keys.is_empty() { " []" } else { &keys }
            ),
        )
        .unwrap();
        let scopes: Vec<&str> = v["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let at = chrono::DateTime::from_timestamp(v["now"].as_i64().unwrap(), 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let out = vitrine(
            &root,
            &["verify", &link_for(name, &scopes, token), "--at", &at],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let verdict = stdout.split([':', '\n']).next().unwrap_or_default();
        let expected = v["expected"]["result"].as_str().unwrap();
        if verdict != expected || out.status.success() != (expected == "valid") {
            failures.push(format!("{name}: expected {expected}\n{}", text(&out)));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 60, "only {checked} vectors were checked");
}
