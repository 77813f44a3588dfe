//! `vitrine serve`: build into a folder of its own, serve it with live reload, watch the
//! sources and rebuild on every change, gating `private/` exactly as the edges do.
//!
//! This module owns the preview only: it never writes into `public/` or the sources, and it
//! never decides about a share link itself: every request goes through [`crate::share::gate`].
//! The pieces: `watch` turns file events into kinds of change, the rebuild loop here runs
//! one build at a time and tells the tabs through `live`, `http` answers requests from the
//! last good output with `files` keeping them inside it.

mod files;
mod http;
mod live;
mod watch;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;

pub use watch::ChangeKind;

use crate::content::Diagnostics;
use crate::output::edge::GatePages;
use crate::share::gate::GateData;
use crate::share::keys;
use crate::share::ledger::{Ledger, Status};
use crate::share::secret::EdgeKey;
use crate::site::{BuildOptions, Site};
use live::{Hub, Message};
use watch::{Batch, Watcher};

/// Threads driving connections; the answers themselves run on tokio's blocking pool.
const CONNECTION_THREADS: usize = 2;

/// How `vitrine serve` was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on; loopback unless the user opens the preview to the network.
    pub bind: IpAddr,
    /// Port; 0 lets the system pick a free one.
    pub port: u16,
    /// Open the site in the default browser once it is built.
    pub open: bool,
    /// The public base URL share links were issued for; links under its path are redirected to
    /// the same path at the preview's root.
    pub base_url: Option<String>,
    /// Print the preview's link of every active share (re-signed with the key on this machine).
    pub share_local: bool,
}

/// What the HTTP side shares with the rebuild loop.
pub(crate) struct State {
    /// The canonical folder the preview builds into and serves from.
    out: PathBuf,
    /// The last good build's gate data and refusal pages.
    gate: RwLock<Gate>,
    /// The open live-reload streams.
    live: Hub,
    /// Whether a build is running, so shutdown can wait for it to end before removing the
    /// folder.
    phase: Mutex<Phase>,
    idle: Condvar,
    /// The path of `--base-url` (e.g. `/data`), without a trailing slash; empty for none.
    public_prefix: String,
}

/// What the gate needs from the last good build.
#[derive(Default, PartialEq)]
struct Gate {
    /// Keys, revocations and public slugs.
    data: GateData,
    /// Refusal pages from the theme's `gate.html`, by `gate::refusal_page` key.
    pages: GatePages,
    /// The key sealed private files open with, as at the edges.
    edge_key: Option<EdgeKey>,
    /// `hosting: static`: no gate, `private/` served as such a host serves it.
    gateless: bool,
}

/// Where the rebuild loop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Building,
    /// Shutting down: no build may start any more.
    Stopped,
}

impl State {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the build cannot swap folders in one step (no `RENAME_EXCHANGE`), the output is
    /// briefly absent; waits (at most a second) for it to be back. Whether it was absent.
    fn wait_for_output(&self) -> bool {
        if self.out.is_dir() {
            return false;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        while !self.out.is_dir() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Marks a build as started, unless the preview is shutting down.
    fn begin_build(&self) -> bool {
        let mut phase = self.phase();
        let start = *phase == Phase::Idle;
        if start {
            *phase = Phase::Building;
        }
        start
    }

    fn end_build(&self) {
        let mut phase = self.phase();
        if *phase == Phase::Building {
            *phase = Phase::Idle;
        }
        self.idle.notify_all();
    }

    /// Lets a running build finish, then refuses new ones.
    fn stop_building(&self) {
        let phase = self.phase();
        let (mut phase, _) = self
            .idle
            .wait_timeout_while(phase, Duration::from_secs(60), |p| *p == Phase::Building)
            .unwrap_or_else(|e| e.into_inner());
        *phase = Phase::Stopped;
    }

    /// The local path for a request under the public base URL's path, if it is one.
    fn strip_public_prefix(&self, path: &str) -> Option<String> {
        if self.public_prefix.is_empty() {
            return None;
        }
        let rest = path.strip_prefix(&self.public_prefix)?;
        match rest {
            "" => Some("/".to_owned()),
            rest if rest.starts_with('/') => Some(rest.to_owned()),
            _ => None,
        }
    }
}

/// Builds, serves and watches `root` until `stop` receives (or its sender is dropped).
pub fn run(root: &Path, options: &Options, stop: Receiver<()>) -> anyhow::Result<()> {
    let root = root.canonicalize().with_context(|| {
        format!(
            "`{}` is not a site folder (pass the folder holding `content/` as --root)",
            root.display()
        )
    })?;
    let addr = SocketAddr::new(options.bind, options.port);
    let listener = TcpListener::bind(addr).with_context(|| {
        format!("cannot listen on {addr} (is another `vitrine serve` running? pass --port 0 for any free port)")
    })?;
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    let url = local_url(addr);

    // A folder per port: a parallel `vitrine build` or a second preview never shares it.
    let out = root
        .join(".vitrine-cache")
        .join(format!("serve-{}", addr.port()));
    std::fs::create_dir_all(&out).with_context(|| format!("creating `{}`", out.display()))?;
    let out = out
        .canonicalize()
        .with_context(|| format!("reading `{}`", out.display()))?;

    let public_prefix = match &options.base_url {
        Some(base) => {
            url_path(base).with_context(|| format!("--base-url `{base}` is not an http(s) URL"))?
        }
        None => String::new(),
    };
    let state = Arc::new(State {
        out: out.clone(),
        gate: RwLock::new(Gate::default()),
        live: Hub::default(),
        phase: Mutex::new(Phase::Idle),
        idle: Condvar::new(),
        public_prefix,
    });

    // Watch before the first build, so an edit made while it runs is not lost.
    let (batches_tx, batches) = mpsc::channel();
    let watcher = Watcher::start(&root, batches_tx)?;
    let build_options = BuildOptions {
        out: out.clone(),
        base_url: Some(url.clone()),
        progress: false,
        preview: true,
        against_live: false,
    };
    let mut rebuilder = Rebuilder {
        site: Site::new(&root),
        options: build_options,
        state: state.clone(),
        failed: false,
    };
    rebuilder.build("first build", &[], None);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CONNECTION_THREADS)
        .thread_name("vitrine-http")
        .enable_io()
        .enable_time()
        .build()
        .context("starting the preview's HTTP server")?;
    let listener = {
        let _entered = runtime.enter();
        listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(listener))
            .with_context(|| format!("cannot serve on {addr}"))?
    };
    runtime.spawn(http::serve(listener, state.clone()));
    println!("Serving {url}");
    if let Some(base) = &options.base_url {
        println!("Share links issued for {base} open here with {url} in its place");
    }
    if options.share_local {
        print_local_links(&root, &url);
    }
    if options.open {
        open_browser(&url);
    }

    // The loop lives as long as the watcher feeding it, i.e. until the process ends.
    std::thread::spawn(move || rebuilder.watch(watcher, batches));
    // Ctrl-C (or a dropped sender) ends the preview.
    let _ = stop.recv();
    state.live.close();
    // Answers in flight get a moment; open connections are then dropped.
    runtime.shutdown_timeout(Duration::from_secs(1));
    // The rebuild loop may be mid-build; let it end so the folder is not recreated after removal.
    state.stop_building();
    std::fs::remove_dir_all(&out)
        .with_context(|| format!("removing the preview folder `{}`", out.display()))?;
    println!("Stopped");
    Ok(())
}

/// Runs builds one at a time and tells the open tabs what came of each.
struct Rebuilder {
    site: Site,
    options: BuildOptions,
    state: Arc<State>,
    /// Whether the last build failed (so the next good one must reload to clear the overlay).
    failed: bool,
}

impl Rebuilder {
    /// Rebuilds for every batch of changes; batches that arrive during a build are merged into
    /// the next one, so a burst (a `git checkout`) costs one or two builds, never two at once.
    /// Paths of batches that need no build (editor litter) are kept for the next build.
    fn watch(mut self, mut watcher: Watcher, batches: Receiver<Batch>) {
        let mut paths = BTreeSet::new();
        let mut rescan = false;
        while let Ok(batch) = batches.recv() {
            let mut kinds = batch.kinds;
            paths.extend(batch.paths);
            rescan |= batch.rescan;
            while let Ok(more) = batches.try_recv() {
                kinds.extend(more.kinds);
                paths.extend(more.paths);
                rescan |= more.rescan;
            }
            if kinds.is_empty() && !rescan {
                continue;
            }
            kinds.sort();
            kinds.dedup();
            watcher.refresh();
            let what = match rescan {
                true => "files changed".to_string(),
                false => describe(&kinds),
            };
            let changed: Vec<PathBuf> = std::mem::take(&mut paths).into_iter().collect();
            self.build(&what, &kinds, (!rescan).then_some(&changed));
            rescan = false;
        }
    }

    /// Builds; with the paths that changed since the last build when the watcher knows them all.
    fn build(&mut self, what: &str, kinds: &[ChangeKind], changed: Option<&[PathBuf]>) {
        if !self.state.begin_build() {
            return;
        }
        let started = Instant::now();
        let result = match changed {
            Some(paths) => self.site.build_after(&self.options, paths),
            None => self.site.build(&self.options),
        };
        self.state.end_build();
        let ms = started.elapsed().as_millis();
        match result {
            Ok(report) => {
                for warning in &report.warnings {
                    eprintln!("{warning}");
                }
                let gate_changed = self.update_gate(Gate {
                    data: report.gate,
                    pages: report.gate_pages,
                    edge_key: report.edge_key,
                    gateless: report.gateless,
                });
                let changed = report.changed;
                println!(
                    "{what}: built in {ms} ms, {} output file(s) changed",
                    changed.len()
                );
                if let Some(message) = message(self.failed, changed, kinds, gate_changed) {
                    self.state.live.broadcast(&message);
                }
                self.failed = false;
            }
            Err(err) => {
                eprintln!(
                    "{what}: the build failed after {ms} ms; still serving the last good build:"
                );
                crate::content::report(&err);
                self.state
                    .live
                    .broadcast(&Message::Error(error_lines(&err)));
                self.failed = true;
            }
        }
    }

    /// Hands the new build's gate to the HTTP side; whether any answer of the gate may
    /// have changed.
    fn update_gate(&mut self, new: Gate) -> bool {
        let mut gate = self.state.gate.write().unwrap_or_else(|e| e.into_inner());
        let changed = *gate != new;
        *gate = new;
        changed
    }
}

/// What the tabs need to hear after a good build: a reload after a failed build (to clear
/// the overlay), a stylesheet swap when only theme CSS changed, nothing when nothing did.
fn message(
    failed: bool,
    changed: Vec<String>,
    kinds: &[ChangeKind],
    gate_changed: bool,
) -> Option<Message> {
    let only_css = !changed.is_empty()
        && changed.iter().all(|p| p.ends_with(".css"))
        && kinds.iter().all(|k| matches!(k, ChangeKind::Static(_)));
    if failed || gate_changed || (!changed.is_empty() && !only_css) {
        Some(Message::Reload(changed))
    } else if only_css {
        Some(Message::Css(changed))
    } else {
        None
    }
}

/// Prints each active share's link on the preview, labelled. Signing is deterministic, so the
/// key that issued a share signs the very token `vitrine share` printed; shares whose key file
/// is not on this machine are named with what to do.
fn print_local_links(root: &Path, url: &str) {
    let ledger = match Ledger::load(root) {
        Ok(ledger) => ledger,
        Err(err) => return eprintln!("{err}; no share links printed"),
    };
    let config = match crate::content::load(root) {
        Ok(content) => content.config,
        Err(err) => return eprintln!("{err:#}; no share links printed"),
    };
    let now = crate::share::now();
    let active: Vec<_> = ledger
        .shares
        .iter()
        .filter(|s| s.status(now) == Status::Active)
        .collect();
    if active.is_empty() {
        return println!("No active share links (issue one with `vitrine share SLUG`)");
    }
    println!("Active share links on this preview:");
    let base = crate::content::BaseUrl::new(url);
    for share in active {
        let kid = crate::share::hex(&share.kid);
        // The key file from the key folder, the path keygen remembered, or VITRINE_KEY.
        let key = || {
            let named = std::env::var_os("VITRINE_KEY").map(PathBuf::from);
            keys::key_file(&kid)
                .into_iter()
                .chain(named)
                .filter_map(|path| keys::load_key_file(&path).ok())
                .find(|key| keys::kid_hex(key) == kid)
                .with_context(|| {
                    format!(
                        "no key file for key {kid} on this machine; set VITRINE_KEY to its file"
                    )
                })
        };
        match crate::share::link_of(share, &config, &base, key) {
            Ok(link) => println!("  {}  {link}", share.label),
            Err(err) => println!("  {}  (not printed: {err:#})", share.label),
        }
    }
}

/// One line per problem: `path:line:col: message` for content errors, the cause chain else.
fn error_lines(err: &anyhow::Error) -> Vec<String> {
    match err.downcast_ref::<Diagnostics>() {
        Some(diags) => diags.0.iter().map(ToString::to_string).collect(),
        None => vec![format!("{err:#}")],
    }
}

/// A short log line naming what changed.
fn describe(kinds: &[ChangeKind]) -> String {
    match kinds {
        [] => "change".to_owned(),
        [one] => format!("changed {one}"),
        [first, rest @ ..] => format!("changed {first} and {} more", rest.len()),
    }
}

/// The URL to print and build with: a wildcard bind is reached through loopback.
fn local_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::from([127, 0, 0, 1]),
        ip if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}:{}", addr.port()),
        IpAddr::V6(v6) => format!("http://[{v6}]:{}", addr.port()),
    }
}

/// The path of an absolute http(s) URL without its trailing slash (`https://a.org/data/` →
/// `/data`, `https://a.org` → empty).
fn url_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return None;
    }
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    Some(if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    })
}

/// Opens `url` in the default browser; failing to is worth a note, not an error.
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let opened = std::process::Command::new(program)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(err) = opened {
        eprintln!("note: could not open a browser with `{program}` ({err}); open {url} yourself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_hear_only_what_they_need() {
        let css = vec!["assets/site.css".to_owned()];
        let static_css = [ChangeKind::Static("themes/lab/static/site.css".into())];
        assert_eq!(
            message(false, css.clone(), &static_css, false),
            Some(Message::Css(css.clone()))
        );
        assert_eq!(
            message(true, css.clone(), &static_css, false),
            Some(Message::Reload(css.clone()))
        );
        let descriptor = [ChangeKind::Descriptor("fly".into())];
        assert_eq!(
            message(false, css.clone(), &descriptor, false),
            Some(Message::Reload(css))
        );
        assert_eq!(message(false, vec![], &descriptor, false), None);
        assert_eq!(
            message(false, vec![], &[ChangeKind::Ledger], true),
            Some(Message::Reload(vec![]))
        );
        assert_eq!(
            message(true, vec![], &descriptor, false),
            Some(Message::Reload(vec![]))
        );
    }

    #[test]
    fn base_url_paths() {
        assert_eq!(url_path("https://lab.org").as_deref(), Some(""));
        assert_eq!(url_path("https://lab.org/").as_deref(), Some(""));
        assert_eq!(url_path("https://lab.org/data/").as_deref(), Some("/data"));
        assert_eq!(url_path("http://lab.org/a/b?x").as_deref(), Some("/a/b"));
        assert_eq!(url_path("lab.org"), None);
    }

    #[test]
    fn wildcard_binds_print_a_loopback_url() {
        assert_eq!(
            local_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(local_url("[::]:80".parse().unwrap()), "http://[::1]:80");
        assert_eq!(
            local_url("127.0.0.1:1111".parse().unwrap()),
            "http://127.0.0.1:1111"
        );
    }
}
