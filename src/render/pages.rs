//! The list of pages a site has, and rendering them in parallel with the compiled templates.
//!
//! Public listings (gallery, tags, sitemap, feed, search index) are built from the public
//! datasets alone, so a private item cannot reach them through a template.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use rayon::prelude::*;
use serde::Serialize;

use super::context::{absolute, relative, tag_dir, tag_slug, PageView, Prepared, SiteView};
use super::feeds::{self, base_path};
use super::{markdown, MediaIndex, Page, RenderOptions, Theme};
use crate::content::model::Content;

/// The viewer engineer's partial; dataset pages include it only when the theme has it.
const VIEWER_TEMPLATE: &str = "partials/viewer.html";

/// One HTML page to render.
enum Job<'a> {
    /// The gallery, at `index.html` and again at `spotlight/index.html`.
    Gallery { dir: &'static str },
    /// A dataset's page, under `datasets/` or `private/`.
    Dataset(&'a Prepared<'a>),
    /// `tags/index.html`.
    TagIndex,
    /// `tags/<slug>/index.html`.
    Tag(&'a TagGroup<'a>),
    /// `404.html`.
    NotFound,
}

/// The public datasets carrying one tag.
struct TagGroup<'a> {
    name: String,
    datasets: Vec<&'a Prepared<'a>>,
}

/// A tag as listed in the gallery and on `tags/`.
#[derive(Serialize)]
struct TagEntry<'a> {
    name: &'a str,
    slug: String,
    url: String,
    count: usize,
}

/// The values of the gallery's filter facets, each sorted, from public datasets only.
#[derive(Serialize, Default)]
struct Facets<'a> {
    species: Vec<&'a str>,
    region: Vec<&'a str>,
    modality: Vec<&'a str>,
}

/// Gallery order: `featured` descending, then newest `published` first (undated last), then
/// display name, then slug so the order never depends on anything else.
fn gallery_order(a: &Prepared, b: &Prepared) -> Ordering {
    let (a, b) = (a.dataset, b.dataset);
    b.featured
        .cmp(&a.featured)
        .then_with(|| match (a.published, b.published) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| {
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
        })
        .then_with(|| a.slug.cmp(&b.slug))
}

/// Plans every page (see [`super::plan_site`]); `opts.base_url` has no trailing slash.
pub fn plan<'t>(
    content: &Content,
    media: &MediaIndex,
    theme: &'t Theme,
    opts: &RenderOptions,
) -> Result<Plan<'t>> {
    let mut prepared = content
        .datasets
        .par_iter()
        .filter(|d| d.is_public() || opts.include_private)
        .map(|d| Prepared::new(d, content, media, opts))
        .collect::<Result<Vec<_>>>()?;
    prepared.sort_by(gallery_order);
    let public: Vec<&Prepared> = prepared.iter().filter(|p| p.dataset.is_public()).collect();

    let mut groups: BTreeMap<String, TagGroup> = BTreeMap::new();
    for p in &public {
        for tag in &p.dataset.tags {
            let group = groups.entry(tag_slug(tag)).or_insert_with(|| TagGroup {
                name: tag.clone(),
                datasets: Vec::new(),
            });
            if !group
                .datasets
                .iter()
                .any(|q| q.dataset.slug == p.dataset.slug)
            {
                group.datasets.push(p);
            }
        }
    }
    let mut facets = Facets::default();
    for p in &public {
        let d = p.dataset;
        for (values, value) in [
            (&mut facets.species, &d.species),
            (&mut facets.region, &d.region),
            (&mut facets.modality, &d.modality),
        ] {
            if let Some(value) = value {
                values.push(value.as_str());
            }
        }
    }
    for values in [
        &mut facets.species,
        &mut facets.region,
        &mut facets.modality,
    ] {
        values.sort_by_key(|v| v.to_lowercase());
        values.dedup();
    }

    let shared = Shared {
        site: SiteView {
            title: &content.config.title,
            base_url: &opts.base_url,
            description_html: markdown::to_html(&content.config.description),
            hosting: content.config.hosting,
        },
        site_summary: markdown::summary(&content.config.description),
        public: &public,
        groups: &groups,
        facets: &facets,
        has_viewer: theme.has_template(VIEWER_TEMPLATE),
        theme,
        opts,
    };

    let mut jobs = vec![
        Job::Gallery { dir: "" },
        Job::Gallery { dir: "spotlight/" },
        Job::TagIndex,
        Job::NotFound,
    ];
    jobs.extend(prepared.iter().map(Job::Dataset));
    jobs.extend(groups.values().map(Job::Tag));

    let pages = jobs.par_iter().map(|job| shared.job(job)).collect();
    // Annotation pages (and their overlay data) are the annotation module's; same options.
    let mut files = super::annotation::render_annotation_pages(content, media, theme, opts)?;

    let tag_names: Vec<String> = groups.values().map(|g| g.name.clone()).collect();
    let feeds = [
        (
            "sitemap.xml",
            feeds::sitemap(&opts.base_url, &public, &tag_names),
        ),
        ("robots.txt", feeds::robots(&opts.base_url)),
        (
            "feed.xml",
            feeds::atom(&content.config, &opts.base_url, &public),
        ),
        ("search-index.json", feeds::search_index(&public)),
    ];
    files.extend(feeds.into_iter().map(|(path, text)| Page {
        path: path.to_string(),
        body: text.into_bytes(),
        private: false,
    }));
    Ok(Plan {
        theme,
        pages,
        files,
    })
}

/// What every page job reads.
struct Shared<'a> {
    site: SiteView<'a>,
    site_summary: String,
    public: &'a [&'a Prepared<'a>],
    groups: &'a BTreeMap<String, TagGroup<'a>>,
    facets: &'a Facets<'a>,
    has_viewer: bool,
    theme: &'a Theme,
    opts: &'a RenderOptions,
}

impl Shared<'_> {
    /// A context with `site`, `page` and `vitrine_version` set.
    fn base(&self, page: &PageView) -> Context {
        let mut ctx = Context::default();
        ctx.insert("site", &self.site);
        ctx.insert("page", page);
        ctx.insert("vitrine_version", env!("CARGO_PKG_VERSION"));
        ctx
    }

    /// Tags with their page URL (relative to `dir`) and how many public datasets carry them.
    fn tag_entries(&self, dir: &str) -> Vec<TagEntry<'_>> {
        let mut tags: Vec<TagEntry> = self
            .groups
            .iter()
            .map(|(slug, group)| TagEntry {
                name: &group.name,
                slug: slug.clone(),
                url: relative(dir, &format!("tags/{slug}/")),
                count: group.datasets.len(),
            })
            .collect();
        tags.sort_by(|a, b| a.name.cmp(b.name));
        tags
    }

    /// The template and context of one job.
    fn job(&self, job: &Job) -> PageJob {
        let base_url = &self.opts.base_url;
        let (template, dir, ctx) = match job {
            Job::Gallery { dir } => {
                let mut page = PageView::new(
                    dir,
                    base_url,
                    false,
                    self.site.title.to_string(),
                    self.site_summary.clone(),
                );
                // The spotlight copy points search engines at the root gallery: one page, two addresses.
                page.canonical = Some(absolute(base_url, ""));
                let mut ctx = self.base(&page);
                let cards: Vec<_> = self.public.iter().map(|p| p.view(dir, self.opts)).collect();
                ctx.insert("datasets", &cards);
                ctx.insert("tags", &self.tag_entries(dir));
                ctx.insert("facets", self.facets);
                ctx.insert("search_index", &relative(dir, "search-index.json"));
                ("index.html", dir.to_string(), ctx)
            }
            Job::Dataset(p) => {
                let d = p.dataset;
                let dir = d.output_dir();
                let description = if p.summary.is_empty() {
                    format!("{} — {}", d.display_name, self.site.title)
                } else {
                    p.summary.clone()
                };
                let page = PageView::new(
                    &dir,
                    base_url,
                    !d.is_public(),
                    format!("{} · {}", d.display_name, self.site.title),
                    description,
                );
                let mut ctx = self.base(&page);
                ctx.insert("dataset", &p.view(&dir, self.opts));
                ctx.insert("has_viewer", &self.has_viewer);
                ("dataset.html", dir, ctx)
            }
            Job::TagIndex => {
                let dir = "tags/";
                let page = PageView::new(
                    dir,
                    base_url,
                    false,
                    format!("Tags · {}", self.site.title),
                    format!("All tags of the datasets in {}.", self.site.title),
                );
                let mut ctx = self.base(&page);
                ctx.insert("tags", &self.tag_entries(dir));
                ("tags.html", dir.to_string(), ctx)
            }
            Job::Tag(group) => {
                let dir = tag_dir(&group.name);
                let page = PageView::new(
                    &dir,
                    base_url,
                    false,
                    format!("{} · {}", group.name, self.site.title),
                    format!("Datasets tagged “{}” in {}.", group.name, self.site.title),
                );
                let mut ctx = self.base(&page);
                let cards: Vec<_> = group
                    .datasets
                    .iter()
                    .map(|p| p.view(&dir, self.opts))
                    .collect();
                ctx.insert(
                    "tag",
                    &TagEntry {
                        name: &group.name,
                        slug: tag_slug(&group.name),
                        url: "./".to_string(),
                        count: group.datasets.len(),
                    },
                );
                ctx.insert("datasets", &cards);
                ("tag.html", dir, ctx)
            }
            Job::NotFound => {
                // Served for any missing address, so links must not be relative to one folder.
                let page = PageView {
                    path: String::new(),
                    root: base_path(base_url),
                    canonical: None,
                    private: false,
                    title: format!("Page not found · {}", self.site.title),
                    description: format!("This address is not part of {}.", self.site.title),
                };
                let ctx = self.base(&page);
                return PageJob::new(self.theme, "404.html", "404.html".to_string(), ctx);
            }
        };
        PageJob::new(self.theme, template, format!("{dir}index.html"), ctx)
    }
}

/// A template context, kept as serialised JSON: cheap to make and to hash for every page, and
/// turned into tera's values only for the pages that are rendered.
#[derive(Default)]
struct Context(Vec<(&'static str, String)>);

impl Context {
    fn insert<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        let json = serde_json::to_string(value).expect("template views serialise to JSON");
        self.0.push((key, json));
    }
}

/// One HTML page of the site, ready to render: the template and everything it will see.
pub struct PageJob {
    /// Output-relative path, e.g. `datasets/foo/index.html`.
    pub path: String,
    /// BLAKE3 of the theme's templates, the template's name and the whole context: two jobs
    /// with the same key render the same bytes, so a page rendered before can be reused.
    pub key: String,
    template: &'static str,
    context: Context,
}

impl PageJob {
    fn new(theme: &Theme, template: &'static str, path: String, context: Context) -> PageJob {
        let mut hasher = blake3::Hasher::new();
        hasher.update(theme.digest().as_bytes());
        for part in std::iter::once(template).chain(
            context
                .0
                .iter()
                .flat_map(|(key, json)| [*key, json.as_str()]),
        ) {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        PageJob {
            path,
            key: hasher.finalize().to_hex()[..32].to_string(),
            template,
            context,
        }
    }
}

/// Everything a site's pages need: the HTML pages as jobs (render each with
/// [`Plan::render`], or reuse an earlier rendering with the same key), and the other files
/// (feeds, search index, annotation pages), already made.
pub struct Plan<'t> {
    theme: &'t Theme,
    /// The HTML pages from the theme's templates.
    pub pages: Vec<PageJob>,
    /// Sitemap, robots.txt, Atom feed, search index, annotation pages and overlay data.
    pub files: Vec<Page>,
}

impl Plan<'_> {
    /// Renders one page; errors name the page and the template file.
    pub fn render(&self, job: &PageJob) -> Result<Page> {
        let mut values = serde_json::Map::new();
        for (key, json) in &job.context.0 {
            let value =
                serde_json::from_str(json).expect("the context was serialised by serde_json");
            values.insert(key.to_string(), value);
        }
        let context =
            tera::Context::from_value(values.into()).expect("a JSON object is a template context");
        let html = self
            .theme
            .render(job.template, &context)
            .with_context(|| format!("rendering `{}`", job.path))?;
        Ok(Page {
            private: job.path.starts_with("private/"),
            path: job.path.clone(),
            body: html.into_bytes(),
        })
    }
}
