//! The list of pages a site has, and rendering them in parallel with the compiled templates.
//!
//! Public listings (gallery, tags, sitemap, feed, search index) are built from the public
//! datasets alone, so a private item cannot reach them through a template.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::context::{
    listing_page_dir, listing_pages, relative, tag_dir, tag_slug, PageView, Pagination, Prepared,
    SiteView, Texts,
};
use super::feeds::{self, base_path};
use super::{markdown, MediaIndex, Page, RenderOptions, Theme};
use crate::content::model::Content;

/// The viewer engineer's partial; dataset pages include it only when the theme has it.
const VIEWER_TEMPLATE: &str = "partials/viewer.html";

/// One dataset's card in a listing, rendered on its own and handed to the listing as HTML.
const CARD_TEMPLATE: &str = "partials/card.html";

/// How many cards at the top of a listing load their image at once (the first row).
const EAGER_CARDS: usize = 4;

/// Cards rendered by `partials/card.html`, by the key of what each was rendered from. A build
/// hands the cards it used to the next, so an edit renders the edited dataset's cards, not
/// every card of every listing (the gallery alone holds every public dataset).
#[derive(Default, Serialize, Deserialize)]
pub struct Cards(HashMap<String, String>);

/// Dataset views (as JSON) a plan made, by the dataset's digest, the page folder and whether
/// the card is `eager`, and each dataset's `Texts` and search entry by its digest: a plan in
/// the same process takes them instead of making them again.
#[derive(Default)]
pub struct Views {
    views: HashMap<ViewKey, View>,
    texts: HashMap<blake3::Hash, Arc<Texts>>,
    /// Each public dataset's entry in `search-index.json`, by its digest.
    entries: HashMap<blake3::Hash, Arc<str>>,
}

/// A dataset's view as JSON, with its hash. Every plan puts each view into a page's or card's
/// key; kept in [`Views`], a view is serialised and hashed once, not on every plan (hashing
/// the views again on every plan was half of planning an edit of the reference corpus).
#[derive(Clone)]
struct View {
    json: Arc<str>,
    hash: blake3::Hash,
}

impl View {
    fn new(json: String) -> View {
        View {
            hash: blake3::hash(json.as_bytes()),
            json: json.into(),
        }
    }
}

/// A dataset's digest, the page folder and `eager`: what a view in [`Views`] is made for.
type ViewKey = (blake3::Hash, String, bool);

/// A digest of everything each dataset's views are made from (the dataset's folder, the site's
/// settings, the theme, the options), by the dataset's folder; [`Views`] are reused only for
/// the datasets it names, under the same digest.
pub type Digests = HashMap<std::path::PathBuf, blake3::Hash>;

impl Cards {
    /// Whether both hold the cards of the same keys (and so the same cards).
    pub fn same_keys(&self, other: &Cards) -> bool {
        self.0.len() == other.0.len() && self.0.keys().all(|key| other.0.contains_key(key))
    }
}

/// One HTML page to render.
enum Job<'a> {
    /// Page `number` of the gallery, at `index.html` (`page/<n>/index.html` after the first)
    /// and again under `spotlight/`.
    Gallery { dir: &'static str, number: usize },
    /// A dataset's page, under `datasets/` or `private/`.
    Dataset(&'a Prepared<'a>),
    /// `tags/index.html`.
    TagIndex,
    /// Page `number` of a tag's listing, `tags/<slug>/index.html` (then `…/page/<n>/`).
    Tag(&'a TagGroup<'a>, usize),
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
    known: &Cards,
    views: &Views,
    digests: &Digests,
) -> Result<Plan<'t>> {
    let mut prepared = content
        .datasets
        .par_iter()
        .map(|d| {
            let known = digests.get(&d.dir).and_then(|h| views.texts.get(h));
            Prepared::new(d, content, media, opts, known)
        })
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

    let per_page = content.config.per_page;
    let shared = Shared {
        site: SiteView::of(&content.config, &opts.base_url),
        site_summary: markdown::summary(&content.config.description),
        public: &public,
        per_page,
        groups: &groups,
        facets: &facets,
        has_viewer: theme.has_template(VIEWER_TEMPLATE),
        theme,
        opts,
        known,
        views,
        digests,
    };

    let mut jobs = vec![Job::TagIndex, Job::NotFound];
    for dir in ["", "spotlight/"] {
        let pages = listing_pages(public.len(), per_page);
        jobs.extend((1..=pages).map(|number| Job::Gallery { dir, number }));
    }
    jobs.extend(prepared.iter().map(Job::Dataset));
    for group in groups.values() {
        let pages = listing_pages(group.datasets.len(), per_page);
        jobs.extend((1..=pages).map(|number| Job::Tag(group, number)));
    }

    let planned = jobs
        .par_iter()
        .map(|job| shared.job(job))
        .collect::<Result<Vec<_>>>()?;
    let mut cards = Cards::default();
    let mut made = Views::default();
    let mut pages = Vec::with_capacity(planned.len());
    for planned in planned {
        pages.push(planned.page);
        cards.0.extend(planned.cards);
        made.views.extend(planned.views);
    }
    // Annotation pages (and their overlay data) are the annotation module's; same options.
    let mut files = super::annotation::render_annotation_pages(content, media, theme, opts)?;

    let entries: Vec<(Option<blake3::Hash>, Arc<str>)> = public
        .par_iter()
        .map(|p| {
            let digest = digests.get(&p.dataset.dir).copied();
            let known = digest.and_then(|d| views.entries.get(&d));
            let entry = known.map_or_else(|| feeds::search_entry(p).into(), Arc::clone);
            (digest, entry)
        })
        .collect();
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
        (
            "search-index.json",
            feeds::search_index(entries.iter().map(|(_, entry)| &**entry)),
        ),
    ];
    files.extend(feeds.into_iter().map(|(path, text)| Page {
        path: path.to_string(),
        body: text.into_bytes(),
        private: false,
    }));
    made.entries = entries
        .into_iter()
        .filter_map(|(digest, entry)| Some((digest?, entry)))
        .collect();
    made.texts = prepared
        .iter()
        .filter_map(|p| Some((*digests.get(&p.dataset.dir)?, p.texts.clone())))
        .collect();
    Ok(Plan {
        theme,
        pages,
        files,
        cards,
        views: made,
    })
}

/// What every page job reads.
struct Shared<'a> {
    site: SiteView<'a>,
    site_summary: String,
    public: &'a [&'a Prepared<'a>],
    per_page: usize,
    groups: &'a BTreeMap<String, TagGroup<'a>>,
    facets: &'a Facets<'a>,
    has_viewer: bool,
    theme: &'a Theme,
    opts: &'a RenderOptions,
    known: &'a Cards,
    views: &'a Views,
    digests: &'a Digests,
}

/// A listing's `datasets`, with its cards by key and the views it made or took.
struct Listing {
    datasets: Value,
    cards: Vec<(String, String)>,
    views: Vec<(ViewKey, View)>,
}

/// One page planned, with the cards it lists and the views it made or took.
struct Planned {
    page: PageJob,
    cards: Vec<(String, String)>,
    views: Vec<(ViewKey, View)>,
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

    /// A dataset's view from `dir` as JSON: the one made before under the same digest, or
    /// `make`'s; with the entry to keep for the next plan (when the dataset has a digest).
    fn view(
        &self,
        p: &Prepared,
        dir: &str,
        eager: bool,
        make: impl FnOnce() -> String,
    ) -> (View, Option<(ViewKey, View)>) {
        let Some(digest) = self.digests.get(&p.dataset.dir) else {
            return (View::new(make()), None);
        };
        let key = (*digest, dir.to_string(), eager);
        let view = match self.views.views.get(&key) {
            Some(view) => view.clone(),
            None => View::new(make()),
        };
        (view.clone(), Some((key, view)))
    }

    /// The datasets shown on page `number` of the listing of `all` at `dir`, and where that page
    /// stands among the others.
    fn page_of<'p>(
        &self,
        all: &'p [&'p Prepared<'p>],
        dir: &str,
        number: usize,
    ) -> (&'p [&'p Prepared<'p>], Pagination) {
        let pagination = Pagination::new(dir, number, all.len(), self.per_page);
        let shown = &all[pagination.first.saturating_sub(1)..pagination.last];
        (shown, pagination)
    }

    /// `datasets` of a listing on `page`: each dataset's card view and its card from
    /// [`CARD_TEMPLATE`] (rendered now unless known); the cards by key and the views.
    fn listing(&self, page: &PageView, datasets: &[&Prepared]) -> Result<Listing> {
        let base = self.base(page);
        // Every card of the listing shares `site` and `page`: hash them once.
        let mut shared = key_hasher(self.theme, CARD_TEMPLATE);
        base.hash_into(&mut shared);
        let cards = datasets
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let eager = i < EAGER_CARDS;
                let (view, kept) = self.view(p, &page.path, eager, || {
                    serde_json::to_string(&p.card(&page.path))
                        .expect("template views serialise to JSON")
                });
                let mut own = Context::default();
                own.0.push(("dataset", Value::View(view.clone())));
                own.insert("eager", &eager);
                let mut hasher = shared.clone();
                own.hash_into(&mut hasher);
                let key = key_of(hasher);
                let html = match self.known.0.get(&key) {
                    Some(html) => html.clone(),
                    None => {
                        let mut ctx = base.clone();
                        ctx.0.extend(own.0);
                        let path = format!("{}index.html", page.path);
                        let job = PageJob::new(self.theme, CARD_TEMPLATE, path, ctx);
                        render(self.theme, &job, &Cards::default())
                            .with_context(|| format!("the card of dataset '{}'", p.dataset.slug))?
                    }
                };
                let listed = Listed {
                    view,
                    key: key.clone(),
                };
                Ok((listed, (key, html), kept))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut listed = Vec::with_capacity(cards.len());
        let mut used = Vec::with_capacity(cards.len());
        let mut views = Vec::with_capacity(cards.len());
        for (entry, card, view) in cards {
            listed.push(entry);
            used.push(card);
            views.extend(view);
        }
        Ok(Listing {
            datasets: Value::Listing(listed),
            cards: used,
            views,
        })
    }

    /// The template and context of one job, the cards it lists and the views it used.
    fn job(&self, job: &Job) -> Result<Planned> {
        let base_url = &self.opts.base_url;
        let mut cards = Vec::new();
        let mut views = Vec::new();
        let (template, dir, ctx) = match job {
            Job::Gallery { dir, number } => {
                let here = listing_page_dir(dir, *number);
                let title = match number {
                    1 => self.site.title.to_string(),
                    n => format!("{} · page {n}", self.site.title),
                };
                let mut page =
                    PageView::new(&here, base_url, false, title, self.site_summary.clone());
                // The spotlight copy points search engines at the root gallery: one page, two addresses.
                page.canonical = Some(base_url.join(&listing_page_dir("", *number)));
                let mut ctx = self.base(&page);
                let (shown, pagination) = self.page_of(self.public, dir, *number);
                let listing = self.listing(&page, shown)?;
                ctx.0.push(("datasets", listing.datasets));
                (cards, views) = (listing.cards, listing.views);
                ctx.insert("pagination", &pagination);
                ctx.insert("tags", &self.tag_entries(&here));
                ctx.insert("facets", self.facets);
                ctx.insert("search_index", &relative(&here, "search-index.json"));
                ("index.html", here, ctx)
            }
            Job::Dataset(p) => {
                let d = p.dataset;
                let dir = d.output_dir();
                let description = if p.texts.summary.is_empty() {
                    format!("{} — {}", d.display_name, self.site.title)
                } else {
                    p.texts.summary.clone()
                };
                let page = PageView::new(
                    &dir,
                    base_url,
                    !d.is_public(),
                    format!("{} · {}", d.display_name, self.site.title),
                    description,
                );
                let mut ctx = self.base(&page);
                let (view, kept) = self.view(p, &dir, false, || {
                    serde_json::to_string(&p.view(&dir, self.opts))
                        .expect("template views serialise to JSON")
                });
                ctx.0.push(("dataset", Value::View(view)));
                views.extend(kept);
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
            Job::Tag(group, number) => {
                let dir = tag_dir(&group.name);
                let here = listing_page_dir(&dir, *number);
                let title = match number {
                    1 => format!("{} · {}", group.name, self.site.title),
                    n => format!("{} · page {n} · {}", group.name, self.site.title),
                };
                let page = PageView::new(
                    &here,
                    base_url,
                    false,
                    title,
                    format!("Datasets tagged “{}” in {}.", group.name, self.site.title),
                );
                let mut ctx = self.base(&page);
                let (shown, pagination) = self.page_of(&group.datasets, &dir, *number);
                let listing = self.listing(&page, shown)?;
                (cards, views) = (listing.cards, listing.views);
                ctx.insert(
                    "tag",
                    &TagEntry {
                        name: &group.name,
                        slug: tag_slug(&group.name),
                        url: relative(&here, &dir),
                        count: group.datasets.len(),
                    },
                );
                ctx.0.push(("datasets", listing.datasets));
                ctx.insert("pagination", &pagination);
                ("tag.html", here, ctx)
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
                ("404.html", String::new(), ctx)
            }
        };
        let path = match template {
            "404.html" => template.to_string(),
            _ => format!("{dir}index.html"),
        };
        Ok(Planned {
            page: PageJob::new(self.theme, template, path, ctx),
            cards,
            views,
        })
    }
}

/// A template context, kept serialised: cheap to make and to hash for every page, and turned
/// into tera's values only for the pages that are rendered.
#[derive(Default, Clone)]
struct Context(Vec<(&'static str, Value)>);

impl Context {
    fn insert<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        let json = serde_json::to_string(value).expect("template views serialise to JSON");
        self.0.push((key, Value::Json(json)));
    }

    /// The values as tera sees them; listings take their cards' HTML from `cards`.
    fn to_tera(&self, cards: &Cards) -> tera::Context {
        let mut values = serde_json::Map::new();
        for (key, value) in &self.0 {
            values.insert(key.to_string(), value.to_json(cards));
        }
        tera::Context::from_value(values.into()).expect("a JSON object is a template context")
    }

    /// Feeds every value to a page key's hasher (see [`PageJob::key`]).
    fn hash_into(&self, hasher: &mut blake3::Hasher) {
        let mut hash = |part: &[u8]| {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        };
        for (key, value) in &self.0 {
            let parts = value.parts();
            hash(key.as_bytes());
            hash(parts.len().to_string().as_bytes());
            parts.into_iter().for_each(&mut hash);
        }
    }
}

/// A page key's hasher, fed the theme and the template; the context follows.
fn key_hasher(theme: &Theme, template: &str) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(theme.digest().as_bytes());
    hasher.update(&(template.len() as u64).to_le_bytes());
    hasher.update(template.as_bytes());
    hasher
}

/// The key a hasher from [`key_hasher`] arrived at.
fn key_of(hasher: blake3::Hasher) -> String {
    hasher.finalize().to_hex()[..32].to_string()
}

/// One value of a [`Context`].
#[derive(Clone)]
enum Value {
    Json(String),
    /// A dataset's view, identified in keys by its hash.
    View(View),
    /// A listing's `datasets`. Each card's HTML joins its view (as `card`) only when the page
    /// is rendered; until then the card's key stands for it (in the page's key too).
    Listing(Vec<Listed>),
}

/// A dataset in a listing: its card view and its card's key in [`Cards`].
#[derive(Clone)]
struct Listed {
    view: View,
    key: String,
}

impl Value {
    /// The parts that identify the value, for the page's key. A card's key stands for its
    /// view too (the card was keyed by it).
    fn parts(&self) -> Vec<&[u8]> {
        match self {
            Value::Json(json) => vec![json.as_bytes()],
            Value::View(view) => vec![view.hash.as_bytes()],
            Value::Listing(listed) => listed.iter().map(|l| l.key.as_bytes()).collect(),
        }
    }

    fn to_json(&self, cards: &Cards) -> serde_json::Value {
        let parse = |json: &str| -> serde_json::Value {
            serde_json::from_str(json).expect("the context was serialised by serde_json")
        };
        match self {
            Value::Json(json) => parse(json),
            Value::View(view) => parse(&view.json),
            Value::Listing(listed) => listed
                .iter()
                .map(|l| {
                    let mut view = parse(&l.view.json);
                    let html = cards
                        .0
                        .get(&l.key)
                        .expect("a plan holds the cards it lists");
                    view["card"] = html.clone().into();
                    view
                })
                .collect(),
        }
    }
}

/// One HTML page of the site, ready to render: the template and everything it will see.
pub struct PageJob {
    /// Output-relative path, e.g. `datasets/foo/index.html` (for a card, its listing's).
    pub path: String,
    /// BLAKE3 of the theme's templates, the template's name and the whole context: two jobs
    /// with the same key render the same bytes, so a page rendered before can be reused.
    pub key: String,
    template: &'static str,
    context: Context,
}

impl PageJob {
    fn new(theme: &Theme, template: &'static str, path: String, context: Context) -> PageJob {
        let mut hasher = key_hasher(theme, template);
        context.hash_into(&mut hasher);
        PageJob {
            path,
            key: key_of(hasher),
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
    /// The cards the listings show: hand them to the next plan.
    pub cards: Cards,
    /// The dataset views made or taken: hand them to the next plan in this process.
    pub views: Views,
}

impl Plan<'_> {
    /// Renders one page; errors name the page and the template file.
    pub fn render(&self, job: &PageJob) -> Result<Page> {
        Ok(Page {
            private: job.path.starts_with("private/"),
            path: job.path.clone(),
            body: render(self.theme, job, &self.cards)?.into_bytes(),
        })
    }
}

/// Renders a job's template with its context; errors name the page and the template file.
fn render(theme: &Theme, job: &PageJob, cards: &Cards) -> Result<String> {
    theme
        .render(job.template, &job.context.to_tera(cards))
        .with_context(|| format!("rendering `{}`", job.path))
}
