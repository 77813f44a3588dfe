//! Helpers shared by the test modules: run the real `vitrine` binary on a copy of a fixture site.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `vitrine` binary cargo built for these tests.
pub fn vitrine_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vitrine"))
}

/// Runs `vitrine --root ROOT ARGS…` with a private config home, returning its output.
pub fn vitrine(root: &Path, args: &[&str]) -> Output {
    let config = root.parent().unwrap_or(root).join("xdg-config");
    Command::new(vitrine_bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .env("XDG_CONFIG_HOME", &config)
        .env_remove("VITRINE_KEY")
        .env_remove("VITRINE_CONTENT_SECRET")
        .output()
        .expect("run vitrine")
}

/// Copies `tests/sites/<name>` (or any folder) into a fresh temporary folder and returns both.
pub fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = repo().join("tests").join(name);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dst = tmp.path().join("site");
    copy_dir(&src, &dst);
    (tmp, dst)
}

/// Recursively copies a folder (files and folders only).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display())) {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// stdout and stderr of a run, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The plain bytes of the sealed private file `rel` (a path under `ROOT/public/`), opened with
/// the site's content secret as `vitrine secret` prints it, the way a gate opens it.
pub fn unseal(root: &Path, rel: &str) -> Vec<u8> {
    let out = vitrine(root, &["secret"]);
    assert!(out.status.success(), "{}", text(&out));
    let hex = String::from_utf8(out.stdout).unwrap();
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let secret = vitrine::share::secret::ContentSecret::from_bytes(bytes.try_into().unwrap());
    // On a host without a gate a page's sealed bytes lie beside its address, which the loader has.
    let aside = root.join("public").join(format!("{rel}.sealed"));
    let file = match aside.is_file() {
        true => aside,
        false => root.join("public").join(rel),
    };
    let sealed = std::fs::read(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    vitrine::output::seal::open(&secret.edge_key(), rel, &sealed)
        .unwrap_or_else(|| panic!("public/{rel} is not sealed for its path with the site's secret"))
}

/// [`unseal`] as text.
pub fn read_private(root: &Path, rel: &str) -> String {
    String::from_utf8(unseal(root, rel)).unwrap()
}

/// Turns a copy of `tests/sites/serve` into a WebP site (`images: { format: webp }`) whose two
/// datasets show a 600 × 400 gray image with texture (many values, so it is not kept as PNG).
pub fn webp_site(root: &Path) {
    let yaml = root.join("content/site.yaml");
    let mut text = std::fs::read_to_string(&yaml).unwrap();
    text.push_str("images:\n  format: webp\n");
    std::fs::write(&yaml, text).unwrap();
    // Each dataset its own pixels: one image in both would be a private image made public.
    for (seed, slug) in [(0, "open-cortex"), (1, "closed-retina")] {
        let image = image::GrayImage::from_fn(600, 400, |x, y| {
            image::Luma([((x * 7 + y * 13 + (x * y) % 97 + seed * 31) % 256) as u8])
        });
        image
            .save(root.join(format!("content/datasets/{slug}/thumb.png")))
            .unwrap();
    }
}
