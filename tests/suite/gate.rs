//! The gate's decision (`vitrine::share::gate`) against `tests/vectors/gate-cases.json`, the same
//! cases the Deno and workerd tests run through the edge modules; and the edge modules rendered
//! from the built-in theme.

use std::collections::BTreeMap;

use serde_json::Value;
use vitrine::output::edge::{self, Edge, EdgeSources};
use vitrine::render::Theme;
use vitrine::share::gate::{decide, Decision, GateData, Request, PRIVATE_HEADERS};

use crate::common::repo;

fn cases_file() -> Value {
    let path = repo().join("tests/vectors/gate-cases.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read gate-cases.json"))
        .expect("parse gate-cases.json")
}

/// Replaces `{name}` placeholders with the named test tokens.
fn fill(text: &str, tokens: &serde_json::Map<String, Value>) -> String {
    let mut out = text.to_string();
    for (name, token) in tokens {
        out = out.replace(&format!("{{{name}}}"), token.as_str().unwrap());
    }
    out
}

/// The parts of a `Set-Cookie` header the cases name, keyed like the vectors file.
fn parse_cookie(header: &str) -> Value {
    let mut parts = header.split(';').map(str::trim);
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    let mut out =
        serde_json::json!({"name": name, "value": value, "http_only": false, "secure": false});
    for attr in parts {
        let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
        match k.to_ascii_lowercase().as_str() {
            "path" => out["path"] = v.into(),
            "max-age" => out["max_age"] = v.parse::<u64>().unwrap().into(),
            "httponly" => out["http_only"] = true.into(),
            "secure" => out["secure"] = true.into(),
            "samesite" => out["same_site"] = v.into(),
            other => panic!("unexpected cookie attribute {other}"),
        }
    }
    out
}

#[test]
fn every_gate_case_decides_as_the_vectors_say() {
    let file = cases_file();
    let data: GateData = serde_json::from_value(file["site"].clone()).expect("site data");
    let tokens = file["tokens"].as_object().unwrap();
    let mut failures = Vec::new();
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let query = fill(case["query"].as_str().unwrap(), tokens);
        let cookies: Vec<String> = case["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| fill(c.as_str().unwrap(), tokens))
            .collect();
        let cookie_header = cookies.join("; ");
        let headers: Vec<&str> = if cookies.is_empty() {
            vec![]
        } else {
            vec![cookie_header.as_str()]
        };
        let request = Request {
            path: case["path"].as_str().unwrap(),
            query: &query,
            cookies: &headers,
            plain_http_localhost: case["localhost"].as_bool().unwrap(),
            now: case["now"].as_u64().unwrap(),
        };
        let expect: Value =
            serde_json::from_str(&fill(&case["expect"].to_string(), tokens)).unwrap();
        let got = match decide(&data, &request) {
            Decision::Pass => serde_json::json!({"answer": "pass"}),
            Decision::Serve { segments } => {
                assert_eq!(
                    segments[0], "private",
                    "{name}: served segments {segments:?}"
                );
                serde_json::json!({"answer": "serve"})
            }
            Decision::Redirect {
                status,
                location,
                set_cookie,
            } => {
                let mut v = serde_json::json!({"answer": "redirect", "status": status, "location": location});
                if let Some(c) = set_cookie {
                    v["set_cookie"] = parse_cookie(&c);
                }
                v
            }
            Decision::Refuse { status, reason } => {
                serde_json::json!({"answer": "refuse", "status": status, "reason": reason})
            }
        };
        if got != expect {
            failures.push(format!("{name}:\n  got  {got}\n  want {expect}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} gate cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn private_headers_are_the_vectors_headers() {
    let file = cases_file();
    let want = &file["gated_headers"];
    let got: BTreeMap<&str, &str> = PRIVATE_HEADERS.into_iter().collect();
    assert_eq!(got["Cache-Control"], want["cache_control"]);
    assert_eq!(got["X-Robots-Tag"], want["x_robots_tag"]);
    assert_eq!(got["Referrer-Policy"], want["referrer_policy"]);
}

#[test]
fn gate_data_round_trips_through_json() {
    let file = cases_file();
    let data: GateData = serde_json::from_value(file["site"].clone()).unwrap();
    assert_eq!(serde_json::to_value(&data).unwrap(), file["site"]);
    let bad =
        serde_json::json!({"keys": {"XYZ": "00"}, "revoked": [], "serial": 0, "published": {}});
    let err = serde_json::from_value::<GateData>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("key id `XYZ`"), "{err}");
}

/// The built-in theme, as `vitrine build` loads it for a site without `themes/`.
fn builtin_theme() -> Theme {
    let empty = tempfile::tempdir().unwrap();
    Theme::load(empty.path(), None).unwrap()
}

fn site_view() -> Value {
    serde_json::json!({"title": "Gate Lab", "base_url": "https://gate.test/", "description_html": "", "hosting": "netlify"})
}

#[test]
fn refusal_pages_say_what_happened_and_name_nothing_private() {
    let theme = builtin_theme();
    let pages = edge::render_gate_pages(&theme, &site_view(), "/").unwrap();
    for (key, status, _) in vitrine::share::gate::refusal_pages() {
        let page = &pages[key];
        assert!(
            page.contains(&format!(">{status}<")),
            "{key} page shows no {status}:\n{page}"
        );
        assert!(
            page.contains("Gate Lab"),
            "{key} page is not styled like the site"
        );
        // tera escapes `/` as `&#x2F;` in attributes, which browsers read back as `/`.
        let root_css = [
            "href=\"/assets/vitrine.css\"",
            "href=\"&#x2F;assets/vitrine.css\"",
        ];
        assert!(
            root_css.iter().any(|c| page.contains(c)),
            "{key} page links no stylesheet from the root:\n{page}"
        );
        assert!(page.contains("noindex"), "{key} page may be indexed");
    }
    assert!(pages["expired"].contains("expired") && pages["revoked"].contains("withdrawn"));
    assert!(pages["missing"].contains("private"));
}

#[test]
fn edge_modules_carry_the_data_and_no_template_syntax() {
    let data: GateData = serde_json::from_value(cases_file()["site"].clone()).unwrap();
    let theme = builtin_theme();
    let pages = edge::render_gate_pages(&theme, &site_view(), "/").unwrap();
    let sources = EdgeSources::from_theme(&theme).unwrap();
    for (edge_kind, export) in [
        (Edge::Netlify, "export const config = { path: \"/*\" };"),
        (Edge::Cloudflare, "async fetch(request, env)"),
    ] {
        let module = edge::render_edge_module(edge_kind, &sources, &data, &pages, None).unwrap();
        assert!(
            module.contains(export),
            "{edge_kind:?} module lacks `{export}`"
        );
        assert!(
            module.contains(&serde_json::to_string(&data).unwrap()),
            "{edge_kind:?} module lacks the gate data"
        );
        assert!(
            !module.contains("{{") && !module.contains("{%"),
            "{edge_kind:?} module has template syntax left"
        );
        assert!(
            !module.contains("import "),
            "{edge_kind:?} module imports something"
        );
    }
}

#[test]
fn the_edge_key_goes_into_the_netlify_module_only() {
    let data: GateData = serde_json::from_value(cases_file()["site"].clone()).unwrap();
    let theme = builtin_theme();
    let pages = edge::render_gate_pages(&theme, &site_view(), "/").unwrap();
    let sources = EdgeSources::from_theme(&theme).unwrap();
    let key = "0f".repeat(32);
    let render = |edge_kind: Edge, key: Option<&str>| {
        edge::render_edge_module(edge_kind, &sources, &data, &pages, key)
    };
    let netlify = render(Edge::Netlify, Some(key.as_str())).unwrap();
    assert!(netlify.contains(&format!("const EDGE_KEY = \"{key}\";")));
    let none = render(Edge::Netlify, None).unwrap();
    assert!(none.contains("const EDGE_KEY = null;"));
    // The worker is a public file: it reads the Pages secret, whatever the build holds.
    let worker = render(Edge::Cloudflare, Some(key.as_str())).unwrap();
    assert!(!worker.contains(&key) && worker.contains("env.VITRINE_EDGE_KEY"));
    for bad in [
        "0F".repeat(32),
        "0f".repeat(31),
        format!("\"+{}", "0".repeat(62)),
    ] {
        let err = render(Edge::Netlify, Some(bad.as_str())).unwrap_err();
        assert!(err.to_string().contains("64 lowercase hex digits"), "{err}");
    }
}

#[test]
fn a_user_theme_overrides_edge_templates_file_by_file() {
    let root = tempfile::tempdir().unwrap();
    let edge_dir = root.path().join("themes/custom/edge");
    std::fs::create_dir_all(&edge_dir).unwrap();
    for dir in ["templates", "static"] {
        std::fs::create_dir_all(root.path().join("themes/custom").join(dir)).unwrap();
    }
    std::fs::write(
        edge_dir.join("worker.js"),
        "// custom\n{% include \"gate.js\" %}\nexport default { fetch: gate };\n",
    )
    .unwrap();
    let theme = Theme::load(root.path(), Some("custom")).unwrap();
    let sources = EdgeSources::from_theme(&theme).unwrap();
    let data = GateData::default();
    let pages = edge::render_gate_pages(&theme, &site_view(), "/").unwrap();
    let worker = edge::render_edge_module(Edge::Cloudflare, &sources, &data, &pages, None).unwrap();
    assert!(worker.starts_with("// custom\n") && worker.contains("async function gate("));
    let netlify = edge::render_edge_module(Edge::Netlify, &sources, &data, &pages, None).unwrap();
    assert!(netlify.contains("context.next()"));
    let mut missing = pages.clone();
    missing.remove("revoked");
    let err = edge::render_edge_module(Edge::Netlify, &sources, &data, &missing, None).unwrap_err();
    assert!(err.to_string().contains("`revoked`"), "{err}");
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_build_writes_the_gate_its_hosting_runs_and_no_key_byte() {
    let seed_hex = cases_file()["signing_seed_for_leak_tests"]
        .as_str()
        .unwrap()
        .to_string();
    let seed: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&seed_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    for hosting in ["netlify", "cloudflare", "static"] {
        let (_tmp, root) = crate::common::fixture("sites/gate");
        let yaml = root.join("content/site.yaml");
        let text = std::fs::read_to_string(&yaml)
            .unwrap()
            .replace("hosting: netlify", &format!("hosting: {hosting}"));
        std::fs::write(&yaml, text).unwrap();
        // As a CI build runs: the content secret from the environment, no key file around.
        let secret = "5e".repeat(32);
        let out = std::process::Command::new(crate::common::vitrine_bin())
            .args(["--root", root.to_str().unwrap(), "build"])
            .env("XDG_CONFIG_HOME", root.parent().unwrap().join("xdg-config"))
            .env("VITRINE_CONTENT_SECRET", &secret)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{hosting}: {}",
            crate::common::text(&out)
        );
        let edge_key = vitrine::share::secret::ContentSecret::from_bytes([0x5e; 32])
            .edge_key()
            .to_hex();
        let netlify = root.join(edge::NETLIFY_MODULE);
        let worker = root.join("public").join(edge::CLOUDFLARE_WORKER);
        assert_eq!(
            netlify.is_file(),
            hosting == "netlify",
            "{hosting}: {}",
            netlify.display()
        );
        assert_eq!(
            worker.is_file(),
            hosting == "cloudflare",
            "{hosting}: {}",
            worker.display()
        );
        assert!(root.join("public/private").exists(), "{hosting}: private/");
        let mut written = files_under(&root.join("public"));
        written.extend(netlify.is_file().then_some(netlify.clone()));
        for file in written {
            let bytes = std::fs::read(&file).unwrap();
            let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
            assert!(
                !bytes.windows(32).any(|w| w == seed.as_slice()) && !text.contains(&seed_hex),
                "{hosting}: {} holds the signing key",
                file.display()
            );
            assert!(
                !text.contains(&secret),
                "{hosting}: {} holds the content secret",
                file.display()
            );
            // Only the Netlify function, which lives outside public/, holds the edge key.
            assert!(
                file == netlify || !text.contains(&edge_key),
                "{hosting}: {} holds the edge key",
                file.display()
            );
        }
    }
}
