//! The preview's HTTP side: hyper on a small tokio runtime answering from the output folder,
//! every request first put to the same gate the edges run, HTML given the live-reload script.
//!
//! The answers themselves are worked out on tokio's blocking threads: they read files and wait
//! on the build's locks, which must not stall the threads driving the connections.

use std::convert::Infallible;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::files::{self, Lookup};
use super::live::{self, EVENTS_PATH, SCRIPT_PATH};
use super::State;
use crate::output::seal;
use crate::share::gate::{self, Decision};
use crate::share::secret::EdgeKey;

/// What every answer's body is: bytes in memory, a file streamed from disk, or an event stream.
pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// Files up to this size are read whole on the blocking thread; bigger ones (downloads of
/// originals) stream from disk in chunks, so a multi-gigabyte TIFF never sits in memory.
const READ_WHOLE: u64 = 1 << 20;

/// Accepts connections until the runtime shuts down, and sends the open tabs a keep-alive
/// comment every [`live::KEEPALIVE`].
pub async fn serve(listener: TcpListener, state: Arc<State>) {
    let hub = state.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(live::KEEPALIVE);
        loop {
            ticks.tick().await;
            hub.live.keep_alive();
        }
    });
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, say: the connection waits in the backlog; try again soon
            // rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Event streams write a few bytes at a time; without this each waits on Nagle.
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(state.clone(), request));
            // A client that hung up mid-answer is no error of the preview.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, _body) = request.into_parts();
    let handled = tokio::task::spawn_blocking(move || handle(&state, &parts)).await;
    Ok(handled.unwrap_or_else(|_| text(500, "the preview failed on this request\n", &[])))
}

fn handle(state: &State, request: &Parts) -> Response<Body> {
    let path = request.uri.path();
    let query = request.uri.query().unwrap_or("");
    if path == EVENTS_PATH {
        return state.live.attach();
    }
    if path == SCRIPT_PATH {
        let headers = [
            ("Content-Type", "text/javascript; charset=utf-8"),
            ("Cache-Control", "no-cache"),
        ];
        return response(200, full(live::SCRIPT), &headers);
    }
    if let Some(rest) = state.strip_public_prefix(path) {
        let location = if query.is_empty() {
            rest
        } else {
            format!("{rest}?{query}")
        };
        return redirect(301, &location, &[]);
    }
    let cookies: Vec<&str> = request
        .headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let gate_request = gate::Request {
        path,
        query,
        cookies: &cookies,
        plain_http_localhost: is_plain_http_localhost(request),
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
            return reply(state, request, found, again, query, &[], None);
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
        Decision::Pass => {
            let found = files::lookup(&state.out, path, false);
            let again = || files::lookup(&state.out, path, false);
            reply(state, request, found, again, query, &[], None)
        }
        Decision::Serve { segments } => {
            let found = files::lookup_gated(&state.out, &segments);
            let again = || files::lookup_gated(&state.out, &segments);
            reply(
                state,
                request,
                found,
                again,
                "",
                &private,
                edge_key.as_ref(),
            )
        }
        Decision::Redirect {
            status,
            location,
            set_cookie,
        } => {
            let mut headers = private;
            headers.extend(set_cookie.map(|c| ("Set-Cookie".to_owned(), c)));
            redirect(status, &location, &headers)
        }
        Decision::Refuse { status, reason } => {
            let mut headers = private;
            headers.push(("X-Vitrine-Reason".to_owned(), reason.to_owned()));
            let page = page.unwrap_or_else(|| {
                format!("<!doctype html><title>{status}</title><h1>{status}: {reason}</h1>\n")
            });
            html(status, page.as_bytes(), &headers)
        }
    }
}

/// Answers with what the lookup found, `extra` headers (the gate's) added to whatever comes,
/// a sealed file opened with `edge_key` (after the gate let it through). `again` repeats the
/// lookup for a miss while the output folder was being swapped.
fn reply(
    state: &State,
    request: &Parts,
    found: Lookup,
    again: impl FnOnce() -> Lookup,
    query: &str,
    extra: &[(String, String)],
    edge_key: Option<&EdgeKey>,
) -> Response<Body> {
    const ALLOW: (&str, &str) = ("Allow", "GET, HEAD, OPTIONS");
    match request.method {
        Method::GET | Method::HEAD => {}
        Method::OPTIONS => return with_headers(response(204, empty(), &[ALLOW]), extra),
        _ => {
            let headers = [("Content-Type", "text/plain; charset=utf-8"), ALLOW];
            return with_headers(response(405, full("method not allowed\n"), &headers), extra);
        }
    }
    let found = match found {
        Lookup::Missing if state.wait_for_output() => again(),
        found => found,
    };
    match found {
        Lookup::File(file) => match edge_key {
            Some(key) => sealed_response(&state.out, &file, key, extra),
            None => file_response(request, &file, extra),
        },
        Lookup::AddSlash(location) => {
            let location = match query {
                "" => location,
                query => format!("{location}?{query}"),
            };
            redirect(301, &location, extra)
        }
        Lookup::Missing => {
            let page = std::fs::read(state.out.join("404.html")).unwrap_or_else(|_| {
                b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>".to_vec()
            });
            html(404, &page, extra)
        }
        Lookup::BadPath => with_headers(text(400, "bad request path\n", &[]), extra),
    }
}

/// A file's response: HTML gets the live-reload script, everything else comes from disk as it
/// is; an unchanged file answers 304 so reloads stay fast on big tile pyramids.
fn file_response(request: &Parts, file: &Path, extra: &[(String, String)]) -> Response<Body> {
    let content_type = files::content_type(file);
    let Ok(mut handle) = File::open(file) else {
        return text(500, "cannot read file\n", extra);
    };
    let meta = handle.metadata().ok();
    let etag = meta.as_ref().map(|m| {
        let stamp = crate::media::Stamp::of(file, m);
        format!("\"{:x}-{:x}\"", stamp.size(), stamp.mtime_ns())
    });
    let cacheable = extra.is_empty();
    if let Some(etag) = etag.as_deref().filter(|_| cacheable) {
        let matches = request
            .headers
            .get_all(hyper::header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|v| v.trim() == etag));
        if matches {
            return response(304, empty(), &[("ETag", etag)]);
        }
    }
    let len = meta.map_or(0, |m| m.len());
    let body = if content_type.starts_with("text/html") || len <= READ_WHOLE {
        let mut bytes = Vec::with_capacity(len as usize);
        if handle.read_to_end(&mut bytes).is_err() {
            return text(500, "cannot read file\n", extra);
        }
        match content_type.starts_with("text/html") {
            true => full(live::inject(&bytes)),
            false => full(bytes),
        }
    } else {
        let chunks = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(handle));
        BodyExt::boxed_unsync(StreamBody::new(chunks.map_ok(Frame::data)))
    };
    let mut headers = vec![("Content-Type", content_type)];
    if cacheable {
        headers.push(("Cache-Control", "no-cache"));
        headers.extend(etag.as_deref().map(|etag| ("ETag", etag)));
    }
    with_headers(response(200, body, &headers), extra)
}

/// A private file the gate let through, opened as the edges open it: a sealed file is
/// decrypted (a 500 when it does not open), anything else served as it is.
fn sealed_response(
    out: &Path,
    file: &Path,
    key: &EdgeKey,
    extra: &[(String, String)],
) -> Response<Body> {
    let Ok(bytes) = std::fs::read(file) else {
        return text(500, "cannot read file\n", extra);
    };
    let path = file.strip_prefix(out).unwrap_or(file).to_string_lossy();
    let body = match seal::label_of(&bytes) {
        None => bytes,
        Some(_) => match seal::open(key, &path, &bytes) {
            Some(plain) => plain,
            None => {
                let why = "cannot open this sealed file: it was changed or moved\n";
                return text(500, why, extra);
            }
        },
    };
    let content_type = files::content_type(file);
    let body = match content_type.starts_with("text/html") {
        true => live::inject(&body),
        false => body,
    };
    with_headers(
        response(200, full(body), &[("Content-Type", content_type)]),
        extra,
    )
}

/// An HTML page (a refusal, a 404) with the live-reload script, so an error overlay shows even
/// there.
fn html(status: u16, page: &[u8], extra: &[(String, String)]) -> Response<Body> {
    let headers = [("Content-Type", "text/html; charset=utf-8")];
    with_headers(response(status, full(live::inject(page)), &headers), extra)
}

fn redirect(status: u16, location: &str, extra: &[(String, String)]) -> Response<Body> {
    with_headers(response(status, empty(), &[("Location", location)]), extra)
}

fn text(status: u16, message: &str, extra: &[(String, String)]) -> Response<Body> {
    let headers = [("Content-Type", "text/plain; charset=utf-8")];
    with_headers(response(status, full(message.to_owned()), &headers), extra)
}

/// A response with headers vitrine chose itself, so always valid.
pub fn response(status: u16, body: Body, headers: &[(&str, &str)]) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).expect("vitrine answers only valid status codes");
    for (name, value) in headers {
        append(&mut response, name, value);
    }
    response
}

fn with_headers(mut response: Response<Body>, extra: &[(String, String)]) -> Response<Body> {
    for (name, value) in extra {
        append(&mut response, name, value);
    }
    response
}

fn append(response: &mut Response<Body>, name: &str, value: &str) {
    let name = HeaderName::from_bytes(name.as_bytes()).expect("vitrine names valid headers");
    let value = HeaderValue::from_str(value).expect("vitrine writes only ASCII header values");
    response.headers_mut().append(name, value);
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// Whether the request came over plain HTTP to a loopback name, where the spec leaves `Secure`
/// off the cookie (browsers would drop a `Secure` cookie there).
fn is_plain_http_localhost(request: &Parts) -> bool {
    let host = request
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
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
