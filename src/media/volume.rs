//! A z-stack as a multiscale OME-Zarr image, cached by the content hash of its slices.
//!
//! Format: OME-NGFF 0.5, which is Zarr v3 (one `zarr.json` a node). It is
//! the current version of the spec, and the current releases of the readers a reviewer opens a
//! volume with read it: Neuroglancer (`zarr3://` and `zarr://` sources with OME multiscales),
//! napari through ome-zarr-py, zarr-python 3, and webKnossos, which streams Zarr v3 (its older
//! releases and documentation know NGFF 0.4 only). NGFF 0.4 (Zarr v2) would reach those older
//! releases at the cost of writing a version the spec has moved on from; the choice is this one
//! constant and the array builder's format.
//!
//! Layout: axes `z, y, x` (`c, z, y, x` for RGB), typed `space` with unit `nanometer` when the
//! voxel size is known (else no unit: the scale is then in voxels); level 0 holds the samples
//! as the file has them (8- or 16-bit, oriented like the 2D view, alpha dropped), each further
//! level halves y and x (and z while the voxels are not flatter than wide) by the mean of each
//! 2×2(×2) block, down to one chunk across. Chunks are zstd-compressed (level 3: ~2× smaller
//! than raw on EM data and far faster than gzip, which kept the writer under its target), and
//! each chunk holds 256 Ki voxels: 64³ when 64 slices fit in [`SLAB_BYTES`], flatter and wider
//! when a slice is large, so memory stays bounded whatever the stack.
//!
//! Writing streams slices: a level keeps one chunk's depth of slices, writes them whole
//! (chunk-aligned, so no chunk is read back) and hands their downsampled copies on to the next
//! level. Chunks are named with Zarr v3's `v2` key encoding and a `.` separator
//! (`<level>/<z>.<y>.<x>`, `<level>/<c>.<z>.<y>.<x>` for RGB), not the default `c/<z>/<y>/<x>`:
//! every file vitrine writes under `private/` has a `.` in its last segment, and the gates take a
//! last segment without one for a folder (they redirect it to its trailing slash), so a private
//! volume's chunks are served through the gate like its pages. Cache entries are `volume-<hash16>-<settings>/`, `volume.ome.zarr/` and `volume.json`
//! (written last, in a temporary folder renamed into place), so an unchanged stack is never
//! decoded or written again and its chunk files keep their inodes from build to build.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::DynamicImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use zarrs::array::chunk_key_encoding::V2ChunkKeyEncoding;
use zarrs::array::codec::ZstdCodec;
use zarrs::array::{Array, ArrayBuilder, DataType, Element, FillValue};
use zarrs::array_subset::ArraySubset;
use zarrs::filesystem::FilesystemStore;
use zarrs::group::GroupBuilder;

use super::{pixels, MediaError, MediaSettings};

/// Bumped whenever the written bytes would change for the same slices.
const VOLUME_VERSION: u32 = 2;

/// The OME-NGFF version written (see the module head for why this one).
pub const NGFF_VERSION: &str = "0.5";

/// The folder name of the image inside a cache entry and in the output.
pub const ZARR_DIR: &str = "volume.ome.zarr";

/// Name of the manifest of a cache entry; its presence marks the entry complete.
const MANIFEST: &str = "volume.json";

/// Voxels in one chunk: 64³, 16 × 128², 4 × 256² or 1 × 512².
const CHUNK_VOXELS: u64 = 64 * 64 * 64;

/// Decoded samples of one chunk's depth of full-resolution slices held at once, at most (a
/// slice larger than this is written one slice deep).
const SLAB_BYTES: u64 = 256 << 20;

/// zstd level of every chunk.
const ZSTD_LEVEL: i32 = 3;

/// One slice of a stack: a file and its page (0 but for multi-page TIFFs), with the hash media
/// gave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SliceRef {
    /// The image file.
    pub source: PathBuf,
    /// Which page of it.
    pub page: usize,
    /// Its [`super::Derived::hash`].
    pub hash: String,
}

/// A stack to write as a volume: its slices top to bottom and its voxel size.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeJob {
    /// Two or more slices of one size and sample layout.
    pub slices: Vec<SliceRef>,
    /// `[x, y, z]` in nm, when known; the metadata's scale.
    pub voxel_size_nm: Option<[f64; 3]>,
}

/// A written OME-Zarr image in the media cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// 16 hex digits naming the volume's content (slices and voxel size): its output folder.
    pub hash: String,
    /// The `volume.ome.zarr` folder in the cache.
    pub dir: PathBuf,
    /// Full-resolution `[z, y, x]`.
    pub shape: [u64; 3],
    /// 1 (gray) or 3 (RGB, a leading `c` axis).
    pub channels: u8,
    /// `uint8` or `uint16`.
    pub data_type: String,
    /// Resolution levels, `0` the full one.
    pub levels: usize,
    /// Chunk `[z, y, x]`.
    pub chunk: [u64; 3],
    /// The scale of level 0 as the metadata states it, `[x, y, z]` (nm, or voxels when the
    /// voxel size is unknown).
    pub voxel_size_nm: Option<[f64; 3]>,
    /// Files in the folder (chunks that are all zeros are not written).
    pub files: usize,
    /// Bytes of those files.
    pub bytes: u64,
    /// The label images in its `labels/` group (public segmentation layers), by layer id.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// What the samples are: gray or RGB, 8 or 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Gray8,
    Gray16,
    Rgb8,
    Rgb16,
}

impl Layout {
    /// The layout a decoded page is written in (alpha dropped, float TIFFs are 16-bit already).
    fn of(image: &DynamicImage) -> Layout {
        match image {
            DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) => Layout::Gray8,
            DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) => Layout::Gray16,
            DynamicImage::ImageRgb16(_)
            | DynamicImage::ImageRgba16(_)
            | DynamicImage::ImageRgb32F(_)
            | DynamicImage::ImageRgba32F(_) => Layout::Rgb16,
            _ => Layout::Rgb8,
        }
    }

    fn channels(self) -> u8 {
        match self {
            Layout::Gray8 | Layout::Gray16 => 1,
            Layout::Rgb8 | Layout::Rgb16 => 3,
        }
    }

    fn bytes_per_sample(self) -> u64 {
        match self {
            Layout::Gray8 | Layout::Rgb8 => 1,
            Layout::Gray16 | Layout::Rgb16 => 2,
        }
    }

    fn data_type(self) -> &'static str {
        match self {
            Layout::Gray8 | Layout::Rgb8 => "uint8",
            Layout::Gray16 | Layout::Rgb16 => "uint16",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Layout::Gray8 => "8-bit gray",
            Layout::Gray16 => "16-bit gray",
            Layout::Rgb8 => "8-bit RGB",
            Layout::Rgb16 => "16-bit RGB",
        }
    }
}

/// The volume of `job`, from the cache or written now. Errors name the slice at fault; a
/// stack whose slices differ in size or layout is [`MediaError::Unsupported`].
pub fn derive_volume(job: &VolumeJob, settings: &MediaSettings) -> Result<Volume, MediaError> {
    let hash = volume_hash(job);
    let entry = settings
        .cache_dir
        .join(format!("volume-{hash}-{}", settings_fingerprint()));
    let mut volume = cache_entry(&settings.cache_dir, &entry, |tmp| {
        let mut volume = write(job, settings, &tmp.join(ZARR_DIR))?;
        volume.hash = hash;
        Ok(volume)
    })?;
    volume.dir = entry.join(ZARR_DIR);
    Ok(volume)
}

/// The cache entry `entry` (a folder in `cache_dir`): its manifest when complete, else made
/// now by `make` in a temporary folder beside it, the manifest written last and the folder
/// renamed into place, so a build that stops half-way leaves no entry that looks complete.
pub(super) fn cache_entry<T: Serialize + serde::de::DeserializeOwned>(
    cache_dir: &Path,
    entry: &Path,
    make: impl FnOnce(&Path) -> Result<T, MediaError>,
) -> Result<T, MediaError> {
    let load =
        || -> Option<T> { serde_json::from_slice(&fs::read(entry.join(MANIFEST)).ok()?).ok() };
    if let Some(made) = load() {
        return Ok(made);
    }
    let cache_err = |path: &Path, source| MediaError::Cache {
        path: path.to_owned(),
        source,
    };
    fs::create_dir_all(cache_dir).map_err(|e| cache_err(cache_dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(cache_dir)
        .map_err(|e| cache_err(cache_dir, e))?;
    let made = make(tmp.path())?;
    let manifest = tmp.path().join(MANIFEST);
    let json = serde_json::to_vec(&made).expect("a manifest serialises");
    fs::write(&manifest, json).map_err(|e| cache_err(&manifest, e))?;
    let tmp = tmp.keep();
    if let Err(e) = fs::rename(&tmp, entry) {
        let _ = fs::remove_dir_all(&tmp);
        // Another build finished the same entry first; theirs is as good as ours.
        if !entry.join(MANIFEST).is_file() {
            return Err(cache_err(entry, e));
        }
    }
    load().ok_or_else(|| {
        cache_err(
            &entry.join(MANIFEST),
            std::io::Error::other("entry unreadable after writing"),
        )
    })
}

/// The content hash of a volume: its slices' hashes in order and its voxel size.
fn volume_hash(job: &VolumeJob) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"volume");
    for slice in &job.slices {
        hasher.update(slice.hash.as_bytes());
        hasher.update(b"/");
    }
    hasher.update(format!("{:?}", job.voxel_size_nm).as_bytes());
    hasher.finalize().to_hex()[..16].to_string()
}

/// 8 hex digits naming how volumes are written, beside the content hash.
pub(super) fn settings_fingerprint() -> String {
    let key = format!(
        "v{VOLUME_VERSION} ngff={NGFF_VERSION} chunk={CHUNK_VOXELS} slab={SLAB_BYTES} zstd={ZSTD_LEVEL}"
    );
    blake3::hash(key.as_bytes()).to_hex()[..8].to_string()
}

/// One decoded slice: planar samples (`c`, then `y`, then `x`).
enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// Decodes slice `index` of `job` into `layout` (`None`: the first slice sets it), checking it
/// against the stack's size.
fn read_slice(
    job: &VolumeJob,
    index: usize,
    settings: &MediaSettings,
    expect: Option<(u32, u32, Layout)>,
) -> Result<(u32, u32, Layout, Samples), MediaError> {
    let slice = &job.slices[index];
    let file = fs::File::open(&slice.source).map_err(|source| MediaError::Read {
        path: slice.source.clone(),
        source,
    })?;
    let image = pixels::decode_samples(
        &slice.source,
        BufReader::new(file),
        settings.max_pixels,
        slice.page,
    )?
    .image;
    let (width, height, layout) = (image.width(), image.height(), Layout::of(&image));
    if let Some((w, h, l)) = expect {
        if (w, h, l) != (width, height, layout) {
            let page = match slice.page {
                0 => String::new(),
                p => format!(" (page {})", p + 1),
            };
            return Err(MediaError::Unsupported {
                path: slice.source.clone(),
                reason: format!(
                    "slice {}{page} is a {width} × {height} {} image but slice 1 is {w} × {h} {}, \
                     so the stack is not written as an OME-Zarr volume; give every slice the \
                     first one's size and sample type",
                    index + 1,
                    layout.describe(),
                    l.describe()
                ),
            });
        }
    }
    let samples = match layout {
        Layout::Gray8 => Samples::U8(image.into_luma8().into_raw()),
        Layout::Gray16 => Samples::U16(image.into_luma16().into_raw()),
        Layout::Rgb8 => Samples::U8(planar(&image.into_rgb8().into_raw(), 3)),
        Layout::Rgb16 => Samples::U16(planar(&image.into_rgb16().into_raw(), 3)),
    };
    Ok((width, height, layout, samples))
}

/// Interleaved samples of `channels` channels, one plane a channel.
fn planar<T: Copy + Default>(interleaved: &[T], channels: usize) -> Vec<T> {
    let plane = interleaved.len() / channels;
    let mut out = vec![T::default(); interleaved.len()];
    for (i, px) in interleaved.chunks_exact(channels).enumerate() {
        for (c, &v) in px.iter().enumerate() {
            out[c * plane + i] = v;
        }
    }
    out
}

/// The chunk `[z, y, x]` for slices of `slice_bytes` decoded bytes.
fn chunk_shape(slice_bytes: u64) -> [u64; 3] {
    let depth = [64u64, 16, 4, 1]
        .into_iter()
        .find(|&d| d * slice_bytes <= SLAB_BYTES)
        .unwrap_or(1);
    let edge = (CHUNK_VOXELS / depth).isqrt();
    [depth, edge, edge]
}

/// One resolution level being written.
struct Level<T> {
    array: Array<FilesystemStore>,
    /// `[z, y, x]`.
    shape: [u64; 3],
    /// Whether the next level halves z too.
    halve_z: bool,
    /// Slices received and not yet written (at most one chunk deep), one buffer a channel, each
    /// in the array's order (z, y, x): written as it is, never copied again.
    pending: Vec<Vec<T>>,
    /// How many slices `pending` holds.
    depth: u64,
    /// Slices written so far.
    written: u64,
    /// The first of a pair of slices averaged into the next level.
    carry: Option<Vec<T>>,
}

/// A sample type of a volume: what the writer averages and stores.
pub(super) trait Sample: Element + Copy + Default + Send + Sync + 'static {
    const DATA_TYPE: DataType;
    /// Zero, the fill value of chunks never written.
    fn zero() -> FillValue;
    fn to_u32(self) -> u32;
    fn from_u32(v: u32) -> Self;
}

impl Sample for u8 {
    const DATA_TYPE: DataType = DataType::UInt8;
    fn zero() -> FillValue {
        FillValue::from(0u8)
    }
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
    fn from_u32(v: u32) -> u8 {
        v as u8
    }
}

impl Sample for u16 {
    const DATA_TYPE: DataType = DataType::UInt16;
    fn zero() -> FillValue {
        FillValue::from(0u16)
    }
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
    fn from_u32(v: u32) -> u16 {
        v as u16
    }
}

impl Sample for u32 {
    const DATA_TYPE: DataType = DataType::UInt32;
    fn zero() -> FillValue {
        FillValue::from(0u32)
    }
    fn to_u32(self) -> u32 {
        self
    }
    fn from_u32(v: u32) -> u32 {
        v
    }
}

/// How a level is made from the one above: intensities are averaged, segment ids are never
/// averaged (a mean of two ids is a third, unrelated segment) but voted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// The mean of each 2×2 block (2×2×2 where z is halved), rounded half up.
    Mean,
    /// The mode of each block: the id found most often; on a tie a non-zero id beats the
    /// background, then the first in reading order (as the 2D label pyramid, `labels.rs`).
    Mode,
}

impl Rule {
    /// The multiscale's `type`, which NGFF leaves free for the downsampling method.
    fn describe(self) -> &'static str {
        match self {
            Rule::Mean => "mean of each 2×2 block (2×2×2 where z is halved)",
            Rule::Mode => {
                "mode of each 2×2 block (2×2×2 where z is halved); ties go to a non-zero id, \
                 then to the first in reading order"
            }
        }
    }
}

/// What a multiscale image to write is: size, samples and how its levels are made.
pub(super) struct Spec {
    /// Full-resolution `[z, y, x]`.
    pub shape: [u64; 3],
    /// 1, or 3 for RGB (a leading `c` axis).
    pub channels: u64,
    /// Bytes of one sample, which with the slice size sets the chunk shape.
    pub bytes_per_sample: u64,
    /// `[x, y, z]` in nm, when known.
    pub voxel_size_nm: Option<[f64; 3]>,
    pub rule: Rule,
    /// Attributes beside `multiscales` in the group's `ome` object (`image-label` for labels).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Writes the volume of `job` into `dir` (a new folder).
fn write(job: &VolumeJob, settings: &MediaSettings, dir: &Path) -> Result<Volume, MediaError> {
    let (width, height, layout, first) = read_slice(job, 0, settings, None)?;
    match first {
        Samples::U8(first) => write_typed(
            job,
            settings,
            dir,
            (width, height, layout),
            first,
            |s| match s {
                Samples::U8(v) => v,
                Samples::U16(_) => unreachable!("the layout was checked"),
            },
        ),
        Samples::U16(first) => write_typed(
            job,
            settings,
            dir,
            (width, height, layout),
            first,
            |s| match s {
                Samples::U16(v) => v,
                Samples::U8(_) => unreachable!("the layout was checked"),
            },
        ),
    }
}

fn write_typed<T: Sample>(
    job: &VolumeJob,
    settings: &MediaSettings,
    dir: &Path,
    (width, height, layout): (u32, u32, Layout),
    first: Vec<T>,
    unwrap: impl Fn(Samples) -> Vec<T> + Sync,
) -> Result<Volume, MediaError> {
    let spec = Spec {
        shape: [job.slices.len() as u64, u64::from(height), u64::from(width)],
        channels: u64::from(layout.channels()),
        bytes_per_sample: layout.bytes_per_sample(),
        voxel_size_nm: job.voxel_size_nm,
        rule: Rule::Mean,
        extra: serde_json::Map::new(),
    };
    let mut writer = Writer::start(dir, &spec)?;
    writer.push(0, first).map_err(|e| zarr_err(dir, &e))?;
    // Slices are decoded two at a time (the machine's cores), in order.
    let rest: Vec<usize> = (1..job.slices.len()).collect();
    for batch in rest.chunks(rayon::current_num_threads().max(1)) {
        let decoded: Vec<Vec<T>> = batch
            .par_iter()
            .map(|&i| {
                read_slice(job, i, settings, Some((width, height, layout)))
                    .map(|(.., samples)| unwrap(samples))
            })
            .collect::<Result<_, _>>()?;
        for samples in decoded {
            writer.push(0, samples).map_err(|e| zarr_err(dir, &e))?;
        }
    }
    writer.finish().map_err(|e| zarr_err(dir, &e))?;
    let (files, bytes) = files_and_bytes(dir);
    Ok(Volume {
        hash: String::new(),
        dir: dir.to_owned(),
        shape: spec.shape,
        channels: layout.channels(),
        data_type: layout.data_type().to_string(),
        levels: writer.levels.len(),
        chunk: writer.chunk,
        voxel_size_nm: job.voxel_size_nm,
        files,
        bytes,
        labels: Vec::new(),
    })
}

/// A zarrs failure while writing under `dir`, as the cache error it is.
pub(super) fn zarr_err(dir: &Path, e: &dyn std::fmt::Display) -> MediaError {
    MediaError::Cache {
        path: dir.to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// How many files a folder holds, and their bytes.
pub(super) fn files_and_bytes(dir: &Path) -> (usize, u64) {
    let (mut files, mut bytes) = (0, 0);
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() {
            files += 1;
            bytes += entry.metadata().map_or(0, |m| m.len());
        }
    }
    (files, bytes)
}

/// The levels of a volume being written, fed one full-resolution slice at a time.
pub(super) struct Writer<T> {
    levels: Vec<Level<T>>,
    /// `[z, y, x]` of every chunk (one channel deep).
    chunk: [u64; 3],
    /// Channel planes a slice holds.
    planes: usize,
    rule: Rule,
}

impl<T: Sample> Writer<T> {
    /// Creates the group at `dir` (a new folder) with its OME metadata and every level's
    /// array, ready for the full-resolution slices top to bottom.
    pub(super) fn start(dir: &Path, spec: &Spec) -> Result<Writer<T>, MediaError> {
        let zarr_err = |e: &dyn std::fmt::Display| zarr_err(dir, e);
        let channels = spec.channels;
        let [_, height, width] = spec.shape;
        let chunk = chunk_shape(width * height * channels * spec.bytes_per_sample);
        // Level 0's voxel size in the metadata's units: nm, or voxels when unknown.
        let [vx, vy, vz] = spec.voxel_size_nm.unwrap_or([1.0, 1.0, 1.0]);
        let mut scales = vec![[vz, vy, vx]];
        let mut shapes = vec![spec.shape];
        let mut halving = Vec::new();
        while let (Some(&[z, y, x]), Some(&[sz, sy, sx])) = (shapes.last(), scales.last()) {
            if y.max(x) <= chunk[1] {
                break;
            }
            // Halve z too once the voxels, halved in y and x, would be no flatter than wide.
            let halve_z = z > 1 && sz <= 2.0 * sy.min(sx);
            let f = if halve_z { 2.0 } else { 1.0 };
            halving.push(halve_z);
            shapes.push([
                if halve_z { z.div_ceil(2) } else { z },
                y.div_ceil(2),
                x.div_ceil(2),
            ]);
            scales.push([sz * f, sy * 2.0, sx * 2.0]);
        }
        halving.push(false);

        let store = Arc::new(FilesystemStore::new(dir).map_err(|e| zarr_err(&e))?);
        let mut axes = Vec::new();
        if channels > 1 {
            axes.push(serde_json::json!({"name": "c", "type": "channel"}));
        }
        for name in ["z", "y", "x"] {
            axes.push(match spec.voxel_size_nm {
                Some(_) => serde_json::json!({"name": name, "type": "space", "unit": "nanometer"}),
                None => serde_json::json!({"name": name, "type": "space"}),
            });
        }
        let datasets: Vec<serde_json::Value> = scales
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let scale: Vec<f64> = (channels > 1)
                    .then_some(1.0)
                    .into_iter()
                    .chain(*s)
                    .collect();
                serde_json::json!({
                    "path": k.to_string(),
                    "coordinateTransformations": [{"type": "scale", "scale": scale}],
                })
            })
            .collect();
        let mut ome = serde_json::Map::new();
        ome.insert("version".into(), NGFF_VERSION.into());
        ome.insert(
            "multiscales".into(),
            serde_json::json!([{
                "axes": axes,
                "datasets": datasets,
                "type": spec.rule.describe(),
                "metadata": {"written_by": "vitrine"},
            }]),
        );
        ome.extend(spec.extra.clone());
        let mut attributes = serde_json::Map::new();
        attributes.insert("ome".into(), ome.into());
        GroupBuilder::new()
            .attributes(attributes)
            .build(store.clone(), "/")
            .map_err(|e| zarr_err(&e))?
            .store_metadata()
            .map_err(|e| zarr_err(&e))?;

        let dims: Vec<&str> = if channels > 1 {
            vec!["c", "z", "y", "x"]
        } else {
            vec!["z", "y", "x"]
        };
        let mut levels = Vec::with_capacity(shapes.len());
        for (k, (&level_shape, &halve_z)) in shapes.iter().zip(&halving).enumerate() {
            let full: Vec<u64> = (channels > 1)
                .then_some(channels)
                .into_iter()
                .chain(level_shape)
                .collect();
            let chunk_full: Vec<u64> = (channels > 1)
                .then_some(1)
                .into_iter()
                .chain(chunk)
                .collect();
            let array = ArrayBuilder::new(full, chunk_full, T::DATA_TYPE, T::zero())
                .chunk_key_encoding(V2ChunkKeyEncoding::new_dot().into())
                .bytes_to_bytes_codecs(vec![Arc::new(ZstdCodec::new(ZSTD_LEVEL, false))])
                .dimension_names(Some(dims.clone()))
                .build(store.clone(), &format!("/{k}"))
                .map_err(|e| zarr_err(&e))?;
            array.store_metadata().map_err(|e| zarr_err(&e))?;
            levels.push(Level {
                array,
                shape: level_shape,
                halve_z,
                pending: vec![Vec::new(); channels as usize],
                depth: 0,
                written: 0,
                carry: None,
            });
        }
        Ok(Writer {
            levels,
            chunk,
            planes: channels as usize,
            rule: spec.rule,
        })
    }

    /// Adds the next slice of level `k`: written once a chunk's depth is pending, and passed
    /// on downsampled (with the slice before it where the next level halves z).
    pub(super) fn push(&mut self, k: usize, slice: Vec<T>) -> Result<(), zarrs::array::ArrayError> {
        let next = k + 1 < self.levels.len();
        let level = &mut self.levels[k];
        let handed = match (next, level.halve_z, level.carry.take()) {
            (false, ..) => None,
            (true, false, _) => Some((None, slice.clone())),
            (true, true, None) => {
                level.carry = Some(slice.clone());
                None
            }
            (true, true, Some(first)) => Some((Some(first), slice.clone())),
        };
        let plane = slice.len() / self.planes;
        for (c, buffer) in level.pending.iter_mut().enumerate() {
            // Exactly one chunk deep: growing by doubling could hold twice that.
            buffer.reserve_exact(plane * self.chunk[0] as usize - buffer.len());
            buffer.extend_from_slice(&slice[c * plane..(c + 1) * plane]);
        }
        level.depth += 1;
        if level.depth == self.chunk[0] {
            self.flush(k)?;
        }
        if let Some((first, second)) = handed {
            let small = self.downsample(k, first.as_deref(), &second);
            self.push(k + 1, small)?;
        }
        Ok(())
    }

    /// Writes level `k`'s pending slices.
    fn flush(&mut self, k: usize) -> Result<(), zarrs::array::ArrayError> {
        let level = &mut self.levels[k];
        if level.depth == 0 {
            return Ok(());
        }
        let (z, depth) = (level.written, level.depth);
        let [_, y, x] = level.shape;
        // Chunks are one channel deep, so each channel's buffer is whole chunks.
        for (c, buffer) in level.pending.iter_mut().enumerate() {
            let mut ranges = Vec::new();
            if self.planes > 1 {
                ranges.push(c as u64..c as u64 + 1);
            }
            ranges.extend([z..z + depth, 0..y, 0..x]);
            level
                .array
                .store_array_subset_elements(&ArraySubset::new_with_ranges(&ranges), buffer)?;
            buffer.clear();
        }
        level.written += depth;
        level.depth = 0;
        Ok(())
    }

    /// Slice(s) of level `k` as one slice of level `k + 1`, by the writer's rule.
    fn downsample(&self, k: usize, first: Option<&[T]>, second: &[T]) -> Vec<T> {
        let [_, y, x] = self.levels[k].shape;
        let (planes, y, x) = (self.planes, y as usize, x as usize);
        match (self.rule, first) {
            (Rule::Mean, None) => halve(second, planes, y, x),
            (Rule::Mean, Some(first)) => halve(&mean_of_two(first, second), planes, y, x),
            (Rule::Mode, first) => halve_by_mode(first, second, planes, y, x),
        }
    }

    /// Writes what is pending on every level, a lone last slice passed on as it is.
    pub(super) fn finish(&mut self) -> Result<(), zarrs::array::ArrayError> {
        for k in 0..self.levels.len() {
            if let Some(last) = self.levels[k].carry.take() {
                let small = self.downsample(k, None, &last);
                self.push(k + 1, small)?;
            }
            self.flush(k)?;
        }
        Ok(())
    }
}

/// The mean of two slices, sample by sample (rounded half up).
fn mean_of_two<T: Sample>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| T::from_u32((a.to_u32() + b.to_u32()).div_ceil(2)))
        .collect()
}

/// A slice of `planes` planes of `height` × `width` at half the size (rounded up), each sample
/// the mean of its 2×2 block (of what the block has at an odd edge).
fn halve<T: Sample>(slice: &[T], planes: usize, height: usize, width: usize) -> Vec<T> {
    let (h2, w2) = (height.div_ceil(2), width.div_ceil(2));
    let mut out = vec![T::default(); planes * h2 * w2];
    out.par_chunks_mut(w2)
        .enumerate()
        .for_each(|(row, out_row)| {
            let (c, y2) = (row / h2, row % h2);
            let plane = &slice[c * height * width..(c + 1) * height * width];
            let y = 2 * y2;
            let rows = if y + 1 < height { 2 } else { 1 };
            for (x2, out) in out_row.iter_mut().enumerate() {
                let x = 2 * x2;
                let cols = if x + 1 < width { 2 } else { 1 };
                let mut sum = 0u32;
                for dy in 0..rows {
                    for dx in 0..cols {
                        sum += plane[(y + dy) * width + x + dx].to_u32();
                    }
                }
                let n = (rows * cols) as u32;
                *out = T::from_u32((sum + n / 2) / n);
            }
        });
    out
}

/// Like [`halve`], each sample the mode (`labels::mode`) of its 2×2 block, of both slices'
/// blocks (2×2×2) when there are two.
fn halve_by_mode<T: Sample>(
    first: Option<&[T]>,
    second: &[T],
    planes: usize,
    height: usize,
    width: usize,
) -> Vec<T> {
    let (h2, w2) = (height.div_ceil(2), width.div_ceil(2));
    let slices: Vec<&[T]> = first.into_iter().chain([second]).collect();
    let mut out = vec![T::default(); planes * h2 * w2];
    out.par_chunks_mut(w2)
        .enumerate()
        .for_each(|(row, out_row)| {
            let (c, y2) = (row / h2, row % h2);
            let y = 2 * y2;
            let rows = if y + 1 < height { 2 } else { 1 };
            let mut block = [0u32; 8];
            for (x2, out) in out_row.iter_mut().enumerate() {
                let x = 2 * x2;
                let cols = if x + 1 < width { 2 } else { 1 };
                let mut n = 0;
                for slice in &slices {
                    let plane = &slice[c * height * width..(c + 1) * height * width];
                    for dy in 0..rows {
                        for dx in 0..cols {
                            block[n] = plane[(y + dy) * width + x + dx].to_u32();
                            n += 1;
                        }
                    }
                }
                *out = T::from_u32(super::labels::mode(&block[..n]));
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_the_same_voxels_and_slabs_stay_bounded() {
        assert_eq!(chunk_shape(2048 * 2048), [64, 64, 64]);
        assert_eq!(chunk_shape(16384 * 16384), [1, 512, 512]);
        assert_eq!(chunk_shape(1 << 26), [4, 256, 256]);
        for bytes in [1u64 << 20, 1 << 24, 1 << 26, 1 << 28] {
            let [z, y, x] = chunk_shape(bytes);
            assert_eq!(z * y * x, CHUNK_VOXELS);
            assert!(z * bytes <= SLAB_BYTES || z == 1);
        }
    }

    #[test]
    fn halving_averages_blocks_and_keeps_odd_edges() {
        // 3 × 3, one plane: the last row and column average what they have.
        let slice: Vec<u8> = vec![0, 2, 9, 4, 6, 9, 100, 200, 50];
        assert_eq!(halve(&slice, 1, 3, 3), vec![3, 9, 150, 50]);
        // Two planes stay apart.
        let two: Vec<u16> = vec![10, 10, 10, 10, 1000, 1000, 1000, 1000];
        assert_eq!(halve(&two, 2, 2, 2), vec![10, 1000]);
        assert_eq!(mean_of_two(&[1u8, 255], &[2, 255]), vec![2, 255]);
    }

    #[test]
    fn labels_are_halved_by_vote_and_keep_their_ids() {
        // Two 2 × 4 slices, two blocks each: in 2 × 2 × 2, 7 (three votes) beats 5 and 0 (two
        // each), and 0 (five) beats 9 (three); in 2 × 2 alone, 0 and 9 tie and 9 wins.
        let upper: Vec<u32> = vec![7, 5, 0, 0, 9, 7, 9, 9];
        let lower: Vec<u32> = vec![7, 5, 0, 9, 0, 0, 0, 0];
        let (h, w) = (2, 4);
        assert_eq!(halve_by_mode(Some(&upper), &lower, 1, h, w), vec![7, 0]);
        assert_eq!(halve_by_mode(None, &upper, 1, h, w), vec![7, 9]);
        // Ids beyond 16 bits pass untouched.
        let big: Vec<u32> = vec![70_000, 70_000, 3, 4];
        assert_eq!(halve_by_mode(None, &big, 1, 2, 2), vec![70_000]);
    }

    #[test]
    fn planar_splits_channels() {
        assert_eq!(planar(&[1u8, 2, 3, 4, 5, 6], 3), vec![1, 4, 2, 5, 3, 6]);
    }

    #[test]
    fn the_hash_follows_slices_order_and_voxel_size() {
        let slice = |hash: &str| SliceRef {
            source: "a.png".into(),
            page: 0,
            hash: hash.into(),
        };
        let job = VolumeJob {
            slices: vec![slice("aa"), slice("bb")],
            voxel_size_nm: None,
        };
        let mut swapped = job.clone();
        swapped.slices.reverse();
        let mut scaled = job.clone();
        scaled.voxel_size_nm = Some([4.0, 4.0, 40.0]);
        assert_ne!(volume_hash(&job), volume_hash(&swapped));
        assert_ne!(volume_hash(&job), volume_hash(&scaled));
        assert_eq!(volume_hash(&job), volume_hash(&job.clone()));
    }
}
