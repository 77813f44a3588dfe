//! vitrine's integration tests: one binary (one link step on 2 cores), one module per feature.

mod annotations;
mod build;
mod common;
mod deploy;
mod gate;
mod hardening;
mod layers;
mod media;
mod render;
mod sealed_files;
#[cfg(feature = "serve")]
mod serve;
mod share;
mod vectors;
mod volumes;
mod webp;
