//! vitrine's integration tests: one binary (one link step on 2 cores), one module per feature.

mod build;
mod common;
mod annotations;
mod gate;
mod hardening;
mod serve;
mod share;
mod render;
mod media;
