/*
 * vitrine's loader for private pages on a host without a gate (`hosting: static`);
 * docs/share-links.md, "Links without a gate", is the specification.
 *
 * The loader page (gate.html with `gate.loader`) stands at every private page's address and
 * names nothing private. It shows the "missing" refusal and holds the others as
 * `<template data-reason="…" data-title="…">`; this script swaps one in when it applies.
 *
 * With a secret in the fragment (`#<22 base62>`, optionally followed by `&v=…` or `#v=…`, a
 * viewer position, which is kept): remove it from the address bar, derive the slot id and the
 * slot key W (HKDF-SHA256, empty salt), fetch `slots/<id>` (404 → "ended": revoked, expired at
 * the last build, or mistyped), decrypt it (failure → "invalid"), check `expires` ("expired")
 * and that an annotation's or layer's link is on its own page ("wrong-scope"), merge its keys into
 * Cache Storage (see vitrine-sw.js for the format), register the dataset's service worker, wait
 * until it controls the page, and reload: the worker answers with the page.
 * Without one: the "missing" page stays, unless keys for this dataset are stored (then make sure
 * the worker is registered, or say they expired). The table of answers is in the spec.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const ROOT = new URL("../", script.src).pathname; // the script is `<root>assets/unlock.js`
  const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const KEYS_CACHE = "vitrine-keys";
  const RELOADED = "vitrine-unlock"; // sessionStorage: when this page last reloaded to open
  const utf8 = new TextEncoder();

  const here = location.pathname;
  if (!here.startsWith(ROOT + "private/")) return;
  const slug = here.slice(ROOT.length + "private/".length).split("/")[0];
  if (!slug) return;
  const SCOPE = ROOT + "private/" + slug + "/";
  const OUT = "private/" + slug + "/";
  const KEYS_URL = new URL(SCOPE + "vitrine-keys", location.href).href;

  /** Replaces the refusal with the template for `reason`. */
  function show(reason) {
    const tpl = document.querySelector(`template[data-reason="${reason}"]`);
    const box = document.querySelector("[data-gate]");
    if (!tpl || !box) return;
    box.replaceChildren(tpl.content.cloneNode(true));
    const h1 = box.querySelector("h1");
    if (h1) h1.id = "gate-title"; // what the section is labelled by
    if (tpl.dataset.title) document.title = tpl.dataset.title;
  }

  const supported = () =>
    window.isSecureContext && "serviceWorker" in navigator && "caches" in window && window.crypto && crypto.subtle;

  /** 16 bytes from 22 base62 digits; null for a value of 2^128 or more. */
  function base62(text) {
    let n = 0n;
    for (const c of text) n = n * 62n + BigInt(BASE62.indexOf(c));
    if (n >> 128n) return null;
    const out = new Uint8Array(16);
    for (let i = 15; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
    return out;
  }

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const now = () => Date.now() / 1000;
  const live = (e) => e && (!e.expires || now() < e.expires);

  async function storedKeys() {
    const res = await (await caches.open(KEYS_CACHE)).match(KEYS_URL);
    const body = res ? await res.json().catch(() => null) : null;
    return (body && body.keys) || {};
  }

  /** Adds `keys` (label → key hex) expiring at `expires` to the stored ones; drops expired ones. */
  async function storeKeys(keys, expires) {
    const all = await storedKeys();
    for (const [label, key] of Object.entries(keys)) {
      const held = all[label];
      // The same label always has the same key; keep the later expiry (0 is never).
      if (held && held.key === key && (!held.expires || (expires && held.expires > expires))) continue;
      all[label] = { key, expires };
    }
    for (const label of Object.keys(all)) if (!live(all[label])) delete all[label];
    const body = JSON.stringify({ v: 1, keys: all });
    await (await caches.open(KEYS_CACHE)).put(
      KEYS_URL,
      new Response(body, { headers: { "Content-Type": "application/json" } }),
    );
  }

  /** Registers the dataset's worker, waits until it controls this page, and reloads. */
  async function openWithWorker() {
    const sw = navigator.serviceWorker;
    await sw.register(SCOPE + "vitrine-sw.js", { scope: SCOPE });
    await sw.ready;
    if (!sw.controller) {
      // An active worker claims the page; one that was already active (a page loaded past it
      // with a forced reload) does not, and the reload below is then controlled anyway.
      await new Promise((done) => {
        sw.addEventListener("controllerchange", done, { once: true });
        setTimeout(done, 2000);
      });
    }
    sessionStorage.setItem(RELOADED, JSON.stringify({ path: here, at: Date.now() }));
    location.reload();
  }

  /** Whether this page was reloaded to open moments ago, and still shows the loader. */
  function justReloaded() {
    let last;
    try {
      last = JSON.parse(sessionStorage.getItem(RELOADED) || "null");
    } catch {
      last = null;
    }
    sessionStorage.removeItem(RELOADED);
    return !!last && last.path === here && Date.now() - last.at < 30000;
  }

  async function unlock(secret) {
    const ikm = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits", "deriveKey"]);
    const hkdf = (info) => ({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8.encode(info) });
    const id = hex(new Uint8Array(await crypto.subtle.deriveBits(hkdf("vitrine/slot-id/v1"), ikm, 128)));
    const w = await crypto.subtle.deriveKey(hkdf("vitrine/slot-key/v1"), ikm, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
    let res;
    try {
      res = await fetch(SCOPE + "slots/" + id, { credentials: "same-origin", cache: "no-store" });
    } catch {
      return show("failed");
    }
    // Some hosts (S3 without list rights) answer 403 for a missing file.
    if (res.status === 404 || res.status === 403 || res.status === 410) return show("ended");
    if (!res.ok) return show("failed");
    const slot = new Uint8Array(await res.arrayBuffer());
    let claims;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: slot.subarray(0, 12), additionalData: utf8.encode(OUT + "slots/" + id) },
        w,
        slot.subarray(12),
      );
      claims = JSON.parse(new TextDecoder().decode(plain));
    } catch {
      return show("invalid");
    }
    const { v, scope, expires, keys } = claims || {};
    const valid =
      v === 1 && typeof scope === "string" && Number.isInteger(expires) && expires >= 0 && keys &&
      typeof keys === "object" &&
      Object.entries(keys).every(([l, k]) => /^[0-9a-f]{32}$/.test(l) && /^[0-9a-f]{64}$/.test(k));
    if (!valid) return show("invalid");
    if (expires && now() >= expires) return show("expired");
    // An annotation's or a layer's link opens its own pages only (its slot lies in the dataset's
    // folder, so it can be read from any page of the dataset).
    const item = scope.match(/^(annotation|layer):[^/]+\/(.+)$/);
    if (item && !here.startsWith(SCOPE + item[1] + "s/" + item[2] + "/")) return show("wrong-scope");
    await storeKeys(keys, expires);
    await openWithWorker();
  }

  /** No secret: the page already says "missing", unless this browser holds keys here. */
  async function withoutSecret() {
    const reloaded = justReloaded();
    if (!supported()) return;
    const stored = Object.values(await storedKeys());
    if (!stored.length) return;
    if (!stored.some(live)) return show("expired");
    // Keys that were just stored and still do not open the page: the share no longer opens it.
    if (reloaded) return show("ended");
    // Keys but no worker in charge (it was removed, or a forced reload went past it).
    if (!navigator.serviceWorker.controller) {
      show("opening");
      await openWithWorker();
    }
  }

  async function start() {
    // The fragment is the secret, possibly with a viewer position (`v=…`) joined by `&` or `#`.
    const parts = location.hash.replace(/^#/, "").split(/[&#]/).filter(Boolean);
    const view = parts.filter((p) => p.startsWith("v="));
    const rest = parts.filter((p) => !p.startsWith("v="));
    if (!rest.length) return withoutSecret();
    // The secret leaves the address bar (and the history entry) at once; a view stays.
    history.replaceState(history.state, "", location.pathname + location.search + (view.length ? "#" + view.join("&") : ""));
    const secret = rest.length === 1 && /^[0-9A-Za-z]{22}$/.test(rest[0]) && base62(rest[0]);
    if (!secret) return show("invalid");
    if (!supported()) return show("unsupported");
    sessionStorage.removeItem(RELOADED);
    show("opening");
    await unlock(secret);
  }

  start().catch(() => show("failed"));
  // A link opened on this very page changes only the fragment: the page is not loaded again.
  addEventListener("hashchange", () => start().catch(() => show("failed")));
})();
