//! `vitrine shares`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine shares`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine shares`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine shares` is not built yet")
}
