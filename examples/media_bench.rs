//! Times the media stage against libvips on a corpus made by `examples/corpus.rs`.
//!
//! Usage: `cargo run --release --example media_bench -- SITE_DIR [RUNS]`
//!
//! Prints megapixels per second (source pixels over wall time) for two thumbnail widths and for
//! DZI pyramids, each beside the same work done by parallel `vipsthumbnail` (one process per
//! size, as its users run it) and `vips dzsave`, alternating runs and reporting medians.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;
use vitrine::media::{derive_all, probe, MediaJob, MediaSettings};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(site) = args.first().map(PathBuf::from) else {
        eprintln!("usage: media_bench SITE_DIR [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let images = corpus_images(&site);
    let pngs: Vec<PathBuf> = images
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .cloned()
        .collect();
    let mp = |list: &[PathBuf]| -> f64 {
        list.iter()
            .map(|p| {
                probe(p, u64::MAX).map_or(0.0, |i| f64::from(i.width) * f64::from(i.height) / 1e6)
            })
            .sum()
    };
    let (all_mp, png_mp) = (mp(&images), mp(&pngs));
    let vips = which("vipsthumbnail") && which("vips");
    println!(
        "corpus: {} images, {all_mp:.0} MP ({} PNG, {png_mp:.0} MP); {} threads; {runs} runs, medians",
        images.len(),
        pngs.len(),
        rayon::current_num_threads()
    );

    let mut t = Table::default();
    for _ in 0..runs {
        t.thumbs.push(time(|| vitrine_run(&images, false)));
        if vips {
            t.vips_thumbs.push(time(|| vips_thumbnails(&images)));
        }
        t.pyramids.push(time(|| vitrine_run(&pngs, true)));
        if vips {
            t.vips_dz.push(time(|| vips_dzsave(&pngs)));
        }
    }
    let line = |what: &str, secs: &[f64], mp: f64| {
        let s = median(secs);
        println!("{what:<44} {s:>7.2} s  {:>7.1} MP/s", mp / s);
        s
    };
    let a = line("vitrine thumbnails 400+1200 (all)", &t.thumbs, all_mp);
    if vips {
        let b = line(
            "vipsthumbnail 400, 1200 (2 procs, all)",
            &t.vips_thumbs,
            all_mp,
        );
        println!("{:<44} {:>7.2}", "ratio vitrine / vipsthumbnail", a / b);
    }
    let c = line(
        "vitrine pyramid + thumbnails (8-bit PNG)",
        &t.pyramids,
        png_mp,
    );
    if vips {
        let d = line(
            "vips dzsave 254/1 jpg Q80 (2 procs, PNG)",
            &t.vips_dz,
            png_mp,
        );
        println!("{:<44} {:>7.2}", "ratio vitrine / vips dzsave", c / d);
    }
}

#[derive(Default)]
struct Table {
    thumbs: Vec<f64>,
    vips_thumbs: Vec<f64>,
    pyramids: Vec<f64>,
    vips_dz: Vec<f64>,
}

/// Every image file under `content/datasets/*/`.
fn corpus_images(site: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let datasets = site.join("content").join("datasets");
    for dataset in std::fs::read_dir(&datasets)
        .unwrap_or_else(|e| panic!("{}: {e}", datasets.display()))
        .flatten()
    {
        for file in std::fs::read_dir(dataset.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = file.path();
            if p.extension().is_some_and(|e| {
                ["png", "jpg", "jpeg", "tif", "tiff", "webp"].contains(&&*e.to_string_lossy())
            }) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One cold run of the media stage into a fresh cache.
fn vitrine_run(images: &[PathBuf], pyramid: bool) {
    let cache = tempfile::tempdir().expect("tempdir");
    let settings = MediaSettings::new(cache.path().join("media"));
    let jobs: Vec<MediaJob> = images
        .iter()
        .map(|p| MediaJob {
            source: p.clone(),
            pyramid,
        })
        .collect();
    for result in derive_all(&jobs, &settings, false) {
        result.unwrap_or_else(|e| panic!("{e}"));
    }
}

fn vips_thumbnails(images: &[PathBuf]) {
    let out = tempfile::tempdir().expect("tempdir");
    let tasks: Vec<(&PathBuf, u32)> = images.iter().flat_map(|p| [(p, 1200), (p, 400)]).collect();
    pool().install(|| {
        tasks.par_iter().enumerate().for_each(|(i, (src, width))| {
            let target = out.path().join(format!("{i}-{width}.jpg[Q=80]"));
            run(Command::new("vipsthumbnail")
                .arg(src)
                .arg("-s")
                .arg(width.to_string())
                .arg("-o")
                .arg(target));
        })
    });
}

fn vips_dzsave(images: &[PathBuf]) {
    let out = tempfile::tempdir().expect("tempdir");
    pool().install(|| {
        images.par_iter().enumerate().for_each(|(i, src)| {
            let target = out.path().join(format!("{i}"));
            run(Command::new("vips")
                .arg("dzsave")
                .arg(src)
                .arg(target)
                .args([
                    "--tile-size",
                    "254",
                    "--overlap",
                    "1",
                    "--suffix",
                    ".jpg[Q=80]",
                ]));
        })
    });
}

/// Two external processes at a time: one per core, as the peers' users run them.
fn pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool")
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("spawn");
    assert!(status.success(), "{cmd:?} failed");
}

fn which(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
