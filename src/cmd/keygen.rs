//! `vitrine keygen`: create a signing key outside the site and list its public half.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::content::{self, Diagnostics};
use crate::share::keys;
use crate::share::secret::{ContentSecret, Origin};

/// Options of `vitrine keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the private key (PKCS#8 v1 PEM, mode 0600); default
    /// `$XDG_CONFIG_HOME/vitrine/keys/<kid>.key`. Never inside the site folder.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// Runs `vitrine keygen`: prints the new key id on stdout.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    // A broken site.yaml is reported before a key is made that could not be listed.
    content::load_config(root)
        .map_err(|d| Diagnostics(d.into_iter().map(|d| d.relative_to(root)).collect()))?;
    let key = keys::generate()?;
    let kid = keys::kid_hex(&key);
    let path = match args.key {
        Some(path) => path,
        None => keys::key_dir()?.join(format!("{kid}.key")),
    };
    keys::write_key_file(root, &path, &key)?;
    if keys::key_file(&kid).is_none() {
        // Kept outside the key folder: remembered, so no later command needs --key.
        keys::remember_key_file(&kid, &path)?;
    }
    keys::add_to_site_yaml(root, &key.verifying_key().to_bytes()).with_context(|| {
        format!(
            "the key file `{}` was written, but its public half is not in content/site.yaml yet",
            path.display()
        )
    })?;
    // The site's content secret lives beside its first key: made now, it is in the same backup.
    let content = content::load(root)?;
    let secret = match ContentSecret::find_or_create(&content.config.keys)? {
        Some((_, Origin::Created(place) | Origin::File(place))) => {
            format!(
                " The content secret private files are sealed with is `{}`: back it up too.",
                place.display()
            )
        }
        _ => String::new(),
    };
    eprintln!(
        "created key {kid} in {} (mode 0600) and listed its public half under sharing.keys in content/site.yaml.\n\
         Keep a private backup of the key file: without it no one can issue or revoke links with key {kid} \
         (links already sent keep working while {kid} stays in site.yaml).{secret}\n\
         Next: run `vitrine build` and deploy, so the gates know the key; then `vitrine share SLUG` issues a link.",
        path.display()
    );
    println!("{kid}");
    Ok(ExitCode::SUCCESS)
}
