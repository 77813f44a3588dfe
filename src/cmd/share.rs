//! `vitrine share`: issue a private share link, record it, print it alone on stdout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::content::{self, Content, Dataset};
use crate::share::ledger::{Ledger, Share};
use crate::share::{keys, revocations, token};

/// Options of `vitrine share`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The private dataset to share (its folder name under content/datasets/).
    pub slug: String,
    /// Share only this annotation of the dataset (its `id` in dataset.yaml).
    #[arg(long, value_name = "ID")]
    pub annotation: Option<String>,
    /// Share only this segmentation layer of the dataset (its `id` under `layers:`): its page,
    /// label tiles and downloads.
    #[arg(long, value_name = "ID", conflicts_with = "annotation")]
    pub layer: Option<String>,
    /// When the link stops working: 90d, 12w, 1y, a date (YYYY-MM-DD, valid through that day,
    /// UTC) or `never`; default `sharing.default_expiry` (180d).
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Who the link is for, shown by `vitrine shares` and usable with `vitrine revoke`.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// The signing key file; default: the newest key of site.yaml found in the key folder.
    #[arg(long, value_name = "FILE", env = "VITRINE_KEY")]
    pub key: Option<PathBuf>,
    /// Also write the link as a QR code to this SVG file, for posters and printed pages.
    #[arg(long, value_name = "FILE.svg")]
    pub qr: Option<PathBuf>,
}

/// Runs `vitrine share`.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let content = content::load(root)?;
    let item = match (&args.annotation, &args.layer) {
        (Some(id), _) => Some(Item::Annotation(id)),
        (None, Some(id)) => Some(Item::Layer(id)),
        (None, None) => None,
    };
    let dataset = shareable(&content, &args.slug, item)?;
    let label = args.label.unwrap_or_default().trim().to_string();
    if label.chars().any(char::is_control) || label.chars().count() > 200 {
        bail!("--label must be one line of at most 200 characters");
    }
    let now = crate::share::now();
    let expiry_text = args
        .expires
        .as_deref()
        .unwrap_or(&content.config.default_expiry);
    let expires = token::parse_expiry(expiry_text, now).with_context(|| match args.expires {
        Some(_) => "in --expires".to_string(),
        None => "in sharing.default_expiry of content/site.yaml".to_string(),
    })?;
    let (key, _) = keys::signing_key(&content.config.keys, args.key.as_deref(), None)?;
    if let Some(qr) = &args.qr {
        let parent = qr
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !parent.is_dir() {
            bail!(
                "cannot write the QR code to `{}`: the folder `{}` does not exist",
                qr.display(),
                parent.display()
            );
        }
    }
    let issued = u32::try_from(now).context("the clock is past 2106")?;
    let kid = vitrine_verify::kid_of(&key.verifying_key().to_bytes());
    let outputs = crate::site::outputs_in_sight(root, &crate::site::default_out(root));
    let seen = crate::share::permanence::in_sight(&outputs, &content.config.base_url, false)?;
    let share = Ledger::update(root, |ledger| {
        let id = loop {
            let id = token::new_share_id()?;
            if ledger.find(&id).is_none() {
                break id;
            }
        };
        let share = Share {
            id,
            label,
            kid,
            dataset: dataset.slug.clone(),
            annotation: args.annotation.clone(),
            layer: args.layer.clone(),
            issued,
            expires,
            revoked: None,
        };
        ledger.shares.push(share.clone());
        revocations::ensure_signed(ledger, &key, &content.config.keys, now, &seen)?;
        revocations::record(ledger, &content.config.base_url)?;
        Ok(share)
    })?;
    let url = crate::share::link_of(&share, &content.config, &content.config.base_url, || {
        Ok(key.clone())
    })?;
    if let Some(qr) = &args.qr {
        write_qr(qr, &url).with_context(|| {
            format!(
                "the share {} was recorded; get its link again with `vitrine shares --link {}`",
                crate::share::hex(&share.id),
                crate::share::hex(&share.id)
            )
        })?;
    }
    println!("{url}");
    Ok(ExitCode::SUCCESS)
}

/// What of a dataset a share opens besides the whole dataset: `--annotation ID` or `--layer ID`.
#[derive(Clone, Copy)]
enum Item<'a> {
    Annotation(&'a str),
    Layer(&'a str),
}

/// The dataset to share, refusing what a link could never open.
fn shareable<'a>(
    content: &'a Content,
    slug: &str,
    item: Option<Item<'_>>,
) -> anyhow::Result<&'a Dataset> {
    let Some(dataset) = content.datasets.iter().find(|d| d.slug == slug) else {
        let slugs: Vec<&str> = content.datasets.iter().map(|d| d.slug.as_str()).collect();
        let hint = match slugs
            .iter()
            .max_by(|a, b| strsim::jaro_winkler(slug, a).total_cmp(&strsim::jaro_winkler(slug, b)))
        {
            Some(best) if strsim::jaro_winkler(slug, best) > 0.8 => {
                format!(" (did you mean `{best}`?)")
            }
            _ if slugs.is_empty() => " (the site has no datasets yet)".to_string(),
            _ => format!("; the datasets are: {}", slugs.join(", ")),
        };
        bail!("no dataset `{slug}` in content/datasets/{hint}");
    };
    let Some(item) = item else {
        if dataset.is_public() {
            bail!(
                "dataset `{slug}` is public, so it needs no share link: link to {}/datasets/{slug}/ \
                 (set `visibility: private` in its dataset.yaml to share it privately)",
                content.config.base_url
            );
        }
        return Ok(dataset);
    };
    // Each kind: its name, its descriptor field, the ids declared and, for the one named,
    // whether it is public and its page. A private item of a public dataset is shared on its
    // own; a public one needs no link.
    let (kind, field, ids, found, id) = match item {
        Item::Annotation(id) => (
            "annotation",
            "annotations",
            dataset
                .annotations
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>(),
            (dataset.annotations.iter().find(|a| a.id == id))
                .map(|a| (a.is_public_in(dataset), a.output_dir(dataset))),
            id,
        ),
        Item::Layer(id) => (
            "layer",
            "layers",
            dataset.layers.iter().map(|l| l.id.as_str()).collect(),
            (dataset.layers.iter().find(|l| l.id == id))
                .map(|l| (l.is_public_in(dataset), l.output_dir(dataset))),
            id,
        ),
    };
    match found {
        None => bail!(
            "dataset `{slug}` has no {kind} `{id}` ({}); see `{field}:` in its dataset.yaml",
            if ids.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has: {}", ids.join(", "))
            }
        ),
        Some((true, page)) => bail!(
            "{kind} `{id}` of dataset `{slug}` is public, so it needs no share link: link to {}",
            content.config.base_url.join(&page)
        ),
        Some((false, _)) => Ok(dataset),
    }
}

/// Writes the link as an SVG QR code (error correction M: survives a smudged print).
fn write_qr(path: &Path, url: &str) -> anyhow::Result<()> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .context("the link is too long for a QR code")?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    std::fs::write(path, svg).with_context(|| format!("writing the QR code `{}`", path.display()))
}
