//! `vitrine revoke`.

use std::path::Path;
use std::process::ExitCode;

/// Options of `vitrine revoke`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `vitrine revoke`.
pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vitrine revoke` is not built yet")
}
