//! The `vitrine` command line: parse, dispatch to `cmd::<command>::run`, print errors once.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vitrine::cmd;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A static-site generator for scientific datasets, with signed private share links.
#[derive(Debug, Parser)]
#[command(name = "vitrine", version, about, propagate_version = true)]
struct Cli {
    /// The site folder (the one holding `content/`).
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    root: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scaffold a new site that builds as it is.
    Init(cmd::init::Args),
    /// Build the site into `public/` (or `--out`), replacing it atomically.
    Build(cmd::build::Args),
    /// Validate everything `build` reads, write nothing, report every problem.
    Check(cmd::check::Args),
    /// Build, serve and watch, with live reload and the same gate as production.
    #[cfg(feature = "serve")]
    Serve(cmd::serve::Args),
    /// Create an Ed25519 signing key outside the site and publish its public half.
    Keygen(cmd::keygen::Args),
    /// Issue a private share link for a dataset, annotation or segmentation layer.
    Share(cmd::share::Args),
    /// List issued shares.
    Shares(cmd::shares::Args),
    /// Revoke a share by id, label or link.
    Revoke(cmd::revoke::Args),
    /// Check a share link offline against the site's keys and ledger.
    Verify(cmd::verify::Args),
    /// Print the content secret private files are sealed with (for CI), or the edge key.
    Secret(cmd::secret::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root;
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(&root, args),
        Command::Build(args) => cmd::build::run(&root, args),
        Command::Check(args) => cmd::check::run(&root, args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => cmd::serve::run(&root, args),
        Command::Keygen(args) => cmd::keygen::run(&root, args),
        Command::Share(args) => cmd::share::run(&root, args),
        Command::Shares(args) => cmd::shares::run(&root, args),
        Command::Revoke(args) => cmd::revoke::run(&root, args),
        Command::Verify(args) => cmd::verify::run(&root, args),
        Command::Secret(args) => cmd::secret::run(&root, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            vitrine::content::report(&err);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
