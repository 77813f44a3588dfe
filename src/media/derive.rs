//! One image to its cached thumbnails and pyramid, with cheap change detection.
//!
//! Cache layout under `MediaSettings::cache_dir`:
//! - `<hash16>-<settings>/`: `thumb-<w>.<ext>` (and `thumb-<w>.webp` beside a JPEG one with
//!   `images.format: webp`), `tiles.dzi`, `tiles_files/…`, for a gray
//!   image wider than 8 bits `raw.dzi` and `raw_files/…` (its lossless pyramid), `derived.json`
//!   (written last, inside a temporary folder that is renamed into place: an entry either is
//!   complete or does not exist);
//! - `index/<pathhash16>.json`: the source's path, size, mtime and content hash, so an unchanged
//!   file is recognised from one `stat` without reading or hashing it.
//!
//! `MediaSettings::read_also` names a second cache of the same layout that is looked in, never
//! written (`vitrine check`).

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::batch::PixelBudget;
use super::encode::{self, Format, WebpSettings, JPEG_QUALITY};
use super::pixels::{self, Raster};
use super::{
    dzi, probe, raw, Derived, Display, ImageInfo, MediaError, MediaSettings, Pyramid, Rendition,
};

/// Bumped whenever derived bytes would change for the same source and settings (2: every
/// page of a multi-page TIFF is derived; version 1 entries hold the first page only; 3: the
/// display range's facts and the lossless pyramid, which version 2 entries lack).
const CACHE_VERSION: u32 = 3;

/// Name of the manifest inside a cache entry; its presence marks the entry complete.
const MANIFEST: &str = "derived.json";

/// Derives thumbnails (and a pyramid when `want_pyramid` and `settings.pyramids`) for `src`,
/// reusing the cache.
///
/// The image is decoded at most once for all outputs, and not at all when the cache has them.
pub fn derive(
    src: &Path,
    want_pyramid: bool,
    settings: &MediaSettings,
) -> Result<Derived, MediaError> {
    derive_within(src, want_pyramid, settings, None)
}

/// [`derive`], holding a share of `budget` for the decoded pixels while the image is in memory.
pub(crate) fn derive_within(
    src: &Path,
    want_pyramid: bool,
    settings: &MediaSettings,
    budget: Option<&PixelBudget>,
) -> Result<Derived, MediaError> {
    let read_err = |source| MediaError::Read {
        path: src.to_owned(),
        source,
    };
    let want_pyramid = want_pyramid && settings.pyramids;
    let meta = fs::metadata(src).map_err(read_err)?;
    let stamp = Stamp::of(src, &meta);
    let fingerprint = settings_fingerprint(settings, want_pyramid);
    let index_file = index_path(&settings.cache_dir, src);

    for cache in caches(settings) {
        let Some(hash) = stamp.known_hash(&index_path(cache, src)) else {
            continue;
        };
        if let Some(derived) = load_entry(&entry_dir(cache, &hash, &fingerprint), &hash) {
            return within_limit(src, derived, settings.max_pixels);
        }
    }
    let bytes = fs::read(src).map_err(read_err)?;
    let hash = blake3::hash(&bytes).to_hex()[..16].to_string();
    let found = caches(settings)
        .find_map(|cache| load_entry(&entry_dir(cache, &hash, &fingerprint), &hash));
    let derived = match found {
        Some(derived) => within_limit(src, derived, settings.max_pixels)?,
        None => {
            let dir = entry_dir(&settings.cache_dir, &hash, &fingerprint);
            let info = probe::info(src, Cursor::new(&bytes), settings.max_pixels)?;
            let _permit = budget.map(|b| b.acquire(u64::from(info.width) * u64::from(info.height)));
            produce(src, &bytes, want_pyramid, settings, &hash, &dir)?
        }
    };
    // The index only saves work next time; failing to write it must not fail the build.
    let _ = stamp.record(&index_file, &hash);
    Ok(derived)
}

/// Decodes each page once and writes every output into a fresh cache entry: the first page at
/// its root, page `k` of a multi-page TIFF in `page-<k>/`, one page in memory at a time.
fn produce(
    src: &Path,
    bytes: &[u8],
    want_pyramid: bool,
    settings: &MediaSettings,
    hash: &str,
    dir: &Path,
) -> Result<Derived, MediaError> {
    let decoded = pixels::decode(src, bytes, settings.max_pixels, 0)?;
    let cache_err = |(path, source): (PathBuf, std::io::Error)| MediaError::Cache { path, source };
    fs::create_dir_all(&settings.cache_dir)
        .map_err(|e| cache_err((settings.cache_dir.clone(), e)))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(&settings.cache_dir)
        .map_err(|e| cache_err((settings.cache_dir.clone(), e)))?;
    let stack = decoded.stack;
    let mut manifest =
        write_page(tmp.path(), &decoded, want_pyramid, settings).map_err(cache_err)?;
    drop(decoded);
    for page in 1..stack.pages {
        let page_dir = tmp.path().join(format!("page-{page}"));
        fs::create_dir(&page_dir).map_err(|e| cache_err((page_dir.clone(), e)))?;
        let decoded = pixels::decode(src, bytes, settings.max_pixels, page)?;
        manifest
            .pages
            .push(write_page(&page_dir, &decoded, want_pyramid, settings).map_err(cache_err)?);
    }
    manifest.voxel_size_nm = stack.voxel_size_nm;
    let manifest_path = tmp.path().join(MANIFEST);
    let json = serde_json::to_vec(&manifest).expect("manifest serialises");
    fs::write(&manifest_path, json).map_err(|e| cache_err((manifest_path, e)))?;
    let tmp = tmp.keep();
    if let Err(e) = fs::rename(&tmp, dir) {
        let _ = fs::remove_dir_all(&tmp);
        // Another build finished the same entry first; theirs is as good as ours.
        if !dir.join(MANIFEST).is_file() {
            return Err(cache_err((dir.to_owned(), e)));
        }
    }
    load_entry(dir, hash).ok_or_else(|| {
        cache_err((
            dir.join(MANIFEST),
            std::io::Error::other("entry unreadable after writing"),
        ))
    })
}

/// Writes one page's thumbnails (and pyramid) into `dir`, returning its manifest.
fn write_page(
    dir: &Path,
    decoded: &pixels::Decoded,
    want_pyramid: bool,
    settings: &MediaSettings,
) -> Result<Manifest, (PathBuf, std::io::Error)> {
    let lossy = if settings.webp {
        Format::Webp
    } else {
        Format::Jpeg
    };
    let format = Format::for_content(&decoded.raster, decoded.few_values, lossy);
    // Thumbnails keep a JPEG fallback for browsers without WebP; tiles need none (see docs/viewer.md).
    let thumb_format = if format == Format::Webp {
        Format::Jpeg
    } else {
        format
    };
    let raster = &decoded.raster;
    let widths = thumbnail_plan(&settings.thumbnail_widths, raster.width);
    let (thumbs, (levels, raw_levels)) = rayon::join(
        || {
            let webp = (format == Format::Webp)
                .then(|| write_thumbnails(dir, raster, &widths, Format::Webp))
                .transpose()?;
            Ok((
                write_thumbnails(dir, raster, &widths, thumb_format)?,
                webp.unwrap_or_default(),
            ))
        },
        || {
            let levels = want_pyramid
                .then(|| dzi::write(dir, raster, format))
                .transpose();
            let raw = decoded.raw.as_ref().filter(|_| want_pyramid);
            (levels, raw.map(|r| raw::write(dir, r)).transpose())
        },
    );
    let (thumbnails, webp_thumbnails) = thumbs?;
    Ok(Manifest {
        width: decoded.info.width,
        height: decoded.info.height,
        format: decoded.info.format.into(),
        bits: decoded.info.bits,
        channels: decoded.info.channels,
        output: format.extension().into(),
        thumbnails,
        webp_thumbnails,
        pyramid_levels: levels?,
        display: decoded.display.clone(),
        raw_levels: raw_levels?,
        pages: Vec::new(),
        voxel_size_nm: None,
    })
}

/// Widths to make, largest first: each configured width the source reaches, and the source's own
/// width when it is narrower than the largest configured one (so the viewer fallback and `srcset`
/// always have the sharpest available image, and a small source still gets one rendition).
fn thumbnail_plan(configured: &[u32], source_width: u32) -> Vec<u32> {
    let mut widths: Vec<u32> = configured
        .iter()
        .copied()
        .filter(|&w| w > 0 && w <= source_width)
        .collect();
    if configured.iter().any(|&w| w > source_width) {
        widths.push(source_width);
    }
    widths.sort_unstable_by(|a, b| b.cmp(a));
    widths.dedup();
    widths
}

/// Writes `thumb-<w>.<ext>` for each width (largest first, each resized from the one before).
fn write_thumbnails(
    dir: &Path,
    source: &Raster,
    widths: &[u32],
    format: Format,
) -> Result<Vec<ManifestRendition>, (PathBuf, std::io::Error)> {
    let mut out = Vec::with_capacity(widths.len());
    let mut previous: Option<Raster> = None;
    for &width in widths {
        let from = previous.as_ref().unwrap_or(source);
        let resized = (width != from.width).then(|| {
            encode::resize(
                from,
                width,
                encode::scaled_height(source.width, source.height, width),
            )
        });
        let image = resized.as_ref().unwrap_or(from);
        let name = format!("thumb-{width}.{}", format.extension());
        let path = dir.join(&name);
        let bytes = format
            .encode(image.width, image.height, image.channels, &image.data)
            .map_err(|e| (path.clone(), std::io::Error::other(e)))?;
        fs::write(&path, bytes).map_err(|e| (path, e))?;
        out.push(ManifestRendition {
            name,
            width: image.width,
            height: image.height,
        });
        if resized.is_some() {
            previous = resized;
        }
    }
    out.reverse();
    Ok(out)
}

/// What a cache entry holds, enough to rebuild [`Derived`] without touching an image.
#[derive(Serialize, Deserialize)]
struct Manifest {
    width: u32,
    height: u32,
    format: String,
    bits: u8,
    channels: u8,
    /// Extension of the tiles: `jpg`, `png` or `webp` (thumbnails name their own).
    output: String,
    /// Ascending by width.
    thumbnails: Vec<ManifestRendition>,
    /// The WebP twins of `thumbnails`, with `images.format: webp`.
    #[serde(default)]
    webp_thumbnails: Vec<ManifestRendition>,
    pyramid_levels: Option<u32>,
    display: Option<Display>,
    /// Levels of the lossless pyramid (`raw.dzi`), when there is one.
    raw_levels: Option<u32>,
    /// Pages 2… of a multi-page TIFF, each in `page-<k>/` (k from 1).
    #[serde(default)]
    pages: Vec<Manifest>,
    /// The voxel size the file's metadata states.
    #[serde(default)]
    voxel_size_nm: Option<[f64; 3]>,
}

#[derive(Serialize, Deserialize)]
struct ManifestRendition {
    name: String,
    width: u32,
    height: u32,
}

/// Reads a complete cache entry, or `None` when it is missing, partial or from another version.
fn load_entry(dir: &Path, hash: &str) -> Option<Derived> {
    let manifest: Manifest = serde_json::from_slice(&fs::read(dir.join(MANIFEST)).ok()?).ok()?;
    from_manifest(manifest, dir, hash)
}

/// The [`Derived`] a page's manifest describes, its files in `dir`.
fn from_manifest(manifest: Manifest, dir: &Path, hash: &str) -> Option<Derived> {
    let format = Format::of_extension(&manifest.output)?;
    let source_format = ["png", "jpeg", "tiff", "webp"]
        .into_iter()
        .find(|f| *f == manifest.format)?;
    let renditions = |list: Vec<ManifestRendition>| {
        list.into_iter()
            .map(|t| {
                let extension = t.name.rsplit_once('.')?.1;
                Some(Rendition {
                    file: dir.join(&t.name),
                    mime: Format::of_extension(extension)?.mime(),
                    name: t.name,
                    width: t.width,
                    height: t.height,
                })
            })
            .collect::<Option<Vec<_>>>()
    };
    let thumbnails = renditions(manifest.thumbnails)?;
    let webp_thumbnails = renditions(manifest.webp_thumbnails)?;
    let pyramid = manifest.pyramid_levels.map(|levels| Pyramid {
        dir: dir.to_owned(),
        width: manifest.width,
        height: manifest.height,
        tile_size: dzi::TILE_SIZE,
        overlap: dzi::OVERLAP,
        format: format.extension(),
        levels,
    });
    let raw_pyramid = manifest.raw_levels.map(|levels| Pyramid {
        dir: dir.to_owned(),
        width: manifest.width,
        height: manifest.height,
        tile_size: dzi::TILE_SIZE,
        overlap: dzi::OVERLAP,
        format: Format::Png.extension(),
        levels,
    });
    let pages = manifest
        .pages
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            let k = i + 1;
            let page_hash = &blake3::hash(format!("{hash}/page-{k}").as_bytes()).to_hex()[..16];
            from_manifest(page, &dir.join(format!("page-{k}")), page_hash)
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Derived {
        hash: hash.to_owned(),
        info: ImageInfo {
            width: manifest.width,
            height: manifest.height,
            format: source_format,
            bits: manifest.bits,
            channels: manifest.channels,
        },
        thumbnails,
        webp_thumbnails,
        pyramid,
        display: manifest.display,
        raw_pyramid,
        pages,
        voxel_size_nm: manifest.voxel_size_nm,
    })
}

/// Applies the pixel limit to a cached result too, so lowering the limit is never bypassed.
fn within_limit(src: &Path, derived: Derived, max_pixels: u64) -> Result<Derived, MediaError> {
    MediaError::check_pixels(src, derived.info.width, derived.info.height, max_pixels)?;
    Ok(derived)
}

/// The cache entry folder for a content hash under given settings, in the cache `cache`.
fn entry_dir(cache: &Path, hash: &str, fingerprint: &str) -> PathBuf {
    cache.join(format!("{hash}-{fingerprint}"))
}

/// The caches looked in, the written one first.
fn caches(settings: &MediaSettings) -> impl Iterator<Item = &Path> {
    std::iter::once(settings.cache_dir.as_path()).chain(settings.read_also.as_deref())
}

/// 8 hex digits naming everything besides the source bytes that shapes the outputs.
fn settings_fingerprint(settings: &MediaSettings, want_pyramid: bool) -> String {
    fingerprint_with(settings, want_pyramid, encode::JPEG_ENCODER)
}

/// [`settings_fingerprint`] for a given JPEG encoder (`None`: jpeg-encoder, as before it was named).
fn fingerprint_with(
    settings: &MediaSettings,
    want_pyramid: bool,
    jpeg_encoder: Option<&str>,
) -> String {
    let mut key = format!(
        "v{CACHE_VERSION} widths={:?} q={JPEG_QUALITY} pyramid={want_pyramid} tile={}+{}",
        settings.thumbnail_widths,
        dzi::TILE_SIZE,
        dzi::OVERLAP
    );
    // Another JPEG encoder writes other bytes: its entries must not be mixed with these.
    if let Some(encoder) = jpeg_encoder {
        key.push_str(" jpeg=");
        key.push_str(encoder);
    }
    // WebP entries hold other tiles and more thumbnails; JPEG sites keep their names.
    if settings.webp {
        key.push_str(" webp=");
        key.push_str(&WebpSettings::SITE.fingerprint());
    }
    blake3::hash(key.as_bytes()).to_hex()[..8].to_string()
}

/// The index file remembering one source path's last known hash.
pub(super) fn index_path(cache_dir: &Path, src: &Path) -> PathBuf {
    let key = blake3::hash(src.as_os_str().as_encoded_bytes()).to_hex();
    cache_dir.join("index").join(format!("{}.json", &key[..16]))
}

/// A file's identity for change detection: path, size and modification time. The one stamp
/// vitrine uses to tell whether a file changed (the media index, the build's inputs, linked
/// output files, the preview's ETags).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stamp {
    path: PathBuf,
    size: u64,
    /// Nanoseconds since the Unix epoch (u64 lasts until 2554); 0 when the platform has none.
    mtime_ns: u64,
}

/// One index file: a [`Stamp`] and the content hash the file had then.
#[derive(Serialize, Deserialize)]
struct IndexEntry {
    stamp: Stamp,
    hash: String,
}

impl std::fmt::Display for Stamp {
    /// `path|size|mtime_ns`, the form digests and records take.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}|{}|{}", self.path.display(), self.size, self.mtime_ns)
    }
}

impl Stamp {
    /// The stamp of the file at `path`, whose metadata is `meta`.
    pub fn of(path: &Path, meta: &fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0));
        Stamp {
            path: path.to_owned(),
            size: meta.len(),
            mtime_ns,
        }
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its modification time in nanoseconds since the Unix epoch (0 when unknown).
    pub fn mtime_ns(&self) -> u64 {
        self.mtime_ns
    }

    /// The hash recorded for this exact path, size and mtime, if any.
    ///
    /// Without a modification time a stamp proves nothing, so the file is hashed again.
    pub(super) fn known_hash(&self, index_file: &Path) -> Option<String> {
        let entry: IndexEntry = serde_json::from_slice(&fs::read(index_file).ok()?).ok()?;
        (entry.stamp == *self && self.mtime_ns != 0).then_some(entry.hash)
    }

    /// Remembers the hash for this stamp (atomically: a reader sees the old or the new entry).
    pub(super) fn record(self, index_file: &Path, hash: &str) -> std::io::Result<()> {
        let dir = index_file.parent().expect("index files live in a folder");
        fs::create_dir_all(dir)?;
        let entry = IndexEntry {
            stamp: self,
            hash: hash.to_owned(),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer(&mut tmp, &entry)?;
        tmp.persist(index_file).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_never_upscales_and_covers_small_sources() {
        assert_eq!(thumbnail_plan(&[400, 1200], 2048), vec![1200, 400]);
        assert_eq!(thumbnail_plan(&[400, 1200], 1200), vec![1200, 400]);
        assert_eq!(thumbnail_plan(&[400, 1200], 1000), vec![1000, 400]);
        assert_eq!(thumbnail_plan(&[400, 1200], 300), vec![300]);
    }

    #[test]
    fn fingerprint_changes_with_what_shapes_outputs() {
        let a = MediaSettings::new("/tmp/c".into());
        let mut b = a.clone();
        b.thumbnail_widths = vec![320];
        assert_ne!(
            settings_fingerprint(&a, false),
            settings_fingerprint(&b, false)
        );
        assert_ne!(
            settings_fingerprint(&a, false),
            settings_fingerprint(&a, true)
        );
        let mut webp = a.clone();
        webp.webp = true;
        assert_ne!(
            settings_fingerprint(&a, true),
            settings_fingerprint(&webp, true)
        );
    }

    #[test]
    fn only_another_jpeg_encoder_changes_the_fingerprint() {
        // Default settings' fingerprints (cache version 3, since images carry their display
        // range's facts and lossless pyramid), computed without the encoder: builds with jpeg-encoder keep these names;
        // libjpeg-turbo's bytes differ, so its entries get names of their own.
        let s = MediaSettings::new("/tmp/c".into());
        assert_eq!(fingerprint_with(&s, false, None), "4818fd70");
        assert_eq!(fingerprint_with(&s, true, None), "a7f2277f");
        let turbo = fingerprint_with(&s, true, Some("libjpeg-turbo"));
        assert_ne!(turbo, "a7f2277f");
        assert_eq!(
            settings_fingerprint(&s, true),
            fingerprint_with(&s, true, encode::JPEG_ENCODER)
        );
    }

    #[test]
    fn index_round_trips_and_spots_changes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.png");
        fs::write(&src, b"pixels").unwrap();
        let index = index_path(dir.path(), &src);
        let stamp = || Stamp::of(&src, &fs::metadata(&src).unwrap());
        assert_eq!(stamp().known_hash(&index), None);
        stamp().record(&index, "0123456789abcdef").unwrap();
        assert_eq!(
            stamp().known_hash(&index).as_deref(),
            Some("0123456789abcdef")
        );
        fs::write(&src, b"other pixels").unwrap();
        assert_eq!(stamp().known_hash(&index), None, "size changed");
    }
}
