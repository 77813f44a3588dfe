//! Times the media stage against libvips on a corpus made by `examples/corpus.rs`.
//!
//! Usage: `cargo run --release --example media_bench -- SITE_DIR [RUNS] [pyramids]`
//! (`pyramids` times only the pyramid rows: vitrine's and `vips dzsave`).
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
        eprintln!("usage: media_bench SITE_DIR [RUNS] [pyramids]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let thumbs = args.get(2).is_none_or(|w| w != "pyramids");
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
    println!("load average at start: {}", load_average());
    println!(
        "corpus: {} images, {all_mp:.0} MP ({} PNG, {png_mp:.0} MP); {} threads; {runs} runs, medians",
        images.len(),
        pngs.len(),
        rayon::current_num_threads()
    );

    let mut t = Table::default();
    // Every run's output stays on disk until all runs are done: on ext4 without a journal (this
    // machine's disk), creating a file first skips every inode of its group deleted in the last
    // 60-360 s, so deleting one run's 1,300 tiles made the next run's creations several times
    // slower. See bench/README.md; the same applies to runs started right after this one.
    let mut kept = Vec::new();
    for _ in 0..runs {
        if thumbs {
            t.thumbs
                .push(time(&mut kept, || vitrine_run(&images, false)));
        }
        if vips && thumbs {
            t.vips_thumbs
                .push(time(&mut kept, || vips_thumbnails(&images)));
        }
        t.pyramids
            .push(time(&mut kept, || vitrine_run(&pngs, true)));
        if vips {
            t.vips_dz.push(time(&mut kept, || vips_dzsave(&pngs)));
        }
    }
    let line = |what: &str, secs: &[f64], mp: f64| {
        let s = median(secs);
        let all: Vec<String> = secs.iter().map(|s| format!("{s:.2}")).collect();
        println!(
            "{what:<44} {s:>7.2} s  {:>7.1} MP/s  (runs: {})",
            mp / s,
            all.join(" ")
        );
        s
    };
    let a = thumbs.then(|| line("vitrine thumbnails 400+1200 (all)", &t.thumbs, all_mp));
    if let (true, Some(a)) = (vips, a) {
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
    println!("load average at end: {}", load_average());
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

/// One cold run of the media stage into a fresh cache, returned so that deleting it is not timed.
fn vitrine_run(images: &[PathBuf], pyramid: bool) -> tempfile::TempDir {
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
    cache
}

fn vips_thumbnails(images: &[PathBuf]) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tempdir");
    let tasks: Vec<(&PathBuf, u32)> = images.iter().flat_map(|p| [(p, 1200), (p, 400)]).collect();
    pool().install(|| {
        tasks.par_iter().enumerate().for_each(|(i, (src, width))| {
            let target = out.path().join(format!("{i}-{width}.jpg[Q=80]"));
            run(Command::new("vipsthumbnail")
                .env("VIPS_WARNING", "0")
                .arg(src)
                .arg("-s")
                .arg(width.to_string())
                .arg("-o")
                .arg(target));
        })
    });
    out
}

fn vips_dzsave(images: &[PathBuf]) -> tempfile::TempDir {
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
    out
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

/// Seconds `f` took; the output folder it returns is kept in `kept` until the end (see `main`).
fn time(kept: &mut Vec<tempfile::TempDir>, f: impl FnOnce() -> tempfile::TempDir) -> f64 {
    let start = Instant::now();
    let output = f();
    let secs = start.elapsed().as_secs_f64();
    kept.push(output);
    secs
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The 1-, 5- and 15-minute load averages, which every figure on a shared machine needs beside it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
