//! Turns the validated model and the derived images into pages: HTML through the theme's tera
//! templates, and the sitemap, robots.txt, Atom feed and search index built directly.
//!
//! Render owns every byte of every page but **never writes the disk**, and reads from it only
//! the theme ([`Theme::load`], which `Site` calls before rendering); `output` writes after.
//! Public pages are built from public items only; a private dataset, annotation or layer is
//! rendered only under `private/` (where `output` seals it).

pub mod annotation;
mod context;
mod feeds;
pub mod layer;
pub mod markdown;
pub mod overlay;
mod pages;
pub mod theme;
pub mod view3d;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;

pub use context::{relative, tag_slug, SiteView};
pub use feeds::base_path;
pub use pages::{Cards, Digests, PageJob, Plan, Views};
pub use theme::Theme;

use crate::content::model::{Content, Dataset};
use crate::media::{Derived, LabelVolume, RemoteInfo, Volume};

/// What media derived for the built datasets.
#[derive(Debug, Clone, Default)]
pub struct MediaIndex {
    /// The derived images of every source image, keyed by the absolute source path as it
    /// appears in `Dataset::thumbnail` and `Dataset::images`.
    pub images: HashMap<PathBuf, Derived>,
    /// Each z-stack's OME-Zarr volume, keyed by its dataset's folder (`Dataset::dir`).
    pub volumes: HashMap<PathBuf, Volume>,
    /// What each `volume:` a lab hosts says about itself, keyed by its dataset's folder.
    pub remote: HashMap<PathBuf, RemoteInfo>,
    /// The OME-Zarr labels of each private segmentation layer of a z-stack, keyed by its
    /// dataset's folder and layer id (public layers' are in their volume's `labels/`).
    pub private_labels: HashMap<(PathBuf, String), LabelVolume>,
    /// What media could not do without failing the build (a stack whose slices differ in
    /// size has no volume), one line each, `descriptor:line:col: warning: …`.
    pub warnings: Vec<String>,
}

impl MediaIndex {
    /// The derived images of the source image at `source`.
    pub fn get(&self, source: &Path) -> Option<&Derived> {
        self.images.get(source)
    }

    /// The volume of the dataset in the folder `dir`, when it is a z-stack.
    pub fn volume(&self, dir: &Path) -> Option<&Volume> {
        self.volumes.get(dir)
    }
}

/// The output folder of `d`'s volume `v`: `<media dir>volume.ome.zarr/`, named by its hash.
pub fn volume_dir(d: &Dataset, v: &Volume) -> String {
    format!("{}{}/", d.media_dir(&v.hash), crate::media::ZARR_DIR)
}

/// The derived label images of every layer, keyed by the absolute path in `LayerRef::images`.
pub type LayerIndex = HashMap<PathBuf, crate::media::Labels>;

/// How to render: the choices `site` makes from `site.yaml` and the command line.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The site's address, for canonical, Open Graph, sitemap and feed URLs.
    pub base_url: crate::content::model::BaseUrl,
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

/// Plans every page of the site: each HTML page's template context is computed (in parallel)
/// and keyed, so the caller decides which pages to render and which earlier renderings to
/// reuse. Listings get their cards from `known` (the last plan's [`Plan::cards`]) or render
/// them now; a dataset whose digest is in `digests` takes its views from `views` (the last
/// plan's [`Plan::views`]) when they were made under the same digest. Errors name the dataset
/// descriptor (for a missing derived image) or the template file (for a card that fails to
/// render).
pub fn plan_site<'t>(
    content: &Content,
    media: &MediaIndex,
    theme: &'t Theme,
    opts: &RenderOptions,
    known: &Cards,
    views: &Views,
    digests: &Digests,
) -> Result<Plan<'t>> {
    pages::plan(content, media, theme, opts, known, views, digests)
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
    let none = (Cards::default(), Views::default(), Digests::default());
    let plan = plan_site(content, media, theme, opts, &none.0, &none.1, &none.2)?;
    let mut pages = plan
        .pages
        .par_iter()
        .map(|job| plan.render(job))
        .collect::<Result<Vec<Page>>>()?;
    pages.extend(plan.files);
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(pages)
}
