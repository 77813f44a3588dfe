//! One thin file per command: parse nothing, decide little, call the library.

pub mod build;
pub mod check;
pub mod init;
pub mod keygen;
pub mod revoke;
pub mod secret;
#[cfg(feature = "serve")]
pub mod serve;
pub mod share;
pub mod shares;
pub mod verify;
