//! What templates see: the site, the page and each dataset, shaped as docs/architecture.md says.
//!
//! Everything that does not depend on where it is shown (rendered description, citation,
//! JSON-LD) is computed once per dataset in [`Prepared`]; [`Prepared::view`] then adds the URLs,
//! which are **relative to the page that renders them** so a site works from any folder.

use crate::content::model::BaseUrl;
use std::borrow::Cow;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use serde::Serialize;

use super::{markdown, MediaIndex, RenderOptions};
use crate::content::model::{Content, Dataset};
use crate::media::{self, Derived, RemoteInfo, Rendition, Volume};

/// The `sizes` attribute of gallery cards: one column on phones, a grid of ~20rem cards above.
pub const CARD_SIZES: &str = "(min-width: 72rem) 22rem, (min-width: 40rem) 45vw, 100vw";
/// The `sizes` attribute of the large preview on a dataset page.
pub const PREVIEW_SIZES: &str = "(min-width: 64rem) 48rem, 100vw";

/// `site` in every template.
#[derive(Debug, Serialize)]
pub struct SiteView<'a> {
    pub title: &'a str,
    pub base_url: &'a str,
    pub description_html: String,
    pub hosting: crate::content::model::Hosting,
}

impl<'a> SiteView<'a> {
    /// The view of `config` for a build addressed at `base_url`: the one way every page, the
    /// refusal pages and the edge modules see the site.
    pub fn of(config: &'a crate::content::model::SiteConfig, base_url: &'a str) -> SiteView<'a> {
        SiteView {
            title: &config.title,
            base_url,
            description_html: super::markdown::to_html(&config.description),
            hosting: config.hosting,
        }
    }
}

/// `page` in every template.
#[derive(Debug, Serialize)]
pub struct PageView {
    /// Output folder, e.g. `datasets/foo/` (empty for the root).
    pub path: String,
    /// Relative prefix back to the site root, e.g. `../../`, or `./` at the root (the 404 page
    /// gets an absolute path).
    pub root: String,
    /// Absolute URL of the page; `None` on private pages, which must not point at a public one.
    pub canonical: Option<String>,
    /// Whether the page is under `private/` (templates add `noindex`).
    pub private: bool,
    /// The document title.
    pub title: String,
    /// The meta description.
    pub description: String,
}

impl PageView {
    /// A page in the output folder `dir` (`""` or ending in `/`).
    pub fn new(
        dir: &str,
        base_url: &BaseUrl,
        private: bool,
        title: String,
        description: String,
    ) -> Self {
        PageView {
            path: dir.to_string(),
            root: match root_of(dir) {
                root if root.is_empty() => "./".to_string(),
                root => root,
            },
            canonical: (!private).then(|| base_url.join(dir)),
            private,
            title,
            description,
        }
    }
}

/// `../` once per folder level of `dir`: the way back to the site root.
pub fn root_of(dir: &str) -> String {
    "../".repeat(dir.matches('/').count())
}

/// `target` (site-root-relative) as seen from the page folder `from_dir`: below the page it
/// stays below it (so gated media stay under the gated path), otherwise it climbs to the root.
pub fn relative(from_dir: &str, target: &str) -> String {
    let rel = match target.strip_prefix(from_dir) {
        Some(below) => below.to_string(),
        None => format!("{}{target}", root_of(from_dir)),
    };
    if rel.is_empty() {
        "./".to_string()
    } else {
        rel
    }
}

/// A tag as a URL segment: ASCII letters and digits kept, everything else one `-`; a tag with
/// none of those gets a short hash so it still has a page.
pub fn tag_slug(tag: &str) -> String {
    let mut slug = String::new();
    for c in tag.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        format!("tag-{}", &blake3::hash(tag.as_bytes()).to_hex()[..8])
    } else {
        slug
    }
}

/// The folder of page `number` (from 1) of the listing at `dir`: the listing's own folder for
/// the first, `page/<n>/` below it for the others.
pub fn listing_page_dir(dir: &str, number: usize) -> String {
    match number {
        1 => dir.to_string(),
        n => format!("{dir}page/{n}/"),
    }
}

/// How many pages a listing of `total` datasets takes, `per_page` to a page (one when empty).
pub fn listing_pages(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page).max(1)
}

/// Where one page of a listing stands among the others: what templates need to show "page 2 of
/// 17" and links that work without JavaScript.
#[derive(Debug, Serialize)]
pub struct Pagination {
    /// This page's number, from 1.
    pub number: usize,
    /// How many pages the listing has.
    pub pages: usize,
    /// Datasets in the whole listing.
    pub total: usize,
    /// The first and last dataset shown here, counted from 1 (0 and 0 on an empty listing).
    pub first: usize,
    pub last: usize,
    /// Relative links to the previous and next page, where there is one.
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The first and last page, and two on each side of this one, in order; `None` where pages
    /// are left out (shown as an ellipsis).
    pub links: Vec<Option<PageLink>>,
}

/// A link to one page of a listing.
#[derive(Debug, Serialize)]
pub struct PageLink {
    pub number: usize,
    pub url: String,
    pub current: bool,
}

impl Pagination {
    /// Page `number` of the listing at `dir` of `total` datasets, `per_page` to a page.
    pub fn new(dir: &str, number: usize, total: usize, per_page: usize) -> Pagination {
        let pages = listing_pages(total, per_page);
        let here = listing_page_dir(dir, number);
        let url = |n: usize| relative(&here, &listing_page_dir(dir, n));
        let mut links = Vec::new();
        for n in 1..=pages {
            if n == 1 || n == pages || n.abs_diff(number) <= 2 {
                links.push(Some(PageLink {
                    number: n,
                    url: url(n),
                    current: n == number,
                }));
            } else if links.last().is_some_and(Option::is_some) {
                links.push(None);
            }
        }
        Pagination {
            number,
            pages,
            total,
            first: if total == 0 {
                0
            } else {
                (number - 1) * per_page + 1
            },
            last: total.min(number * per_page),
            prev: (number > 1).then(|| url(number - 1)),
            next: (number < pages).then(|| url(number + 1)),
            links,
        }
    }
}

/// The site-root-relative folder of a tag's page.
pub fn tag_dir(tag: &str) -> String {
    format!("tags/{}/", tag_slug(tag))
}

/// A dataset with everything computed that does not depend on the page showing it.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub dataset: &'a Dataset,
    /// The markdown, citation and JSON-LD, shared with the next plan's memo.
    pub texts: Arc<Texts>,
    /// The derived thumbnail set of `dataset.thumbnail`.
    pub thumb: &'a Derived,
    /// The viewer's images: `dataset.images`, or the thumbnail when there are none.
    pub slices: Vec<&'a Derived>,
    /// The slice the 2D viewer and the 3D view open on ([`Dataset::preview_index`]).
    pub initial_slice: usize,
    /// Absolute URL of the largest preview rendition (Open Graph, JSON-LD, feed).
    pub preview_absolute: String,
    /// The OME-Zarr volume of a z-stack.
    pub volume: Option<&'a Volume>,
    /// What the dataset's `volume:` says about itself, when it could be read.
    pub remote: Option<&'a RemoteInfo>,
    /// The parts of a card that no page changes, made once for the dataset's every card.
    fixed: Fixed,
}

/// See [`Prepared::card`].
#[derive(Debug)]
struct Fixed {
    published: Option<String>,
    published_display: Option<String>,
    alt: String,
    tags: Vec<(String, String)>,
}

/// The texts [`Prepared::new`] makes from a dataset's descriptor and the site's settings: the
/// markdown rendered and sanitised, the citation and the JSON-LD. `vitrine serve` keeps them
/// between rebuilds under the dataset's digest, so an edit makes the edited dataset's alone.
#[derive(Debug, Clone)]
pub struct Texts {
    /// The description as the dataset's own page shows it (its files under `files/`).
    pub description_html: String,
    pub summary: String,
    pub citation: Citation,
    /// Empty for a private dataset.
    pub jsonld: String,
}

/// The citation block: plain text and BibTeX.
#[derive(Debug, Clone, Serialize)]
pub struct Citation {
    pub text: String,
    pub bibtex: String,
}

impl<'a> Prepared<'a> {
    /// Looks up the dataset's derived images and computes its page-independent parts, taking
    /// the texts from `known` when it has them (made from the same dataset and settings).
    pub fn new(
        dataset: &'a Dataset,
        content: &Content,
        media: &'a MediaIndex,
        opts: &RenderOptions,
        known: Option<&Arc<Texts>>,
    ) -> Result<Self> {
        let lookup = |path: &std::path::Path| -> Result<&'a Derived> {
            let derived = media.get(path).ok_or_else(|| {
                anyhow!(
                    "{}: no derived images for `{}` (the media stage did not process it)",
                    dataset.descriptor.display(),
                    path.display()
                )
            })?;
            if derived.thumbnails.is_empty() {
                return Err(anyhow!(
                    "{}: `{}` has no thumbnails (the media stage made none)",
                    dataset.descriptor.display(),
                    path.display()
                ));
            }
            Ok(derived)
        };
        let named = lookup(&dataset.thumbnail)?;
        // A multi-page TIFF is a z-stack by itself: each of its pages is a slice.
        let slices: Vec<&Derived> = if dataset.images.is_empty() {
            named.slices().collect()
        } else {
            dataset
                .images
                .iter()
                .map(|p| lookup(p))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flat_map(Derived::slices)
                .collect()
        };
        if let Some(k) = dataset.preview_slice.filter(|&k| k >= slices.len()) {
            return Err(anyhow!(
                "{}: preview_slice {k} is past the last slice: the stack has {} (0 to {}; slices \
                 count from 0, like z in the volume)",
                dataset.descriptor.display(),
                slices.len(),
                slices.len() - 1
            ));
        }
        let initial_slice = Dataset::preview_index(dataset.preview_slice, slices.len());
        // The thumbnail of a stack that is one file (a multi-page TIFF) is its preview page.
        let stack_is_thumbnail = match dataset.images.as_slice() {
            [] => true,
            [only] => *only == dataset.thumbnail,
            _ => false,
        };
        let thumb = if stack_is_thumbnail {
            slices[initial_slice]
        } else {
            named
        };
        let largest = largest(thumb);
        let preview_absolute = opts.base_url.join(&format!(
            "{}{}",
            dataset.media_dir(&thumb.hash),
            largest.name
        ));
        let texts = match known {
            Some(texts) => texts.clone(),
            None => {
                let page_url = opts.base_url.join(&dataset.public_dir());
                Arc::new(Texts {
                    description_html: markdown::description_html(dataset, "files/"),
                    summary: markdown::summary(&dataset.description),
                    citation: citation(dataset, &content.config.title, &page_url),
                    jsonld: String::new(),
                })
            }
        };
        let mut prepared = Prepared {
            dataset,
            texts,
            thumb,
            slices,
            initial_slice,
            preview_absolute,
            volume: media.volume(&dataset.dir),
            remote: media.remote.get(&dataset.dir),
            fixed: Fixed {
                published: dataset.published.map(|p| p.format("%Y-%m-%d").to_string()),
                published_display: dataset.published.map(|p| p.format("%-d %B %Y").to_string()),
                alt: alt_text(dataset),
                tags: dataset
                    .tags
                    .iter()
                    .map(|tag| (tag_slug(tag), tag_dir(tag)))
                    .collect(),
            },
        };
        if known.is_none() && dataset.is_public() {
            let jsonld = prepared.jsonld(content, opts);
            Arc::make_mut(&mut prepared.texts).jsonld = jsonld;
        }
        Ok(prepared)
    }

    /// The description's HTML with its file links right from `from_dir`: the one made for
    /// the dataset's own page, unless another page (an annotation's) shows it.
    fn description_from(&self, from_dir: &str) -> Cow<'_, str> {
        if from_dir == self.dataset.output_dir() {
            return Cow::Borrowed(&self.texts.description_html);
        }
        self.description_linking(|files| relative(from_dir, files))
    }

    /// The description for a feed reader, which resolves no relative URL: file links absolute.
    pub fn description_absolute(&self, base_url: &BaseUrl) -> Cow<'_, str> {
        self.description_linking(|files| base_url.join(files))
    }

    /// The description with its file links pointing at `url` of the site-relative `files/`
    /// folder; the page's own HTML when it links no file.
    fn description_linking(&self, url: impl FnOnce(&str) -> String) -> Cow<'_, str> {
        let d = self.dataset;
        if d.attachments.is_empty() {
            return Cow::Borrowed(&self.texts.description_html);
        }
        Cow::Owned(markdown::description_html(d, &url(&d.files_dir())))
    }

    /// The dataset as a template sees it from the page folder `from_dir`.
    pub fn view(&self, from_dir: &str, opts: &RenderOptions) -> DatasetView<'_> {
        let d = self.dataset;
        // What a page may list: public items, and every item on a private dataset's own page
        // (only its dataset link opens it). A private annotation's or layer's page opens with
        // its own link, so it lists no other private item: nothing of one private item reaches
        // the holder of another's link.
        let dataset_page = !d.is_public() && from_dir == d.output_dir();
        let listed = |public: bool, dir: &str| public || dataset_page || from_dir == dir;
        let media = |derived: &Derived, name: &str| {
            relative(from_dir, &format!("{}{name}", d.media_dir(&derived.hash)))
        };
        let first = self.slices[0];
        // A TIFF's ImageJ or OME metadata stands in for a voxel size the descriptor omits.
        let voxel_size_nm = d.voxel_size_nm.or(first.voxel_size_nm);
        DatasetView {
            card: self.card(from_dir),
            description_html: self.description_from(from_dir),
            license: d.license.as_deref(),
            license_url: d.license.as_deref().map(license_url),
            doi: d.doi.as_deref(),
            doi_url: d.doi.as_deref().map(doi_url),
            voxel_size_nm,
            voxel_size: voxel_size_nm.map(format_voxel),
            dimensions: Dimensions {
                width: first.info.width,
                height: first.info.height,
                slices: self.slices.len(),
            },
            links: d
                .links
                .iter()
                .map(|(name, url)| Link { name, url })
                .collect(),
            annotations: d
                .annotations
                .iter()
                .filter(|a| listed(a.is_public_in(d), &a.output_dir(d)))
                .map(|a| {
                    let stats = a.skeleton.stats();
                    AnnotationView {
                        id: &a.id,
                        display_name: &a.display_name,
                        url: relative(from_dir, &a.output_dir(d)),
                        trees: stats.trees,
                        nodes: stats.nodes,
                        private: !a.is_public_in(d),
                    }
                })
                .collect(),
            layers: d
                .layers
                .iter()
                .filter(|l| listed(l.is_public_in(d), &l.output_dir(d)))
                .map(|l| LayerLink {
                    id: &l.id,
                    url: relative(from_dir, &l.output_dir(d)),
                    private: !l.is_public_in(d),
                })
                .collect(),
            viewer: Viewer {
                slices: self
                    .slices
                    .iter()
                    .map(|derived| {
                        let fallback = largest(derived);
                        let pyramid = derived.pyramid.as_ref().filter(|_| opts.pyramids);
                        Slice {
                            dzi: pyramid.map(|_| media(derived, "tiles.dzi")),
                            tiles: pyramid.map(|p| Tiles {
                                size: p.tile_size,
                                overlap: p.overlap,
                                format: p.format,
                            }),
                            width: pyramid.map_or(derived.info.width, |p| p.width),
                            height: pyramid.map_or(derived.info.height, |p| p.height),
                            fallback: Fallback {
                                src: media(derived, &fallback.name),
                                width: fallback.width,
                                height: fallback.height,
                            },
                            display: derived.display.as_ref().map(|shown| {
                                let raw = derived.raw_pyramid.as_ref().filter(|_| opts.pyramids);
                                SliceDisplay::of(shown, raw.map(|_| media(derived, "raw.dzi")))
                            }),
                        }
                    })
                    .collect(),
                voxel_size_nm,
                private: !d.is_public(),
                slice: self.initial_slice,
            },
            remote_volume: d.volume.as_ref().map(|v| {
                let info = self.remote;
                RemoteVolumeView {
                    url: &v.url,
                    format: v.format_name,
                    location: &v.location,
                    size: info.map(|i| i.size),
                    channels: info.map(|i| i.channels),
                    data_type: info.map(|i| i.data_type.as_str()),
                    voxel_size: info.and_then(|i| i.voxel_size_nm).map(format_voxel),
                    levels: info.map(|i| i.levels),
                    neuroglancer_url: neuroglancer_url(&v.url, &d.slug, info),
                    webknossos_url: webknossos_url(&v.location),
                }
            }),
            volume: self.volume.map(|v| {
                let dir = super::volume_dir(d, v);
                VolumeView {
                    url: relative(from_dir, &dir),
                    absolute_url: opts.base_url.join(&dir),
                    ngff_version: crate::media::NGFF_VERSION,
                    shape: v.shape,
                    channels: v.channels,
                    data_type: &v.data_type,
                    levels: v.levels,
                    chunk: v.chunk,
                    size: format_bytes(v.bytes),
                }
            }),
            citation: &self.texts.citation,
            jsonld: &self.texts.jsonld,
        }
    }

    /// The dataset as a listing's card shows it from the page folder `from_dir`.
    pub fn card(&self, from_dir: &str) -> CardView<'_> {
        let d = self.dataset;
        let on_private_page = from_dir.starts_with("private/");
        let media = |name: &str| {
            relative(
                from_dir,
                &format!("{}{name}", d.media_dir(&self.thumb.hash)),
            )
        };
        let card = card_rendition(self.thumb);
        let large = largest(self.thumb);
        CardView {
            slug: &d.slug,
            url: relative(from_dir, &d.output_dir()),
            display_name: &d.display_name,
            summary: &self.texts.summary,
            authors: &d.authors,
            published: self.fixed.published.as_deref(),
            published_display: self.fixed.published_display.as_deref(),
            tags: d
                .tags
                .iter()
                .zip(&self.fixed.tags)
                .map(|(tag, (slug, dir))| TagView {
                    name: tag,
                    slug,
                    url: (!on_private_page).then(|| relative(from_dir, dir)),
                })
                .collect(),
            species: d.species.as_deref(),
            region: d.region.as_deref(),
            modality: d.modality.as_deref(),
            featured: d.featured,
            private: !d.is_public(),
            preview: Preview {
                src: media(&card.name),
                srcset: self
                    .thumb
                    .thumbnails
                    .iter()
                    .map(|r| format!("{} {}w", media(&r.name), r.width))
                    .collect::<Vec<_>>()
                    .join(", "),
                webp_srcset: self
                    .thumb
                    .webp_thumbnails
                    .iter()
                    .map(|r| format!("{} {}w", media(&r.name), r.width))
                    .collect::<Vec<_>>()
                    .join(", "),
                sizes: CARD_SIZES,
                page_sizes: PREVIEW_SIZES,
                width: card.width,
                height: card.height,
                large: media(&large.name),
                large_width: large.width,
                large_height: large.height,
                alt: &self.fixed.alt,
                absolute_url: &self.preview_absolute,
            },
        }
    }

    /// schema.org `Dataset` JSON-LD, safe to place inside `<script>`.
    fn jsonld(&self, content: &Content, opts: &RenderOptions) -> String {
        let d = self.dataset;
        let url = opts.base_url.join(&d.output_dir());
        let mut keywords = d.tags.clone();
        keywords.extend(
            [&d.species, &d.region, &d.modality]
                .into_iter()
                .flatten()
                .cloned(),
        );
        let mut value = serde_json::json!({
            "@context": "https://schema.org",
            "@type": "Dataset",
            "name": d.display_name,
            "description": if self.texts.summary.is_empty() { d.display_name.clone() } else { self.texts.summary.clone() },
            "url": url,
            "image": self.preview_absolute,
            "isAccessibleForFree": true,
            "includedInDataCatalog": {
                "@type": "DataCatalog",
                "name": content.config.title,
                "url": opts.base_url.join(""),
            },
            "distribution": self.slices.iter().enumerate().map(|(i, derived)| {
                let (path, format) = match derived.pyramid.as_ref().filter(|_| opts.pyramids) {
                    Some(_) => ("tiles.dzi".to_string(), "application/xml"),
                    None => (largest(derived).name.clone(), largest(derived).mime),
                };
                serde_json::json!({
                    "@type": "DataDownload",
                    "name": format!("{} (slice {} of {})", d.display_name, i + 1, self.slices.len()),
                    "contentUrl": opts.base_url.join(&format!("{}{path}", d.media_dir(&derived.hash))),
                    "encodingFormat": format,
                })
            }).collect::<Vec<_>>(),
        });
        let object = value.as_object_mut().expect("built as an object");
        if !d.authors.is_empty() {
            object.insert(
                "creator".into(),
                d.authors
                    .iter()
                    .map(|name| serde_json::json!({"@type": "Person", "name": name}))
                    .collect(),
            );
        }
        if let Some(license) = &d.license {
            object.insert("license".into(), license_url(license).into());
        }
        if let Some(doi) = &d.doi {
            object.insert("identifier".into(), doi_url(doi).into());
            object.insert("sameAs".into(), doi_url(doi).into());
        }
        if !keywords.is_empty() {
            object.insert("keywords".into(), keywords.into());
        }
        if let Some(published) = d.published {
            object.insert(
                "datePublished".into(),
                published.format("%Y-%m-%d").to_string().into(),
            );
        }
        if let Some(modality) = &d.modality {
            object.insert("measurementTechnique".into(), modality.clone().into());
        }
        let layers: Vec<serde_json::Value> = d
            .layers
            .iter()
            .filter(|l| l.is_public_in(d))
            .map(|l| {
                serde_json::json!({
                    "@type": "Dataset",
                    "name": format!("{} — segmentation {}", d.display_name, l.id),
                    "description": format!("Segmentation (label images) “{}” of {}", l.id, d.display_name),
                    "url": opts.base_url.join(&l.output_dir(d)),
                    "isAccessibleForFree": true,
                })
            })
            .collect();
        if !layers.is_empty() {
            object.insert("hasPart".into(), layers.into());
        }
        script_safe_json(&value)
    }
}

/// JSON with `<`, `>` and `&` as `\u` escapes, so `</script>` in a value cannot end the tag.
pub fn script_safe_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value)
        .expect("a JSON value always serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The widest thumbnail (thumbnails are ascending and never empty here).
fn largest(derived: &Derived) -> &Rendition {
    derived
        .thumbnails
        .last()
        .expect("checked non-empty in Prepared::new")
}

/// The `src` of a card: the narrowest thumbnail at least 480 px wide, or the widest there is.
fn card_rendition(derived: &Derived) -> &Rendition {
    derived
        .thumbnails
        .iter()
        .find(|r| r.width >= 480)
        .unwrap_or_else(|| largest(derived))
}

/// SPDX's page for a license id.
pub fn license_url(id: &str) -> String {
    format!("https://spdx.org/licenses/{id}.html")
}

/// The resolver URL of a DOI.
pub fn doi_url(doi: &str) -> String {
    format!("https://doi.org/{doi}")
}

/// `812 B`, `4.6 kB`, `12.4 MB`, `3.1 GB` (decimal units, as file managers show them).
pub(crate) fn format_bytes(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.1} GB", bytes as f64 / 1e9),
    }
}

/// `4 × 4 × 40 nm`, without trailing zeros.
fn format_voxel(v: [f64; 3]) -> String {
    let n = |x: f64| {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    format!("{} × {} × {} nm", n(v[0]), n(v[1]), n(v[2]))
}

/// Alt text that says what the image shows, from the name and the facets.
fn alt_text(d: &Dataset) -> String {
    let facets: Vec<&str> = [&d.modality, &d.species, &d.region]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if facets.is_empty() {
        format!("Preview image of {}", d.display_name)
    } else {
        format!(
            "Preview image of {} ({})",
            d.display_name,
            facets.join(", ")
        )
    }
}

/// The plain-text and BibTeX citation of a dataset page.
/// The dataset's citation, APA text and BibTeX. `page_url` is its public address: for a private
/// dataset, where it will be once published (its `/private/` address is personal and expires),
/// and it is cited as unpublished, "under review", instead of with a year.
fn citation(d: &Dataset, publisher: &str, page_url: &str) -> Citation {
    let unpublished = !d.is_public();
    let year = d.published.map(|p| p.format("%Y").to_string());
    let locator = d
        .doi
        .as_deref()
        .map_or_else(|| page_url.to_string(), doi_url);
    let year_text = match (unpublished, year.as_deref()) {
        (true, _) => "under review",
        (false, Some(year)) => year,
        (false, None) => "n.d.",
    };
    let kind = if unpublished {
        "Unpublished data set"
    } else {
        "Data set"
    };
    // APA style: without authors the title takes their place.
    let text = if d.authors.is_empty() {
        format!(
            "{} ({year_text}) [{kind}]. {publisher}. {locator}",
            d.display_name
        )
    } else {
        format!(
            "{} ({year_text}). {} [{kind}]. {publisher}. {locator}",
            d.authors.join(", "),
            d.display_name
        )
    };

    let key: String = d
        .slug
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .chain(year.iter().flat_map(|y| y.chars()))
        .collect();
    let mut fields = Vec::new();
    if !d.authors.is_empty() {
        fields.push((
            "author",
            d.authors
                .iter()
                .map(|a| bibtex_escape(a))
                .collect::<Vec<_>>()
                .join(" and "),
        ));
    }
    fields.push(("title", format!("{{{}}}", bibtex_escape(&d.display_name))));
    if let Some(year) = year.as_ref().filter(|_| !unpublished) {
        fields.push(("year", year.clone()));
    }
    fields.push(("publisher", bibtex_escape(publisher)));
    if let Some(doi) = &d.doi {
        fields.push(("doi", bibtex_escape(doi)));
    }
    fields.push(("url", locator));
    let note = match unpublished {
        true => "Data set, under review (unpublished)",
        false => "Data set",
    };
    fields.push(("note", note.to_string()));
    let body: Vec<String> = fields
        .into_iter()
        .map(|(name, value)| format!("  {name} = {{{value}}}"))
        .collect();
    Citation {
        text,
        bibtex: format!("@misc{{{key},\n{}\n}}", body.join(",\n")),
    }
}

/// Escapes BibTeX's special characters so a name like `A & B {x}` survives LaTeX.
fn bibtex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\textbackslash{}"),
            _ => out.push(c),
        }
    }
    out
}

/// `dataset` on a dataset's page: its card and everything else about it.
#[derive(Debug, Serialize)]
pub struct DatasetView<'a> {
    #[serde(flatten)]
    pub card: CardView<'a>,
    pub description_html: Cow<'a, str>,
    pub license: Option<&'a str>,
    pub license_url: Option<String>,
    pub doi: Option<&'a str>,
    pub doi_url: Option<String>,
    pub voxel_size_nm: Option<[f64; 3]>,
    /// Human-readable voxel size, e.g. `4 × 4 × 40 nm`.
    pub voxel_size: Option<String>,
    pub dimensions: Dimensions,
    pub links: Vec<Link<'a>>,
    pub annotations: Vec<AnnotationView<'a>>,
    pub layers: Vec<LayerLink<'a>>,
    pub viewer: Viewer,
    pub volume: Option<VolumeView<'a>>,
    pub remote_volume: Option<RemoteVolumeView<'a>>,
    pub citation: &'a Citation,
    /// Empty on private pages, which are not indexed.
    pub jsonld: &'a str,
}

/// Each of `datasets` on listing pages (and `dataset` in `partials/card.html`): what a card
/// shows. Kept small because the gallery holds every public dataset.
#[derive(Debug, Serialize)]
pub struct CardView<'a> {
    pub slug: &'a str,
    pub url: String,
    pub display_name: &'a str,
    pub summary: &'a str,
    pub authors: &'a [String],
    /// ISO date.
    pub published: Option<&'a str>,
    /// Date for people, e.g. `3 March 2024`.
    pub published_display: Option<&'a str>,
    pub tags: Vec<TagView<'a>>,
    pub species: Option<&'a str>,
    pub region: Option<&'a str>,
    pub modality: Option<&'a str>,
    pub featured: i64,
    pub private: bool,
    pub preview: Preview<'a>,
}

/// Pixel size of the viewer's first image and the number of slices.
#[derive(Debug, Serialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
    pub slices: usize,
}

/// A tag; `url` is its tag page, absent on private pages (tag pages list public items only).
#[derive(Debug, Serialize)]
pub struct TagView<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub url: Option<String>,
}

/// An external link (webKnossos, Neuroglancer, …).
#[derive(Debug, Serialize)]
pub struct Link<'a> {
    pub name: &'a str,
    pub url: &'a str,
}

/// The thumbnail set: `src`/`srcset`/`sizes`/`width`/`height` for a card, `large*` and
/// `page_sizes` for the dataset page's preview.
#[derive(Debug, Serialize)]
pub struct Preview<'a> {
    pub src: String,
    /// The JPEG or PNG renditions: `<img>`'s, the fallback of `<picture>`.
    pub srcset: String,
    /// The WebP renditions (`images.format: webp`) for `<picture>`'s `<source>`; empty without.
    pub webp_srcset: String,
    pub sizes: &'static str,
    pub page_sizes: &'static str,
    pub width: u32,
    pub height: u32,
    pub large: String,
    pub large_width: u32,
    pub large_height: u32,
    pub alt: &'a str,
    pub absolute_url: &'a str,
}

/// An annotation listed on a dataset page.
#[derive(Debug, Serialize)]
pub struct AnnotationView<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub url: String,
    pub trees: usize,
    pub nodes: usize,
    pub private: bool,
}

/// A segmentation layer listed on a dataset page.
#[derive(Debug, Serialize)]
pub struct LayerLink<'a> {
    pub id: &'a str,
    pub url: String,
    pub private: bool,
}

/// A z-stack's OME-Zarr volume, as the page offers it to napari, Neuroglancer and Fiji.
#[derive(Debug, Serialize)]
pub struct VolumeView<'a> {
    /// The `volume.ome.zarr/` folder, relative to the page.
    pub url: String,
    /// The same, absolute: what a reader pastes into another tool.
    pub absolute_url: String,
    pub ngff_version: &'static str,
    /// Full-resolution `[z, y, x]`.
    pub shape: [u64; 3],
    /// 1 (gray) or 3 (RGB).
    pub channels: u8,
    /// `uint8` or `uint16`.
    pub data_type: &'a str,
    pub levels: usize,
    /// Chunk `[z, y, x]`.
    pub chunk: [u64; 3],
    /// Bytes on disk for people, e.g. `12.4 MB`.
    pub size: String,
}

/// A volume the lab hosts (`volume:`), with what its metadata says when it could be read.
#[derive(Debug, Serialize)]
pub struct RemoteVolumeView<'a> {
    /// The source as written, e.g. `zarr://https://…`.
    pub url: &'a str,
    /// e.g. `Neuroglancer precomputed`.
    pub format: &'static str,
    /// Where it is: `https://…`, `gs://…`, `s3://…`.
    pub location: &'a str,
    /// `[x, y, z]` in voxels.
    pub size: Option<[u64; 3]>,
    pub channels: Option<u64>,
    pub data_type: Option<&'a str>,
    /// e.g. `8 × 8 × 40 nm`.
    pub voxel_size: Option<String>,
    pub levels: Option<usize>,
    /// The public Neuroglancer app opened on the volume: four panels, at its centre.
    pub neuroglancer_url: String,
    /// webKnossos adding the volume as a remote dataset ([`webknossos_url`]).
    pub webknossos_url: String,
}

/// The public Neuroglancer client a dataset page's "Open in Neuroglancer" link opens.
pub const NEUROGLANCER_APP: &str = "https://neuroglancer-demo.appspot.com/";

/// Neuroglancer's state for `source` (URL fragment `#!` + JSON): the volume as an image layer
/// named `name`, the four-panel layout, and, when the metadata was read, its voxel size in
/// metres and the position at its centre.
pub(super) fn neuroglancer_url(source: &str, name: &str, info: Option<&RemoteInfo>) -> String {
    let mut state = serde_json::json!({
        "layers": [{"type": "image", "source": source, "name": name}],
        "layout": "4panel",
    });
    if let Some(info) = info {
        let [x, y, z] = info.size;
        state["position"] = serde_json::json!([x as f64 / 2.0, y as f64 / 2.0, z as f64 / 2.0]);
        if let Some([vx, vy, vz]) = info.voxel_size_nm {
            state["dimensions"] = serde_json::json!({
                "x": [vx * 1e-9, "m"], "y": [vy * 1e-9, "m"], "z": [vz * 1e-9, "m"],
            });
        }
    }
    let state = state.to_string();
    let fragment =
        percent_encoding::utf8_percent_encode(&state, percent_encoding::NON_ALPHANUMERIC);
    format!("{NEUROGLANCER_APP}#!{fragment}")
}

/// webKnossos's page that adds a remote dataset from `?url=` (the `/import` route of its
/// router; not in its user documentation, which describes the same form as Add Dataset › Add
/// Remote Dataset).
pub const WEBKNOSSOS_IMPORT: &str = "https://webknossos.org/import?url=";

/// webKnossos opened on the volume at `location` (`https://…`, `gs://…`, `s3://…`): its form for
/// adding a remote dataset, filled in, which a signed-in user who may add datasets confirms.
fn webknossos_url(location: &str) -> String {
    let location =
        percent_encoding::utf8_percent_encode(location, percent_encoding::NON_ALPHANUMERIC);
    format!("{WEBKNOSSOS_IMPORT}{location}")
}

/// What `partials/viewer.html` gets.
#[derive(Debug, Serialize)]
pub struct Viewer {
    pub slices: Vec<Slice>,
    pub voxel_size_nm: Option<[f64; 3]>,
    pub private: bool,
    /// The slice shown first (a fragment's `v=` overrides it).
    pub slice: usize,
}

/// One viewer image: its deep-zoom descriptor (when pyramids are built) and a fallback raster.
#[derive(Debug, Serialize)]
pub struct Slice {
    pub dzi: Option<String>,
    /// The tile geometry the `.dzi` states, so the viewer can ask for its first tiles without
    /// waiting for the descriptor.
    pub tiles: Option<Tiles>,
    pub width: u32,
    pub height: u32,
    pub fallback: Fallback,
    /// The display range's facts, `None` for an image with transparency.
    pub display: Option<SliceDisplay>,
}

/// What the viewer's display range needs of a slice (see `media::Display`; values in the
/// data's units).
#[derive(Debug, Serialize)]
pub struct SliceDisplay {
    pub range: [f64; 2],
    pub window: [f64; 2],
    /// What 0 and 255 of the 8-bit tiles and fallback stand for.
    pub display_map: [f64; 2],
    /// What 0 and 65535 of the lossless tiles stand for.
    pub raw_map: Option<[f64; 2]>,
    pub integer: bool,
    /// The lossless pyramid's `raw.dzi` (same geometry as the 8-bit one, PNG tiles).
    pub raw: Option<String>,
    /// The 256 bins' heights on a log scale (`ln(1 + n)`, the fullest bin 255), as base64 of
    /// 256 bytes: about 350 characters a slice, where the counts as JSON would be several KB.
    pub histogram: String,
}

impl SliceDisplay {
    fn of(shown: &media::Display, raw: Option<String>) -> SliceDisplay {
        use base64ct::Encoding;
        let top = shown.histogram.iter().copied().max().unwrap_or(0);
        let scale = ((top as f64).ln_1p()).max(f64::MIN_POSITIVE);
        let heights: Vec<u8> = shown
            .histogram
            .iter()
            .map(|&n| ((n as f64).ln_1p() / scale * 255.0).round() as u8)
            .collect();
        SliceDisplay {
            range: shown.range,
            window: shown.window,
            display_map: shown.display_map,
            raw_map: shown.raw_map,
            integer: shown.integer,
            raw,
            histogram: base64ct::Base64::encode_string(&heights),
        }
    }
}

/// A pyramid's tiles: edge length, overlap and format (`jpg` or `png`).
#[derive(Debug, Serialize)]
pub struct Tiles {
    pub size: u32,
    pub overlap: u32,
    pub format: &'static str,
}

/// The largest derived image of a slice.
#[derive(Debug, Serialize)]
pub struct Fallback {
    pub src: String,
    pub width: u32,
    pub height: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_links_the_ends_and_the_neighbourhood() {
        let p = Pagination::new("tags/em/", 5, 1000, 60);
        assert_eq!((p.pages, p.first, p.last), (17, 241, 300));
        assert_eq!(p.prev.as_deref(), Some("../../../../tags/em/page/4/"));
        assert_eq!(p.next.as_deref(), Some("../../../../tags/em/page/6/"));
        let numbers: Vec<Option<usize>> = p
            .links
            .iter()
            .map(|l| l.as_ref().map(|l| l.number))
            .collect();
        assert_eq!(
            numbers,
            [
                Some(1),
                None,
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                None,
                Some(17)
            ]
        );
        assert_eq!(p.links[0].as_ref().unwrap().url, "../../../../tags/em/");
        let first = Pagination::new("", 1, 61, 60);
        assert_eq!(
            (first.pages, first.last, first.prev.is_none()),
            (2, 60, true)
        );
        assert_eq!(first.next.as_deref(), Some("page/2/"));
        let last = Pagination::new("", 2, 61, 60);
        assert_eq!((last.first, last.last, last.next.is_none()), (61, 61, true));
        let empty = Pagination::new("", 1, 0, 60);
        assert_eq!(
            (empty.pages, empty.first, empty.last, empty.links.len()),
            (1, 0, 0, 1)
        );
    }

    #[test]
    fn relative_urls_stay_below_the_page_or_climb_to_the_root() {
        assert_eq!(
            relative("datasets/a/", "datasets/a/media/h/t.jpg"),
            "media/h/t.jpg"
        );
        assert_eq!(relative("datasets/a/", "tags/x/"), "../../tags/x/");
        assert_eq!(relative("", "datasets/a/"), "datasets/a/");
        assert_eq!(relative("", ""), "./");
        assert_eq!(relative("spotlight/", ""), "../");
        assert_eq!(relative("datasets/a/", "datasets/a/"), "./");
    }

    #[test]
    fn tag_slugs_are_url_safe() {
        assert_eq!(tag_slug("Cell Biology"), "cell-biology");
        assert_eq!(tag_slug("  em / fib-sem "), "em-fib-sem");
        assert!(tag_slug("ß").starts_with("tag-"));
    }

    #[test]
    fn script_safe_json_cannot_close_the_script_tag() {
        let json = script_safe_json(&serde_json::json!({"a": "</script><!-- & >"}));
        assert!(!json.contains("</"), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["a"], "</script><!-- & >");
    }

    #[test]
    fn bibtex_escapes_specials() {
        assert_eq!(bibtex_escape("A & B_{x}"), "A \\& B\\_\\{x\\}");
        assert_eq!(format_voxel([4.0, 4.5, 40.0]), "4 × 4.5 × 40 nm");
    }
}
