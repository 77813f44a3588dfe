//! Renders the edge gates: the Netlify edge function and the Cloudflare Pages worker.
//!
//! Both are tera templates of the theme's `edge/` folder that include one shared gate core,
//! filled with the site's public gate data and its refusal pages as JSON. [`SiteGate`] knows
//! where each goes: the Cloudflare worker is a file of the output ([`CLOUDFLARE_WORKER`]), the
//! Netlify function lives beside it ([`NETLIFY_MODULE`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::content::model::Hosting;
use crate::output::{Files, Source};
use crate::render::Theme;
use crate::share::gate::GateData;

/// Where the Netlify edge function goes, relative to the site root (Netlify's Frameworks API).
pub const NETLIFY_MODULE: &str = ".netlify/v1/edge-functions/vitrine-share.js";

/// Where the Cloudflare Pages worker goes, relative to the output folder (advanced mode).
pub const CLOUDFLARE_WORKER: &str = "_worker.js";

/// Which edge to render a gate for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Netlify Edge Functions (Deno).
    Netlify,
    /// Cloudflare Pages `_worker.js` (workerd).
    Cloudflare,
}

/// The refusal pages by key: each `X-Vitrine-Reason`, plus `bad-path`, `too-long` and
/// `too-large` for the 400, 414 and 431 answers (`share::gate::refusal_page`).
pub type GatePages = BTreeMap<String, String>;

/// The three edge templates: the shared gate core and one thin wrapper per edge.
///
/// Taken from the theme (built-in, or a site theme's `edge/` copy file by file), so a lab can
/// restyle or extend a gate without patching vitrine.
#[derive(Debug, Clone)]
pub struct EdgeSources {
    gate: String,
    netlify: String,
    worker: String,
}

impl EdgeSources {
    /// The theme's `edge/gate.js`, `edge/netlify.js` and `edge/worker.js`.
    pub fn from_theme(theme: &Theme) -> Result<Self> {
        let get = |name: &str| {
            theme
                .edge_template(name)
                .map(str::to_string)
                .with_context(|| format!("the theme has no edge template `edge/{name}`"))
        };
        Ok(EdgeSources {
            gate: get("gate.js")?,
            netlify: get("netlify.js")?,
            worker: get("worker.js")?,
        })
    }
}

/// Renders the refusal pages from the theme's `gate.html`.
///
/// They are served under any depth of `/private/`, so their links start from `root_path` (the
/// path of the site root, e.g. `/`); the page gets `site`, `page` and `gate: {status, reason}`.
pub fn render_gate_pages(
    theme: &Theme,
    site: &impl Serialize,
    root_path: &str,
) -> Result<GatePages> {
    let mut pages = GatePages::new();
    for (key, status, reason) in crate::share::gate::refusal_pages() {
        let gate = serde_json::json!({ "status": status, "reason": reason });
        let html = gate_page(theme, site, root_path, gate)
            .with_context(|| format!("rendering the {status} `{key}` page of the gates"))?;
        pages.insert(key.to_string(), html);
    }
    Ok(pages)
}

/// The theme's `gate.html` for `gate`, as served under any depth of `/private/`: it gets `site`,
/// `page` and `gate` only, since one page answers for every private item.
fn gate_page(
    theme: &Theme,
    site: &impl Serialize,
    root_path: &str,
    gate: serde_json::Value,
) -> Result<String> {
    let mut ctx = tera::Context::new();
    ctx.insert("site", site);
    ctx.insert("vitrine_version", env!("CARGO_PKG_VERSION"));
    ctx.insert(
        "page",
        &serde_json::json!({
            "path": "private/",
            "root": root_path,
            "canonical": null,
            "private": true,
            "title": "Private dataset",
            "description": "",
        }),
    );
    ctx.insert("gate", &gate);
    theme.render("gate.html", &ctx)
}

/// What a host without a gate serves under `private/`: the loader page every private page's
/// address answers with (the theme's `gate.html` for a missing link, with `gate.loader` set so
/// it carries the unlocking script and the other refusals) and the service worker
/// `edge/vitrine-sw.js`. Both are the same for every private item, so they name none.
pub struct StaticGate {
    pub loader: String,
    pub service_worker: String,
}

/// Renders the [`StaticGate`] of a site (links start from `root_path`, as in the refusal pages).
pub fn render_static_gate(
    theme: &Theme,
    site: &impl Serialize,
    root_path: &str,
) -> Result<StaticGate> {
    let gate = serde_json::json!({ "status": 401, "reason": "missing", "loader": true });
    let loader = gate_page(theme, site, root_path, gate)
        .context("rendering the loader page (the theme's gate.html with `gate.loader`)")?;
    let service_worker = theme
        .edge_template(crate::output::seal::SERVICE_WORKER)
        .with_context(|| {
            format!(
                "the theme has no `edge/{}`, the service worker of hosts without a gate",
                crate::output::seal::SERVICE_WORKER
            )
        })?
        .to_string();
    Ok(StaticGate {
        loader,
        service_worker,
    })
}

/// Renders one edge module with the site's gate data and refusal pages embedded as JSON.
///
/// `edge_key` is the edge key that opens the sealed private files (64 lowercase hex digits), or
/// `None` when the site has no private item. Only the Netlify module gets it, as the template's
/// `edge_key` (a JS string literal, or `null`): that module lives outside the output folder. The
/// Cloudflare worker is a public file and never sees it (it reads the Pages secret
/// `VITRINE_EDGE_KEY`); its template has no `edge_key` to fill.
pub fn render_edge_module(
    edge: Edge,
    sources: &EdgeSources,
    data: &GateData,
    pages: &GatePages,
    edge_key: Option<&str>,
) -> Result<String> {
    for (key, _, _) in crate::share::gate::refusal_pages() {
        anyhow::ensure!(
            pages.contains_key(key),
            "the gate pages lack the `{key}` page"
        );
    }
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    let (name, wrapper) = match edge {
        Edge::Netlify => ("netlify.js", &sources.netlify),
        Edge::Cloudflare => ("worker.js", &sources.worker),
    };
    let gate = squeeze(&sources.gate);
    tera.add_raw_templates([("gate.js", gate.as_str()), (name, wrapper.as_str())])
        .map_err(|e| anyhow::anyhow!(tera_chain(&e)))
        .with_context(|| {
            format!("reading the theme's edge templates `edge/gate.js` and `edge/{name}`")
        })?;
    let mut ctx = tera::Context::new();
    ctx.insert("data", &serde_json::to_string(data)?);
    ctx.insert("pages", &serde_json::to_string(pages)?);
    if edge == Edge::Netlify {
        if let Some(key) = edge_key {
            anyhow::ensure!(
                key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "the edge key must be 64 lowercase hex digits"
            );
        }
        ctx.insert("edge_key", &serde_json::to_string(&edge_key)?);
    }
    let module = tera
        .render(name, &ctx)
        .map_err(|e| anyhow::anyhow!(tera_chain(&e)))
        .with_context(|| format!("rendering the theme's edge template `edge/{name}`"))?;
    Ok(compact(&module))
}

/// A site's gate as its hosting runs it: the refusal pages (`vitrine serve` answers with them)
/// and the edge module, `None` for `hosting: static`, which has no gate.
pub struct SiteGate {
    /// The refusal pages the module carries.
    pub pages: GatePages,
    module: Option<(Edge, String)>,
}

impl SiteGate {
    /// Renders the gate of `hosting`; `site` is the templates' `site`, `edge_key` goes into the
    /// Netlify module only ([`render_edge_module`]).
    pub fn render(
        hosting: Hosting,
        theme: &Theme,
        site: &impl Serialize,
        root_path: &str,
        data: &GateData,
        edge_key: Option<&str>,
    ) -> Result<SiteGate> {
        let pages = render_gate_pages(theme, site, root_path)?;
        let edge = match hosting {
            Hosting::Netlify => Some(Edge::Netlify),
            Hosting::Cloudflare => Some(Edge::Cloudflare),
            Hosting::Static => None,
        };
        let module = match edge {
            Some(edge) => {
                let sources = EdgeSources::from_theme(theme)?;
                Some((
                    edge,
                    render_edge_module(edge, &sources, data, &pages, edge_key)?,
                ))
            }
            None => None,
        };
        Ok(SiteGate { pages, module })
    }

    /// Adds the gate to the output when it is a file of it: Cloudflare's `_worker.js`.
    pub fn place_in_output(&self, files: &mut Files) {
        if let Some((Edge::Cloudflare, module)) = &self.module {
            files.insert(
                CLOUDFLARE_WORKER.to_string(),
                Source::Bytes(module.clone().into_bytes()),
            );
        }
    }

    /// Whether the gate lives beside the output (`ROOT/`[`NETLIFY_MODULE`]).
    pub fn is_beside(&self) -> bool {
        matches!(self.module, Some((Edge::Netlify, _)))
    }

    /// Writes the gate that lives beside the output, the Netlify function under the site root
    /// `root`, when it changed; or removes the one an earlier build left when the site is no
    /// longer on Netlify.
    pub fn place_beside(&self, root: &Path) -> Result<()> {
        let path = root.join(NETLIFY_MODULE);
        match &self.module {
            Some((Edge::Netlify, text))
                if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) =>
            {
                crate::output::write_file_atomically(&path, text.as_bytes())?;
            }
            Some((Edge::Netlify, _)) => {}
            _ if path.is_file() => std::fs::remove_file(&path)
                .with_context(|| format!("removing the stale `{}`", path.display()))?,
            _ => {}
        }
        Ok(())
    }
}

/// Keeps the module's first line (who wrote it) and drops every other comment line, indentation
/// and blank line: the templates are written to be read, the module is deployed to every edge
/// location, where only the code counts (the size budget is 6 KB).
fn compact(js: &str) -> String {
    let mut lines = js.lines();
    let mut out = lines
        .next()
        .map(|first| format!("{first}\n"))
        .unwrap_or_default();
    for line in lines.map(str::trim) {
        if !line.is_empty() && !line.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The gate core without comment lines and without the spaces JavaScript does not need; the
/// wrappers, whose exports hosts read, stay as written.
///
/// **Caveat**: it knows JavaScript only as far as the core uses it: string, template and regex
/// literals (a regex follows one of `(,=:[!&|?{};`) are copied untouched, a template literal must
/// not nest backticks, and comments must sit on lines of their own.
fn squeeze(js: &str) -> String {
    let mut out = String::with_capacity(js.len());
    for line in js.lines().map(str::trim) {
        if !line.is_empty() && !line.starts_with("//") {
            squeeze_line(line, &mut out);
            out.push('\n');
        }
    }
    out
}

/// Appends `line` without the spaces JavaScript does not need (those between two word characters,
/// or between two `+` or two `-`, stay).
fn squeeze_line(line: &str, out: &mut String) {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let chars: Vec<char> = line.chars().collect();
    let mut last = None::<char>;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let literal_end = match c {
            '"' | '\'' | '`' => Some(closing(&chars, i, c, false)),
            '/' if last.is_none_or(|p| "(,=:[!&|?{};".contains(p)) => {
                Some(closing(&chars, i, '/', true))
            }
            _ => None,
        };
        if let Some(end) = literal_end {
            out.extend(&chars[i..end]);
            last = chars.get(end - 1).copied();
            i = end;
        } else if c == ' ' {
            let next = chars[i..].iter().copied().find(|&n| n != ' ');
            if let (Some(p), Some(n)) = (last, next) {
                if (word(p) && word(n)) || (p == n && (p == '+' || p == '-')) {
                    out.push(' ');
                }
            }
            i += 1;
        } else {
            out.push(c);
            last = Some(c);
            i += 1;
        }
    }
}

/// The index after the literal that opens at `start` with `quote`: escapes skipped, and for a
/// regex, `/` inside a `[...]` class does not close it and the flags belong to it.
fn closing(chars: &[char], start: usize, quote: char, regex: bool) -> usize {
    let mut i = start + 1;
    let mut class = false;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' if regex => class = true,
            ']' if regex => class = false,
            c if c == quote && !class => {
                i += 1;
                while regex && i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    chars.len()
}

/// Tera hides the useful part of an error in its source chain; this spells the whole chain.
fn tera_chain(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
