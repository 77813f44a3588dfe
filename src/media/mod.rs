//! Derives everything a page shows of an image: probe (header only), decode with a pixel limit,
//! contrast-stretch 16-bit and low-range data, thumbnails in several widths, deep-zoom pyramids.
//!
//! Results are cached by the source's content hash under `.vitrine-cache/media/`, so a rebuild
//! re-does no image work. Media never renders HTML and never writes into the output folder:
//! `output` links the cached files into place.
//!
//! (API below is the contract between `media` and `render`/`site`; the media engineer fills it in.)

use std::path::PathBuf;

/// What a header says about an image, read without decoding its pixels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageInfo {
    /// Width in pixels (after EXIF orientation).
    pub width: u32,
    /// Height in pixels (after EXIF orientation).
    pub height: u32,
    /// `png`, `jpeg`, `tiff` or `webp`.
    pub format: &'static str,
    /// Bits per sample: 8 or 16 (32 for float TIFF).
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
    /// Tile format: `jpg` or `png`.
    pub format: &'static str,
    /// Number of levels (level `levels - 1` is full resolution).
    pub levels: u32,
}

/// Everything derived from one source image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Derived {
    /// First 16 hex digits of the BLAKE3 hash of the source bytes; names the media folder.
    pub hash: String,
    /// Header facts of the source.
    pub info: ImageInfo,
    /// Thumbnails, ascending by width (never wider than the source).
    pub thumbnails: Vec<Rendition>,
    /// The deep-zoom pyramid, when requested.
    pub pyramid: Option<Pyramid>,
}
