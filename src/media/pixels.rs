//! Decoding to display-ready 8-bit pixels: orientation, percentile contrast stretch, alpha;
//! and what the viewer's display range needs besides (histogram, percentiles in the data's own
//! units, and a gray image's samples as they are when 8 bits cannot hold them).

use std::io::{BufRead, Cursor, Seek, SeekFrom};
use std::path::Path;

use image::DynamicImage;

use super::tiff::{self, to_u16, Stack};
use super::{probe, Display, ImageInfo, MediaError};

/// Bins of the histogram the viewer draws under its display range.
pub(crate) const HISTOGRAM_BINS: usize = 256;

/// Lower and upper percentile of the contrast stretch, in per mille of the samples.
const STRETCH_PERMILLE: (u64, u64) = (5, 995);

/// 8-bit data whose stretch range covers less than this many levels is stretched too.
const LOW_RANGE_LEVELS: u32 = 128;

/// Images with at most this many distinct values are label masks or line art.
///
/// They are stretched by min/max (a rare label must not be clipped) and saved as PNG.
pub(crate) const FEW_VALUES: usize = 16;

/// An 8-bit, row-major, interleaved raster: 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels.
#[derive(Debug, Clone)]
pub(crate) struct Raster {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

impl Raster {
    /// Bytes in one row.
    pub fn stride(&self) -> usize {
        self.width as usize * usize::from(self.channels)
    }

    /// Whether the last channel is alpha.
    pub fn has_alpha(&self) -> bool {
        self.channels == 2 || self.channels == 4
    }
}

/// A decoded image ready for resizing and encoding, with what decides its output format.
pub(crate) struct Decoded {
    pub info: ImageInfo,
    pub raster: Raster,
    /// At most [`FEW_VALUES`] distinct colours (a label mask or line art): PNG keeps it exact.
    pub few_values: bool,
    /// How many slices the file holds (1 unless a multi-page TIFF) and its stated voxel size.
    pub stack: Stack,
    /// The display range's facts; `None` for images with transparency.
    pub display: Option<Display>,
    /// A gray image's 16-bit samples as decoded, when 8 bits do not hold its values: what the
    /// lossless pyramid is made of (`raw.rs`).
    pub raw: Option<RawRaster>,
}

/// A gray raster of 16-bit samples, row-major.
pub(crate) struct RawRaster {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u16>,
}

/// Decodes one page (0 for all but multi-page TIFFs) of an image held in memory, applying
/// orientation and the contrast stretch.
///
/// The pixel limit is checked on the header first, so nothing over it is ever allocated.
pub(crate) fn decode(
    path: &Path,
    bytes: &[u8],
    max_pixels: u64,
    page: usize,
) -> Result<Decoded, MediaError> {
    let DecodedPage {
        image,
        info,
        stack,
        units,
    } = decode_samples(path, Cursor::new(bytes), max_pixels, page)?;
    let shown = to_display(image, units);
    Ok(Decoded {
        info,
        raster: shown.raster,
        few_values: shown.few_values,
        stack,
        display: shown.display,
        raw: shown.raw,
    })
}

/// One page of an image with its samples as the file has them, from [`decode_samples`].
pub(crate) struct DecodedPage {
    /// 8 or 16 bits a sample (float and other integer TIFF samples mapped onto 16), oriented,
    /// not yet stretched.
    pub image: DynamicImage,
    pub info: ImageInfo,
    pub stack: Stack,
    /// When the samples were mapped: what 0 and 65535 stand for in the file's units.
    pub units: Option<[f64; 2]>,
}

/// One page of the image `reader` holds with its samples as the file has them: what the
/// display rasters are made from, and what a volume keeps (`volume.rs`).
pub(crate) fn decode_samples<R: BufRead + Seek>(
    path: &Path,
    mut reader: R,
    max_pixels: u64,
    page: usize,
) -> Result<DecodedPage, MediaError> {
    let read_err = |source| MediaError::Read {
        path: path.to_owned(),
        source,
    };
    let head = reader.fill_buf().map_err(read_err)?;
    let opened = if tiff::is_tiff(head) {
        tiff::open(path, &mut reader, max_pixels, page)?
    } else {
        None
    };
    let (mut image, orientation, info, stack, units) = match opened {
        Some((page, stack)) => {
            let (info, orientation) = (page.info.clone(), page.orientation);
            let (image, units) = page.read(path)?;
            (image, orientation, info, stack, units)
        }
        None => {
            reader.seek(SeekFrom::Start(0)).map_err(read_err)?;
            let (decoder, orientation, info) = probe::open(path, reader, max_pixels)?;
            let image =
                DynamicImage::from_decoder(decoder).map_err(|err| MediaError::Undecodable {
                    path: path.to_owned(),
                    reason: err.to_string(),
                })?;
            let stack = Stack {
                pages: 1,
                voxel_size_nm: None,
            };
            (image, orientation, info, stack, None)
        }
    };
    image.apply_orientation(orientation);
    Ok(DecodedPage {
        image,
        info,
        stack,
        units,
    })
}

/// What [`to_display`] makes of a decoded image.
struct Shown {
    raster: Raster,
    few_values: bool,
    display: Option<Display>,
    raw: Option<RawRaster>,
}

/// Converts any decoded layout to 8 bits, stretching contrast where the data needs it, and
/// states the display range's facts in the data's units: `units` is what 0 and 65535 of mapped
/// samples stand for (`None`: the samples are the file's own values).
fn to_display(image: DynamicImage, units: Option<[f64; 2]>) -> Shown {
    let (width, height) = (image.width(), image.height());
    let (channels, samples, units): (u8, Samples, Option<[f64; 2]>) = match image {
        DynamicImage::ImageLuma8(b) => (1, Samples::U8(b.into_raw()), units),
        DynamicImage::ImageLumaA8(b) => (2, Samples::U8(b.into_raw()), units),
        DynamicImage::ImageRgb8(b) => (3, Samples::U8(b.into_raw()), units),
        DynamicImage::ImageRgba8(b) => (4, Samples::U8(b.into_raw()), units),
        DynamicImage::ImageLuma16(b) => (1, Samples::U16(b.into_raw()), units),
        DynamicImage::ImageLumaA16(b) => (2, Samples::U16(b.into_raw()), units),
        DynamicImage::ImageRgb16(b) => (3, Samples::U16(b.into_raw()), units),
        DynamicImage::ImageRgba16(b) => (4, Samples::U16(b.into_raw()), units),
        DynamicImage::ImageRgb32F(b) => {
            let (v, units) = to_u16(b.as_raw(), 3, false, 1.0);
            (3, Samples::U16(v), Some(units))
        }
        DynamicImage::ImageRgba32F(b) => {
            let (v, units) = to_u16(b.as_raw(), 4, true, 1.0);
            (4, Samples::U16(v), Some(units))
        }
        other => (4, Samples::U8(other.into_rgba8().into_raw()), None),
    };
    let alpha = channels == 2 || channels == 4;
    let wide = matches!(samples, Samples::U16(_));
    let (mut data, few_values, facts, gray16) = match samples {
        Samples::U8(data) => {
            let (data, few, facts) = stretch_u8(data, channels, alpha);
            (data, few, facts, None)
        }
        Samples::U16(data) => {
            let (out, few, facts) = stretch_u16(&data, channels, alpha);
            (out, few, facts, (channels == 1).then_some(data))
        }
    };
    let mut channels = channels;
    let mut opaque = !alpha;
    if alpha
        && data
            .chunks_exact(usize::from(channels))
            .all(|p| p[p.len() - 1] == 255)
    {
        data = drop_alpha(&data, channels);
        channels -= 1;
        opaque = true;
    }
    // Only opaque images get a display range: windowing colour under transparency would also
    // have to decide what the transparent parts show, and no dataset has needed it.
    let display = opaque.then(|| facts.display(wide, units));
    let raw = gray16.map(|data| RawRaster {
        width,
        height,
        data,
    });
    let raster = Raster {
        width,
        height,
        channels,
        data,
    };
    Shown {
        raster,
        few_values,
        display,
        raw,
    }
}

/// Samples as decoded, before the stretch.
enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// What a stretch saw and did, in sample values (8 or 16 bits).
struct Facts {
    /// Count of each sample value.
    hist: Vec<u64>,
    /// The 0.5 and 99.5 % percentiles.
    window: (u32, u32),
    /// The sample values that became 0 and 255 (`None`: 8-bit samples kept as they are).
    stretched: Option<(u32, u32)>,
}

impl Facts {
    /// The display range's facts in the data's units: sample `v` stands for
    /// `units[0] + v × (units[1] − units[0]) / 65535` when the samples were mapped, else `v`.
    fn display(&self, wide: bool, units: Option<[f64; 2]>) -> Display {
        let full = if wide { 65535.0 } else { 255.0 };
        let value = |v: f64| match units {
            Some([lo, hi]) => lo + v * (hi - lo) / 65535.0,
            None => v,
        };
        let (min, max) = min_max(&self.hist);
        let span = u64::from(max - min) + 1;
        let mut histogram = vec![0u64; HISTOGRAM_BINS];
        for (v, &n) in self.hist.iter().enumerate().skip(min as usize) {
            if n > 0 {
                let bin = (v as u64 - u64::from(min)) * HISTOGRAM_BINS as u64 / span;
                histogram[bin as usize] += n;
            }
        }
        let (lo, hi) = self.stretched.unwrap_or((0, 255));
        Display {
            range: [value(f64::from(min)), value(f64::from(max))],
            window: [
                value(f64::from(self.window.0)),
                value(f64::from(self.window.1)),
            ],
            display_map: [value(f64::from(lo)), value(f64::from(hi))],
            histogram,
            raw_map: wide.then(|| [value(0.0), value(full)]),
            integer: units.is_none(),
        }
    }
}

/// Stretches 8-bit data in place when its range is narrow; leaves full-range data alone.
fn stretch_u8(mut data: Vec<u8>, channels: u8, alpha: bool) -> (Vec<u8>, bool, Facts) {
    let mut hist = vec![0u64; 256];
    for_colour_samples(&data, channels, alpha, |v| hist[usize::from(v)] += 1);
    let few_values = distinct_colours_at_most(&data, channels, FEW_VALUES, &hist);
    let window = percentiles(&hist);
    let (lo, hi) = if few_values { min_max(&hist) } else { window };
    let mut stretched = None;
    if hi > lo && (hi - lo) < LOW_RANGE_LEVELS {
        let lut: Vec<u8> = (0..256).map(|v| map(v, lo, hi)).collect();
        apply(&mut data, channels, alpha, |v| lut[usize::from(v)]);
        stretched = Some((lo, hi));
    }
    let facts = Facts {
        hist,
        window,
        stretched,
    };
    (data, few_values, facts)
}

/// Stretches 16-bit data to 8 bits by percentiles with one lookup table.
fn stretch_u16(data: &[u16], channels: u8, alpha: bool) -> (Vec<u8>, bool, Facts) {
    let mut hist = vec![0u64; 65536];
    for_colour_samples(data, channels, alpha, |v| hist[usize::from(v)] += 1);
    let few_values = channels <= 2 && hist.iter().filter(|&&n| n > 0).count() <= FEW_VALUES;
    let window = percentiles(&hist);
    let (mut lo, mut hi) = if few_values { min_max(&hist) } else { window };
    if hi <= lo {
        (lo, hi) = min_max(&hist);
    }
    let (lut, stretched): (Vec<u8>, _) = if hi > lo {
        ((0..65536).map(|v| map(v, lo, hi)).collect(), (lo, hi))
    } else {
        // A constant image keeps its brightness rather than turning black or white.
        ((0..65536u32).map(|v| (v >> 8) as u8).collect(), (0, 65280))
    };
    let step = usize::from(channels);
    let out = data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if alpha && i % step == step - 1 {
                (v >> 8) as u8
            } else {
                lut[usize::from(v)]
            }
        })
        .collect();
    let facts = Facts {
        hist,
        window,
        stretched: Some(stretched),
    };
    (out, few_values, facts)
}

/// Calls `f` on every colour sample (alpha skipped).
fn for_colour_samples<T: Copy>(data: &[T], channels: u8, alpha: bool, mut f: impl FnMut(T)) {
    if alpha {
        let step = usize::from(channels);
        for px in data.chunks_exact(step) {
            px[..step - 1].iter().for_each(|&v| f(v));
        }
    } else {
        data.iter().for_each(|&v| f(v));
    }
}

/// Rewrites every colour sample (alpha kept).
fn apply(data: &mut [u8], channels: u8, alpha: bool, f: impl Fn(u8) -> u8) {
    if alpha {
        let step = usize::from(channels);
        for px in data.chunks_exact_mut(step) {
            px[..step - 1].iter_mut().for_each(|v| *v = f(*v));
        }
    } else {
        data.iter_mut().for_each(|v| *v = f(*v));
    }
}

/// Linear map of `lo..=hi` onto `0..=255`, clamped outside.
fn map(v: u32, lo: u32, hi: u32) -> u8 {
    let v = v.clamp(lo, hi);
    (((v - lo) * 255 + (hi - lo) / 2) / (hi - lo)) as u8
}

/// The 0.5 % and 99.5 % sample values of a histogram.
fn percentiles(hist: &[u64]) -> (u32, u32) {
    let total: u64 = hist.iter().sum();
    let lo_rank = total * STRETCH_PERMILLE.0 / 1000;
    let hi_rank = (total * STRETCH_PERMILLE.1 / 1000).min(total.saturating_sub(1));
    let (mut lo, mut hi, mut seen) = (None, 0, 0u64);
    for (value, &count) in hist.iter().enumerate() {
        if count == 0 {
            continue;
        }
        seen += count;
        if lo.is_none() && seen > lo_rank {
            lo = Some(value as u32);
        }
        if seen > hi_rank {
            hi = value as u32;
            break;
        }
    }
    (lo.unwrap_or(0), hi)
}

/// The smallest and largest value present in a histogram.
fn min_max(hist: &[u64]) -> (u32, u32) {
    let lo = hist.iter().position(|&n| n > 0).unwrap_or(0);
    let hi = hist.iter().rposition(|&n| n > 0).unwrap_or(0);
    (lo as u32, hi as u32)
}

/// Whether the image has at most `limit` distinct colours (alpha included).
///
/// Gray images answer from the histogram; colour images stop at the first colour over the limit,
/// which for photographs is within the first few pixels.
fn distinct_colours_at_most(data: &[u8], channels: u8, limit: usize, hist: &[u64]) -> bool {
    if channels == 1 {
        return hist.iter().filter(|&&n| n > 0).count() <= limit;
    }
    let mut seen: Vec<[u8; 4]> = Vec::with_capacity(limit + 1);
    for px in data.chunks_exact(usize::from(channels)) {
        let mut key = [0u8; 4];
        key[..px.len()].copy_from_slice(px);
        if !seen.contains(&key) {
            if seen.len() == limit {
                return false;
            }
            seen.push(key);
        }
    }
    true
}

/// Removes the alpha channel of an opaque image, so it can be a JPEG.
fn drop_alpha(data: &[u8], channels: u8) -> Vec<u8> {
    let step = usize::from(channels);
    let mut out = Vec::with_capacity(data.len() / step * (step - 1));
    for px in data.chunks_exact(step) {
        out.extend_from_slice(&px[..step - 1]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_16_bit_range_spans_the_output() {
        let data: Vec<u16> = (0..10_000).map(|i| 1000 + (i % 200) as u16).collect();
        let (out, few, _) = stretch_u16(&data, 1, false);
        assert!(!few);
        assert_eq!(*out.iter().min().unwrap(), 0);
        assert_eq!(*out.iter().max().unwrap(), 255);
        let mid = out.iter().filter(|&&v| v > 20 && v < 235).count();
        assert!(mid > out.len() / 2, "most pixels are mid-gray, not clipped");
    }

    #[test]
    fn full_range_8_bit_is_left_alone() {
        let data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let (out, ..) = stretch_u8(data.clone(), 1, false);
        assert_eq!(out, data);
    }

    #[test]
    fn low_range_8_bit_is_stretched() {
        let data: Vec<u8> = (0..4096).map(|i| 100 + (i % 40) as u8).collect();
        let (out, ..) = stretch_u8(data, 1, false);
        assert_eq!((out.iter().min(), out.iter().max()), (Some(&0), Some(&255)));
    }

    #[test]
    fn rare_label_survives_min_max_stretch() {
        let mut data = vec![0u8; 10_000];
        data[0] = 3;
        data[1..5000].fill(1);
        let (out, few, _) = stretch_u8(data, 1, false);
        assert!(few);
        assert_eq!(
            out[0], 255,
            "a label under 0.5 % of pixels keeps its own value"
        );
        assert_eq!(out[1], 85);
    }

    #[test]
    fn opaque_alpha_is_dropped_and_real_alpha_kept() {
        let opaque = DynamicImage::ImageLumaA8(
            image::ImageBuffer::from_raw(2, 1, vec![10, 255, 200, 255]).unwrap(),
        );
        assert_eq!(to_display(opaque, None).raster.channels, 1);
        let clear = DynamicImage::ImageLumaA8(
            image::ImageBuffer::from_raw(2, 1, vec![10, 0, 200, 255]).unwrap(),
        );
        assert_eq!(to_display(clear, None).raster.channels, 2);
    }
}
