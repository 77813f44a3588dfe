//! Render: the pages of a small model built in the test (fake derived images need no files):
//! ordering, filters, privacy, machine-readable metadata, URLs that resolve, golden HTML.
//!
//! Refresh the golden files under `tests/golden/render/` with `VITRINE_BLESS=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use vitrine::content::annotation::parse_file;
use vitrine::content::model::{
    AnnotationRef, Content, Dataset, Hosting, ImageFormat, ImageSettings, SiteConfig, Visibility,
};
use vitrine::media::{Derived, ImageInfo, Pyramid, Rendition};
use vitrine::render::{render_site, MediaIndex, Page, RenderOptions, Theme};

const BASE: &str = "https://data.example.org/lab";

/// Words that only the private dataset and the private annotation use.
const PRIVATE_MARKERS: &[&str] = &[
    "secret-mouse",
    "Classified Specimen Zeta",
    "xylophone",
    "embargoed-tag",
    "aaaaaaaaaaaaaaaa",
    "secret-tracing",
    "Hidden Tracing Omega",
];

fn fake_derived(hash: &str, width: u32, height: u32) -> Derived {
    let rendition = |w: u32| Rendition {
        name: format!("thumb-{w}.jpg"),
        file: PathBuf::from(format!("/cache/{hash}/thumb-{w}.jpg")),
        width: w,
        height: w * height / width,
        mime: "image/jpeg",
    };
    Derived {
        hash: hash.to_string(),
        info: ImageInfo {
            width,
            height,
            format: "png",
            bits: 8,
            channels: 1,
        },
        thumbnails: vec![rendition(320), rendition(640)],
        webp_thumbnails: Vec::new(),
        pyramid: Some(Pyramid {
            dir: PathBuf::from(format!("/cache/{hash}/pyramid")),
            width,
            height,
            tile_size: 254,
            overlap: 1,
            format: "jpg",
            levels: 12,
        }),
        display: None,
        raw_pyramid: None,
        pages: Vec::new(),
        voxel_size_nm: None,
    }
}

fn dataset(slug: &str, name: &str, visibility: Visibility) -> Dataset {
    let dir = PathBuf::from("/site/content/datasets").join(slug);
    Dataset {
        slug: slug.to_string(),
        descriptor: dir.join("dataset.yaml"),
        thumbnail: dir.join("thumb.png"),
        dir,
        display_name: name.to_string(),
        description: format!("About {name}."),
        visibility,
        images: Vec::new(),
        preview_slice: None,
        image_fields: BTreeMap::new(),
        voxel_size_nm: None,
        authors: Vec::new(),
        license: None,
        doi: None,
        tags: Vec::new(),
        published: None,
        links: BTreeMap::new(),
        volume: None,
        species: None,
        region: None,
        modality: None,
        featured: 0,
        annotations: Vec::new(),
        layers: Vec::new(),
        attachments: Vec::new(),
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn annotation(id: &str, name: &str, visibility: Visibility) -> AnnotationRef {
    let file = crate::common::repo().join("tests/annotations/two-trees.nml");
    AnnotationRef {
        id: id.to_string(),
        display_name: name.to_string(),
        skeleton: parse_file(&file).expect("fixture annotation parses"),
        file,
        visibility,
        declared_at: (1, 1),
        offset_nm: [0.0; 3],
    }
}

/// Seven public datasets (so the gallery has a lazy second row) and one private one.
fn model() -> (Content, MediaIndex) {
    let mut cortex = dataset("cortex-l4", "Mouse cortex L4 <SBEM>", Visibility::Public);
    cortex.description = "Dense **reconstruction** of layer 4.\nSecond line <script>alert('x')</script>.\n\n\
        <img src=\"https://example.org/x.png\" onerror=\"alert(1)\"> [bad](javascript:alert(2))\n\n# Methods\n\nStained en bloc."
        .to_string();
    cortex.featured = 1;
    cortex.published = date(2023, 5, 1);
    cortex.tags = vec!["connectomics".into(), "cortex".into()];
    cortex.species = Some("Mus musculus".into());
    cortex.region = Some("Cortex L4".into());
    cortex.modality = Some("SBEM".into());
    cortex.authors = vec!["Ada Author".into(), "Bo Builder".into()];
    cortex.license = Some("CC-BY-4.0".into());
    cortex.doi = Some("10.1234/abcd".into());
    cortex.voxel_size_nm = Some([4.0, 4.0, 40.0]);
    cortex.links.insert(
        "webKnossos".into(),
        "https://webknossos.org/links/cortex".into(),
    );
    cortex.images = (0..3)
        .map(|i| cortex.dir.join(format!("slice-{i}.png")))
        .collect();
    cortex.annotations = vec![
        annotation("axon-1", "Axon tracing", Visibility::Public),
        annotation(
            "secret-tracing",
            "Hidden Tracing Omega",
            Visibility::Private,
        ),
    ];

    let mut retina = dataset("retina-2024", "Human retina", Visibility::Public);
    retina.published = date(2024, 2, 3);
    retina.tags = vec!["retina".into()];
    retina.species = Some("Homo sapiens".into());
    retina.modality = Some("FIB-SEM".into());

    let mut hippo = dataset("hippocampus", "Hippocampus CA1", Visibility::Public);
    hippo.published = date(2022, 1, 1);
    hippo.tags = vec!["cortex".into()];
    hippo.species = Some("Mus musculus".into());

    let mut secret = dataset(
        "secret-mouse",
        "Classified Specimen Zeta",
        Visibility::Private,
    );
    secret.description = "Unpublished xylophone results.".into();
    secret.tags = vec!["embargoed-tag".into(), "cortex".into()];
    secret.published = date(2025, 1, 1);

    let mut datasets = vec![cortex, retina, hippo, secret];
    // Undated and unfeatured: ordered by name after the dated ones.
    for (slug, name) in [
        ("zebrafish", "Zebrafish larva"),
        ("fly-vnc", "Fly VNC"),
        ("worm", "C. elegans nerve ring"),
        ("octopus", "Octopus arm"),
    ] {
        datasets.push(dataset(slug, name, Visibility::Public));
    }
    datasets.sort_by(|a, b| a.slug.cmp(&b.slug));

    let mut media = MediaIndex::default();
    for (i, d) in datasets.iter().enumerate() {
        let hash = if d.slug == "secret-mouse" {
            "a".repeat(16)
        } else {
            format!("{:016x}", 0xb000 + i)
        };
        media
            .images
            .insert(d.thumbnail.clone(), fake_derived(&hash, 2048, 1536));
        for (z, image) in d.images.iter().enumerate() {
            media.images.insert(
                image.clone(),
                fake_derived(&format!("{:016x}", 0xc000 + z), 4096, 4096),
            );
        }
    }

    let config = SiteConfig {
        title: "Lab & Friends Gallery".into(),
        base_url: vitrine::content::BaseUrl::new(BASE),
        description: "Public **EM** datasets of the lab.".into(),
        theme: None,
        hosting: Hosting::Netlify,
        keys: Vec::new(),
        default_expiry: "180d".into(),
        pyramids: true,
        per_page: 60,
        feed_entries: 50,
        images: ImageSettings {
            max_pixels: 1 << 30,
            thumbnail_widths: vec![320, 640],
            format: ImageFormat::Jpeg,
        },
    };
    let content = Content {
        root: PathBuf::from("/site"),
        config,
        datasets: datasets.into_iter().map(std::sync::Arc::new).collect(),
    };
    (content, media)
}

fn options() -> RenderOptions {
    RenderOptions {
        // A trailing slash as a user may write it: BaseUrl drops it.
        base_url: vitrine::content::BaseUrl::new(&format!("{BASE}/")),
        pyramids: true,
    }
}

fn render() -> Vec<Page> {
    let (content, media) = model();
    let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
    render_site(&content, &media, &theme, &options()).unwrap()
}

fn page<'a>(pages: &'a [Page], path: &str) -> &'a str {
    let page = pages
        .iter()
        .find(|p| p.path == path)
        .unwrap_or_else(|| panic!("no page {path}"));
    std::str::from_utf8(&page.body).unwrap()
}

/// The values of every `name="…"` attribute, entity-decoded.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

/// Every `<tag …>` start tag of one kind.
fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    html.match_indices(&open)
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap() + 1])
        .collect()
}

#[test]
fn gallery_orders_by_featured_then_newest_then_name() {
    let pages = render();
    let html = page(&pages, "index.html");
    let slugs: Vec<String> = attributes(html, "data-slug");
    assert_eq!(
        slugs,
        [
            "cortex-l4",
            "retina-2024",
            "hippocampus",
            "worm",
            "fly-vnc",
            "octopus",
            "zebrafish"
        ]
    );
    assert_eq!(
        attributes(page(&pages, "spotlight/index.html"), "data-slug"),
        slugs,
        "spotlight/ is the same gallery"
    );
}

#[test]
fn cards_have_responsive_images_and_lazy_load_below_the_first_row() {
    let pages = render();
    let html = page(&pages, "index.html");
    // The cards' images; the featured dataset's large one above the filters is the hero's.
    let images = tags(&html[html.find("data-grid").unwrap()..], "img");
    assert_eq!(images.len(), 7);
    for (i, img) in images.iter().enumerate() {
        for attr in ["srcset", "sizes", "width", "height", "alt"] {
            assert!(!attributes(img, attr).is_empty(), "{attr} missing in {img}");
        }
        assert!(
            attributes(img, "alt")[0].starts_with("Preview image of "),
            "{img}"
        );
        assert_eq!(img.contains("loading=\"lazy\""), i >= 4, "card {i}: {img}");
    }
    assert!(
        images[0].contains("srcset=\"datasets/cortex-l4/media/"),
        "{}",
        images[0]
    );
    assert!(images[0].contains(" 320w, "), "{}", images[0]);
}

#[test]
fn gallery_has_filters_search_and_no_js_fallbacks() {
    let pages = render();
    let html = page(&pages, "index.html");
    for control in [
        "<input id=\"filter-q\" name=\"q\" type=\"search\"",
        "<label for=\"filter-q\">",
        "<select id=\"filter-tag\" name=\"tag\">",
        "<select id=\"filter-species\" name=\"species\" data-facet=\"species\">",
        "<select id=\"filter-region\" name=\"region\" data-facet=\"region\">",
        "<select id=\"filter-modality\" name=\"modality\" data-facet=\"modality\">",
        "<option>Homo sapiens</option><option>Mus musculus</option>",
        "<option value=\"cortex\">cortex (2)</option>",
        "data-index=\"search-index.json\"",
        "assets/gallery.js",
    ] {
        assert!(html.contains(control), "missing {control}");
    }
    // Without JS the controls stay hidden and the tag pages are plain links.
    assert!(html.contains("data-filters data-index=\"search-index.json\" data-total=\"7\" hidden>"));
    assert!(html.contains("<a href=\"tags/retina/\">retina"));
    assert!(page(&pages, "spotlight/index.html").contains("data-index=\"../search-index.json\""));

    let index: serde_json::Value = serde_json::from_str(page(&pages, "search-index.json")).unwrap();
    let entries = index.as_array().unwrap();
    assert_eq!(entries.len(), 7);
    let cortex = entries.iter().find(|e| e["slug"] == "cortex-l4").unwrap();
    assert_eq!(cortex["url"], "datasets/cortex-l4/");
    assert_eq!(cortex["modality"], "SBEM");
    assert_eq!(cortex["published"], "2023-05-01");
    assert_eq!(cortex["authors"][1], "Bo Builder");
    assert_eq!(
        cortex["summary"],
        "Dense reconstruction of layer 4. Second line ."
    );
}

#[test]
fn nothing_private_appears_outside_private() {
    let pages = render();
    assert!(pages.iter().any(|p| p.private));
    assert!(pages
        .iter()
        .all(|p| p.private == p.path.starts_with("private/")));
    for p in pages.iter().filter(|p| !p.private) {
        let body = String::from_utf8_lossy(&p.body);
        for marker in PRIVATE_MARKERS {
            assert!(!body.contains(marker), "{} contains `{marker}`", p.path);
        }
    }
}

#[test]
fn private_pages_are_gated_noindexed_and_keep_public_pages_clean() {
    let pages = render();
    let private = page(&pages, "private/secret-mouse/index.html");
    assert!(private.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"));
    assert!(!private.contains("rel=\"canonical\""));
    assert!(!private.contains("application/ld+json"));
    assert!(!private.contains("og:image"));
    assert!(private.contains("xylophone"));
    // Tags on a private page are text, not links to public tag pages.
    assert!(private.contains("<span>embargoed-tag</span>"));
    assert!(pages
        .iter()
        .filter(|p| p.path.starts_with("private/"))
        .all(|p| p.private));

    for p in pages.iter().filter(|p| !p.path.starts_with("private/")) {
        assert!(!p.private, "{}", p.path);
        let body = String::from_utf8_lossy(&p.body);
        for marker in PRIVATE_MARKERS {
            assert!(!body.contains(marker), "{} contains `{marker}`", p.path);
        }
    }
    let public = page(&pages, "datasets/cortex-l4/index.html");
    assert!(public.contains("Axon tracing"));
    assert!(public.contains("href=\"annotations/axon-1/\""));
    assert!(pages
        .iter()
        .any(|p| p.path == "private/cortex-l4/annotations/secret-tracing/index.html"));
}

#[test]
fn descriptions_are_sanitised_on_the_page() {
    let pages = render();
    let html = page(&pages, "datasets/cortex-l4/index.html");
    assert!(html.contains("<strong>reconstruction</strong>"));
    assert!(html.contains("<h3>Methods</h3>"));
    assert!(!html.contains("alert("), "script or handler survived");
    assert!(!html.contains("onerror"));
    assert!(!html.contains("javascript:"));
}

#[test]
fn dataset_page_has_metadata_citation_jsonld_and_social_tags() {
    let pages = render();
    let html = page(&pages, "datasets/cortex-l4/index.html");
    for expected in [
        "<link rel=\"canonical\" href=\"https://data.example.org/lab/datasets/cortex-l4/\">",
        "<meta property=\"og:image\" content=\"https://data.example.org/lab/datasets/cortex-l4/media/",
        "<meta name=\"twitter:card\" content=\"summary_large_image\">",
        "<a href=\"https://spdx.org/licenses/CC-BY-4.0.html\" rel=\"license\">CC-BY-4.0</a>",
        "<a class=\"doi\" href=\"https://doi.org/10.1234/abcd\">10.1234/abcd</a>",
        "<dd>4 × 4 × 40 nm</dd>",
        "<dd>4096 × 4096 px, 3 slices</dd>",
        "<time datetime=\"2023-05-01\">1 May 2023</time>",
        "<a href=\"../../tags/connectomics/\">connectomics</a>",
        "<a href=\"https://webknossos.org/links/cortex\" rel=\"noopener\">webKnossos</a>",
        "Ada Author, Bo Builder (2023). Mouse cortex L4 &lt;SBEM&gt; [Data set]. Lab &amp; Friends Gallery. https://doi.org/10.1234/abcd",
        "@misc{cortexl42023,",
        "  doi = {10.1234/abcd},",
        "data-copy=\"cite-bibtex\" hidden>Copy</button>",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(!html.contains("Hidden Tracing Omega"));

    let start = html.find("<script type=\"application/ld+json\">").unwrap();
    let json = &html[start + 35..];
    let json = &json[..json.find("</script>").unwrap()];
    let ld: serde_json::Value = serde_json::from_str(json).expect("JSON-LD parses");
    assert_eq!(ld["@type"], "Dataset");
    assert_eq!(ld["name"], "Mouse cortex L4 <SBEM>");
    assert_eq!(
        ld["url"],
        "https://data.example.org/lab/datasets/cortex-l4/"
    );
    assert_eq!(ld["identifier"], "https://doi.org/10.1234/abcd");
    assert_eq!(ld["license"], "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_eq!(ld["creator"][0]["name"], "Ada Author");
    assert_eq!(ld["datePublished"], "2023-05-01");
    assert_eq!(ld["isAccessibleForFree"], true);
    assert_eq!(ld["keywords"][0], "connectomics");
    assert!(ld["image"].as_str().unwrap().starts_with("https://"));
    assert_eq!(ld["distribution"].as_array().unwrap().len(), 3);
    assert!(!json.contains('<'), "`<` must be escaped inside the script");
}

#[test]
fn viewer_context_points_at_relative_pyramids_or_fallbacks() {
    let (content, media) = model();
    let site = tempfile::tempdir().unwrap();
    let partial = site.path().join("themes/t/templates/partials/viewer.html");
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(
        &partial,
        "<pre id=\"v\">{{ dataset.viewer | json_encode() | safe }}</pre>",
    )
    .unwrap();
    let theme = Theme::load(site.path(), Some("t")).unwrap();
    for pyramids in [true, false] {
        let opts = RenderOptions {
            pyramids,
            ..options()
        };
        let pages = render_site(&content, &media, &theme, &opts).unwrap();
        let html = page(&pages, "datasets/cortex-l4/index.html");
        let start = html.find("<pre id=\"v\">").unwrap() + 12;
        let viewer: serde_json::Value =
            serde_json::from_str(&html[start..start + html[start..].find("</pre>").unwrap()])
                .unwrap();
        let slices = viewer["slices"].as_array().unwrap();
        assert_eq!(slices.len(), 3);
        assert_eq!(viewer["voxel_size_nm"], serde_json::json!([4.0, 4.0, 40.0]));
        assert_eq!(viewer["private"], false);
        assert_eq!(slices[1]["width"], 4096);
        assert_eq!(
            slices[1]["fallback"]["src"],
            "media/000000000000c001/thumb-640.jpg"
        );
        if pyramids {
            assert_eq!(slices[0]["dzi"], "media/000000000000c000/tiles.dzi");
        } else {
            assert!(slices[0]["dzi"].is_null());
        }
    }
}

/// Resolves `url` (relative to the page at `from`) to an output path.
fn resolve(from: &str, url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap();
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in url.split('/') {
        match seg {
            ".." => {
                assert!(
                    parts.pop().is_some(),
                    "`{url}` climbs above the root from {from}"
                );
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    let mut path = parts.join("/");
    if url.ends_with('/') || url.is_empty() || url == "." {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str("index.html");
    }
    path
}

#[test]
fn every_relative_url_resolves_to_an_output_file() {
    let (content, media) = model();
    urls_resolve(&content, &media);
}

/// Every relative `href`, `src` and `srcset` URL of every page names an output file.
fn urls_resolve(content: &Content, media: &MediaIndex) {
    let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
    let opts = options();
    let pages = render_site(content, media, &theme, &opts).unwrap();
    let mut files: BTreeSet<String> = pages.iter().map(|p| p.path.clone()).collect();
    files.extend(theme.static_files().keys().cloned());
    for d in &content.datasets {
        for image in std::iter::once(&d.thumbnail).chain(&d.images) {
            let derived = &media.images[image];
            for r in &derived.thumbnails {
                files.insert(format!("{}{}", d.media_dir(&derived.hash), r.name));
            }
            files.insert(format!("{}tiles.dzi", d.media_dir(&derived.hash)));
        }
    }
    files.extend(
        vitrine::render::annotation::annotation_files(content)
            .into_iter()
            .map(|(path, _)| path),
    );

    let mut checked = 0;
    for p in pages
        .iter()
        .filter(|p| p.path.ends_with(".html") && p.path != "404.html")
    {
        let html = std::str::from_utf8(&p.body).unwrap();
        let mut urls = attributes(html, "href");
        urls.extend(attributes(html, "src"));
        for srcset in attributes(html, "srcset") {
            urls.extend(
                srcset
                    .split(", ")
                    .map(|c| c.split(' ').next().unwrap().to_string()),
            );
        }
        for url in urls {
            if url.contains(':') || url.starts_with('#') || url.starts_with('/') {
                assert!(
                    url.starts_with("https://")
                        || url.starts_with("data:image/svg+xml,")
                        || url.starts_with('#'),
                    "{}: unexpected URL `{url}`",
                    p.path
                );
                continue;
            }
            let target = resolve(&p.path, &url);
            assert!(
                files.contains(&target),
                "{}: `{url}` → `{target}` does not exist",
                p.path
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} URLs checked");
}

#[test]
fn a_long_listing_is_paged_with_links_that_work_without_javascript() {
    let (mut content, media) = model();
    content.config.per_page = 2;
    urls_resolve(&content, &media);
    let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
    let pages = render_site(&content, &media, &theme, &options()).unwrap();
    let public: Vec<&str> = content
        .datasets
        .iter()
        .filter(|d| d.is_public())
        .map(|d| d.slug.as_str())
        .collect();
    let count = public.len().div_ceil(2);
    assert!(count >= 2, "the model has too few public datasets to page");
    let mut public_sorted = public.clone();
    public_sorted.sort();
    let mut in_order = Vec::new();
    for dir in ["", "spotlight/"] {
        let mut listed = Vec::new();
        for n in 1..=count {
            let path = match n {
                1 => format!("{dir}index.html"),
                n => format!("{dir}page/{n}/index.html"),
            };
            let html = page(&pages, &path);
            let shown: Vec<String> = attributes(html, "data-slug");
            assert!(shown.len() <= 2 && !shown.is_empty(), "{path}: {shown:?}");
            listed.extend(shown);
            // Previous and next lead to the neighbours, the numbered links to every page shown.
            let next = html.contains("rel=\"next\"");
            assert_eq!(next, n < count, "{path}: a next link iff a next page");
            for (rel, to) in [("prev", n.wrapping_sub(1)), ("next", n + 1)] {
                let Some(at) = html.find(&format!("rel=\"{rel}\"")) else {
                    continue;
                };
                let href = html[..at].rsplit("href=\"").next().unwrap();
                let href = &href[..href.find('"').unwrap()];
                let want = match to {
                    1 => format!("{dir}index.html"),
                    to => format!("{dir}page/{to}/index.html"),
                };
                assert_eq!(resolve(&path, href), want, "{path}: {rel}");
            }
            assert!(html.contains(&format!("({n} of {count})")), "{path}");
            let canonical = match n {
                1 => format!("{BASE}/"),
                n => format!("{BASE}/page/{n}/"),
            };
            assert!(
                html.contains(&format!("<link rel=\"canonical\" href=\"{canonical}\">")),
                "{path}: canonical {canonical}"
            );
        }
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(sorted, public_sorted, "{dir}: every public dataset once");
        in_order.push(listed);
        assert!(!pages
            .iter()
            .any(|p| p.path == format!("{dir}page/{}/index.html", count + 1)));
    }
    // The search index holds every public dataset, with what a card needs.
    let index: serde_json::Value = serde_json::from_str(page(&pages, "search-index.json")).unwrap();
    let slugs: Vec<&str> = index
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["slug"].as_str().unwrap())
        .collect();
    // In the gallery's order, which each copy of the gallery pages through.
    assert!(
        in_order.iter().all(|listed| *listed == slugs),
        "{in_order:?} {slugs:?}"
    );
    for entry in index.as_array().unwrap() {
        let src = entry["image"]["src"].as_str().unwrap();
        assert!(
            src.starts_with("datasets/") && src.ends_with(".jpg"),
            "{src}"
        );
        assert!(entry["image"]["width"].as_u64().unwrap() > 0);
        assert_eq!(
            entry["tag_slugs"].as_array().unwrap().len(),
            entry["tags"].as_array().unwrap().len()
        );
    }
}

#[test]
fn sitemap_robots_and_feed_list_public_items_with_absolute_urls() {
    let pages = render();
    let sitemap = page(&pages, "sitemap.xml");
    assert!(sitemap.contains(
        "<loc>https://data.example.org/lab/datasets/cortex-l4/</loc><lastmod>2023-05-01</lastmod>"
    ));
    assert!(sitemap.contains("<loc>https://data.example.org/lab/tags/cortex/</loc>"));
    assert!(sitemap.contains(
        "<loc>https://data.example.org/lab/datasets/cortex-l4/annotations/axon-1/</loc>"
    ));
    assert!(!sitemap.contains("private"));
    assert_eq!(
        page(&pages, "robots.txt"),
        "User-agent: *\nDisallow: /lab/private/\n\nSitemap: https://data.example.org/lab/sitemap.xml\n"
    );
    let feed = page(&pages, "feed.xml");
    let ids = feed_ids(feed);
    assert_eq!(
        &ids[..4],
        [
            "https://data.example.org/lab/",
            "https://data.example.org/lab/datasets/retina-2024/",
            "https://data.example.org/lab/datasets/cortex-l4/",
            "https://data.example.org/lab/datasets/hippocampus/",
        ]
    );
    assert_eq!(ids.len(), 8, "the feed and its seven public datasets");
    assert!(feed.contains("<title>Lab &amp; Friends Gallery</title>"));
    assert!(feed.contains("<updated>2024-02-03T00:00:00Z</updated>"));
}

/// The `<id>`s of an Atom feed, the feed's own first.
fn feed_ids(feed: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(feed);
    let mut ids = Vec::new();
    let mut in_id = false;
    loop {
        match reader.read_event().expect("feed is well-formed XML") {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"id" => in_id = true,
            quick_xml::events::Event::Text(t) if in_id => {
                ids.push(t.unescape().unwrap().into_owned());
                in_id = false;
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    ids
}

#[test]
fn the_feed_lists_the_newest_feed_entries() {
    let (mut content, media) = model();
    content.config.feed_entries = 2;
    let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
    let pages = render_site(&content, &media, &theme, &options()).unwrap();
    assert_eq!(
        feed_ids(page(&pages, "feed.xml")),
        [
            "https://data.example.org/lab/",
            "https://data.example.org/lab/datasets/retina-2024/",
            "https://data.example.org/lab/datasets/cortex-l4/",
        ]
    );
}

#[test]
fn a_missing_derived_image_names_the_descriptor() {
    let (content, mut media) = model();
    media.images.remove(&content.datasets[0].thumbnail);
    let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
    let err = render_site(&content, &media, &theme, &options())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/site/content/datasets/cortex-l4/dataset.yaml"),
        "{err}"
    );
    assert!(err.contains("thumb.png"), "{err}");
}

/// Golden HTML: the vitrine version is masked so a release does not churn the files.
fn check_golden(name: &str, actual: &str) {
    let actual = actual.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    let path = crate::common::repo().join("tests/golden/render").join(name);
    if std::env::var_os("VITRINE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with VITRINE_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the rendered page at line {}:\n  golden: {:?}\n  actual: {:?}\n\
             (if the change is intended, rerun with VITRINE_BLESS=1)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn golden_main_pages() {
    let (content, media) = model();
    // A fixed viewer partial, so these files change with render's output and not the viewer's.
    let site = tempfile::tempdir().unwrap();
    let partial = site.path().join("themes/t/templates/partials/viewer.html");
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(
        &partial,
        "<div class=\"viewer\" data-slices=\"{{ dataset.viewer.slices | length }}\"></div>",
    )
    .unwrap();
    let theme = Theme::load(site.path(), Some("t")).unwrap();
    let pages = render_site(&content, &media, &theme, &options()).unwrap();
    for (path, golden) in [
        ("index.html", "index.html"),
        ("datasets/cortex-l4/index.html", "dataset.html"),
        ("private/secret-mouse/index.html", "private-dataset.html"),
        ("tags/cortex/index.html", "tag.html"),
        ("tags/index.html", "tags.html"),
        ("404.html", "404.html"),
        ("feed.xml", "feed.xml"),
        ("sitemap.xml", "sitemap.xml"),
    ] {
        check_golden(golden, page(&pages, path));
    }
}

#[test]
fn a_site_with_no_public_dataset_still_renders_every_listing() {
    let (mut content, media) = model();
    content.datasets.retain(|d| !d.is_public());
    let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
    let pages = render_site(&content, &media, &theme, &options()).unwrap();
    let paths: Vec<&str> = pages
        .iter()
        .map(|p| p.path.as_str())
        .filter(|p| !p.starts_with("private/"))
        .collect();
    assert_eq!(
        paths,
        [
            "404.html",
            "feed.xml",
            "index.html",
            "robots.txt",
            "search-index.json",
            "sitemap.xml",
            "spotlight/index.html",
            "tags/index.html"
        ]
    );
    assert!(page(&pages, "index.html").contains("No public datasets yet"));
    assert!(!page(&pages, "index.html").contains("data-filters"));
    assert!(page(&pages, "tags/index.html").contains("No public dataset has tags yet."));
    assert_eq!(page(&pages, "search-index.json"), "[]");
    assert!(!page(&pages, "feed.xml").contains("<entry>"));
}

#[test]
fn a_description_links_its_own_files_where_they_are_published() {
    let mut d = dataset("cortex", "Cortex", Visibility::Public);
    d.description = "![Fig. 1](<figs/Fig 1 (a).png> \"x\") and [data](./counts.csv?v=2#r3), \
                     <a href=\"other.csv\">not a file of the dataset</a>, [up](/datasets/)"
        .to_string();
    d.attachments = ["figs/Fig 1 (a).png", "counts.csv"]
        .map(|name| vitrine::content::model::Attachment {
            name: name.to_string(),
            published: vitrine::content::description::web_name(name).unwrap(),
            file: d.dir.join(name),
        })
        .into();
    let html = vitrine::render::markdown::description_html(&d, "../../files/");
    for expected in [
        "src=\"../../files/figs/fig-1-a.png\"",
        "href=\"../../files/counts.csv?v=2#r3\"",
        "href=\"other.csv\"",
        "href=\"/datasets/\"",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
}
