//! The lossless pyramid of a gray image wider than 8 bits: the same Deep Zoom geometry as the
//! 8-bit one (`dzi.rs`), each tile an RGB PNG holding the 16-bit value `v` as red `v >> 8` and
//! green `v & 255` (blue 0), which every browser decodes exactly and WebGL2 reads back as two
//! bytes. Browsers decode 16-bit PNGs to 8 bits, so a plain `L16` PNG would lose what this keeps.
//! Levels below full resolution are 2×2 box averages (rounded), as in the 8-bit pyramid: they
//! are for the overview, and only the full-resolution level is compared with the source.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use rayon::prelude::*;

use super::dzi::{self, level_size, max_level, tile_grid, tile_rect};
use super::encode::Format;
use super::pixels::RawRaster;

/// The descriptor's name in a cache entry (and in a media folder); its tiles are in `raw_files/`.
pub(crate) const DZI: &str = "raw.dzi";

/// The tile folder beside [`DZI`].
pub(crate) const FILES: &str = "raw_files";

/// Writes `dir/raw.dzi` and `dir/raw_files/<level>/<col>_<row>.png` for `top`; returns the
/// number of levels.
pub(crate) fn write(dir: &Path, top: &RawRaster) -> Result<u32, (PathBuf, io::Error)> {
    let (width, height) = (top.width, top.height);
    let max = max_level(width, height);
    let files = dir.join(FILES);
    let mut smaller: Option<RawRaster> = None;
    for l in (0..=max).rev() {
        let level = smaller.as_ref().unwrap_or(top);
        debug_assert_eq!((level.width, level.height), level_size(width, height, l));
        let level_dir = files.join(l.to_string());
        fs::create_dir_all(&level_dir).map_err(|e| (level_dir.clone(), e))?;
        let (tiles, next) = rayon::join(
            || write_level(&level_dir, level),
            || (l > 0).then(|| halve(level)),
        );
        tiles?;
        smaller = next;
    }
    let path = dir.join(DZI);
    fs::write(&path, dzi::descriptor(width, height, Format::Png)).map_err(|e| (path, e))?;
    Ok(max + 1)
}

/// Encodes and writes every tile of one level in parallel.
fn write_level(level_dir: &Path, level: &RawRaster) -> Result<(), (PathBuf, io::Error)> {
    let (cols, rows) = tile_grid(level.width, level.height);
    (0..cols * rows).into_par_iter().try_for_each(|i| {
        let (col, row) = (i % cols, i / cols);
        let (x, y, w, h) = tile_rect(level.width, level.height, col, row);
        let path = level_dir.join(format!("{col}_{row}.png"));
        let bytes = encode(level, x, y, w, h).map_err(|e| (path.clone(), io::Error::other(e)))?;
        fs::write(&path, bytes).map_err(|e| (path, e))
    })
}

/// One tile as a packed RGB PNG.
fn encode(src: &RawRaster, x: u32, y: u32, w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for r in y..y + h {
        let start = r as usize * src.width as usize + x as usize;
        for &v in &src.data[start..start + w as usize] {
            rgb.extend_from_slice(&[(v >> 8) as u8, v as u8, 0]);
        }
    }
    let mut out = Vec::new();
    // Fast deflate with adaptive filters: the low byte of real data is mostly noise, which no
    // compression level shrinks much, so the slower ones only cost build time.
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Halves a raster with a rounded 2×2 box average (sizes rounded up, as DZI levels are).
fn halve(src: &RawRaster) -> RawRaster {
    let (w, h) = (src.width.div_ceil(2), src.height.div_ceil(2));
    let stride = src.width as usize;
    let last_x = stride - 1;
    let mut data = vec![0u16; w as usize * h as usize];
    data.par_chunks_mut(w as usize)
        .enumerate()
        .for_each(|(y, out)| {
            let y0 = 2 * y;
            let y1 = (y0 + 1).min(src.height as usize - 1);
            let (r0, r1) = (
                &src.data[y0 * stride..][..stride],
                &src.data[y1 * stride..][..stride],
            );
            for (x, px) in out.iter_mut().enumerate() {
                let (x0, x1) = (2 * x, (2 * x + 1).min(last_x));
                let sum =
                    u32::from(r0[x0]) + u32::from(r0[x1]) + u32::from(r1[x0]) + u32::from(r1[x1]);
                *px = ((sum + 2) / 4) as u16;
            }
        });
    RawRaster {
        width: w,
        height: h,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_keep_every_16_bit_value() {
        let data: Vec<u16> = (0..300 * 7).map(|i| (i * 331 % 65536) as u16).collect();
        let src = RawRaster {
            width: 300,
            height: 7,
            data,
        };
        let png = encode(&src, 253, 0, 47, 7).unwrap();
        let tile = image::load_from_memory(&png).unwrap().into_rgb8();
        for (x, y, p) in tile.enumerate_pixels() {
            let v = u16::from(p[0]) << 8 | u16::from(p[1]);
            assert_eq!(v, src.data[(y * 300 + 253 + x) as usize]);
        }
    }

    #[test]
    fn halving_averages_without_overflow() {
        let src = RawRaster {
            width: 3,
            height: 1,
            data: vec![65535, 65535, 1000],
        };
        assert_eq!(halve(&src).data, vec![65535, 1000]);
    }
}
