//! `vitrine check`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine check`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine check` is not built yet")
}
