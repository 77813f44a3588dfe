//! Header reading: format, size after EXIF orientation, sample layout, and the pixel limit.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
use std::path::Path;

use image::metadata::Orientation;
use image::{ExtendedColorType, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{tiff, ImageInfo, MediaError};

/// Reads an image's header without decoding its pixels, refusing it when it is over `max_pixels`.
///
/// `vitrine check` relies on this: it reads only what the header needs and never writes.
pub fn probe(path: &Path, max_pixels: u64) -> Result<ImageInfo, MediaError> {
    let file = File::open(path).map_err(|source| MediaError::Read {
        path: path.to_owned(),
        source,
    })?;
    info(path, BufReader::new(file), max_pixels)
}

/// Header facts of the image in `reader`: a TIFF's from [`tiff::open`] (every page is looked
/// at), any other's from [`open`].
pub(crate) fn info<R: BufRead + Seek>(
    path: &Path,
    mut reader: R,
    max_pixels: u64,
) -> Result<ImageInfo, MediaError> {
    let read_err = |source| MediaError::Read {
        path: path.to_owned(),
        source,
    };
    if tiff::is_tiff(reader.fill_buf().map_err(read_err)?) {
        if let Some((page, _)) = tiff::open(path, &mut reader, max_pixels, 0)? {
            return Ok(page.info);
        }
        reader.rewind().map_err(read_err)?;
    }
    let (_, _, info) = open(path, reader, max_pixels)?;
    Ok(info)
}

/// Opens a decoder on `reader` with memory limits set, checks the pixel limit against the
/// header, and returns the decoder with its orientation and header facts.
///
/// Decoding only ever starts after this check, so a forged header cannot make us allocate.
pub(crate) fn open<'a, R: BufRead + Seek + 'a>(
    path: &Path,
    reader: R,
    max_pixels: u64,
) -> Result<(impl ImageDecoder + 'a, Orientation, ImageInfo), MediaError> {
    let undecodable = |reason: String| MediaError::Undecodable {
        path: path.to_owned(),
        reason,
    };
    let mut reader = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|source| MediaError::Read {
            path: path.to_owned(),
            source,
        })?;
    let format = match reader.format() {
        Some(ImageFormat::Png) => "png",
        Some(ImageFormat::Jpeg) => "jpeg",
        Some(ImageFormat::Tiff) => "tiff",
        Some(ImageFormat::WebP) => "webp",
        Some(other) => {
            return Err(undecodable(format!(
                "{other:?} is not supported, only PNG, JPEG, TIFF and WebP"
            )))
        }
        None => {
            return Err(undecodable(
                "its first bytes are not those of a PNG, JPEG, TIFF or WebP file".into(),
            ))
        }
    };
    reader.limits(decoder_limits(max_pixels));
    let mut decoder = reader.into_decoder().map_err(|err| match err {
        image::ImageError::Limits(_) => match png_ihdr_size(path) {
            Some((width, height)) => MediaError::TooLarge {
                path: path.to_owned(),
                width,
                height,
                limit: max_pixels,
            },
            None => undecodable(err.to_string()),
        },
        _ => undecodable(err.to_string()),
    })?;
    let (raw_width, raw_height) = decoder.dimensions();
    MediaError::check_pixels(path, raw_width, raw_height, max_pixels)?;
    if raw_width == 0 || raw_height == 0 {
        return Err(undecodable(format!(
            "the header declares an empty {raw_width} × {raw_height} image"
        )));
    }
    // A damaged EXIF block should not make an otherwise fine image unusable: show it unrotated.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (width, height) = if swaps_axes(orientation) {
        (raw_height, raw_width)
    } else {
        (raw_width, raw_height)
    };
    let color = decoder.original_color_type();
    let (bits, channels) = layout(color);
    let info = ImageInfo {
        width,
        height,
        format,
        bits,
        channels,
    };
    Ok((decoder, orientation, info))
}

/// The image crate's own limits, a second line of defence behind the header check.
fn decoder_limits(max_pixels: u64) -> Limits {
    let side = u32::try_from(max_pixels).unwrap_or(u32::MAX);
    let mut limits = Limits::default();
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    // 16-bit RGBA is the widest layout we decode (8 bytes a pixel), plus room for decoder state.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    limits
}

/// Reads width and height from a PNG's IHDR so a refusal inside the decoder can still say how big.
fn png_ihdr_size(path: &Path) -> Option<(u32, u32)> {
    use std::io::Read;
    let mut head = [0u8; 24];
    File::open(path).ok()?.read_exact(&mut head).ok()?;
    if &head[..8] != b"\x89PNG\r\n\x1a\n" || &head[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(head[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(head[20..24].try_into().ok()?);
    Some((width, height))
}

/// Whether an orientation turns the image by a quarter, so width and height trade places.
pub(crate) fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Bits per sample and channel count of the file's own layout (before any expansion).
fn layout(color: ExtendedColorType) -> (u8, u8) {
    let channels = color.channel_count().max(1);
    let bits = color.bits_per_pixel() / u16::from(channels);
    (u8::try_from(bits).unwrap_or(u8::MAX), channels)
}
