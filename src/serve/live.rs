//! Live reload: a server-sent-event stream at `/__vitrine/events` and the small script that
//! listens to it, injected into served HTML only (never into `vitrine build` output).
//!
//! tiny_http buffers chunked bodies, so each stream takes the raw connection
//! (`Request::into_writer`), writes its own HTTP head and flushes after every event; each open
//! tab gets a thread of its own, so one stalled tab never delays the others or the rebuild.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the browser subscribes to rebuild news.
pub const EVENTS_PATH: &str = "/__vitrine/events";
/// Where the injected script is served from (a file, so a theme's strict CSP still allows it).
pub const SCRIPT_PATH: &str = "/__vitrine/live.js";

/// The listening script: reload, swap stylesheets, or show the build error over the page.
pub const SCRIPT: &str = include_str!("live.js");

/// How often an idle stream sends a comment, which is how a closed tab is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What a rebuild tells the open tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The site changed: reload the page (this also removes an error overlay).
    Reload(Vec<String>),
    /// Only stylesheets changed: swap them in place, keeping scroll and viewer state.
    Css(Vec<String>),
    /// The build failed: show these `path:line:col` messages; the last good site stays.
    Error(Vec<String>),
}

impl Message {
    /// The message as one SSE event: its name, and its JSON data on one line.
    fn to_event(&self) -> String {
        let (name, data) = match self {
            Message::Reload(changed) => ("reload", serde_json::json!({ "changed": changed })),
            Message::Css(changed) => ("css", serde_json::json!({ "changed": changed })),
            Message::Error(messages) => ("error", serde_json::json!({ "messages": messages })),
        };
        format!("event: {name}\ndata: {data}\n\n")
    }
}

/// The open streams, and the current error so a tab opened while the build is broken shows it.
#[derive(Default)]
pub struct Hub {
    inner: Mutex<HubInner>,
}

#[derive(Default)]
struct HubInner {
    tabs: Vec<Sender<Arc<str>>>,
    error: Option<Arc<str>>,
}

impl Hub {
    /// Sends `message` to every open tab, forgetting tabs that have gone.
    pub fn broadcast(&self, message: &Message) {
        let event: Arc<str> = message.to_event().into();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.error = matches!(message, Message::Error(_)).then(|| event.clone());
        inner.tabs.retain(|tab| tab.send(event.clone()).is_ok());
    }

    /// Turns `request` into an event stream that lives until the tab closes or the hub is
    /// dropped at shutdown.
    pub fn attach(&self, request: tiny_http::Request) {
        let (tx, rx) = mpsc::channel::<Arc<str>>();
        let pending = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.tabs.push(tx);
            inner.error.clone()
        };
        let mut out = request.into_writer();
        let spawned = std::thread::Builder::new()
            .name("vitrine-sse".into())
            .spawn(move || {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                        Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\r\nretry: 500\n\n";
                let mut write =
                    |text: &str| out.write_all(text.as_bytes()).and_then(|()| out.flush());
                if write(head).is_err() || pending.is_some_and(|e| write(&e).is_err()) {
                    return;
                }
                loop {
                    let sent = match rx.recv_timeout(KEEPALIVE) {
                        Ok(event) => write(&event),
                        Err(RecvTimeoutError::Timeout) => write(": keep-alive\n\n"),
                        Err(RecvTimeoutError::Disconnected) => return,
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            });
        if let Err(err) = spawned {
            eprintln!("warning: live reload for one tab is off: cannot start a thread: {err}");
        }
    }

    /// Closes every stream (their threads end once they notice).
    pub fn close(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tabs
            .clear();
    }
}

/// `html` with the live-reload script tag before its last `</body>` (or at the end, for a
/// page without one).
pub fn inject(html: &[u8]) -> Vec<u8> {
    const TAG: &[u8] = b"<script src=\"/__vitrine/live.js\"></script>";
    let at = html
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + TAG.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(TAG);
    out.extend_from_slice(&html[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_the_last_closing_body() {
        let page = b"<html><body><pre></body></pre></BODY></html>";
        let out = String::from_utf8(inject(page)).unwrap();
        assert_eq!(
            out,
            "<html><body><pre></body></pre><script src=\"/__vitrine/live.js\"></script></BODY></html>"
        );
        assert!(String::from_utf8(inject(b"<p>bare"))
            .unwrap()
            .ends_with("live.js\"></script>"));
    }

    #[test]
    fn events_are_one_json_line() {
        let ev = Message::Error(vec!["content/a.yaml:1:2: bad\nthing".into()]).to_event();
        assert_eq!(
            ev,
            "event: error\ndata: {\"messages\":[\"content/a.yaml:1:2: bad\\nthing\"]}\n\n"
        );
    }

    #[test]
    fn the_current_error_is_kept_until_a_good_build() {
        let hub = Hub::default();
        hub.broadcast(&Message::Error(vec!["x".into()]));
        assert!(hub.inner.lock().unwrap().error.is_some());
        hub.broadcast(&Message::Reload(vec![]));
        assert!(hub.inner.lock().unwrap().error.is_none());
    }
}
