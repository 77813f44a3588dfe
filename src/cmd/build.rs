//! `vitrine build`: build the site into `public/` (or `--out`), atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::site::{default_out, BuildOptions, Site};

/// Options of `vitrine build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder; default `ROOT/public`. It is replaced atomically.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Base URL to build for instead of `base_url` in site.yaml (e.g. a deploy preview).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Also refuse to publish a revocation list older than the one deployed at `base_url`
    /// (fetched over HTTPS; fails when it cannot be read).
    #[arg(long)]
    pub against_live: bool,
}

/// Runs `vitrine build`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let out = args.out.unwrap_or_else(|| default_out(root));
    let mut site = Site::new(root);
    let report = site.build(&BuildOptions {
        out: out.clone(),
        base_url: args.base_url,
        progress: true,
        preview: false,
        against_live: args.against_live,
    })?;
    for warning in &report.warnings {
        eprintln!("{warning}");
    }
    if !report.skipped_private.is_empty() {
        eprintln!(
            "note: {} private dataset{} not built ({}): `hosting: static` has no gate to keep them private; \
             use `hosting: netlify` or `hosting: cloudflare` to share them by link",
            report.skipped_private.len(),
            if report.skipped_private.len() == 1 { " was" } else { "s were" },
            report.skipped_private.join(", ")
        );
    }
    if !report.removed.is_empty() {
        let n = report.removed.len();
        eprintln!(
            "removed {n} file{} vitrine did not write: {}",
            if n == 1 { "" } else { "s" },
            report.removed.join(", ")
        );
    }
    let what = if report.changed.is_empty() {
        "nothing changed".to_string()
    } else {
        format!(
            "{} file{} changed",
            report.changed.len(),
            if report.changed.len() == 1 { "" } else { "s" }
        )
    };
    eprintln!(
        "Built {} public and {} private dataset{} into {} ({} files, {what}) in {:.2} s",
        report.public_datasets,
        report.private_datasets,
        if report.private_datasets == 1 {
            ""
        } else {
            "s"
        },
        out.display(),
        report.files,
        report.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
