//! The preview's HTTP side: a small pool of workers answering from the output folder, every
//! request first put to the same gate the edges run, HTML given the live-reload script.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tiny_http::{Header, Method, Request, Response, StatusCode};

use super::files::{self, Lookup};
use super::live::{self, EVENTS_PATH, SCRIPT_PATH};
use super::State;
use crate::output::seal;
use crate::share::gate::{self, Decision};
use crate::share::secret::EdgeKey;

/// Answers requests until the server is unblocked at shutdown.
pub fn worker(server: Arc<tiny_http::Server>, state: Arc<State>) {
    while let Ok(request) = server.recv() {
        handle(&state, request);
    }
}

fn handle(state: &State, request: Request) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if path == EVENTS_PATH {
        return state.live.attach(request);
    }
    if path == SCRIPT_PATH {
        let response = Response::from_string(live::SCRIPT)
            .with_header(header("Content-Type", "text/javascript; charset=utf-8"))
            .with_header(header("Cache-Control", "no-cache"));
        return respond(request, response);
    }
    if let Some(rest) = state.strip_public_prefix(path) {
        let location = if query.is_empty() {
            rest
        } else {
            format!("{rest}?{query}")
        };
        return respond(request, redirect(301, &location, &[]));
    }
    let cookies: Vec<&str> = request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Cookie"))
        .map(|h| h.value.as_str())
        .collect();
    let gate_request = gate::Request {
        path,
        query,
        cookies: &cookies,
        plain_http_localhost: is_plain_http_localhost(&request),
        now: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let (decision, page, edge_key) = {
        let gate = state.gate.read().unwrap_or_else(|e| e.into_inner());
        if gate.gateless {
            // A host without a gate serves `private/` as it is: sealed files, slots, loaders.
            drop(gate);
            let found = files::lookup(&state.out, path, true);
            let again = || files::lookup(&state.out, path, true);
            return answer(state, request, found, again, query, &[], None);
        }
        let decision = gate::decide(&gate.data, &gate_request);
        let page = match &decision {
            Decision::Refuse { status, reason } => {
                gate.pages.get(gate::refusal_page(*status, reason)).cloned()
            }
            _ => None,
        };
        (decision, page, gate.edge_key.clone())
    };
    let private: Vec<(String, String)> = gate::PRIVATE_HEADERS
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    match decision {
        Decision::Pass => serve(state, request, path, query),
        Decision::Serve { segments } => {
            let found = files::lookup_gated(&state.out, &segments);
            answer(
                state,
                request,
                found,
                || files::lookup_gated(&state.out, &segments),
                "",
                &private,
                edge_key.as_ref(),
            );
        }
        Decision::Redirect {
            status,
            location,
            set_cookie,
        } => {
            let mut headers = private;
            headers.extend(set_cookie.map(|c| ("Set-Cookie".to_owned(), c)));
            respond(request, redirect(status, &location, &headers));
        }
        Decision::Refuse { status, reason } => {
            let mut headers = private;
            headers.push(("X-Vitrine-Reason".to_owned(), reason.to_owned()));
            let page = page.unwrap_or_else(|| {
                format!("<!doctype html><title>{status}</title><h1>{status}: {reason}</h1>\n")
            });
            respond(request, html(status, page.as_bytes(), &headers));
        }
    }
}

/// Answers a request the gate passed as public.
fn serve(state: &State, request: Request, path: &str, query: &str) {
    let found = files::lookup(&state.out, path, false);
    answer(
        state,
        request,
        found,
        || files::lookup(&state.out, path, false),
        query,
        &[],
        None,
    );
}

/// Answers with what the lookup found, `extra` headers (the gate's) added to whatever comes,
/// a sealed file opened with `edge_key` (after the gate let it through). `again` repeats the
/// lookup for a miss while the output folder was being swapped.
fn answer(
    state: &State,
    request: Request,
    found: Lookup,
    again: impl FnOnce() -> Lookup,
    query: &str,
    extra: &[(String, String)],
    edge_key: Option<&EdgeKey>,
) {
    match request.method() {
        Method::Get | Method::Head => {}
        Method::Options => {
            let response = Response::empty(204).with_header(header("Allow", "GET, HEAD, OPTIONS"));
            return respond(request, with_headers(response, extra));
        }
        _ => {
            let response = Response::from_string("method not allowed\n")
                .with_status_code(405)
                .with_header(header("Allow", "GET, HEAD, OPTIONS"));
            return respond(request, with_headers(response, extra));
        }
    }
    let found = match found {
        Lookup::Missing if state.wait_for_output() => again(),
        found => found,
    };
    match found {
        Lookup::File(file) => {
            let response = match edge_key {
                Some(key) => sealed_response(&state.out, &file, key, extra),
                None => file_response(&request, &file, extra),
            };
            respond(request, response);
        }
        Lookup::AddSlash(location) => {
            let location = if query.is_empty() {
                location
            } else {
                format!("{location}?{query}")
            };
            respond(request, redirect(301, &location, extra));
        }
        Lookup::Missing => {
            let page = std::fs::read(state.out.join("404.html")).unwrap_or_else(|_| {
                b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>".to_vec()
            });
            respond(request, html(404, &page, extra));
        }
        Lookup::BadPath => {
            let response = Response::from_string("bad request path\n").with_status_code(400);
            respond(request, with_headers(response, extra));
        }
    }
}

/// A file's response: HTML gets the live-reload script, everything else streams from disk;
/// an unchanged file answers 304 so reloads stay fast on big tile pyramids.
fn file_response(
    request: &Request,
    file: &Path,
    extra: &[(String, String)],
) -> Response<Box<dyn Read + Send>> {
    let content_type = files::content_type(file);
    let Ok(mut handle) = File::open(file) else {
        return Response::from_string("cannot read file\n")
            .with_status_code(500)
            .boxed();
    };
    let meta = handle.metadata().ok();
    let etag = meta.as_ref().map(|m| {
        let stamp = crate::media::Stamp::of(file, m);
        format!("\"{:x}-{:x}\"", stamp.size(), stamp.mtime_ns())
    });
    let cacheable = extra.is_empty();
    if let Some(etag) = etag.as_deref().filter(|_| cacheable) {
        let matches = request.headers().iter().any(|h| {
            h.field.equiv("If-None-Match") && h.value.as_str().split(',').any(|v| v.trim() == etag)
        });
        if matches {
            return Response::empty(304)
                .with_header(header("ETag", etag))
                .boxed();
        }
    }
    let mut response = if content_type.starts_with("text/html") {
        let mut page = Vec::new();
        if handle.read_to_end(&mut page).is_err() {
            return Response::from_string("cannot read file\n")
                .with_status_code(500)
                .boxed();
        }
        Response::from_data(live::inject(&page)).boxed()
    } else {
        let len = meta.map(|m| m.len() as usize);
        Response::new(StatusCode(200), Vec::new(), handle, len, None).boxed()
    };
    response.add_header(header("Content-Type", content_type));
    if cacheable {
        response.add_header(header("Cache-Control", "no-cache"));
        if let Some(etag) = etag {
            response.add_header(header("ETag", &etag));
        }
    }
    with_headers(response, extra)
}

/// A private file the gate let through, opened as the edges open it: a sealed file is
/// decrypted (a 500 when it does not open), anything else served as it is.
fn sealed_response(
    out: &Path,
    file: &Path,
    key: &EdgeKey,
    extra: &[(String, String)],
) -> Response<Box<dyn Read + Send>> {
    let failed = |what: &str| {
        let response = Response::from_string(format!("{what}\n")).with_status_code(500);
        with_headers(response.boxed(), extra)
    };
    let Ok(bytes) = std::fs::read(file) else {
        return failed("cannot read file");
    };
    let path = file.strip_prefix(out).unwrap_or(file).to_string_lossy();
    let body = match seal::label_of(&bytes) {
        None => bytes,
        Some(_) => match seal::open(key, &path, &bytes) {
            Some(plain) => plain,
            None => return failed("cannot open this sealed file: it was changed or moved"),
        },
    };
    let content_type = files::content_type(file);
    let body = match content_type.starts_with("text/html") {
        true => live::inject(&body),
        false => body,
    };
    let response = Response::from_data(body).with_header(header("Content-Type", content_type));
    with_headers(response.boxed(), extra)
}

/// An HTML page (a refusal, a 404) with the live-reload script, so an error overlay shows even
/// there.
fn html(status: u16, page: &[u8], extra: &[(String, String)]) -> Response<Box<dyn Read + Send>> {
    let response = Response::from_data(live::inject(page))
        .with_status_code(status)
        .with_header(header("Content-Type", "text/html; charset=utf-8"));
    with_headers(response.boxed(), extra)
}

fn redirect(
    status: u16,
    location: &str,
    extra: &[(String, String)],
) -> Response<Box<dyn Read + Send>> {
    let response = Response::empty(status).with_header(header("Location", location));
    with_headers(response.boxed(), extra)
}

fn with_headers<R: Read>(mut response: Response<R>, extra: &[(String, String)]) -> Response<R> {
    for (name, value) in extra {
        response.add_header(header(name, value));
    }
    response
}

/// A header from parts vitrine chose itself, so always valid.
fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("vitrine writes only ASCII header fields")
}

fn respond<R: Read>(request: Request, response: Response<R>) {
    // A client that hung up is no error of the preview.
    let _ = request.respond(response);
}

/// Whether the request came over plain HTTP to a loopback name, where the spec leaves `Secure`
/// off the cookie (browsers would drop a `Secure` cookie there).
fn is_plain_http_localhost(request: &Request) -> bool {
    let host = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str())
        .unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6
            .split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default(),
        None => host.split(':').next().unwrap_or("").to_owned(),
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}
