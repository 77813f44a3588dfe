//! `vitrine check`: validate everything `build` would read, write nothing, report every problem.

use std::path::Path;
use std::process::ExitCode;

use crate::content::{self, Diagnostic, Diagnostics};
use crate::media;
use crate::share::permanence;

/// Options of `vitrine check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also check the revocation list against the one deployed at `base_url`.
    #[arg(long)]
    pub against_live: bool,
}

/// Runs `vitrine check`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let content = content::load(root)?;
    let mut problems = Diagnostics::default();
    let settings = crate::site::media_settings(root, &content);
    for d in &content.datasets {
        let mut images: Vec<&std::path::PathBuf> =
            std::iter::once(&d.thumbnail).chain(&d.images).collect();
        images.sort();
        images.dedup();
        for image in images {
            if let Err(err) = media::verify(image, &settings) {
                problems.push(d.image_problem(image, &err.problem()).relative_to(root));
            }
        }
        // Label images are decoded too; their alignment with the images is checked by build,
        // which has every slice's size.
        for l in &d.layers {
            for image in &l.images {
                if let Err(err) = media::verify_labels(image, &settings) {
                    let name = image.strip_prefix(&d.dir).unwrap_or(image).display();
                    let problem = format!("'{name}': {}", err.problem());
                    problems.push(l.images_problem(d, &problem).relative_to(root));
                }
            }
        }
    }
    if let Err(err) = crate::render::Theme::load(root, content.config.theme.as_deref()) {
        problems.push(Diagnostic::new(root.join("themes"), format!("{err:#}")).relative_to(root));
    }
    match crate::share::ledger::Ledger::load(root) {
        Ok(ledger) => {
            let outputs = crate::site::outputs_in_sight(root, &crate::site::default_out(root));
            let permanent = crate::share::revocations::verified(&ledger, &content.config.keys)
                .and_then(|list| {
                    let base_url = &content.config.base_url;
                    let seen = permanence::in_sight(&outputs, base_url, args.against_live)?;
                    permanence::check(list.serial(), list.revoked(), &seen)
                });
            if let Err(err) = permanent {
                problems.push(Diagnostic::new("content/shares.yaml", format!("{err:#}")));
            }
        }
        Err(diagnostic) => problems.push(diagnostic),
    }
    if !problems.is_empty() {
        return Err(problems.sorted().into());
    }
    let public = content.datasets.iter().filter(|d| d.is_public()).count();
    eprintln!(
        "ok: {} datasets ({public} public, {} private), every image readable",
        content.datasets.len(),
        content.datasets.len() - public
    );
    Ok(ExitCode::SUCCESS)
}
