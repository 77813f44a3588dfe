//! Live reload: a server-sent-event stream at `/__vitrine/events` and the small script that
//! listens to it, injected into served HTML only (never into `vitrine build` output).
//!
//! Each open tab holds a bounded channel whose other end is its response body; a rebuild only
//! queues the event, so one stalled tab never delays the others or the rebuild (a tab that
//! falls [`BACKLOG`] events behind is dropped and reconnects).

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::channel::{Channel, Sender};
use http_body_util::BodyExt;
use hyper::body::Frame;

use super::http::{self, Body};

/// Where the browser subscribes to rebuild news.
pub const EVENTS_PATH: &str = "/__vitrine/events";
/// Where the injected script is served from (a file, so a theme's strict CSP still allows it).
pub const SCRIPT_PATH: &str = "/__vitrine/live.js";

/// The listening script: reload, swap stylesheets, or show the build error over the page.
pub const SCRIPT: &str = include_str!("live.js");

/// How often an idle stream sends a comment, which is how a closed tab is noticed.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// Events a tab may have unread before it is dropped.
const BACKLOG: usize = 16;

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
    tabs: Vec<Sender<Bytes, io::Error>>,
    error: Option<Bytes>,
}

impl Hub {
    fn inner(&self) -> std::sync::MutexGuard<'_, HubInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `message` to every open tab, forgetting tabs that have gone.
    pub fn broadcast(&self, message: &Message) {
        let event = Bytes::from(message.to_event());
        let mut inner = self.inner();
        inner.error = matches!(message, Message::Error(_)).then(|| event.clone());
        send_all(&mut inner.tabs, &event);
    }

    /// A comment to every tab: a closed tab's connection fails on it and its tab is forgotten
    /// at the next send.
    pub fn keep_alive(&self) {
        send_all(
            &mut self.inner().tabs,
            &Bytes::from_static(b": keep-alive\n\n"),
        );
    }

    /// A new tab's event stream, opening with the current build error if there is one.
    pub fn attach(&self) -> hyper::Response<Body> {
        let (mut tab, body) = Channel::<Bytes, io::Error>::new(BACKLOG);
        let mut inner = self.inner();
        let opened = tab.try_send(Frame::data(Bytes::from_static(b"retry: 500\n\n")));
        let pending = inner.error.clone();
        if opened.is_ok() && pending.is_none_or(|e| tab.try_send(Frame::data(e)).is_ok()) {
            inner.tabs.push(tab);
        }
        let headers = [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-store"),
            ("X-Accel-Buffering", "no"),
        ];
        http::response(200, body.boxed_unsync(), &headers)
    }

    /// Ends every stream.
    pub fn close(&self) {
        self.inner().tabs.clear();
    }
}

/// Queues `event` for each tab, dropping those that have gone or fallen too far behind.
fn send_all(tabs: &mut Vec<Sender<Bytes, io::Error>>, event: &Bytes) {
    tabs.retain_mut(|tab| tab.try_send(Frame::data(event.clone())).is_ok());
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
        assert!(hub.inner().error.is_some());
        hub.broadcast(&Message::Reload(vec![]));
        assert!(hub.inner().error.is_none());
    }
}
