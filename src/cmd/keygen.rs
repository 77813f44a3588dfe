//! `vitrine keygen`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine keygen`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine keygen` is not built yet")
}
