//! One thin file per command: parse nothing, decide little, call the library.

pub mod build;
pub mod check;
pub mod init;
pub mod keygen;
pub mod revoke;
#[cfg(feature = "serve")]
pub mod serve;
pub mod share;
pub mod shares;
pub mod verify;

use crate::content::Diagnostics;

/// Prints an error once: content diagnostics as `path:line:col: message` lines, anything else
/// as `error: ` and its chain of causes.
pub fn report(err: &anyhow::Error) {
    if let Some(diags) = err.downcast_ref::<Diagnostics>() {
        eprintln!("{diags}");
        let n = diags.0.len();
        eprintln!(
            "error: {n} problem{} found; nothing was written",
            if n == 1 { "" } else { "s" }
        );
    } else {
        eprintln!("error: {err:#}");
    }
}
