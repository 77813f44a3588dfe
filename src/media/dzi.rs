//! Deep Zoom pyramids: the DZI geometry and the tiles, level by level from full resolution down.
//!
//! Geometry follows OpenSeadragon's `DziTileSource` and `vips dzsave`: level `L` of `max` is
//! `ceil(w / 2^(max-L))` wide, tiles are `TILE_SIZE` apart with `OVERLAP` extra pixels on each
//! inner edge, and the last row and column are smaller.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::encode::Format;
use super::pixels::Raster;

/// Tile edge without overlap; 254 + 2 × 1 = 256-pixel inner tiles, the common DZI choice.
pub(crate) const TILE_SIZE: u32 = 254;

/// Pixels each tile shares with its neighbour on every inner edge.
pub(crate) const OVERLAP: u32 = 1;

/// The index of the full-resolution level: `ceil(log2(max(w, h)))`, 0 for a 1×1 image.
pub(crate) fn max_level(width: u32, height: u32) -> u32 {
    let side = width.max(height).max(1);
    u32::BITS - (side - 1).leading_zeros()
}

/// Size of level `level` of an image whose full resolution is at `max_level(width, height)`.
pub(crate) fn level_size(width: u32, height: u32, level: u32) -> (u32, u32) {
    let shift = max_level(width, height) - level;
    let down = |v: u32| ((u64::from(v) + (1u64 << shift) - 1) >> shift) as u32;
    (down(width), down(height))
}

/// Columns and rows of tiles in a level of the given size.
pub(crate) fn tile_grid(level_width: u32, level_height: u32) -> (u32, u32) {
    (
        level_width.div_ceil(TILE_SIZE),
        level_height.div_ceil(TILE_SIZE),
    )
}

/// Pixel rectangle `(x, y, w, h)` of tile `(col, row)` in a level, overlap included.
pub(crate) fn tile_rect(
    level_width: u32,
    level_height: u32,
    col: u32,
    row: u32,
) -> (u32, u32, u32, u32) {
    let span = |i: u32, extent: u32| {
        let start = (i * TILE_SIZE).saturating_sub(if i > 0 { OVERLAP } else { 0 });
        let end = ((i + 1) * TILE_SIZE + OVERLAP).min(extent);
        (start, end - start)
    };
    let (x, w) = span(col, level_width);
    let (y, h) = span(row, level_height);
    (x, y, w, h)
}

/// The XML descriptor OpenSeadragon and other DZI readers load first.
pub(crate) fn descriptor(width: u32, height: u32, format: Format) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Image TileSize=\"{TILE_SIZE}\" Overlap=\"{OVERLAP}\" \
         Format=\"{}\" xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"><Size Width=\"{width}\" \
         Height=\"{height}\"/></Image>\n",
        format.extension()
    )
}

/// Writes `dir/tiles.dzi` and `dir/tiles_files/<level>/<col>_<row>.<ext>` for `top`.
///
/// Each level is tiled in parallel while the next smaller level is computed by halving it, so
/// besides `top` at most two levels are in memory. Returns the number of levels.
pub(crate) fn write(dir: &Path, top: &Raster, format: Format) -> Result<u32, (PathBuf, io::Error)> {
    let (width, height) = (top.width, top.height);
    let max = max_level(width, height);
    let files = dir.join("tiles_files");
    let mut smaller: Option<Raster> = None;
    for l in (0..=max).rev() {
        let level = smaller.as_ref().unwrap_or(top);
        debug_assert_eq!((level.width, level.height), level_size(width, height, l));
        let level_dir = files.join(l.to_string());
        fs::create_dir_all(&level_dir).map_err(|e| (level_dir.clone(), e))?;
        let (tiles, next) = rayon::join(
            || write_level(&level_dir, level, format),
            || (l > 0).then(|| halve(level)),
        );
        tiles?;
        smaller = next;
    }
    let dzi = dir.join("tiles.dzi");
    fs::write(&dzi, descriptor(width, height, format)).map_err(|e| (dzi, e))?;
    Ok(max + 1)
}

/// Encodes and writes every tile of one level in parallel.
fn write_level(
    level_dir: &Path,
    level: &Raster,
    format: Format,
) -> Result<(), (PathBuf, io::Error)> {
    let (cols, rows) = tile_grid(level.width, level.height);
    (0..cols * rows).into_par_iter().try_for_each(|i| {
        let (col, row) = (i % cols, i / cols);
        let (x, y, w, h) = tile_rect(level.width, level.height, col, row);
        let data = crop(level, x, y, w, h);
        let path = level_dir.join(format!("{col}_{row}.{}", format.extension()));
        let bytes = format
            .encode(w, h, level.channels, &data)
            .map_err(|e| (path.clone(), io::Error::other(e)))?;
        fs::write(&path, bytes).map_err(|e| (path, e))
    })
}

/// Copies a rectangle out of a raster into a tightly packed buffer.
fn crop(src: &Raster, x: u32, y: u32, w: u32, h: u32) -> Vec<u8> {
    let ch = usize::from(src.channels);
    let stride = src.stride();
    let row_bytes = w as usize * ch;
    let mut out = Vec::with_capacity(row_bytes * h as usize);
    for r in y..y + h {
        let start = r as usize * stride + x as usize * ch;
        out.extend_from_slice(&src.data[start..start + row_bytes]);
    }
    out
}

/// Halves a raster with a 2×2 box filter (rounding sizes up, as DZI levels do).
///
/// A box average is what `vips dzsave` uses between levels too: exact, alias-free at 2:1, and
/// cheap enough that tiling, not shrinking, dominates.
fn halve(src: &Raster) -> Raster {
    match src.channels {
        1 => halve_with::<1>(src),
        2 => halve_with::<2>(src),
        3 => halve_with::<3>(src),
        _ => halve_with::<4>(src),
    }
}

/// [`halve`] for a fixed channel count, so the inner loop is unrolled per pixel layout.
fn halve_with<const CH: usize>(src: &Raster) -> Raster {
    let (w, h) = (src.width.div_ceil(2), src.height.div_ceil(2));
    let stride = src.stride();
    let out_stride = w as usize * CH;
    let last_x = src.width as usize - 1;
    let mut data = vec![0u8; out_stride * h as usize];
    data.par_chunks_mut(out_stride)
        .enumerate()
        .for_each(|(y, out)| {
            let y0 = 2 * y;
            let y1 = (y0 + 1).min(src.height as usize - 1);
            let (r0, r1) = (
                &src.data[y0 * stride..][..stride],
                &src.data[y1 * stride..][..stride],
            );
            for (x, px) in out.chunks_exact_mut(CH).enumerate() {
                let (x0, x1) = (2 * x * CH, (2 * x + 1).min(last_x) * CH);
                for c in 0..CH {
                    let sum = u16::from(r0[x0 + c])
                        + u16::from(r0[x1 + c])
                        + u16::from(r1[x0 + c])
                        + u16::from(r1[x1 + c]);
                    px[c] = ((sum + 2) / 4) as u8;
                }
            }
        });
    Raster {
        width: w,
        height: h,
        channels: src.channels,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_dzi_definition() {
        assert_eq!(max_level(1, 1), 0);
        assert_eq!(max_level(2, 1), 1);
        assert_eq!(max_level(1000, 600), 10);
        assert_eq!(max_level(1024, 1024), 10);
        assert_eq!(max_level(1025, 3), 11);
        assert_eq!(level_size(1000, 601, 10), (1000, 601));
        assert_eq!(level_size(1000, 601, 9), (500, 301));
        assert_eq!(level_size(1000, 601, 8), (250, 151));
        assert_eq!(level_size(1000, 601, 0), (1, 1));
    }

    #[test]
    fn tiles_overlap_on_inner_edges_only() {
        // 600 wide: tiles at 0..255, 253..509, 507..600.
        assert_eq!(tile_grid(600, 254), (3, 1));
        assert_eq!(tile_rect(600, 254, 0, 0), (0, 0, 255, 254));
        assert_eq!(tile_rect(600, 254, 1, 0), (253, 0, 256, 254));
        assert_eq!(tile_rect(600, 254, 2, 0), (507, 0, 93, 254));
        assert_eq!(tile_rect(255, 255, 1, 1), (253, 253, 2, 2));
    }

    #[test]
    fn halving_rounds_up_and_averages() {
        let src = Raster {
            width: 3,
            height: 1,
            channels: 1,
            data: vec![0, 100, 51],
        };
        let half = halve(&src);
        assert_eq!((half.width, half.height), (2, 1));
        assert_eq!(half.data, vec![50, 51]);
    }

    #[test]
    fn halving_keeps_colour_channels_apart() {
        let src = Raster {
            width: 2,
            height: 2,
            channels: 3,
            data: vec![255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255],
        };
        assert_eq!(halve(&src).data, vec![128, 0, 128]);
    }
}
