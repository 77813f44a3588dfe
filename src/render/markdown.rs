//! Markdown descriptions to safe HTML, and their first paragraph as plain text.
//!
//! Descriptions are written by dataset owners, so raw HTML in them is **sanitised, never
//! executed**: ammonia removes scripts, event handlers and `javascript:` URLs after
//! pulldown-cmark has rendered the markdown.

use std::collections::HashMap;
use std::sync::OnceLock;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::content::description::{
    markdown_options as options, sanitiser as configured, split_reference, url_evaluator, ID_PREFIX,
};
use crate::content::Dataset;

/// Renders markdown to sanitised HTML.
///
/// Headings move down two levels (`#` becomes `<h3>`) to nest under the page's own headings; footnotes get ids the sanitiser keeps, so their links still work.
pub fn to_html(markdown: &str) -> String {
    sanitizer().clean(&unsanitized(markdown)).to_string()
}

/// Renders a dataset's description like [`to_html`], its references to the dataset's own
/// files ([`Dataset::attachments`]) pointing into `files`, the URL of the published
/// `files/` folder (relative to the page showing it, or absolute for a feed).
pub fn description_html(dataset: &Dataset, files: &str) -> String {
    let html = unsanitized(&dataset.description);
    if dataset.attachments.is_empty() {
        return sanitizer().clean(&html).to_string();
    }
    let rewrite = url_evaluator(move |url| {
        if let Some(Ok(r)) = split_reference(url) {
            if let Some(a) = dataset.attachments.iter().find(|a| a.name == r.name) {
                return Some(format!("{files}{}{}", a.published, r.suffix).into());
            }
        }
        Some(url.into())
    });
    let mut builder = configured();
    builder.url_relative(ammonia::UrlRelative::Custom(rewrite));
    builder.clean(&html).to_string()
}

/// The HTML pulldown-cmark makes of `markdown`, before sanitising.
fn unsanitized(markdown: &str) -> String {
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut number_of = |label: &str| {
        let next = numbers.len() + 1;
        *numbers.entry(label.to_string()).or_insert(next)
    };
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
        Event::FootnoteReference(label) => {
            let n = number_of(&label);
            Event::InlineHtml(
                format!(
                    "<sup class=\"footnote-ref\"><a href=\"#{ID_PREFIX}fn-{id}\" id=\"ref-{id}\">{n}</a></sup>",
                    id = anchor(&label)
                )
                .into(),
            )
        }
        Event::Start(Tag::FootnoteDefinition(label)) => {
            let n = number_of(&label);
            Event::Html(
                format!(
                    "<div class=\"footnote\" id=\"fn-{id}\"><sup>{n}</sup>",
                    id = anchor(&label)
                )
                .into(),
            )
        }
        Event::End(TagEnd::FootnoteDefinition) => Event::Html("</div>\n".into()),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// The first paragraph of `markdown` as plain text with whitespace collapsed, for cards and
/// `<meta name="description">`; empty when there is no paragraph.
///
/// Raw HTML inside the paragraph is dropped rather than shown as tags.
pub fn summary(markdown: &str) -> String {
    let mut text = String::new();
    let mut depth = 0usize;
    let mut in_first = false;
    let mut in_script = false;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            // The body of an inline `<script>` or `<style>` is code, not prose.
            Event::InlineHtml(tag) => {
                let tag = tag.to_ascii_lowercase();
                if tag.starts_with("<script") || tag.starts_with("<style") {
                    in_script = true;
                } else if tag.starts_with("</script") || tag.starts_with("</style") {
                    in_script = false;
                }
            }
            _ if in_script => {}
            Event::Start(Tag::Paragraph) if depth == 0 => in_first = true,
            Event::End(TagEnd::Paragraph) if in_first && depth == 0 => break,
            // Paragraphs nested in lists, quotes or footnotes are not the description's first.
            Event::Start(
                Tag::List(_) | Tag::BlockQuote(_) | Tag::FootnoteDefinition(_) | Tag::Item,
            ) => depth += 1,
            Event::End(
                TagEnd::List(_) | TagEnd::BlockQuote(_) | TagEnd::FootnoteDefinition | TagEnd::Item,
            ) => depth = depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if in_first => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if in_first => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Two heading levels lower: a description sits under the page's `<h1>` (the dataset's name)
/// and its `<h2>` ("About this dataset"), so its own headings must not compete with them.
fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// A footnote label as an id fragment: ASCII alphanumerics kept, everything else `-`.
fn anchor(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The descriptions' ammonia configuration ([`configured`]), built once.
fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(configured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let html = to_html(
            "Hi <script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n\
             [click](javascript:alert(3)) <a href=\"javascript:alert(4)\">x</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<img src=\"x\""), "{html}");
    }

    #[test]
    fn links_get_noopener_and_markdown_extensions_render() {
        let html = to_html(
            "# Methods\n\nSee [paper](https://example.org).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ text[^n]\n\n[^n]: A note.\n",
        );
        assert!(html.contains("<h3>Methods</h3>"), "{html}");
        assert!(html.contains("rel=\"noopener noreferrer\""), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("href=\"#md-fn-n\""), "{html}");
        assert!(html.contains("id=\"md-fn-n\""), "{html}");
    }

    #[test]
    fn summary_is_the_first_top_level_paragraph_as_text() {
        let md = "# Title\n\n- a list item\n\nFirst *real*\nparagraph with `code` and <b>html</b>.<script>x()</script>\n\nSecond.";
        assert_eq!(summary(md), "First real paragraph with code and html.");
        assert_eq!(summary("# Only a heading"), "");
        assert_eq!(summary(""), "");
    }
}
