//! `vitrine verify` on the token vectors of `tests/vectors/share-tokens.json`: the CLI must give
//! each the verdict the verifier crate, the Deno gate and the workerd gate give it.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::{repo, text, vitrine};

/// The link a gate would be asked for with this vector's allowed scopes (docs/share-links.md,
/// "Which scopes open the path"), and the site that makes the gate ask for exactly them:
/// `[dataset:S]`, `[dataset:S, annotation:S/ID]` or `[dataset:S, layer:S/ID]` on a site without
/// datasets (so S is not published), and `[layer:S/ID]` alone on a site where S is a public
/// dataset with a private layer ID (written into `root`).
fn link_for(root: &Path, name: &str, scopes: &[&str], token: &str) -> String {
    let datasets = root.join("content/datasets");
    let _ = fs::remove_dir_all(&datasets);
    fs::create_dir_all(&datasets).unwrap();
    let item = |scope: &str, slug: &str| {
        for (kind, folder) in [("annotation", "annotations"), ("layer", "layers")] {
            if let Some(id) = scope.strip_prefix(&format!("{kind}:{slug}/")) {
                return format!("/private/{slug}/{folder}/{id}/");
            }
        }
        panic!("{name}: {scope} is not an annotation or layer of {slug}")
    };
    let path = match scopes {
        [dataset] if dataset.starts_with("dataset:") => {
            format!("/private/{}/", dataset.strip_prefix("dataset:").unwrap())
        }
        [layer] if layer.starts_with("layer:") => {
            let (slug, id) = layer["layer:".len()..].split_once('/').unwrap();
            let dir = datasets.join(slug);
            fs::create_dir_all(&dir).unwrap();
            image::GrayImage::new(4, 4)
                .save(dir.join("image.png"))
                .unwrap();
            fs::write(
                dir.join("dataset.yaml"),
                format!(
                    "display_name: Published\nvisibility: public\nimages: image.png\nlayers:\n  - id: {id}\n    kind: segmentation\n    images: image.png\n"
                ),
            )
            .unwrap();
            item(layer, slug)
        }
        [dataset, other] => item(other, dataset.strip_prefix("dataset:").unwrap()),
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
            &[
                "verify",
                &link_for(&root, name, &scopes, token),
                "--at",
                &at,
            ],
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
