//! Measures the OME-Zarr writer: a generated EM-like stack (2048 × 2048 × 64, uint8, one
//! uncompressed multi-page TIFF) written as a multiscale volume, cold, then again from the
//! cache, which must rewrite no file. `bench/zarr` runs it under `/usr/bin/time -v` for the
//! peak memory.
//!
//! Usage: `cargo run --release --example zarr -- DIR [WIDTH DEPTH]` (DIR keeps the stack
//! between runs; each run starts with an empty cache in DIR/cache).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use vitrine::media::{derive_volume, MediaSettings, SliceRef, VolumeJob};

#[path = "common/em.rs"]
mod em;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: zarr DIR [WIDTH DEPTH]");
        std::process::exit(2);
    };
    let width: u32 = args.get(1).map_or(2048, |a| a.parse().expect("WIDTH"));
    let depth: usize = args.get(2).map_or(64, |a| a.parse().expect("DEPTH"));
    fs::create_dir_all(&dir).expect("create DIR");
    let stack = dir.join(format!("stack-{width}x{width}x{depth}.tif"));
    if !stack.is_file() {
        eprintln!("generating {}", stack.display());
        write_stack(&stack, width, depth);
    }
    let cache = dir.join("cache");
    let _ = fs::remove_dir_all(&cache);
    let settings = MediaSettings::new(cache);
    let job = VolumeJob {
        slices: (0..depth)
            .map(|page| SliceRef {
                source: stack.clone(),
                page,
                hash: format!("bench-{width}-{page:05}"),
            })
            .collect(),
        voxel_size_nm: Some([4.0, 4.0, 40.0]),
    };
    let input = u64::from(width) * u64::from(width) * depth as u64;

    let started = Instant::now();
    let volume = derive_volume(&job, &settings).expect("write the volume");
    let cold = started.elapsed().as_secs_f64();
    let before = files_of(&volume.dir);

    let started = Instant::now();
    let again = derive_volume(&job, &settings).expect("read the cache");
    let warm = started.elapsed().as_secs_f64();
    let after = files_of(&again.dir);
    let rewritten = before
        .iter()
        .filter(|(path, id)| after.get(*path) != Some(id))
        .count();

    println!(
        "input {:.1} MB ({width}x{width}x{depth} uint8), threads {}",
        input as f64 / 1e6,
        rayon::current_num_threads()
    );
    println!(
        "cold write: {cold:.2} s, {:.0} MB/s of input",
        input as f64 / 1e6 / cold
    );
    println!(
        "output: {} files, {:.1} MB ({:.0} % of input), {} levels, chunk {:?}",
        volume.files,
        volume.bytes as f64 / 1e6,
        100.0 * volume.bytes as f64 / input as f64,
        volume.levels,
        volume.chunk
    );
    println!(
        "no change: {:.1} ms, {rewritten} of {} files rewritten",
        warm * 1e3,
        before.len()
    );
}

/// A multi-page uncompressed TIFF of EM-like slices, each shifted a little from the one above.
fn write_stack(path: &Path, width: u32, depth: usize) {
    let tmp = path.with_extension("tif.tmp");
    let file = std::io::BufWriter::new(fs::File::create(&tmp).expect("create the stack"));
    let mut tiff = tiff::encoder::TiffEncoder::new(file).expect("TIFF encoder");
    for z in 0..depth as u32 {
        let pixels: Vec<u8> = (0..width * width)
            .into_par_iter()
            .map(|i| em::em(i % width + 3 * z, i / width + 2 * z, 7) as u8)
            .collect();
        tiff.write_image::<tiff::encoder::colortype::Gray8>(width, width, &pixels)
            .expect("write a page");
    }
    drop(tiff);
    fs::rename(&tmp, path).expect("finish the stack");
}

/// Every file under `dir` with its inode and modification time.
fn files_of(dir: &Path) -> BTreeMap<PathBuf, (u64, i64, i64)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().expect("stat");
            (e.into_path(), (meta.ino(), meta.mtime(), meta.mtime_nsec()))
        })
        .collect()
}
