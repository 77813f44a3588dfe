//! `vitrine serve` end to end: a real server process on a copy of `tests/sites/serve`, real
//! file edits, real HTTP over `TcpStream` (no client library between the test and the bytes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::common::{fixture, text, vitrine, vitrine_bin};

/// Generous: the first build of a debug binary on a shared 2-core machine.
const START: Duration = Duration::from_secs(120);
/// How long a rebuild may take to show up.
const REBUILD: Duration = Duration::from_secs(60);

/// A running `vitrine serve --port 0` on a fixture copy; stopped with SIGINT when dropped.
struct Serve {
    child: Child,
    port: u16,
    root: PathBuf,
    stdout: Receiver<String>,
    _tmp: tempfile::TempDir,
}

impl Serve {
    fn start() -> Serve {
        let (tmp, root) = fixture("sites/serve");
        Serve::start_in(tmp, root, &[])
    }

    fn start_in(tmp: tempfile::TempDir, root: PathBuf, extra: &[&str]) -> Serve {
        let mut child = Command::new(vitrine_bin())
            .arg("--root")
            .arg(&root)
            .args(["serve", "--port", "0"])
            .args(extra)
            .env("XDG_CONFIG_HOME", tmp.path().join("xdg-config"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vitrine serve");
        let (tx, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("Serving http://127.0.0.1:") {
                        break url.trim().parse().expect("port in `Serving` line");
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("`vitrine serve` printed no `Serving http://127.0.0.1:PORT` line within {START:?}");
                }
            }
        };
        Serve {
            child,
            port,
            root,
            stdout,
            _tmp: tmp,
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[])
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.port, method, path, headers)
    }

    fn events(&self) -> Events {
        Events::connect(self.port)
    }

    fn descriptor(&self, slug: &str) -> PathBuf {
        self.root
            .join("content/datasets")
            .join(slug)
            .join("dataset.yaml")
    }

    /// Polls `path` until `check` holds on the reply, or fails naming what was last served.
    fn eventually(&self, path: &str, what: &str, check: impl Fn(&Reply) -> bool) -> Reply {
        self.eventually_with(path, &[], what, check)
    }

    fn eventually_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        what: &str,
        check: impl Fn(&Reply) -> bool,
    ) -> Reply {
        let deadline = Instant::now() + REBUILD;
        loop {
            let reply = self.request("GET", path, headers);
            if check(&reply) {
                return reply;
            }
            assert!(
                Instant::now() < deadline,
                "{path} never showed {what}; last reply: {} {}",
                reply.status,
                reply.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGINT (Ctrl-C) and returns the exit status and the rest of stdout.
    fn interrupt(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop within 30 s of Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let rest = self.stdout.try_iter().collect();
        (status, rest)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a fresh connection (`Connection: close`), the path sent byte for byte.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read reply");
    parse_reply(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {path}: not an HTTP reply: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

/// A live-reload client: the events it received, in order.
struct Events {
    events: Receiver<(String, String)>,
}

impl Events {
    fn connect(port: u16) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect for events");
        let head = format!("GET /__vitrine/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "event stream answered {status:?}"
        );
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut name, mut data) = (String::new(), String::new());
            let mut in_body = false;
            for line in reader.lines().map_while(Result::ok) {
                if !in_body {
                    if line.is_empty() {
                        in_body = true;
                    } else if line.to_ascii_lowercase().starts_with("content-type:") {
                        assert!(line.contains("text/event-stream"), "{line}");
                    }
                    continue;
                }
                if let Some(v) = line.strip_prefix("event: ") {
                    name = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = v.to_owned();
                } else if line.is_empty()
                    && !name.is_empty()
                    && tx
                        .send((std::mem::take(&mut name), std::mem::take(&mut data)))
                        .is_err()
                {
                    return;
                }
            }
        });
        // The server lists a stream before it writes the head, so from here no event is missed.
        Events { events }
    }

    /// Waits for an event named `name` (skipping others) and returns its data.
    fn wait(&self, name: &str) -> String {
        let deadline = Instant::now() + REBUILD;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok((n, data)) if n == name => return data,
                Ok(other) => seen.push(other),
                Err(_) => panic!("no `{name}` event within {REBUILD:?}; saw {seen:?}"),
            }
        }
    }
}

/// Writes `text` to `path` the way editors that save atomically do: a temporary file beside
/// it, renamed over it.
fn save_by_rename(path: &Path, text: &str) {
    let name = path.file_name().unwrap().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp~"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn descriptor(name: &str, visibility: &str, description: &str) -> String {
    format!("display_name: {name}\ndescription: {description}\nvisibility: {visibility}\nthumbnail: thumb.png\n")
}

#[test]
fn every_way_of_saving_ends_in_a_rebuilt_page_and_a_reload() {
    let serve = Serve::start();
    let page = "/datasets/open-cortex/";
    assert!(serve.get(page).text().contains("Open cortex"));
    let events = serve.events();
    let path = serve.descriptor("open-cortex");

    std::fs::write(
        &path,
        descriptor("Open cortex", "public", "marker-direct-write"),
    )
    .unwrap();
    events.wait("reload");
    serve.eventually(page, "the direct write", |r| {
        r.status == 200 && r.text().contains("marker-direct-write")
    });

    save_by_rename(
        &path,
        &descriptor("Open cortex", "public", "marker-renamed-over"),
    );
    events.wait("reload");
    serve.eventually(page, "the renamed file", |r| {
        r.text().contains("marker-renamed-over")
    });

    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        &path,
        descriptor("Open cortex", "public", "marker-recreated"),
    )
    .unwrap();
    serve.eventually(page, "the recreated file", |r| {
        r.status == 200 && r.text().contains("marker-recreated")
    });

    // A new dataset folder, copied in as a whole, and then removed again.
    let fresh = serve.root.join("content/datasets/fresh-set");
    std::fs::create_dir(&fresh).unwrap();
    std::fs::copy(
        serve.root.join("content/datasets/open-cortex/thumb.png"),
        fresh.join("thumb.png"),
    )
    .unwrap();
    std::fs::write(
        fresh.join("dataset.yaml"),
        descriptor("Freshly added set", "public", "new"),
    )
    .unwrap();
    events.wait("reload");
    serve.eventually("/datasets/fresh-set/", "the new dataset", |r| {
        r.status == 200
    });
    serve.eventually("/", "the new dataset in the gallery", |r| {
        r.text().contains("Freshly added set")
    });

    std::fs::remove_dir_all(&fresh).unwrap();
    events.wait("reload");
    serve.eventually("/datasets/fresh-set/", "the removed dataset gone", |r| {
        r.status == 404
    });
    serve.eventually("/", "the gallery without it", |r| {
        !r.text().contains("Freshly added set")
    });
}

#[test]
fn a_broken_edit_shows_its_error_and_keeps_the_last_good_site() {
    let serve = Serve::start();
    let page = "/datasets/open-cortex/";
    let events = serve.events();
    let path = serve.descriptor("open-cortex");
    std::fs::write(&path, descriptor("Open cortex", "public", "marker-good")).unwrap();
    events.wait("reload");
    serve.eventually(page, "the good edit", |r| r.text().contains("marker-good"));

    std::fs::write(&path, "display_name: Open cortex\nvisiblity: public\nthumbnail: thumb.png\ndescription: marker-bad\n")
        .unwrap();
    let error = events.wait("error");
    assert!(
        error.contains("content/datasets/open-cortex/dataset.yaml:2:"),
        "error names file and line: {error}"
    );
    assert!(error.contains("visiblity"), "{error}");
    let still = serve.get(page);
    assert_eq!(still.status, 200);
    assert!(
        still.text().contains("marker-good") && !still.text().contains("marker-bad"),
        "the last good page stays"
    );

    // A tab opened while the build is broken learns of the error at once.
    let late = serve.events();
    assert!(late.wait("error").contains("visiblity"));

    std::fs::write(&path, descriptor("Open cortex", "public", "marker-fixed")).unwrap();
    events.wait("reload");
    late.wait("reload");
    serve.eventually(page, "the fixed page", |r| {
        r.text().contains("marker-fixed")
    });
}

#[test]
fn a_stylesheet_change_swaps_styles_without_a_reload() {
    let (tmp, root) = fixture("sites/serve");
    let site_yaml = root.join("content/site.yaml");
    let config = std::fs::read_to_string(&site_yaml).unwrap();
    std::fs::write(&site_yaml, format!("{config}theme: lab\n")).unwrap();
    let css = root.join("themes/lab/static/assets/vitrine.css");
    std::fs::create_dir_all(css.parent().unwrap()).unwrap();
    std::fs::write(&css, "/* lab v1 */ body { color: #111; }\n").unwrap();
    let serve = Serve::start_in(tmp, root, &[]);
    assert!(serve.get("/assets/vitrine.css").text().contains("lab v1"));

    let events = serve.events();
    save_by_rename(&css, "/* lab v2 */ body { color: #222; }\n");
    let swapped = events.wait("css");
    assert!(swapped.contains("assets/vitrine.css"), "{swapped}");
    let served = serve.get("/assets/vitrine.css");
    assert!(served.text().contains("lab v2"));
    assert!(served
        .header("Content-Type")
        .unwrap()
        .starts_with("text/css"));
}

#[test]
fn a_burst_of_changes_ends_in_a_correct_site() {
    let serve = Serve::start();
    let events = serve.events();
    // Like a `git checkout`: many files rewritten and added within milliseconds.
    let path = serve.descriptor("open-cortex");
    for i in 0..150 {
        std::fs::write(
            &path,
            descriptor("Open cortex", "public", &format!("burst-{i}")),
        )
        .unwrap();
    }
    let thumb = serve.root.join("content/datasets/open-cortex/thumb.png");
    for i in 0..30 {
        let dir = serve.root.join(format!("content/datasets/burst-{i:02}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(&thumb, dir.join("thumb.png")).unwrap();
        std::fs::write(
            dir.join("dataset.yaml"),
            descriptor(&format!("Burst set {i:02}"), "public", "b"),
        )
        .unwrap();
    }
    events.wait("reload");
    serve.eventually("/datasets/open-cortex/", "the last write", |r| {
        r.text().contains("burst-149")
    });
    let gallery = serve.eventually("/", "all 30 new datasets", |r| {
        r.text().contains("Burst set 29")
    });
    for i in 0..30 {
        assert!(
            gallery.text().contains(&format!("Burst set {i:02}")),
            "dataset {i} missing from the gallery"
        );
        assert_eq!(serve.get(&format!("/datasets/burst-{i:02}/")).status, 200);
    }
}

#[test]
fn serves_only_the_output_with_types_head_and_script() {
    let (tmp, root) = fixture("sites/serve");
    std::fs::write(root.join("secret.txt"), "sentinel-outside-the-output").unwrap();
    let serve = Serve::start_in(tmp, root.clone(), &[]);

    let home = serve.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(home
        .text()
        .contains("<script src=\"/__vitrine/live.js\"></script>"));
    let script = serve.get("/__vitrine/live.js");
    assert!(script
        .header("Content-Type")
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().contains("EventSource"));

    let head = serve.request("HEAD", "/", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");
    assert_eq!(
        head.header("Content-Length"),
        Some(home.body.len().to_string().as_str())
    );

    let etag = home.header("ETag").expect("pages carry an ETag").to_owned();
    assert_eq!(
        serve
            .request("GET", "/", &[("If-None-Match", &etag)])
            .status,
        304
    );

    assert_eq!(serve.get("/datasets/open-cortex").status, 301);
    assert_eq!(
        serve.get("/datasets/open-cortex").header("Location"),
        Some("/datasets/open-cortex/")
    );
    for (path, kind) in [
        ("/sitemap.xml", "xml"),
        ("/search-index.json", "application/json"),
        ("/robots.txt", "text/plain"),
    ] {
        let reply = serve.get(path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply.header("Content-Type").unwrap().contains(kind),
            "{path}: {:?}",
            reply.header("Content-Type")
        );
    }
    // Attribute values come HTML-escaped (`&#x2F;` for `/`).
    let home_text = home.text().replace("&#x2F;", "/");
    let is_image = |s: &&str| [".png", ".webp", ".jpg"].iter().any(|ext| s.ends_with(ext));
    let thumb = home_text
        .split('"')
        .filter(|s| s.starts_with("datasets/open-cortex/"))
        .find(is_image)
        .expect("a thumbnail in the gallery");
    let src = format!("/{thumb}");
    let img = serve.get(&src);
    assert_eq!(img.status, 200, "{src}");
    assert!(
        img.header("Content-Type").unwrap().starts_with("image/"),
        "{src}"
    );

    let missing = serve.get("/no/such/page/");
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().contains("/__vitrine/live.js"),
        "the 404 page can show the error overlay too"
    );

    for attempt in [
        "/../secret.txt",
        "/../../secret.txt",
        "/../../../secret.txt",
        "/%2e%2e/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/%2E%2E/secret.txt",
        "/..%2f..%2f..%2fsecret.txt",
        "/..%5c..%5c..%5csecret.txt",
        "/..\\..\\..\\secret.txt",
        "/datasets/../../../secret.txt",
        "//../../secret.txt",
        "/secret.txt%00.html",
        "/.vitrine-cache/",
        "/content/site.yaml",
    ] {
        let reply = serve.get(attempt);
        assert!(
            !reply.text().contains("sentinel-outside-the-output"),
            "{attempt} escaped the output"
        );
        assert!(
            !reply.text().contains("base_url"),
            "{attempt} served a source file"
        );
        assert!(
            matches!(reply.status, 301 | 400 | 404),
            "{attempt}: {}",
            reply.status
        );
    }

    // `vitrine build` output never carries the live-reload script.
    let built = vitrine(&root, &["build"]);
    assert!(built.status.success(), "{}", text(&built));
    let index = std::fs::read_to_string(root.join("public/index.html")).unwrap();
    assert!(
        !index.contains("__vitrine"),
        "build output must not carry the live-reload script"
    );

    let port = serve.port;
    let out = root.join(format!(".vitrine-cache/serve-{port}"));
    assert!(
        out.join("index.html").is_file(),
        "serve builds into its own folder"
    );
    let (status, rest) = serve.interrupt();
    assert!(status.success(), "Ctrl-C exits cleanly: {status:?}");
    assert!(rest.iter().any(|l| l == "Stopped"), "{rest:?}");
    assert!(!out.exists(), "the preview folder is removed on exit");
}

/// A site with a key, a share of the private dataset, and `serve` running on it.
fn gated() -> (Serve, String) {
    let (tmp, root) = fixture("sites/serve");
    let keygen = vitrine(&root, &["keygen"]);
    assert!(keygen.status.success(), "{}", text(&keygen));
    let share = vitrine(&root, &["share", "closed-retina", "--label", "reviewer"]);
    assert!(share.status.success(), "{}", text(&share));
    let link = String::from_utf8(share.stdout).unwrap();
    let token = link
        .trim()
        .split_once("?s=")
        .expect("a share link")
        .1
        .to_owned();
    (
        Serve::start_in(
            tmp,
            root,
            &["--base-url", "https://example.org/lab/", "--share-local"],
        ),
        token,
    )
}

fn assert_private_headers(reply: &Reply, what: &str) {
    assert_eq!(
        reply.header("Cache-Control"),
        Some("private, no-store"),
        "{what}"
    );
    assert_eq!(reply.header("X-Robots-Tag"), Some("noindex"), "{what}");
    assert_eq!(
        reply.header("Referrer-Policy"),
        Some("no-referrer"),
        "{what}"
    );
}

#[test]
fn private_pages_answer_like_the_edges() {
    let (serve, token) = gated();
    let page = "/private/closed-retina/";

    // `--share-local` prints the share's link on the preview, with the very token issued.
    let local = format!(
        "http://127.0.0.1:{}/private/closed-retina/?s={token}",
        serve.port
    );
    let printed = (0..20)
        .map_while(|_| serve.stdout.recv_timeout(Duration::from_secs(5)).ok())
        .any(|line| line.contains(&local));
    assert!(printed, "`--share-local` printed no {local}");

    let none = serve.get(page);
    assert_eq!(
        (none.status, none.header("X-Vitrine-Reason")),
        (401, Some("missing"))
    );
    assert_private_headers(&none, "401");
    assert!(
        !none.text().contains("Closed retina"),
        "a refusal names nothing private"
    );

    let open = serve.get(&format!("{page}?s={token}"));
    assert_eq!(open.status, 302);
    assert_eq!(open.header("Location"), Some(page));
    assert_private_headers(&open, "302");
    let cookie = open.header("Set-Cookie").expect("a cookie").to_owned();
    assert!(
        cookie.starts_with(&format!("vitrine_d={token};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("Path=/private/closed-retina/") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(
        cookie.contains("SameSite=Lax") && !cookie.contains("Secure"),
        "plain-http localhost: {cookie}"
    );

    let with_cookie = [("Cookie", format!("vitrine_d={token}"))];
    let headers: Vec<(&str, &str)> = with_cookie.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let served = serve.request("GET", page, &headers);
    assert_eq!(served.status, 200);
    assert!(served.text().contains("Closed retina"));
    assert_private_headers(&served, "200");
    assert_eq!(serve.request("HEAD", page, &headers).status, 200);

    // A link issued for a base URL with a path (`https://example.org/lab/private/…`) works
    // with only the host swapped: the path prefix leads to the preview's root.
    let prefixed = serve.get(&format!("/lab/private/closed-retina/?s={token}"));
    assert_eq!(prefixed.status, 301);
    assert_eq!(
        prefixed.header("Location"),
        Some(format!("/private/closed-retina/?s={token}").as_str())
    );

    let mut forged = token.clone().into_bytes();
    forged[60] = if forged[60] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let bad = serve.get(&format!("{page}?s={forged}"));
    assert_eq!(
        (bad.status, bad.header("X-Vitrine-Reason")),
        (403, Some("invalid"))
    );
    let bad_cookie = serve.request("GET", page, &[("Cookie", &format!("vitrine_d={forged}"))]);
    assert_eq!(
        (bad_cookie.status, bad_cookie.header("X-Vitrine-Reason")),
        (403, Some("invalid"))
    );
    let other = serve.get(&format!("/private/another-set/?s={token}"));
    assert_eq!(
        (other.status, other.header("X-Vitrine-Reason")),
        (403, Some("wrong-scope"))
    );
    // A long token within the 4 KiB query limit is read and refused; a longer one is not read.
    let long = serve.get(&format!("{page}?s={}", "A".repeat(4_000)));
    assert_eq!(
        (long.status, long.header("X-Vitrine-Reason")),
        (403, Some("invalid"))
    );
    let too_long = serve.get(&format!("{page}?s={}", "A".repeat(20_000)));
    assert_eq!(
        (too_long.status, too_long.header("X-Vitrine-Reason")),
        (414, Some("invalid"))
    );
    let many: String = (0..200)
        .map(|i| format!("vitrine_a_x{i}=junk; "))
        .collect::<String>()
        + "vitrine_d=junk";
    assert_eq!(serve.request("GET", page, &[("Cookie", &many)]).status, 403);

    // Published: old private links answer 301 to the public address.
    let events = serve.events();
    std::fs::write(
        serve.descriptor("closed-retina"),
        descriptor("Closed retina", "public", "now open"),
    )
    .unwrap();
    events.wait("reload");
    let moved = serve.eventually(page, "the published redirect", |r| r.status == 301);
    assert_eq!(moved.header("Location"), Some("/datasets/closed-retina/"));
}

#[test]
fn revoking_a_share_closes_it_on_the_next_rebuild() {
    let (serve, token) = gated();
    let page = "/private/closed-retina/";
    let cookie = format!("vitrine_d={token}");
    let headers = [("Cookie", cookie.as_str())];
    assert_eq!(serve.request("GET", page, &headers).status, 200);

    // The cookie already set stops working once the ledger records the revocation.
    let events = serve.events();
    let revoke = vitrine(&serve.root, &["revoke", "reviewer"]);
    assert!(revoke.status.success(), "{}", text(&revoke));
    events.wait("reload");
    let revoked = serve.eventually_with(page, &headers, "the revoked answer", |r| r.status != 200);
    assert_eq!(
        (revoked.status, revoked.header("X-Vitrine-Reason")),
        (410, Some("revoked"))
    );
    assert_private_headers(&revoked, "410");
    let link = serve.get(&format!("{page}?s={token}"));
    assert_eq!(
        (link.status, link.header("X-Vitrine-Reason")),
        (410, Some("revoked"))
    );
}

#[test]
fn restoring_an_older_ledger_never_reopens_a_revoked_share() {
    let (serve, token) = gated();
    let page = "/private/closed-retina/";
    let cookie = format!("vitrine_d={token}");
    let headers = [("Cookie", cookie.as_str())];
    let ledger = serve.root.join("content/shares.yaml");
    let before = std::fs::read_to_string(&ledger).unwrap();
    let events = serve.events();
    let revoke = vitrine(&serve.root, &["revoke", "reviewer"]);
    assert!(revoke.status.success(), "{}", text(&revoke));
    events.wait("reload");
    serve.eventually_with(page, &headers, "the revoked answer", |r| r.status == 410);

    // A `git revert` of the revocation: the preview refuses to publish the older list and keeps
    // gating with the newer one.
    save_by_rename(&ledger, &before);
    let error = events.wait("error");
    assert!(
        error.contains("older revocation list") && error.contains("vitrine revoke --resign"),
        "{error}"
    );
    let still = serve.request("GET", page, &headers);
    assert_eq!(
        (still.status, still.header("X-Vitrine-Reason")),
        (410, Some("revoked"))
    );
}

#[test]
fn gate_bypass_spellings_never_open_a_private_file() {
    let (serve, token) = gated();
    let cookie = format!("vitrine_d={token}");
    let with_cookie = serve.request("GET", "/private/closed-retina/", &[("Cookie", &cookie)]);
    assert_eq!(with_cookie.status, 200, "the share works");
    let secret = "Closed retina";
    for attempt in [
        "/private/closed-retina/",
        "/private/closed-retina/index.html",
        "/private/closed-retina",
        "/PRIVATE/closed-retina/",
        "/Private/Closed-Retina/INDEX.HTML",
        "/private//closed-retina/",
        "//private/closed-retina/",
        "/private/./closed-retina/",
        "/datasets/../private/closed-retina/",
        "/x/../private/closed-retina/index.html",
        "/%70rivate/closed-retina/",
        "/private%2fclosed-retina/",
        "/private%2Fclosed-retina%2Findex.html",
        "/private\\closed-retina\\",
        "/%2e/private/closed-retina/",
        "/private/closed-retina/%2e%2e/closed-retina/",
        "/private/closed-retina/index.html%00",
        "/private/closed-retina/;/",
    ] {
        for method in ["GET", "HEAD", "OPTIONS", "POST"] {
            let reply = serve.request(method, attempt, &[]);
            assert_ne!(
                reply.status, 200,
                "{method} {attempt} opened without a share"
            );
            assert!(
                !reply.text().contains(secret),
                "{method} {attempt} leaked the private page"
            );
            if attempt.to_ascii_lowercase().contains("private") {
                assert_private_headers(&reply, attempt);
            }
        }
    }
    // A 100 kB cookie header and a 50 kB query or path are refused unread (431, 414), with the
    // gate's headers, and the server carries on.
    let huge = format!("vitrine_d={}", "A".repeat(100_000));
    let refused = serve.request("GET", "/private/closed-retina/", &[("Cookie", &huge)]);
    assert_eq!(
        (refused.status, refused.header("X-Vitrine-Reason")),
        (431, Some("invalid"))
    );
    assert_private_headers(&refused, "431");
    // Past the gate's limits (2 KiB of path, 4 KiB of query), the gate refuses; past 64 KiB
    // of request target, hyper does before any gate runs, and shows nothing either.
    let long_query = format!("/private/closed-retina/?s={}", "A".repeat(50_000));
    let long_path = format!("/private/closed-retina/{}/", "a".repeat(50_000));
    for target in [long_query, long_path] {
        let refused = serve.request("GET", &target, &[]);
        assert_eq!(
            (refused.status, refused.header("X-Vitrine-Reason")),
            (414, Some("invalid"))
        );
        assert!(refused.text().contains("too long"), "{}", refused.text());
    }
    let huge_target = format!("/private/closed-retina/?s={}", "A".repeat(100_000));
    let refused = serve.request("GET", &huge_target, &[]);
    assert_eq!(refused.status, 414);
    assert!(!refused.text().contains(secret));
    assert_eq!(serve.get("/").status, 200);

    // A dataset's cookie opens no other dataset.
    let other = serve.request("GET", "/private/other-set/", &[("Cookie", &cookie)]);
    assert_eq!(
        (other.status, other.header("X-Vitrine-Reason")),
        (403, Some("wrong-scope"))
    );
}

#[test]
fn thousands_of_concurrent_requests_all_answer() {
    let (serve, token) = gated();
    let port = serve.port;
    let cookie = format!("vitrine_d={token}");
    let started = Instant::now();
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let cookie = cookie.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for j in 0..15 {
                    let (path, headers, want) = match (i + j) % 4 {
                        0 => ("/", vec![], 200),
                        1 => ("/datasets/open-cortex/", vec![], 200),
                        2 => ("/private/closed-retina/", vec![], 401),
                        _ => (
                            "/private/closed-retina/",
                            vec![("Cookie", cookie.as_str())],
                            200,
                        ),
                    };
                    let reply = request(port, "GET", path, &headers);
                    if reply.status != want {
                        failures.push(format!("{path}: {} (wanted {want})", reply.status));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect();
    let took = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} of 3000 requests failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    eprintln!("3000 requests over 200 concurrent clients in {took:?}");
}

/// What a browser with no cookie finally gets for `target` from serve, redirects followed, as a
/// verdict word: `valid` (302 with a cookie, or a published dataset's public page) or the
/// refusal's reason.
fn serve_verdict(serve: &Serve, target: &str) -> String {
    let mut at = target.to_string();
    for _ in 0..4 {
        let reply = serve.get(&at);
        match reply.status {
            301 => at = reply.header("Location").unwrap().to_string(),
            302 => return "valid".into(),
            200 if at.starts_with("/datasets/") => return "valid".into(),
            _ => {
                return reply
                    .header("X-Vitrine-Reason")
                    .map_or(format!("status {}", reply.status), str::to_string)
            }
        }
    }
    panic!("{target}: serve keeps redirecting");
}

#[test]
fn verify_and_serve_agree_on_every_spelling_of_a_link() {
    let (serve, token) = gated();
    let mut forged = token.clone().into_bytes();
    forged[124] = if forged[124] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let encoded = format!("%{:02X}{}", token.as_bytes()[0], &token[1..]);
    let t = token.as_str();
    let variants = [
        format!("/private/closed-retina/?s={t}"),
        format!("/private/closed-retina/index.html?s={t}"),
        format!("/private/closed-retina/media/?s={t}"),
        format!("/private/./closed-retina/?s={t}"),
        format!("/private/x/../closed-retina/?s={t}"),
        format!("/private/closed-retina/annotations/?s={t}"),
        format!("/private/closed-retina/annotations/none/?s={t}"),
        format!("/private/closed-retina/?s={encoded}"),
        format!("/private/CLOSED-RETINA/?s={t}"),
        format!("/private/closed%2Dretina/?s={t}"),
        format!("/Private/closed-retina/?s={t}"),
        format!("//private/closed-retina/?s={t}"),
        format!("/private/closed-retina?s={t}"),
        format!("/private/closed-retina/?s={t}&s={t}"),
        format!("/private/closed-retina/?S={t}"),
        format!("/private/closed-retina/?view=1&s={t}"),
        "/private/closed-retina/?s=".to_string(),
        "/private/closed-retina/".to_string(),
        format!("/private/closed-retina/?s={forged}"),
        format!("/private/closed-retina/?s={}", &t[..100]),
        format!("/private/other/?s={t}"),
        format!("/private/open-cortex/?s={t}"),
        format!("/private/open-cortex/?s={forged}"),
    ];
    for variant in &variants {
        let expected = serve_verdict(&serve, variant);
        let url = format!("https://example.org{variant}");
        let out = vitrine(&serve.root, &["verify", &url]);
        let said = String::from_utf8_lossy(&out.stdout);
        let verdict = said.split(':').next().unwrap_or_default();
        assert_eq!(verdict, expected, "{variant}\n{}", text(&out));
        assert_eq!(out.status.success(), expected == "valid", "{variant}");
    }
}

#[test]
fn share_local_prints_links_signed_with_a_key_kept_elsewhere() {
    let (tmp, root) = fixture("sites/serve");
    let elsewhere = tmp.path().join("vault/signing.key");
    let keygen = vitrine(&root, &["keygen", "--key", elsewhere.to_str().unwrap()]);
    assert!(keygen.status.success(), "{}", text(&keygen));
    let share = vitrine(&root, &["share", "closed-retina", "--label", "reviewer"]);
    assert!(share.status.success(), "{}", text(&share));
    let serve = Serve::start_in(tmp, root, &["--share-local"]);
    let deadline = Instant::now() + START;
    let line = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = serve
            .stdout
            .recv_timeout(left)
            .expect("a line for the share");
        if line.trim_start().starts_with("reviewer") {
            break line;
        }
    };
    assert!(
        line.contains(&format!(
            "http://127.0.0.1:{}/private/closed-retina/?s=",
            serve.port
        )),
        "{line}"
    );
}

#[test]
fn a_static_site_is_served_as_a_static_host_serves_it_sealed() {
    let (tmp, root) = fixture("sites/serve");
    let yaml = root.join("content/site.yaml");
    let site = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, site.replace("hosting: netlify", "hosting: static")).unwrap();
    let keygen = vitrine(&root, &["keygen"]);
    assert!(keygen.status.success(), "{}", text(&keygen));
    let share = vitrine(&root, &["share", "closed-retina", "--label", "reviewer"]);
    assert!(share.status.success(), "{}", text(&share));
    let link = String::from_utf8(share.stdout).unwrap();
    let secret = link
        .trim()
        .split_once('#')
        .expect("a link with a fragment")
        .1;
    assert_eq!(secret.len(), 22, "{link}");
    assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()), "{link}");
    let serve = Serve::start_in(tmp, root, &["--share-local"]);
    let printed = (0..20)
        .map_while(|_| serve.stdout.recv_timeout(Duration::from_secs(5)).ok())
        .any(|line| line.contains(&format!("/private/closed-retina/#{secret}")));
    assert!(printed, "`--share-local` printed no static link");

    // No gate: the address answers with the generic loader, the page itself is ciphertext.
    let loader = serve.get("/private/closed-retina/");
    assert_eq!(loader.status, 200);
    assert!(!loader.text().contains("Closed retina"));
    let sealed = serve.get("/private/closed-retina/index.html.sealed");
    assert_eq!(sealed.status, 200);
    assert!(sealed.body.starts_with(b"vtr\x01"));
    assert!(!String::from_utf8_lossy(&sealed.body).contains("Closed retina"));
    assert_eq!(
        serve.get("/private/closed-retina/vitrine-sw.js").status,
        200
    );
}

#[test]
fn a_private_webp_tile_is_served_open_as_image_webp_through_the_gate() {
    let (tmp, root) = fixture("sites/serve");
    crate::common::webp_site(&root);
    assert!(vitrine(&root, &["keygen"]).status.success());
    let share = vitrine(&root, &["share", "closed-retina", "--label", "reviewer"]);
    assert!(share.status.success(), "{}", text(&share));
    let link = String::from_utf8(share.stdout).unwrap();
    let token = link.trim().split_once("?s=").expect("a share link").1;
    let serve = Serve::start_in(tmp, root, &[]);
    let page = "/private/closed-retina/";
    let cookie = format!("vitrine_d={token}");
    let page_html = serve.request("GET", page, &[("Cookie", &cookie)]).text();
    // The viewer's configuration names the pyramid: `media/<hash>/tiles.dzi`, relative to the page.
    let (before, _) = page_html
        .split_once("tiles.dzi")
        .unwrap_or_else(|| panic!("no tiles.dzi on the private page:\n{page_html}"));
    let hash = before.rsplit("media/").next().unwrap();
    let tile = format!("{page}media/{hash}tiles_files/10/0_0.webp");

    let shut = serve.get(&tile);
    assert_eq!(shut.status, 401, "{tile} without the cookie");
    let open = serve.request("GET", &tile, &[("Cookie", &cookie)]);
    assert_eq!(open.status, 200, "{tile}: {}", open.text());
    assert_eq!(open.header("Content-Type"), Some("image/webp"), "{tile}");
    assert_private_headers(&open, "a private WebP tile");
    assert_eq!(
        image::guess_format(&open.body).unwrap(),
        image::ImageFormat::WebP,
        "served open, not sealed"
    );
}
