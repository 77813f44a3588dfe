//! Label images (segmentations) to exact label pyramids and per-segment voxel counts.
//!
//! A label image holds segment ids, not intensities: it is read losslessly (8-, 16- or 32-bit
//! unsigned gray TIFF, every page of a multi-page one, or 8-/16-bit gray PNG), never
//! contrast-stretched, resized or interpolated.
//!
//! **Tiles.** Level `L` (DZI numbering: the top level is full resolution, each level below
//! halves it, rounding up) is cut into [`TILE`]-pixel tiles without overlap:
//! `tiles_files/<L>/<col>_<row>.bin`, the tile's ids as little-endian unsigned integers of
//! `bytes` (1, 2 or 4: the source's sample size) each, row by row, compressed with zlib. The
//! browser inflates them with `DecompressionStream("deflate")` into a typed array: no image
//! decoder, canvas, premultiplied alpha or colour management ever touches an id, so every id
//! arrives exactly (a PNG-packed id would pass through the browser's image pipeline, where
//! colour conversion and alpha premultiplication may change the bytes).
//!
//! **Downsampling.** A pixel of level `L − 1` is the **mode** of the (up to) 2 × 2 block of
//! level `L` it covers: the id found most often; on a tie a non-zero id beats the background
//! (so thin segments stay visible when zoomed out), then the first in reading order (top-left,
//! top-right, bottom-left, bottom-right) wins. Every pixel of every level is therefore an id
//! of the source; nothing is averaged.
//!
//! Results are cached like other media, by the source's content hash, under
//! `<cache>/labels/<hash>-v<LABELS_VERSION>/` with `labels.json` written last (and looked up in
//! `MediaSettings::read_also` too, never written there).

use std::collections::HashMap;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::ColorType;

use super::derive::{index_path, Stamp};
use super::{dzi, MediaError, MediaSettings};

/// Tile edge of label pyramids, in pixels; tiles do not overlap (ids are looked up, not
/// filtered, so no neighbour pixel is ever needed).
pub const TILE: u32 = 256;

/// Bumped whenever the cached files would change for the same source.
const LABELS_VERSION: u32 = 1;

/// The manifest of a cache entry; its presence marks the entry complete.
const MANIFEST: &str = "labels.json";

/// One slice of a label image: its pyramid in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSlice {
    /// 16 hex digits naming the slice's published folder (the file's hash, and the page).
    pub hash: String,
    /// Full-resolution width.
    pub width: u32,
    /// Full-resolution height.
    pub height: u32,
    /// Levels `0 ..= levels - 1`, the last one full resolution.
    pub levels: u32,
    /// Bytes per id in the tiles: 1, 2 or 4.
    pub bytes: u8,
    /// The cached `tiles_files/` folder.
    #[serde(skip)]
    pub dir: PathBuf,
}

impl LabelSlice {
    /// How many tiles the pyramid holds, from its geometry.
    pub fn tile_count(&self) -> usize {
        (0..self.levels)
            .map(|level| {
                let (w, h) = dzi::level_size(self.width, self.height, level);
                (w.div_ceil(TILE) * h.div_ceil(TILE)) as usize
            })
            .sum()
    }
}

/// What one segment covers in a label file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentExtent {
    /// The segment id (never 0, the background).
    pub id: u32,
    /// Pixels (voxels) with this id, over every page.
    pub voxels: u64,
    /// Smallest `[x, y, page]` with this id.
    pub min: [u32; 3],
    /// Largest `[x, y, page]` with this id.
    pub max: [u32; 3],
}

/// Everything derived from one label file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    /// Its pages, each a slice.
    pub slices: Vec<LabelSlice>,
    /// Every non-zero id with its voxel count and extent, ascending by id.
    pub segments: Vec<SegmentExtent>,
}

/// Reads the label file `src` (cached by content hash) into pyramids and segment extents.
pub fn derive_labels(src: &Path, settings: &MediaSettings) -> Result<Labels, MediaError> {
    let read_err = |source| MediaError::Read {
        path: src.to_owned(),
        source,
    };
    let cache_err = |(path, source): (PathBuf, std::io::Error)| MediaError::Cache { path, source };
    let meta = fs::metadata(src).map_err(read_err)?;
    let stamp = Stamp::of(src, &meta);
    // The written cache first, then the one only read (`vitrine check`'s scratch build).
    let caches =
        || std::iter::once(settings.cache_dir.as_path()).chain(settings.read_also.as_deref());
    let entry = |cache: &Path, hash: &str| {
        cache
            .join("labels")
            .join(format!("{hash}-v{LABELS_VERSION}"))
    };
    for cache in caches() {
        if let Some(labels) = stamp
            .known_hash(&index_path(cache, src))
            .and_then(|hash| load(&entry(cache, &hash)))
        {
            return Ok(labels);
        }
    }
    let bytes = fs::read(src).map_err(read_err)?;
    let hash = blake3::hash(&bytes).to_hex()[..16].to_string();
    let root = settings.cache_dir.join("labels");
    let dir = entry(&settings.cache_dir, &hash);
    let labels = match caches().find_map(|cache| load(&entry(cache, &hash))) {
        Some(labels) => labels,
        None => {
            fs::create_dir_all(&root).map_err(|e| cache_err((root.clone(), e)))?;
            let tmp = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempdir_in(&root)
                .map_err(|e| cache_err((root.clone(), e)))?;
            let labels = produce(src, &bytes, &hash, settings.max_pixels, tmp.path())?;
            let manifest = tmp.path().join(MANIFEST);
            let json = serde_json::to_vec(&labels).expect("labels serialise");
            fs::write(&manifest, json).map_err(|e| cache_err((manifest, e)))?;
            let tmp = tmp.keep();
            if let Err(e) = fs::rename(&tmp, &dir) {
                let _ = fs::remove_dir_all(&tmp);
                // Another build finished the same entry first; theirs is as good as ours.
                if !dir.join(MANIFEST).is_file() {
                    return Err(cache_err((dir.clone(), e)));
                }
            }
            load(&dir).ok_or_else(|| {
                cache_err((dir.join(MANIFEST), std::io::Error::other("unreadable")))
            })?
        }
    };
    // The index only saves work next time; failing to write it must not fail the build.
    let _ = stamp.record(&index_path(&settings.cache_dir, src), &hash);
    Ok(labels)
}

/// A complete cache entry, or `None`.
fn load(dir: &Path) -> Option<Labels> {
    let mut labels: Labels = serde_json::from_slice(&fs::read(dir.join(MANIFEST)).ok()?).ok()?;
    for (k, slice) in labels.slices.iter_mut().enumerate() {
        slice.dir = dir.join(format!("page-{k}")).join("tiles_files");
    }
    Some(labels)
}

/// One decoded page of ids.
pub(super) struct Ids {
    pub width: u32,
    pub height: u32,
    /// Bytes per id in the file: 1, 2 or 4.
    pub bytes: u8,
    pub ids: Vec<u32>,
}

/// Hands every page of the label file `src` (its `bytes`) to `add` as ids, one at a time.
pub(super) fn read_pages(
    src: &Path,
    bytes: &[u8],
    max_pixels: u64,
    add: &mut dyn FnMut(usize, Ids) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    if super::tiff::is_tiff(bytes) {
        read_tiff(src, bytes, max_pixels, add)
    } else {
        add(0, read_png(src, bytes, max_pixels)?)
    }
}

/// Decodes every page, one at a time, writing its pyramid under `out/page-<k>/` and counting
/// its segments.
fn produce(
    src: &Path,
    bytes: &[u8],
    hash: &str,
    max_pixels: u64,
    out: &Path,
) -> Result<Labels, MediaError> {
    let cache_err = |(path, source): (PathBuf, std::io::Error)| MediaError::Cache { path, source };
    let mut counts: HashMap<u32, SegmentExtent> = HashMap::new();
    let mut slices = Vec::new();
    let mut add = |page: usize, ids: Ids| -> Result<(), MediaError> {
        count(&mut counts, &ids, page as u32);
        let dir = out.join(format!("page-{page}")).join("tiles_files");
        let levels =
            write_pyramid(&dir, ids.width, ids.height, ids.bytes, ids.ids).map_err(cache_err)?;
        let slice_hash = match page {
            0 => hash.to_string(),
            k => blake3::hash(format!("{hash}/page-{k}").as_bytes()).to_hex()[..16].to_string(),
        };
        slices.push(LabelSlice {
            hash: slice_hash,
            width: ids.width,
            height: ids.height,
            levels,
            bytes: ids.bytes,
            dir,
        });
        Ok(())
    };
    read_pages(src, bytes, max_pixels, &mut add)?;
    let mut segments: Vec<SegmentExtent> = counts.into_values().collect();
    segments.sort_by_key(|s| s.id);
    Ok(Labels { slices, segments })
}

/// Adds one page's ids to the per-segment counts (runs of one id are counted at once).
fn count(counts: &mut HashMap<u32, SegmentExtent>, page: &Ids, z: u32) {
    for (y, row) in page.ids.chunks_exact(page.width as usize).enumerate() {
        let mut x = 0;
        while x < row.len() {
            let id = row[x];
            let run = row[x..].iter().take_while(|&&v| v == id).count();
            if id != 0 {
                let (x0, x1, y) = (x as u32, (x + run - 1) as u32, y as u32);
                let e = counts.entry(id).or_insert(SegmentExtent {
                    id,
                    voxels: 0,
                    min: [x0, y, z],
                    max: [x1, y, z],
                });
                e.voxels += run as u64;
                e.min = [e.min[0].min(x0), e.min[1].min(y), e.min[2].min(z)];
                e.max = [e.max[0].max(x1), e.max[1].max(y), e.max[2].max(z)];
            }
            x += run;
        }
    }
}

/// Every full-resolution page of a TIFF as ids; refuses anything but 8-, 16- or 32-bit
/// unsigned gray.
fn read_tiff(
    src: &Path,
    bytes: &[u8],
    max_pixels: u64,
    add: &mut dyn FnMut(usize, Ids) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    let undecodable = |e: tiff::TiffError| MediaError::Undecodable {
        path: src.to_owned(),
        reason: e.to_string(),
    };
    let mut limits = Limits::default();
    limits.decoding_buffer_size = usize::try_from(max_pixels.saturating_mul(4))
        .unwrap_or(usize::MAX)
        .max(limits.decoding_buffer_size);
    let mut decoder = Decoder::new(Cursor::new(bytes))
        .map_err(undecodable)?
        .with_limits(limits);
    let pages = super::tiff::full_pages(&mut decoder).map_err(undecodable)?;
    for (k, &index) in pages.iter().enumerate() {
        decoder.seek_to_image(index).map_err(undecodable)?;
        let (width, height) = decoder.dimensions().map_err(undecodable)?;
        check_size(src, width, height, max_pixels)?;
        let color = decoder.colortype().map_err(undecodable)?;
        if !matches!(color, ColorType::Gray(8 | 16 | 32)) {
            return Err(not_labels(src, &format!("page {} is {color:?}", k + 1)));
        }
        let (bytes, ids) = match decoder.read_image().map_err(undecodable)? {
            DecodingResult::U8(v) => (1, v.into_iter().map(u32::from).collect()),
            DecodingResult::U16(v) => (2, v.into_iter().map(u32::from).collect()),
            DecodingResult::U32(v) => (4, v),
            _ => {
                return Err(not_labels(
                    src,
                    &format!("page {} holds signed or floating-point samples", k + 1),
                ))
            }
        };
        add(
            k,
            Ids {
                width,
                height,
                bytes,
                ids,
            },
        )?;
    }
    Ok(())
}

/// A gray PNG of 8 or 16 bits as ids.
fn read_png(src: &Path, bytes: &[u8], max_pixels: u64) -> Result<Ids, MediaError> {
    let undecodable = |e: image::ImageError| MediaError::Undecodable {
        path: src.to_owned(),
        reason: e.to_string(),
    };
    let reader = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let (width, height) = reader.into_dimensions().map_err(undecodable)?;
    check_size(src, width, height, max_pixels)?;
    let image =
        image::load_from_memory_with_format(bytes, image::ImageFormat::Png).map_err(undecodable)?;
    let (bytes, ids) = match image {
        image::DynamicImage::ImageLuma8(b) => {
            (1, b.into_raw().into_iter().map(u32::from).collect())
        }
        image::DynamicImage::ImageLuma16(b) => {
            (2, b.into_raw().into_iter().map(u32::from).collect())
        }
        other => {
            return Err(not_labels(src, &format!("it is {:?}", other.color())));
        }
    };
    Ok(Ids {
        width,
        height,
        bytes,
        ids,
    })
}

fn check_size(src: &Path, width: u32, height: u32, max_pixels: u64) -> Result<(), MediaError> {
    MediaError::check_pixels(src, width, height, max_pixels)?;
    if width == 0 || height == 0 {
        return Err(MediaError::Undecodable {
            path: src.to_owned(),
            reason: format!("the header declares an empty {width} × {height} image"),
        });
    }
    Ok(())
}

fn not_labels(src: &Path, what: &str) -> MediaError {
    MediaError::Unsupported {
        path: src.to_owned(),
        reason: format!(
            "{what}, and a label image holds one unsigned integer id a pixel: save it as 8-, 16- \
             or 32-bit unsigned gray TIFF (or 8-/16-bit gray PNG), without colour or alpha"
        ),
    }
}

/// Writes every level of the pyramid of `ids` (full resolution first, each level the mode
/// of the one above) into `dir`; returns the number of levels.
fn write_pyramid(
    dir: &Path,
    width: u32,
    height: u32,
    bytes: u8,
    ids: Vec<u32>,
) -> Result<u32, (PathBuf, std::io::Error)> {
    let top = dzi::max_level(width, height);
    let (mut w, mut h, mut level_ids) = (width, height, ids);
    for level in (0..=top).rev() {
        write_level(&dir.join(level.to_string()), w, h, bytes, &level_ids)?;
        if level > 0 {
            let (nw, nh, next) = halve(w, h, &level_ids);
            (w, h, level_ids) = (nw, nh, next);
        }
    }
    Ok(top + 1)
}

/// Writes one level's tiles, `<col>_<row>.bin`.
fn write_level(
    dir: &Path,
    width: u32,
    height: u32,
    bytes: u8,
    ids: &[u32],
) -> Result<(), (PathBuf, std::io::Error)> {
    fs::create_dir_all(dir).map_err(|e| (dir.to_owned(), e))?;
    for row in 0..height.div_ceil(TILE) {
        for col in 0..width.div_ceil(TILE) {
            let (x0, y0) = (col * TILE, row * TILE);
            let (tw, th) = (TILE.min(width - x0), TILE.min(height - y0));
            let mut raw = Vec::with_capacity((tw * th) as usize * usize::from(bytes));
            for y in y0..y0 + th {
                let start = (y * width + x0) as usize;
                for &id in &ids[start..start + tw as usize] {
                    raw.extend_from_slice(&id.to_le_bytes()[..usize::from(bytes)]);
                }
            }
            let path = dir.join(format!("{col}_{row}.bin"));
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&raw).map_err(|e| (path.clone(), e))?;
            let packed = z.finish().map_err(|e| (path.clone(), e))?;
            fs::write(&path, packed).map_err(|e| (path, e))?;
        }
    }
    Ok(())
}

/// The next coarser level: each pixel the mode of its 2 × 2 block (see the module head).
fn halve(width: u32, height: u32, ids: &[u32]) -> (u32, u32, Vec<u32>) {
    let (nw, nh) = (width.div_ceil(2), height.div_ceil(2));
    let mut out = Vec::with_capacity(nw as usize * nh as usize);
    for y in 0..nh {
        for x in 0..nw {
            let mut block = [0u32; 4];
            let mut n = 0;
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (sx, sy) = (2 * x + dx, 2 * y + dy);
                if sx < width && sy < height {
                    block[n] = ids[(sy * width + sx) as usize];
                    n += 1;
                }
            }
            out.push(mode(&block[..n]));
        }
    }
    (nw, nh, out)
}

/// The most frequent value; ties go to a non-zero value, then to the first in order.
pub(super) fn mode(values: &[u32]) -> u32 {
    let mut best = values[0];
    let mut best_count = 0;
    for &v in values {
        let c = values.iter().filter(|&&w| w == v).count();
        if c > best_count || (c == best_count && best == 0 && v != 0) {
            best = v;
            best_count = c;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_keeps_ids_and_prefers_segments_on_ties() {
        assert_eq!(mode(&[5, 5, 7, 9]), 5);
        assert_eq!(mode(&[0, 0, 7, 7]), 7);
        assert_eq!(mode(&[0, 7, 0, 7]), 7);
        assert_eq!(
            mode(&[3, 7, 7, 3]),
            3,
            "tie between segments: first in reading order"
        );
        assert_eq!(mode(&[0, 0, 0, 7]), 0);
        assert_eq!(mode(&[u32::MAX]), u32::MAX);
    }

    #[test]
    fn halving_rounds_up_and_never_invents_ids() {
        // 3 × 3 → 2 × 2; the odd column and row are blocks of their own.
        let ids = [1, 1, 9, 1, 2, 9, 4, 4, 70000];
        let (w, h, out) = halve(3, 3, &ids);
        assert_eq!((w, h), (2, 2));
        assert_eq!(out, vec![1, 9, 4, 70000]);
    }

    #[test]
    fn counts_voxels_and_extents_per_segment() {
        let mut counts = HashMap::new();
        let page = Ids {
            width: 3,
            height: 2,
            bytes: 4,
            ids: vec![0, 5, 5, 6, 5, 0],
        };
        count(&mut counts, &page, 0);
        count(&mut counts, &page, 2);
        let five = counts[&5];
        assert_eq!((five.voxels, five.min, five.max), (6, [1, 0, 0], [2, 1, 2]));
        assert!(!counts.contains_key(&0));
    }

    #[test]
    fn tiles_hold_the_ids_little_endian_and_zlib_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<u32> = (0..300 * 2).map(|i| i * 65_537).collect();
        let levels = write_pyramid(dir.path(), 300, 2, 4, ids.clone()).unwrap();
        assert_eq!(levels, 10);
        let read = |name: &str| {
            let packed = fs::read(dir.path().join(name)).unwrap();
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&packed[..]), &mut raw)
                .unwrap();
            raw.chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
                .collect::<Vec<_>>()
        };
        let right = read("9/1_0.bin");
        assert_eq!(right.len(), 44 * 2);
        assert_eq!(right[0], ids[256]);
        assert_eq!(right[44], ids[300 + 256]);
    }
}
