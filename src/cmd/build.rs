//! `vitrine build`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine build`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine build`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine build` is not built yet")
}
