/*
 * vitrine's service worker for a private dataset on a host without a gate (`hosting: static`).
 * docs/share-links.md, "Links without a gate", is the specification; this file is copied byte
 * for byte to `private/<slug>/vitrine-sw.js` of every such dataset, so it names none of them and
 * works out every path from its own address (a site may live under a base path such as /lab/).
 *
 * Registered by /assets/unlock.js with the scope of its own folder, `<root>private/<slug>/`, it
 * answers every GET in that scope except itself and `slots/…`:
 * - a page (`…/` or `…/index.html`) is read from `…/index.html.sealed`, any other file from its
 *   own address;
 * - a 200 answer that is a sealed file (magic `vtr` 1, label, nonce, AES-256-GCM) is decrypted
 *   with the key stored for its label, the associated data being the 32 header bytes and the
 *   file's output path (`private/<slug>/…`, a page's as `…/index.html`), and typed by extension;
 * - any other answer (a 404, a redirect) passes through as the host gave it;
 * - what it cannot open (no key for the label, an expired one, not sealed, not decrypting) is
 *   answered, for a navigation, with the loader at the page's own address (or the dataset's, for
 *   a file) so that it shows the refusal, and otherwise with a 403 (500 for a sealed file whose
 *   tag does not check, as the gates answer).
 *
 * Keys: the Cache Storage cache `vitrine-keys`, entry `<scope>vitrine-keys` (an absolute URL),
 * a JSON body `{"v": 1, "keys": {"<label, 32 hex>": {"key": "<64 hex>", "expires": <unix or 0>}}}`
 * that unlock.js writes. Keys are imported once and kept in memory; a label not held (or held
 * expired) makes the worker read the entry again, so keys stored after it started apply.
 */
"use strict";

const DIR = new URL("./", self.location.href).pathname; // `<root>private/<slug>/`
const OUT = DIR.split("/").slice(-3).join("/"); // `private/<slug>/`: output paths, for the AD
const KEYS_CACHE = "vitrine-keys";
const KEYS_URL = new URL("vitrine-keys", self.location.href).href;
const MAGIC = [0x76, 0x74, 0x72, 0x01];
const HEADER = 32;
const TAG = 16;
const TYPES = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  svg: "image/svg+xml",
  dzi: "application/xml",
  xml: "application/xml",
  swc: "text/plain; charset=utf-8",
  nml: "application/xml",
  csv: "text/csv; charset=utf-8",
  txt: "text/plain; charset=utf-8",
};
const utf8 = new TextEncoder();

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(DIR)) return;
  if (req.method !== "GET" && req.method !== "HEAD") return;
  let rel;
  try {
    rel = decodeURIComponent(url.pathname.slice(DIR.length));
  } catch {
    return;
  }
  if (rel === "vitrine-sw.js" || rel === "vitrine-keys" || rel.startsWith("slots/")) return;
  const last = rel.slice(rel.lastIndexOf("/") + 1);
  const page = last === "" || last === "index.html";
  // A folder without its trailing slash: the host redirects it, nothing to decrypt.
  if (!page && !last.includes(".")) return;
  event.respondWith(answer(req, url, page ? rel.slice(0, rel.length - last.length) + "index.html" : rel, page));
});

/** The decrypted file for `req`; `path` is the file's path in the dataset's folder. */
async function answer(req, url, path, page) {
  const nav = req.mode === "navigate";
  const src = new URL(DIR + encodePath(path) + (page ? ".sealed" : ""), url);
  if (!page) src.search = url.search;
  const res = await fetch(src.href, {
    credentials: "same-origin",
    cache: req.cache === "only-if-cached" ? "default" : req.cache,
  });
  if (res.status !== 200) return copy(res);
  const sealed = new Uint8Array(await res.arrayBuffer());
  if (sealed.length < HEADER + TAG || MAGIC.some((b, i) => sealed[i] !== b)) return refuse(nav, page, path, 403);
  const key = await keyFor(hex(sealed.subarray(4, 20)));
  if (!key) return refuse(nav, page, path, 403);
  const name = utf8.encode(OUT + path);
  const ad = new Uint8Array(HEADER + name.length);
  ad.set(sealed.subarray(0, HEADER));
  ad.set(name, HEADER);
  let plain;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.subarray(20, HEADER), additionalData: ad },
      key,
      sealed.subarray(HEADER),
    );
  } catch {
    return refuse(nav, page, path, 500);
  }
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return new Response(req.method === "HEAD" ? null : plain, {
    status: 200,
    headers: {
      "Content-Type": TYPES[ext] || "application/octet-stream",
      "Content-Length": String(plain.byteLength),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    },
  });
}

/** A navigation gets the loader (the page's own, or the dataset's for a file); a file `status`. */
async function refuse(nav, page, path, status) {
  if (!nav) return new Response(null, { status, headers: { "Cache-Control": "no-store" } });
  const loader = await fetch(DIR + (page ? encodePath(path) : "index.html"), { credentials: "same-origin", cache: "no-cache" });
  return copy(loader, { "Cache-Control": "no-store" });
}

/** `res` as a fresh answer: a navigation may not be answered with a followed redirect. */
function copy(res, extra) {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(extra || {})) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

const encodePath = (path) => path.split("/").map(encodeURIComponent).join("/");
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/* ---------- keys ---------- */

const keys = new Map(); // label hex -> {hex, expires, key: Promise<CryptoKey>}
let reading = null;

const live = (k) => k && (!k.expires || Date.now() / 1000 < k.expires);

/** The AES key stored for `label`, or null when none is held or it has expired. */
async function keyFor(label) {
  if (!live(keys.get(label))) {
    reading = reading || readKeys().finally(() => (reading = null));
    await reading;
  }
  const k = keys.get(label);
  return live(k) ? k.key.catch(() => null) : null;
}

/** Reads the stored keys again, importing those not already held. */
async function readKeys() {
  let stored;
  try {
    const res = await (await caches.open(KEYS_CACHE)).match(KEYS_URL);
    stored = res ? (await res.json()).keys : null;
  } catch {
    stored = null;
  }
  for (const [label, entry] of Object.entries(stored || {})) {
    if (!entry || !/^[0-9a-f]{64}$/.test(entry.key) || typeof entry.expires !== "number") continue;
    const held = keys.get(label);
    if (held && held.hex === entry.key) {
      held.expires = entry.expires;
      continue;
    }
    const raw = new Uint8Array(entry.key.match(/../g).map((h) => parseInt(h, 16)));
    keys.set(label, {
      hex: entry.key,
      expires: entry.expires,
      key: crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]),
    });
  }
}
