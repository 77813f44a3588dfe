//! TIFF read with the `tiff` crate itself rather than through `image`, which refuses BigTIFF
//! ("not a TIFF"), ZSTD, float64, signed and 32-bit integer samples, and planar RGB.
//!
//! Gray, gray+alpha, RGB and RGBA pages of 8 bits a sample or more go this way; other layouts
//! (1-bit masks, palettes, CMYK, YCbCr) are left to `image`, which reads them. Samples that are
//! neither 8- nor 16-bit unsigned are mapped linearly from their own range onto 16 bits, so the
//! percentile stretch of 16-bit images applies to them unchanged.

use std::io::{Read, Seek};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::{PhotometricInterpretation, Tag};
use tiff::ColorType;

use super::{ImageInfo, MediaError};

/// Whether `head` starts like a TIFF: classic or BigTIFF, either byte order.
pub(crate) fn is_tiff(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some(b"II*\0" | b"MM\0*" | b"II+\0" | b"MM\0+")
    )
}

/// The first page of a TIFF, opened and checked against the pixel limit, not yet decoded.
pub(crate) struct Page<R: Read + Seek> {
    decoder: Decoder<R>,
    color: ColorType,
    /// Photometric interpretation 0: 0 is white, so samples are inverted for display.
    white_is_zero: bool,
    /// Header facts, width and height after orientation.
    pub info: ImageInfo,
    /// The TIFF `Orientation` tag, as EXIF numbers it.
    pub orientation: Orientation,
}

/// What a TIFF's metadata says about it as a stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stack {
    /// Full-resolution pages: the slices of a z-stack (1 for a plain image).
    pub pages: usize,
    /// Voxel size in nm from ImageJ (`spacing`, `unit` and the resolution tags) or OME-XML
    /// (`PhysicalSizeX/Y/Z`), when the file states all three.
    pub voxel_size_nm: Option<[f64; 3]>,
}

/// Opens the `page`-th full-resolution page of a TIFF when this module reads its layout
/// (`None`: leave it to `image`, which reads the first page of the other layouts).
///
/// Refuses stacks whose pages interleave channels (ImageJ `channels=`, OME `SizeC`), which
/// would otherwise show as a flickering z-stack, and anything over `max_pixels`, before any
/// pixel is decoded.
pub(crate) fn open<R: Read + Seek>(
    path: &Path,
    reader: R,
    max_pixels: u64,
    page: usize,
) -> Result<Option<(Page<R>, Stack)>, MediaError> {
    let undecodable = |reason: String| MediaError::Undecodable {
        path: path.to_owned(),
        reason,
    };
    let tiff_error = |e: tiff::TiffError| undecodable(e.to_string());
    let unsupported = |reason: String| MediaError::Unsupported {
        path: path.to_owned(),
        reason,
    };
    let mut limits = Limits::default();
    // Widest layout: four 64-bit samples a pixel; the header check below comes first anyway.
    limits.decoding_buffer_size = usize::try_from(max_pixels.saturating_mul(32))
        .unwrap_or(usize::MAX)
        .max(limits.decoding_buffer_size);
    let mut decoder = Decoder::new(reader)
        .map_err(tiff_error)?
        .with_limits(limits);
    let description = decoder
        .get_tag_ascii_string(Tag::ImageDescription)
        .unwrap_or_default();
    let resolution = [Tag::XResolution, Tag::YResolution].map(|tag| {
        match decoder.find_tag(tag).ok().flatten()? {
            tiff::decoder::ifd::Value::Rational(n, d) if d > 0 => Some(f64::from(n) / f64::from(d)),
            tiff::decoder::ifd::Value::Double(v) => Some(v),
            tiff::decoder::ifd::Value::Float(v) => Some(f64::from(v)),
            _ => None,
        }
        .filter(|r| *r > 0.0)
    });
    let offsets = full_pages(&mut decoder).map_err(tiff_error)?;
    let pages = offsets.len();
    let meta = Metadata::parse(&description, resolution);
    if meta.channels > 1 {
        return Err(unsupported(format!(
            "its {pages} pages hold {} channels, and vitrine shows one channel or an RGB image a \
             slice; make a composite (Fiji: Image › Color › Stack to RGB) or keep one channel \
             (Image › Color › Split Channels) and save that",
            meta.channels
        )));
    }
    let Some(&index) = offsets.get(page) else {
        return Err(undecodable(format!("it has no page {}", page + 1)));
    };
    decoder.seek_to_image(index).map_err(tiff_error)?;
    let (width, height) = decoder.dimensions().map_err(tiff_error)?;
    MediaError::check_pixels(path, width, height, max_pixels)?;
    if width == 0 || height == 0 {
        return Err(undecodable(format!(
            "the header declares an empty {width} × {height} image"
        )));
    }
    let color = decoder.colortype().map_err(tiff_error)?;
    let photometric = decoder
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .map_err(tiff_error)?;
    let orientation = decoder
        .find_tag_unsigned::<u8>(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let channels = match color {
        ColorType::Gray(b) | ColorType::GrayA(b) | ColorType::RGB(b) | ColorType::RGBA(b)
            if b >= 8 =>
        {
            color.num_samples() as u8
        }
        ColorType::Multiband { num_samples, .. } => {
            return Err(unsupported(format!(
                "it has {num_samples} samples a pixel (channels stored together), and vitrine \
                 shows gray, RGB or RGBA images; export a composite (Fiji: Image › Color › Stack to RGB) \
                 or one channel"
            )))
        }
        _ if pages > 1 => {
            return Err(unsupported(format!(
                "it is a stack of {pages} {color:?} pages; vitrine reads stacks of gray or RGB pages \
                 of 8 bits or more: convert it (Fiji: Image › Type › 8-bit) and save it again"
            )))
        }
        _ => return Ok(None),
    };
    let (width, height) = if super::probe::swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    let stack = Stack {
        pages,
        voxel_size_nm: meta.voxel_size_nm,
    };
    Ok(Some((
        Page {
            white_is_zero: photometric == Some(PhotometricInterpretation::WhiteIsZero.to_u16())
                && channels <= 2,
            info: ImageInfo {
                width,
                height,
                format: "tiff",
                bits: color.bit_depth(),
                channels,
            },
            decoder,
            color,
            orientation,
        },
        stack,
    )))
}

/// The stack facts of ImageJ's and OME's image descriptions.
struct Metadata {
    channels: usize,
    voxel_size_nm: Option<[f64; 3]>,
}

impl Metadata {
    /// Reads `description` (ImageJ `key=value` lines, or OME-XML); `resolution` is the first
    /// page's X/YResolution (pixels per ImageJ `unit`).
    fn parse(description: &str, resolution: [Option<f64>; 2]) -> Metadata {
        if description.starts_with("ImageJ=") {
            let value = |key: &str| {
                description.lines().find_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    (k.trim() == key).then(|| v.trim().to_string())
                })
            };
            let channels = value("channels").and_then(|v| v.parse().ok()).unwrap_or(1);
            let nm_per_unit = value("unit").and_then(|u| unit_nm(&u));
            let voxel_size_nm = match (nm_per_unit, resolution, value("spacing")) {
                (Some(nm), [Some(rx), Some(ry)], Some(z)) => z
                    .parse::<f64>()
                    .ok()
                    .filter(|z| *z > 0.0)
                    .map(|z| [nm / rx, nm / ry, nm * z]),
                _ => None,
            };
            return Metadata {
                channels,
                voxel_size_nm,
            };
        }
        if description.contains("<OME") {
            let attr = |name: &str| {
                let at = description.find(&format!(" {name}=\""))? + name.len() + 3;
                let end = description[at..].find('"')?;
                Some(description[at..at + end].to_string())
            };
            let channels = attr("SizeC").and_then(|v| v.parse().ok()).unwrap_or(1);
            let size = |axis: &str| -> Option<f64> {
                let value: f64 = attr(&format!("PhysicalSize{axis}"))?.parse().ok()?;
                let unit = attr(&format!("PhysicalSize{axis}Unit")).unwrap_or("µm".into());
                Some(value * unit_nm(&unit)?)
            };
            let voxel_size_nm = match (size("X"), size("Y"), size("Z")) {
                (Some(x), Some(y), Some(z)) if x > 0.0 && y > 0.0 && z > 0.0 => Some([x, y, z]),
                _ => None,
            };
            return Metadata {
                channels,
                voxel_size_nm,
            };
        }
        Metadata {
            channels: 1,
            voxel_size_nm: None,
        }
    }
}

/// Nanometres per length unit as ImageJ (`micron`, `\u00B5m`) and OME (`µm`, `nm`, …) write
/// them; media imports nothing from the other stages, so this small table is its own.
fn unit_nm(unit: &str) -> Option<f64> {
    Some(match unit {
        "pm" => 1e-3,
        "Å" | "angstrom" => 0.1,
        "nm" | "nanometer" => 1.0,
        "µm" | "μm" | "um" | "micron" | "microns" | "micrometer" | "\\u00B5m" => 1e3,
        "mm" | "millimeter" => 1e6,
        "cm" | "centimeter" => 1e7,
        "m" | "meter" => 1e9,
        _ => return None,
    })
}

/// The IFD indices of the pages that are images in their own right: reduced-resolution
/// copies (subfile type bit 0, e.g. a preview) and masks (bit 2) are not slices.
pub(super) fn full_pages<R: Read + Seek>(decoder: &mut Decoder<R>) -> tiff::TiffResult<Vec<usize>> {
    let mut pages = Vec::new();
    let mut index = 0;
    loop {
        let subfile = decoder
            .find_tag_unsigned::<u32>(Tag::NewSubfileType)?
            .unwrap_or(0);
        if subfile & 0b101 == 0 {
            pages.push(index);
        }
        if !decoder.more_images() {
            return Ok(pages);
        }
        decoder.next_image()?;
        index += 1;
    }
}

impl<R: Read + Seek> Page<R> {
    /// Decodes the page into an image `pixels` can stretch: 8- and 16-bit samples as they are,
    /// every other sample type mapped from its own range onto 16 bits.
    ///
    /// With the image comes what 0 and 65535 stand for when the samples were mapped (the
    /// page's own min and max, in the file's units), so the viewer can show them in those units.
    pub(crate) fn read(
        mut self,
        path: &Path,
    ) -> Result<(DynamicImage, Option<[f64; 2]>), MediaError> {
        let undecodable = |reason: String| MediaError::Undecodable {
            path: path.to_owned(),
            reason,
        };
        let mut result = DecodingResult::U8(Vec::new());
        let layout = self
            .decoder
            .read_image_to_buffer(&mut result)
            .map_err(|e| undecodable(e.to_string()))?;
        let (width, height) = {
            let (w, h) = (self.info.width, self.info.height);
            if super::probe::swaps_axes(self.orientation) {
                (h, w)
            } else {
                (w, h)
            }
        };
        let channels = usize::from(self.info.channels);
        let alpha = channels == 2 || channels == 4;
        let wanted = width as usize * height as usize * channels;
        let samples: Samples = match result {
            DecodingResult::U8(v) => Samples::U8(v),
            DecodingResult::U16(v) => Samples::U16(v),
            DecodingResult::U32(v) => {
                Samples::Other(v.into_iter().map(f64::from).collect(), u32::MAX.into())
            }
            DecodingResult::U64(v) => {
                Samples::Other(v.into_iter().map(|s| s as f64).collect(), u64::MAX as f64)
            }
            DecodingResult::I8(v) => {
                Samples::Other(v.into_iter().map(f64::from).collect(), i8::MAX.into())
            }
            DecodingResult::I16(v) => {
                Samples::Other(v.into_iter().map(f64::from).collect(), i16::MAX.into())
            }
            DecodingResult::I32(v) => {
                Samples::Other(v.into_iter().map(f64::from).collect(), i32::MAX.into())
            }
            DecodingResult::I64(v) => {
                Samples::Other(v.into_iter().map(|s| s as f64).collect(), i64::MAX as f64)
            }
            DecodingResult::F16(v) => Samples::Other(v.into_iter().map(f64::from).collect(), 1.0),
            DecodingResult::F32(v) => Samples::Other(v.into_iter().map(f64::from).collect(), 1.0),
            DecodingResult::F64(v) => Samples::Other(v, 1.0),
        };
        if samples.len() < wanted {
            return Err(undecodable(format!(
                "{} of its {} samples could be read ({} planes of {:?} data); re-export it",
                samples.len(),
                wanted,
                layout.planes,
                self.color
            )));
        }
        let planar = layout.planes > 1;
        let mut samples = samples;
        if planar {
            samples.interleave(channels, width as usize * height as usize);
        }
        samples.truncate(wanted);
        if self.white_is_zero {
            samples.invert(channels, alpha);
        }
        let (image, units) = match samples {
            Samples::U8(v) => (buffer8(width, height, channels, v), None),
            Samples::U16(v) => (buffer16(width, height, channels, v), None),
            Samples::Other(v, alpha_max) => {
                let (v, units) = to_u16(&v, channels, alpha, alpha_max);
                (buffer16(width, height, channels, v), Some(units))
            }
        };
        let image =
            image.ok_or_else(|| undecodable("its sample count does not match its size".into()))?;
        Ok((image, units))
    }
}

/// Decoded samples: 8 and 16 bits as they are; any other type as `f64`, with the value that
/// means "opaque" for its alpha channel.
enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    Other(Vec<f64>, f64),
}

impl Samples {
    fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::Other(v, _) => v.len(),
        }
    }

    fn truncate(&mut self, len: usize) {
        match self {
            Samples::U8(v) => v.truncate(len),
            Samples::U16(v) => v.truncate(len),
            Samples::Other(v, _) => v.truncate(len),
        }
    }

    /// Planes `RRR… GGG… BBB…` to pixels `RGB RGB …`.
    fn interleave(&mut self, channels: usize, plane: usize) {
        fn go<T: Copy>(v: &[T], channels: usize, plane: usize) -> Vec<T> {
            (0..plane)
                .flat_map(|i| (0..channels).map(move |c| v[c * plane + i]))
                .collect()
        }
        match self {
            Samples::U8(v) => *v = go(v, channels, plane),
            Samples::U16(v) => *v = go(v, channels, plane),
            Samples::Other(v, _) => *v = go(v, channels, plane),
        }
    }

    /// WhiteIsZero gray: flips the gray samples (alpha kept).
    fn invert(&mut self, channels: usize, alpha: bool) {
        let gray = |i: usize| !(alpha && i % channels == channels - 1);
        match self {
            Samples::U8(v) => v
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| gray(*i))
                .for_each(|(_, s)| *s = u8::MAX - *s),
            Samples::U16(v) => v
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| gray(*i))
                .for_each(|(_, s)| *s = u16::MAX - *s),
            Samples::Other(v, _) => v
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| gray(*i))
                .for_each(|(_, s)| *s = -*s),
        }
    }
}

/// Maps colour samples linearly from their own finite min..max onto 0..65535 (alpha from
/// 0..`alpha_max`); NaN and infinities become 0. Float and wide integer samples carry arbitrary
/// units (counts, densities), so no fixed range can be assumed; `pixels` uses it for the float
/// images the `image` crate decodes too. Returns the samples and the `[min, max]` that 0 and
/// 65535 stand for (`[0, 0]` when no sample is finite).
pub(super) fn to_u16<T: Copy + Into<f64>>(
    data: &[T],
    channels: usize,
    alpha: bool,
    alpha_max: f64,
) -> (Vec<u16>, [f64; 2]) {
    let colour = |i: usize| !(alpha && i % channels == channels - 1);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, v) in data.iter().enumerate() {
        let v: f64 = (*v).into();
        if colour(i) && v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        (lo, hi) = (0.0, 0.0);
    }
    let scale = if hi > lo { 65535.0 / (hi - lo) } else { 0.0 };
    let samples = data
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v: f64 = (*v).into();
            let v = if colour(i) {
                (v - lo) * scale
            } else {
                v / alpha_max * 65535.0
            };
            if v.is_finite() {
                v.clamp(0.0, 65535.0).round() as u16
            } else {
                0
            }
        })
        .collect();
    (samples, [lo, hi])
}

fn buffer8(width: u32, height: u32, channels: usize, v: Vec<u8>) -> Option<DynamicImage> {
    Some(match channels {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(width, height, v)?),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(width, height, v)?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(width, height, v)?),
        _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(width, height, v)?),
    })
}

fn buffer16(width: u32, height: u32, channels: usize, v: Vec<u16>) -> Option<DynamicImage> {
    Some(match channels {
        1 => DynamicImage::ImageLuma16(ImageBuffer::from_raw(width, height, v)?),
        2 => DynamicImage::ImageLumaA16(ImageBuffer::from_raw(width, height, v)?),
        3 => DynamicImage::ImageRgb16(ImageBuffer::from_raw(width, height, v)?),
        _ => DynamicImage::ImageRgba16(ImageBuffer::from_raw(width, height, v)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_interleave_into_pixels() {
        let mut s = Samples::U16(vec![1, 2, 10, 20, 100, 200]);
        s.interleave(3, 2);
        let Samples::U16(v) = s else { unreachable!() };
        assert_eq!(v, [1, 10, 100, 2, 20, 200]);
    }

    #[test]
    fn other_types_span_16_bits_and_alpha_keeps_its_meaning() {
        assert_eq!(
            to_u16(&[-3.0, -1.0, 1.0], 1, false, 1.0),
            (vec![0, 32768, 65535], [-3.0, 1.0])
        );
        assert_eq!(
            to_u16(&[0.5, 1.0, 0.7, 0.0], 2, true, 1.0).0,
            [0, 65535, 65535, 0]
        );
        assert_eq!(
            to_u16(&[f64::NAN, 2.0, 4.0], 1, false, 1.0),
            (vec![0, 0, 65535], [2.0, 4.0])
        );
    }
}
