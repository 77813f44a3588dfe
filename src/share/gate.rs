//! The gate's decision, in Rust: what `vitrine serve` answers for a request, and the data the
//! edge modules carry.
//!
//! It follows `docs/share-links.md` ("Gates") step for step, as `themes/default/edge/gate.js`
//! does, and both are checked against `tests/vectors/gate-cases.json`. It is pure: no I/O, no
//! clock; the caller passes the request and the time, and turns the [`Decision`] into a response.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vitrine_verify::{Error, Kid, Scope, ShareId, UntrustedToken};

use super::{hex, parse_hex};

/// Longest cookie lifetime, 30 days: a cookie is re-verified on every request anyway.
pub const MAX_COOKIE_AGE: u64 = 2_592_000;

/// At most this many candidate cookies are verified per request, so headers cannot buy CPU.
pub const MAX_CANDIDATE_COOKIES: usize = 16;

/// How long a request may be before a gate refuses it unread, so that no request can buy CPU time
/// (Netlify allows an edge function 50 ms of CPU): lengths in bytes as the edge runtimes see them.
///
/// A share link's path is under 200 bytes and its query 127 (`s=` and the token); vitrine's own
/// cookies are at most 200 bytes each. The path limit is the 2,048 characters that the sitemap
/// protocol and old browsers allow a whole URL; 4 KiB of query leaves room for tracking
/// parameters; 8 KiB of `Cookie` is the line nginx and Apache accept by default, twice the 4,096
/// bytes per cookie that RFC 6265 asks browsers to support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Longest path (percent-encoded, as parsed by a WHATWG URL parser); longer is 414.
    pub path: usize,
    /// Longest query, without its `?`, on a gated path; longer is 414.
    pub query: usize,
    /// Longest `Cookie` header (several joined with `; `) on a gated path; longer is 431.
    pub cookie: usize,
}

/// The limits every gate applies; carried in [`GateData`] so the edges get the same numbers.
pub const LIMITS: Limits = Limits {
    path: 2048,
    query: 4096,
    cookie: 8192,
};

impl Default for Limits {
    fn default() -> Limits {
        LIMITS
    }
}

/// Headers of every answer under `/private/`, so nothing gated is cached, indexed or leaked
/// through a `Referer`.
pub const PRIVATE_HEADERS: [(&str, &str); 3] = [
    ("Cache-Control", "private, no-store"),
    ("X-Robots-Tag", "noindex"),
    ("Referrer-Policy", "no-referrer"),
];

/// The public facts a gate needs: keys, revocations and which slugs are public now.
///
/// It serialises to the JSON the edge modules embed; **never** put a private key in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct GateData {
    /// The site's public keys, by key id.
    pub keys: BTreeMap<Kid, [u8; 32]>,
    /// Revoked share ids, from the signed revocation list.
    pub revoked: Vec<ShareId>,
    /// The serial of that revocation list, so a deployed gate shows which list it holds.
    pub serial: u64,
    /// Public datasets by slug, each with its public items as `annotations/<id>` and
    /// `layers/<id>`: old `/private/<slug>/` links of these answer 301, except under any other
    /// item's folder, so a still-private annotation or layer cannot be told from a missing one.
    pub published: BTreeMap<String, Vec<String>>,
    /// The request size limits ([`LIMITS`] in every build).
    pub limits: Limits,
}

impl GateData {
    /// Collects the gate's data from the validated site and its current revocation list.
    pub fn from_site(
        content: &crate::content::Content,
        revocations: &vitrine_verify::RevocationList<'_>,
    ) -> anyhow::Result<Self> {
        let keys = content
            .config
            .keys
            .iter()
            .map(|k| (k.kid, k.public_key))
            .collect();
        let published = content
            .datasets
            .iter()
            .filter(|d| d.is_public())
            .map(|d| {
                let annotations = d.annotations.iter().filter(|a| a.is_public_in(d));
                let layers = d.layers.iter().filter(|l| l.is_public_in(d));
                let items = annotations
                    .map(|a| item(ANNOTATIONS, &a.id))
                    .chain(layers.map(|l| item(LAYERS, &l.id)));
                (d.slug.clone(), items.collect())
            })
            .collect();
        Ok(GateData {
            keys,
            revoked: revocations.revoked().to_vec(),
            serial: revocations.serial(),
            published,
            limits: LIMITS,
        })
    }
}

/// The folders of a dataset's annotations and layers under its address.
const ANNOTATIONS: &str = "annotations";
const LAYERS: &str = "layers";

/// An item of a dataset as the gate data names it: `annotations/<id>` or `layers/<id>`.
fn item(folder: &str, id: &str) -> String {
    format!("{folder}/{id}")
}

/// [`GateData`] as JSON: hex strings, as the edge modules and the test vectors write it.
#[derive(Serialize, Deserialize)]
struct Wire {
    keys: BTreeMap<String, String>,
    revoked: Vec<String>,
    serial: u64,
    published: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    limits: Limits,
}

impl From<GateData> for Wire {
    fn from(d: GateData) -> Wire {
        Wire {
            keys: d.keys.iter().map(|(k, v)| (hex(k), hex(v))).collect(),
            revoked: d.revoked.iter().map(|id| hex(id)).collect(),
            serial: d.serial,
            published: d.published,
            limits: d.limits,
        }
    }
}

impl TryFrom<Wire> for GateData {
    type Error = String;

    fn try_from(w: Wire) -> Result<GateData, String> {
        let bad = |what: &str, v: &str| format!("{what} `{v}` is not hex of the right length");
        let mut keys = BTreeMap::new();
        for (kid, pk) in &w.keys {
            let kid_bytes = parse_hex::<4>(kid).ok_or_else(|| bad("key id", kid))?;
            keys.insert(
                kid_bytes,
                parse_hex::<32>(pk).ok_or_else(|| bad("public key", pk))?,
            );
        }
        let revoked = w
            .revoked
            .iter()
            .map(|id| parse_hex::<8>(id).ok_or_else(|| bad("share id", id)));
        Ok(GateData {
            keys,
            revoked: revoked.collect::<Result<_, _>>()?,
            serial: w.serial,
            published: w.published,
            limits: w.limits,
        })
    }
}

/// One request as the gate sees it; header values are passed as they arrived.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The path as sent on the wire, percent-encoded (`/private/cortex/`).
    pub path: &'a str,
    /// The query without its `?`, as sent; empty when there is none.
    pub query: &'a str,
    /// Every `Cookie` header value, in order.
    pub cookies: &'a [&'a str],
    /// Whether the request is plain `http:` to `localhost`, `127.0.0.1` or `[::1]` (no `Secure`).
    pub plain_http_localhost: bool,
    /// Unix seconds.
    pub now: u64,
}

/// What to answer. Every variant but [`Decision::Pass`] also carries [`PRIVATE_HEADERS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not under `/private/`: serve it like any public file.
    Pass,
    /// A valid credential: serve this file (decoded, canonical segments, `private` first).
    Serve {
        /// The path's segments, e.g. `["private", "cortex", "index.html"]`.
        segments: Vec<String>,
    },
    /// 301 to the canonical or published address, or 302 after a valid token.
    Redirect {
        /// 301 or 302.
        status: u16,
        /// Path-absolute target, query included.
        location: String,
        /// The credential cookie a verified `?s=` token sets.
        set_cookie: Option<String>,
    },
    /// A refusal page from `gate.html`, with `X-Vitrine-Reason: reason`.
    Refuse {
        /// 400, 401, 403, 410, 414 or 431.
        status: u16,
        /// `missing`, `invalid`, `unknown-key`, `wrong-scope`, `not-yet-valid`, `expired` or `revoked`.
        reason: &'static str,
    },
}

impl Decision {
    fn refuse(error: Error) -> Decision {
        Decision::Refuse {
            status: error.http_status(),
            reason: error.reason(),
        }
    }

    /// A refusal of the request itself (a bad or oversized address or header), reason `invalid`.
    fn bad_request(status: u16) -> Decision {
        Decision::Refuse {
            status,
            reason: "invalid",
        }
    }
}

/// The key of a refusal's page among the gate pages: the reason, except for refusals of the
/// request itself (400, 414, 431), which have a page each.
pub fn refusal_page(status: u16, reason: &str) -> &str {
    match status {
        400 => "bad-path",
        414 => "too-long",
        431 => "too-large",
        _ => reason,
    }
}

/// Every refusal page a gate answers with, as (page key, status, reason): `missing` at 401,
/// one for each reason a token is refused for (at its [`Error::http_status`]), and one for each
/// refusal of the request itself (400, 414, 431; see [`refusal_page`]).
pub fn refusal_pages() -> Vec<(&'static str, u16, &'static str)> {
    let mut pages = vec![("missing", 401, "missing")];
    for error in Error::ALL {
        let reason = error.reason();
        if !pages.iter().any(|(key, _, _)| *key == reason) {
            pages.push((reason, error.http_status(), reason));
        }
    }
    for status in [400, 414, 431] {
        pages.push((refusal_page(status, "invalid"), status, "invalid"));
    }
    pages
}

/// Decides one request exactly as the edge modules do.
pub fn decide(data: &GateData, req: &Request<'_>) -> Decision {
    // Sizes first, as the edges check them: a sent path can only shrink by its dot segments, so
    // one four times the limit is refused unparsed; the parsed path must then meet the limit.
    if req.path.len() > 4 * data.limits.path {
        return Decision::bad_request(414);
    }
    let raw_path = whatwg_path(req.path);
    if raw_path.len() > data.limits.path {
        return Decision::bad_request(414);
    }
    let Some(segs) = segments(&raw_path).filter(|s| !s.first().is_some_and(|f| like_private(f)))
    else {
        return Decision::bad_request(400);
    };
    if segs.first().map(String::as_str) != Some("private") {
        return Decision::Pass;
    }
    // A parsed query is never shorter than the sent one: one too long as sent is refused unparsed.
    if req.query.len() > data.limits.query {
        return Decision::bad_request(414);
    }
    let query = whatwg_query(req.query);
    if query.len() > data.limits.query {
        return Decision::bad_request(414);
    }
    // Several `Cookie` headers count as one joined with `; ` (the edges join them with `, `).
    let cookie_len = req.cookies.iter().map(|c| c.len() + 2).sum::<usize>();
    if cookie_len.saturating_sub(2) > data.limits.cookie {
        return Decision::bad_request(431);
    }
    let folder = !segs.last().is_some_and(|s| s.contains('.'));
    let mut path = String::new();
    for s in &segs {
        path.push('/');
        path.push_str(&encode_uri_component(s));
    }
    if folder {
        path.push('/');
    }
    if path != raw_path {
        let location = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        return redirect(301, location, None);
    }

    let (tokens, rest) = split_query(&query);
    let clean = if rest.is_empty() {
        String::new()
    } else {
        format!("?{}", rest.join("&"))
    };
    let slug = segs.get(1).map_or("", String::as_str);
    let sub = &segs[2.min(segs.len())..];
    // The annotation or layer whose folder the path is in, as its scope.
    let item_scope = match sub {
        [folder, id, ..] if folder == ANNOTATIONS => Some(Scope::Annotation(slug, id)),
        [folder, id, ..] if folder == LAYERS => Some(Scope::Layer(slug, id)),
        _ => None,
    };
    let media = sub.first().is_some_and(|s| s == "media");
    let published = data.published.get(slug);
    if let Some(public_items) = published {
        let public = |folder: &str, id: &str| public_items.contains(&item(folder, id));
        let stays_gated = match item_scope {
            Some(Scope::Annotation(_, id)) => !public(ANNOTATIONS, id),
            Some(Scope::Layer(_, id)) => !public(LAYERS, id),
            _ => false,
        };
        if !stays_gated {
            return redirect(
                301,
                format!("/datasets{}{clean}", &path["/private".len()..]),
                None,
            );
        }
    }

    let keys: Vec<(Kid, [u8; 32])> = data.keys.iter().map(|(k, v)| (*k, *v)).collect();
    // A published dataset's private layer has no dataset link: only its own links open it.
    let dataset = (published.is_none() || !matches!(item_scope, Some(Scope::Layer(..))))
        .then_some(Scope::Dataset(slug));
    match tokens.as_slice() {
        [] => {}
        [token] => {
            let scopes: Vec<Scope> = dataset.into_iter().chain(item_scope).collect();
            return match verify(data, &keys, token, &scopes, req.now) {
                Err(e) => Decision::refuse(e),
                Ok((scope, expires)) => {
                    let name = match scope {
                        Scope::Dataset(_) => "vitrine_d".to_string(),
                        Scope::Annotation(_, id) => format!("vitrine_a_{id}"),
                        Scope::Layer(_, id) => format!("vitrine_l_{id}"),
                    };
                    let age = expires.map_or(MAX_COOKIE_AGE, |e| {
                        u64::from(e)
                            .saturating_sub(req.now)
                            .clamp(1, MAX_COOKIE_AGE)
                    });
                    let secure = if req.plain_http_localhost {
                        ""
                    } else {
                        "; Secure"
                    };
                    let cookie = format!(
                        "{name}={token}; Path=/private/{slug}/; Max-Age={age}; HttpOnly{secure}; SameSite=Lax"
                    );
                    redirect(302, format!("{path}{clean}"), Some(cookie))
                }
            };
        }
        _ => {
            return Decision::Refuse {
                status: 403,
                reason: "invalid",
            };
        }
    }

    let mut first_error = None;
    let candidates = req
        .cookies
        .iter()
        .flat_map(|h| h.split([';', ',']))
        .filter_map(|c| {
            let (name, value) = c.split_once('=')?;
            let (name, value) = (name.trim(), value.trim());
            // A cookie is a candidate only where its scope could open the path.
            let scope = if name == "vitrine_d" {
                dataset?
            } else if let Some(id) = name.strip_prefix("vitrine_a_") {
                Scope::Annotation(slug, id)
            } else {
                Scope::Layer(slug, name.strip_prefix("vitrine_l_")?)
            };
            let opens_here = match scope {
                Scope::Dataset(_) => true,
                Scope::Annotation(_, id) | Scope::Layer(_, id) => {
                    !id.is_empty() && (media || item_scope == Some(scope))
                }
            };
            opens_here.then_some((scope, value))
        })
        .take(MAX_CANDIDATE_COOKIES);
    for (scope, value) in candidates {
        match verify(data, &keys, value, &[scope], req.now) {
            Ok(_) => {
                return Decision::Serve {
                    segments: segs.clone(),
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Decision::refuse(e),
        None => Decision::Refuse {
            status: 401,
            reason: "missing",
        },
    }
}

/// The `s` parameters of a query (form-decoded, as the gate reads them) and the other pieces
/// as sent.
fn split_query(query: &str) -> (Vec<String>, Vec<&str>) {
    let mut tokens = Vec::new();
    let mut rest = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = piece
            .split_once('=')
            .map_or((piece, None), |(n, v)| (n, Some(v)));
        if form_decode(name) == "s" {
            tokens.push(value.map(form_decode).unwrap_or_default());
        } else {
            rest.push(piece);
        }
    }
    (tokens, rest)
}

/// The share tokens (`s` parameters) of a link, read exactly as a gate reads them.
pub fn share_tokens(url: &str) -> Vec<String> {
    let (_, query) = path_and_query(url);
    split_query(&whatwg_query(&query)).0
}

/// A link's path and query as a browser sends them: scheme and host dropped, the fragment cut
/// off, line breaks (a link copied out of a PDF) and surrounding spaces removed.
fn path_and_query(url: &str) -> (String, String) {
    let url: String = url
        .trim()
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r'))
        .collect();
    let url = url.split('#').next().unwrap_or_default();
    let after_host = match url.split_once("://") {
        Some((_, rest)) => rest.find(['/', '?']).map_or("", |i| &rest[i..]),
        None => url,
    };
    let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
    let path = if path.is_empty() { "/" } else { path };
    (path.to_string(), query.to_string())
}

/// What a gate finally answers a link opened in a browser with no cookie: each 301 (to the
/// canonical spelling, or to the public page of a published dataset) is followed as a browser
/// follows it. `vitrine verify`, `serve` and the tests share this one reading of a URL.
pub fn open_link(data: &GateData, url: &str, now: u64) -> (Decision, String) {
    let (path, query) = path_and_query(url);
    let mut at = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    // Each 301 makes the address canonical or public, so a second one from a gate is the last.
    for _ in 0..4 {
        let (path, query) = at.split_once('?').unwrap_or((&at, ""));
        let decision = decide(
            data,
            &Request {
                path,
                query,
                cookies: &[],
                plain_http_localhost: false,
                now,
            },
        );
        match decision {
            Decision::Redirect {
                status: 301,
                location,
                ..
            } => at = location,
            other => return (other, at),
        }
    }
    // Still redirecting: no gate of vitrine's does this; answered as a bad address, not a loop.
    (Decision::bad_request(400), at)
}

/// Whether a first segment that is not `private` could be read as it by a lenient host: by
/// Unicode case folding or compatibility forms (`prİvate`, `ｐrivate`), or with trailing dots or
/// spaces trimmed (`private.`). No file vitrine writes has a non-ASCII first segment, so refusing
/// these loses nothing public.
fn like_private(first: &str) -> bool {
    !first.is_ascii()
        || first
            .strip_prefix("private")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b == b'.' || b == b' '))
}

/// Checks 1–7 for one credential; the claims' scope picks the cookie name.
fn verify<'s>(
    data: &GateData,
    keys: &[(Kid, [u8; 32])],
    token: &str,
    scopes: &[Scope<'s>],
    now: u64,
) -> Result<(Scope<'s>, Option<u32>), Error> {
    let claims =
        UntrustedToken::parse(token)?.verify(keys, scopes, data.revoked.as_slice(), now)?;
    Ok((claims.scope(), claims.expires()))
}

fn redirect(status: u16, location: String, set_cookie: Option<String>) -> Decision {
    Decision::Redirect {
        status,
        location,
        set_cookie,
    }
}

/// The path as a WHATWG URL parser hands it to the edge runtimes: `\` read as `/`, dot segments
/// (also `%2e` ones) resolved, and bytes outside the path set percent-encoded.
fn whatwg_path(raw: &str) -> String {
    let raw = raw.strip_prefix(['/', '\\']).unwrap_or(raw);
    let parts: Vec<&str> = raw.split(['/', '\\']).collect();
    let mut out: Vec<String> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let lower = part.to_ascii_lowercase();
        if matches!(lower.as_str(), ".." | ".%2e" | "%2e." | "%2e%2e") {
            out.pop();
            if last {
                out.push(String::new());
            }
        } else if matches!(lower.as_str(), "." | "%2e") {
            if last {
                out.push(String::new());
            }
        } else {
            out.push(encode_bytes(part, |b| {
                b <= 0x20
                    || b >= 0x7f
                    || matches!(b, b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}')
            }));
        }
    }
    format!("/{}", out.join("/"))
}

/// The query as a WHATWG URL parser keeps it (`url.search` without `?`).
fn whatwg_query(raw: &str) -> String {
    encode_bytes(raw, |b| {
        b <= 0x20 || b >= 0x7f || matches!(b, b'"' | b'#' | b'<' | b'>' | b'\'')
    })
}

/// Step 1 of the gate: percent-decode, read `\` as `/`, split, resolve, lowercase ASCII.
/// `None` for an invalid escape, bad UTF-8 or a NUL: the 400 answer.
fn segments(raw: &str) -> Option<Vec<String>> {
    let decoded = percent_decode(raw)?;
    if decoded.contains('\0') {
        return None;
    }
    let mut segs: Vec<String> = Vec::new();
    for s in decoded.split(['/', '\\']) {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            _ => segs.push(s.to_ascii_lowercase()),
        }
    }
    Some(segs)
}

/// Strict percent-decoding to UTF-8 (JavaScript's `decodeURIComponent`).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = (*b.get(i + 1)? as char).to_digit(16)?;
            let lo = (*b.get(i + 2)? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One form-encoded query name or value; text that does not decode stays as sent, like the edges.
fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " ")).unwrap_or_else(|| s.to_string())
}

/// JavaScript's `encodeURIComponent`, so canonical paths are spelled as the edges spell them.
fn encode_uri_component(s: &str) -> String {
    encode_bytes(s, |b| {
        !(b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
    })
}

fn encode_bytes(s: &str, encode: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if encode(b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}
