//! Derives everything a page shows of an image: probe (header only), decode with a pixel limit,
//! contrast-stretch 16-bit and low-range data, thumbnails in several widths, deep-zoom pyramids.
//!
//! Results are cached by the source's content hash under `.vitrine-cache/media/`, so a rebuild
//! re-does no image work. Media never renders HTML and never writes into the output folder:
//! `output` links the cached files into place.
//!
//! Entry points: [`probe`] (reads headers), [`derive()`] for one image and [`derive_all`] for a
//! build (parallel, memory-bounded, with a progress bar).
//! Output formats follow the content: JPEG q80 (1 channel for gray) for photographic and EM
//! images; PNG for images with transparency and for label masks or line art (at most 16 distinct
//! values), where JPEG would smear edges and cost more bytes. A z-stack is also written as a
//! multiscale OME-Zarr volume ([`derive_volume`], `volume.rs`), from the samples as decoded, and
//! its segmentation layers as OME-Zarr labels ([`derive_label_volume`], `label_volume.rs`).
//! An opaque image also gets the facts of the viewer's display range ([`Display`]: histogram and
//! percentiles in the data's own units), and a gray image wider than 8 bits a second, lossless
//! pyramid of its values (`raw.rs`), which the viewer windows on the GPU.

mod batch;
mod derive;
mod dzi;
mod encode;
mod error;
mod label_volume;
mod labels;
mod pixels;
mod probe;
mod raw;
mod remote;
mod tiff;
mod volume;

use std::path::PathBuf;

pub use batch::{derive_all, MediaJob};
pub use derive::{derive, Stamp};
pub use encode::{Format, WebpSettings, JPEG_QUALITY};
pub use error::MediaError;
pub use label_volume::{derive_label_volume, with_labels, LabelVolume, LabelVolumeJob};
pub use labels::{derive_labels, LabelSlice, Labels, SegmentExtent, TILE as LABEL_TILE};
pub use probe::probe;
pub use remote::{describe_remote, RemoteInfo};
pub use volume::{derive_volume, SliceRef, Volume, VolumeJob, NGFF_VERSION, ZARR_DIR};

/// How images are derived: limits, thumbnail widths, pyramids on or off, and where the cache is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSettings {
    /// Images with more pixels than this are refused from their header, before decoding.
    pub max_pixels: u64,
    /// Thumbnail widths; none is wider than its source (see [`Derived::thumbnails`]).
    pub thumbnail_widths: Vec<u32>,
    /// Site-wide switch (`viewer.pyramids`): when off, no job builds a pyramid.
    pub pyramids: bool,
    /// `images.format: webp`: tiles in lossy WebP, thumbnails in WebP beside their JPEG
    /// fallback (PNG content stays PNG either way).
    pub webp: bool,
    /// The media cache, normally `ROOT/.vitrine-cache/media`; every derived file is written here.
    pub cache_dir: PathBuf,
    /// Another media cache, only read: `vitrine check` derives into a scratch folder and reuses
    /// what the site's own cache already holds, so it writes nothing of the site's.
    pub read_also: Option<PathBuf>,
}

impl MediaSettings {
    /// Default limit: 250 megapixels, about a 16k × 16k slice, far beyond any gallery image.
    pub const DEFAULT_MAX_PIXELS: u64 = 250_000_000;

    /// Default settings with the cache in `cache_dir`: 250 MP limit, widths 400 and 1200, pyramids on.
    pub fn new(cache_dir: PathBuf) -> MediaSettings {
        MediaSettings {
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            thumbnail_widths: vec![400, 1200],
            pyramids: true,
            webp: false,
            cache_dir,
            read_also: None,
        }
    }
}

/// What a header says about an image, read without decoding its pixels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageInfo {
    /// Width in pixels (after EXIF orientation).
    pub width: u32,
    /// Height in pixels (after EXIF orientation).
    pub height: u32,
    /// `png`, `jpeg`, `tiff` or `webp`.
    pub format: &'static str,
    /// Bits per sample in the file: 8 or 16 (1, 2 or 4 for packed PNG, 32 for float TIFF).
    pub bits: u8,
    /// 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
    pub channels: u8,
}

/// One derived raster file, e.g. a 400-px-wide thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rendition {
    /// File name to publish it under, e.g. `thumb-400.jpg` (lowercase ASCII).
    pub name: String,
    /// Where the cached file is.
    pub file: PathBuf,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub mime: &'static str,
}

/// A Deep Zoom pyramid in the cache: `<dir>/tiles.dzi` and `<dir>/tiles_files/<level>/<col>_<row>.<format>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pyramid {
    /// Folder holding `tiles.dzi` and `tiles_files/`.
    pub dir: PathBuf,
    /// Full-resolution width.
    pub width: u32,
    /// Full-resolution height.
    pub height: u32,
    /// Tile edge in pixels (without overlap).
    pub tile_size: u32,
    /// Overlap in pixels.
    pub overlap: u32,
    /// Tile format: `jpg`, `png` or `webp`.
    pub format: &'static str,
    /// Number of levels (level `levels - 1` is full resolution).
    pub levels: u32,
}

impl Pyramid {
    /// How many tiles `tiles_files/` holds, from the geometry: reports count a pyramid's
    /// files without reading its folders.
    pub fn tile_count(&self) -> usize {
        (0..self.levels)
            .map(|level| {
                let (width, height) = dzi::level_size(self.width, self.height, level);
                let (cols, rows) = dzi::tile_grid(width, height);
                cols as usize * rows as usize
            })
            .sum()
    }
}

/// What the viewer's display range needs of one image, every value in the data's own units
/// (counts for 8- and 16-bit data; a float image's own values).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Display {
    /// The smallest and largest sample (finite samples; NaN counts as the smallest).
    pub range: [f64; 2],
    /// The 0.5 % and 99.5 % percentiles: the window the viewer starts from, as today's 8-bit
    /// renditions show it.
    pub window: [f64; 2],
    /// What 0 and 255 in the 8-bit renditions stand for: they map the data linearly between
    /// these, clipped outside.
    pub display_map: [f64; 2],
    /// Sample counts in 256 equal bins from `range[0]` to `range[1]` (colour: all channels).
    pub histogram: Vec<u64>,
    /// What 0 and 65535 in the lossless pyramid stand for, when there is one: `[0, 65535]` for
    /// 16-bit data, a float image's min and max (a 65536-step quantisation of its range).
    pub raw_map: Option<[f64; 2]>,
    /// Whether the samples are integers (8 or 16 bits) rather than mapped from another type.
    pub integer: bool,
}

/// Everything derived from one source image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Derived {
    /// First 16 hex digits of the BLAKE3 hash of the source bytes; names the media folder.
    pub hash: String,
    /// Header facts of the source.
    pub info: ImageInfo,
    /// Thumbnails, ascending by width: each configured width the source reaches, plus the
    /// source's own width when it is narrower than the largest configured one (never upscaled).
    pub thumbnails: Vec<Rendition>,
    /// With `images.format: webp`, the WebP twin of each of `thumbnails` (same widths, same
    /// order), which pages offer first in `<picture>`; empty otherwise and for PNG content.
    pub webp_thumbnails: Vec<Rendition>,
    /// The deep-zoom pyramid, when requested.
    pub pyramid: Option<Pyramid>,
    /// The display range's facts; `None` for an image with transparency.
    pub display: Option<Display>,
    /// The lossless pyramid of a gray image wider than 8 bits, beside `pyramid`:
    /// `<dir>/raw.dzi` and `<dir>/raw_files/<level>/<col>_<row>.png`, each 16-bit value `v`
    /// stored as red `v >> 8` and green `v & 255` (see `Display::raw_map` for its units).
    pub raw_pyramid: Option<Pyramid>,
    /// Pages 2… of a multi-page TIFF (a z-stack in one file), each derived like a file of its
    /// own, with its own `hash` (derived from the file's and the page number).
    pub pages: Vec<Derived>,
    /// The voxel size in nm the file's ImageJ or OME metadata states, for a dataset that
    /// gives none.
    pub voxel_size_nm: Option<[f64; 3]>,
}

impl Derived {
    /// The slices this image gives the viewer: itself, then its further pages.
    pub fn slices(&self) -> impl Iterator<Item = &Derived> {
        std::iter::once(self).chain(&self.pages)
    }
}
