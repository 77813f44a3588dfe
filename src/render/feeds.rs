//! The machine-readable outputs: `sitemap.xml`, `robots.txt`, `feed.xml` (Atom) and
//! `search-index.json`, all from public datasets only.
//!
//! They are built in code rather than templates so their escaping cannot be got wrong by a theme.

use crate::content::model::BaseUrl;
use serde::Serialize;

use super::context::{tag_dir, Prepared};
use crate::content::model::SiteConfig;

/// Escapes text for XML element content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are dropped rather than making the file invalid.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The path part of the base URL with slashes on both ends: `/` or `/lab/data/`.
pub fn base_path(base_url: &str) -> String {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let path = path.trim_matches('/');
    if path.is_empty() {
        "/".to_string()
    } else {
        format!("/{path}/")
    }
}

/// `robots.txt`: everything but `private/` may be crawled, and where the sitemap is.
pub fn robots(base_url: &BaseUrl) -> String {
    format!(
        "User-agent: *\nDisallow: {}private/\n\nSitemap: {}\n",
        base_path(base_url),
        base_url.join("sitemap.xml")
    )
}

/// `sitemap.xml` of the public pages, with `lastmod` where a publication date is known.
pub fn sitemap(base_url: &BaseUrl, public: &[&Prepared], tags: &[String]) -> String {
    let mut urls: Vec<(String, Option<String>)> = vec![
        (base_url.join(""), None),
        (base_url.join("spotlight/"), None),
        (base_url.join("tags/"), None),
    ];
    urls.extend(tags.iter().map(|tag| (base_url.join(&tag_dir(tag)), None)));
    for p in public {
        let d = p.dataset;
        let lastmod = d.published.map(|date| date.format("%Y-%m-%d").to_string());
        urls.push((base_url.join(&d.output_dir()), lastmod.clone()));
        for annotation in d.annotations.iter().filter(|a| a.is_public_in(d)) {
            urls.push((base_url.join(&annotation.output_dir(d)), lastmod.clone()));
        }
        for layer in d.layers.iter().filter(|l| l.is_public_in(d)) {
            urls.push((base_url.join(&layer.output_dir(d)), lastmod.clone()));
        }
        if p.volume.is_some() || d.volume.is_some() {
            urls.push((
                base_url.join(&super::view3d::output_dir(d)),
                lastmod.clone(),
            ));
        }
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, lastmod) in urls {
        xml.push_str(&format!("  <url><loc>{}</loc>", xml_escape(&loc)));
        if let Some(lastmod) = lastmod {
            xml.push_str(&format!("<lastmod>{lastmod}</lastmod>"));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

/// An RFC 3339 timestamp for a publication date (midnight UTC); undated items count as the
/// Unix epoch so the feed stays byte-identical between builds.
fn timestamp(date: Option<chrono::NaiveDate>) -> String {
    date.map_or_else(
        || "1970-01-01T00:00:00Z".to_string(),
        |d| format!("{}T00:00:00Z", d.format("%Y-%m-%d")),
    )
}

/// `feed.xml`: an Atom feed of the newest `feed.entries` public datasets, newest first, with
/// ids that stay the same for as long as the dataset's address does.
pub fn atom(config: &SiteConfig, base_url: &BaseUrl, public: &[&Prepared]) -> String {
    let mut entries: Vec<&&Prepared> = public.iter().collect();
    entries.sort_by(|a, b| {
        b.dataset
            .published
            .cmp(&a.dataset.published)
            .then_with(|| a.dataset.display_name.cmp(&b.dataset.display_name))
    });
    entries.truncate(config.feed_entries);
    let updated = timestamp(entries.first().and_then(|p| p.dataset.published));
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         \x20 <title>{title}</title>\n\
         \x20 <id>{home}</id>\n\
         \x20 <link href=\"{home}\"/>\n\
         \x20 <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n\
         \x20 <updated>{updated}</updated>\n\
         \x20 <generator version=\"{version}\">vitrine</generator>\n",
        title = xml_escape(&config.title),
        home = xml_escape(&base_url.join("")),
        feed = xml_escape(&base_url.join("feed.xml")),
        version = env!("CARGO_PKG_VERSION"),
    );
    if !config.description.trim().is_empty() {
        xml.push_str(&format!(
            "  <subtitle>{}</subtitle>\n",
            xml_escape(&super::markdown::summary(&config.description))
        ));
    }
    for p in entries {
        let d = p.dataset;
        let url = xml_escape(&base_url.join(&d.output_dir()));
        xml.push_str("  <entry>\n");
        xml.push_str(&format!(
            "    <title>{}</title>\n",
            xml_escape(&d.display_name)
        ));
        xml.push_str(&format!("    <id>{url}</id>\n    <link href=\"{url}\"/>\n"));
        xml.push_str(&format!(
            "    <updated>{}</updated>\n",
            timestamp(d.published)
        ));
        if d.published.is_some() {
            xml.push_str(&format!(
                "    <published>{}</published>\n",
                timestamp(d.published)
            ));
        }
        let authors: Vec<&str> = if d.authors.is_empty() {
            vec![config.title.as_str()]
        } else {
            d.authors.iter().map(String::as_str).collect()
        };
        for author in authors {
            xml.push_str(&format!(
                "    <author><name>{}</name></author>\n",
                xml_escape(author)
            ));
        }
        for tag in &d.tags {
            xml.push_str(&format!("    <category term=\"{}\"/>\n", xml_escape(tag)));
        }
        xml.push_str(&format!(
            "    <summary>{}</summary>\n",
            xml_escape(&p.texts.summary)
        ));
        xml.push_str(&format!(
            "    <content type=\"html\">{}</content>\n",
            xml_escape(&p.description_absolute(base_url))
        ));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

/// One entry of `search-index.json`; `url` and `image.src` are relative to the site root. It
/// has what the gallery's script needs to show the dataset's card when the dataset is on
/// another page of a paged gallery.
#[derive(Debug, Serialize)]
struct SearchEntry<'a> {
    slug: &'a str,
    url: String,
    name: &'a str,
    summary: &'a str,
    tags: &'a [String],
    /// The tags as the gallery's tag filter names them.
    tag_slugs: Vec<&'a str>,
    /// The card's image: `{src, width, height, alt}`.
    image: SearchImage<'a>,
    authors: &'a [String],
    species: Option<&'a str>,
    region: Option<&'a str>,
    modality: Option<&'a str>,
    published: Option<String>,
}

/// See [`SearchEntry::image`].
#[derive(Debug, Serialize)]
struct SearchImage<'a> {
    src: String,
    width: u32,
    height: u32,
    alt: &'a str,
}

/// One public dataset's entry in `search-index.json`, as JSON.
pub fn search_entry(p: &Prepared) -> String {
    let d = p.dataset;
    let card = p.card("");
    let entry = SearchEntry {
        slug: &d.slug,
        url: card.url,
        name: &d.display_name,
        summary: &p.texts.summary,
        tags: &d.tags,
        tag_slugs: card.tags.iter().map(|t| t.slug).collect(),
        image: SearchImage {
            src: card.preview.src,
            width: card.preview.width,
            height: card.preview.height,
            alt: card.preview.alt,
        },
        authors: &d.authors,
        species: d.species.as_deref(),
        region: d.region.as_deref(),
        modality: d.modality.as_deref(),
        published: d.published.map(|date| date.format("%Y-%m-%d").to_string()),
    };
    serde_json::to_string(&entry).expect("search entries always serialise")
}

/// `search-index.json`: what the gallery's search matches against, from the public datasets'
/// entries ([`search_entry`]) in gallery order.
pub fn search_index<'a>(entries: impl IntoIterator<Item = &'a str>) -> String {
    let mut json = String::from("[");
    for (i, entry) in entries.into_iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(entry);
    }
    json.push(']');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_path_and_robots_follow_a_sub_folder_base_url() {
        assert_eq!(base_path("https://x.org"), "/");
        assert_eq!(base_path("https://x.org/"), "/");
        assert_eq!(base_path("https://x.org/lab/data"), "/lab/data/");
        assert_eq!(
            robots(&BaseUrl::new("https://x.org/lab")),
            "User-agent: *\nDisallow: /lab/private/\n\nSitemap: https://x.org/lab/sitemap.xml\n"
        );
    }

    #[test]
    fn xml_escape_handles_markup_and_control_characters() {
        assert_eq!(xml_escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
