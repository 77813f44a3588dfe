// vitrine gate core: answers every request under /private/ as docs/share-links.md ("Gates") says.
// Shared by the Netlify and Cloudflare wrappers so both edges are one implementation; it mirrors
// crates/verify and src/share/gate.rs check for check, and carries only public data.
const D = {{ data }}, PAGES = {{ pages }};
const KEYS = new Map(Object.entries(D.keys)), REVOKED = new Set(D.revoked);
const PUBLISHED = new Map(Object.entries(D.published));
const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TE = new TextEncoder(), CONTEXT = TE.encode("vitrine/share/v1\0");
const MONTH = 2592000, MAX_COOKIES = 16, PASS = 0, FILE = 1;
// The 7 small-order or non-canonical y values; with bit 255 masked they are the 14 byte strings
// that make Web Crypto answer exactly like ed25519-dalek's verify_strict.
const SMALL = ["00".repeat(32), "01" + "00".repeat(31), ...["ec", "ed", "ee"].map(x => x + "ff".repeat(30) + "7f"),
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"];
const REASON = { Malformed: "invalid", BadSignature: "invalid", UnknownKey: "unknown-key", WrongScope: "wrong-scope",
  NotYetValid: "not-yet-valid", Expired: "expired", Revoked: "revoked" };
const hex = b => Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
const unhex = h => Uint8Array.from(h.match(/../g) || [], x => parseInt(x, 16));
// Caches are bounded: slugs come from request paths, so an attacker must not grow them.
const cached = (m, k, f) => m.get(k) || (m.size < 256 && m.set(k, f()), m.get(k) || f());
const keyCache = new Map(), scopeCache = new Map();

// 125 base62 digits -> 93 bytes, or null: wrong length, foreign character or a value >= 2^744.
function base62(t) {
  if (typeof t != "string" || t.length != 125) return null;
  let n = 0n;
  for (let i = 0; i < 125; i += 5) {
    let c = 0;
    for (let j = i; j < i + 5; j++) {
      const v = B62.indexOf(t[j]);
      if (v < 0) return null;
      c = c * 62 + v;
    }
    n = n * 916132832n + BigInt(c);
  }
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
      crypto.subtle.importKey("raw", pk, { name: "Ed25519" }, false, ["verify"]));
    return await crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);
  } catch {
    return false;
  }
}

// The first 8 bytes of SHA-512(scope), as hex.
const digest = s => cached(scopeCache, s, () =>
  crypto.subtle.digest("SHA-512", TE.encode(s)).then(h => hex(new Uint8Array(h, 0, 8))));

// The seven checks in order: {scope, expires} for a trusted token, else {error}.
async function verify(token, scopes, now, keys = KEYS, revoked = REVOKED) {
  const b = base62(token);
  if (!b || b[0] != 1) return { error: "Malformed" };
  const pk = keys.get(hex(b.subarray(1, 5)));
  if (!pk) return { error: "UnknownKey" };
  const msg = new Uint8Array(46);
  msg.set(CONTEXT);
  msg.set(b.subarray(0, 29), 17);
  if (!await ed25519(unhex(pk), msg, b.subarray(29))) return { error: "BadSignature" };
  const d = hex(b.subarray(13, 21));
  let scope;
  for (const s of scopes) if (await digest(s) == d) { scope = s; break; }
  if (!scope) return { error: "WrongScope" };
  if (revoked.has(hex(b.subarray(5, 13)))) return { error: "Revoked" };
  const v = new DataView(b.buffer), issued = v.getUint32(21), expires = v.getUint32(25);
  if (now + 60 < issued) return { error: "NotYetValid" };
  if (expires && now >= expires) return { error: "Expired" };
  return { scope, expires };
}

// Percent-decodes, splits and resolves a path; null when it has a bad escape, bad UTF-8 or a NUL.
function segments(raw) {
  if (/%(?![0-9a-f]{2})/i.test(raw)) return null;
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

// Every answer under /private/ (and a bad path anywhere) carries these, so nothing is cached or indexed.
function answer(status, head, reason, extra) {
  const h = new Headers(extra);
  h.set("Cache-Control", "private, no-store");
  h.set("X-Robots-Tag", "noindex");
  h.set("Referrer-Policy", "no-referrer");
  if (!reason) return new Response(null, { status, headers: h });
  h.set("X-Vitrine-Reason", reason);
  h.set("Content-Type", "text/html; charset=utf-8");
  return new Response(head ? null : PAGES[status == 400 ? "bad-path" : reason], { status, headers: h });
}
const refuse = (error, head) => answer(error == "Expired" || error == "Revoked" ? 410 : 403, head, REASON[error]);

// Marks a file response from the host as private (same headers as every other gated answer).
function privateFile(res) {
  const r = new Response(res.body, res);
  r.headers.set("Cache-Control", "private, no-store");
  r.headers.set("X-Robots-Tag", "noindex");
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

// The decision: {kind: PASS, segs} (not gated), {kind: FILE} (serve it privately) or {response}.
async function gate(request, now = Math.floor(Date.now() / 1000)) {
  const url = new URL(request.url), head = request.method == "HEAD";
  const segs = segments(url.pathname);
  if (!segs) return { response: answer(400, head, "invalid") };
  if (segs[0] != "private") return { kind: PASS, segs };
  const last = segs[segs.length - 1];
  const path = "/" + segs.map(encodeURIComponent).join("/") + (last.includes(".") ? "" : "/");
  if (path != url.pathname) return { response: answer(301, head, null, { Location: path + url.search }) };

  const pieces = url.search.slice(1).split("&").filter(p => p).map(p => [p, ...p.split(/=(.*)/s, 2).map(form)]);
  const rest = pieces.filter(p => p[1] != "s").map(p => p[0]), tokens = pieces.filter(p => p[1] == "s").map(p => p[2] || "");
  const clean = rest.length ? "?" + rest.join("&") : "";
  const slug = segs[1] || "", sub = segs.slice(2), ids = PUBLISHED.get(slug);
  const annotation = sub[0] == "annotations" && sub.length > 1 ? sub[1] : null, media = sub[0] == "media";
  if (ids && !(annotation && ids.includes(annotation))) {
    return { response: answer(301, head, null, { Location: "/datasets" + path.slice(8) + clean }) };
  }

  const dataset = "dataset:" + slug, scopeOf = id => `annotation:${slug}/${id}`;
  if (tokens.length > 1) return { response: answer(403, head, "invalid") };
  if (tokens.length) {
    const v = await verify(tokens[0], annotation ? [dataset, scopeOf(annotation)] : [dataset], now);
    if (v.error) return { response: refuse(v.error, head) };
    const name = v.scope == dataset ? "vitrine_d" : "vitrine_a_" + annotation;
    const age = v.expires ? Math.min(MONTH, Math.max(1, v.expires - now)) : MONTH;
    const local = url.protocol == "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    const cookie = `${name}=${tokens[0]}; Path=/private/${slug}/; Max-Age=${age}; HttpOnly${local ? "" : "; Secure"}; SameSite=Lax`;
    return { response: answer(302, head, null, { Location: path + clean, "Set-Cookie": cookie }) };
  }

  let first, seen = 0;
  for (const c of (request.headers.get("Cookie") || "").split(/[;,]/)) {
    const i = c.indexOf("="), name = c.slice(0, i).trim(), value = c.slice(i + 1).trim();
    const id = name.startsWith("vitrine_a_") ? name.slice(10) : null;
    const scope = name == "vitrine_d" ? dataset : id && (media || id == annotation) ? scopeOf(id) : null;
    if (i < 0 || !scope) continue;
    if (++seen > MAX_COOKIES) break;
    const v = await verify(value, [scope], now);
    if (!v.error) return { kind: FILE };
    first = first || v.error;
  }
  return { response: first ? refuse(first, head) : answer(401, head, "missing") };
}
