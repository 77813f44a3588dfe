//! Annotation pages: one page per skeleton annotation, at [`AnnotationRef::output_dir`], with
//! its statistics, comments, a download of the original file, and the dataset's viewer with the
//! skeleton drawn over it by `assets/skeleton.js` from a `skeleton.bin` beside the page (see
//! [`super::overlay`] for its format).
//!
//! The overlay file holds positions in **image pixels** of the dataset's first slice (and z in
//! slice indices), so the script never needs to know the file format or the voxel size.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::context::{PageView, Prepared, SiteView};
use super::overlay;
use super::{Derived, MediaIndex, Page, RenderOptions, Theme};
use crate::content::annotation::{swc_type_label, Format, Skeleton, Stats};
use crate::content::model::{AnnotationRef, Content, Dataset};

/// The overlay beside each annotation page, read by `assets/skeleton.js`; its format is in
/// [`overlay`].
pub const OVERLAY_FILE: &str = "skeleton.bin";

/// The viewer partial; without it the page shows the statistics and no drawing.
const VIEWER_TEMPLATE: &str = "partials/viewer.html";

/// Tree colours when the file gives none: Okabe–Ito, distinguishable with colour-blindness and
/// visible on grey-scale microscopy.
const PALETTE: [&str; 8] = [
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#ffffff",
];

/// The original annotation files to publish byte for byte beside their pages, as
/// `(output-relative path, source path)`: `<output_dir>/<id>.nml` or `.swc`, lowercase.
pub fn annotation_files(content: &Content) -> Vec<(String, PathBuf)> {
    content
        .datasets
        .iter()
        .flat_map(|d| {
            d.annotations
                .iter()
                .map(move |a| (download_path(d, a), a.file.clone()))
        })
        .collect()
}

fn download_name(a: &AnnotationRef) -> String {
    format!("{}.{}", a.id, a.skeleton.format.extension())
}

fn download_path(d: &Dataset, a: &AnnotationRef) -> String {
    format!("{}{}", a.output_dir(d), download_name(a))
}

/// Renders every annotation page and its `skeleton.bin` (a private one's under `private/`).
/// Errors name the dataset descriptor or the template.
pub fn render_annotation_pages(
    content: &Content,
    media: &MediaIndex,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let site = SiteView::of(&content.config, &opts.base_url);
    let has_viewer = theme.has_template(VIEWER_TEMPLATE);
    let mut pages = Vec::new();
    for dataset in &content.datasets {
        let annotations: Vec<&AnnotationRef> = dataset.annotations.iter().collect();
        if annotations.is_empty() {
            continue;
        }
        let prepared = Prepared::new(dataset, content, media, opts, None)?;
        for a in annotations {
            pages.extend(render_one(&prepared, a, &site, theme, opts, has_viewer)?);
        }
    }
    Ok(pages)
}

/// `annotation` as the template sees it.
#[derive(Serialize)]
struct AnnotationView<'a> {
    id: &'a str,
    display_name: &'a str,
    format: &'static str,
    private: bool,
    experiment: Option<&'a str>,
    /// The dataset scale the NML was traced at, e.g. `11.24 × 11.24 × 28 nm`; `None` for SWC.
    scale: Option<String>,
    download: Download,
    stats: Stats,
    path_length: String,
    trees: Vec<TreeView<'a>>,
    comments: Vec<CommentView<'a>>,
    /// SWC node counts per structure type (soma, axon, …), most frequent first.
    node_types: Vec<TypeCount>,
    /// The overlay data, relative to the page.
    overlay: &'static str,
    /// Set when the drawing rests on an assumption or misses the image; the page says so.
    overlay_note: Option<String>,
}

#[derive(Serialize)]
struct Download {
    url: String,
    name: String,
}

#[derive(Serialize)]
struct TreeView<'a> {
    id: u64,
    name: &'a str,
    color: String,
    nodes: usize,
    path_length: String,
}

#[derive(Serialize)]
struct CommentView<'a> {
    node: u64,
    tree: Option<&'a str>,
    content: &'a str,
    /// Position in the file's units, for people to find the spot in their own tool.
    position: Option<String>,
}

#[derive(Serialize)]
struct TypeCount {
    label: String,
    count: usize,
}

fn render_one(
    prepared: &Prepared,
    a: &AnnotationRef,
    site: &SiteView,
    theme: &Theme,
    opts: &RenderOptions,
    has_viewer: bool,
) -> Result<Vec<Page>> {
    let d = prepared.dataset;
    let sk = &a.skeleton;
    let dir = a.output_dir(d);
    let private = !a.is_public_in(d);
    let stats = sk.stats();
    let path_length = format_length(stats.path_length_nm);
    let page = PageView::new(
        &dir,
        &opts.base_url,
        private,
        format!("{} · {} · {}", a.display_name, d.display_name, site.title),
        format!(
            "Skeleton annotation “{}” of {}: {}, {}, {} of tracing.",
            a.display_name,
            d.display_name,
            count(stats.trees, "tree"),
            count(stats.nodes, "node"),
            path_length
        ),
    );
    let placement = Placement::new(d, a, prepared.slices[0], prepared.slices.len());
    let colors = tree_colours(sk);
    // A comment names a node by id alone; where trees reuse an id it is the first tree's
    // node, as in webKnossos's own library (hence the reversed walk: the last insert wins).
    // Only commented ids are kept: a million-node tracing has a handful of comments.
    let commented: std::collections::HashSet<u64> = sk.comments.iter().map(|c| c.node).collect();
    let mut located: std::collections::HashMap<u64, (&str, [f64; 3])> =
        std::collections::HashMap::with_capacity(commented.len());
    for t in sk.trees.iter().rev() {
        for n in t.nodes.iter().rev().filter(|n| commented.contains(&n.id)) {
            located.insert(n.id, (t.name.as_str(), n.position));
        }
    }
    let view = AnnotationView {
        id: &a.id,
        display_name: &a.display_name,
        format: sk.format.label(),
        private,
        experiment: sk.experiment.as_deref(),
        scale: (sk.format == Format::Nml).then(|| {
            let [x, y, z] = sk.scale_nm.map(trim_number);
            format!("{x} × {y} × {z} nm")
        }),
        download: Download {
            url: download_name(a),
            name: download_name(a),
        },
        stats,
        path_length,
        trees: sk
            .trees
            .iter()
            .zip(&colors)
            .map(|(t, color)| TreeView {
                id: t.id,
                name: &t.name,
                color: color.clone(),
                nodes: t.nodes.len(),
                path_length: format_length(tree_length(sk, t)),
            })
            .collect(),
        comments: sk
            .comments
            .iter()
            .map(|c| CommentView {
                node: c.node,
                tree: located.get(&c.node).map(|(tree, _)| *tree),
                content: &c.content,
                position: located
                    .get(&c.node)
                    .map(|(_, p)| p.map(trim_number).join(", ")),
            })
            .collect(),
        node_types: node_types(sk),
        overlay: OVERLAY_FILE,
        overlay_note: (!placement.notes.is_empty()).then(|| placement.notes.join(" ")),
    };
    let total_edges = sk.trees.iter().map(|t| t.edges.len()).sum();
    let mut overlay = overlay::Encoder::new(
        prepared.slices.len(),
        sk.trees
            .iter()
            .flat_map(|t| &t.nodes)
            .map(|n| placement.to_pixels(n.position)),
        total_edges,
    );
    for (t, color) in sk.trees.iter().zip(colors) {
        let index: std::collections::HashMap<u64, u32> = t
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i as u32))
            .collect();
        overlay.push(overlay::TreeInput {
            id: t.id,
            name: &t.name,
            color,
            nodes: t
                .nodes
                .iter()
                .map(|n| placement.to_pixels(n.position))
                .collect(),
            edges: t
                .edges
                .iter()
                .map(|e| [index[&e.source], index[&e.target]])
                .collect(),
        });
    }

    let mut ctx = tera::Context::new();
    ctx.insert("site", site);
    ctx.insert("page", &page);
    ctx.insert("vitrine_version", env!("CARGO_PKG_VERSION"));
    ctx.insert("dataset", &prepared.view(&dir, opts));
    ctx.insert("has_viewer", &has_viewer);
    ctx.insert("annotation", &view);
    let path = format!("{dir}index.html");
    let html = theme
        .render("annotation.html", &ctx)
        .with_context(|| format!("rendering `{path}`"))?;
    Ok(vec![
        Page {
            path,
            body: html.into_bytes(),
            private,
        },
        Page {
            path: format!("{dir}{OVERLAY_FILE}"),
            body: overlay.finish(),
            private,
        },
    ])
}

/// How an annotation lands on its dataset's image: file positions → nanometres (the file's
/// scale, then the descriptor's `offset_nm`) → image pixels (x, y) and slice indices (z), and
/// what the page and the build must say when that is an assumption or misses the image.
pub struct Placement {
    scale_nm: [f64; 3],
    offset_nm: [f64; 3],
    /// Nanometres per image pixel (x, y) and per slice (z) the drawing assumes.
    nm_per_px: [f64; 3],
    /// Sentences for the annotation page, under the viewer.
    pub notes: Vec<String>,
    /// One-line problems for the build's output, each naming the annotation.
    pub warnings: Vec<String>,
}

impl Placement {
    /// Places `a` on the viewer's slices, the first of which is `first`: the dataset's voxel
    /// size (or the one the image's metadata states) maps nanometres to pixels; without one an
    /// NML is drawn voxel for pixel and an SWC 1 µm for 1 pixel.
    pub fn new(d: &Dataset, a: &AnnotationRef, first: &Derived, slices: usize) -> Self {
        let sk = &a.skeleton;
        let mut notes = Vec::new();
        let mut warnings = Vec::new();
        let voxel_size_nm = d.voxel_size_nm.or(first.voxel_size_nm);
        let (width, height) = (first.info.width, first.info.height);
        let nm_per_px = match (sk.format, voxel_size_nm) {
            (_, Some(v)) => v,
            (Format::Nml, None) => sk.scale_nm,
            (Format::Swc, None) => {
                notes.push(
                    "This dataset has no voxel size, so the SWC's micrometres are drawn as 1 µm = 1 pixel \
                     (and 1 µm = 1 slice); add `voxel_size_nm` to the dataset to place it exactly."
                        .to_string(),
                );
                [1000.0; 3]
            }
        };
        if let (Format::Nml, Some(v)) = (sk.format, voxel_size_nm) {
            if (0..3).any(|i| (sk.scale_nm[i] / v[i] - 1.0).abs() > 0.01) {
                let text = format!(
                    "its NML scale is {} nm per voxel but the dataset's voxel size is {} nm: \
                     positions are converted through nanometres; check both if the tracing looks misplaced",
                    triple(sk.scale_nm),
                    triple(v)
                );
                notes.push(format!(
                    "The tracing was made at another voxel size: {text}."
                ));
                warnings.push(format!("annotation '{}': {text}", a.id));
            }
        }
        let placement = Placement {
            scale_nm: sk.scale_nm,
            offset_nm: a.offset_nm,
            nm_per_px,
            notes,
            warnings,
        };
        placement.check_bounds(a, [width as f64, height as f64, slices as f64])
    }

    /// Image pixels and slice index of a position in the file's units.
    pub fn to_pixels(&self, p: [f64; 3]) -> [f64; 3] {
        [0, 1, 2].map(|i| (p[i] * self.scale_nm[i] + self.offset_nm[i]) / self.nm_per_px[i])
    }

    /// Adds a note and a warning when most nodes fall outside the image, with both boxes in µm.
    fn check_bounds(mut self, a: &AnnotationRef, size: [f64; 3]) -> Self {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        let (mut outside, mut total) = (0usize, 0usize);
        for node in a.skeleton.trees.iter().flat_map(|t| &t.nodes) {
            let px = self.to_pixels(node.position);
            total += 1;
            // A slice covers z − 0.5 to z + 0.5 around its index.
            let inside = px[0] >= 0.0
                && px[0] <= size[0]
                && px[1] >= 0.0
                && px[1] <= size[1]
                && px[2] >= -0.5
                && px[2] <= size[2] - 0.5;
            outside += usize::from(!inside);
            for i in 0..3 {
                lo[i] = lo[i].min(px[i] * self.nm_per_px[i] / 1000.0);
                hi[i] = hi[i].max(px[i] * self.nm_per_px[i] / 1000.0);
            }
        }
        if outside * 2 > total {
            let image = [0, 1, 2].map(|i| size[i] * self.nm_per_px[i] / 1000.0);
            let text = format!(
                "{outside} of its {total} nodes fall outside the image: the tracing spans {} µm, \
                 the image 0–{} × 0–{} × 0–{} µm; check the dataset's `voxel_size_nm` and the \
                 annotation's `unit` and `offset_nm`",
                (0..3)
                    .map(|i| format!("{}–{}", trim_number(lo[i]), trim_number(hi[i])))
                    .collect::<Vec<_>>()
                    .join(" × "),
                trim_number(image[0]),
                trim_number(image[1]),
                trim_number(image[2]),
            );
            self.notes.push(format!(
                "Most of this tracing is not drawn over the image: {text}."
            ));
            self.warnings.push(format!("annotation '{}': {text}", a.id));
        }
        self
    }
}

/// The build's warnings about where annotations land, as `descriptor:line:col: warning: …`
/// lines (at the annotation's `id`), with the descriptor relative to the site root.
pub fn placement_warnings(content: &Content, media: &MediaIndex) -> Vec<String> {
    let mut out = Vec::new();
    for d in &content.datasets {
        let first = d.images.first().unwrap_or(&d.thumbnail);
        let Some(derived) = media.get(first) else {
            continue;
        };
        let viewer = if d.images.is_empty() {
            std::slice::from_ref(&d.thumbnail)
        } else {
            &d.images[..]
        };
        let slices = viewer
            .iter()
            .filter_map(|p| media.get(p))
            .map(|m| m.slices().count())
            .sum();
        for a in &d.annotations {
            let placement = Placement::new(d, a, derived, slices);
            let descriptor = d
                .descriptor
                .strip_prefix(&content.root)
                .unwrap_or(&d.descriptor);
            let (line, col) = a.declared_at;
            for w in placement.warnings {
                out.push(format!(
                    "{}:{line}:{col}: warning: {w}",
                    descriptor.display()
                ));
            }
        }
    }
    out
}

/// `10 × 10 × 40` for messages.
fn triple(v: [f64; 3]) -> String {
    v.map(trim_number).join(" × ")
}

fn tree_length(sk: &Skeleton, tree: &crate::content::annotation::Tree) -> f64 {
    let position: std::collections::HashMap<u64, [f64; 3]> =
        tree.nodes.iter().map(|n| (n.id, n.position)).collect();
    tree.edges
        .iter()
        .map(|e| sk.distance_nm(position[&e.source], position[&e.target]))
        .sum()
}

fn node_types(sk: &Skeleton) -> Vec<TypeCount> {
    let mut counts = std::collections::BTreeMap::new();
    for n in sk.trees.iter().flat_map(|t| &t.nodes) {
        if let Some(t) = n.swc_type {
            *counts.entry(t).or_insert(0) += 1;
        }
    }
    let mut types: Vec<TypeCount> = counts
        .into_iter()
        .map(|(t, count)| TypeCount {
            label: swc_type_label(t),
            count,
        })
        .collect();
    types.sort_by_key(|t| std::cmp::Reverse(t.count));
    types
}

/// A length for people: nm below 1 µm, µm below 1 mm, else mm, with three significant digits.
pub fn format_length(nm: f64) -> String {
    let (value, unit) = if nm < 1_000.0 {
        (nm, "nm")
    } else if nm < 1_000_000.0 {
        (nm / 1_000.0, "µm")
    } else {
        (nm / 1_000_000.0, "mm")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{} {unit}", trim_number_to(value, decimals))
}

fn trim_number_to(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn trim_number(value: f64) -> String {
    trim_number_to(value, 3)
}

/// `1 tree`, `3 trees`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Each tree's colour as CSS hex: the file's own (NML), else the palette's in turn; the 2D
/// overlay and the 3D view draw each tree in it.
pub fn tree_colours(sk: &Skeleton) -> Vec<String> {
    sk.trees
        .iter()
        .enumerate()
        .map(|(i, t)| match t.color {
            Some([r, g, b, _]) => hex(r, g, b),
            None => PALETTE[i % PALETTE.len()].to_string(),
        })
        .collect()
}

fn hex(r: f32, g: f32, b: f32) -> String {
    let c = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", c(r), c(g), c(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_naturally() {
        assert_eq!(format_length(270.0), "270 nm");
        assert_eq!(format_length(46_000.0), "46 µm");
        assert_eq!(format_length(1_234.5), "1.23 µm");
        assert_eq!(format_length(2_500_000.0), "2.5 mm");
    }

    #[test]
    fn colours_are_css_hex() {
        assert_eq!(hex(1.0, 0.5, 0.0), "#ff8000");
    }
}
