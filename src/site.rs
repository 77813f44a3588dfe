//! Ties the stages together: content → media → render → leak guard → output, plus the edge
//! modules and the revocation list. A [`Site`] keeps what it learnt between builds (the last
//! output manifest), so `vitrine serve` and repeated builds redo only what changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::content::{self, Content, Dataset, Hosting, ImageFormat};
use crate::media::{self, Derived, MediaJob, MediaSettings};
use crate::output::{
    self, Files, GuardMemory, KeyMaterial, LeakGuard, Manifest, OutputRecords, PageCache, Source,
};
use crate::output::{edge, seal};
use crate::render::{self, Cards, Digests, LayerIndex, MediaIndex, RenderOptions, Theme, Views};
use crate::share::gate::GateData;
use crate::share::secret::{self, ContentSecret, EdgeKey};
use crate::share::{self, ledger::Ledger};

/// Where a build goes and how it talks.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The output folder (default `ROOT/public`).
    pub out: PathBuf,
    /// Overrides `base_url` from `site.yaml` (e.g. for a deploy preview).
    pub base_url: Option<String>,
    /// Draw a progress bar for long image work when stderr is a terminal.
    pub progress: bool,
    /// A preview for `vitrine serve`: update the output in place (fast, not crash-atomic) and
    /// leave `ROOT/.netlify/` alone, so a parallel `vitrine build` owns it.
    pub preview: bool,
    /// Also refuse to go behind the revocation list deployed at `base_url` (read over the
    /// network, so never the default).
    pub against_live: bool,
}

/// What a build did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BuildReport {
    /// Number of files in the output.
    pub files: usize,
    /// Public datasets built.
    pub public_datasets: usize,
    /// Private datasets built under `private/`.
    pub private_datasets: usize,
    /// Output paths added, changed or removed by this build (a pyramid's `tiles_files` folder
    /// is one path).
    pub changed: Vec<String>,
    /// Files in the output (or its spare) that vitrine did not write, removed by this build.
    pub removed: Vec<String>,
    /// Problems that do not stop the build (an annotation that misses its image), one line
    /// each, `descriptor: warning: …`.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What the gates need; `vitrine serve` gates with it.
    pub gate: GateData,
    /// The refusal pages, as the edges carry them: `serve` answers with these, so it never
    /// renders a page of its own.
    #[serde(skip)]
    pub gate_pages: edge::GatePages,
    /// Whether the build wrote the Netlify edge function beside the output.
    pub netlify: bool,
    /// Whether the site's hosting has no gate (`hosting: static`): `vitrine serve` then serves
    /// `private/` as such a host does, and the reader's browser opens it.
    #[serde(default)]
    pub gateless: bool,
    /// The key `vitrine serve`'s gate opens sealed files with (none when nothing is private).
    /// Never written to disk with the report.
    #[serde(skip)]
    pub edge_key: Option<EdgeKey>,
    /// Wall-clock time of the build.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// The inputs a build saw and what it reported, stored beside the output's manifest: when the
/// inputs are the same again, the output is already right and the build is a few `stat`s.
#[derive(serde::Serialize, serde::Deserialize)]
struct UpToDate {
    inputs: String,
    report: BuildReport,
    /// The digest of the leak guard the output passed ([`LeakGuard::digest`] and the code):
    /// while it stays the same, only changed files need the leak and key checks.
    checked: String,
    /// The input files (path, size, modification time) read and found free of private keys.
    keyless: HashSet<String>,
    /// When a share of a host without a gate expires next (Unix seconds): from then on the
    /// output is out of date, since that share's keys must change.
    #[serde(default)]
    until: Option<u64>,
}

/// What sealing a build's private files gave.
struct Sealing {
    /// The key the gates open the files with.
    edge: EdgeKey,
    sealed: seal::Sealed,
    /// When the output goes out of date by a share's expiry (hosts without a gate).
    until: Option<u64>,
    /// Said when the content secret was made just now.
    note: Option<String>,
}

/// Every file and folder under `content/` and `themes/`, by path (which orders them as a
/// walk visiting each folder's entries by name would): its identity (path, size and
/// modification time as one string) and whether it is a file.
type Entries = BTreeMap<PathBuf, (String, bool)>;

/// The files a build reads from `content/` and `themes/`.
struct Inputs {
    /// A digest of every file and folder by path, size and modification time, of the vitrine
    /// binary and of the build options: the same digest means the same output.
    fingerprint: String,
    /// Every file, and its path, size and modification time as one string.
    files: Vec<(PathBuf, String)>,
    /// A digest of each dataset folder's files, by the folder.
    folders: HashMap<PathBuf, blake3::Hash>,
    /// A digest of the files under `themes/`.
    themes: blake3::Hash,
}

/// What earlier builds left for a build's plan: cards (from disk or memory), dataset views
/// (memory) and the dataset folders' digests the views are reused under.
struct Known<'a> {
    cards: &'a Cards,
    views: &'a Views,
    folders: &'a HashMap<PathBuf, blake3::Hash>,
}

/// A site folder and what previous builds of it left behind.
pub struct Site {
    root: PathBuf,
    manifests: HashMap<PathBuf, Manifest>,
    /// [`code_identity`] of the running binary, read once.
    code: String,
    memory: Memory,
    /// Set for `vitrine check` ([`Site::checking`]): the cache this site writes, thrown away
    /// with it; its builds stop before publishing.
    scratch: Option<tempfile::TempDir>,
}

/// What a build hands to the next one in the same process (`vitrine serve`) beyond the caches
/// on disk: a dataset whose folder, an image whose file and a theme whose files did not change
/// are reused without reading anything, and the listings' cards stay in memory.
#[derive(Default)]
struct Memory {
    /// The inputs as the last build saw them; see [`Site::build_after`].
    entries: Option<Entries>,
    /// Each dataset, by its folder, with the folder's digest ([`Inputs::folders`]).
    datasets: HashMap<PathBuf, (blake3::Hash, Arc<Dataset>)>,
    /// The settings `media` was derived with.
    media_settings: Option<MediaSettings>,
    /// Each derived image, with its source's identity ([`Inputs::files`]).
    media: HashMap<MediaJob, (String, Derived)>,
    /// What each remote volume's metadata said, by its `volume:` URL: read once a process
    /// (a failure is tried again on the next build).
    remote: HashMap<String, media::RemoteInfo>,
    /// The theme, with the digest of its name and of the files under `themes/`.
    theme: Option<(blake3::Hash, Arc<Theme>)>,
    /// Each output's cards.
    cards: HashMap<PathBuf, Cards>,
    /// The dataset views of the last plan.
    views: Views,
    /// What the leak guard is made from.
    guard: GuardMemory,
    /// A preview's record of its last build (for `vitrine build`, it is on disk).
    records: HashMap<PathBuf, UpToDate>,
}

impl Site {
    /// A site rooted at `root` (the folder holding `content/`).
    pub fn new(root: &Path) -> Site {
        Site {
            root: root.to_path_buf(),
            manifests: HashMap::new(),
            code: code_identity(),
            memory: Memory::default(),
            scratch: None,
        }
    }

    /// A site for `vitrine check`: its builds run every stage and every guard `build` runs,
    /// with the same decoders and templates, so they refuse what `build` would; but they write
    /// nothing of the site's. Derived images, pages and sealed files go to a scratch cache
    /// (images the site's own cache already holds are read from it), and nothing is published:
    /// no output, no edge function, no record, no content secret.
    pub fn checking(root: &Path) -> Result<Site> {
        let scratch = tempfile::Builder::new()
            .prefix("vitrine-check-")
            .tempdir()
            .context("making a scratch folder for `vitrine check`")?;
        Ok(Site {
            scratch: Some(scratch),
            ..Site::new(root)
        })
    }

    /// The site folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The cache folder this site writes: `ROOT/.vitrine-cache`, or a checking site's scratch.
    pub fn cache_dir(&self) -> PathBuf {
        if let Some(scratch) = &self.scratch {
            return scratch.path().to_path_buf();
        }
        self.root.join(".vitrine-cache")
    }

    /// Builds the site into `opts.out`, replacing it atomically. Content problems come back as a
    /// [`content::Diagnostics`] error (all of them); nothing is written then.
    pub fn build(&mut self, opts: &BuildOptions) -> Result<BuildReport> {
        let started = Instant::now();
        let entries = self.scan();
        self.build_from(opts, started, entries)
    }

    /// [`Site::build`] for a caller that watches the inputs (`vitrine serve`): `changed` holds
    /// every path under `content/` and `themes/` that changed since this `Site` last built, as
    /// the file watcher named them, so only those are looked at again instead of both folders.
    pub fn build_after(&mut self, opts: &BuildOptions, changed: &[PathBuf]) -> Result<BuildReport> {
        let started = Instant::now();
        let entries = match self.memory.entries.take() {
            Some(mut entries) => {
                self.rescan(&mut entries, changed);
                entries
            }
            None => self.scan(),
        };
        self.build_from(opts, started, entries)
    }

    fn build_from(
        &mut self,
        opts: &BuildOptions,
        started: Instant,
        entries: Entries,
    ) -> Result<BuildReport> {
        let inputs = self.inputs(opts, &entries);
        self.memory.entries = Some(entries);
        let record_path = self.records(&opts.out).inputs();
        // A preview's folder is this process's own (see `last_manifest`): its record stays here.
        let record: Option<UpToDate> = match opts.preview {
            true => self.memory.records.remove(&opts.out),
            false => std::fs::read(&record_path)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok()),
        };
        // The deployed list can change without any input changing: read it on every such build.
        let shortcut = match opts.against_live {
            true => None,
            false => self.up_to_date(opts, &inputs.fingerprint, record.as_ref()),
        };
        if let Some(mut report) = shortcut {
            report.changed.clear();
            report.removed.clear();
            report.elapsed = started.elapsed();
            self.keep_record(opts, &record_path, record);
            return Ok(report);
        }
        let before = record.unwrap_or_else(|| UpToDate {
            inputs: String::new(),
            report: BuildReport::default(),
            checked: String::new(),
            keyless: HashSet::new(),
            until: None,
        });
        let (report, checked, until) = match self.build_all(opts, started, &inputs, &before) {
            Ok(built) => built,
            Err(err) => {
                // The output did not change: what it passed still holds.
                if opts.preview {
                    self.memory.records.insert(opts.out.clone(), before);
                }
                return Err(err);
            }
        };
        let record = UpToDate {
            inputs: inputs.fingerprint,
            report: report.clone(),
            checked,
            keyless: inputs.files.into_iter().map(|(_, id)| id).collect(),
            until,
        };
        self.keep_record(opts, &record_path, Some(record));
        Ok(report)
    }

    /// Keeps a build's record for the next build: in memory for a preview, else on disk.
    fn keep_record(&mut self, opts: &BuildOptions, path: &Path, record: Option<UpToDate>) {
        match (opts.preview, record) {
            (true, Some(record)) => {
                self.memory.records.insert(opts.out.clone(), record);
            }
            (false, Some(record)) => {
                if let Ok(bytes) = serde_json::to_vec(&record) {
                    // Best effort: without the record the next build just does the work again.
                    let _ = output::write_file_atomically(path, &bytes);
                }
            }
            (_, None) => {}
        }
    }

    /// The folders a build reads: `content/` and `themes/`.
    fn input_dirs(&self) -> [PathBuf; 2] {
        [self.root.join("content"), self.root.join("themes")]
    }

    /// Every file and folder a build reads.
    fn scan(&self) -> Entries {
        self.input_dirs().iter().flat_map(|dir| walk(dir)).collect()
    }

    /// Brings `entries` up to date for the `changed` paths: each is looked at again, with
    /// everything under it, and so is the folder holding it (its modification time changed).
    fn rescan(&self, entries: &mut Entries, changed: &[PathBuf]) {
        let dirs = self.input_dirs();
        let read = |path: &Path| dirs.iter().any(|dir| path.starts_with(dir));
        for path in changed.iter().filter(|path| read(path)) {
            let stale: Vec<PathBuf> = entries
                .range::<Path, _>((Bound::Included(path.as_path()), Bound::Unbounded))
                .map(|(p, _)| p)
                .take_while(|p| p.starts_with(path))
                .cloned()
                .collect();
            for p in stale {
                entries.remove(&p);
            }
            entries.extend(walk(path));
            if let Some(parent) = path.parent().filter(|parent| read(parent)) {
                if let Ok(meta) = std::fs::symlink_metadata(parent) {
                    entries.insert(parent.to_path_buf(), entry(parent, &meta));
                }
            }
        }
    }

    /// What a build reads, from `entries`: the fingerprint (with the vitrine binary itself, whose
    /// theme is embedded, and the options), the files and the digests of folders.
    fn inputs(&self, opts: &BuildOptions, entries: &Entries) -> Inputs {
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.code.as_bytes());
        hasher.update(format!("{:?}|{:?}|{}", opts.out, opts.base_url, opts.preview).as_bytes());
        // The records `vitrine revoke` keeps beside the keys: a newer one must be checked against.
        if let Ok(records) = share::permanence::records_dir() {
            for (_, (identity, _)) in walk(&records) {
                hasher.update(identity.as_bytes());
            }
        }
        // The content secret seals every private file: another secret, another output.
        if let Some(value) = std::env::var_os(secret::ENV) {
            hasher.update(blake3::hash(value.as_encoded_bytes()).as_bytes());
        }
        if let Ok(dir) = share::keys::key_dir() {
            for (path, (identity, _)) in walk_shallow(&dir) {
                if path.extension().is_some_and(|e| e == "content") {
                    hasher.update(identity.as_bytes());
                }
            }
        }
        let mut files = Vec::new();
        let themes = self.root.join("themes");
        for (path, (identity, is_file)) in entries {
            hasher.update(&(identity.len() as u64).to_le_bytes());
            hasher.update(identity.as_bytes());
            if *is_file {
                files.push((path.clone(), identity.clone()));
            }
        }
        let datasets = self.root.join("content").join("datasets");
        let mut folders: HashMap<PathBuf, blake3::Hasher> = HashMap::new();
        let mut theme_files = blake3::Hasher::new();
        for (path, identity) in &files {
            if let Some(slug) = path
                .strip_prefix(&datasets)
                .ok()
                .and_then(|rel| rel.components().next())
            {
                let folder = folders.entry(datasets.join(slug)).or_default();
                folder.update(identity.as_bytes());
                folder.update(&[0]);
            } else if path.starts_with(&themes) {
                theme_files.update(identity.as_bytes());
                theme_files.update(&[0]);
            }
        }
        Inputs {
            fingerprint: hasher.finalize().to_hex().to_string(),
            folders: folders
                .into_iter()
                .map(|(dir, hasher)| (dir, hasher.finalize()))
                .collect(),
            themes: theme_files.finalize(),
            files,
        }
    }

    /// The last build's report, if its inputs were `inputs` and its output is still in place.
    fn up_to_date(
        &mut self,
        opts: &BuildOptions,
        inputs: &str,
        record: Option<&UpToDate>,
    ) -> Option<BuildReport> {
        let record = record?;
        if record.inputs != inputs || record.until.is_some_and(|t| share::now() >= t) {
            return None;
        }
        let manifest = self.last_manifest(opts);
        let in_place = output::manifest_matches_disk(&opts.out, &manifest)
            && (opts.preview || output::strangers(&opts.out, &manifest).is_empty());
        let edge_in_place = opts.preview
            || !record.report.netlify
            || self.root.join(edge::NETLIFY_MODULE).is_file();
        (in_place && edge_in_place).then(|| {
            self.manifests.insert(opts.out.clone(), manifest);
            record.report.clone()
        })
    }

    /// Builds everything that changed since the output's last build (`before`); returns the
    /// report and the digest of the leak guard the output now passes. Files that passed the
    /// same guard and the key check before, unchanged since, are not read again.
    fn build_all(
        &mut self,
        opts: &BuildOptions,
        started: Instant,
        inputs: &Inputs,
        before: &UpToDate,
    ) -> Result<(BuildReport, String, Option<u64>)> {
        let memory = &self.memory.datasets;
        let mut content = content::load_reusing(&self.root, |dir| {
            let (digest, dataset) = memory.get(dir)?;
            (inputs.folders.get(dir) == Some(digest)).then(|| dataset.clone())
        })?;
        self.memory.datasets = content
            .datasets
            .iter()
            .filter_map(|d| Some((d.dir.clone(), (*inputs.folders.get(&d.dir)?, d.clone()))))
            .collect();
        // The site's own address names its revocation record and its deployed list, whatever
        // address this build is for.
        let lists = share::permanence::in_sight(
            &outputs_in_sight(&self.root, &opts.out),
            &content.config.base_url,
            opts.against_live,
        )?;
        let ledger = Ledger::load(&self.root).map_err(|d| content::Diagnostics(vec![d]))?;
        let revocations = share::revocations::verified(&ledger, &content.config.keys)?;
        share::permanence::check(revocations.serial(), revocations.revoked(), &lists)?;
        if let Some(url) = &opts.base_url {
            content.config.base_url = content::BaseUrl::new(url);
        }
        let theme = self.theme(&content, inputs)?;
        let mut media = self.derive_media(&content, opts.progress, inputs)?;
        let settings = self.media_settings(&content);
        let layers = derive_layers(&self.root, &settings, &content, &media)?;
        derive_label_volumes(&self.root, &settings, &content, &layers, &mut media)?;

        // One build of an output at a time, across processes: a second `vitrine build` (or a
        // `serve` rebuild) waits here instead of racing for the page cache and the swap.
        let records = self.records(&opts.out);
        let lock = records.lock()?;
        let pages = PageCache::open(&records.pages(), &self.code)?;
        let cards_before = match self.memory.cards.remove(&opts.out) {
            Some(cards) => cards,
            None => records.load_cards(&self.code),
        };
        let views = std::mem::take(&mut self.memory.views);
        let earlier = Known {
            cards: &cards_before,
            views: &views,
            folders: &inputs.folders,
        };
        let gate = GateData::from_site(&content, &revocations)?;
        // The leak guard depends on content and media alone: it is made while the pages are,
        // its compile (serial) on the core the pages leave free.
        let mut guard_memory = std::mem::take(&mut self.memory.guard);
        if guard_memory.is_empty() {
            guard_memory = records.load_guard(&self.code);
        }
        let (assembled, guard) = rayon::join(
            || self.assemble(&content, &theme, (&media, &layers), &pages, &earlier),
            || leak_guard(&mut guard_memory, &content, &media),
        );
        self.memory.guard = guard_memory;
        let ((mut files, cards, views), guard) = (assembled?, guard?);
        files.insert(
            share::permanence::LIST_PATH.to_string(),
            Source::Bytes(share::revocations::revocations_json(&ledger).into_bytes()),
        );
        self.memory.views = views;
        // The pages this build uses, taken before sealing puts sealed copies in place of the
        // private ones: those are kept too, or every edit would render every private page again.
        let used_pages: Vec<PathBuf> = files
            .values()
            .filter_map(|source| match source {
                Source::Cached(file) => Some(file.clone()),
                Source::Bytes(_) | Source::File(_) | Source::Tree { .. } => None,
            })
            .collect();
        let sealing = self.seal_private(&content, &theme, &ledger, &mut files)?;
        let site_gate = self.site_gate(&content, &theme, &gate, sealing.as_ref())?;
        site_gate.place_in_output(&mut files);
        let manifest = output::manifest_of(&files);
        let previous = self.last_manifest(opts);

        let material = KeyMaterial::new(&share::keys::local_keys(&content.config.keys));
        let checked = format!("{}|{}|{}", self.code, guard.digest(), material.digest());
        let checked = blake3::hash(checked.as_bytes()).to_hex().to_string();
        let all = checked != before.checked;
        let nothing = HashSet::new();
        let differing: HashSet<&str> = output::differing(&previous, &manifest)
            .into_iter()
            .collect();
        let fresh = |path: &str| all || differing.contains(path);
        // A preview's folder is vitrine's own and never deployed: nothing else is written there.
        // A check removes nothing. The walk for strangers overlaps the guard's search.
        let (mut leaks, strangers) = rayon::join(
            || guard.check(&files, &fresh),
            || match opts.preview || self.scratch.is_some() {
                true => Vec::new(),
                false => output::strangers(&opts.out, &previous),
            },
        );
        let (public, private) = output::leak::needles::files_to_compare(&content);
        leaks.extend(output::leak::copies(&public, &private));
        if !leaks.is_empty() {
            bail!(
                "leak guard: the build would publish private items, so nothing was written:\n  {}",
                leaks.join("\n  ")
            );
        }
        output::KeyCheck {
            root: &self.root,
            inputs: &inputs.files,
            keyless: if all { &nothing } else { &before.keyless },
            strangers: &strangers,
            files: &files,
            read_file: &fresh,
            material: &material,
        }
        .run()?;
        // A check ends here: everything a build refuses has been refused.
        let (changed, removed) = match self.scratch {
            Some(_) => (Vec::new(), Vec::new()),
            None => self.publish(opts, (&files, &manifest), &previous, &strangers)?,
        };
        pages.retain(used_pages.iter().map(PathBuf::as_path));
        if let Some(sealing) = &sealing {
            sealing.sealed.retain(&self.sealed_dir());
        }
        // Only a build that publishes places what lives beside the output: a parallel `serve`
        // or `check` must not replace the function a deploy reads.
        let publishes = !opts.preview && self.scratch.is_none();
        let netlify = publishes && site_gate.is_beside();
        if publishes {
            site_gate.place_beside(&self.root)?;
        }
        // A preview's cards live in memory; a stale file is still right, key by key.
        if !opts.preview && !cards.same_keys(&cards_before) {
            records.save_cards(&self.code, &cards);
        }
        if !opts.preview {
            records.save_guard(&self.code, &self.memory.guard);
        }
        self.memory.cards.insert(opts.out.clone(), cards);
        drop(lock);

        let mut warnings = media.warnings.clone();
        warnings.extend(render::annotation::placement_warnings(&content, &media));
        let until = sealing.as_ref().and_then(|s| s.until);
        if let Some(note) = sealing.as_ref().and_then(|s| s.note.clone()) {
            warnings.push(note);
        }
        let report = BuildReport {
            files: output::file_count(&files),
            public_datasets: content.datasets.iter().filter(|d| d.is_public()).count(),
            private_datasets: content.datasets.iter().filter(|d| !d.is_public()).count(),
            changed,
            removed,
            warnings,
            gate_pages: site_gate.pages,
            gate,
            netlify,
            gateless: !content.config.hosting.has_gate(),
            edge_key: sealing.map(|s| s.edge),
            elapsed: started.elapsed(),
        };
        Ok((report, checked, until))
    }

    /// Everything the output will hold: pages (rendered, or linked from `pages` when nothing
    /// they show changed), static files, media and annotation originals; plus the listings' cards
    /// and the dataset views for the next build (what `known` has is not made again). The
    /// revocation list and the edges are placed by the caller, which checked the list.
    fn assemble(
        &self,
        content: &Content,
        theme: &Theme,
        (media, layers): (&MediaIndex, &LayerIndex),
        pages: &PageCache,
        known: &Known,
    ) -> Result<(Files, Cards, Views)> {
        let render_opts = RenderOptions {
            base_url: content.config.base_url.clone(),
            pyramids: content.config.pyramids,
        };
        // A dataset's views depend on its folder (descriptor and images), the site's settings,
        // the theme and the options; the binary is this process's.
        let settings = format!("{:?}|{render_opts:?}|{}", content.config, theme.digest());
        let settings = blake3::hash(settings.as_bytes());
        let digests: Digests = known
            .folders
            .iter()
            .map(|(dir, folder)| {
                let mut digest = blake3::Hasher::new();
                digest.update(settings.as_bytes());
                digest.update(folder.as_bytes());
                (dir.clone(), digest.finalize())
            })
            .collect();
        let plan = render::plan_site(
            content,
            media,
            theme,
            &render_opts,
            known.cards,
            known.views,
            &digests,
        )?;
        let mut files: Files = plan
            .pages
            .par_iter()
            .map(|job| {
                let file = match pages.get(&job.key) {
                    Some(file) => file,
                    None => pages.put(&job.key, &plan.render(job)?.body)?,
                };
                Ok((job.path.clone(), Source::Cached(file)))
            })
            .collect::<Result<_>>()?;
        let (cards, views) = (plan.cards, plan.views);
        for page in plan.files {
            files.insert(page.path, Source::Bytes(page.body));
        }
        // Neuroglancer's bundle only when a page uses it (3 MB a site without volumes need not
        // deploy).
        let view3d = content
            .datasets
            .iter()
            .any(|d| render::view3d::has_view(d, media));
        for (path, bytes) in theme.static_files() {
            if !view3d && path.starts_with(render::view3d::ASSETS_DIR) {
                continue;
            }
            files
                .entry(path.clone())
                .or_insert_with(|| Source::Bytes(bytes.to_vec()));
        }
        place_dataset_files(content, media, &mut files);
        for (path, source) in render::annotation::annotation_files(content) {
            files.insert(path, Source::File(source));
        }
        for page in render::layer::render_layer_pages(content, media, layers, theme, &render_opts)?
        {
            files.insert(page.path, Source::Bytes(page.body));
        }
        for page in render::view3d::render_view3d_pages(content, media, theme, &render_opts)? {
            files.insert(page.path, Source::Bytes(page.body));
        }
        for (path, source) in render::layer::layer_files(content) {
            files.insert(path, Source::File(source));
        }
        for (path, dir, count) in render::layer::layer_tiles(content, layers) {
            files.insert(path, Source::Tree { dir, files: count });
        }
        for (path, dir, count) in render::layer::private_label_volumes(content, media) {
            files.insert(path, Source::Tree { dir, files: count });
        }

        Ok((files, cards, views))
    }

    /// Writes `files` (described by `manifest`) over the output's `previous` files:
    /// atomically for builds, in place for previews. Returns the output paths that changed and
    /// the files vitrine did not write that it removed (`strangers` in the output, found before
    /// the key check read them, and any in the spare). The caller holds the output's lock.
    fn publish(
        &mut self,
        opts: &BuildOptions,
        (files, manifest): (&Files, &Manifest),
        previous: &Manifest,
        strangers: &[PathBuf],
    ) -> Result<(Vec<String>, Vec<String>)> {
        let (changed, removed) = if opts.preview {
            let changed = output::update_in_place(&opts.out, files, manifest, previous)?;
            (changed, Vec::new())
        } else {
            let mut removed = output::remove_strangers(&opts.out, strangers)?;
            let spare_record = self.records(&opts.out).spare();
            let (changed, spare) =
                output::write_atomically(&opts.out, files, manifest, previous, &spare_record)?;
            removed.extend(spare);
            removed.sort();
            removed.dedup();
            (changed, removed)
        };
        if !changed.is_empty() && !opts.preview {
            self.records(&opts.out).save_manifest(manifest);
        }
        self.manifests.insert(opts.out.clone(), manifest.clone());
        Ok((changed, removed))
    }

    /// The site's theme: the one in memory while its name and the files under `themes/` are
    /// the same, else loaded.
    fn theme(&mut self, content: &Content, inputs: &Inputs) -> Result<Arc<Theme>> {
        let name = content.config.theme.as_deref();
        let mut key = blake3::Hasher::new();
        key.update(format!("{name:?}").as_bytes());
        key.update(inputs.themes.as_bytes());
        let key = key.finalize();
        if let Some((known, theme)) = &self.memory.theme {
            if *known == key {
                return Ok(theme.clone());
            }
        }
        let theme = Arc::new(Theme::load(&self.root, name)?);
        self.memory.theme = Some((key, theme.clone()));
        Ok(theme)
    }

    /// Derives every image of the built datasets (cached by content hash; an image derived by
    /// this process whose file did not change since is reused), reporting every failing image
    /// at once, each under its dataset's descriptor.
    fn derive_media(
        &mut self,
        content: &Content,
        progress: bool,
        inputs: &Inputs,
    ) -> Result<MediaIndex> {
        let settings = self.media_settings(content);
        if self.memory.media_settings.as_ref() != Some(&settings) {
            self.memory.media.clear();
            self.memory.media_settings = Some(settings.clone());
        }
        let mut jobs = Vec::new();
        let mut owners = Vec::new();
        for d in &content.datasets {
            jobs.push(MediaJob {
                source: d.thumbnail.clone(),
                pyramid: d.images.is_empty(),
            });
            owners.push(d);
            for image in &d.images {
                jobs.push(MediaJob {
                    source: image.clone(),
                    pyramid: true,
                });
                owners.push(d);
            }
        }
        let identities: HashMap<&Path, &str> = inputs
            .files
            .iter()
            .map(|(path, identity)| (path.as_path(), identity.as_str()))
            .collect();
        let identity = |job: &MediaJob| identities.get(job.source.as_path()).copied();
        // What is still right moves from the last build's memory to this one's, so each derived
        // image is copied once (into the index), not twice.
        let mut last = std::mem::take(&mut self.memory.media);
        let mut memory: HashMap<MediaJob, (String, Derived)> = HashMap::with_capacity(jobs.len());
        let mut known = |job: &MediaJob| {
            let id = identity(job)?;
            if let Some((was, derived)) = memory.get(job) {
                return (was.as_str() == id).then(|| derived.clone());
            }
            let (job, (was, derived)) = last.remove_entry(job)?;
            let copy = (was == id).then(|| derived.clone())?;
            memory.insert(job, (was, derived));
            Some(copy)
        };
        let reused: Vec<Option<Derived>> = jobs.iter().map(&mut known).collect();
        let unknown: Vec<MediaJob> = jobs
            .iter()
            .zip(&reused)
            .filter(|(_, reused)| reused.is_none())
            .map(|(job, _)| job.clone())
            .collect();
        let mut derived = match unknown.is_empty() {
            true => Vec::new(),
            false => media::derive_all(&unknown, &settings, progress),
        }
        .into_iter();
        let mut results = Vec::with_capacity(jobs.len());
        for (job, reused) in jobs.iter().zip(reused) {
            let result = match reused {
                Some(d) => Ok(d),
                None => {
                    let result = derived.next().expect("one result per unknown job");
                    if let (Ok(d), Some(id)) = (&result, identity(job)) {
                        memory.insert(job.clone(), (id.to_string(), d.clone()));
                    }
                    result
                }
            };
            results.push(result);
        }
        self.memory.media = memory;
        let mut index = MediaIndex::default();
        let mut problems = content::Diagnostics::default();
        let mut reported = std::collections::HashSet::new();
        for ((job, result), owner) in jobs.into_iter().zip(results).zip(owners) {
            match result {
                Ok(derived) => {
                    // A thumbnail that is also a viewer image keeps the variant with a pyramid.
                    let keep = index
                        .get(&job.source)
                        .is_some_and(|d: &Derived| d.pyramid.is_some());
                    if !keep {
                        index.images.insert(job.source, derived);
                    }
                }
                Err(err) => {
                    // A thumbnail that is also a viewer image is one problem, told once.
                    if reported.insert((owner.slug.as_str(), job.source.clone())) {
                        problems.push(
                            owner
                                .image_problem(&job.source, &err.problem())
                                .relative_to(&self.root),
                        );
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems.sorted().into());
        }
        self.derive_volumes(content, &settings, &mut index)?;
        self.describe_remote_volumes(content, &mut index);
        Ok(index)
    }

    /// Reads the metadata of each dataset's `volume:` (once a process: `serve`
    /// does not ask the lab's server again on every save). One it cannot read is a warning, and
    /// the page links the volume without it.
    fn describe_remote_volumes(&mut self, content: &Content, index: &mut MediaIndex) {
        let wanted: Vec<&Dataset> = content
            .datasets
            .iter()
            .filter(|d| d.volume.is_some())
            .map(|d| &**d)
            .collect();
        let remote = &mut self.memory.remote;
        for d in wanted {
            let volume = d.volume.as_ref().expect("filtered above");
            let info = match remote.get(&volume.url) {
                Some(info) => Ok(info.clone()),
                None => media::describe_remote(volume.format, &volume.http_location()),
            };
            match info {
                Ok(info) => {
                    remote.insert(volume.url.clone(), info.clone());
                    index.remote.insert(d.dir.clone(), info);
                }
                Err(problem) => {
                    let descriptor = d
                        .descriptor
                        .strip_prefix(&self.root)
                        .unwrap_or(&d.descriptor);
                    index.warnings.push(format!(
                        "{}: warning: volume '{}': its metadata could not be read ({problem}); the page \
                         links the volume without its size and voxel size",
                        descriptor.display(),
                        volume.url
                    ));
                }
            }
        }
    }

    /// Writes each z-stack as an OME-Zarr volume into `index` (cached by
    /// content hash, so an unchanged stack costs one small read). A stack media cannot write as
    /// one volume (slices of different sizes) is a warning; any other failure fails the build.
    fn derive_volumes(
        &self,
        content: &Content,
        settings: &MediaSettings,
        index: &mut MediaIndex,
    ) -> Result<()> {
        let mut problems = content::Diagnostics::default();
        for d in &content.datasets {
            // The viewer's slices: the images, or a stack given as the thumbnail alone.
            let sources = match d.images.is_empty() {
                true => std::slice::from_ref(&d.thumbnail),
                false => &d.images[..],
            };
            let slices: Vec<media::SliceRef> = sources
                .iter()
                .filter_map(|source| Some((source, index.get(source)?)))
                .flat_map(|(source, derived)| {
                    derived
                        .slices()
                        .enumerate()
                        .map(|(page, slice)| media::SliceRef {
                            source: source.clone(),
                            page,
                            hash: slice.hash.clone(),
                        })
                })
                .collect();
            if slices.len() < 2 {
                continue;
            }
            let first = index.get(&slices[0].source).expect("found above");
            let job = media::VolumeJob {
                voxel_size_nm: d.voxel_size_nm.or(first.voxel_size_nm),
                slices,
            };
            match media::derive_volume(&job, settings) {
                Ok(volume) => {
                    index.volumes.insert(d.dir.clone(), volume);
                }
                Err(err @ media::MediaError::Unsupported { .. }) => {
                    let mut warning = d
                        .image_problem(err.path(), &err.problem())
                        .relative_to(&self.root);
                    warning.message = format!("warning: {}", warning.message);
                    index.warnings.push(warning.to_string());
                }
                Err(err) => problems.push(
                    d.image_problem(err.path(), &err.problem())
                        .relative_to(&self.root),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(problems.sorted().into());
        }
        Ok(())
    }

    /// Seals every `private/` file of `files` (docs/share-links.md, "Encryption at rest"); on a
    /// host without a gate also places each active share's slot, the loader at every private
    /// page's address and each private folder's service worker. `None` when nothing is private.
    fn seal_private(
        &self,
        content: &Content,
        theme: &Theme,
        ledger: &Ledger,
        files: &mut Files,
    ) -> Result<Option<Sealing>> {
        let names: BTreeSet<String> = files.keys().filter_map(|p| seal::key_name(p)).collect();
        if names.is_empty() {
            return Ok(None);
        }
        let (secret, note) = self.content_secret(content)?;
        let edge = secret.edge_key();
        let now = share::now();
        let gateless = !content.config.hosting.has_gate();
        let published: BTreeSet<String> = content
            .datasets
            .iter()
            .filter(|d| d.is_public())
            .map(|d| d.slug.clone())
            .collect();
        // Behind a gate an ended share is refused there, so keys need not change.
        let ended: BTreeMap<String, Vec<vitrine_verify::ShareId>> = match gateless {
            true => names
                .iter()
                .map(|name| {
                    (
                        name.clone(),
                        share::slots::ended(ledger, now, name, &published),
                    )
                })
                .collect(),
            false => BTreeMap::new(),
        };
        let cache = self.sealed_dir();
        std::fs::create_dir_all(&cache)
            .with_context(|| format!("creating `{}`", cache.display()))?;
        let sealer = seal::Sealer {
            edge: &edge,
            ended: &ended,
            cache: &cache,
            pages_aside: gateless,
        };
        let sealed = sealer.seal_files(files)?;
        if gateless {
            let base_url = &content.config.base_url;
            let site = render::SiteView::of(&content.config, base_url);
            let gate = edge::render_static_gate(theme, &site, &render::base_path(base_url))?;
            for (path, slot) in
                share::slots::slots(ledger, now, &secret, &sealed.labels, &published)?
            {
                files.insert(path, Source::Bytes(slot));
            }
            let pages: Vec<String> = files
                .keys()
                .filter_map(|p| p.strip_suffix(seal::SEALED_PAGE_SUFFIX))
                .map(str::to_string)
                .collect();
            for page in pages {
                files.insert(page, Source::Bytes(gate.loader.clone().into_bytes()));
            }
            let folders: BTreeSet<String> = names
                .iter()
                .filter_map(|name| name.split_once(':'))
                .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_string())
                .collect();
            for slug in folders {
                files.insert(
                    format!("private/{slug}/{}", seal::SERVICE_WORKER),
                    Source::Bytes(gate.service_worker.clone().into_bytes()),
                );
            }
        }
        Ok(Some(Sealing {
            edge,
            sealed,
            until: gateless
                .then(|| share::slots::next_expiry(ledger, now))
                .flatten(),
            note,
        }))
    }

    /// The content secret private files are sealed with, and a note for the build's report
    /// when it was made just now.
    fn content_secret(&self, content: &Content) -> Result<(ContentSecret, Option<String>)> {
        let (secret, origin) = ContentSecret::of_site(
            &self.cache_dir(),
            &content.config.keys,
            content.config.hosting != Hosting::Netlify,
            self.scratch.is_none(),
        )?;
        let note = match origin {
            secret::Origin::Created(path) => Some(format!(
                "note: made the site's content secret `{}`, which every private file is sealed with: back it up \
                 with your key file, and give it to CI builds as {} (`vitrine secret` prints it)",
                path.display(),
                secret::ENV
            )),
            _ => None,
        };
        Ok((secret, note))
    }

    /// The cache of sealed files, `ROOT/.vitrine-cache/sealed`.
    fn sealed_dir(&self) -> PathBuf {
        self.cache_dir().join("sealed")
    }

    /// The gate of the site's hosting: the theme's gate templates filled with the site's public
    /// keys, revocations, published slugs, refusal pages and, for a module that lives outside
    /// the output, the key that opens sealed files.
    fn site_gate(
        &self,
        content: &Content,
        theme: &Theme,
        gate: &GateData,
        sealing: Option<&Sealing>,
    ) -> Result<edge::SiteGate> {
        let base_url = &content.config.base_url;
        let edge_key = sealing.map(|s| s.edge.to_hex());
        edge::SiteGate::render(
            content.config.hosting,
            theme,
            &render::SiteView::of(&content.config, base_url),
            &render::base_path(base_url),
            gate,
            edge_key.as_deref(),
        )
    }

    /// What the last build of `opts.out` wrote: kept in memory by `serve`, read from the cache
    /// by a new `vitrine build`. A preview's folder belongs to one `serve` process, so a preview
    /// knows only what this `Site` wrote (a folder left by an earlier process is cleared).
    fn last_manifest(&self, opts: &BuildOptions) -> Manifest {
        match self.manifests.get(&opts.out) {
            Some(m) => m.clone(),
            None if opts.preview => Manifest::default(),
            None => self.records(&opts.out).load_manifest(),
        }
    }

    /// Media settings from `site.yaml`, with the cache under `media/` of [`Site::cache_dir`]; a
    /// checking site also reads the site's own.
    fn media_settings(&self, content: &Content) -> MediaSettings {
        let own = || self.root.join(".vitrine-cache").join("media");
        MediaSettings {
            max_pixels: content.config.images.max_pixels,
            thumbnail_widths: content.config.images.thumbnail_widths.clone(),
            pyramids: content.config.pyramids,
            webp: content.config.images.format == ImageFormat::Webp,
            cache_dir: self.cache_dir().join("media"),
            read_also: self.scratch.as_ref().map(|_| own()),
        }
    }

    /// The records vitrine keeps about the output folder `out`.
    fn records(&self, out: &Path) -> OutputRecords {
        OutputRecords::of(&self.cache_dir(), out)
    }
}

/// What identifies the running vitrine: its version and its binary's size and modification
/// time (the theme is embedded, and a rebuilt binary may render differently).
fn code_identity() -> String {
    let binary = std::env::current_exe()
        .and_then(|exe| Ok(media::Stamp::of(&exe, &std::fs::metadata(&exe)?).to_string()))
        .unwrap_or_default();
    format!("{}|{binary}", env!("CARGO_PKG_VERSION"))
}

/// Every file and folder under `dir`, and `dir` itself.
fn walk(dir: &Path) -> Vec<(PathBuf, (String, bool))> {
    walk_to(dir, usize::MAX)
}

/// [`walk`] of `dir`'s own entries only.
fn walk_shallow(dir: &Path) -> Vec<(PathBuf, (String, bool))> {
    walk_to(dir, 1)
}

fn walk_to(dir: &Path, depth: usize) -> Vec<(PathBuf, (String, bool))> {
    walkdir::WalkDir::new(dir)
        .max_depth(depth)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let entry = entry(e.path(), &meta);
            Some((e.into_path(), entry))
        })
        .collect()
}

/// A path's [`Entries`] value.
fn entry(path: &Path, meta: &std::fs::Metadata) -> (String, bool) {
    (media::Stamp::of(path, meta).to_string(), meta.is_file())
}

/// Derives every layer's label images (cached by content hash, in parallel) and checks that
/// they line up with the dataset's viewer images: as many slices, each of the same size.
/// Every problem is reported at the layer's `images` in the descriptor.
fn derive_layers(
    root: &Path,
    settings: &MediaSettings,
    content: &Content,
    media: &MediaIndex,
) -> Result<LayerIndex> {
    let sources: BTreeSet<&PathBuf> = content
        .datasets
        .iter()
        .flat_map(|d| d.layers.iter().flat_map(|l| &l.images))
        .collect();
    let derived: Vec<_> = sources
        .into_par_iter()
        .map(|src| (src.clone(), media::derive_labels(src, settings)))
        .collect();
    let mut index = LayerIndex::new();
    let mut failed = HashMap::new();
    for (src, result) in derived {
        match result {
            Ok(labels) => {
                index.insert(src, labels);
            }
            Err(err) => {
                failed.insert(src, err);
            }
        }
    }
    let mut problems = content::Diagnostics::default();
    for d in &content.datasets {
        // The viewer's slices: every page of every image, or the thumbnail's.
        let raw: Vec<(u32, u32)> = match d.images.is_empty() {
            true => std::iter::once(&d.thumbnail).collect::<Vec<_>>(),
            false => d.images.iter().collect(),
        }
        .into_iter()
        .filter_map(|i| media.get(i))
        .flat_map(Derived::slices)
        .map(|s| (s.info.width, s.info.height))
        .collect();
        for l in &d.layers {
            let mut problem = |text: String| {
                problems.push(l.images_problem(d, &text).relative_to(root));
            };
            let mut slices = Vec::new();
            for image in &l.images {
                let name = image.strip_prefix(&d.dir).unwrap_or(image).display();
                match (index.get(image), failed.get(image)) {
                    (Some(labels), _) => {
                        slices.extend(
                            labels.slices.iter().enumerate().map(|(k, s)| {
                                (format!("{name}, page {}", k + 1), s.width, s.height)
                            }),
                        )
                    }
                    (None, Some(err)) => problem(format!("'{name}': {}", err.problem())),
                    (None, None) => {}
                }
            }
            if l.images.iter().any(|i| failed.contains_key(i)) {
                continue;
            }
            if slices.len() != raw.len() {
                problem(format!(
                    "{} label slice{} for the dataset's {} image slice{}; a segmentation needs one label slice per image slice, in the same order",
                    slices.len(),
                    if slices.len() == 1 { "" } else { "s" },
                    raw.len(),
                    if raw.len() == 1 { "" } else { "s" },
                ));
                continue;
            }
            for (k, ((what, w, h), (rw, rh))) in slices.iter().zip(&raw).enumerate() {
                if (w, h) != (rw, rh) {
                    problem(format!(
                        "slice {} ({what}) is {w} × {h} pixels but the dataset's slice {} is {rw} × {rh}; label images must match their image pixel for pixel",
                        k + 1,
                        k + 1
                    ));
                    break;
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.sorted().into());
    }
    Ok(index)
}

/// Writes each segmentation layer of a z-stack as OME-Zarr labels (media's `label_volume.rs`):
/// public layers into their volume's `labels/` group, which replaces the volume in `media`,
/// private ones as label images of their own. A layer media cannot write as one volume
/// (slices of different sample types) is a warning, as for volumes; other failures fail.
fn derive_label_volumes(
    root: &Path,
    settings: &MediaSettings,
    content: &Content,
    layers: &LayerIndex,
    media: &mut MediaIndex,
) -> Result<()> {
    let mut problems = content::Diagnostics::default();
    for d in &content.datasets {
        let Some(volume) = media.volume(&d.dir).cloned() else {
            continue;
        };
        let mut report = |l: &content::model::LayerRef, err: media::MediaError| {
            let mut problem = l.images_problem(d, &err.problem()).relative_to(root);
            match err {
                media::MediaError::Unsupported { .. } => {
                    problem.message = format!("warning: {}", problem.message);
                    media.warnings.push(problem.to_string());
                }
                _ => problems.push(problem),
            }
        };
        let job = |l: &content::model::LayerRef, image: String| media::LabelVolumeJob {
            files: l.images.clone(),
            slice_hashes: l
                .images
                .iter()
                .filter_map(|i| layers.get(i))
                .flat_map(|labels| labels.slices.iter().map(|s| s.hash.clone()))
                .collect(),
            voxel_size_nm: volume.voxel_size_nm,
            image,
        };
        // Public layers first: they name the published volume, which private ones point at.
        let mut public = Vec::new();
        for l in d.layers.iter().filter(|l| l.is_public_in(d)) {
            match media::derive_label_volume(&job(l, "../../".into()), settings) {
                Ok(labels) => public.push((l.id.clone(), labels)),
                Err(err) => report(l, err),
            }
        }
        let published = match media::with_labels(&volume, &public, settings) {
            Ok(published) => published,
            Err(err) => {
                problems.push(
                    d.image_problem(err.path(), &err.problem())
                        .relative_to(root),
                );
                continue;
            }
        };
        let volume_dir = render::volume_dir(d, &published);
        for l in d.layers.iter().filter(|l| !l.is_public_in(d)) {
            let image = render::relative(&render::layer::labels_dir(d, l), &volume_dir);
            match media::derive_label_volume(&job(l, image), settings) {
                Ok(labels) => {
                    media
                        .private_labels
                        .insert((d.dir.clone(), l.id.clone()), labels);
                }
                Err(err) => report(l, err),
            }
        }
        media.volumes.insert(d.dir.clone(), published);
    }
    if !problems.is_empty() {
        return Err(problems.sorted().into());
    }
    Ok(())
}

/// Links every derived file of every dataset into its media folder, and the files its
/// description refers to into its `files/` folder.
fn place_dataset_files(content: &Content, media: &MediaIndex, files: &mut Files) {
    for d in &content.datasets {
        let dir = d.files_dir();
        for a in &d.attachments {
            files.insert(
                format!("{dir}{}", a.published),
                Source::File(a.file.clone()),
            );
        }
        let derived = std::iter::once(&d.thumbnail)
            .chain(&d.images)
            .filter_map(|source| media.get(source));
        for derived in derived.flat_map(Derived::slices) {
            let dir = d.media_dir(&derived.hash);
            for r in derived.thumbnails.iter().chain(&derived.webp_thumbnails) {
                files.insert(format!("{dir}{}", r.name), Source::Cached(r.file.clone()));
            }
            if let Some(p) = &derived.pyramid {
                let dzi = Source::Cached(p.dir.join("tiles.dzi"));
                files.insert(format!("{dir}tiles.dzi"), dzi);
                let tiles = Source::Tree {
                    dir: p.dir.join("tiles_files"),
                    files: p.tile_count(),
                };
                files.insert(format!("{dir}tiles_files"), tiles);
            }
            if let Some(p) = &derived.raw_pyramid {
                let dzi = Source::Cached(p.dir.join("raw.dzi"));
                files.insert(format!("{dir}raw.dzi"), dzi);
                let tiles = Source::Tree {
                    dir: p.dir.join("raw_files"),
                    files: p.tile_count(),
                };
                files.insert(format!("{dir}raw_files"), tiles);
            }
        }
        // The volume is one tree like a pyramid's tiles: one manifest entry, linked file by file.
        if let Some(volume) = media.volume(&d.dir) {
            let tree = Source::Tree {
                dir: volume.dir.clone(),
                files: volume.files,
            };
            let dir = render::volume_dir(d, volume);
            files.insert(dir.trim_end_matches('/').to_string(), tree);
        }
    }
}

/// The default output folder, `ROOT/public`.
pub fn default_out(root: &Path) -> PathBuf {
    root.join("public")
}

/// The output folders whose published revocation lists a build of `out` must not go behind
/// (see [`share::permanence`]): `out`, the default output, and the spare of each.
pub fn outputs_in_sight(root: &Path, out: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for dir in [out.to_path_buf(), default_out(root)] {
        for dir in [output::spare_path(&dir), dir] {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

/// The leak guard for `content`, made from what the last one (in `memory`) was made from where it
/// can.
fn leak_guard(
    memory: &mut GuardMemory,
    content: &Content,
    media: &MediaIndex,
) -> Result<LeakGuard> {
    let (items, public_text) = output::leak::needles::needles(content, media)?;
    Ok(memory.guard(items, &public_text))
}
