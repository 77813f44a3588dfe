//! `vitrine init`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine init`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine init`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine init` is not built yet")
}
