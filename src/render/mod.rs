//! Turns the validated model and the derived images into pages: HTML through the theme's tera
//! templates, and the sitemap, robots.txt, Atom feed and search index built directly.
//!
//! Render owns every byte of every page but **never reads or writes the disk**: the theme is
//! loaded before and `output` writes after. Public pages are built from public items only; a
//! private dataset is rendered only under `private/`, and only when asked to.

pub mod annotation;
mod context;
mod feeds;
pub mod markdown;
mod pages;
pub mod theme;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;

pub use context::{relative, tag_slug};
pub use feeds::base_path;
pub use theme::Theme;

use crate::content::model::Content;
use crate::media::Derived;

/// The derived images of every source image, keyed by the absolute source path as it appears
/// in `Dataset::thumbnail` and `Dataset::images`.
pub type MediaIndex = HashMap<PathBuf, Derived>;

/// How to render: the choices `site` makes from `site.yaml` and the command line.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Absolute base URL (a trailing `/` is ignored) for canonical, Open Graph, sitemap and feed.
    pub base_url: String,
    /// Whether to render private datasets under `private/`; **false for `hosting: static`**,
    /// where nothing would gate them.
    pub include_private: bool,
    /// Whether deep-zoom pyramids were built, so the viewer may point at `tiles.dzi`.
    pub pyramids: bool,
}

/// One rendered output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Output-relative path, e.g. `datasets/foo/index.html`.
    pub path: String,
    /// The file's bytes.
    pub body: Vec<u8>,
    /// Whether the file is under `private/` (gated, never listed).
    pub private: bool,
}

/// Renders every page of the site, in parallel, sorted by path.
///
/// Errors name the dataset descriptor (for a missing derived image) or the template file (for a
/// template that fails to render).
pub fn render_site(
    content: &Content,
    media: &MediaIndex,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let opts = RenderOptions {
        base_url: opts.base_url.trim_end_matches('/').to_string(),
        ..opts.clone()
    };
    pages::render(content, media, theme, &opts)
}
