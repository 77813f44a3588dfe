//! `vitrine build`: build the site into `public/` (or `--out`), atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::content::{load_config, Hosting};
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
    // The build just read site.yaml, so it parses; the hint is skipped if it was edited since.
    if let Ok(config) = load_config(root) {
        eprintln!("{}", next_step(root, &out, config.hosting));
    }
    Ok(ExitCode::SUCCESS)
}

/// The command that deploys this output with its gate, so nobody uploads `public/` alone.
fn next_step(root: &Path, out: &Path, hosting: Hosting) -> String {
    let cd = if root == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", shell_word(root))
    };
    let dir = if out == default_out(root) {
        None
    } else {
        Some(shell_word(out))
    };
    match hosting {
        Hosting::Netlify => format!(
            "Deploy with the gate (netlify-cli 23.10 or newer; never upload the folder alone):\n  {cd}netlify deploy --prod --no-build{}",
            dir.map(|d| format!(" --dir {d}")).unwrap_or_default()
        ),
        Hosting::Cloudflare => {
            let target = match (dir, root.join("wrangler.toml").is_file()) {
                (None, true) => String::new(),
                (dir, _) => format!(
                    " {} --project-name <your Pages project>",
                    dir.unwrap_or_else(|| "public".into())
                ),
            };
            format!(
                "Deploy with the gate (public/_worker.js; never upload the folder without it):\n  {cd}npx wrangler pages deploy{target}\n\
                 Once per Pages project, give the gate its key (it opens the sealed private files):\n  \
                 vitrine secret --edge | npx wrangler pages secret put VITRINE_EDGE_KEY{}",
                target.split_once(" --project-name").map(|(_, p)| format!(" --project-name{p}")).unwrap_or_default()
            )
        }
        Hosting::Static => format!(
            "Deploy: upload {} as it is to your host (private files in it are sealed; share links carry their key), e.g. rsync -a --delete {}/ server:/var/www/site/",
            out.display(),
            shell_word(out)
        ),
    }
}

/// `path` as one shell word: quoted when it holds anything but plain path characters.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
