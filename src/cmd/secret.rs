//! `vitrine secret`: print the site's content secret, for a CI build (`VITRINE_CONTENT_SECRET`),
//! or with `--edge` the key a Cloudflare worker opens sealed files with (`VITRINE_EDGE_KEY`).

use std::path::Path;
use std::process::ExitCode;

use crate::content::{self, Hosting};
use crate::share::secret::{ContentSecret, Origin};

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
    let cache = crate::site::Site::new(root).cache_dir();
    let hosting = content.config.hosting;
    let (secret, origin) = ContentSecret::of_site(
        &cache,
        &content.config.keys,
        hosting != Hosting::Netlify,
        true,
    )?;
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
