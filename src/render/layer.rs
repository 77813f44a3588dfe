//! Segmentation layer pages: one page per layer at [`LayerRef::output_dir`], with its
//! statistics, downloads of the original files, and the dataset's viewer with the labels drawn
//! over it by `assets/segmentation.js`.
//!
//! Beside the page: `tiles/<hash>/<level>/<col>_<row>.bin`, the exact label pyramid of each
//! slice (format in `media::labels`), and `segments.json`, every segment of the layer with
//! its name, colour, voxel count and extent, which the script lists, searches and colours by.
//! Colours are made here, once ([`colour_of`]): the csv's colour, else one from a hash of the
//! id, so the same id has the same colour on every page and in every build.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::context::{format_bytes, relative, PageView, Prepared, SiteView};
use super::{LayerIndex, MediaIndex, Page, RenderOptions, Theme};
use crate::content::description::web_name;
use crate::content::model::{Content, Dataset, LayerRef};

/// The segment list beside each layer page, read by `assets/segmentation.js`.
pub const SEGMENTS_FILE: &str = "segments.json";

/// Rows of the "largest segments" table.
const LARGEST: usize = 20;

/// The original files of each layer (label images and `segments.csv`), published byte for
/// byte beside its page, as `(output-relative path, source path)`.
pub fn layer_files(content: &Content) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for d in &content.datasets {
        for l in &d.layers {
            for (name, source) in originals(d, l) {
                files.push((format!("{}{name}", l.output_dir(d)), source));
            }
        }
    }
    files
}

/// Each label pyramid's cached `tiles_files/` folder and tile count, with its output path
/// `<layer dir>tiles/<hash>`.
pub fn layer_tiles(content: &Content, layers: &LayerIndex) -> Vec<(String, PathBuf, usize)> {
    let mut out = Vec::new();
    for d in &content.datasets {
        for l in &d.layers {
            for slice in l
                .images
                .iter()
                .filter_map(|i| layers.get(i))
                .flat_map(|x| &x.slices)
            {
                let path = format!("{}tiles/{}", l.output_dir(d), slice.hash);
                out.push((path, slice.dir.clone(), slice.tile_count()));
            }
        }
    }
    out
}

/// The folder of a private layer's OME-Zarr labels: `<layer dir>labels.ome.zarr/` (a public
/// layer's are in its volume's `labels/<id>/`).
pub fn labels_dir(d: &Dataset, l: &LayerRef) -> String {
    format!("{}labels.ome.zarr/", l.output_dir(d))
}

/// Each private layer's OME-Zarr labels in the cache, with its output folder and file count.
pub fn private_label_volumes(
    content: &Content,
    media: &MediaIndex,
) -> Vec<(String, PathBuf, usize)> {
    let mut out = Vec::new();
    for d in &content.datasets {
        for l in &d.layers {
            if let Some(labels) = media.private_labels.get(&(d.dir.clone(), l.id.clone())) {
                let path = labels_dir(d, l).trim_end_matches('/').to_string();
                out.push((path, labels.dir.clone(), labels.files));
            }
        }
    }
    out
}

/// A layer's original files under their published names (the path in the dataset folder,
/// lowercased, other characters `-`, as description files are published).
fn originals(d: &Dataset, l: &LayerRef) -> Vec<(String, PathBuf)> {
    l.images
        .iter()
        .chain(&l.segments_file)
        .map(|file| {
            let rel = file.strip_prefix(&d.dir).unwrap_or(file).to_string_lossy();
            let name = web_name(&rel).unwrap_or_else(|| "labels".to_string());
            (name, file.clone())
        })
        .collect()
}

/// The colour of segment `id` when its csv row gives none: a hue from a hash of the id (the
/// murmur3 finaliser, so neighbouring ids get distant hues), fixed saturation and lightness
/// that read on grey-scale images. Stable: the same id, the same colour, everywhere.
pub fn colour_of(id: u32) -> String {
    let mut h = id;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    let hue = f64::from(h % 360);
    let (s, l) = (0.8, 0.55);
    let c = (1.0 - (2.0 * l - 1.0_f64).abs()) * s;
    let x = c * (1.0 - ((hue / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (hue / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

/// One segment of the layer in `segments.json` and the page's table.
#[derive(Debug, Serialize)]
struct SegmentView<'a> {
    id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    colour: String,
    voxels: u64,
    /// Volume in µm³ (voxels × voxel size), when the dataset has a voxel size.
    #[serde(skip_serializing_if = "Option::is_none")]
    volume_um3: Option<f64>,
    /// Smallest and largest `[x, y, slice]`, in the dataset's image pixels and slices.
    min: [u32; 3],
    max: [u32; 3],
}

/// `layer` as the template sees it.
#[derive(Serialize)]
struct LayerView<'a> {
    id: &'a str,
    private: bool,
    stats: LayerStats,
    largest: Vec<Row<'a>>,
    downloads: Vec<Download>,
    /// The OME-Zarr labels, when the dataset is a z-stack.
    zarr: Option<ZarrLink>,
    /// `data-segmentation` for the script: tile geometry and URLs relative to the page.
    overlay: String,
}

#[derive(Serialize)]
struct LayerStats {
    segments: usize,
    named: usize,
    /// Voxels in some segment (not background).
    voxels: u64,
    slices: usize,
    volume: Option<String>,
}

#[derive(Serialize)]
struct Row<'a> {
    id: u32,
    name: Option<&'a str>,
    colour: &'a str,
    voxels: u64,
    volume: Option<String>,
}

#[derive(Serialize)]
struct Download {
    url: String,
    name: String,
    size: String,
}

/// Renders every layer's page and `segments.json` (a private one's under `private/`).
pub fn render_layer_pages(
    content: &Content,
    media: &MediaIndex,
    layers: &LayerIndex,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let site = SiteView::of(&content.config, &opts.base_url);
    let mut pages = Vec::new();
    for d in &content.datasets {
        if d.layers.is_empty() {
            continue;
        }
        let prepared = Prepared::new(d, content, media, opts, None)?;
        for l in &d.layers {
            let zarr = zarr_link(&prepared, l, media, opts);
            pages.extend(render_one(
                &prepared,
                l,
                (layers, zarr),
                &site,
                theme,
                opts,
            )?);
        }
    }
    Ok(pages)
}

/// Where the layer's OME-Zarr labels are, for the page: in the volume's `labels/` when public,
/// else in the layer's own folder ([`labels_dir`]); none without a volume.
fn zarr_link(
    prepared: &Prepared,
    l: &LayerRef,
    media: &MediaIndex,
    opts: &RenderOptions,
) -> Option<ZarrLink> {
    let d = prepared.dataset;
    let volume = prepared.volume?;
    let dir = match l.is_public_in(d) {
        true if volume.labels.contains(&l.id) => {
            format!("{}labels/{}/", super::volume_dir(d, volume), l.id)
        }
        true => return None,
        false => {
            media.private_labels.get(&(d.dir.clone(), l.id.clone()))?;
            labels_dir(d, l)
        }
    };
    Some(ZarrLink {
        url: relative(&l.output_dir(d), &dir),
        absolute_url: opts.base_url.join(&dir),
    })
}

/// A layer's OME-Zarr labels as its page links them.
#[derive(Serialize)]
struct ZarrLink {
    /// The label image's folder, relative to the page.
    url: String,
    /// Its address, for napari, webKnossos or Neuroglancer.
    absolute_url: String,
}

fn render_one(
    prepared: &Prepared,
    l: &LayerRef,
    (layers, zarr): (&LayerIndex, Option<ZarrLink>),
    site: &SiteView,
    theme: &Theme,
    opts: &RenderOptions,
) -> Result<Vec<Page>> {
    let d = prepared.dataset;
    let dir = l.output_dir(d);
    let private = !l.is_public_in(d);
    let voxel_nm3 = d
        .voxel_size_nm
        .or(prepared.slices[0].voxel_size_nm)
        .map(|[x, y, z]| x * y * z);
    let names: BTreeMap<u32, &crate::content::model::Segment> =
        l.segments.iter().map(|s| (s.id, s)).collect();
    // Files are counted one after another: a file's pages are the slices after the last file's.
    let mut merged: BTreeMap<u32, SegmentView> = BTreeMap::new();
    let mut slices = Vec::new();
    let mut z0 = 0u32;
    for labels in l.images.iter().map(|i| {
        layers
            .get(i)
            .with_context(|| format!("layer '{}' of '{}': label image not derived", l.id, d.slug))
    }) {
        let labels = labels?;
        for e in &labels.segments {
            let named = names.get(&e.id);
            let view = merged.entry(e.id).or_insert_with(|| SegmentView {
                id: e.id,
                name: named.map(|s| s.name.as_str()),
                colour: named
                    .and_then(|s| s.colour.clone())
                    .unwrap_or_else(|| colour_of(e.id)),
                voxels: 0,
                volume_um3: None,
                min: [u32::MAX; 3],
                max: [0; 3],
            });
            view.voxels += e.voxels;
            view.min = [
                view.min[0].min(e.min[0]),
                view.min[1].min(e.min[1]),
                view.min[2].min(e.min[2] + z0),
            ];
            view.max = [
                view.max[0].max(e.max[0]),
                view.max[1].max(e.max[1]),
                view.max[2].max(e.max[2] + z0),
            ];
        }
        for s in &labels.slices {
            slices.push(serde_json::json!({
                "tiles": format!("tiles/{}/", s.hash),
                "width": s.width,
                "height": s.height,
                "levels": s.levels,
                "bytes": s.bytes,
            }));
        }
        z0 += labels.slices.len() as u32;
    }
    let mut segments: Vec<SegmentView> = merged.into_values().collect();
    for s in &mut segments {
        s.volume_um3 = voxel_nm3.map(|v| s.voxels as f64 * v / 1e9);
    }
    let total: u64 = segments.iter().map(|s| s.voxels).sum();
    let mut by_size: Vec<&SegmentView> = segments.iter().collect();
    by_size.sort_by(|a, b| b.voxels.cmp(&a.voxels).then(a.id.cmp(&b.id)));
    let view = LayerView {
        id: &l.id,
        private,
        stats: LayerStats {
            segments: segments.len(),
            named: l.segments.len(),
            voxels: total,
            slices: slices.len(),
            volume: voxel_nm3.map(|v| format_volume(total as f64 * v / 1e9)),
        },
        largest: by_size
            .iter()
            .take(LARGEST)
            .map(|s| Row {
                id: s.id,
                name: s.name,
                colour: &s.colour,
                voxels: s.voxels,
                volume: s.volume_um3.map(format_volume),
            })
            .collect(),
        downloads: originals(d, l)
            .into_iter()
            .map(|(name, file)| Download {
                url: name.clone(),
                size: std::fs::metadata(&file)
                    .map_or_else(|_| String::new(), |m| format_bytes(m.len())),
                name,
            })
            .collect(),
        zarr,
        overlay: serde_json::json!({
            "tile": crate::media::LABEL_TILE,
            "segments": SEGMENTS_FILE,
            "slices": slices,
        })
        .to_string(),
    };
    let page = PageView::new(
        &dir,
        &opts.base_url,
        private,
        format!(
            "Segmentation {} · {} · {}",
            l.id, d.display_name, site.title
        ),
        format!(
            "Segmentation “{}” of {}: {} segment{} over {} slice{}.",
            l.id,
            d.display_name,
            view.stats.segments,
            if view.stats.segments == 1 { "" } else { "s" },
            view.stats.slices,
            if view.stats.slices == 1 { "" } else { "s" },
        ),
    );
    let mut ctx = tera::Context::new();
    ctx.insert("site", site);
    ctx.insert("page", &page);
    ctx.insert("vitrine_version", env!("CARGO_PKG_VERSION"));
    ctx.insert("dataset", &prepared.view(&dir, opts));
    ctx.insert("layer", &view);
    let path = format!("{dir}index.html");
    let html = theme
        .render("layer.html", &ctx)
        .with_context(|| format!("rendering `{path}`"))?;
    let json = serde_json::to_vec(&serde_json::json!({ "segments": segments }))
        .expect("segments serialise");
    Ok(vec![
        Page {
            path,
            body: html.into_bytes(),
            private,
        },
        Page {
            path: format!("{dir}{SEGMENTS_FILE}"),
            body: json,
            private,
        },
    ])
}

/// A volume in µm³ with three significant digits (scientific below 0.001 and above 10⁶).
fn format_volume(um3: f64) -> String {
    if um3 == 0.0 {
        return "0 µm³".to_string();
    }
    if !(0.001..1e6).contains(&um3) {
        return format!("{um3:.2e} µm³");
    }
    let digits = (2 - um3.log10().floor() as i32).max(0) as usize;
    format!("{um3:.digits$} µm³")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_fixed_per_id() {
        // Pinned: a change here changes every published segmentation's colours.
        assert_eq!(colour_of(1), colour_of(1));
        assert_ne!(colour_of(1), colour_of(2));
        assert_eq!(colour_of(0).len(), 7);
        let pinned = [colour_of(1), colour_of(70000), colour_of(u32::MAX)];
        assert_eq!(pinned, PINNED.map(str::to_string));
    }

    const PINNED: [&str; 3] = ["#e84630", "#309ce8", "#30c0e8"];

    #[test]
    fn volumes_read_naturally() {
        assert_eq!(format_volume(1234.6), "1235 µm³");
        assert_eq!(format_volume(12.345), "12.3 µm³");
        assert_eq!(format_volume(0.5), "0.500 µm³");
        assert_eq!(format_volume(2e7), "2.00e7 µm³");
    }
}
