//! Annotation pages: one page per skeleton annotation, at [`AnnotationRef::output_dir`], with
//! its statistics, comments, a download of the original file, and the dataset's viewer with the
//! skeleton drawn over it by `assets/skeleton.js` from a `skeleton.json` beside the page.
//!
//! The overlay file holds positions in **image pixels** of the dataset's first slice (and z in
//! slice indices), so the script never needs to know the file format or the voxel size.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::context::{PageView, Prepared, SiteView};
use super::{markdown, MediaIndex, Page, RenderOptions, Theme};
use crate::content::annotation::{swc_type_label, Format, Skeleton, Stats};
use crate::content::model::{AnnotationRef, Content, Dataset};

/// The viewer partial; without it the page shows the statistics and no drawing.
const VIEWER_TEMPLATE: &str = "partials/viewer.html";

/// Tree colours when the file gives none: Okabe–Ito, distinguishable with colour-blindness and
/// visible on grey-scale microscopy.
const PALETTE: [&str; 8] = [
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#ffffff",
];

/// Whether an annotation is built with these options: public ones always, the others only
/// when private pages are built (never on `hosting: static`).
fn is_built(d: &Dataset, a: &AnnotationRef, opts: &RenderOptions) -> bool {
    a.is_public_in(d) || opts.include_private
}

/// The original annotation files to publish byte for byte beside their pages, as
/// `(output-relative path, source path)`: `<output_dir>/<id>.nml` or `.swc`, lowercase.
pub fn annotation_files(content: &Content, opts: &RenderOptions) -> Vec<(String, PathBuf)> {
    content
        .datasets
        .iter()
        .flat_map(|d| {
            d.annotations
                .iter()
                .filter(move |a| is_built(d, a, opts))
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

/// Renders every annotation page and its `skeleton.json`; private ones only when
/// `opts.include_private`. Errors name the dataset descriptor or the template.
pub fn render_annotation_pages(
    content: &Content,
    media: &MediaIndex,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let opts = RenderOptions {
        base_url: opts.base_url.trim_end_matches('/').to_string(),
        ..opts.clone()
    };
    let site = SiteView {
        title: &content.config.title,
        base_url: &opts.base_url,
        description_html: markdown::to_html(&content.config.description),
        hosting: content.config.hosting,
    };
    let has_viewer = theme.has_template(VIEWER_TEMPLATE);
    let mut pages = Vec::new();
    for dataset in &content.datasets {
        let annotations: Vec<&AnnotationRef> = dataset
            .annotations
            .iter()
            .filter(|a| is_built(dataset, a, &opts))
            .collect();
        if annotations.is_empty() {
            continue;
        }
        let prepared = Prepared::new(dataset, content, media, &opts, None)?;
        for a in annotations {
            pages.extend(render_one(&prepared, a, &site, theme, &opts, has_viewer)?);
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
    /// Set when positions could not be put in image pixels faithfully; the page says why.
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

/// The overlay file: trees in image pixels, z in slice indices.
#[derive(Serialize)]
struct Overlay<'a> {
    slices: usize,
    trees: Vec<OverlayTree<'a>>,
}

#[derive(Serialize)]
struct OverlayTree<'a> {
    id: u64,
    name: &'a str,
    color: String,
    /// `[x, y, z]` per node: image pixels and slice index, rounded to 0.01.
    nodes: Vec<[f64; 3]>,
    /// Pairs of indices into `nodes`.
    edges: Vec<[usize; 2]>,
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
    let (to_pixels, overlay_note) = pixel_mapping(sk, d.voxel_size_nm);
    let colors: Vec<String> = sk
        .trees
        .iter()
        .enumerate()
        .map(|(i, t)| match t.color {
            Some([r, g, b, _]) => hex(r, g, b),
            None => PALETTE[i % PALETTE.len()].to_string(),
        })
        .collect();
    let located: std::collections::HashMap<u64, (&str, [f64; 3])> = sk
        .trees
        .iter()
        .flat_map(|t| {
            t.nodes
                .iter()
                .map(move |n| (n.id, (t.name.as_str(), n.position)))
        })
        .collect();
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
        overlay: "skeleton.json",
        overlay_note,
    };
    let overlay = Overlay {
        slices: prepared.slices.len(),
        trees: sk
            .trees
            .iter()
            .zip(colors)
            .map(|(t, color)| {
                let index: std::collections::HashMap<u64, usize> =
                    t.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
                OverlayTree {
                    id: t.id,
                    name: &t.name,
                    color,
                    nodes: t
                        .nodes
                        .iter()
                        .map(|n| to_pixels(n.position).map(|v| (v * 100.0).round() / 100.0))
                        .collect(),
                    edges: t
                        .edges
                        .iter()
                        .map(|e| [index[&e.source], index[&e.target]])
                        .collect(),
                }
            })
            .collect(),
    };

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
    let json = serde_json::to_vec(&overlay).context("serialising an annotation overlay")?;
    Ok(vec![
        Page {
            path,
            body: html.into_bytes(),
            private,
        },
        Page {
            path: format!("{dir}skeleton.json"),
            body: json,
            private,
        },
    ])
}

/// How file positions become image pixels (x, y) and slice indices (z), and what the page
/// must say when that is an assumption: NML positions are voxels, which are the image's pixels;
/// SWC is in µm, divided by the dataset's voxel size, or drawn 1 µm = 1 px without one.
fn pixel_mapping(
    sk: &Skeleton,
    voxel_size_nm: Option<[f64; 3]>,
) -> (impl Fn([f64; 3]) -> [f64; 3], Option<String>) {
    let (per_unit, note) = match (sk.format, voxel_size_nm) {
        (Format::Nml, _) => ([1.0; 3], None),
        (Format::Swc, Some(v)) => ([1000.0 / v[0], 1000.0 / v[1], 1000.0 / v[2]], None),
        (Format::Swc, None) => (
            [1.0; 3],
            Some(
                "This dataset has no voxel size, so the SWC's micrometres are drawn as 1 µm = 1 pixel \
                 (and 1 µm = 1 slice); add `voxel_size_nm` to the dataset to place it exactly."
                    .to_string(),
            ),
        ),
    };
    (
        move |p: [f64; 3]| [p[0] * per_unit[0], p[1] * per_unit[1], p[2] * per_unit[2]],
        note,
    )
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
