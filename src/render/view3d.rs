//! The 3D view: a page at `<dataset dir>3d/` for every dataset with a volume (its own OME-Zarr
//! z-stack, or a `volume:` the lab hosts), showing it in Neuroglancer served from the site
//! itself (`static/neuroglancer/`, built by `scripts/neuroglancer/build.mjs`).
//!
//! A page of its own rather than a panel on the dataset page: Neuroglancer wants the whole
//! window for its four panels (xy, xz, yz and 3D, the layout a webKnossos user works in), keeps
//! its state in the page's fragment, where the 2D viewer keeps its own, and is 3 MB of script
//! that the dataset page, which every visitor opens, should not carry.
//!
//! A private dataset's page also gets `chunk-worker.js`, one line that imports Neuroglancer's
//! chunk worker: the worker is then started from inside the dataset's folder, so with
//! `hosting: static` the dataset's service worker (whose scope is that folder) controls it
//! and decrypts the chunks it fetches; behind a gate the share cookie goes with them as with
//! any same-origin request.

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::annotation::{tree_colours, Placement};
use super::context::{relative, root_of, PageView, Prepared, SiteView};
use super::{MediaIndex, Page, RenderOptions, Theme};
use crate::content::model::{Content, Dataset};

/// Where the theme keeps the bundle, relative to the output root (its `static/neuroglancer/`).
pub const ASSETS_DIR: &str = "neuroglancer/";

/// The chunk worker a private dataset's 3D page starts (see the module doc).
const WORKER_STUB: &str = "chunk-worker.js";

/// Tracing edges drawn in one 3D view, at most. Neuroglancer keeps the lines of a local
/// annotation layer in the page's address, so beyond this (~400 KB of address) a dataset's
/// tracings stay on their annotation pages, which draw any size.
pub const MAX_SKELETON_LINES: usize = 5000;

/// The 3D page's folder of `d`, relative to the site root.
pub fn output_dir(d: &Dataset) -> String {
    format!("{}3d/", d.output_dir())
}

/// Whether `d` has a volume to show in 3D, so it gets the page and the site gets the bundle.
pub fn has_view(d: &Dataset, media: &MediaIndex) -> bool {
    d.volume.is_some() || media.volume(&d.dir).is_some()
}

/// `view3d` in `view3d.html`.
#[derive(Debug, Serialize)]
struct View3d {
    /// The JSON for `data-view3d`, which `neuroglancer/view3d.js` reads.
    config: String,
    /// The bundle's folder, relative to the page.
    assets: String,
    /// The dataset page, with the 2D viewer.
    dataset_url: String,
    /// The public Neuroglancer app opened on the same volume; none for a private dataset,
    /// whose volume a third-party app cannot and must not fetch.
    neuroglancer_url: Option<String>,
    /// webKnossos's "add remote dataset" on the volume; for a `volume:` only, since a site's
    /// own volume is already a dataset there through "Add Remote Dataset" with the page's
    /// OME-Zarr address.
    webknossos_url: Option<String>,
    /// Whether the dataset's tracings are left out for their size ([`MAX_SKELETON_LINES`]).
    tracings_omitted: bool,
}

/// Every 3D page, and the worker beside each private one.
pub fn render_view3d_pages(
    content: &Content,
    media: &MediaIndex,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let site = SiteView::of(&content.config, &opts.base_url);
    let mut pages = Vec::new();
    for d in content.datasets.iter().filter(|d| has_view(d, media)) {
        let prepared = Prepared::new(d, content, media, opts, None)?;
        pages.extend(render_one(&prepared, &site, theme, opts)?);
    }
    Ok(pages)
}

fn render_one(
    prepared: &Prepared,
    site: &SiteView,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let d = prepared.dataset;
    let dir = output_dir(d);
    let private = !d.is_public();
    let dataset = prepared.view(&dir, opts);
    let assets = format!("{}{ASSETS_DIR}", root_of(&dir));
    // The site's own volume when there is one (it is the data the 2D viewer shows), else the
    // lab's.
    let (source, shape) = match (&dataset.volume, &dataset.remote_volume) {
        (Some(v), _) => (
            format!("zarr3://{}", v.url),
            Some([v.shape[2], v.shape[1], v.shape[0]]),
        ),
        (None, Some(r)) => (r.url.to_string(), r.size),
        (None, None) => unreachable!("render_view3d_pages renders datasets with a volume"),
    };
    let voxel_size_nm = match (&dataset.volume, prepared.remote) {
        (Some(_), _) => dataset.voxel_size_nm,
        (None, Some(info)) => info.voxel_size_nm,
        (None, None) => None,
    };
    // Tracings are placed on the site's own images, so only the site's own volume shows them.
    let skeletons = match &dataset.volume {
        Some(_) => skeletons(prepared, &dir),
        None => Some(Vec::new()),
    };
    // Public segmentation layers, the volume's OME-Zarr labels (none on a private page: each
    // private layer opens with its own link only).
    let segmentations: Vec<serde_json::Value> = match (&dataset.volume, prepared.volume) {
        (Some(view), Some(volume)) => volume
            .labels
            .iter()
            .map(|id| {
                serde_json::json!({"name": id, "source": format!("zarr3://{}labels/{id}/", view.url)})
            })
            .collect(),
        _ => Vec::new(),
    };
    let tracings_omitted = skeletons.is_none();
    let skeletons = skeletons.unwrap_or_default();
    let config = serde_json::json!({
        "source": source,
        "worker": if private { WORKER_STUB.to_string() } else { format!("{assets}chunk_worker.js") },
        "shape": shape,
        "voxel_size_nm": voxel_size_nm,
        "name": d.slug,
        // Where the view opens without a fragment: the 2D viewer's first slice for the site's
        // own volume, the middle of the lab's.
        "slice": dataset.volume.as_ref().map(|_| prepared.initial_slice),
        "skeletons": skeletons,
        "segmentations": segmentations,
    });
    let view = View3d {
        config: config.to_string(),
        assets,
        dataset_url: relative(&dir, &d.output_dir()),
        neuroglancer_url: match (&dataset.volume, &dataset.remote_volume) {
            _ if private => None,
            (Some(v), _) => Some(super::context::neuroglancer_url(
                &format!("zarr://{}", v.absolute_url),
                &d.slug,
                None,
            )),
            (None, Some(r)) => Some(r.neuroglancer_url.clone()),
            (None, None) => None,
        },
        webknossos_url: match (&dataset.volume, &dataset.remote_volume) {
            (None, Some(r)) => Some(r.webknossos_url.clone()),
            _ => None,
        },
        tracings_omitted,
    };
    let page = PageView::new(
        &dir,
        &opts.base_url,
        private,
        format!("3D view · {} · {}", d.display_name, site.title),
        format!(
            "{} in 3D: orthogonal planes and a 3D view of the volume.",
            d.display_name
        ),
    );
    let mut ctx = tera::Context::new();
    ctx.insert("site", site);
    ctx.insert("page", &page);
    ctx.insert("vitrine_version", env!("CARGO_PKG_VERSION"));
    ctx.insert("dataset", &dataset);
    ctx.insert("view3d", &view);
    let path = format!("{dir}index.html");
    let html = theme
        .render("view3d.html", &ctx)
        .with_context(|| format!("rendering `{path}`"))?;
    let mut pages = vec![Page {
        path,
        body: html.into_bytes(),
        private,
    }];
    if private {
        pages.push(Page {
            path: format!("{dir}{WORKER_STUB}"),
            body: format!("import \"{}{ASSETS_DIR}chunk_worker.js\";\n", root_of(&dir))
                .into_bytes(),
            private,
        });
    }
    Ok(pages)
}

/// The tracings a 3D page at `dir` shows (public ones on a public page, all on a private one),
/// one per tree: `{name, colour, lines: [[ax, ay, az, bx, by, bz], …]}` in Neuroglancer's voxel
/// coordinates (a slice k spans z k to k + 1, where the 2D overlay centres it on k). `None` when
/// their edges together pass [`MAX_SKELETON_LINES`].
fn skeletons(prepared: &Prepared, dir: &str) -> Option<Vec<serde_json::Value>> {
    let d = prepared.dataset;
    let shown: Vec<_> = d
        .annotations
        .iter()
        .filter(|a| dir.starts_with("private/") || a.is_public_in(d))
        .collect();
    let edges: usize = shown
        .iter()
        .flat_map(|a| &a.skeleton.trees)
        .map(|t| t.edges.len())
        .sum();
    if edges > MAX_SKELETON_LINES {
        return None;
    }
    let mut out = Vec::new();
    for a in shown {
        let placement = Placement::new(d, a, prepared.slices[0], prepared.slices.len());
        let at = |p: [f64; 3]| {
            let [x, y, z] = placement.to_pixels(p);
            [x, y, z + 0.5]
        };
        for (tree, colour) in a.skeleton.trees.iter().zip(tree_colours(&a.skeleton)) {
            let position: std::collections::HashMap<u64, [f64; 3]> =
                tree.nodes.iter().map(|n| (n.id, at(n.position))).collect();
            let lines: Vec<[f64; 6]> = tree
                .edges
                .iter()
                .filter_map(|e| {
                    let (a, b) = (position.get(&e.source)?, position.get(&e.target)?);
                    Some([a[0], a[1], a[2], b[0], b[1], b[2]])
                })
                .collect();
            let name = match tree.name.as_str() {
                "" => a.display_name.clone(),
                tree => format!("{} · {tree}", a.display_name),
            };
            out.push(serde_json::json!({"name": name, "colour": colour, "lines": lines}));
        }
    }
    Some(out)
}
