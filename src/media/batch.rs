//! Many images at once: rayon across images, a budget on decoded pixels, a progress bar.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::derive::derive_within;
use super::{Derived, MediaError, MediaSettings};

/// Decoded pixels allowed in memory across all images at once (about 0.5 GB at 4 bytes a pixel
/// in the worst layouts, far less for gray); a single larger image still runs, alone.
const PIXEL_BUDGET: u64 = 128_000_000;

/// Cache temporaries older than this are left over from a crashed build and are removed.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// One image to derive: its path and whether the viewer wants a pyramid of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaJob {
    /// The source image (absolute, inside its dataset folder).
    pub source: PathBuf,
    /// Whether to build a deep-zoom pyramid (also subject to `MediaSettings::pyramids`).
    pub pyramid: bool,
}

/// Derives every job in parallel, returning one result per job in the same order.
///
/// Jobs naming the same image twice are done once. With `progress`, a bar is drawn on stderr
/// only when stderr is a terminal, so logs and CI output stay clean.
pub fn derive_all(
    jobs: &[MediaJob],
    settings: &MediaSettings,
    progress: bool,
) -> Vec<Result<Derived, MediaError>> {
    remove_stale_temporaries(settings);
    let mut unique: Vec<&MediaJob> = Vec::with_capacity(jobs.len());
    let mut slot: HashMap<&MediaJob, usize> = HashMap::with_capacity(jobs.len());
    for job in jobs {
        slot.entry(job).or_insert_with(|| {
            unique.push(job);
            unique.len() - 1
        });
    }
    let bar = progress_bar(unique.len() as u64, progress);
    let budget = PixelBudget::new(PIXEL_BUDGET);
    let results: Vec<Result<Derived, MediaError>> = unique
        .par_iter()
        .with_max_len(1)
        .map(|job| {
            let result = derive_within(&job.source, job.pyramid, settings, Some(&budget));
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    jobs.iter()
        .map(|job| match &results[slot[job]] {
            Ok(derived) => Ok(derived.clone()),
            Err(err) => Err(err.duplicate()),
        })
        .collect()
}

impl MediaError {
    /// A copy for the second job naming the same image (io errors are not `Clone`).
    fn duplicate(&self) -> MediaError {
        let io = |e: &std::io::Error| std::io::Error::new(e.kind(), e.to_string());
        match self {
            MediaError::Read { path, source } => MediaError::Read {
                path: path.clone(),
                source: io(source),
            },
            MediaError::TooLarge {
                path,
                width,
                height,
                limit,
            } => MediaError::TooLarge {
                path: path.clone(),
                width: *width,
                height: *height,
                limit: *limit,
            },
            MediaError::Undecodable { path, reason } => MediaError::Undecodable {
                path: path.clone(),
                reason: reason.clone(),
            },
            MediaError::Unsupported { path, reason } => MediaError::Unsupported {
                path: path.clone(),
                reason: reason.clone(),
            },
            MediaError::Cache { path, source } => MediaError::Cache {
                path: path.clone(),
                source: io(source),
            },
        }
    }
}

fn progress_bar(len: u64, wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{prefix:>8} [{bar:30}] {pos}/{len} images, {per_sec}, {eta} left",
    )
    .expect("static template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix("media");
    bar
}

/// Deletes `.tmp-*` folders a crashed build left in the cache; young ones may be another build's.
fn remove_stale_temporaries(settings: &MediaSettings) {
    let Ok(entries) = std::fs::read_dir(&settings.cache_dir) else {
        return;
    };
    let now = SystemTime::now();
    // Names first: a warm cache holds thousands of entries, and only temporaries need a `stat`.
    let temporaries = entries
        .flatten()
        .filter(|e| e.file_name().as_encoded_bytes().starts_with(b".tmp-"));
    for entry in temporaries {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_TEMP);
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A counting semaphore over decoded pixels, so parallel jobs cannot together exhaust memory.
pub(crate) struct PixelBudget {
    capacity: u64,
    in_use: Mutex<u64>,
    freed: Condvar,
}

thread_local! {
    /// Permits the current thread holds; rayon may start another job on a thread that is waiting
    /// inside its own job, and that nested job must not wait for a permit its own thread holds.
    static HELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl PixelBudget {
    pub fn new(capacity: u64) -> PixelBudget {
        PixelBudget {
            capacity,
            in_use: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `pixels` fit in the budget (an image larger than the whole budget waits until
    /// nothing else is decoded), and holds them until the permit is dropped.
    pub fn acquire(&self, pixels: u64) -> Permit<'_> {
        let pixels = pixels.min(self.capacity);
        let mut in_use = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        if HELD.get() == 0 {
            while *in_use > 0 && *in_use + pixels > self.capacity {
                in_use = self.freed.wait(in_use).unwrap_or_else(|e| e.into_inner());
            }
        }
        *in_use += pixels;
        HELD.set(HELD.get() + 1);
        Permit {
            budget: self,
            pixels,
        }
    }
}

/// Pixels held in a [`PixelBudget`] until dropped.
pub(crate) struct Permit<'a> {
    budget: &'a PixelBudget,
    pixels: u64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut in_use = self.budget.in_use.lock().unwrap_or_else(|e| e.into_inner());
        *in_use -= self.pixels;
        HELD.set(HELD.get() - 1);
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_blocks_until_pixels_are_freed() {
        let budget = PixelBudget::new(100);
        let first = budget.acquire(80);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let start = std::time::Instant::now();
                let _second = budget.acquire(50);
                start.elapsed()
            });
            std::thread::sleep(Duration::from_millis(100));
            drop(first);
            assert!(waiter.join().unwrap() >= Duration::from_millis(90));
        });
        assert_eq!(*budget.in_use.lock().unwrap(), 0);
    }

    #[test]
    fn an_image_over_the_whole_budget_still_runs() {
        let budget = PixelBudget::new(100);
        let permit = budget.acquire(1_000);
        assert_eq!(permit.pixels, 100);
    }
}
