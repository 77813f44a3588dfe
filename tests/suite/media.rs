//! The media stage on images made here: formats and bit depths, stretch, orientation, limits,
//! DZI geometry and the cache.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{DynamicImage, GenericImageView, ImageBuffer, Luma, LumaA, Rgb};
use vitrine::media::{derive, derive_all, probe, MediaError, MediaJob, MediaSettings};

/// A scratch folder with a cache inside it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn settings(&self) -> MediaSettings {
        MediaSettings::new(self.path("cache"))
    }
}

/// A smooth gradient with texture, like a small micrograph.
fn gray_pattern(width: u32, height: u32) -> ImageBuffer<Luma<u8>, Vec<u8>> {
    ImageBuffer::from_fn(width, height, |x, y| {
        Luma([((x * 7 + y * 3) % 256) as u8 ^ ((x / 5 + y / 7) % 2 * 40) as u8])
    })
}

fn rgb_pattern(width: u32, height: u32) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    })
}

fn open(path: &Path) -> DynamicImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn gray_png_gives_gray_jpeg_thumbnails_at_each_width() {
    let s = Scratch::new();
    let src = s.path("em.png");
    gray_pattern(1500, 900).save(&src).unwrap();
    let derived = derive(&src, false, &s.settings()).unwrap();
    assert_eq!((derived.info.width, derived.info.height), (1500, 900));
    assert_eq!(
        (
            derived.info.format,
            derived.info.bits,
            derived.info.channels
        ),
        ("png", 8, 1)
    );
    let sizes: Vec<_> = derived
        .thumbnails
        .iter()
        .map(|t| (t.name.as_str(), t.width, t.height))
        .collect();
    assert_eq!(
        sizes,
        [("thumb-400.jpg", 400, 240), ("thumb-1200.jpg", 1200, 720)]
    );
    for t in &derived.thumbnails {
        assert_eq!(t.mime, "image/jpeg");
        let img = open(&t.file);
        assert_eq!(img.dimensions(), (t.width, t.height));
        assert!(
            matches!(img, DynamicImage::ImageLuma8(_)),
            "{} stays 1-channel",
            t.name
        );
    }
    assert!(derived.pyramid.is_none());
    assert_eq!(derived.hash.len(), 16);
}

#[test]
fn narrow_16_bit_tiff_is_stretched_not_black() {
    let s = Scratch::new();
    let src = s.path("stack.tif");
    // Values 1000..1400 of 65535: shown as is they would be almost black.
    let img: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(600, 400, |x, y| Luma([1000 + ((x + 2 * y) % 400) as u16]));
    img.save(&src).unwrap();
    let derived = derive(&src, false, &s.settings()).unwrap();
    assert_eq!((derived.info.format, derived.info.bits), ("tiff", 16));
    let thumb = open(&derived.thumbnails[0].file).into_luma8();
    let mut values: Vec<u8> = thumb.into_raw();
    values.sort_unstable();
    let at = |q: f64| values[((values.len() - 1) as f64 * q) as usize];
    assert!(at(0.01) < 20, "dark end reaches black, got {}", at(0.01));
    assert!(at(0.99) > 235, "bright end reaches white, got {}", at(0.99));
    assert!(
        (60..200).contains(&at(0.5)),
        "median is mid-gray, got {}",
        at(0.5)
    );
}

#[test]
fn rgb_jpeg_and_webp_sources_give_colour_jpegs() {
    let s = Scratch::new();
    let jpg = s.path("photo.jpg");
    rgb_pattern(800, 500).save(&jpg).unwrap();
    let webp = s.path("photo.webp");
    rgb_pattern(500, 300).save(&webp).unwrap();
    for (src, format) in [(&jpg, "jpeg"), (&webp, "webp")] {
        let derived = derive(src, false, &s.settings()).unwrap();
        assert_eq!((derived.info.format, derived.info.channels), (format, 3));
        let largest = derived.thumbnails.last().unwrap();
        assert_eq!(
            largest.width, derived.info.width,
            "a source under 1200 px keeps its width"
        );
        assert!(matches!(open(&largest.file), DynamicImage::ImageRgb8(_)));
    }
}

#[test]
fn gray_alpha_png_keeps_transparency_as_png() {
    let s = Scratch::new();
    let src = s.path("overlay.png");
    let img: ImageBuffer<LumaA<u8>, Vec<u8>> = ImageBuffer::from_fn(500, 300, |x, y| {
        LumaA([(x % 256) as u8, if y < 150 { 255 } else { (x % 128) as u8 }])
    });
    img.save(&src).unwrap();
    let derived = derive(&src, false, &s.settings()).unwrap();
    let thumb = &derived.thumbnails[0];
    assert_eq!(
        (thumb.name.as_str(), thumb.mime),
        ("thumb-400.png", "image/png")
    );
    assert!(matches!(open(&thumb.file), DynamicImage::ImageLumaA8(_)));
}

#[test]
fn label_mask_is_png_with_its_labels_visible() {
    let s = Scratch::new();
    let src = s.path("labels.png");
    let img: ImageBuffer<Luma<u8>, Vec<u8>> =
        ImageBuffer::from_fn(600, 600, |x, y| Luma([((x / 150 + y / 150) % 4) as u8]));
    img.save(&src).unwrap();
    let derived = derive(&src, false, &s.settings()).unwrap();
    let thumb = &derived.thumbnails[0];
    assert_eq!(thumb.mime, "image/png");
    let out = open(&thumb.file).into_luma8();
    assert_eq!(out.get_pixel(10, 10)[0], 0);
    assert_eq!(
        out.get_pixel(390, 10)[0],
        255,
        "label 3 of 0..3 is stretched to white"
    );
}

/// A baseline JPEG with an EXIF APP1 segment saying "rotate 90° clockwise" (orientation 6).
fn jpeg_with_orientation_6(width: u32, height: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    rgb_pattern(width, height)
        .write_to(
            &mut std::io::Cursor::new(&mut plain),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec(); // big-endian TIFF, IFD at 8
    tiff.extend_from_slice(&[0, 1]); // one entry
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation SHORT 6
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

#[test]
fn exif_orientation_swaps_width_and_height() {
    let s = Scratch::new();
    let src = s.path("phone.jpg");
    std::fs::write(&src, jpeg_with_orientation_6(600, 300)).unwrap();
    let info = probe(&src, u64::MAX).unwrap();
    assert_eq!((info.width, info.height), (300, 600));
    let derived = derive(&src, false, &s.settings()).unwrap();
    let thumb = derived.thumbnails.last().unwrap();
    assert_eq!((thumb.width, thumb.height), (300, 600));
    assert_eq!(open(&thumb.file).dimensions(), (300, 600));
}

/// CRC-32 (ISO-HDLC) of a PNG chunk's type and data, so a forged header is otherwise valid.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

#[test]
fn decompression_bomb_header_is_refused_before_decoding() {
    let s = Scratch::new();
    let src = s.path("bomb.png");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&200_000u32.to_be_bytes());
    ihdr.extend_from_slice(&200_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit gray
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    std::fs::write(&src, png).unwrap();

    let start = Instant::now();
    let err = probe(&src, MediaSettings::DEFAULT_MAX_PIXELS).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                width: 200_000,
                height: 200_000,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: 200000 × 200000", src.display())),
        "{message}"
    );
    assert!(message.contains("raise the limit"), "{message}");
    let err = derive(&src, true, &s.settings()).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { .. }), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "refused from the header, not by decoding"
    );
}

#[test]
fn configured_limit_applies_to_real_images_and_to_cached_ones() {
    let s = Scratch::new();
    let src = s.path("em.png");
    gray_pattern(1000, 1000).save(&src).unwrap();
    let mut settings = s.settings();
    derive(&src, false, &settings).unwrap();
    settings.max_pixels = 999_999;
    let err = derive(&src, false, &settings).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { .. }), "{err}");
    assert!(matches!(
        probe(&src, 999_999),
        Err(MediaError::TooLarge { .. })
    ));
}

#[test]
fn truncated_and_foreign_files_are_refused_with_the_file_named() {
    let s = Scratch::new();
    let full = s.path("full.png");
    gray_pattern(800, 800).save(&full).unwrap();
    let bytes = std::fs::read(&full).unwrap();

    let cut = s.path("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = derive(&cut, false, &s.settings()).unwrap_err();
    assert!(matches!(err, MediaError::Undecodable { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&cut.display().to_string()),
        "{err}"
    );

    let header_only = s.path("header.png");
    std::fs::write(&header_only, &bytes[..20]).unwrap();
    assert!(matches!(
        probe(&header_only, u64::MAX),
        Err(MediaError::Undecodable { .. })
    ));

    let text = s.path("notes.png");
    std::fs::write(&text, "not an image at all").unwrap();
    let err = probe(&text, u64::MAX).unwrap_err();
    assert!(err.to_string().contains("PNG, JPEG, TIFF or WebP"), "{err}");

    let missing = s.path("missing.png");
    assert!(matches!(
        probe(&missing, u64::MAX),
        Err(MediaError::Read { .. })
    ));
    // A failed derive leaves nothing half-written in the cache.
    let leftovers: Vec<_> = std::fs::read_dir(s.path("cache"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name())
                .filter(|n| n != "index")
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The DZI definition, written out independently of the implementation.
fn expected_levels(width: u32, height: u32) -> Vec<(u32, u32)> {
    let max = (f64::from(width.max(height))).log2().ceil() as u32;
    (0..=max)
        .map(|l| {
            let scale = 2f64.powi((max - l) as i32);
            (
                (f64::from(width) / scale).ceil() as u32,
                (f64::from(height) / scale).ceil() as u32,
            )
        })
        .collect()
}

/// OpenSeadragon's `DziTileSource.getTileBounds`: position and size of a tile in pixels.
fn expected_tile(level_w: u32, level_h: u32, col: u32, row: u32) -> (u32, u32) {
    let side = |i: u32, extent: u32| {
        let start = if i == 0 { 0 } else { 254 * i - 1 };
        let size = 254 + if i == 0 { 1 } else { 2 };
        size.min(extent - start)
    };
    (side(col, level_w), side(row, level_h))
}

#[test]
fn dzi_pyramid_matches_the_deep_zoom_definition() {
    let s = Scratch::new();
    for (width, height) in [(600, 255), (257, 1000), (509, 509)] {
        let src = s.path(&format!("img-{width}x{height}.png"));
        gray_pattern(width, height).save(&src).unwrap();
        let pyramid = derive(&src, true, &s.settings())
            .unwrap()
            .pyramid
            .expect("pyramid requested");
        let levels = expected_levels(width, height);
        assert_eq!(pyramid.levels as usize, levels.len());
        assert_eq!(
            (pyramid.tile_size, pyramid.overlap, pyramid.format),
            (254, 1, "jpg")
        );
        let dzi = std::fs::read_to_string(pyramid.dir.join("tiles.dzi")).unwrap();
        assert!(
            dzi.contains(&format!(
                "<Image TileSize=\"254\" Overlap=\"1\" Format=\"jpg\" \
                 xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"><Size Width=\"{width}\" Height=\"{height}\"/></Image>"
            )),
            "{dzi}"
        );
        for (level, &(lw, lh)) in levels.iter().enumerate() {
            let dir = pyramid.dir.join("tiles_files").join(level.to_string());
            let (cols, rows) = (lw.div_ceil(254), lh.div_ceil(254));
            let count = std::fs::read_dir(&dir).unwrap().count() as u32;
            assert_eq!(count, cols * rows, "{width}×{height} level {level}");
            for col in 0..cols {
                for row in 0..rows {
                    let tile = open(&dir.join(format!("{col}_{row}.jpg")));
                    assert_eq!(
                        tile.dimensions(),
                        expected_tile(lw, lh, col, row),
                        "{width}×{height} level {level} tile {col}_{row}"
                    );
                }
            }
        }
        // Reports count the tiles from the geometry without reading the folder.
        let on_disk = walkdir::WalkDir::new(pyramid.dir.join("tiles_files"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .count();
        assert_eq!(
            pyramid.tile_count(),
            on_disk,
            "{width}×{height}: Pyramid::tile_count"
        );
    }
}

#[test]
fn top_level_is_full_resolution_with_shared_overlap_pixels() {
    let s = Scratch::new();
    let src = s.path("stripes.png");
    // Two-valued bands 16 px wide: a mask, so tiles are lossless PNG and pixels compare exactly.
    let img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_fn(600, 300, |x, _| {
        Luma([if (x / 16) % 2 == 0 { 40 } else { 210 }])
    });
    img.save(&src).unwrap();
    let pyramid = derive(&src, true, &s.settings()).unwrap().pyramid.unwrap();
    let top = pyramid
        .dir
        .join("tiles_files")
        .join((pyramid.levels - 1).to_string());
    let right = open(&top.join(format!("1_0.{}", pyramid.format))).into_luma8();
    // Tile 1 starts at x = 253: its column 0 is source column 253 (band 15, bright), and its
    // column 10 is source column 263 (band 16, dark).
    assert_eq!(pyramid.format, "png");
    assert_eq!(right.get_pixel(0, 100)[0], 210);
    assert_eq!(right.get_pixel(10, 100)[0], 40);
}

#[test]
fn second_derive_is_a_cache_hit_without_re_encoding() {
    let s = Scratch::new();
    let src = s.path("em.png");
    gray_pattern(900, 700).save(&src).unwrap();
    let settings = s.settings();
    let first = derive(&src, true, &settings).unwrap();
    let mtimes = |d: &vitrine::media::Derived| -> Vec<_> {
        d.thumbnails
            .iter()
            .map(|t| std::fs::metadata(&t.file).unwrap().modified().unwrap())
            .collect()
    };
    let before = mtimes(&first);
    std::thread::sleep(Duration::from_millis(20));
    let second = derive(&src, true, &settings).unwrap();
    assert_eq!(first, second);
    assert_eq!(before, mtimes(&second));

    // Touched but unchanged: the hash is recomputed, the entry reused.
    let bytes = std::fs::read(&src).unwrap();
    std::fs::write(&src, &bytes).unwrap();
    let third = derive(&src, true, &settings).unwrap();
    assert_eq!(before, mtimes(&third));

    // Changed content: a new hash and a new entry.
    gray_pattern(901, 700).save(&src).unwrap();
    let fourth = derive(&src, true, &settings).unwrap();
    assert_ne!(fourth.hash, first.hash);
    assert_eq!(fourth.info.width, 901);

    // Other thumbnail widths are another entry for the same source.
    let mut narrow = settings.clone();
    narrow.thumbnail_widths = vec![200];
    let fifth = derive(&src, true, &narrow).unwrap();
    assert_eq!(fifth.thumbnails.len(), 1);
    assert_eq!(fifth.thumbnails[0].width, 200);
    assert_ne!(
        fifth.thumbnails[0].file.parent(),
        fourth.thumbnails[0].file.parent()
    );
}

#[test]
fn site_wide_pyramid_switch_overrides_jobs() {
    let s = Scratch::new();
    let src = s.path("em.png");
    gray_pattern(300, 300).save(&src).unwrap();
    let mut settings = s.settings();
    settings.pyramids = false;
    assert!(derive(&src, true, &settings).unwrap().pyramid.is_none());
}

#[test]
fn derive_all_keeps_order_reports_each_failure_and_dedupes() {
    let s = Scratch::new();
    let a = s.path("a.png");
    let b = s.path("b.tif");
    let bad = s.path("bad.png");
    gray_pattern(700, 500).save(&a).unwrap();
    let img: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(300, 200, |x, y| Luma([(x * y) as u16]));
    img.save(&b).unwrap();
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\n garbage").unwrap();
    let job = |p: &PathBuf, pyramid| MediaJob {
        source: p.clone(),
        pyramid,
    };
    let jobs = [
        job(&a, true),
        job(&bad, false),
        job(&b, false),
        job(&a, true),
        job(&bad, false),
    ];
    let results = derive_all(&jobs, &s.settings(), true);
    assert_eq!(results.len(), 5);
    assert!(results[0].as_ref().unwrap().pyramid.is_some());
    assert_eq!(results[2].as_ref().unwrap().info.bits, 16);
    assert_eq!(results[0].as_ref().unwrap(), results[3].as_ref().unwrap());
    for i in [1, 4] {
        let err = results[i].as_ref().unwrap_err();
        assert!(
            err.to_string().starts_with(&bad.display().to_string()),
            "{err}"
        );
    }
}

/// `tests/images/<name>`, made by `tests/images/make.py`.
fn fixture_image(name: &str) -> PathBuf {
    crate::common::repo().join("tests/images").join(name)
}

#[test]
fn tiff_sample_formats_and_containers_are_read_and_stretched() {
    let s = Scratch::new();
    // Each is a 40 × 30 gradient (3x + 2y) in a narrow band of its type: dark at the top left,
    // bright at the bottom right once stretched.
    // The 8-bit one (20 … 195, a wide enough range) is shown as it is.
    for (name, bits, ends) in [
        ("gray-float32.tif", 32, None),
        ("gray-float64.tif", 64, None),
        ("gray-int16.tif", 16, None),
        ("gray-uint32.tif", 32, None),
        ("gray16-bigtiff.tif", 16, None),
        ("gray16-zstd.tif", 16, None),
        ("with-preview.tif", 8, Some((20, 194))),
    ] {
        let src = fixture_image(name);
        let info = probe(&src, 1_000_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (
                info.width,
                info.height,
                info.format,
                info.bits,
                info.channels
            ),
            (40, 30, "tiff", bits, 1),
            "{name}"
        );
        let derived = derive(&src, false, &s.settings()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let thumb = open(&derived.thumbnails[0].file).into_luma8();
        let (first, last) = (thumb.get_pixel(0, 0)[0], thumb.get_pixel(39, 29)[0]);
        match ends {
            Some(ends) => assert_eq!((first, last), ends, "{name}"),
            None => assert!(first < 20 && last > 235, "{name}: {first} … {last}"),
        }
    }

    // Planar 16-bit RGB: red grows along the gradient, green shrinks, blue is constant.
    let src = fixture_image("rgb16-planar.tif");
    assert_eq!(probe(&src, 1_000_000).unwrap().channels, 3);
    let derived = derive(&src, false, &s.settings()).unwrap();
    let thumb = open(&derived.thumbnails[0].file).into_rgb8();
    let (a, b) = (
        thumb.get_pixel(0, 0).0.map(i32::from),
        thumb.get_pixel(39, 29).0.map(i32::from),
    );
    assert!(a[0] + 100 < b[0] && a[1] > b[1] + 100, "{a:?} … {b:?}");
    assert!(a[2].abs_diff(b[2]) < 8, "{a:?} … {b:?}");
}

#[test]
fn multi_page_tiffs_are_z_stacks_with_their_stated_voxel_size() {
    let s = Scratch::new();
    // Plain, ImageJ and OME: three pages of (3x + 2y + 40z), slice z brighter than z − 1.
    for (name, voxel) in [
        ("stack-3-pages.tif", None),
        ("imagej-stack.tif", Some([100.0, 100.0, 500.0])),
        ("ome-stack.ome.tif", Some([100.0, 100.0, 500.0])),
    ] {
        let src = fixture_image(name);
        let derived = derive(&src, true, &s.settings()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let slices: Vec<_> = derived.slices().collect();
        assert_eq!(slices.len(), 3, "{name}");
        let mut hashes: Vec<_> = slices.iter().map(|d| d.hash.as_str()).collect();
        hashes.dedup();
        assert_eq!(
            hashes.len(),
            3,
            "{name}: each page has its own media folder"
        );
        assert!(slices.iter().all(|d| d.pyramid.is_some()), "{name}");
        let corner: Vec<u8> = slices
            .iter()
            .map(|d| open(&d.thumbnails[0].file).into_luma8().get_pixel(0, 0)[0])
            .collect();
        assert_eq!(corner, [0, 40, 80], "{name}: pages in order");
        let close = |a: [f64; 3], b: [f64; 3]| (0..3).all(|i| (a[i] - b[i]).abs() < 1e-6);
        match (derived.voxel_size_nm, voxel) {
            (Some(got), Some(want)) => assert!(close(got, want), "{name}: {got:?}"),
            (got, want) => assert_eq!(got, want, "{name}"),
        }
        // The second derive is a cache hit with the same pages.
        assert_eq!(
            derive(&src, true, &s.settings()).unwrap(),
            derived,
            "{name}"
        );
    }
}

#[test]
fn a_stack_of_channels_is_refused_not_shown_as_slices() {
    let s = Scratch::new();
    let src = fixture_image("imagej-2-channels.tif");
    for err in [
        probe(&src, 1_000_000).unwrap_err(),
        derive(&src, false, &s.settings()).unwrap_err(),
    ] {
        let text = err.to_string();
        assert!(
            matches!(err, MediaError::Unsupported { .. })
                && text.contains("its 6 pages hold 2 channels")
                && text.contains("Stack to RGB"),
            "{text}"
        );
    }
}

#[test]
fn a_site_shows_a_tiff_stack_as_slices_with_its_voxel_size() {
    let (_tmp, root) = crate::common::fixture("sites/tiff-stack");
    let out = crate::common::vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", crate::common::text(&out));
    let page = std::fs::read_to_string(root.join("public/datasets/stack/index.html")).unwrap();
    let mut dzis: Vec<&str> = page
        .match_indices("media/")
        .filter_map(|(at, _)| page[at..].split_once("/tiles.dzi").map(|(dir, _)| dir))
        .filter(|dir| dir.len() == "media/".len() + 16)
        .collect();
    dzis.sort_unstable();
    dzis.dedup();
    assert_eq!(dzis.len(), 3, "one pyramid per page: {dzis:?}");
    assert!(
        page.contains("voxel_size_nm&quot;:[100.0,100.0,500.0]"),
        "the ImageJ voxel size drives the viewer"
    );
    // The SWC is placed through the stack's own voxel size: 1 µm deep is slice 2.
    let overlay = vitrine::render::overlay::decode(
        &std::fs::read(root.join("public/datasets/stack/annotations/trace/skeleton.bin")).unwrap(),
    )
    .unwrap();
    assert_eq!(overlay.header.slices, 3);
    assert_eq!(
        overlay.trees[0].nodes,
        [[20.0, 10.0, 2.0], [30.0, 20.0, 0.0]]
    );
}

/// The 16-bit value of pixel (x, y) of a lossless tile: red high byte, green low byte.
fn packed(tile: &image::RgbImage, x: u32, y: u32) -> u16 {
    let p = tile.get_pixel(x, y);
    u16::from(p[0]) << 8 | u16::from(p[1])
}

#[test]
fn lossless_tiles_hold_every_16_bit_source_value() {
    let s = Scratch::new();
    let src = s.path("counts.png");
    let (w, h) = (700u32, 300u32);
    let value = |x: u32, y: u32| ((x * 97 + y * 4099) % 65536) as u16;
    ImageBuffer::from_fn(w, h, |x, y| Luma([value(x, y)]))
        .save(&src)
        .unwrap();
    let derived = derive(&src, true, &s.settings()).unwrap();
    let raw = derived
        .raw_pyramid
        .as_ref()
        .expect("a 16-bit image gets a raw pyramid");
    let display = derived.display.as_ref().unwrap();
    assert_eq!(display.raw_map, Some([0.0, 65535.0]));
    assert!(display.integer);
    let top = raw.levels - 1;
    let dzi = std::fs::read_to_string(raw.dir.join("raw.dzi")).unwrap();
    assert!(
        dzi.contains("Format=\"png\"") && dzi.contains("Width=\"700\""),
        "{dzi}"
    );
    let (cols, rows) = (w.div_ceil(254), h.div_ceil(254));
    let mut seen = 0u64;
    for row in 0..rows {
        for col in 0..cols {
            let file = raw.dir.join(format!("raw_files/{top}/{col}_{row}.png"));
            let tile = open(&file).into_rgb8();
            let (x0, y0) = (col * 254 - col.min(1), row * 254 - row.min(1));
            for (x, y, p) in tile.enumerate_pixels() {
                assert_eq!(p[2], 0, "{}: blue is unused", file.display());
                assert_eq!(
                    packed(&tile, x, y),
                    value(x0 + x, y0 + y),
                    "{} at ({x}, {y})",
                    file.display()
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= u64::from(w * h), "every source pixel was compared");
    // Below full resolution the levels are box averages of the one above.
    let half = open(&raw.dir.join(format!("raw_files/{}/0_0.png", top - 1))).into_rgb8();
    let avg = (u32::from(value(0, 0))
        + u32::from(value(1, 0))
        + u32::from(value(0, 1))
        + u32::from(value(1, 1))
        + 2)
        / 4;
    assert_eq!(u32::from(packed(&half, 0, 0)), avg);
}

#[test]
fn display_facts_are_in_the_data_units() {
    let s = Scratch::new();
    // 16-bit counts in a narrow band with one hot pixel: the window is the percentiles, the
    // range reaches the hot pixel, and the 8-bit tiles stand for the window.
    let src = s.path("band.png");
    ImageBuffer::from_fn(200, 100, |x, y| {
        Luma([if (x, y) == (5, 5) {
            60000u16
        } else {
            1000 + (x + y) as u16 * 3
        }])
    })
    .save(&src)
    .unwrap();
    let d = derive(&src, true, &s.settings()).unwrap();
    let shown = d.display.unwrap();
    assert_eq!(shown.range, [1000.0, 60000.0]);
    assert!(
        shown.window[0] > 1000.0 && shown.window[1] < 1900.0,
        "{:?}",
        shown.window
    );
    assert_eq!(shown.display_map, shown.window);
    assert_eq!(shown.histogram.len(), 256);
    assert_eq!(shown.histogram.iter().sum::<u64>(), 200 * 100);
    assert_eq!(
        shown.histogram[255], 1,
        "the hot pixel is alone in the top bin"
    );

    // Float samples: the lossless pyramid spans the image's own min..max in 65536 steps.
    let float = derive(&fixture_image("gray-float32.tif"), true, &s.settings()).unwrap();
    let shown = float.display.unwrap();
    assert!(!shown.integer);
    let [lo, hi] = shown.raw_map.unwrap();
    assert!(
        (lo - 0.25).abs() < 1e-6 && (hi - 0.425).abs() < 1e-6,
        "{lo}..{hi}"
    );
    assert_eq!(shown.range, [lo, hi]);
    let raw = float.raw_pyramid.unwrap();
    let tile = open(
        &raw.dir
            .join(format!("raw_files/{}/0_0.png", raw.levels - 1)),
    )
    .into_rgb8();
    // Pixel (x, y) of the fixture is 0.25 + (3x + 2y) / 1000 (tests/images/make.py).
    for (x, y) in [(0, 0), (7, 3), (39, 29)] {
        let v = lo + f64::from(packed(&tile, x, y)) * (hi - lo) / 65535.0;
        let source = 0.25 + f64::from(3 * x + 2 * y) / 1000.0;
        assert!(
            (v - source).abs() <= (hi - lo) / 65535.0,
            "({x}, {y}): {v} vs {source}"
        );
    }

    // 8-bit data has no second pyramid; its tiles are its values.
    let gray = s.path("gray.png");
    gray_pattern(300, 200).save(&gray).unwrap();
    let d = derive(&gray, true, &s.settings()).unwrap();
    assert!(d.raw_pyramid.is_none());
    assert_eq!(d.display.unwrap().display_map, [0.0, 255.0]);
}
