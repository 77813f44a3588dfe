//! Share links end to end through the real binary: keys, issuing, listing, revoking,
//! verifying, the ledger under concurrency and corruption, and mutated links.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{fixture, text, vitrine};

/// A copy of `tests/sites/share-basic` with a fresh key made by `vitrine keygen`.
struct Site {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    kid: String,
}

impl Site {
    fn new() -> Site {
        let (tmp, root) = fixture("sites/share-basic");
        let out = vitrine(&root, &["keygen"]);
        assert!(out.status.success(), "keygen failed\n{}", text(&out));
        let kid = stdout(&out).trim().to_string();
        Site {
            _tmp: tmp,
            root,
            kid,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        vitrine(&self.root, args)
    }

    fn key_dir(&self) -> PathBuf {
        self.root.parent().unwrap().join("xdg-config/vitrine/keys")
    }

    /// Issues a share and returns its link, asserting it is printed alone.
    fn share(&self, args: &[&str]) -> String {
        let mut all = vec!["share"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "share {args:?} failed\n{}",
            text(&out)
        );
        let link = stdout(&out);
        assert_eq!(
            link.lines().count(),
            1,
            "share must print the link alone\n{}",
            text(&out)
        );
        link.trim().to_string()
    }

    fn ledger(&self) -> String {
        fs::read_to_string(self.root.join("content/shares.yaml")).unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The share ids recorded in a ledger text.
fn ids(ledger: &str) -> Vec<String> {
    ledger
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- id: "))
        .map(|s| s.trim_matches('"').to_string())
        .collect()
}

fn verify_at(site: &Site, link: &str, at: &str) -> (i32, String) {
    let out = site.run(&["verify", link, "--at", at]);
    (out.status.code().unwrap(), stdout(&out))
}

#[test]
fn keygen_writes_a_0600_key_outside_the_site_and_lists_it() {
    let site = Site::new();
    assert_eq!(site.kid.len(), 8, "keygen prints the key id");
    let file = site.key_dir().join(format!("{}.key", site.kid));
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", file.display());
    assert!(fs::read_to_string(&file)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    let yaml = fs::read_to_string(site.root.join("content/site.yaml")).unwrap();
    assert!(yaml.contains(&format!("- kid: \"{}\"", site.kid)), "{yaml}");
    assert!(
        yaml.contains("default_expiry: 90d   # shorter than"),
        "comments are kept:\n{yaml}"
    );

    // A second key (rotation) is appended to the same list.
    let out = site.run(&["keygen"]);
    assert!(out.status.success(), "{}", text(&out));
    let second = stdout(&out).trim().to_string();
    let yaml = fs::read_to_string(site.root.join("content/site.yaml")).unwrap();
    assert_eq!(yaml.matches("- kid:").count(), 2, "{yaml}");
    assert!(yaml.contains(&second));
    assert!(
        site.run(&["check"]).status.success(),
        "the edited site.yaml still validates"
    );
}

/// The public key `site.yaml` lists for `kid`, as hex.
fn listed_public_key(site: &Site) -> String {
    let yaml = fs::read_to_string(site.root.join("content/site.yaml")).unwrap();
    let at = yaml.find(&format!("- kid: \"{}\"", site.kid)).unwrap();
    let line = yaml[at..].lines().nth(1).unwrap();
    line.trim()
        .trim_start_matches("public_key:")
        .trim()
        .trim_matches('"')
        .to_string()
}

/// Runs a tool and returns its stdout, naming the tool when it is missing or fails.
fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (tests/install-tools): {e}"));
    assert!(out.status.success(), "{program} {args:?}\n{}", text(&out));
    out.stdout
}

#[test]
fn key_files_load_in_openssl_and_node() {
    let site = Site::new();
    let file = site.key_dir().join(format!("{}.key", site.kid));
    let file = file.to_str().unwrap();
    let want = listed_public_key(&site);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    // Both print the SubjectPublicKeyInfo in DER, whose last 32 bytes are the public key.
    let der = tool(
        "openssl",
        &["pkey", "-in", file, "-pubout", "-outform", "DER"],
    );
    assert_eq!(hex(&der[der.len() - 32..]), want, "openssl pkey");
    let script = "const c = require('crypto'); const k = c.createPrivateKey(require('fs').readFileSync(process.argv[1])); \
                  process.stdout.write(c.createPublicKey(k).export({ type: 'spki', format: 'der' }).toString('hex'))";
    let node = String::from_utf8(tool("node", &["-e", script, file])).unwrap();
    assert_eq!(
        &node[node.len() - 64..],
        want,
        "node crypto.createPrivateKey"
    );
    // A link signed with the key verifies, so what the tools read is what vitrine signs with.
    let link = site.share(&["cortex-l4"]);
    assert!(site.run(&["verify", &link]).status.success());
}

#[test]
fn keygen_refuses_a_path_inside_the_site() {
    let site = Site::new();
    for inside in [
        "content/leak.key",
        "public/x/leak.key",
        "./content/../themes/leak.key",
    ] {
        let target = site.root.join(inside);
        let out = site.run(&["keygen", "--key", target.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{inside}\n{}", text(&out));
        assert!(
            stderr(&out).contains("inside the site folder"),
            "{}",
            text(&out)
        );
        assert!(!target.exists(), "{inside} was written");
    }
    // An existing key file is never overwritten.
    let existing = site.key_dir().join(format!("{}.key", site.kid));
    let before = fs::read(&existing).unwrap();
    let out = site.run(&["keygen", "--key", existing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("never overwritten"), "{}", text(&out));
    assert_eq!(fs::read(&existing).unwrap(), before);
}

#[test]
fn share_verify_revoke_round_trip() {
    let site = Site::new();
    let link = site.share(&[
        "cortex-l4",
        "--label",
        "Reviewer 2",
        "--expires",
        "2030-01-31",
    ]);
    assert!(
        link.starts_with("https://data.example-lab.org/private/cortex-l4/?s="),
        "{link}"
    );
    let token = link.rsplit("?s=").next().unwrap();
    assert_eq!(token.len(), 125);
    assert!(token.bytes().all(|c| c.is_ascii_alphanumeric()), "{token}");

    let (code, out) = verify_at(&site, &link, "2030-01-31T23:59:59Z");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("valid:")
            && out.contains("\"Reviewer 2\"")
            && out.contains("2030-02-01T00:00:00Z"),
        "{out}"
    );
    let (code, out) = verify_at(&site, &link, "2030-02-01T00:00:00Z");
    assert_eq!(
        (code, out.lines().next().unwrap()),
        (1, "expired: the link has expired"),
        "{out}"
    );
    let (code, out) = verify_at(&site, &link, "2020-01-01T00:00:00Z");
    assert!(code == 1 && out.starts_with("not-yet-valid:"), "{out}");
    // Dates and durations as `share --expires` takes them: valid through the 31st.
    assert_eq!(verify_at(&site, &link, "2030-01-31").0, 0);
    assert_eq!(verify_at(&site, &link, "2030-02-01").0, 1);
    assert_eq!(verify_at(&site, &link, "30d").0, 0);
    let (code, out) = verify_at(&site, &link, "100y");
    assert!(code == 1 && out.starts_with("expired:"), "{out}");
    let bad = site.run(&["verify", &link, "--at", "next tuesday"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    let list = stdout(&site.run(&["shares"]));
    assert!(list.lines().next().unwrap().starts_with("ID "), "{list}");
    assert!(
        list.contains("Reviewer 2")
            && list.contains("dataset:cortex-l4")
            && list.contains("active"),
        "{list}"
    );

    // The lost link comes back identical (Ed25519 is deterministic).
    let id = ids(&site.ledger()).pop().unwrap();
    let again = site.run(&["shares", "--link", &id]);
    assert_eq!(stdout(&again).trim(), link, "{}", text(&again));

    let out = site.run(&["revoke", &link]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, out) = verify_at(&site, &link, "2029-01-01T00:00:00Z");
    assert!(
        code == 1 && out.starts_with("revoked:") && out.contains("Reviewer 2"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&site.run(&["shares", "--json"]).stdout).unwrap();
    assert_eq!(json[0]["status"], "revoked");
    assert_eq!(json[0]["expires"], "2030-02-01T00:00:00Z");
    assert!(
        site.ledger().contains("serial: 2"),
        "first share signs serial 1, the revocation serial 2"
    );
}

#[test]
fn default_expiry_comes_from_site_yaml_and_never_means_never() {
    let site = Site::new();
    site.share(&["cortex-l4", "--label", "ninety"]);
    site.share(&["cortex-l4", "--label", "forever", "--expires", "never"]);
    let json: serde_json::Value =
        serde_json::from_slice(&site.run(&["shares", "--json"]).stdout).unwrap();
    let parse =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let days = (parse(&json[0]["expires"]) - parse(&json[0]["issued"])).num_days();
    assert_eq!(days, 90, "sharing.default_expiry: 90d");
    assert!(json[1]["expires"].is_null());
}

#[test]
fn annotation_links_open_only_their_annotation() {
    let site = Site::new();
    let link = site.share(&["cortex-l4", "--annotation", "axon-7"]);
    assert!(
        link.contains("/private/cortex-l4/annotations/axon-7/?s="),
        "{link}"
    );
    let out = site.run(&["verify", &link]);
    assert!(
        out.status.success()
            && stdout(&out).starts_with("valid: opens annotation:cortex-l4/axon-7"),
        "{}",
        text(&out)
    );
    // The same token on the dataset's page is a wrong scope, not a forgery.
    let moved = link.replace("annotations/axon-7/", "");
    let out = site.run(&["verify", &moved]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("wrong-scope:"), "{}", text(&out));
}

#[test]
fn share_refuses_what_no_link_could_open() {
    let site = Site::new();
    let cases: [(&[&str], &str); 4] = [
        (&["share", "cortex-l5"], "did you mean `cortex-l4`?"),
        (&["share", "retina-public"], "is public"),
        (
            &["share", "cortex-l4", "--annotation", "axon-8"],
            "it has: axon-7",
        ),
        (
            &["share", "cortex-l4", "--expires", "3 months"],
            "90d, 12w, 1y",
        ),
    ];
    for (args, message) in cases {
        let out = site.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}\n{}", text(&out));
        assert!(
            stderr(&out).contains(message),
            "{args:?} should say `{message}`\n{}",
            text(&out)
        );
        assert!(stdout(&out).is_empty(), "{args:?} printed a link");
    }
    assert!(
        !site.root.join("content/shares.yaml").exists(),
        "refusals record nothing"
    );
}

#[test]
fn revoke_by_ambiguous_label_lists_the_candidates() {
    let site = Site::new();
    site.share(&["cortex-l4", "--label", "Lab visit"]);
    site.share(&["cortex-l4", "--label", "Lab visit"]);
    let out = site.run(&["revoke", "lab visit"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    for id in ids(&site.ledger()) {
        assert!(
            stderr(&out).contains(&id),
            "candidate {id} not listed\n{}",
            text(&out)
        );
    }
    assert!(!site.ledger().contains("revoked: 2"), "nothing was revoked");
}

#[test]
fn removing_a_key_makes_its_links_unknown_key() {
    let site = Site::new();
    let link = site.share(&["cortex-l4"]);
    let yaml_path = site.root.join("content/site.yaml");
    let yaml = fs::read_to_string(&yaml_path).unwrap();
    let kept: Vec<&str> = yaml
        .lines()
        .filter(|l| !l.contains("kid:") && !l.contains("public_key:"))
        .collect();
    fs::write(&yaml_path, kept.join("\n") + "\n").unwrap();
    let out = site.run(&["verify", &link]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("unknown-key:"), "{}", text(&out));
}

#[test]
fn qr_code_is_written_as_svg() {
    let site = Site::new();
    let svg = site.root.parent().unwrap().join("poster.svg");
    site.share(&["cortex-l4", "--qr", svg.to_str().unwrap()]);
    let body = fs::read_to_string(&svg).unwrap();
    assert!(
        body.contains("<svg") && body.contains("</svg>") && body.len() > 1000,
        "{}",
        &body[..body.len().min(300)]
    );
}

#[test]
fn twenty_concurrent_shares_record_twenty_entries() {
    let site = Site::new();
    let children: Vec<_> = (0..20)
        .map(|i| {
            std::process::Command::new(crate::common::vitrine_bin())
                .arg("--root")
                .arg(&site.root)
                .args(["share", "cortex-l4", "--label", &format!("reader {i}")])
                .env(
                    "XDG_CONFIG_HOME",
                    site.root.parent().unwrap().join("xdg-config"),
                )
                .env_remove("VITRINE_KEY")
                .output_async()
        })
        .collect();
    let mut links = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        links.push(stdout(&out).trim().to_string());
    }
    let recorded = ids(&site.ledger());
    assert_eq!(recorded.len(), 20, "{}", site.ledger());
    let mut unique = recorded.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20);
    for i in 0..20 {
        assert!(
            site.ledger().contains(&format!("\"reader {i}\"")),
            "reader {i} lost"
        );
    }
    let out = site.run(&["verify", &links[7]]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Spawning without waiting, so the twenty runs really overlap.
trait SpawnOutput {
    fn output_async(&mut self) -> std::process::Child;
}

impl SpawnOutput for std::process::Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn vitrine")
    }
}

#[test]
fn a_corrupt_ledger_is_reported_with_its_position_and_never_rewritten() {
    let site = Site::new();
    site.share(&["cortex-l4"]);
    let path = site.root.join("content/shares.yaml");
    let corrupt = site.ledger().replace("expires: ", "expires: soon # was ");
    fs::write(&path, &corrupt).unwrap();
    let line = corrupt
        .lines()
        .position(|l| l.contains("expires: soon"))
        .unwrap()
        + 1;
    for args in [
        &["share", "cortex-l4"][..],
        &["revoke", "anything"],
        &["shares"],
        &["verify", "https://x.org/private/cortex-l4/?s=1"],
    ] {
        let out = site.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}\n{}", text(&out));
        assert!(
            stderr(&out).contains(&format!("content/shares.yaml:{line}:")),
            "{args:?} should name content/shares.yaml:{line}\n{}",
            text(&out)
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            corrupt,
            "{args:?} rewrote the ledger"
        );
    }
}

#[test]
fn mutated_links_never_verify() {
    let site = Site::new();
    let link = site.share(&["cortex-l4", "--expires", "never"]);
    let (prefix, token) = link.split_at(link.len() - 125);
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.~=%";
    // A fixed-seed xorshift makes every run try the same 2000 links.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut mutants = Vec::new();
    while mutants.len() < 2000 {
        let mut t: Vec<u8> = token.as_bytes().to_vec();
        match next(5) {
            0 => {
                let i = next(t.len());
                t[i] = alphabet[next(alphabet.len())];
            }
            1 => t.insert(next(t.len() + 1), alphabet[next(alphabet.len())]),
            2 => {
                t.remove(next(t.len()));
            }
            3 => {
                let (i, j) = (next(t.len()), next(t.len()));
                t.swap(i, j);
            }
            _ => t.truncate(next(t.len())),
        }
        if t != token.as_bytes() {
            mutants.push(format!("{prefix}{}", String::from_utf8(t).unwrap()));
        }
    }
    let root: &Path = &site.root;
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = mutants
            .chunks(500)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|m| {
                            let out = vitrine(root, &["verify", m]);
                            (out.status.code() != Some(1)).then(|| format!("{m}\n{}", text(&out)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of 2000 mutated links did not exit 1:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The revocation list `vitrine build` publishes, checked with the verifier crate.
fn published_list(site: &Site) -> (u64, Vec<String>) {
    let out = site.run(&["build"]);
    assert!(out.status.success(), "build failed\n{}", text(&out));
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(site.root.join("public/share/revocations.json")).unwrap(),
    )
    .unwrap();
    let hex8 = |s: &str| -> [u8; 8] {
        std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
    };
    let ids: Vec<String> = json["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let raw: Vec<[u8; 8]> = ids.iter().map(|s| hex8(s)).collect();
    let kid: [u8; 4] = std::array::from_fn(|i| {
        u8::from_str_radix(&json["kid"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap()
    });
    let sig = json["signature"].as_str().unwrap();
    let signature: [u8; 64] =
        std::array::from_fn(|i| u8::from_str_radix(&sig[2 * i..2 * i + 2], 16).unwrap());
    let yaml = fs::read_to_string(site.root.join("content/site.yaml")).unwrap();
    let keys: Vec<([u8; 4], [u8; 32])> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("public_key: "))
        .map(|pk| {
            let pk = pk.trim_matches('"');
            let pk: [u8; 32] =
                std::array::from_fn(|i| u8::from_str_radix(&pk[2 * i..2 * i + 2], 16).unwrap());
            (vitrine_verify::kid_of(&pk), pk)
        })
        .collect();
    let list = vitrine_verify::UntrustedRevocationList {
        serial: json["serial"].as_u64().unwrap(),
        issued: json["issued"].as_u64().unwrap(),
        revoked: &raw,
        signer: Some(vitrine_verify::Signer { kid, signature }),
    };
    let verified = list
        .verify(keys.as_slice())
        .unwrap_or_else(|e| panic!("published list does not verify: {e}\n{json}"));
    (verified.serial(), ids)
}

#[test]
fn build_publishes_the_signed_revocation_list() {
    let site = Site::new();
    site.share(&["cortex-l4", "--label", "kept"]);
    let link = site.share(&["cortex-l4", "--label", "gone"]);
    assert_eq!(published_list(&site), (1, vec![]));
    assert!(site.run(&["revoke", "gone"]).status.success());
    let gone = ids(&site.ledger())[1].clone();
    assert_eq!(published_list(&site), (2, vec![gone]));
    // The edge module carries the same list, and never the key.
    let edge = fs::read_to_string(
        site.root
            .join(".netlify/v1/edge-functions/vitrine-share.js"),
    )
    .unwrap();
    assert!(
        edge.contains(&ids(&site.ledger())[1]),
        "the edge module misses the revoked id"
    );
    let key_file = fs::read_to_string(site.key_dir().join(format!("{}.key", site.kid))).unwrap();
    let body: String = key_file
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        !edge.contains(&body),
        "the private key reached the edge module"
    );
    assert!(verify_at(&site, &link, "2026-12-01T00:00:00Z")
        .1
        .starts_with("revoked:"));
}

#[test]
fn key_rotation_re_signs_the_list_and_orphans_only_old_links() {
    let site = Site::new();
    let old_link = site.share(&["cortex-l4", "--label", "old"]);
    let new_kid = stdout(&site.run(&["keygen"])).trim().to_string();
    let new_link = site.share(&["cortex-l4", "--label", "new"]);
    assert!(
        site.ledger().contains(&format!("kid: \"{new_kid}\"")),
        "the newest key signs new links"
    );
    // Step 3 of the rotation: drop the old key from site.yaml.
    let yaml_path = site.root.join("content/site.yaml");
    let yaml = fs::read_to_string(&yaml_path).unwrap();
    let lines: Vec<&str> = yaml.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("kid: \"{}\"", site.kid)))
        .unwrap();
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at && *i != at + 1)
        .map(|(_, l)| *l)
        .collect();
    fs::write(&yaml_path, kept.join("\n") + "\n").unwrap();
    let out = site.run(&["build"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a list signed by a removed key must not be published\n{}",
        text(&out)
    );
    assert!(stderr(&out).contains("revoke --resign"), "{}", text(&out));
    assert!(site.run(&["revoke", "--resign"]).status.success());
    let (serial, _) = published_list(&site);
    assert!(serial >= 2);
    assert!(stdout(&site.run(&["verify", &old_link])).starts_with("unknown-key:"));
    assert!(site.run(&["verify", &new_link]).status.success());
}

/// The site's revocation list as published in `public/`: serial and ids (not rebuilt here).
fn list_on_disk(site: &Site) -> (u64, Vec<String>) {
    let path = site.root.join("public/share/revocations.json");
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let ids = json["revoked"].as_array().unwrap();
    (
        json["serial"].as_u64().unwrap(),
        ids.iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
    )
}

#[test]
fn an_older_ledger_restored_is_refused_until_the_revocations_are_carried_over() {
    let site = Site::new();
    site.share(&["cortex-l4", "--label", "kept"]);
    let gone = site.share(&["cortex-l4", "--label", "gone"]);
    let before = site.ledger();
    assert!(site.run(&["revoke", "gone"]).status.success());
    let gone_id = ids(&site.ledger())[1].clone();
    assert_eq!(published_list(&site), (2, vec![gone_id.clone()]));

    // `git revert` of the revocation: build and check refuse, naming the id, and publish nothing.
    fs::write(site.root.join("content/shares.yaml"), &before).unwrap();
    for command in [&["build"][..], &["check"]] {
        let out = site.run(command);
        assert_eq!(out.status.code(), Some(1), "{command:?}\n{}", text(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&gone_id) && err.contains("public/share/revocations.json"),
            "{err}"
        );
        assert!(err.contains("vitrine revoke --resign"), "{err}");
    }
    assert_eq!(list_on_disk(&site), (2, vec![gone_id.clone()]));

    // Without any output left, the record beside the keys still remembers.
    fs::remove_dir_all(site.root.join("public")).unwrap();
    let _ = fs::remove_dir_all(site.root.join(".public.spare"));
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("revocations/"), "{}", text(&out));
    assert!(stderr(&out).contains(&gone_id), "{}", text(&out));
    assert_eq!(
        verify_at(&site, &gone, "2026-12-05T00:00:00Z").0,
        1,
        "verify follows the record too"
    );

    // The documented repair: carry every revoked id into the ledger.
    let resign = site.run(&["revoke", "--resign"]);
    assert!(resign.status.success(), "{}", text(&resign));
    assert!(
        site.ledger().contains("revoked: "),
        "the share is marked revoked again"
    );
    assert_eq!(published_list(&site), (3, vec![gone_id]));
}

#[test]
fn a_list_missing_from_the_ledger_but_recorded_blocks_a_fresh_clone_too() {
    // Two checkouts of one site on one machine: a revocation made in one is enforced in the other.
    let site = Site::new();
    site.share(&["cortex-l4", "--label", "gone"]);
    let clone = site.root.parent().unwrap().join("clone");
    crate::common::copy_dir(&site.root, &clone);
    assert!(site.run(&["revoke", "gone"]).status.success());
    let out = vitrine(&clone, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("revokes a share"), "{}", text(&out));
}

/// Serves `body` at `/share/revocations.json` (and 404 elsewhere) on 127.0.0.1 for `count`
/// requests; returns the base URL.
fn serve_list(body: String, count: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(count) {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..n]);
            let reply = if head.starts_with("GET /lab/share/revocations.json ") {
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}/lab")
}

#[test]
fn against_live_refuses_to_go_behind_the_deployed_list() {
    let site = Site::new();
    site.share(&["cortex-l4", "--label", "gone"]);
    assert!(site.run(&["revoke", "gone"]).status.success());
    let gone_id = ids(&site.ledger())[0].clone();
    let deployed = {
        let out = site.run(&["build"]);
        assert!(out.status.success(), "{}", text(&out));
        fs::read_to_string(site.root.join("public/share/revocations.json")).unwrap()
    };

    // Another machine (no output, no record) with the ledger from before the revocation.
    let other = Site::new();
    let base = serve_list(deployed, 4);
    let yaml = fs::read_to_string(other.root.join("content/site.yaml")).unwrap();
    let yaml: String = yaml
        .lines()
        .map(|l| match l.starts_with("base_url:") {
            true => format!("base_url: {base}\n"),
            false => format!("{l}\n"),
        })
        .collect();
    fs::write(other.root.join("content/site.yaml"), yaml).unwrap();
    assert!(
        other.run(&["build"]).status.success(),
        "nothing in sight yet"
    );
    for command in [
        &["build", "--against-live"][..],
        &["check", "--against-live"],
    ] {
        let out = other.run(command);
        assert_eq!(out.status.code(), Some(1), "{command:?}\n{}", text(&out));
        assert!(stderr(&out).contains(&gone_id), "{}", text(&out));
        assert!(
            stderr(&out).contains(&format!("{base}/share/revocations.json")),
            "{}",
            text(&out)
        );
    }

    // Offline: a clear message, not a hang.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    drop(listener);
    let yaml = fs::read_to_string(other.root.join("content/site.yaml")).unwrap();
    fs::write(
        other.root.join("content/site.yaml"),
        yaml.replace(&base, &closed),
    )
    .unwrap();
    let out = other.run(&["build", "--against-live"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("cannot read the deployed revocation list"),
        "{}",
        text(&out)
    );
}

/// The seed of the site's key in every encoding the key check must know, by name.
fn key_encodings(site: &Site) -> Vec<(&'static str, Vec<u8>)> {
    use base64ct::{Base64, Base64UrlUnpadded, Encoding};
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    let pem = fs::read_to_string(site.key_dir().join(format!("{}.key", site.kid))).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let seed = key.to_bytes();
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let v1 = {
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        der
    };
    let v2 = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
    assert_eq!(&v2[..5], &[0x30, 0x51, 0x02, 0x01, 0x01], "PKCS#8 v2");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    // Base62 as a big-endian number, computed independently of vitrine's code.
    let mut n = seed.to_vec();
    let mut b62 = Vec::new();
    while n.iter().any(|&b| b != 0) {
        let mut rest = 0u32;
        for b in &mut n {
            let acc = rest * 256 + u32::from(*b);
            *b = (acc / 62) as u8;
            rest = acc % 62;
        }
        b62.push(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[rest as usize]);
    }
    b62.reverse();
    let framed = |inner: &[u8]| [b"notes: ".as_slice(), inner, b"\n"].concat();
    vec![
        ("pkcs8 v1 der", v1.clone()),
        ("pkcs8 v2 der", v2.clone()),
        (
            "pkcs8 v2 der inside other bytes",
            [b"x".repeat(100), v2].concat(),
        ),
        ("pem", pem.clone().into_bytes()),
        ("pem body without its header", framed(body.as_bytes())),
        (
            "v1 der as base64",
            framed(Base64::encode_string(&v1).as_bytes()),
        ),
        ("raw seed", seed.to_vec()),
        ("hex seed", framed(hex.as_bytes())),
        ("HEX seed", framed(hex.to_uppercase().as_bytes())),
        (
            "base64 seed",
            framed(Base64::encode_string(&seed).as_bytes()),
        ),
        (
            "base64url seed",
            framed(Base64UrlUnpadded::encode_string(&seed).as_bytes()),
        ),
        ("base62 seed", framed(&b62)),
    ]
}

#[test]
fn the_key_check_knows_every_encoding_of_the_key_in_every_place() {
    let site = Site::new();
    let public = site.root.join("content/datasets/retina-public");
    let descriptor = fs::read_to_string(public.join("dataset.yaml")).unwrap();
    assert!(site.run(&["build"]).status.success());
    for (name, bytes) in key_encodings(&site) {
        // In content/, published nowhere; linked from a public description; dropped into the output.
        let places: [(&str, PathBuf, bool); 3] = [
            (
                "content",
                site.root.join("content/datasets/cortex-l4/notes.txt"),
                false,
            ),
            ("linked", public.join("notes.txt"), true),
            (
                "output",
                site.root.join("public/datasets/retina-public/notes.txt"),
                false,
            ),
        ];
        for (place, path, linked) in places {
            fs::write(&path, &bytes).unwrap();
            if linked {
                let linking = format!("{descriptor}description: \"[notes](notes.txt)\"\n");
                fs::write(public.join("dataset.yaml"), linking).unwrap();
            }
            let out = site.run(&["build"]);
            fs::remove_file(&path).unwrap();
            fs::write(public.join("dataset.yaml"), &descriptor).unwrap();
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name} in {place}\n{}",
                text(&out)
            );
            let err = stderr(&out);
            assert!(
                err.contains("private key material") && err.contains("notes.txt"),
                "{name} in {place}\n{err}"
            );
        }
    }
    let out = site.run(&["build"]);
    assert!(out.status.success(), "clean again\n{}", text(&out));
}

#[test]
fn the_edge_module_is_readable_by_deploy_tools_running_as_another_user() {
    let site = Site::new();
    let out = site.run(&["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let module = site
        .root
        .join(".netlify/v1/edge-functions/vitrine-share.js");
    let mode = fs::metadata(module).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "mode {mode:o}");
}

#[test]
fn keygen_says_what_to_back_up_and_what_comes_next() {
    let (_tmp, root) = fixture("sites/share-basic");
    let out = vitrine(&root, &["keygen"]);
    let err = stderr(&out);
    assert!(err.contains("Keep a private backup"), "{err}");
    assert!(
        err.contains("Next: run `vitrine build` and deploy"),
        "{err}"
    );
}

#[test]
fn a_key_kept_outside_the_key_folder_is_found_by_every_command() {
    let (tmp, root) = fixture("sites/share-basic");
    let elsewhere = tmp.path().join("usb-stick/lab-signing.key");
    let out = vitrine(&root, &["keygen", "--key", elsewhere.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let share = vitrine(&root, &["share", "cortex-l4", "--label", "far"]);
    assert!(
        share.status.success(),
        "share without --key\n{}",
        text(&share)
    );
    let link = stdout(&share).trim().to_string();
    let again = vitrine(&root, &["shares", "--link", "far"]);
    assert_eq!(stdout(&again).trim(), link, "{}", text(&again));
    let revoke = vitrine(&root, &["revoke", "far"]);
    assert!(
        revoke.status.success(),
        "revoke without --key\n{}",
        text(&revoke)
    );
}

#[test]
fn static_links_carry_a_secret_that_verify_and_revoke_read() {
    let (_tmp, root) = fixture("sites/serve");
    let yaml = root.join("content/site.yaml");
    let site = fs::read_to_string(&yaml).unwrap();
    fs::write(&yaml, site.replace("hosting: netlify", "hosting: static")).unwrap();
    assert!(vitrine(&root, &["keygen"]).status.success());
    let out = vitrine(&root, &["share", "closed-retina", "--label", "r1"]);
    assert!(out.status.success(), "{}", text(&out));
    let link = stdout(&out).trim().to_string();
    let (address, secret) = link.split_once('#').expect("a fragment");
    assert!(address.ends_with("/private/closed-retina/"), "{link}");
    assert!(link.len() < 200 && secret.len() == 22, "{link}");
    // The content secret was made beside the key, and every command reads links with it.
    let verify = |link: &str| {
        let out = vitrine(&root, &["verify", link]);
        (out.status.code(), stdout(&out))
    };
    let (code, said) = verify(&link);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.starts_with("valid: opens dataset:closed-retina"),
        "{said}"
    );
    // A link broken across lines in a PDF still reads.
    let (code, _) = verify(&format!("{}\n{}", &link[..40], &link[40..]));
    assert_eq!(code, Some(0));
    let mut tampered = link.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'a' { b'b' } else { b'a' };
    let (code, said) = verify(&String::from_utf8(tampered).unwrap());
    assert_eq!(code, Some(1));
    assert!(said.starts_with("invalid: "), "{said}");
    assert!(verify(address).1.starts_with("missing: "));
    let (_, said) = verify(&link.replace("closed-retina", "open-cortex"));
    assert!(said.starts_with("wrong-scope: "), "{said}");

    let revoked = vitrine(&root, &["revoke", &link]);
    assert!(revoked.status.success(), "{}", text(&revoked));
    let (code, said) = verify(&link);
    assert_eq!(code, Some(1));
    assert!(said.starts_with("revoked: "), "{said}");
}
