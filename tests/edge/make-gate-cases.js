// Writes tests/vectors/gate-cases.json: the gate's expected answers as data, read by the Rust gate
// tests (tests/suite/gate.rs) and the Deno and workerd tests alike; and the gate fixture's ledger,
// tests/sites/gate/content/shares.yaml, with its signed revocation list.
// Run: node_modules/.bin/deno run --allow-write=tests/vectors,tests/sites/gate tests/edge/make-gate-cases.js
// With `NOW DIR` (tests/emulators/run): "now" is NOW instead of the fixed T0 below, and both files
// go to DIR (gate-cases.json, shares.yaml), for gates that run on the real clock.
// Tokens are signed here with fixed test seeds (Ed25519 is deterministic, so the file is stable);
// they are test keys only and the seeds are public on purpose.

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const te = new TextEncoder();
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const sha512 = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-512", b));

function base62(bytes) {
  let n = BigInt("0x" + hex(bytes));
  let s = "";
  for (let i = 0; i < 125; i++, n /= 62n) s = B62[Number(n % 62n)] + s;
  return s;
}

async function keyFromSeed(label) {
  const seed = (await sha512(te.encode(label))).slice(0, 32);
  const pkcs8 = new Uint8Array([...hexBytes("302e020100300506032b657004220420"), ...seed]);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const pk = Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  return { key, pk, seed, kid: hex((await sha512(pk)).slice(0, 4)) };
}

function hexBytes(h) {
  return Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16));
}

const [nowArg, outDir] = Deno.args;
const T0 = nowArg ? Number(nowArg) : 1764075600; // 2025-11-25T13:00:00Z, the fixed "now" of most cases
const target = (file, fixed) => (outDir ? `${outDir}/${file}` : new URL(fixed, import.meta.url));
const K1 = await keyFromSeed("vitrine gate test key 1");
const K2 = await keyFromSeed("vitrine gate test key 2 (not listed in site.yaml)");

async function token(k, share, scope, issued, expires, { version = 1, flipSig = false } = {}) {
  const b = new Uint8Array(93);
  const v = new DataView(b.buffer);
  b[0] = version;
  b.set(hexBytes(k.kid), 1);
  b.set(hexBytes(share), 5);
  b.set((await sha512(te.encode(scope))).slice(0, 8), 13);
  v.setUint32(21, issued);
  v.setUint32(25, expires);
  const msg = new Uint8Array([...te.encode("vitrine/share/v1\0"), ...b.slice(0, 29)]);
  b.set(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, k.key, msg)), 29);
  if (flipSig) b[92] ^= 1;
  return base62(b);
}

const tokens = {
  cortex: await token(K1, "c0c0c0c0c0c0c001", "dataset:cortex", T0 - 86400, 0),
  cortex_1h: await token(K1, "c0c0c0c0c0c0c002", "dataset:cortex", T0 - 60, T0 + 3600),
  cortex_100d: await token(K1, "c0c0c0c0c0c0c003", "dataset:cortex", T0 - 60, T0 + 100 * 86400),
  cortex_expired: await token(K1, "c0c0c0c0c0c0c004", "dataset:cortex", T0 - 86400, T0 - 10),
  cortex_ends_now: await token(K1, "c0c0c0c0c0c0c005", "dataset:cortex", T0 - 86400, T0),
  cortex_ends_in_1s: await token(K1, "c0c0c0c0c0c0c006", "dataset:cortex", T0 - 86400, T0 + 1),
  cortex_revoked: await token(K1, "c0c0c0c0c0c0c0ff", "dataset:cortex", T0 - 86400, 0),
  cortex_future_120s: await token(K1, "c0c0c0c0c0c0c007", "dataset:cortex", T0 + 120, 0),
  cortex_future_60s: await token(K1, "c0c0c0c0c0c0c008", "dataset:cortex", T0 + 60, 0),
  cortex_unknown_key: await token(K2, "c0c0c0c0c0c0c009", "dataset:cortex", T0 - 60, 0),
  cortex_bad_sig: await token(K1, "c0c0c0c0c0c0c001", "dataset:cortex", T0 - 86400, 0, { flipSig: true }),
  cortex_version_2: await token(K1, "c0c0c0c0c0c0c00a", "dataset:cortex", T0 - 60, 0, { version: 2 }),
  hippo: await token(K1, "1111111111111111", "dataset:hippo", T0 - 86400, 0),
  trace1: await token(K1, "a1a1a1a1a1a1a101", "annotation:cortex/trace-1", T0 - 86400, T0 + 7200),
  trace2: await token(K1, "a1a1a1a1a1a1a102", "annotation:cortex/trace-2", T0 - 86400, 0),
  retina: await token(K1, "beefbeefbeefbeef", "dataset:retina", T0 - 86400, 0),
  retina_draft: await token(K1, "beefbeefbeef0001", "annotation:retina/draft", T0 - 86400, 0),
  cortex_cells: await token(K1, "c1c1c1c1c1c1c101", "layer:cortex/cells", T0 - 86400, T0 + 7200),
  // A layer the fixture does not declare: a sibling's link, signed by the site's key.
  cortex_nuclei: await token(K1, "c1c1c1c1c1c1c102", "layer:cortex/nuclei", T0 - 86400, 0),
  retina_draft_cells: await token(K1, "beefbeefbeef0002", "layer:retina/draft-cells", T0 - 86400, 0),
};
// A cookie forged from another share: hippo's signed bytes with cortex's scope digest pasted in.
{
  const b = hexBytes(BigInt(decodeBig(tokens.hippo)).toString(16).padStart(186, "0"));
  b.set((await sha512(te.encode("dataset:cortex"))).slice(0, 8), 13);
  tokens.forged_from_hippo = base62(b);
}
tokens.too_short = tokens.cortex.slice(1);
tokens.too_long = tokens.cortex + "0";
tokens.bad_char = tokens.cortex.slice(0, 60) + "-" + tokens.cortex.slice(61);
tokens.too_large = "z".repeat(125);
// Long, but within the query (4 KiB) and Cookie (8 KiB) limits, so the verifier must refuse it.
tokens.huge = "A".repeat(4000);

function decodeBig(t) {
  let n = 0n;
  for (const c of t) n = n * 62n + BigInt(B62.indexOf(c));
  return n;
}

const CORTEX = "/private/cortex/";
const PRIV = { cache_control: "private, no-store", x_robots_tag: "noindex", referrer_policy: "no-referrer" };
const cookie = (name, tok, maxAge, secure = true) => ({ name, value: `{${tok}}`, path: CORTEX, max_age: maxAge, http_only: true, secure, same_site: "Lax" });
const ok = { answer: "serve" };
const refuse = (status, reason) => ({ answer: "refuse", status, reason });
const redirect = (status, location, set_cookie) => ({ answer: "redirect", status, location, ...(set_cookie ? { set_cookie } : {}) });

const LIMITS = { path: 2048, query: 4096, cookie: 8192 };
const canonical = (path) => redirect(301, path), lookalike = refuse(400, "invalid"), gated = refuse(401, "missing");
// Case, percent-encoded letters and slashes, doubled slashes, dot segments (resolved by the URL
// parser before any gate sees them), trailing dots and spaces, missing or extra trailing
// slashes, and Unicode look-alikes (dotless and dotted i, fullwidth, Cyrillic, zero-width).
const SPELLINGS = [
  ["/PRIVATE/cortex/index.html", canonical("/private/cortex/index.html")],
  ["/Private/cortex/", canonical(CORTEX)],
  ["/pRiVaTe/cortex/index.html", canonical("/private/cortex/index.html")],
  ["/private/CORTEX/", canonical(CORTEX)],
  ["/PRIVATE/CORTEX/INDEX.HTML", canonical("/private/cortex/index.html")],
  ["/%70rivate/cortex/index.html", canonical("/private/cortex/index.html")],
  ["/privat%65/cortex/", canonical(CORTEX)],
  ["/%70%72%69%76%61%74%65/cortex/", canonical(CORTEX)],
  ["/%50RIVATE/cortex/", canonical(CORTEX)],
  ["/pr%49vate/cortex/index.html", canonical("/private/cortex/index.html")],
  ["/private/%63ortex/index.html", canonical("/private/cortex/index.html")],
  ["/private/cortex/%69ndex.html", canonical("/private/cortex/index.html")],
  ["/private%2fcortex/index.html", canonical("/private/cortex/index.html")],
  ["/private%2Fcortex%2Findex.html", canonical("/private/cortex/index.html")],
  ["/PRIVATE%2FCORTEX%2F", canonical(CORTEX)],
  ["/%2fprivate/cortex/", canonical(CORTEX)],
  ["/private%5ccortex%5cindex.html", canonical("/private/cortex/index.html")],
  ["/private\\cortex\\index.html", gated],
  ["//private/cortex/index.html", canonical("/private/cortex/index.html")],
  ["///private/cortex/", canonical(CORTEX)],
  ["/private//cortex/index.html", canonical("/private/cortex/index.html")],
  ["/private/cortex//index.html", canonical("/private/cortex/index.html")],
  ["/./private/cortex/", gated],
  ["/private/./cortex/index.html", gated],
  ["/%2e/private/cortex/", gated],
  ["/datasets/../private/cortex/index.html", gated],
  ["/datasets/%2e%2e/private/cortex/", gated],
  ["/static/.%2e/private/cortex/index.html", gated],
  ["/private/hippo/../cortex/", gated],
  ["/x/..%2fprivate/cortex/", canonical(CORTEX)],
  ["/private./cortex/index.html", lookalike],
  ["/private../cortex/", lookalike],
  ["/private%2e/cortex/", lookalike],
  ["/PRIVATE%2E%2E/cortex/", lookalike],
  ["/private%20/cortex/", lookalike],
  ["/private", canonical("/private/")],
  ["/PRIVATE", canonical("/private/")],
  ["/private/cortex", canonical(CORTEX)],
  ["/private/cortex/index.html/", canonical("/private/cortex/index.html")],
  ["/pr%C4%B0vate/cortex/", lookalike],
  ["/pr%C4%B1vate/cortex/", lookalike],
  ["/PR%C4%B0VATE/cortex/index.html", lookalike],
  ["/%EF%BD%90rivate/cortex/", lookalike],
  ["/%EF%BD%90%EF%BD%92%EF%BD%89%EF%BD%96%EF%BD%81%EF%BD%94%EF%BD%85/cortex/", lookalike],
  ["/pr%C3%ADvate/cortex/", lookalike],
  ["/priv%C9%91te/cortex/", lookalike],
  ["/p%D1%80ivate/cortex/", lookalike],
  ["/privat%D0%B5/cortex/", lookalike],
  ["/private%E2%80%8B/cortex/", lookalike],
  ["/%E1%B4%98rivate/cortex/", lookalike],
];
const C = (name, req, expect) => ({ name, method: "GET", path: CORTEX, query: "", cookies: [], now: T0, localhost: false, ...req, expect });

const cases = [
  // The contract's table.
  C("valid token in ?s= gives 302 and a month-long cookie", { query: "s={cortex}" }, redirect(302, CORTEX, cookie("vitrine_d", "cortex", 2592000))),
  C("302 keeps the other query parameters, drops s", { path: CORTEX + "index.html", query: "z=1&s={cortex}&view=2" }, redirect(302, CORTEX + "index.html?z=1&view=2", cookie("vitrine_d", "cortex", 2592000))),
  C("cookie lifetime is the share's remaining lifetime", { query: "s={cortex_1h}" }, redirect(302, CORTEX, cookie("vitrine_d", "cortex_1h", 3600))),
  C("cookie lifetime is capped at 30 days", { query: "s={cortex_100d}" }, redirect(302, CORTEX, cookie("vitrine_d", "cortex_100d", 2592000))),
  C("cookie lifetime is at least 1 second", { query: "s={cortex_ends_in_1s}" }, redirect(302, CORTEX, cookie("vitrine_d", "cortex_ends_in_1s", 1))),
  C("plain-http localhost cookie has no Secure", { query: "s={cortex}", localhost: true }, redirect(302, CORTEX, cookie("vitrine_d", "cortex", 2592000, false))),
  C("valid cookie serves the file", { cookies: ["vitrine_d={cortex}"] }, ok),
  C("valid cookie serves a file below the dataset", { path: CORTEX + "index.html", cookies: ["vitrine_d={cortex}"] }, ok),
  C("nothing is 401 missing", {}, refuse(401, "missing")),
  C("nothing on a media file is 401 missing", { path: CORTEX + "media/0123456789abcdef/thumb-480.jpg" }, refuse(401, "missing")),
  C("bad signature is 403 invalid", { query: "s={cortex_bad_sig}" }, refuse(403, "invalid")),
  C("unknown key is 403 unknown-key", { query: "s={cortex_unknown_key}" }, refuse(403, "unknown-key")),
  C("truncated token is 403 invalid", { query: "s={too_short}" }, refuse(403, "invalid")),
  C("token with trailing garbage is 403 invalid", { query: "s={too_long}" }, refuse(403, "invalid")),
  C("token with a hyphen is 403 invalid", { query: "s={bad_char}" }, refuse(403, "invalid")),
  C("token of 2^744 or more is 403 invalid", { query: "s={too_large}" }, refuse(403, "invalid")),
  C("token of version 2 is 403 invalid", { query: "s={cortex_version_2}" }, refuse(403, "invalid")),
  C("empty s is 403 invalid", { query: "s=" }, refuse(403, "invalid")),
  C("two s parameters are 403 invalid", { query: "s={cortex}&s={cortex}" }, refuse(403, "invalid")),
  C("another dataset's token is 403 wrong-scope", { query: "s={hippo}" }, refuse(403, "wrong-scope")),
  C("expired token is 410 expired", { query: "s={cortex_expired}" }, refuse(410, "expired")),
  C("a token expiring now is expired (no leeway)", { query: "s={cortex_ends_now}" }, refuse(410, "expired")),
  C("revoked token is 410 revoked", { query: "s={cortex_revoked}" }, refuse(410, "revoked")),
  C("revoked cookie is 410 revoked", { cookies: ["vitrine_d={cortex_revoked}"] }, refuse(410, "revoked")),
  C("expired cookie is 410 expired", { cookies: ["vitrine_d={cortex_expired}"] }, refuse(410, "expired")),
  C("token issued 120 s ahead is 403 not-yet-valid", { query: "s={cortex_future_120s}" }, refuse(403, "not-yet-valid")),
  C("token issued 60 s ahead is within the leeway", { query: "s={cortex_future_60s}" }, redirect(302, CORTEX, cookie("vitrine_d", "cortex_future_60s", 2592000))),
  C("a bad token in ?s= wins over a good cookie", { query: "s={cortex_expired}", cookies: ["vitrine_d={cortex}"] }, refuse(410, "expired")),
  // Annotations open their annotation and the dataset's media, nothing else.
  C("annotation token opens its annotation", { path: CORTEX + "annotations/trace-1/", query: "s={trace1}" }, redirect(302, CORTEX + "annotations/trace-1/", cookie("vitrine_a_trace-1", "trace1", 7200))),
  C("dataset token opens an annotation of it", { path: CORTEX + "annotations/trace-1/", query: "s={cortex}" }, redirect(302, CORTEX + "annotations/trace-1/", cookie("vitrine_d", "cortex", 2592000))),
  C("annotation cookie serves its annotation", { path: CORTEX + "annotations/trace-1/", cookies: ["vitrine_a_trace-1={trace1}"] }, ok),
  C("annotation cookie serves the dataset's media", { path: CORTEX + "media/0123456789abcdef/tiles.dzi", cookies: ["vitrine_a_trace-1={trace1}"] }, ok),
  C("annotation cookie does not open the dataset page", { cookies: ["vitrine_a_trace-1={trace1}"] }, refuse(401, "missing")),
  C("annotation cookie does not open another annotation", { path: CORTEX + "annotations/trace-2/", cookies: ["vitrine_a_trace-1={trace1}"] }, refuse(401, "missing")),
  C("annotation token does not open the dataset page", { query: "s={trace1}" }, refuse(403, "wrong-scope")),
  C("annotation token does not open another annotation", { path: CORTEX + "annotations/trace-2/", query: "s={trace1}" }, refuse(403, "wrong-scope")),
  C("annotation token in ?s= on media is wrong-scope", { path: CORTEX + "media/0123456789abcdef/tiles.dzi", query: "s={trace1}" }, refuse(403, "wrong-scope")),
  C("annotation cookie renamed to another annotation is wrong-scope", { path: CORTEX + "annotations/trace-2/", cookies: ["vitrine_a_trace-2={trace1}"] }, refuse(403, "wrong-scope")),
  C("annotation token as a dataset cookie is wrong-scope", { cookies: ["vitrine_d={trace1}"] }, refuse(403, "wrong-scope")),
  // Layers, like annotations, open their layer and the dataset's media, nothing else.
  C("layer token opens its layer", { path: CORTEX + "layers/cells/", query: "s={cortex_cells}" }, redirect(302, CORTEX + "layers/cells/", cookie("vitrine_l_cells", "cortex_cells", 7200))),
  C("dataset token opens a layer of its private dataset", { path: CORTEX + "layers/cells/", query: "s={cortex}" }, redirect(302, CORTEX + "layers/cells/", cookie("vitrine_d", "cortex", 2592000))),
  C("layer cookie serves its layer", { path: CORTEX + "layers/cells/", cookies: ["vitrine_l_cells={cortex_cells}"] }, ok),
  C("layer cookie serves its label tiles", { path: CORTEX + "layers/cells/tiles/0123456789abcdef/7/0_0.bin", cookies: ["vitrine_l_cells={cortex_cells}"] }, ok),
  C("layer cookie serves the dataset's media", { path: CORTEX + "media/0123456789abcdef/tiles.dzi", cookies: ["vitrine_l_cells={cortex_cells}"] }, ok),
  C("layer cookie does not open the dataset page", { cookies: ["vitrine_l_cells={cortex_cells}"] }, refuse(401, "missing")),
  C("layer cookie does not open another layer", { path: CORTEX + "layers/nuclei/", cookies: ["vitrine_l_cells={cortex_cells}"] }, refuse(401, "missing")),
  C("layer cookie does not open an annotation", { path: CORTEX + "annotations/trace-1/", cookies: ["vitrine_l_cells={cortex_cells}"] }, refuse(401, "missing")),
  C("annotation cookie does not open a layer", { path: CORTEX + "layers/cells/", cookies: ["vitrine_a_trace-1={trace1}"] }, refuse(401, "missing")),
  C("layer token does not open the dataset page", { query: "s={cortex_cells}" }, refuse(403, "wrong-scope")),
  C("layer token does not open another layer", { path: CORTEX + "layers/cells/", query: "s={cortex_nuclei}" }, refuse(403, "wrong-scope")),
  C("layer token does not open an annotation", { path: CORTEX + "annotations/trace-1/", query: "s={cortex_cells}" }, refuse(403, "wrong-scope")),
  C("annotation token does not open a layer", { path: CORTEX + "layers/cells/", query: "s={trace1}" }, refuse(403, "wrong-scope")),
  C("layer token in ?s= on media is wrong-scope", { path: CORTEX + "media/0123456789abcdef/tiles.dzi", query: "s={cortex_cells}" }, refuse(403, "wrong-scope")),
  C("layer cookie renamed to another layer is wrong-scope", { path: CORTEX + "layers/nuclei/", cookies: ["vitrine_l_nuclei={cortex_cells}"] }, refuse(403, "wrong-scope")),
  C("layer cookie renamed to an annotation of its id is wrong-scope", { path: CORTEX + "annotations/cells/", cookies: ["vitrine_a_cells={cortex_cells}"] }, refuse(403, "wrong-scope")),
  C("layer token as a dataset cookie is wrong-scope", { cookies: ["vitrine_d={cortex_cells}"] }, refuse(403, "wrong-scope")),
  C("a layer cookie for one dataset never opens another's layer", { path: "/private/hippo/layers/cells/", cookies: ["vitrine_l_cells={cortex_cells}"] }, refuse(403, "wrong-scope")),
  // Cookies never cross datasets, and forged cookies never verify.
  C("a cookie for one dataset never opens another", { cookies: ["vitrine_d={hippo}"] }, refuse(403, "wrong-scope")),
  C("a cookie forged from another share is invalid", { cookies: ["vitrine_d={forged_from_hippo}"] }, refuse(403, "invalid")),
  C("the first failing cookie decides the refusal", { cookies: ["vitrine_d={hippo}", "vitrine_d={cortex_expired}"] }, refuse(403, "wrong-scope")),
  C("a good cookie after bad ones serves", { cookies: ["vitrine_d={hippo}", "other=1", "vitrine_d={cortex}"] }, ok),
  C("unrelated cookies are ignored", { cookies: ["theme=dark", "vitrine_x={cortex}", "vitrine_a_={cortex}"] }, refuse(401, "missing")),
  C("at most 16 candidate cookies are examined", { cookies: [...Array(16).fill("vitrine_d={hippo}"), "vitrine_d={cortex}"] }, refuse(403, "wrong-scope")),
  C("the 16th candidate cookie still counts", { cookies: [...Array(15).fill("vitrine_d={hippo}"), "vitrine_d={cortex}"] }, ok),
  C("many cookies in one header", { cookies: [Array.from({ length: 150 }, (_, i) => `c${i}=${"x".repeat(40)}`).join("; ")] }, refuse(401, "missing")),
  C("a very long token is 403 invalid", { query: "s={huge}" }, refuse(403, "invalid")),
  C("a very long cookie is 403 invalid", { cookies: ["vitrine_d={huge}"] }, refuse(403, "invalid")),
  // Methods: the gate does not care which; a credential is required for all.
  C("HEAD without credentials is 401", { method: "HEAD" }, refuse(401, "missing")),
  C("OPTIONS without credentials is 401", { method: "OPTIONS" }, refuse(401, "missing")),
  C("POST without credentials is 401", { method: "POST" }, refuse(401, "missing")),
  C("HEAD with a cookie serves", { method: "HEAD", cookies: ["vitrine_d={cortex}"] }, ok),
  // Published datasets: old links keep working.
  C("old link of a published dataset is 301 to its public page", { path: "/private/retina/", query: "s={retina}" }, redirect(301, "/datasets/retina/")),
  C("old link keeps other query parameters", { path: "/private/retina/index.html", query: "s={retina}&x=1" }, redirect(301, "/datasets/retina/index.html?x=1")),
  C("invalid old link of a published dataset is 301 too", { path: "/private/retina/media/0123456789abcdef/tiles.dzi", query: "s={too_short}" }, redirect(301, "/datasets/retina/media/0123456789abcdef/tiles.dzi")),
  C("a published dataset's public annotation is 301", { path: "/private/retina/annotations/overview/" }, redirect(301, "/datasets/retina/annotations/overview/")),
  C("a published dataset's still-private annotation stays gated", { path: "/private/retina/annotations/draft/" }, refuse(401, "missing")),
  C("a published dataset's missing annotation answers as a private one", { path: "/private/retina/annotations/no-such-id/" }, refuse(401, "missing")),
  C("a published dataset's missing annotation file answers as a private one", { path: "/private/retina/annotations/no-such-id/trace.swc" }, refuse(401, "missing")),
  C("a published dataset's annotation folder itself is 301", { path: "/private/retina/annotations/" }, redirect(301, "/datasets/retina/annotations/")),
  C("a published dataset's still-private annotation opens with its token", { path: "/private/retina/annotations/draft/", query: "s={retina_draft}" }, redirect(302, "/private/retina/annotations/draft/", { ...cookie("vitrine_a_draft", "retina_draft", 2592000), path: "/private/retina/" })),
  C("a published dataset's public layer is 301", { path: "/private/retina/layers/cells/" }, redirect(301, "/datasets/retina/layers/cells/")),
  C("a published dataset's layers folder itself is 301", { path: "/private/retina/layers/" }, redirect(301, "/datasets/retina/layers/")),
  C("a published dataset's private layer stays gated", { path: "/private/retina/layers/draft-cells/" }, refuse(401, "missing")),
  C("a published dataset's missing layer answers as a private one", { path: "/private/retina/layers/no-such-id/" }, refuse(401, "missing")),
  C("a public annotation's id under layers/ stays gated", { path: "/private/retina/layers/overview/" }, refuse(401, "missing")),
  C("a public layer's id under annotations/ stays gated", { path: "/private/retina/annotations/cells/" }, refuse(401, "missing")),
  C("a published dataset's private layer opens with its token", { path: "/private/retina/layers/draft-cells/", query: "s={retina_draft_cells}" }, redirect(302, "/private/retina/layers/draft-cells/", { ...cookie("vitrine_l_draft-cells", "retina_draft_cells", 2592000), path: "/private/retina/" })),
  C("a published dataset's private layer cookie serves its label tiles", { path: "/private/retina/layers/draft-cells/tiles/0123456789abcdef/7/0_0.bin", cookies: ["vitrine_l_draft-cells={retina_draft_cells}"] }, ok),
  C("a published dataset's private layer does not open with the dataset's old token", { path: "/private/retina/layers/draft-cells/", query: "s={retina}" }, refuse(403, "wrong-scope")),
  C("a published dataset's private layer does not open with the dataset's old cookie", { path: "/private/retina/layers/draft-cells/", cookies: ["vitrine_d={retina}"] }, refuse(401, "missing")),
  C("a published dataset's private layer does not open with its private annotation's token", { path: "/private/retina/layers/draft-cells/", query: "s={retina_draft}" }, refuse(403, "wrong-scope")),
  C("a published dataset's private layer's token does not open its private annotation", { path: "/private/retina/annotations/draft/", query: "s={retina_draft_cells}" }, refuse(403, "wrong-scope")),
  C("non-canonical old link is made canonical first", { path: "/private/Retina/" }, redirect(301, "/private/retina/")),
  // Paths that try to trick the gate.
  C("missing trailing slash is 301", { path: "/private/cortex", query: "s={cortex}" }, redirect(301, "/private/cortex/?s={cortex}")),
  C("mixed case is 301 to lowercase", { path: "/Private/CORTEX/", cookies: ["vitrine_d={cortex}"] }, redirect(301, CORTEX)),
  C("mixed-case private prefix without credentials is 301, never the file", { path: "/PRIVATE/cortex/index.html" }, redirect(301, "/private/cortex/index.html")),
  C("double slash is 301", { path: "/private//cortex/" }, redirect(301, CORTEX)),
  C("leading double slash is 301", { path: "//private/cortex/" }, redirect(301, CORTEX)),
  C("encoded slash is 301", { path: "/private%2fcortex/" }, redirect(301, CORTEX)),
  C("encoded backslash is 301", { path: "/private%5ccortex%5c" }, redirect(301, CORTEX)),
  C("encoded letters are 301", { path: "/%70rivate/cortex/" }, redirect(301, CORTEX)),
  C("encoded dot-dot out of a public folder into private is gated", { path: "/datasets/%2e%2e/private/cortex/" }, refuse(401, "missing")),
  C("dot-dot out of a public folder into private is gated", { path: "/datasets/open-data/../../private/cortex/index.html" }, refuse(401, "missing")),
  C("encoded dot-dot with an encoded slash is 301", { path: "/datasets%2f%2e%2e%2fprivate/cortex/" }, redirect(301, CORTEX)),
  C("encoded dot-dot from one private dataset into another is gated there", { path: "/private/hippo/%2e%2e/cortex/", cookies: ["vitrine_d={hippo}"] }, refuse(403, "wrong-scope")),
  C("dot-dot from one private dataset into another is gated there", { path: "/private/hippo/../cortex/", cookies: ["vitrine_d={hippo}"] }, refuse(403, "wrong-scope")),
  C("mixed-case encoded dot-dot is resolved", { path: "/private/hippo/.%2E/cortex/", cookies: ["vitrine_d={cortex}"] }, ok),
  C("encoded single dot is resolved", { path: "/private/%2e/cortex/" }, refuse(401, "missing")),
  C("dot segment then encoded slash is 301", { path: "/private/./cortex%2f" }, redirect(301, CORTEX)),
  C("dot-dot above the root stays at the root", { path: "/private/%2e%2e/%2e%2e/%2e%2e/private/cortex/" }, refuse(401, "missing")),
  C("encoded dot-dot hidden behind an encoded slash is 301", { path: "/private/hippo%2f%2e%2e%2fcortex/" }, redirect(301, CORTEX)),
  C("a file path with a trailing slash is 301 without it", { path: CORTEX + "index.html/" }, redirect(301, CORTEX + "index.html")),
  C("index.html suffix is gated like the folder", { path: CORTEX + "index.html" }, refuse(401, "missing")),
  C("index.html suffix with a cookie serves", { path: CORTEX + "index.html", cookies: ["vitrine_d={cortex}"] }, ok),
  C("a bare /private is 301 to /private/", { path: "/private" }, redirect(301, "/private/")),
  C("/private/ itself is gated", { path: "/private/" }, refuse(401, "missing")),
  C("/private/ with a dataset cookie is wrong-scope", { path: "/private/", cookies: ["vitrine_d={cortex}"] }, refuse(403, "wrong-scope")),
  C("an invalid percent escape is 400", { path: "/private/cortex/%zz/" }, refuse(400, "invalid")),
  C("a truncated percent escape is 400", { path: "/private/cortex/%2" }, refuse(400, "invalid")),
  C("an encoded NUL is 400", { path: "/private/cortex%00/" }, refuse(400, "invalid")),
  C("encoded invalid UTF-8 is 400", { path: "/private/cortex/%ff/" }, refuse(400, "invalid")),
  C("an invalid escape on a public path is 400 too", { path: "/datasets/%zz/" }, refuse(400, "invalid")),
  C("a public page is not gated", { path: "/datasets/open-data/" }, { answer: "pass" }),
  C("the gallery is not gated", { path: "/" }, { answer: "pass" }),
  C("a path merely starting with private is not gated", { path: "/privateer/" }, { answer: "pass" }),
  // Sizes: an oversized path, query or Cookie header is refused unread (limits in site.limits).
  C("a path of 2,048 bytes is read", { path: CORTEX + "a".repeat(LIMITS.path - CORTEX.length - 1) + "/" }, refuse(401, "missing")),
  C("a path of 2,049 bytes is 414", { path: CORTEX + "a".repeat(LIMITS.path - CORTEX.length) + "/" }, refuse(414, "invalid")),
  C("a 16 KB path is 414", { path: CORTEX + "a".repeat(16000) + "/" }, refuse(414, "invalid")),
  C("a 16 KB public path is 414 too", { path: "/datasets/" + "a".repeat(16000) + "/" }, refuse(414, "invalid")),
  C("a query of 4,096 bytes is read", { query: "x=" + "a".repeat(LIMITS.query - 2) }, refuse(401, "missing")),
  C("a query of 4,097 bytes is 414", { query: "x=" + "a".repeat(LIMITS.query - 1) }, refuse(414, "invalid")),
  C("an oversized query with a valid token is 414", { query: "s={cortex}&x=" + "a".repeat(LIMITS.query) }, refuse(414, "invalid")),
  C("an oversized query is 414 before the canonical redirect", { path: "/PRIVATE/cortex/", query: "x=" + "a".repeat(LIMITS.query) }, refuse(414, "invalid")),
  C("an oversized query on a public path passes", { path: "/datasets/open-data/", query: "x=" + "a".repeat(LIMITS.query * 2) }, { answer: "pass" }),
  C("a Cookie header of 8,192 bytes is read", { cookies: ["vitrine_d={cortex}", "theme=" + "x".repeat(LIMITS.cookie - 143)] }, ok),
  C("a Cookie header of 8,193 bytes is 431", { cookies: ["vitrine_d={cortex}", "theme=" + "x".repeat(LIMITS.cookie - 142)] }, refuse(431, "invalid")),
  C("an oversized Cookie header with a valid token in ?s= is 431", { query: "s={cortex}", cookies: ["theme=" + "x".repeat(LIMITS.cookie)] }, refuse(431, "invalid")),
  C("an oversized Cookie header on a public path passes", { path: "/datasets/open-data/", cookies: ["theme=" + "x".repeat(LIMITS.cookie * 2)] }, { answer: "pass" }),
  // Every spelling a host might map onto a private file (tests/edge/netlify-route.mjs also checks
  // that Netlify routes each to the gate): a redirect to the canonical path or a refusal.
  ...SPELLINGS.map(([path, expect]) => C(`spelling ${path}`, { path, spelling: true }, expect)),
];

const out = {
  description: "The gate's answers as data (docs/share-links.md, 'Gates'). A path is the request target as sent; every gate first parses it as a WHATWG URL does (dot segments, also %2e ones, resolved; \\ read as /), exactly as the edge runtimes hand it over. Generated by tests/edge/make-gate-cases.js with fixed test seeds; read by tests/suite/gate.rs and tests/edge/*. Placeholders {name} in query, cookies and expect stand for tokens[name]. answer: pass (not gated), serve (the file behind a valid credential), redirect, refuse. Cases marked spelling: true are the spellings of a private path that tests/edge/netlify-route.mjs also routes with Netlify's route compiler. Every gated answer also carries the headers in gated_headers. signing_seed_for_leak_tests is the site key's secret half (a public test key): the tests check that no edge module contains it.",
  now: T0,
  site: {
    keys: { [K1.kid]: hex(K1.pk) },
    revoked: ["c0c0c0c0c0c0c0ff"],
    serial: 1,
    published: { "open-data": [], retina: ["annotations/overview", "layers/cells"] },
    limits: LIMITS,
  },
  unlisted_key: { [K2.kid]: hex(K2.pk) },
  signing_seed_for_leak_tests: hex(K1.seed),
  gated_headers: PRIV,
  tokens,
  cases,
};
await Deno.writeTextFile(target("gate-cases.json", "../vectors/gate-cases.json"), JSON.stringify(out, null, 1) + "\n");

// The fixture site's ledger, so `vitrine build` of tests/sites/gate bundles the same revocation
// list the cases assume: the shares issued above with the site's key, and the list signed by it.
const iso = (t) => new Date(t * 1000).toISOString().replace(".000Z", "Z");
const revokedAt = T0 - 3600;
// Context (22 characters and a NUL: 23 bytes), kid, serial, issued, id count, SHA-512 of the ids.
const listContext = te.encode("vitrine/revocations/v1\0");
const listMsg = new Uint8Array(listContext.length + 4 + 8 + 8 + 4 + 64);
{
  const v = new DataView(listMsg.buffer);
  const at = listContext.length;
  listMsg.set(listContext);
  listMsg.set(hexBytes(K1.kid), at);
  v.setBigUint64(at + 4, 1n);
  v.setBigUint64(at + 12, BigInt(revokedAt));
  v.setUint32(at + 20, out.site.revoked.length);
  listMsg.set(await sha512(hexBytes(out.site.revoked.join(""))), at + 24);
}
const listSig = hex(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, K1.key, listMsg)));
const issued = [
  ["c0c0c0c0c0c0c001", "cortex", null, T0 - 86400, 0],
  ["c0c0c0c0c0c0c002", "cortex", null, T0 - 60, T0 + 3600],
  ["c0c0c0c0c0c0c0ff", "cortex", null, T0 - 86400, 0],
  ["1111111111111111", "hippo", null, T0 - 86400, 0],
  ["a1a1a1a1a1a1a101", "cortex", "trace-1", T0 - 86400, T0 + 7200],
  ["a1a1a1a1a1a1a102", "cortex", "trace-2", T0 - 86400, 0],
  ["beefbeefbeefbeef", "retina", null, T0 - 86400, 0],
  ["beefbeefbeef0001", "retina", "draft", T0 - 86400, 0],
  ["c1c1c1c1c1c1c101", "cortex", null, T0 - 86400, T0 + 7200, "cells"],
  ["beefbeefbeef0002", "retina", null, T0 - 86400, 0, "draft-cells"],
];
let ledger = "# The share ledger of this site, written by `vitrine share` and `vitrine revoke`.\n" +
  "# It holds no secret (no token, no key): commit it. Only labels may be edited by hand.\n" +
  "# (Fixture: generated by tests/edge/make-gate-cases.js with the gate test key.)\n" +
  `version: 1\nrevocations:\n  serial: 1\n  issued: ${iso(revokedAt)}\n  kid: "${K1.kid}"\n` +
  `  revoked: [${out.site.revoked.map((id) => `"${id}"`).join(", ")}]\n  signature: "${listSig}"\nshares:\n`;
for (const [id, dataset, annotation, at, expires, layer] of issued) {
  ledger += `  - id: "${id}"\n    label: "gate test"\n    kid: "${K1.kid}"\n    dataset: "${dataset}"\n`;
  if (annotation) ledger += `    annotation: "${annotation}"\n`;
  if (layer) ledger += `    layer: "${layer}"\n`;
  ledger += `    issued: ${iso(at)}\n    expires: ${expires ? iso(expires) : "never"}\n`;
  if (out.site.revoked.includes(id)) ledger += `    revoked: ${iso(revokedAt)}\n`;
}
await Deno.writeTextFile(target("shares.yaml", "../sites/gate/content/shares.yaml"), ledger);
console.log(`wrote ${cases.length} cases, ${Object.keys(tokens).length} tokens`);
