//! `vitrine check`: the build with writing switched off ([`Site::checking`]), so it refuses
//! exactly what `build` refuses: content, images (the build's decoders), the theme's templates,
//! the refusal pages and edge modules, the ledger and its permanence, sealing, the leak guard
//! and the key scan.

use std::path::Path;
use std::process::ExitCode;

use crate::site::{default_out, BuildOptions, Site};

/// Options of `vitrine check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also check the revocation list against the one deployed at `base_url`.
    #[arg(long)]
    pub against_live: bool,
}

/// Runs `vitrine check`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let mut site = Site::checking(root)?;
    let report = site.build(&BuildOptions {
        out: default_out(root),
        base_url: None,
        progress: true,
        preview: false,
        against_live: args.against_live,
    })?;
    for warning in &report.warnings {
        eprintln!("{warning}");
    }
    let datasets = report.public_datasets + report.private_datasets;
    eprintln!(
        "ok: {datasets} datasets ({} public, {} private) would build into {} files; nothing was written",
        report.public_datasets, report.private_datasets, report.files
    );
    Ok(ExitCode::SUCCESS)
}
