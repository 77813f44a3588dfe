//! `vitrine serve`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine serve`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine serve` is not built yet")
}
