//! `content/datasets/<slug>/dataset.yaml`: one dataset's descriptor, validated.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use super::annotation;
use super::config::{is_slug, locate, locate_value};
use super::description::{self, Attachment, BadReference};
use super::segments;
use super::yaml::{self, Fields};
use super::{AnnotationRef, Dataset, Diagnostic, ImageField, LayerKind, LayerRef, Visibility};

/// Extensions of files a browser opens as documents that may run scripts (HTML, SVG, XML,
/// JavaScript): a description may not publish them on the site's origin.
const ACTIVE: &[&str] = &[
    "htm", "html", "js", "mjs", "shtml", "svg", "svgz", "xht", "xhtml", "xml", "xsl", "xslt",
];

/// Descriptors larger than this are refused before parsing (a 10 MB description still fits).
const MAX_DESCRIPTOR_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    display_name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: Visibility,
    thumbnail: Option<String>,
    images: Option<OneOrMany>,
    preview_slice: Option<usize>,
    voxel_size_nm: Option<Vec<f64>>,
    #[serde(default)]
    authors: Vec<String>,
    license: Option<String>,
    doi: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    published: Option<String>,
    #[serde(default)]
    links: BTreeMap<String, String>,
    species: Option<String>,
    region: Option<String>,
    modality: Option<String>,
    #[serde(default)]
    featured: i64,
    #[serde(default)]
    annotations: Vec<RawAnnotation>,
    #[serde(default)]
    layers: Vec<RawLayer>,
    volume: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnnotation {
    id: String,
    display_name: Option<String>,
    file: String,
    #[serde(default)]
    visibility: Visibility,
    unit: Option<String>,
    offset_nm: Option<Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    id: String,
    kind: Option<LayerKind>,
    images: OneOrMany,
    segments: Option<String>,
    #[serde(default)]
    visibility: Visibility,
}

const LAYER_FIELDS: Fields = Fields {
    names: &["id", "kind", "images", "segments", "visibility"],
    nested: &[],
};

const ANNOTATION_FIELDS: Fields = Fields {
    names: &[
        "id",
        "display_name",
        "file",
        "visibility",
        "unit",
        "offset_nm",
    ],
    nested: &[],
};
/// The fields of `dataset.yaml`, as CONTRACT.md lists them.
pub const DATASET_FIELDS: Fields = Fields {
    names: &[
        "display_name",
        "description",
        "visibility",
        "thumbnail",
        "images",
        "preview_slice",
        "voxel_size_nm",
        "authors",
        "license",
        "doi",
        "tags",
        "published",
        "links",
        "species",
        "region",
        "modality",
        "featured",
        "annotations",
        "layers",
        "volume",
    ],
    nested: &[
        ("annotations", &ANNOTATION_FIELDS),
        ("layers", &LAYER_FIELDS),
    ],
};

/// Reads and validates one dataset folder. `dir` is `content/datasets/<slug>`, a folder (not a
/// symlink), and `canonical_dir` the same folder with every symlink of its path resolved.
pub fn load_dataset(dir: &Path, canonical_dir: &Path) -> Result<Dataset, Vec<Diagnostic>> {
    let descriptor = dir.join("dataset.yaml");
    let name = dir.file_name().unwrap_or_default();
    let Some(slug) = name.to_str() else {
        return Err(vec![Diagnostic::new(
            dir,
            "folder name is not valid UTF-8; rename it to a slug of lowercase letters, digits and '-'",
        )]);
    };
    if !is_slug(slug) {
        let suggestion = slugify(slug);
        return Err(vec![Diagnostic::new(
            dir,
            format!("folder name '{slug}' is not a valid slug ([a-z0-9][a-z0-9-]{{0,63}}); rename it, e.g. to '{suggestion}'"),
        )]);
    }
    let meta = std::fs::metadata(&descriptor).map_err(|e| {
        vec![Diagnostic::new(
            &descriptor,
            format!("cannot read the descriptor ({e}); every dataset folder needs a dataset.yaml"),
        )]
    })?;
    if meta.len() > MAX_DESCRIPTOR_BYTES {
        return Err(vec![Diagnostic::new(
            &descriptor,
            format!(
                "descriptor is {} MB, over the limit of 16 MB; move long text out of it",
                meta.len() / 1_000_000
            ),
        )]);
    }
    let text = std::fs::read_to_string(&descriptor).map_err(|e| {
        vec![Diagnostic::new(
            &descriptor,
            format!("cannot read the descriptor as UTF-8 text ({e})"),
        )]
    })?;
    // Every field that does not fit is reported, and the rest are still checked, so one run
    // names every problem of the descriptor.
    let (raw, problems, unfit): (RawDataset, _, _) =
        yaml::parse_fields(&descriptor, &text, &DATASET_FIELDS)?;
    Validator {
        dir,
        canonical_dir: canonical_dir.to_path_buf(),
        descriptor: &descriptor,
        text: &text,
        problems,
        image_fields: BTreeMap::new(),
        unfit,
    }
    .finish(slug, raw)
}

/// `dir/rel` with symlinks resolved, for a `rel` of plain components: one `lstat` per
/// component when none of them is a symlink (the common case: no `realpath` of the whole
/// path for every image of every dataset), the file system's answer otherwise.
fn resolve(dir: &Path, canonical_dir: &Path, rel: &Path) -> std::io::Result<PathBuf> {
    let mut here = dir.to_path_buf();
    for part in rel.components() {
        here.push(part);
        if std::fs::symlink_metadata(&here)?.file_type().is_symlink() {
            return dir.join(rel).canonicalize();
        }
    }
    Ok(canonical_dir.join(rel))
}

struct Validator<'a> {
    dir: &'a Path,
    /// `dir` with every symlink of its path resolved, once per dataset.
    canonical_dir: PathBuf,
    descriptor: &'a Path,
    text: &'a str,
    problems: Vec<Diagnostic>,
    image_fields: BTreeMap<PathBuf, ImageField>,
    /// Fields already reported as not fitting their type: not reported missing as well.
    unfit: Vec<String>,
}

impl Validator<'_> {
    /// Resolves an image file named by `field`, remembering where (`written`: the name, or the
    /// glob it matched) for later messages about the image.
    fn image(&mut self, field: &'static str, name: &str, written: &str) -> Option<PathBuf> {
        let path = self.file(field, name)?;
        let (line, col) =
            locate_in_field(self.text, field, written).unwrap_or_else(|| locate(self.text, field));
        self.image_fields
            .entry(path.clone())
            .or_insert_with(|| ImageField {
                field,
                name: written.to_string(),
                line,
                col,
            });
        Some(path)
    }

    fn error(&mut self, key: &str, message: impl Into<String>) {
        let (line, col) = locate(self.text, key);
        self.problems
            .push(Diagnostic::at(self.descriptor, line, col, message));
    }

    /// Reports a problem at `key` of the `index`-th annotation (at its value when it is on
    /// the same line), so each of several annotations' messages points at its own entry.
    fn annotation_error(&mut self, index: usize, key: &str, message: impl Into<String>) {
        let (line, col) = locate_item(self.text, "annotations", index, key)
            .unwrap_or_else(|| locate(self.text, "annotations"));
        self.problems
            .push(Diagnostic::at(self.descriptor, line, col, message));
    }

    fn error_at_value(&mut self, key: &str, value: &str, message: impl Into<String>) {
        let (line, col) = locate_value(self.text, value).unwrap_or_else(|| locate(self.text, key));
        self.problems
            .push(Diagnostic::at(self.descriptor, line, col, message));
    }

    /// Resolves a file named in the descriptor: relative, inside the dataset folder after
    /// following symlinks, and an existing regular file.
    fn file(&mut self, key: &str, name: &str) -> Option<PathBuf> {
        let rel = Path::new(name);
        if name.is_empty()
            || rel.is_absolute()
            || rel.components().any(|c| !matches!(c, Component::Normal(_)))
        {
            self.error_at_value(key, name, format!("'{name}' must be a plain relative path inside the dataset folder (no '..', no absolute path)"));
            return None;
        }
        match self.confined(rel) {
            Ok(path) => Some(path),
            Err(problem) => {
                self.error_at_value(key, name, format!("'{name}' {problem}"));
                None
            }
        }
    }

    /// `dir/rel` if it is a regular file inside the dataset folder after following symlinks;
    /// else what is wrong, to follow the file's name in a message.
    fn confined(&self, rel: &Path) -> Result<PathBuf, &'static str> {
        let resolved = resolve(self.dir, &self.canonical_dir, rel)
            .map_err(|_| "is not found beside the descriptor")?;
        if !resolved.starts_with(&self.canonical_dir) {
            return Err(
                "leads outside the dataset folder (a symlink?); copy the file into the folder",
            );
        }
        if !resolved.is_file() {
            return Err("is not a file");
        }
        Ok(self.dir.join(rel))
    }

    /// The files the description's relative links and images name, each checked like the
    /// descriptor's own files; one per name, sorted.
    fn attachments(&mut self, description: &str) -> Vec<Attachment> {
        let mut found: Vec<Attachment> = Vec::new();
        for url in description::references(description) {
            let problem = match description::split_reference(&url) {
                Some(Ok(reference)) => {
                    if found.iter().any(|a| a.name == reference.name) {
                        continue;
                    }
                    match self.attachment(&reference.name, &found) {
                        Ok((published, file)) => {
                            found.push(Attachment {
                                name: reference.name,
                                published,
                                file,
                            });
                            continue;
                        }
                        Err(problem) => problem,
                    }
                }
                Some(Err(BadReference::Parent)) => "leaves the dataset folder: a relative link or image names a file beside the descriptor, published with the page; link other pages by absolute URL or a path starting with '/'".to_string(),
                Some(Err(BadReference::Folder)) => "names a folder; link a file inside it".to_string(),
                Some(Err(BadReference::Spelling)) => "is not a usable file name (a broken %-escape, a backslash or a control character)".to_string(),
                None => continue,
            };
            let decoded = percent_encoding::percent_decode_str(&url).decode_utf8_lossy();
            let (line, col) = self
                .locate_in_description(&url)
                .or_else(|| self.locate_in_description(&decoded))
                .unwrap_or_else(|| locate(self.text, "description"));
            self.problems.push(Diagnostic::at(
                self.descriptor,
                line,
                col,
                format!("'{url}' in the description {problem}"),
            ));
        }
        found.sort();
        found
    }

    /// Line and column of `value`'s first appearance as a whole URL (between delimiters such
    /// as `(` and `)` or quotes) from the `description:` line on.
    fn locate_in_description(&self, value: &str) -> Option<(usize, usize)> {
        let (from, _) = locate(self.text, "description");
        let delimiter = |c: Option<char>| c.is_none_or(|c| "()<>\"' \t".contains(c));
        self.text
            .lines()
            .enumerate()
            .skip(from - 1)
            .find_map(|(i, line)| {
                let col = line.match_indices(value).map(|(at, _)| at).find(|&at| {
                    delimiter(line[..at].chars().next_back())
                        && delimiter(line[at + value.len()..].chars().next())
                })?;
                Some((i + 1, col + 1))
            })
    }

    /// The name a description reference is published under, and its file, if it may be
    /// published beside the `found` ones.
    fn attachment(&self, name: &str, found: &[Attachment]) -> Result<(String, PathBuf), String> {
        let Some(published) = description::web_name(name) else {
            return Err("has no extension; give the file one (such as .txt or .csv) so browsers and the share-link gate see a file, not a folder".to_string());
        };
        let ext = published.rsplit_once('.').map_or("", |(_, e)| e);
        if ACTIVE.contains(&ext) {
            return Err(format!("is a .{ext} file, whose scripts would run on the site when it is opened; convert it (SVG to PNG, HTML to PDF) or link it where it is hosted"));
        }
        if let Some(other) = found.iter().find(|a| a.published == published) {
            return Err(format!(
                "and '{}' would both be published as files/{published} (names are lowercased, other characters become '-'); rename one",
                other.name
            ));
        }
        let file = self.confined(Path::new(name)).map_err(str::to_string)?;
        Ok((published, file))
    }

    fn images(&mut self, spec: OneOrMany) -> Vec<PathBuf> {
        match spec {
            OneOrMany::Many(list) => list
                .iter()
                .filter_map(|n| self.image("images", n, n))
                .collect(),
            OneOrMany::One(pattern) if is_glob(&pattern) => self
                .glob("images", &pattern)
                .iter()
                .filter_map(|n| self.image("images", n, &pattern))
                .collect(),
            OneOrMany::One(name) => self.image("images", &name, &name).into_iter().collect(),
        }
    }

    /// The names of the dataset folder's files matching a glob (written at `key`), in natural
    /// order (`z2` before `z10`).
    fn glob(&mut self, key: &str, pattern: &str) -> Vec<String> {
        let compiled = match glob::Pattern::new(pattern) {
            Ok(p) => p,
            Err(e) => {
                self.error_at_value(key, pattern, format!("invalid glob '{pattern}': {e}"));
                return Vec::new();
            }
        };
        let mut names: Vec<String> = walkdir::WalkDir::new(self.dir)
            .min_depth(1)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() || e.file_type().is_symlink())
            .filter_map(|e| {
                e.path()
                    .strip_prefix(self.dir)
                    .ok()?
                    .to_str()
                    .map(str::to_string)
            })
            .filter(|rel| compiled.matches(rel))
            .collect();
        names.sort_by(|a, b| natural_cmp(a, b));
        if names.is_empty() {
            self.error_at_value(
                key,
                pattern,
                format!("no file matches '{pattern}' in the dataset folder"),
            );
        }
        names
    }

    /// Reports a problem at `key` of the `index`-th layer.
    fn layer_error(&mut self, index: usize, key: &str, message: impl Into<String>) {
        let (line, col) = locate_item(self.text, "layers", index, key)
            .unwrap_or_else(|| locate(self.text, "layers"));
        self.problems
            .push(Diagnostic::at(self.descriptor, line, col, message));
    }

    /// The layers declared in the descriptor, each checked (id unique among annotations and
    /// layers, kind, visibility against the dataset's, label images inside the folder, the
    /// segments file parsed); the label images' pixels are media's to check.
    fn layers(
        &mut self,
        slug: &str,
        public: bool,
        annotation_ids: &[String],
        raw: Vec<RawLayer>,
    ) -> Vec<LayerRef> {
        let mut layers: Vec<LayerRef> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for (index, l) in raw.into_iter().enumerate() {
            if !is_slug(&l.id) {
                let message = format!(
                    "layer id '{}' must be a slug: lowercase letters, digits and '-'",
                    l.id
                );
                self.layer_error(index, "id", message);
                continue;
            }
            if ids.contains(&l.id) || annotation_ids.contains(&l.id) {
                let message = format!(
                    "layer id '{}' is already the id of an annotation or layer of this dataset; ids are unique among both",
                    l.id
                );
                self.layer_error(index, "id", message);
                continue;
            }
            ids.push(l.id.clone());
            let Some(kind) = l.kind else {
                self.layer_error(index, "id", format!("layer '{}' needs `kind: segmentation` (label images whose pixels hold segment ids)", l.id));
                continue;
            };
            if l.visibility == Visibility::Public && !public {
                self.layer_error(index, "visibility", format!(
                    "layer '{}' is public but dataset '{slug}' is private; a public layer needs a public dataset: make the dataset public or the layer private",
                    l.id
                ));
                continue;
            }
            let (line, col) = locate_item(self.text, "layers", index, "images")
                .unwrap_or_else(|| locate(self.text, "layers"));
            let (written, names) = match &l.images {
                OneOrMany::One(p) if is_glob(p) => (p.clone(), self.glob("images", p)),
                OneOrMany::One(name) => (name.clone(), vec![name.clone()]),
                OneOrMany::Many(list) => (list.join(", "), list.clone()),
            };
            let before = self.problems.len();
            let images: Vec<PathBuf> = names
                .iter()
                .filter_map(|n| self.file("images", n))
                .collect();
            if self.problems.len() > before {
                continue;
            }
            if images.is_empty() {
                self.layer_error(
                    index,
                    "images",
                    format!("layer '{}' names no label image", l.id),
                );
                continue;
            }
            if let Some(bad) = images.iter().find(|p| {
                let ext = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                !matches!(ext.as_str(), "png" | "tif" | "tiff")
            }) {
                self.layer_error(index, "images", format!(
                    "label image '{}' of layer '{}' must be a TIFF or PNG (8-, 16- or 32-bit unsigned gray), which keep every id exactly",
                    bad.strip_prefix(self.dir).unwrap_or(bad).display(), l.id
                ));
                continue;
            }
            let (segments_file, segments) = match &l.segments {
                None => (None, Vec::new()),
                Some(name) => {
                    let Some(file) = self.file("segments", name) else {
                        continue;
                    };
                    match segments::parse_file(&file) {
                        Ok(s) => (Some(file), s),
                        Err(problems) => {
                            self.problems.extend(problems);
                            continue;
                        }
                    }
                }
            };
            layers.push(LayerRef {
                id: l.id,
                kind,
                images,
                images_field: ImageField {
                    field: "images",
                    name: written,
                    line,
                    col,
                },
                segments_file,
                segments,
                visibility: l.visibility,
            });
        }
        layers
    }

    /// The annotations declared in the descriptor, each checked (id, visibility against the
    /// dataset's, file type, unit, offset) and its file parsed; problems are collected.
    fn annotations(
        &mut self,
        slug: &str,
        public: bool,
        raw: Vec<RawAnnotation>,
    ) -> Vec<AnnotationRef> {
        let mut annotations: Vec<AnnotationRef> = Vec::new();
        for (index, a) in raw.into_iter().enumerate() {
            if !is_slug(&a.id) {
                self.error_at_value(
                    "id",
                    &a.id,
                    format!(
                        "annotation id '{}' must be a slug: lowercase letters, digits and '-'",
                        a.id
                    ),
                );
                continue;
            }
            if annotations.iter().any(|b| b.id == a.id) {
                self.error_at_value(
                    "id",
                    &a.id,
                    format!("annotation id '{}' is used twice in this dataset", a.id),
                );
                continue;
            }
            if a.visibility == Visibility::Public && !public {
                self.error_at_value(
                    "id",
                    &a.id,
                    format!(
                        "annotation '{}' is public but dataset '{slug}' is private; a public annotation needs a public dataset: make the dataset public or the annotation private",
                        a.id
                    ),
                );
            }
            let ext = Path::new(&a.file)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if ext != "swc" && ext != "nml" {
                let hint = if ext == "zip" {
                    " (a webKnossos `.zip` download holds the `.nml`: unpack it and name the `.nml`)"
                } else {
                    ""
                };
                self.annotation_error(
                    index,
                    "file",
                    format!(
                        "annotation file '{}' must be SWC (.swc) or webKnossos NML (.nml){hint}",
                        a.file
                    ),
                );
                continue;
            }
            let unit_nm = match (&a.unit, ext.as_str()) {
                (None, _) => None,
                (Some(_), "nml") => {
                    self.annotation_error(index, "unit", "`unit` is for SWC files: an NML file states its unit in <scale unit=\"…\">; remove `unit` here");
                    continue;
                }
                (Some(unit), _) => match annotation::unit::nm_per(unit) {
                    Some(nm) => Some(nm),
                    None => {
                        self.annotation_error(
                            index,
                            "unit",
                            format!(
                                "unit '{unit}' is not a length unit; use one of: {}",
                                annotation::unit::accepted()
                            ),
                        );
                        continue;
                    }
                },
            };
            let offset_nm = match a.offset_nm.as_deref() {
                None => [0.0; 3],
                Some(&[x, y, z]) if [x, y, z].iter().all(|v| v.is_finite()) => [x, y, z],
                Some(_) => {
                    self.annotation_error(
                        index,
                        "offset_nm",
                        "offset_nm must be three numbers [x, y, z] in nanometres, added to the tracing's positions to place it on the image",
                    );
                    continue;
                }
            };
            let Some(file) = self.file("file", &a.file) else {
                continue;
            };
            let mut skeleton = match annotation::parse_file(&file) {
                Ok(s) => s,
                Err(problems) => {
                    self.problems.extend(problems);
                    continue;
                }
            };
            if let Some(nm) = unit_nm {
                skeleton.scale_nm = [nm; 3];
            }
            annotations.push(AnnotationRef {
                skeleton,
                display_name: a.display_name.unwrap_or_else(|| a.id.clone()),
                id: a.id,
                file,
                visibility: a.visibility,
                declared_at: locate_item(self.text, "annotations", index, "id")
                    .unwrap_or_else(|| locate(self.text, "annotations")),
                offset_nm,
            });
        }
        annotations
    }

    /// The thumbnail (the preview slice of the images when none is named) and the viewer's
    /// images, each resolved inside the folder and of a format the media stage reads; problems
    /// are collected.
    fn thumbnail_and_images(
        &mut self,
        thumbnail: Option<String>,
        images: Option<OneOrMany>,
        preview_slice: Option<usize>,
    ) -> (Option<PathBuf>, Vec<PathBuf>) {
        // Images that were named but not found are reported where they are named; the
        // thumbnail they would have given is then not reported missing too.
        let images_named = images.is_some() || self.unfit.iter().any(|k| k == "images");
        let images = images.map(|spec| self.images(spec)).unwrap_or_default();
        // One image may be a multi-page TIFF, whose pages the media stage counts: its slice
        // is checked when the page is rendered (`render::context`).
        if let Some(k) = preview_slice.filter(|&k| images.len() > 1 && k >= images.len()) {
            self.error(
                "preview_slice",
                format!(
                    "preview_slice {k} is past the last slice: the stack has {} (0 to {}; \
                     slices count from 0, like z in the volume)",
                    images.len(),
                    images.len() - 1
                ),
            );
        }
        let thumbnail = match &thumbnail {
            Some(name) => self.image("thumbnail", name, name),
            None if !images.is_empty() => {
                let k = Dataset::preview_index(preview_slice, images.len());
                Some(images[k.min(images.len() - 1)].clone())
            }
            None if images_named || self.unfit.iter().any(|k| k == "thumbnail") => None,
            None => {
                self.problems.push(Diagnostic::at(self.descriptor, 1, 1, "thumbnail is required: an image file beside the descriptor (PNG, JPEG, TIFF or WebP)"));
                None
            }
        };
        let mut named: Vec<&PathBuf> = thumbnail.iter().chain(&images).collect();
        named.sort();
        named.dedup();
        for path in named {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !matches!(
                ext.as_str(),
                "png" | "jpg" | "jpeg" | "tif" | "tiff" | "webp"
            ) {
                let problem = "not a supported image format: use PNG, JPEG, TIFF or WebP (convert a GIF to PNG, for one)";
                let diagnostic =
                    Dataset::image_problem_in(self.descriptor, &self.image_fields, path, problem);
                self.problems.push(diagnostic);
            }
        }
        (thumbnail, images)
    }

    /// The descriptor's fields checked one by one, each step reporting its own problems, then
    /// the dataset if none were found.
    fn finish(mut self, slug: &str, raw: RawDataset) -> Result<Dataset, Vec<Diagnostic>> {
        let display_name = self.display_name(raw.display_name.as_deref());
        let (thumbnail, images) =
            self.thumbnail_and_images(raw.thumbnail, raw.images, raw.preview_slice);
        let voxel_size_nm = self.voxel_size(raw.voxel_size_nm);
        self.check_license(raw.license.as_deref());
        let doi = self.doi(raw.doi.as_deref());
        let published = self.published(raw.published.as_deref());
        let tags = self.tags(&raw.tags);
        self.check_links(&raw.links);
        let volume = self.volume(raw.volume.as_deref());

        let public = raw.visibility == Visibility::Public;
        let annotation_ids: Vec<String> = raw.annotations.iter().map(|a| a.id.clone()).collect();
        let annotations = self.annotations(slug, public, raw.annotations);
        let layers = self.layers(slug, public, &annotation_ids, raw.layers);

        let attachments = self.attachments(&raw.description);

        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok(Dataset {
            slug: slug.to_string(),
            dir: self.dir.to_path_buf(),
            descriptor: self.descriptor.to_path_buf(),
            display_name,
            description: raw.description,
            visibility: raw.visibility,
            thumbnail: thumbnail.expect("checked above"),
            images,
            preview_slice: raw.preview_slice,
            image_fields: self.image_fields,
            voxel_size_nm,
            authors: raw
                .authors
                .into_iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            license: raw.license,
            doi,
            tags,
            published,
            links: raw.links,
            volume,
            species: non_blank(raw.species),
            region: non_blank(raw.region),
            modality: non_blank(raw.modality),
            featured: raw.featured,
            annotations,
            layers,
            attachments,
        })
    }

    /// The gallery's name for the dataset, trimmed; required.
    fn display_name(&mut self, written: Option<&str>) -> String {
        let display_name = written.map(str::trim).unwrap_or_default().to_string();
        if display_name.is_empty() && !self.unfit.iter().any(|k| k == "display_name") {
            let (line, col) = if written.is_some() {
                locate(self.text, "display_name")
            } else {
                (1, 1)
            };
            self.problems.push(Diagnostic::at(
                self.descriptor,
                line,
                col,
                "display_name is required: the name shown in the gallery",
            ));
        }
        display_name
    }

    fn voxel_size(&mut self, written: Option<Vec<f64>>) -> Option<[f64; 3]> {
        match written? {
            v if v.len() == 3 && v.iter().all(|x| x.is_finite() && *x > 0.0) => {
                Some([v[0], v[1], v[2]])
            }
            _ => {
                self.error(
                    "voxel_size_nm",
                    "voxel_size_nm must be three positive numbers [x, y, z] in nanometres",
                );
                None
            }
        }
    }

    fn check_license(&mut self, license: Option<&str>) {
        let Some(license) = license else { return };
        if license.is_empty()
            || !license
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.+".contains(c))
        {
            self.error(
                "license",
                format!("license '{license}' is not an SPDX identifier such as CC-BY-4.0"),
            );
        }
    }

    /// The bare DOI (`10.…/…`), whether written bare, as `doi:` or as a doi.org URL.
    fn doi(&mut self, written: Option<&str>) -> Option<String> {
        let d = written?
            .trim()
            .trim_start_matches("https://doi.org/")
            .trim_start_matches("http://doi.org/")
            .trim_start_matches("doi:")
            .to_string();
        if !d.starts_with("10.") || !d.contains('/') {
            self.error("doi", format!("doi '{d}' is not a DOI (it starts with '10.' and has a '/', e.g. 10.5281/zenodo.123)"));
        }
        Some(d)
    }

    fn published(&mut self, written: Option<&str>) -> Option<NaiveDate> {
        let p = written?;
        match NaiveDate::parse_from_str(p.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(
                    "published",
                    format!("published '{p}' is not a date like 2024-05-31"),
                );
                None
            }
        }
    }

    /// Tags lower-cased and deduplicated; each becomes a path segment of the tag pages.
    fn tags(&mut self, written: &[String]) -> Vec<String> {
        let mut tags = Vec::new();
        for tag in written {
            let t = tag.trim().to_lowercase();
            if t.is_empty() || t.contains(['/', '\\', '?', '#']) {
                self.error_at_value(
                    "tags",
                    tag,
                    format!("tag '{tag}' must be non-empty and contain no '/', '\\\\', '?' or '#'"),
                );
            } else if !tags.contains(&t) {
                tags.push(t);
            }
        }
        tags
    }

    fn check_links(&mut self, links: &BTreeMap<String, String>) {
        for (name, url) in links {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                self.error_at_value(
                    "links",
                    url,
                    format!("link '{name}' must be an absolute http(s) URL"),
                );
            }
        }
    }

    fn volume(&mut self, written: Option<&str>) -> Option<super::RemoteVolume> {
        let value = written?;
        match super::RemoteVolume::parse(value) {
            Ok(volume) => Some(volume),
            Err(problem) => {
                self.error_at_value("volume", value.trim(), problem);
                None
            }
        }
    }
}

/// An optional free-text field, dropped when blank.
fn non_blank(text: Option<String>) -> Option<String> {
    text.filter(|s| !s.trim().is_empty())
}

/// Line and column of `value` written as a whole scalar (bare, quoted, in a `[…]` list or a
/// `- ` item) from the line of the top-level `key` to the next top-level key.
fn locate_in_field(text: &str, key: &str, value: &str) -> Option<(usize, usize)> {
    let mut lines = text.lines().enumerate();
    let (first, line) = lines.find(|(_, l)| {
        l.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    })?;
    let delimiter = |c: Option<char>| c.is_none_or(|c| " \t[],'\"-:#".contains(c));
    let find = |line: &str| {
        line.match_indices(value).map(|(at, _)| at).find(|&at| {
            delimiter(line[..at].chars().next_back())
                && delimiter(line[at + value.len()..].chars().next())
        })
    };
    let column = |line: &str, at: usize| line[..at].chars().count() + 1;
    if let Some(at) = find(&line[key.len()..]) {
        return Some((first + 1, column(line, key.len() + at)));
    }
    for (i, line) in lines {
        if !line.starts_with([' ', '\t', '-']) && !line.trim().is_empty() && !line.starts_with('#')
        {
            return None;
        }
        if let Some(at) = find(line) {
            return Some((i + 1, column(line, at)));
        }
    }
    None
}

/// Whether an `images` value is a glob rather than a file name.
fn is_glob(name: &str) -> bool {
    name.contains(['*', '?', '['])
}

/// Line and column of `key` in the `index`-th item of the top-level list `list` (its value
/// when the value is on the key's line): a text scan, since the YAML parser keeps no positions.
fn locate_item(text: &str, list: &str, index: usize, key: &str) -> Option<(usize, usize)> {
    let mut lines = text.lines().enumerate();
    lines.find(|(_, l)| {
        l.strip_prefix(list)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    })?;
    let mut item: Option<usize> = None;
    let mut item_indent = None;
    for (i, line) in lines {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if indent == 0 && !body.starts_with("- ") {
            return None;
        }
        let mut field = body;
        if let Some(rest) = body.strip_prefix("- ") {
            if item_indent.is_none_or(|at| indent <= at) {
                item_indent = Some(indent);
                item = Some(item.map_or(0, |n| n + 1));
            }
            field = rest.trim_start();
        }
        if item == Some(index) {
            if let Some(rest) = field
                .strip_prefix(key)
                .filter(|r| r.trim_start().starts_with(':'))
            {
                let value = rest.trim_start()[1..].trim_start();
                let at = if value.is_empty() {
                    line.len() - field.len()
                } else {
                    line.len() - value.len()
                };
                return Some((i + 1, line[..at].chars().count() + 1));
            }
        } else if item.is_some_and(|n| n > index) {
            return None;
        }
    }
    None
}

/// A slug suggestion for an invalid folder name.
fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "dataset".to_string()
    } else {
        out.chars().take(64).collect()
    }
}

/// Compares names so that runs of digits compare by value: `z2.png` < `z10.png`.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (trim_zeros(&a[..na]), trim_zeros(&b[..nb]));
                let ord = da.len().cmp(&db.len()).then(da.cmp(db));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["z10.png", "z2.png", "z1.png", "z02.png"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["z1.png", "z2.png", "z02.png", "z10.png"]);
    }

    #[test]
    fn items_of_a_list_are_located_one_by_one() {
        let text = "display_name: X\nannotations:\n  - id: a\n    unit: mm\n  - id: b\n    # note\n    unit: furlong\n    offset_nm:\n      - 1\ntags: [a]\n";
        assert_eq!(locate_item(text, "annotations", 0, "unit"), Some((4, 11)));
        assert_eq!(locate_item(text, "annotations", 1, "unit"), Some((7, 11)));
        assert_eq!(locate_item(text, "annotations", 1, "id"), Some((5, 9)));
        assert_eq!(
            locate_item(text, "annotations", 1, "offset_nm"),
            Some((8, 5))
        );
        assert_eq!(locate_item(text, "annotations", 2, "id"), None);
    }

    #[test]
    fn slug_suggestions() {
        assert_eq!(slugify("My Dataset (2024)"), "my-dataset-2024");
        assert_eq!(slugify("!!!"), "dataset");
    }
}
