//! Resizing (fast_image_resize) and encoding (libjpeg-turbo or jpeg-encoder, libwebp, png) of
//! display-ready rasters.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::pixels::Raster;

/// JPEG quality of thumbnails and tiles: q80 is visually clean on EM and light micrographs.
pub const JPEG_QUALITY: u8 = 80;

/// The JPEG encoder of this build, for the cache fingerprint: the two write different bytes.
///
/// libjpeg-turbo (mozjpeg built with its libjpeg-turbo-compatible "fastest" profile) when its
/// SIMD code was built (`nasm` present at build time, see `build.rs`): 3.4× jpeg-encoder's speed
/// on 256-px EM tiles, files 0.4 % smaller at the same PSNR. Without SIMD it is slower than
/// jpeg-encoder, which is then used instead; `None` keeps the fingerprint caches had before.
pub(crate) const JPEG_ENCODER: Option<&str> = if cfg!(jpeg_simd) {
    Some("libjpeg-turbo")
} else {
    None
};

/// libwebp's settings for lossy WebP. `WebpSettings::SITE` is what `images.format: webp`
/// writes; other values are for `bench/webp`'s sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebpSettings {
    /// 0–100. The site's is the lowest whose mean SSIM against the source is at least JPEG
    /// q80's on `bench/corpus` 256-px tiles (bench/README.md); q80 would be needlessly sharp
    /// (SSIM 0.96) and barely smaller than JPEG.
    pub quality: f32,
    /// Speed/size trade-off, 0 fastest … 6 smallest: encoding, not size, is what WebP costs
    /// here, so the site's is 0.
    pub method: i32,
    /// Segments (1–4), each with its own quantiser: the site keeps libwebp's 4, since one
    /// segment costs ~35 % more bytes for ~3 % more speed on the bench corpus.
    pub segments: i32,
}

impl WebpSettings {
    pub const SITE: WebpSettings = WebpSettings {
        quality: 50.0,
        method: 0,
        segments: 4,
    };

    /// For the cache fingerprint: other settings write other bytes.
    pub(crate) fn fingerprint(&self) -> String {
        format!("{}/{}/{}", self.quality, self.method, self.segments)
    }

    /// Lossy WebP through libwebp's own API. Written against `libwebp-sys` rather than the
    /// `webp` crate because that crate only imports RGB(A) into an ARGB picture, which libwebp
    /// converts to YUV 4:2:0 in a second pass: here a gray raster goes straight into the Y plane
    /// with neutral chroma (WebP has no gray mode; the bytes are its RGB copy's) and colour is
    /// converted to YUV once, on import.
    pub fn encode(
        &self,
        width: u32,
        height: u32,
        channels: u8,
        data: &[u8],
    ) -> Result<Vec<u8>, String> {
        use libwebp_sys as sys;
        if width > 16383 || height > 16383 {
            return Err(format!(
                "{width} × {height} is larger than WebP allows (16383)"
            ));
        }
        let (w, h) = (width as i32, height as i32);
        let mut config = sys::WebPConfig::new().map_err(|()| "libwebp version mismatch")?;
        config.quality = self.quality;
        config.method = self.method;
        config.segments = self.segments;
        let mut picture = sys::WebPPicture::new().map_err(|()| "libwebp version mismatch")?;
        picture.use_argb = 0;
        picture.width = w;
        picture.height = h;
        let mut writer = std::mem::MaybeUninit::<sys::WebPMemoryWriter>::uninit();
        // SAFETY: the picture is initialised by `WebPPicture::new`; the planes libwebp allocates
        // are written within their strides and heights; `data` holds `width × height × channels`
        // bytes (the `Raster` invariant, checked below); picture and writer are freed on every path.
        unsafe {
            sys::WebPMemoryWriterInit(writer.as_mut_ptr());
            let mut writer = writer.assume_init();
            let imported = match channels {
                1 if data.len() == width as usize * height as usize => {
                    let ok = sys::WebPPictureAlloc(&mut picture) != 0;
                    if ok {
                        let y_stride = picture.y_stride as usize;
                        for (row, line) in data.chunks_exact(width as usize).enumerate() {
                            let out = std::slice::from_raw_parts_mut(
                                picture.y.add(row * y_stride),
                                line.len(),
                            );
                            for (y, &v) in out.iter_mut().zip(line) {
                                *y = GRAY_TO_LUMA[usize::from(v)];
                            }
                        }
                        let uv_len = picture.uv_stride as usize * (height as usize).div_ceil(2);
                        std::ptr::write_bytes(picture.u, 128, uv_len);
                        std::ptr::write_bytes(picture.v, 128, uv_len);
                    }
                    ok
                }
                3 if data.len() == width as usize * height as usize * 3 => {
                    sys::WebPPictureImportRGB(&mut picture, data.as_ptr(), w * 3) != 0
                }
                n => {
                    // Nothing is allocated yet: neither the picture nor the writer holds memory.
                    return Err(format!(
                        "lossy WebP here takes a whole 1- or 3-channel raster, not {n} channels of {} bytes",
                        data.len()
                    ));
                }
            };
            picture.writer = Some(sys::WebPMemoryWrite);
            picture.custom_ptr = (&raw mut writer).cast();
            let encoded = imported && sys::WebPEncode(&config, &mut picture) != 0;
            let error = picture.error_code;
            sys::WebPPictureFree(&mut picture);
            let result = if encoded {
                Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
            } else {
                Err(format!("libwebp failed: {error:?}"))
            };
            sys::WebPMemoryWriterClear(&mut writer);
            result
        }
    }
}

/// The resampling filter of every downscale; see `bench/README.md` for the measurement.
const FILTER: FilterType = FilterType::Lanczos3;

/// An encoded output format (public for `bench/webp`, which measures the encoders themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Baseline JPEG, 1 channel for gray sources: photographic and EM content.
    Jpeg,
    /// PNG: anything with transparency, and label masks or line art (few distinct values).
    Png,
    /// Lossy WebP (`images.format: webp`): where JPEG would be, about 0.65× its bytes at the
    /// same SSIM.
    Webp,
}

impl Format {
    /// The smallest good format for a raster: PNG where a lossy `lossy` would smear or drop
    /// something.
    ///
    /// JPEG cannot store alpha, and its ringing around hard label edges both looks wrong and
    /// costs more bytes than PNG's run-length-friendly deflate on a few flat values; lossy WebP
    /// rings the same way, so it is kept to the same content.
    pub(crate) fn for_content(raster: &Raster, few_values: bool, lossy: Format) -> Format {
        if raster.has_alpha() || few_values {
            Format::Png
        } else {
            lossy
        }
    }

    /// File extension, as DZI's `Format` attribute also wants it.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    /// The format a file extension names, as [`Format::extension`] writes it.
    pub fn of_extension(extension: &str) -> Option<Format> {
        [Format::Jpeg, Format::Png, Format::Webp]
            .into_iter()
            .find(|f| f.extension() == extension)
    }

    /// MIME type for `<source type>` and headers.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    /// Encodes a tightly packed raster (`stride == width * channels`).
    pub fn encode(
        self,
        width: u32,
        height: u32,
        channels: u8,
        data: &[u8],
    ) -> Result<Vec<u8>, String> {
        match self {
            Format::Jpeg => encode_jpeg(width, height, channels, data),
            Format::Png => encode_png(width, height, channels, data),
            Format::Webp => WebpSettings::SITE.encode(width, height, channels, data),
        }
    }
}

/// Gray to WebP's luma, the studio range (16–235) its decoders expand again: libwebp's own
/// RGB → Y of a gray pixel (`VP8RGBToY` in `yuv.h`, 16-bit fixed point), so a gray raster
/// encodes exactly as its RGB copy did, without the copy.
const GRAY_TO_LUMA: [u8; 256] = {
    let mut table = [0; 256];
    let mut v = 0;
    while v < 256 {
        table[v] = (((16839 + 33059 + 6420) * v as u32 + (1 << 15) + (16 << 16)) >> 16) as u8;
        v += 1;
    }
    table
};

fn encode_jpeg(width: u32, height: u32, channels: u8, data: &[u8]) -> Result<Vec<u8>, String> {
    let color = match channels {
        1 => jpeg_encoder::ColorType::Luma,
        3 => jpeg_encoder::ColorType::Rgb,
        n => return Err(format!("JPEG cannot hold {n} channels")),
    };
    let (w, h) = (u16::try_from(width), u16::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(format!(
            "{width} × {height} is larger than JPEG allows (65535)"
        ));
    };
    if cfg!(jpeg_simd) {
        return encode_libjpeg(width, height, channels, data);
    }
    let mut out = Vec::with_capacity(data.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY)
        .encode(data, w, h, color)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Baseline JPEG through libjpeg-turbo's code with its default settings (as `cjpeg -quality 80`
/// or `vips jpegsave`: standard Huffman tables, 4:2:0 chroma for colour, 1 channel for gray).
fn encode_libjpeg(width: u32, height: u32, channels: u8, data: &[u8]) -> Result<Vec<u8>, String> {
    use mozjpeg::{ColorSpace, Compress};
    let space = if channels == 1 {
        ColorSpace::JCS_GRAYSCALE
    } else {
        ColorSpace::JCS_RGB
    };
    // libjpeg reports errors by unwinding out of its error handler.
    std::panic::catch_unwind(|| {
        let mut c = Compress::new(space);
        // libjpeg-turbo's defaults, not mozjpeg's slow trellis/progressive profile.
        c.set_fastest_defaults();
        c.set_size(width as usize, height as usize);
        c.set_quality(f32::from(JPEG_QUALITY));
        let mut started = c.start_compress(Vec::with_capacity(data.len() / 4))?;
        started.write_scanlines(data)?;
        started.finish()
    })
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "libjpeg failed".into())
    })?
    .map_err(|e| e.to_string())
}

fn encode_png(width: u32, height: u32, channels: u8, data: &[u8]) -> Result<Vec<u8>, String> {
    let color = match channels {
        1 => ExtendedColorType::L8,
        2 => ExtendedColorType::La8,
        3 => ExtendedColorType::Rgb8,
        _ => ExtendedColorType::Rgba8,
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive)
        .write_image(data, width, height, color)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Downscales a raster to `width × height` (alpha-aware: colours are premultiplied while filtering).
pub(crate) fn resize(src: &Raster, width: u32, height: u32) -> Raster {
    let pixel_type = match src.channels {
        1 => PixelType::U8,
        2 => PixelType::U8x2,
        3 => PixelType::U8x3,
        _ => PixelType::U8x4,
    };
    let view = ImageRef::new(src.width, src.height, &src.data, pixel_type)
        .expect("raster buffer matches its dimensions");
    let mut dst = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FILTER));
    Resizer::new()
        .resize(&view, &mut dst, &options)
        .expect("source and destination share one pixel type");
    Raster {
        width,
        height,
        channels: src.channels,
        data: dst.into_vec(),
    }
}

/// The height that keeps the aspect ratio at `width`, at least one pixel.
pub(crate) fn scaled_height(src_width: u32, src_height: u32, width: u32) -> u32 {
    let h = (u64::from(src_height) * u64::from(width) + u64::from(src_width) / 2)
        / u64::from(src_width);
    h.max(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_jpeg_has_one_component() {
        let data: Vec<u8> = (0..64 * 32).map(|i| (i % 251) as u8).collect();
        let jpeg = Format::Jpeg.encode(64, 32, 1, &data).unwrap();
        // SOF0 marker: FF C0, length (2), precision (1), height (2), width (2), components (1).
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("baseline SOF0");
        assert_eq!(jpeg[sof + 9], 1);
    }

    #[test]
    fn gray_webp_decodes_to_its_size() {
        let data: Vec<u8> = (0..64 * 32).map(|i| (i % 251) as u8).collect();
        let webp = Format::Webp.encode(64, 32, 1, &data).unwrap();
        let image = image::load_from_memory_with_format(&webp, image::ImageFormat::WebP).unwrap();
        assert_eq!((image.width(), image.height()), (64, 32));
        assert_eq!(Format::of_extension("webp"), Some(Format::Webp));
    }

    #[test]
    fn gray_webp_is_its_rgb_copy_and_keeps_its_levels() {
        // Flat bands of black, mid-grey and white, then a ramp: a gray raster written straight
        // into the luma plane must decode to its own levels, as its RGB copy does.
        let (w, h) = (96u32, 64u32);
        let data: Vec<u8> = (0..w * h)
            .map(|i| match (i % w) / 24 {
                0 => 0,
                1 => 128,
                2 => 255,
                _ => ((i / w) * 4) as u8,
            })
            .collect();
        let rgb: Vec<u8> = data.iter().flat_map(|&v| [v, v, v]).collect();
        let gray = WebpSettings::SITE.encode(w, h, 1, &data).unwrap();
        assert_eq!(gray, WebpSettings::SITE.encode(w, h, 3, &rgb).unwrap());
        let decoded = image::load_from_memory(&gray).unwrap().to_luma8();
        for (x, want) in [(12, 0), (36, 128), (60, 255)] {
            let got = decoded.get_pixel(x, 32)[0];
            assert!(got.abs_diff(want) <= 2, "x {x}: {got}, not {want}");
        }
    }

    #[test]
    fn alpha_and_masks_choose_png() {
        let gray = Raster {
            width: 1,
            height: 1,
            channels: 1,
            data: vec![0],
        };
        let gray_alpha = Raster {
            width: 1,
            height: 1,
            channels: 2,
            data: vec![0, 0],
        };
        assert_eq!(
            Format::for_content(&gray, false, Format::Jpeg),
            Format::Jpeg
        );
        assert_eq!(
            Format::for_content(&gray, false, Format::Webp),
            Format::Webp
        );
        assert_eq!(Format::for_content(&gray, true, Format::Webp), Format::Png);
        assert_eq!(
            Format::for_content(&gray_alpha, false, Format::Webp),
            Format::Png
        );
    }

    #[test]
    fn scaled_height_rounds_and_never_vanishes() {
        assert_eq!(scaled_height(3000, 2000, 400), 267);
        assert_eq!(scaled_height(10000, 3, 400), 1);
    }
}
