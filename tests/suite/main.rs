//! vitrine's integration tests: one binary (one link step on 2 cores), one module per feature.

mod common;
mod serve;
mod media;
