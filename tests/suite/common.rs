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
