//! The validated model of a site: what `content` hands to every later stage.
//!
//! Everything here has already been checked (slugs, paths confined to their dataset folder,
//! visibility rules), so later stages never re-validate and never read a descriptor again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

pub use super::description::Attachment;

/// Where the site is hosted, which decides whether private items can be built at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Hosting {
    /// Netlify: the edge function in `.netlify/v1/edge-functions/` gates `/private/`.
    #[default]
    Netlify,
    /// Cloudflare Pages: `public/_worker.js` gates `/private/`.
    Cloudflare,
    /// Any static host: there is no gate; private items are opened in the reader's browser
    /// with the secret in a link's fragment.
    Static,
}

impl Hosting {
    /// Whether this host runs a gate (else links carry a secret the browser decrypts with).
    pub fn has_gate(self) -> bool {
        !matches!(self, Hosting::Static)
    }
}

/// Public or private; **private is the default** so nothing is published by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Listed in the gallery, indexed, in the sitemap and feed.
    Public,
    /// Built under `private/` only, reachable only with a share link.
    #[default]
    Private,
}

/// One public signing key from `site.yaml`: the key id and the 32-byte Ed25519 public key.
///
/// The key id is parsed once, here, and checked against the key: every other part of vitrine
/// takes it as bytes (written as 8 lowercase hex digits by [`PublicKeyEntry::kid_hex`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyEntry {
    /// The first 4 bytes of SHA-512(public key).
    pub kid: vitrine_verify::Kid,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
}

impl PublicKeyEntry {
    /// The key id as `site.yaml`, key file names and messages write it.
    pub fn kid_hex(&self) -> String {
        crate::hex::hex(&self.kid)
    }
}

/// Limits and sizes for image work, from `site.yaml`'s `images:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSettings {
    /// Images with more pixels than this are refused before they are decoded.
    pub max_pixels: u64,
    /// Widths of the derived thumbnails, ascending.
    pub thumbnail_widths: Vec<u32>,
    /// The lossy format of thumbnails and deep-zoom tiles (`images.format`).
    pub format: ImageFormat,
}

/// `images.format` in `site.yaml`: what photographic and EM content is encoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageFormat {
    /// JPEG q80 everywhere: every browser and crawler reads it.
    #[default]
    Jpeg,
    /// WebP tiles and thumbnails, about 0.65× JPEG's bytes at the same SSIM but encoded more
    /// than ten times slower, with JPEG thumbnails kept for `<picture>`'s fallback and for
    /// social previews.
    Webp,
}

/// The address a site is served at, e.g. `https://data.example-lab.org/em`: made once from what
/// a user wrote (surrounding spaces and trailing slashes dropped), so every URL built from it
/// has exactly one `/` between the base and the path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// `text` without surrounding spaces or trailing slashes; not checked (the config is).
    pub fn new(text: &str) -> BaseUrl {
        BaseUrl(text.trim().trim_end_matches('/').to_string())
    }

    /// The address of `path` (relative to the site root) on this site.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{path}", self.0)
    }
}

impl std::ops::Deref for BaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Site-wide settings from `content/site.yaml`.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// The site's title, shown in the header and feed.
    pub title: String,
    /// Where the site is served.
    pub base_url: BaseUrl,
    /// Markdown description of the site, shown above the gallery.
    pub description: String,
    /// Name of a theme under `themes/`, or `None` for the built-in one.
    pub theme: Option<String>,
    /// The host the site is built for.
    pub hosting: Hosting,
    /// Public keys share links may be signed with (several during a rotation).
    pub keys: Vec<PublicKeyEntry>,
    /// Expiry used by `vitrine share` when `--expires` is not given, e.g. `180d`.
    pub default_expiry: String,
    /// Whether to build deep-zoom pyramids for the viewer.
    pub pyramids: bool,
    /// Cards on one gallery or tag page (`gallery.per_page`); longer listings get more pages.
    pub per_page: usize,
    /// How many of the newest public datasets `feed.xml` lists (`feed.entries`).
    pub feed_entries: usize,
    /// Image limits and derived sizes.
    pub images: ImageSettings,
}

/// A skeleton annotation declared in a dataset descriptor.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotationRef {
    /// `[a-z0-9][a-z0-9-]{0,63}`, unique within its dataset.
    pub id: String,
    /// Human-readable name.
    pub display_name: String,
    /// Absolute path of the SWC or NML file, inside the dataset folder.
    pub file: PathBuf,
    /// The annotation's own visibility; public requires a public dataset.
    pub visibility: Visibility,
    /// Line and column of the annotation's `id` in the descriptor, for warnings about it.
    pub declared_at: (usize, usize),
    /// Added to the tracing's positions (after its unit) to place it on the dataset's image;
    /// `[0, 0, 0]` unless the descriptor says `offset_nm`.
    pub offset_nm: [f64; 3],
    /// The parsed file (`annotation::parse_file`, with the descriptor's `unit` for SWC in
    /// its `scale_nm`); kept out of serialised output, which would
    /// otherwise carry every node.
    #[serde(skip)]
    pub skeleton: crate::content::annotation::Skeleton,
}

/// Where a descriptor names an image file: the field, the name as written, and its line and
/// column, so a problem found later in the image (by `media`) is reported there, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageField {
    /// `thumbnail`, `images`, or a layer's `images`.
    pub field: &'static str,
    /// The file name or glob as the descriptor writes it.
    pub name: String,
    /// 1-based line of the name in the descriptor.
    pub line: usize,
    /// 1-based column of the name.
    pub col: usize,
}

/// One dataset, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    /// The folder name, `[a-z0-9][a-z0-9-]{0,63}`.
    pub slug: String,
    /// Absolute path of the dataset folder.
    pub dir: PathBuf,
    /// Absolute path of `dataset.yaml`.
    pub descriptor: PathBuf,
    /// Required display name.
    pub display_name: String,
    /// Markdown source of the description (sanitised when rendered).
    pub description: String,
    /// Public or private.
    pub visibility: Visibility,
    /// Absolute path of the thumbnail image, inside `dir`.
    pub thumbnail: PathBuf,
    /// Absolute paths of the viewer images (a z-stack when several), in order; may be empty,
    /// in which case the viewer shows the thumbnail.
    pub images: Vec<PathBuf>,
    /// `preview_slice`: the slice (from 0) the thumbnail and the 2D viewer's first view show,
    /// when the descriptor chooses one; see [`Dataset::preview_index`].
    pub preview_slice: Option<usize>,
    /// Where the descriptor names each of `thumbnail` and `images` (the first naming wins
    /// when the thumbnail is also a viewer image).
    pub image_fields: BTreeMap<PathBuf, ImageField>,
    /// Voxel size in nanometres, `[x, y, z]`.
    pub voxel_size_nm: Option<[f64; 3]>,
    /// Author names, in order.
    pub authors: Vec<String>,
    /// SPDX license id.
    pub license: Option<String>,
    /// DOI without the resolver prefix, e.g. `10.1234/abcd`.
    pub doi: Option<String>,
    /// Free tags, lowercase.
    pub tags: Vec<String>,
    /// Publication date.
    pub published: Option<NaiveDate>,
    /// External viewers and resources: name → absolute URL.
    pub links: BTreeMap<String, String>,
    /// A volume the lab hosts (`volume:`), opened where it is.
    pub volume: Option<super::RemoteVolume>,
    /// Facet: species.
    pub species: Option<String>,
    /// Facet: tissue or brain region.
    pub region: Option<String>,
    /// Facet: acquisition modality, e.g. FIB-SEM.
    pub modality: Option<String>,
    /// Higher comes first in the gallery; default 0.
    pub featured: i64,
    /// Declared annotations.
    pub annotations: Vec<AnnotationRef>,
    /// Declared layers (segmentations).
    pub layers: Vec<LayerRef>,
    /// The files the description links or shows, sorted by name; published under
    /// `<output_dir>files/`.
    pub attachments: Vec<Attachment>,
}

impl Dataset {
    /// A problem with one of the dataset's images, at the descriptor line that names it:
    /// `dataset.yaml:3:12: thumbnail 'slice.tif': <problem>`.
    pub fn image_problem(&self, image: &std::path::Path, problem: &str) -> super::Diagnostic {
        Self::image_problem_in(&self.descriptor, &self.image_fields, image, problem)
    }

    /// [`Dataset::image_problem`] while the dataset is being validated.
    pub(crate) fn image_problem_in(
        descriptor: &std::path::Path,
        fields: &BTreeMap<PathBuf, ImageField>,
        image: &std::path::Path,
        problem: &str,
    ) -> super::Diagnostic {
        match fields.get(image) {
            Some(f) => super::Diagnostic::at(
                descriptor,
                f.line,
                f.col,
                format!("{} '{}': {problem}", f.field, f.name),
            ),
            None => super::Diagnostic::new(descriptor, format!("'{}': {problem}", image.display())),
        }
    }

    /// Whether the dataset is listed publicly.
    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }

    /// The slice of a stack of `slices` that the thumbnail, the 2D viewer and the 3D view open
    /// on: `preview_slice` when given, else the middle one (a stack's first slice is often
    /// the least typical: the edge of the block, or still out of focus).
    pub fn preview_index(preview_slice: Option<usize>, slices: usize) -> usize {
        preview_slice.unwrap_or(slices / 2)
    }

    /// The output folder of the dataset's page, relative to the site root, with a trailing
    /// slash: `datasets/<slug>/` when public, `private/<slug>/` when private.
    pub fn output_dir(&self) -> String {
        match self.visibility {
            Visibility::Public => self.public_dir(),
            Visibility::Private => format!("private/{}/", self.slug),
        }
    }

    /// Where the dataset's page is once public (`datasets/<slug>/`): a private dataset's
    /// citation points there, because its `/private/` links answer 301 to it on publication.
    pub fn public_dir(&self) -> String {
        format!("datasets/{}/", self.slug)
    }

    /// The output folder of one derived image (named by its content hash), relative to the
    /// site root: `<output_dir>media/<hash>/`.
    pub fn media_dir(&self, hash: &str) -> String {
        format!("{}media/{hash}/", self.output_dir())
    }

    /// The output folder of the description's files: `<output_dir>files/`.
    pub fn files_dir(&self) -> String {
        format!("{}files/", self.output_dir())
    }
}

impl AnnotationRef {
    /// Whether the annotation's page is public: it and its dataset must both be public.
    pub fn is_public_in(&self, dataset: &Dataset) -> bool {
        self.visibility == Visibility::Public && dataset.is_public()
    }

    /// The output folder of the annotation's page, relative to the site root: under
    /// `datasets/<slug>/` when public, else under `private/<slug>/` (whatever the dataset is).
    pub fn output_dir(&self, dataset: &Dataset) -> String {
        let base = if self.visibility == Visibility::Public {
            "datasets"
        } else {
            "private"
        };
        format!("{base}/{}/annotations/{}/", dataset.slug, self.id)
    }
}

/// Everything `content` read from a site folder.
#[derive(Debug, Clone)]
pub struct Content {
    /// The site folder.
    pub root: PathBuf,
    /// `content/site.yaml`.
    pub config: SiteConfig,
    /// All datasets, sorted by slug. Shared: `serve` keeps each between builds, and an edit
    /// reads only the changed ones (copying 1,000 long descriptions twice a build was ~10 ms).
    pub datasets: Vec<Arc<Dataset>>,
}

/// What a layer holds; only segmentations (label images) so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// Label images: each pixel holds the id of the segment it belongs to (0: none).
    Segmentation,
}

/// One named segment from a layer's `segments.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The label value of its pixels, 1 ..= 2^32 − 1.
    pub id: u32,
    /// Its name, as the file writes it (trimmed).
    pub name: String,
    /// `#rrggbb` (lowercase) when the file gives a colour; else the viewer's colour of the id.
    pub colour: Option<String>,
}

/// A segmentation layer declared in a dataset descriptor: label images aligned with the
/// dataset's `images`, slice for slice and pixel for pixel.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRef {
    /// `[a-z0-9][a-z0-9-]{0,63}`, unique among the dataset's annotations and layers.
    pub id: String,
    /// What the layer holds.
    pub kind: LayerKind,
    /// Absolute paths of the label images in order (a multi-page TIFF gives several slices).
    pub images: Vec<PathBuf>,
    /// Where the descriptor names `images`, for problems found in the label images later.
    pub images_field: ImageField,
    /// Absolute path of `segments.csv`, when given.
    pub segments_file: Option<PathBuf>,
    /// The named segments, sorted by id (empty without a `segments` file).
    pub segments: Vec<Segment>,
    /// The layer's own visibility; public requires a public dataset.
    pub visibility: Visibility,
}

impl LayerRef {
    /// Whether the layer's page is public: it and its dataset must both be public.
    pub fn is_public_in(&self, dataset: &Dataset) -> bool {
        self.visibility == Visibility::Public && dataset.is_public()
    }

    /// The output folder of the layer's page, relative to the site root:
    /// `datasets/<slug>/layers/<id>/` when public, else `private/<slug>/layers/<id>/`.
    pub fn output_dir(&self, dataset: &Dataset) -> String {
        let base = if self.is_public_in(dataset) {
            "datasets"
        } else {
            "private"
        };
        format!("{base}/{}/layers/{}/", dataset.slug, self.id)
    }

    /// A problem with the layer's label images, at the descriptor line naming them.
    pub fn images_problem(&self, dataset: &Dataset, problem: &str) -> super::Diagnostic {
        let f = &self.images_field;
        super::Diagnostic::at(
            &dataset.descriptor,
            f.line,
            f.col,
            format!("layer '{}' images '{}': {problem}", self.id, f.name),
        )
    }
}
