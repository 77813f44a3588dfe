//! JPEG q80 against lossy WebP on a corpus made by `examples/corpus.rs`: bytes per megapixel at
//! matched SSIM, and encode throughput on every core.
//!
//! Usage: `cargo run --release --example webp_bench -- SITE_DIR` (run by `bench/webp`).
//!
//! Each source is brought to what the media stage encodes (8-bit gray or RGB; a 16-bit image
//! stretched linearly from its min to its max), cut into the pyramid's full-resolution 256-px
//! tiles, and scaled to a 400-px thumbnail. Both are encoded by vitrine's own encoders
//! (`vitrine::media::Format`), decoded again, and compared with the source by SSIM (8×8 windows,
//! `image-compare`; colour on RGB). A sweep of WebP qualities shows which one matches JPEG q80's
//! SSIM; the row of the settings vitrine uses (`WebpSettings::SITE`) is the one to read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{DynamicImage, GrayImage, RgbImage};
use image_compare::Algorithm;
use rayon::prelude::*;
use vitrine::media::{Format, WebpSettings, JPEG_QUALITY};

/// Tile edge of the pyramid (`media::dzi::TILE_SIZE`); overlap left out, it adds the same to both.
const TILE: u32 = 256;
/// The gallery card's thumbnail width.
const THUMB: u32 = 400;

/// One piece of work: a tile or a thumbnail, gray or colour, as the media stage hands it over.
enum Piece {
    Gray(GrayImage),
    Rgb(RgbImage),
}

impl Piece {
    fn megapixels(&self) -> f64 {
        let (w, h) = match self {
            Piece::Gray(i) => i.dimensions(),
            Piece::Rgb(i) => i.dimensions(),
        };
        f64::from(w) * f64::from(h) / 1e6
    }

    fn encode(&self, format: Format) -> Vec<u8> {
        let result = match self {
            Piece::Gray(i) => format.encode(i.width(), i.height(), 1, i.as_raw()),
            Piece::Rgb(i) => format.encode(i.width(), i.height(), 3, i.as_raw()),
        };
        result.expect("bench pieces are small 8-bit rasters")
    }

    fn encode_webp(&self, settings: &WebpSettings) -> Vec<u8> {
        let result = match self {
            Piece::Gray(i) => settings.encode(i.width(), i.height(), 1, i.as_raw()),
            Piece::Rgb(i) => settings.encode(i.width(), i.height(), 3, i.as_raw()),
        };
        result.expect("bench pieces are small 8-bit rasters")
    }

    /// SSIM of `bytes` decoded against this piece.
    fn ssim(&self, bytes: &[u8]) -> f64 {
        let decoded = image::load_from_memory(bytes).expect("own output decodes");
        let similarity = match self {
            Piece::Gray(i) => image_compare::gray_similarity_structure(
                &Algorithm::MSSIMSimple,
                i,
                &decoded.to_luma8(),
            ),
            Piece::Rgb(i) => image_compare::rgb_similarity_structure(
                &Algorithm::MSSIMSimple,
                i,
                &decoded.to_rgb8(),
            ),
        };
        similarity.expect("same dimensions").score
    }
}

/// Totals for one encoder over a set of pieces.
#[derive(Default)]
struct Sum {
    bytes: u64,
    megapixels: f64,
    ssim_weighted: f64,
}

impl Sum {
    fn add(&mut self, piece: &Piece, bytes: usize, ssim: f64) {
        self.bytes += bytes as u64;
        self.megapixels += piece.megapixels();
        self.ssim_weighted += ssim * piece.megapixels();
    }
    fn bytes_per_mp(&self) -> f64 {
        self.bytes as f64 / self.megapixels
    }
    fn ssim(&self) -> f64 {
        self.ssim_weighted / self.megapixels
    }
}

fn main() {
    let Some(site) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: webp_bench SITE_DIR");
        std::process::exit(2);
    };
    let images = corpus_images(&site);
    println!("load average at start: {}", load_average());
    println!(
        "corpus: {} images; {} threads; JPEG q{JPEG_QUALITY}, WebP {:?} (vitrine's)",
        images.len(),
        rayon::current_num_threads(),
        WebpSettings::SITE
    );
    // (kind, tiles, thumbnails) per source.
    let sources: Vec<(&str, Vec<Piece>, Piece)> = images.par_iter().map(|p| pieces(p)).collect();
    for kind in ["gray", "colour", "all"] {
        let chosen: Vec<&(&str, Vec<Piece>, Piece)> = sources
            .iter()
            .filter(|(k, _, _)| kind == "all" || *k == kind)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        for (what, list) in [
            (
                "tiles",
                chosen.iter().flat_map(|(_, t, _)| t).collect::<Vec<_>>(),
            ),
            ("thumbnails", chosen.iter().map(|(_, _, t)| t).collect()),
        ] {
            let (jpeg, jpeg_secs) = measure(&list, Format::Jpeg);
            let (webp, webp_secs) = measure(&list, Format::Webp);
            println!(
                "{kind:6} {what:10} JPEG {:7.0} B/MP SSIM {:.4} {:5.1} MP/s | WebP {:7.0} B/MP SSIM {:.4} {:5.1} MP/s | ratio {:.3}",
                jpeg.bytes_per_mp(),
                jpeg.ssim(),
                jpeg.megapixels / jpeg_secs,
                webp.bytes_per_mp(),
                webp.ssim(),
                webp.megapixels / webp_secs,
                webp.bytes_per_mp() / jpeg.bytes_per_mp()
            );
        }
    }
    println!(
        "WebP sweep on tiles (quality, libwebp method, segments), against JPEG q{JPEG_QUALITY}:"
    );
    let tiles: Vec<&Piece> = sources.iter().flat_map(|(_, t, _)| t).collect();
    let (jpeg, _) = measure(&tiles, Format::Jpeg);
    for (method, segments) in [(0, 1), (0, 4), (2, 4)] {
        for quality in [40.0, 50.0, 60.0, 70.0, 80.0] {
            let settings = WebpSettings {
                quality,
                method,
                segments,
            };
            let start = Instant::now();
            let encoded: Vec<Vec<u8>> = tiles
                .par_iter()
                .map(|piece| piece.encode_webp(&settings))
                .collect();
            let secs = start.elapsed().as_secs_f64();
            let scores: Vec<f64> = tiles
                .par_iter()
                .zip(&encoded)
                .map(|(piece, bytes)| piece.ssim(bytes))
                .collect();
            let mut sum = Sum::default();
            for ((piece, bytes), ssim) in tiles.iter().zip(&encoded).zip(scores) {
                sum.add(piece, bytes.len(), ssim);
            }
            println!(
                "  q{quality:.0} m{method} s{segments}: {:7.0} B/MP, SSIM {:.4} (JPEG {:.4}), ratio {:.3}, {:5.1} MP/s",
                sum.bytes_per_mp(),
                sum.ssim(),
                jpeg.ssim(),
                sum.bytes_per_mp() / jpeg.bytes_per_mp(),
                sum.megapixels / secs
            );
        }
    }
    println!("load average at end: {}", load_average());
}

/// Encodes every piece with `format` on all threads (timed alone), then decodes and scores them.
fn measure(list: &[&Piece], format: Format) -> (Sum, f64) {
    let start = Instant::now();
    let encoded: Vec<Vec<u8>> = list.par_iter().map(|p| p.encode(format)).collect();
    let secs = start.elapsed().as_secs_f64();
    let scores: Vec<f64> = list
        .par_iter()
        .zip(&encoded)
        .map(|(p, bytes)| p.ssim(bytes))
        .collect();
    let mut sum = Sum::default();
    for ((piece, bytes), ssim) in list.iter().zip(&encoded).zip(scores) {
        sum.add(piece, bytes.len(), ssim);
    }
    (sum, secs)
}

/// The source as the media stage would encode it, cut into tiles, and its thumbnail.
fn pieces(path: &Path) -> (&'static str, Vec<Piece>, Piece) {
    let image = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let image = match image {
        DynamicImage::ImageLuma16(i) => {
            let (lo, hi) = i.pixels().fold((u16::MAX, 0), |(lo, hi), p| {
                (lo.min(p.0[0]), hi.max(p.0[0]))
            });
            let span = f64::from(hi.saturating_sub(lo).max(1));
            DynamicImage::ImageLuma8(GrayImage::from_fn(i.width(), i.height(), |x, y| {
                let v = f64::from(i.get_pixel(x, y).0[0] - lo) / span;
                image::Luma([(v * 255.0).round() as u8])
            }))
        }
        other => other,
    };
    let gray = image.color().channel_count() == 1;
    let thumb_height =
        (u64::from(image.height()) * u64::from(THUMB) / u64::from(image.width())) as u32;
    let thumb = image.resize_exact(THUMB, thumb_height, image::imageops::FilterType::Lanczos3);
    let piece = |i: DynamicImage| {
        if gray {
            Piece::Gray(i.to_luma8())
        } else {
            Piece::Rgb(i.to_rgb8())
        }
    };
    let mut tiles = Vec::new();
    for y in (0..image.height()).step_by(TILE as usize) {
        for x in (0..image.width()).step_by(TILE as usize) {
            let w = TILE.min(image.width() - x);
            let h = TILE.min(image.height() - y);
            tiles.push(piece(image.crop_imm(x, y, w, h)));
        }
    }
    (if gray { "gray" } else { "colour" }, tiles, piece(thumb))
}

fn corpus_images(site: &Path) -> Vec<PathBuf> {
    let datasets = site.join("content").join("datasets");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&datasets)
        .unwrap_or_else(|e| panic!("{}: {e}", datasets.display()))
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|f| f.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| ["png", "jpg", "tif"].contains(&&*e.to_string_lossy()))
        })
        .collect();
    out.sort();
    out
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
