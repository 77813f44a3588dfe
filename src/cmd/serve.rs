//! `vitrine serve`: parse the flags, wire Ctrl-C to a clean stop, hand over to [`crate::serve`].

use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

/// Options of `vitrine serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port to listen on; 0 picks a free one (the address is printed either way).
    #[arg(long, default_value_t = 1111, value_name = "N")]
    port: u16,

    /// Address to listen on; the default keeps the preview (and private pages) on this machine.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    bind: IpAddr,

    /// Open the site in the default browser once it is built.
    #[arg(long)]
    open: bool,

    /// The public base URL share links were issued for; links under its path (e.g. `/data/…`)
    /// are redirected to the preview's root, so a printed link works with the host swapped.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,

    /// Print the preview's link of every active share, signed again with this machine's key
    /// (the same token `vitrine share` printed).
    #[arg(long)]
    share_local: bool,
}

/// Runs `vitrine serve` until Ctrl-C.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let (stop_tx, stop) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("installing the Ctrl-C handler")?;
    let options = crate::serve::Options {
        bind: args.bind,
        port: args.port,
        open: args.open,
        base_url: args.base_url,
        share_local: args.share_local,
    };
    crate::serve::run(root, &options, stop)?;
    Ok(ExitCode::SUCCESS)
}
