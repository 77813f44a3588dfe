//! vitrine: a static-site generator for scientific datasets, with private share links.
//!
//! The build is a pipeline of stages, one module each: [`content`] reads and validates the site
//! folder, [`media`] derives thumbnails and deep-zoom pyramids, [`render`] turns the model into
//! pages with tera, and [`output`] writes them atomically after the leak guard has passed.
//! [`share`] issues and checks private links beside it; [`serve`] wraps the whole build for
//! previews; [`site`] ties the stages together; [`cmd`] holds the thin command-line layer.

pub mod cmd;
pub mod content;
pub mod hex;
pub mod media;
pub mod output;
pub mod render;
#[cfg(feature = "serve")]
pub mod serve;
pub mod share;
pub mod site;
