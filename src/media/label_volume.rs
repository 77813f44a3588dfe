//! Segmentation layers of a z-stack as OME-Zarr **labels** (NGFF 0.5 `image-label`), so a
//! reviewer who opens the volume in napari, webKnossos or Neuroglancer gets its segmentations
//! with it, ids exact.
//!
//! A layer's label slices become one multiscale label image with the volume's shape, chunks
//! and scales (`volume.rs` writes both), its ids in the narrowest unsigned type that holds
//! the file's (`uint8`, `uint16` or `uint32`), each coarser level the **mode** of each 2×2
//! (2×2×2) block, never a mean: every voxel of every level is an id of the source.
//!
//! Where it goes follows who may read it. The labels of public layers live where NGFF readers
//! look for them, in the image's own `labels/` group ([`with_labels`]): the published volume
//! folder is then a cache entry of its own, the image's files linked beside the labels', named
//! by a hash of both, so that its address changes whenever its bytes do (media folders are
//! served as immutable). A private layer has a link of its own, so its labels must not sit in
//! a folder its dataset's readers fetch: they are a label image of their own in the layer's
//! folder, whose `image-label.source.image` points back at the volume.
//!
//! Cache entries: `labels-<hash16>-<settings>/` (one label image, `image.ome.zarr/`) and
//! `volume-<hash16>-<settings>/` for a volume with its labels, each with `volume.json`
//! written last.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::labels::{read_pages, Ids};
use super::volume::{
    cache_entry, files_and_bytes, settings_fingerprint, zarr_err, Rule, Spec, Writer,
};
use super::{MediaError, MediaSettings, Volume, NGFF_VERSION, ZARR_DIR};

/// The folder of a label image inside its cache entry.
const IMAGE_DIR: &str = "image.ome.zarr";

/// One segmentation layer to write as a label image.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelVolumeJob {
    /// The label files in slice order (one multi-page TIFF, or one file a slice).
    pub files: Vec<PathBuf>,
    /// The hash of every label slice, in order (`LabelSlice::hash`): the content.
    pub slice_hashes: Vec<String>,
    /// `[x, y, z]` in nm, when known: the image's.
    pub voxel_size_nm: Option<[f64; 3]>,
    /// The image the labels belong to, relative to the label image's folder
    /// (`image-label.source.image`).
    pub image: String,
}

/// A written label image in the media cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelVolume {
    /// 16 hex digits naming its content.
    pub hash: String,
    /// Its folder (a Zarr group) in the cache.
    #[serde(skip)]
    pub dir: PathBuf,
    /// `uint8`, `uint16` or `uint32`.
    pub data_type: String,
    /// Files in the folder, and their bytes.
    pub files: usize,
    pub bytes: u64,
}

/// The label image of `job`, from the cache or written now. Slices of different sizes or
/// sample types are [`MediaError::Unsupported`] (the layer's pages still show them).
pub fn derive_label_volume(
    job: &LabelVolumeJob,
    settings: &MediaSettings,
) -> Result<LabelVolume, MediaError> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"labels");
    for hash in &job.slice_hashes {
        hasher.update(hash.as_bytes());
        hasher.update(b"/");
    }
    hasher.update(format!("{:?}|{}", job.voxel_size_nm, job.image).as_bytes());
    let hash = hasher.finalize().to_hex()[..16].to_string();
    let entry = settings
        .cache_dir
        .join(format!("labels-{hash}-{}", settings_fingerprint()));
    let mut volume = cache_entry(&settings.cache_dir, &entry, |tmp| {
        let dir = tmp.join(IMAGE_DIR);
        let data_type = write(job, settings, &dir)?;
        let (files, bytes) = files_and_bytes(&dir);
        Ok(LabelVolume {
            hash,
            dir: PathBuf::new(),
            data_type: data_type.to_string(),
            files,
            bytes,
        })
    })?;
    volume.dir = entry.join(IMAGE_DIR);
    Ok(volume)
}

/// Writes the label image of `job` at `dir`; returns its data type.
fn write(
    job: &LabelVolumeJob,
    settings: &MediaSettings,
    dir: &Path,
) -> Result<&'static str, MediaError> {
    let depth = job.slice_hashes.len() as u64;
    let mut writer: Option<(IdWriter, u32, u32, u8)> = None;
    for file in &job.files {
        let bytes = fs::read(file).map_err(|source| MediaError::Read {
            path: file.clone(),
            source,
        })?;
        read_pages(file, &bytes, settings.max_pixels, &mut |page, ids: Ids| {
            let (w, h, b) = match &writer {
                Some((_, w, h, b)) => (*w, *h, *b),
                None => {
                    let spec = Spec {
                        shape: [depth, u64::from(ids.height), u64::from(ids.width)],
                        channels: 1,
                        bytes_per_sample: u64::from(ids.bytes),
                        voxel_size_nm: job.voxel_size_nm,
                        rule: Rule::Mode,
                        extra: image_label(&job.image),
                    };
                    let started = match ids.bytes {
                        1 => IdWriter::U8(Writer::start(dir, &spec)?),
                        2 => IdWriter::U16(Writer::start(dir, &spec)?),
                        _ => IdWriter::U32(Writer::start(dir, &spec)?),
                    };
                    writer = Some((started, ids.width, ids.height, ids.bytes));
                    (ids.width, ids.height, ids.bytes)
                }
            };
            if (ids.width, ids.height, ids.bytes) != (w, h, b) {
                return Err(MediaError::Unsupported {
                    path: file.clone(),
                    reason: format!(
                        "page {} is a {} × {} image of {}-bit ids but the first label slice is \
                         {w} × {h} of {}-bit ids, so the layer is not written as OME-Zarr \
                         labels; give every label slice the first one's size and sample type",
                        page + 1,
                        ids.width,
                        ids.height,
                        8 * ids.bytes,
                        8 * b
                    ),
                });
            }
            let (w, ..) = writer.as_mut().expect("started above");
            w.push(ids.ids).map_err(|e| zarr_err(dir, &e))
        })?;
    }
    let (mut w, .., bytes) = writer.ok_or_else(|| MediaError::Unsupported {
        path: job.files.first().cloned().unwrap_or_default(),
        reason: "the layer has no label slices".into(),
    })?;
    w.finish().map_err(|e| zarr_err(dir, &e))?;
    Ok(match bytes {
        1 => "uint8",
        2 => "uint16",
        _ => "uint32",
    })
}

/// A label image's writer in the type of its ids (the file's, which holds every id).
enum IdWriter {
    U8(Writer<u8>),
    U16(Writer<u16>),
    U32(Writer<u32>),
}

impl IdWriter {
    /// Adds the next full-resolution slice; its ids fit the type (the file's sample size).
    fn push(&mut self, ids: Vec<u32>) -> Result<(), zarrs::array::ArrayError> {
        match self {
            IdWriter::U8(w) => w.push(0, ids.into_iter().map(|id| id as u8).collect()),
            IdWriter::U16(w) => w.push(0, ids.into_iter().map(|id| id as u16).collect()),
            IdWriter::U32(w) => w.push(0, ids),
        }
    }

    fn finish(&mut self) -> Result<(), zarrs::array::ArrayError> {
        match self {
            IdWriter::U8(w) => w.finish(),
            IdWriter::U16(w) => w.finish(),
            IdWriter::U32(w) => w.finish(),
        }
    }
}

/// The `image-label` attributes of a label image of `image`.
fn image_label(image: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut extra = serde_json::Map::new();
    extra.insert(
        "image-label".into(),
        serde_json::json!({"version": NGFF_VERSION, "source": {"image": image}}),
    );
    extra
}

/// `volume` with `labels` (layer id, label image written with `image` `../../`) in its
/// `labels/` group: a cache entry of its own, named by both (see the module head). No labels:
/// the volume as it is.
pub fn with_labels(
    volume: &Volume,
    labels: &[(String, LabelVolume)],
    settings: &MediaSettings,
) -> Result<Volume, MediaError> {
    if labels.is_empty() {
        return Ok(volume.clone());
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"volume with labels");
    hasher.update(volume.hash.as_bytes());
    for (id, label) in labels {
        hasher.update(format!("/{id}={}", label.hash).as_bytes());
    }
    let hash = hasher.finalize().to_hex()[..16].to_string();
    let entry = settings
        .cache_dir
        .join(format!("volume-{hash}-{}", settings_fingerprint()));
    let mut published = cache_entry(&settings.cache_dir, &entry, |tmp| {
        let dir = tmp.join(ZARR_DIR);
        link_tree(&volume.dir, &dir)?;
        let ids: Vec<&str> = labels.iter().map(|(id, _)| id.as_str()).collect();
        let group = serde_json::json!({
            "zarr_format": 3,
            "node_type": "group",
            "attributes": {"ome": {"version": NGFF_VERSION, "labels": ids}},
        });
        let labels_dir = dir.join("labels");
        fs::create_dir_all(&labels_dir).map_err(|e| zarr_err(&labels_dir, &e))?;
        let meta = labels_dir.join("zarr.json");
        fs::write(&meta, serde_json::to_vec_pretty(&group).expect("json"))
            .map_err(|e| zarr_err(&meta, &e))?;
        for (id, label) in labels {
            link_tree(&label.dir, &labels_dir.join(id))?;
        }
        let (files, bytes) = files_and_bytes(&dir);
        Ok(Volume {
            hash,
            files,
            bytes,
            labels: ids.iter().map(|id| id.to_string()).collect(),
            ..volume.clone()
        })
    })?;
    published.dir = entry.join(ZARR_DIR);
    Ok(published)
}

/// Hard-links (or copies, across file systems) every file of `from` into `to`, a new folder.
fn link_tree(from: &Path, to: &Path) -> Result<(), MediaError> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.map_err(|e| zarr_err(from, &e))?;
        let dest = to.join(entry.path().strip_prefix(from).expect("walked below from"));
        let done = if entry.file_type().is_dir() {
            fs::create_dir_all(&dest)
        } else {
            fs::hard_link(entry.path(), &dest)
                .or_else(|_| fs::copy(entry.path(), &dest).map(|_| ()))
        };
        done.map_err(|e| zarr_err(&dest, &e))?;
    }
    Ok(())
}
