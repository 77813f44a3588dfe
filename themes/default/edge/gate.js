// vitrine gate core: answers every request as docs/share-links.md ("Gates") says: public paths pass
// at once, everything under /private/ only through the checks.
// Shared by the Netlify and Cloudflare wrappers so both edges are one implementation; it mirrors
// crates/verify and src/share/gate.rs check for check, and carries only public data.
const D = {{ data }}, PAGES = {{ pages }};
const KEYS = new Map(Object.entries(D.keys)), REVOKED = new Set(D.revoked);
const PUBLISHED = new Map(Object.entries(D.published)), LIMIT = D.limits;
const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TE = new TextEncoder(), CONTEXT = TE.encode("vitrine/share/v1\0");
const MONTH = 2592000, PASS = 0, FILE = 1, ED = { name: "Ed25519" };
// The 7 small-order or non-canonical y values; with bit 255 masked they are the 14 byte strings
// that make Web Crypto answer exactly like ed25519-dalek's verify_strict.
const SMALL = ["00".repeat(32), "01" + "00".repeat(31), ...["ec", "ed", "ee"].map(x => x + "ff".repeat(30) + "7f"),
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"];
const hex = b => Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
const unhex = h => Uint8Array.from(h.match(/../g), x => parseInt(x, 16));
// Small caches, emptied when full: paths and cookies come from anyone, so nobody can grow them.
const cached = (m, k, f) => m.get(k) || (m.size > 255 && m.clear(), m.set(k, f()).get(k));
const keyCache = new Map(), scopeCache = new Map(), sigCache = new Map();

// 125 base62 digits -> 93 bytes, or null: wrong length, foreign character or a value >= 2^744.
// Five digits (62^5 < 2^30) are summed as a plain number before each BigInt step.
function base62(t) {
  if (!/^[0-9A-Za-z]{125}$/.test(t)) return null;
  let n = 0n;
  for (let i = 0; i < 125; i += 5) n = n * 916132832n + BigInt([...t.slice(i, i + 5)].reduce((c, x) => c * 62 + B62.indexOf(x), 0));
  return n >> 744n ? null : unhex(n.toString(16).padStart(186, "0"));
}

// Ed25519 with verify_strict semantics: lengths, small-order/non-canonical A and R, then Web Crypto.
async function ed25519(pk, msg, sig) {
  if (pk.length != 32 || sig.length != 64) return false;
  for (const p of [pk, sig.subarray(0, 32)]) {
    const y = p.slice();
    y[31] &= 127;
    if (SMALL.includes(hex(y))) return false;
  }
  try {
    const key = await cached(keyCache, hex(pk), () =>
      crypto.subtle.importKey("raw", pk, ED, false, ["verify"]));
    return await crypto.subtle.verify(ED, key, sig, msg);
  } catch {
    return false;
  }
}

// The first 8 bytes of SHA-512(scope), as hex.
const digest = s => cached(scopeCache, s, () =>
  crypto.subtle.digest("SHA-512", TE.encode(s)).then(h => hex(new Uint8Array(h, 0, 8))));

// The seven checks in order: {scope, expires} for a trusted token, else {error}.
const no = error => ({ error });
async function verify(token, scopes, now, keys = KEYS, revoked = REVOKED) {
  const b = base62(token);
  if (!b || b[0] != 1) return no("Malformed");
  const pk = keys.get(hex(b.subarray(1, 5)));
  if (!pk) return no("UnknownKey");
  const msg = new Uint8Array(46);
  msg.set(CONTEXT);
  msg.set(b.subarray(0, 29), 17);
  // A cookie comes back on every request: its signature is checked once per isolate, not each time.
  if (!await cached(sigCache, pk + token, () => ed25519(unhex(pk), msg, b.subarray(29)))) return no("BadSignature");
  const d = hex(b.subarray(13, 21));
  let scope;
  for (const s of scopes) if (await digest(s) == d) { scope = s; break; }
  if (!scope) return no("WrongScope");
  if (revoked.has(hex(b.subarray(5, 13)))) return no("Revoked");
  const v = new DataView(b.buffer), issued = v.getUint32(21), expires = v.getUint32(25);
  if (now + 60 < issued) return no("NotYetValid");
  if (expires && now >= expires) return no("Expired");
  return { scope, expires };
}

// Percent-decodes, splits and resolves a path; null when it has a bad escape, bad UTF-8 or a NUL
// (decodeURIComponent throws on the first two).
function segments(raw) {
  let p;
  try { p = decodeURIComponent(raw); } catch { return null; }
  if (p.includes("\0")) return null;
  const s = [];
  for (const x of p.replace(/\\/g, "/").split("/")) {
    if (x == "..") s.pop();
    else if (x && x != ".") s.push(x.replace(/[A-Z]+/g, c => c.toLowerCase()));
  }
  return s;
}

// application/x-www-form-urlencoded decoding of one query name or value; undecodable text stays as sent.
function form(x) {
  try { return decodeURIComponent(x.replace(/\+/g, " ")); } catch { return x; }
}

// Every answer under /private/ (and a bad path anywhere) carries these, so nothing is cached,
// indexed or leaked through a Referer; a file from the host gets them too.
function privately(res, status = res.status, extra = {}) {
  const r = new Response(res.body, { status, headers: res.headers });
  for (const [k, v] of Object.entries({ ...extra, "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer" })) r.headers.set(k, v);
  return r;
}
const redirect = (status, Location, extra) => privately(new Response(), status, { Location, ...extra });
// A refusal: the theme's page for the reason (bodiless for HEAD).
const BAD = { 400: "bad-path", 414: "too-long", 431: "too-large" };
const refuse = (status, reason, head) => privately(new Response(head ? null : PAGES[BAD[status] || reason]), status,
  { "X-Vitrine-Reason": reason, "Content-Type": "text/html; charset=utf-8" });
const refuseFor = (error, head) => refuse(error == "Expired" || error == "Revoked" ? 410 : 403,
  /^(Malformed|BadSignature)$/.test(error) ? "invalid" : error.replace(/\B[A-Z]/g, "-$&").toLowerCase(), head);

// The decision for one request: PASS (not gated), FILE (serve it privately) or a Response.
async function gate(request, now = Math.floor(Date.now() / 1000)) {
  const head = request.method == "HEAD", href = request.url, bad = status => refuse(status, "invalid", head);
  // Sizes are read off the URL as the runtime hands it over (workerd: as sent) before it is parsed:
  // parsing a 1 MB URL alone costs milliseconds. A sent path can only shrink by its dot segments,
  // so one four times the limit is refused unparsed, and a query too long as sent (parsing never
  // shortens one) is left unparsed; the parsed path and query then meet the limits.
  const start = href.indexOf("/", href.indexOf("//") + 2), q = href.indexOf("?", start) + 1 || href.length + 1;
  if (q - 1 - start > 4 * LIMIT.path) return bad(414);
  const long = href.length - q > LIMIT.query, url = new URL(long ? href.slice(0, q - 1) : href), raw = url.pathname;
  if (raw.length > LIMIT.path) return bad(414);
  // Without a `%` a path is spelled as its segments are, so unless it contains "private" in some
  // case, no decoding, case folding, dot segment or slash can make it gated: it passes at once.
  if (!raw.includes("%") && !/private/i.test(raw)) return PASS;
  const segs = segments(raw);
  // A first segment a lenient host could read as `private` (Unicode case folding or compatibility
  // forms: `prİvate`, `ｐrivate`; trailing dots or spaces trimmed: `private.`) is refused, never
  // passed. No file vitrine writes has a non-ASCII first segment, so nothing public is lost.
  if (!segs || /[^\x00-\x7f]|^private[. ]+$/.test(segs[0] || "")) return bad(400);
  if (segs[0] != "private") return PASS;
  const search = url.search, cookies = request.headers.get("Cookie") || "";
  if (long || search.length - 1 > LIMIT.query) return bad(414);
  if (cookies.length > LIMIT.cookie) return bad(431);
  const path = "/" + segs.map(encodeURIComponent).join("/") + (segs.at(-1).includes(".") ? "" : "/");
  if (path != raw) return redirect(301, path + search);

  const pieces = search.slice(1).split("&").filter(p => p).map(p => [p, ...p.split(/=(.*)/s, 2).map(form)]);
  const tokens = pieces.filter(p => p[1] == "s").map(p => p[2] || "");
  const rest = pieces.filter(p => p[1] != "s").map(p => p[0]), clean = rest.length ? "?" + rest.join("&") : "";
  const slug = segs[1] || "", sub = segs.slice(2), items = PUBLISHED.get(slug), media = sub[0] == "media";
  // The annotation or layer whose folder the path is in: its folder and id, and its scope.
  const kind = sub.length > 1 && (sub[0] == "annotations" || sub[0] == "layers") ? sub[0] : null;
  const scopeOf = (k, id) => `${k == "layers" ? "layer" : "annotation"}:${slug}/${id}`;
  const own = kind && scopeOf(kind, sub[1]);
  // A published dataset's old links answer 301, except under an annotation or layer that is not
  // one of its public items: a private id and a missing one both stay gated, indistinguishable.
  if (items && (!kind || items.includes(kind + "/" + sub[1]))) return redirect(301, "/datasets" + path.slice(8) + clean);

  // A published dataset's private layer has no dataset link: only its own links open it.
  const dataset = items && kind == "layers" ? null : "dataset:" + slug;
  if (tokens.length > 1) return bad(403);
  if (tokens.length) {
    const v = await verify(tokens[0], [dataset, own].filter(s => s), now);
    if (v.error) return refuseFor(v.error, head);
    const name = v.scope == dataset ? "vitrine_d" : (kind == "layers" ? "vitrine_l_" : "vitrine_a_") + sub[1];
    const age = v.expires ? Math.min(MONTH, Math.max(1, v.expires - now)) : MONTH;
    const local = url.protocol == "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    return redirect(302, path + clean, { "Set-Cookie":
      `${name}=${tokens[0]}; Path=/private/${slug}/; Max-Age=${age}; HttpOnly${local ? "" : "; Secure"}; SameSite=Lax` });
  }

  let first, seen = 0;
  for (const c of cookies.split(/[;,]/)) {
    const i = c.indexOf("="), name = c.slice(0, i).trim(), value = c.slice(i + 1).trim();
    const k = name.startsWith("vitrine_a_") ? "annotations" : name.startsWith("vitrine_l_") ? "layers" : null;
    const mine = k && name.length > 10 && scopeOf(k, name.slice(10));
    const scope = name == "vitrine_d" ? dataset : mine && (media || mine == own) ? mine : null;
    if (i < 0 || !scope) continue;
    // At most 16 candidate cookies are verified, so a long Cookie header cannot buy CPU time.
    if (++seen > 16) break;
    const v = await verify(value, [scope], now);
    if (!v.error) return FILE;
    first = first || v.error;
  }
  return first ? refuseFor(first, head) : refuse(401, "missing", head);
}

// Encryption at rest (docs/share-links.md): every file under /private/ is stored sealed, the magic,
// a 16-byte label, a 12-byte nonce, then AES-256-GCM of the file with the 32 header bytes and the
// file's path as associated data. The gate holds the edge key E (64 hex digits), never more.
const MAGIC = "76747201", CONTENT = TE.encode("vitrine/content/v1\0"), HKDF = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array() };
const edgeCache = new Map(), contentCache = new Map();

// What a wrapper asks the host for when the gate serves a file: the whole file by GET, even for a
// HEAD (a sealed file is checked before it is answered) and without Range (a slice of a sealed
// file does not decrypt). Conditional headers stay: a 304 passes as the host gives it, and so does a
// redirect (Pages answers `…/index.html` with a 308 to `…/`).
function whole(request) {
  const headers = new Headers(request.headers);
  headers.delete("Range");
  headers.delete("If-Range");
  return new Request(request.url, { headers, redirect: "manual" });
}

// The content key K = HKDF(E, "vitrine/content/v1" 0x00 label) for AES-GCM, once per label.
const contentKey = (e, label) => cached(contentCache, e + hex(label), async () => {
  const edge = await cached(edgeCache, e, () => crypto.subtle.importKey("raw", unhex(e), "HKDF", false, ["deriveKey"]));
  const info = new Uint8Array(CONTENT.length + 16);
  info.set(CONTENT);
  info.set(label, CONTENT.length);
  return crypto.subtle.deriveKey({ ...HKDF, info }, edge, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
});

// The host's answer `res` to whole(request) for a file the gate opened, answered privately: a 200
// whose body starts with the magic is decrypted with the edge key `e`; anything else (a 404, a
// 304, a file without the magic) passes as the host gave it. A sealed file that does not decrypt
// is a 500, and so is one that must be decrypted without a valid edge key (`fix` says how to set
// it). The host's Content-Type stays; its length, encoding and ETag described the ciphertext.
async function unseal(request, res, e, fix) {
  const head = request.method == "HEAD", plain = (status, text) => privately(new Response(head ? null : text + "\n",
    { headers: { "Content-Type": "text/plain; charset=utf-8" } }), status);
  if (res.status != 200) return privately(head ? new Response(null, res) : res);
  const body = new Uint8Array(await res.arrayBuffer());
  if (hex(body.subarray(0, 4)) != MAGIC) return privately(new Response(head ? null : body, res));
  e = typeof e == "string" ? e.trim().toLowerCase() : "";
  if (!/^[0-9a-f]{64}$/.test(e)) return plain(500, "vitrine: this gate has no edge key to open private files; " + fix);
  let text;
  try {
    // The gate serves only canonical paths: the URL's path, decoded, is the file's (a folder's
    // page is its index.html).
    const path = TE.encode(decodeURIComponent(new URL(request.url).pathname).slice(1).replace(/\/$/, "/index.html"));
    const data = new Uint8Array(32 + path.length);
    data.set(body.subarray(0, 32));
    data.set(path, 32);
    text = await crypto.subtle.decrypt({ name: "AES-GCM", iv: body.subarray(20, 32), additionalData: data },
      await contentKey(e, body.subarray(4, 20)), body.subarray(32));
  } catch {
    return plain(500, "vitrine: this private file does not decrypt");
  }
  const headers = new Headers(res.headers);
  for (const h of ["Content-Length", "Content-Encoding", "ETag", "Accept-Ranges"]) headers.delete(h);
  return privately(new Response(head ? null : text, { headers }));
}
