//! `vitrine verify`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine verify`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine verify`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine verify` is not built yet")
}
