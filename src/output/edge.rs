//! Renders the edge gates: the Netlify edge function and the Cloudflare Pages worker.
//!
//! Both are tera templates of the theme's `edge/` folder that include one shared gate core,
//! filled with the site's public gate data and its refusal pages as JSON. This module only
//! produces the text; the build decides where it goes ([`NETLIFY_MODULE`], [`CLOUDFLARE_WORKER`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

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

/// The refusal pages by key: each `X-Vitrine-Reason`, plus `bad-path` for the 400 answer.
pub type GatePages = BTreeMap<String, String>;

/// The refusal pages the gates need, with the status each is rendered for.
pub const GATE_PAGES: [(&str, u16, &str); 8] = [
    ("missing", 401, "missing"),
    ("invalid", 403, "invalid"),
    ("unknown-key", 403, "unknown-key"),
    ("wrong-scope", 403, "wrong-scope"),
    ("not-yet-valid", 403, "not-yet-valid"),
    ("expired", 410, "expired"),
    ("revoked", 410, "revoked"),
    ("bad-path", 400, "invalid"),
];

/// The three edge templates: the shared gate core and one thin wrapper per edge.
///
/// Kept as strings so the built-in theme (embedded at compile time) and a user theme's `edge/`
/// folder are handled alike, file by file.
#[derive(Debug, Clone)]
pub struct EdgeSources {
    gate: String,
    netlify: String,
    worker: String,
}

impl EdgeSources {
    /// The built-in theme's edge templates.
    pub fn builtin() -> Self {
        EdgeSources {
            gate: include_str!("../../themes/default/edge/gate.js").to_string(),
            netlify: include_str!("../../themes/default/edge/netlify.js").to_string(),
            worker: include_str!("../../themes/default/edge/worker.js").to_string(),
        }
    }

    /// The built-in templates, each replaced by the same-named file in `dir` where one exists.
    pub fn with_overrides(dir: &Path) -> Result<Self> {
        let mut sources = Self::builtin();
        for (name, slot) in [
            ("gate.js", &mut sources.gate),
            ("netlify.js", &mut sources.netlify),
            ("worker.js", &mut sources.worker),
        ] {
            let path = dir.join(name);
            if path.is_file() {
                *slot = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading `{}`", path.display()))?;
            }
        }
        Ok(sources)
    }
}

/// Renders the refusal pages from the theme's `gate.html`, which must be loaded in `tera`.
///
/// `context` carries `site` and `vitrine_version`; this adds `page` (served under any depth of
/// `/private/`, so links are root-relative from `root_path`, e.g. `/`) and `gate: {status, reason}`.
pub fn render_gate_pages(
    tera: &tera::Tera,
    context: &tera::Context,
    root_path: &str,
) -> Result<GatePages> {
    let mut pages = GatePages::new();
    for (key, status, reason) in GATE_PAGES {
        let mut ctx = context.clone();
        ctx.insert(
            "page",
            &serde_json::json!({
                "path": "private/",
                "root": root_path,
                "canonical": "",
                "private": true,
                "title": "Private dataset",
                "description": "",
            }),
        );
        ctx.insert(
            "gate",
            &serde_json::json!({ "status": status, "reason": reason }),
        );
        let html = tera
            .render("gate.html", &ctx)
            .map_err(|e| anyhow::anyhow!(tera_chain(&e)))
            .with_context(|| {
                format!("rendering the theme's `templates/gate.html` for the {status} `{key}` page")
            })?;
        pages.insert(key.to_string(), html);
    }
    Ok(pages)
}

/// Renders one edge module with the site's gate data and refusal pages embedded as JSON.
pub fn render_edge_module(
    edge: Edge,
    sources: &EdgeSources,
    data: &GateData,
    pages: &GatePages,
) -> Result<String> {
    for (key, _, _) in GATE_PAGES {
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
    tera.add_raw_templates([("gate.js", sources.gate.as_str()), (name, wrapper.as_str())])
        .map_err(|e| anyhow::anyhow!(tera_chain(&e)))
        .with_context(|| {
            format!("reading the theme's edge templates `edge/gate.js` and `edge/{name}`")
        })?;
    let mut ctx = tera::Context::new();
    ctx.insert("data", &serde_json::to_string(data)?);
    ctx.insert("pages", &serde_json::to_string(pages)?);
    tera.render(name, &ctx)
        .map_err(|e| anyhow::anyhow!(tera_chain(&e)))
        .with_context(|| format!("rendering the theme's edge template `edge/{name}`"))
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
