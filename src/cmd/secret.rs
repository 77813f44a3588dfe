//! `vitrine secret`: print the site's content secret, for a CI build (`VITRINE_CONTENT_SECRET`),
//! or with `--edge` the key a Cloudflare worker opens sealed files with (`VITRINE_EDGE_KEY`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::content;
use crate::share::secret::{ContentSecret, Origin, ENV};

/// Options of `vitrine secret`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the edge key instead (the Cloudflare Pages secret VITRINE_EDGE_KEY): it opens the
    /// sealed files but cannot make a link.
    #[arg(long)]
    pub edge: bool,
}

/// Runs `vitrine secret`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let content = content::load(root)?;
    let (secret, origin) = ContentSecret::find_or_create(&content.config.keys)?.with_context(|| {
        format!(
            "the site has no content secret here: it is kept beside a key file of content/site.yaml's \
             sharing.keys (run `vitrine keygen` first), or given as {ENV}"
        )
    })?;
    if let Origin::Created(path) = &origin {
        eprintln!(
            "made the site's content secret `{}`; back it up with your key file",
            path.display()
        );
    }
    match args.edge {
        true => println!("{}", secret.edge_key().to_hex()),
        false => println!("{}", secret.to_hex()),
    }
    Ok(ExitCode::SUCCESS)
}
