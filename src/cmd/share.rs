//! `vitrine share`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine share`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine share`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine share` is not built yet")
}
