//! Writes a benchmark site: N datasets of EM-like images, the shape labs actually publish.
//!
//! Usage: `cargo run --release --example corpus -- OUT_DIR N [--pyramids]`
//!
//! Dataset `i` gets, in rotation, a 2048×2048 8-bit PNG (membranes and noise, like serial-section
//! EM), a 3000×2000 colour JPEG (a stained light micrograph) or a 2048×2048 16-bit TIFF with a
//! 12-bit camera range (which shown unstretched would be nearly black). Every fifth dataset is
//! private. Images are deterministic per index, so two corpora of the same N are identical.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use image::{ImageBuffer, Luma, Rgb};

#[path = "common/em.rs"]
mod em;
use em::em;
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: corpus OUT_DIR N [--pyramids]");
        std::process::exit(2);
    };
    let pyramids = args.iter().any(|a| a == "--pyramids");
    let root = Path::new(out);
    let datasets = root.join("content").join("datasets");
    fs::create_dir_all(&datasets).expect("create content/datasets");
    fs::write(
        root.join("content").join("site.yaml"),
        site_yaml(n, pyramids),
    )
    .expect("write site.yaml");
    (0..n).into_par_iter().for_each(|i| {
        let slug = format!("ds-{i:05}");
        let dir = datasets.join(&slug);
        fs::create_dir_all(&dir).expect("create dataset folder");
        let kind = Kind::of(i);
        let file = kind.write_image(&dir, i as u64);
        fs::write(dir.join("dataset.yaml"), dataset_yaml(i, kind, &file))
            .expect("write dataset.yaml");
    });
    let private = (0..n).filter(|&i| is_private(i)).count();
    println!("{}: {n} datasets ({private} private)", root.display());
}

fn is_private(i: usize) -> bool {
    i % 5 == 4
}

/// The three kinds of source image, in rotation.
#[derive(Clone, Copy)]
enum Kind {
    EmPng,
    LightJpeg,
    Camera16Tiff,
}

impl Kind {
    fn of(i: usize) -> Kind {
        [Kind::EmPng, Kind::LightJpeg, Kind::Camera16Tiff][i % 3]
    }

    fn modality(self) -> &'static str {
        match self {
            Kind::EmPng => "ssTEM",
            Kind::LightJpeg => "brightfield",
            Kind::Camera16Tiff => "FIB-SEM",
        }
    }

    /// Writes the dataset's image and returns its file name.
    fn write_image(self, dir: &Path, seed: u64) -> String {
        match self {
            Kind::EmPng => {
                let img: ImageBuffer<Luma<u8>, Vec<u8>> =
                    ImageBuffer::from_fn(2048, 2048, |x, y| Luma([em(x, y, seed) as u8]));
                img.save(dir.join("section.png")).expect("write PNG");
                "section.png".into()
            }
            Kind::LightJpeg => {
                let img: ImageBuffer<Rgb<u8>, Vec<u8>> =
                    ImageBuffer::from_fn(3000, 2000, |x, y| {
                        let v = em(x, y, seed);
                        // Haematoxylin-and-eosin-like tint: membranes purple, background pink.
                        Rgb([
                            (90.0 + v * 0.6) as u8,
                            (40.0 + v * 0.55) as u8,
                            (120.0 + v * 0.45) as u8,
                        ])
                    });
                jpeg_encoder::Encoder::new_file(dir.join("overview.jpg"), 90)
                    .and_then(|enc| {
                        enc.encode(img.as_raw(), 3000, 2000, jpeg_encoder::ColorType::Rgb)
                    })
                    .expect("write JPEG");
                "overview.jpg".into()
            }
            Kind::Camera16Tiff => {
                let img: ImageBuffer<Luma<u16>, Vec<u16>> =
                    ImageBuffer::from_fn(2048, 2048, |x, y| {
                        Luma([(800.0 + em(x, y, seed) * 9.0) as u16])
                    });
                img.save(dir.join("volume-z0000.tif")).expect("write TIFF");
                "volume-z0000.tif".into()
            }
        }
    }
}

fn site_yaml(n: usize, pyramids: bool) -> String {
    format!(
        "title: Benchmark gallery ({n} datasets)\n\
         base_url: https://bench.example.org\n\
         description: A generated corpus of EM-like datasets for timing builds.\n\
         hosting: netlify\n\
         viewer:\n  pyramids: {pyramids}\n"
    )
}

fn dataset_yaml(i: usize, kind: Kind, image: &str) -> String {
    const SPECIES: [&str; 4] = [
        "Mus musculus",
        "Drosophila melanogaster",
        "Homo sapiens",
        "Danio rerio",
    ];
    const REGIONS: [&str; 5] = [
        "cortex L2/3",
        "hippocampus CA1",
        "mushroom body",
        "retina",
        "cerebellum",
    ];
    const TAGS: [&str; 6] = [
        "connectomics",
        "synapses",
        "mitochondria",
        "myelin",
        "dendrites",
        "reference",
    ];
    let mut y = String::new();
    let _ = writeln!(
        y,
        "display_name: \"Specimen {i}: {} of {}\"",
        kind.modality(),
        REGIONS[i % 5]
    );
    let _ = writeln!(
        y,
        "description: |\n  Serial imaging of {} tissue, block {i}. Membranes are stained with\n  \
         osmium; see the methods paper for fixation and sectioning.",
        SPECIES[i % 4]
    );
    let _ = writeln!(
        y,
        "visibility: {}",
        if is_private(i) { "private" } else { "public" }
    );
    let _ = writeln!(y, "thumbnail: {image}");
    let _ = writeln!(y, "tags: [{}, {}]", TAGS[i % 6], TAGS[(i / 6 + 1) % 6]);
    let _ = writeln!(y, "authors: [\"A. Researcher\", \"B. Imaging-Core\"]");
    let _ = writeln!(y, "species: {}", SPECIES[i % 4]);
    let _ = writeln!(y, "region: \"{}\"", REGIONS[i % 5]);
    let _ = writeln!(y, "modality: {}", kind.modality());
    let _ = writeln!(y, "voxel_size_nm: [{}, {}, 30]", 4 + i % 4, 4 + i % 4);
    y
}
