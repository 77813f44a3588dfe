//! `vitrine init DIR`: scaffold a site that builds as it is.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

/// Options of `vitrine init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to create the site in (created if missing; must not already hold a site).
    pub dir: PathBuf,
}

const FILES: [(&str, &str); 4] = [
    ("content/site.yaml", include_str!("init/site.yaml")),
    (
        "content/datasets/example-section/dataset.yaml",
        include_str!("init/dataset.yaml"),
    ),
    ("netlify.toml", include_str!("init/netlify.toml")),
    (".gitignore", include_str!("init/gitignore")),
];

/// Runs `vitrine init`.
pub fn run(_root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.dir;
    if dir.join("content").exists() {
        bail!(
            "`{}` already holds a site (it has a content/ folder); choose an empty folder",
            dir.display()
        );
    }
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if path.exists() {
            bail!(
                "`{}` already exists; init writes into an empty folder only",
                path.display()
            );
        }
        std::fs::create_dir_all(path.parent().expect("scaffold files live in folders"))
            .with_context(|| format!("creating `{}`", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing `{}`", path.display()))?;
    }
    let image = dir.join("content/datasets/example-section/section.png");
    specimen(640, 480, 7)
        .save(&image)
        .with_context(|| format!("writing `{}`", image.display()))?;
    println!("Created a vitrine site in {}", dir.display());
    println!(
        "Next: cd {} && vitrine build   (or `vitrine serve` to preview with live reload)",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A synthetic EM-like section: bright cytoplasm, dark membranes around cell bodies, a few
/// vesicles and shot noise, so the example looks like data rather than a flat placeholder.
fn specimen(width: u32, height: u32, seed: u64) -> image::GrayImage {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let cells: Vec<(f32, f32)> = (0..40)
        .map(|_| {
            (
                (next() % width as u64) as f32,
                (next() % height as u64) as f32,
            )
        })
        .collect();
    let vesicles: Vec<(f32, f32, f32)> = (0..120)
        .map(|_| {
            (
                (next() % width as u64) as f32,
                (next() % height as u64) as f32,
                2.0 + (next() % 5) as f32,
            )
        })
        .collect();
    image::GrayImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut d1 = f32::MAX;
        let mut d2 = f32::MAX;
        for &(cx, cy) in &cells {
            let d = ((fx - cx).powi(2) + (fy - cy).powi(2)).sqrt();
            if d < d1 {
                d2 = d1;
                d1 = d;
            } else if d < d2 {
                d2 = d;
            }
        }
        let membrane = (-(d2 - d1).powi(2) / 8.0).exp();
        let vesicle = vesicles
            .iter()
            .map(|&(vx, vy, r)| {
                let d = ((fx - vx).powi(2) + (fy - vy).powi(2)).sqrt();
                (-(d - r).powi(2) / 1.5).exp()
            })
            .fold(0.0f32, f32::max);
        let noise = (next() % 41) as f32 - 20.0;
        let v = 190.0 - 150.0 * membrane - 90.0 * vesicle + noise;
        image::Luma([v.clamp(0.0, 255.0) as u8])
    })
}
