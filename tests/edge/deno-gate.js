// Runs the generated Netlify edge function in Deno, the runtime Netlify runs it in: every gate
// case as a real Request with a context.next() that serves the built site, then every Ed25519
// vector and token vector through the module's own verifier.
// Then files sealed in JS (tests/edge/sealed-site.js) through the module with the test edge key
// and with none, and every vector of tests/vectors/sealed-files.json through its decryption.
// Usage: deno run --allow-read --allow-write --allow-env tests/edge/deno-gate.js SITE_DIR NETLIFY_MODULE

import { cases, check, data, exists, leaks, report, repo } from "./cases.js";
import { ed25519Vectors } from "./vectors.js";
import { checkSealed, EDGE_KEY, keylessCases, makeSealedSite, sealedCases, vectors as sealedVectors } from "./sealed-site.js";
import { hex, isSealed, open as openSealed, seal, unhex } from "./seal.mjs";

const [siteArg, moduleArg] = Deno.args;
if (!siteArg || !moduleArg) {
  console.error("usage: deno-gate.js SITE_DIR NETLIFY_MODULE");
  Deno.exit(2);
}
const site = new URL(`file://${await Deno.realPath(siteArg)}/`);
const source = await Deno.readTextFile(moduleArg);

// The module as built (or with another edge key), plus one export line so the test can reach its
// verifier and decryption directly.
const KEY_LINE = /^const EDGE_KEY ?= ?(null|"[0-9a-f]{64}");$/m;
async function load(text) {
  const copy = await Deno.makeTempFile({ suffix: ".js" });
  await Deno.writeTextFile(copy, text + "\nexport const __test = { verify, ed25519, segments, unseal, EDGE_KEY };\n");
  const m = await import(`file://${copy}`);
  await Deno.remove(copy);
  return m;
}
const mod = await load(source);
const withKey = (key) => load(source.replace(KEY_LINE, `const EDGE_KEY = ${JSON.stringify(key)};`));

const TYPES = { html: "text/html; charset=utf-8", json: "application/json", js: "text/javascript", css: "text/css", svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", webp: "image/webp", xml: "application/xml" };

// Netlify's static file server, as far as the gate can tell: folders serve index.html, else 404;
// an ETag and a length; a Range is answered 206 with the slice, a matching If-None-Match 304.
async function serveFile(request, from = site) {
  const path = new URL(request.url).pathname;
  if (!(await exists(from, path))) return new Response("not found", { status: 404 });
  const rel = decodeURIComponent(path).replace(/^\//, "");
  const file = rel === "" || rel.endsWith("/") ? rel + "index.html" : rel;
  const bytes = await Deno.readFile(new URL(file, from));
  const etag = `"${hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes), 0, 8))}"`;
  const headers = { "content-type": TYPES[file.split(".").pop()] ?? "application/octet-stream", "cache-control": "public, max-age=60", etag };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  const range = request.headers.get("range")?.match(/^bytes=(\d+)-(\d+)$/);
  const body = range ? bytes.slice(Number(range[1]), Number(range[2]) + 1) : bytes;
  return new Response(request.method === "HEAD" ? null : body, { status: range ? 206 : 200, headers: { ...headers, "content-length": String(body.length) } });
}

const results = [];
const realNow = Date.now;

// The module carries the site's data; it must be the data the cases were written for.
const bundled = JSON.parse(source.match(/^const D ?= ?(.*?), ?PAGES ?=/m)[1]);
results.push(["bundled site data matches gate-cases.json", JSON.stringify({ ...bundled, serial: undefined }) === JSON.stringify({ ...data.site, serial: undefined }) ? [] : [`module data ${JSON.stringify(bundled)}\n  cases data ${JSON.stringify(data.site)}`]]);
results.push(["config.path is /* (every path)", JSON.stringify(mod.config) === JSON.stringify({ path: "/*" }) ? [] : [`config = ${JSON.stringify(mod.config)}`]]);
results.push(["no byte of the signing key in the module", leaks(source)]);
results.push(["the module has its edge key line", KEY_LINE.test(source) ? [] : ["no `const EDGE_KEY = …;` line"]]);
const siteKey = JSON.parse(source.match(KEY_LINE)?.[1] ?? "null");

// Encryption at rest on the built site: every file under private/ is sealed, opens at its own path
// with the edge key the build wrote into the module, and holds none of the fixture's private words.
{
  const problems = [], words = ["Confidential cortex volume", "Confidential hippocampus volume", "two private tracings", "First tracing", "Draft tracing"];
  let count = 0;
  const walk = async (dir, rel) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`, `${rel}/${e.name}`);
      else {
        count++;
        const bytes = await Deno.readFile(`${dir}/${e.name}`), path = `${rel}/${e.name}`;
        const text = new TextDecoder("latin1").decode(bytes);
        for (const w of words) if (text.includes(w)) problems.push(`${path} on disk contains "${w}"`);
        if (!isSealed(bytes)) problems.push(`${path} is not sealed`);
        else if (!siteKey || !(await openSealed(unhex(siteKey), path, bytes))) problems.push(`${path} does not open with the module's edge key`);
      }
    }
  };
  await walk(new URL("private", site).pathname, "private");
  if (count < 10) problems.push(`only ${count} files under private/`);
  results.push([`every private file of the build is sealed for its path under the module's key (${count} files)`, problems]);
}

for (const c of cases) {
  const origin = c.localhost ? "http://localhost" : "https://gate.test";
  const headers = new Headers();
  if (c.cookies.length) headers.set("Cookie", c.cookies.join("; "));
  const request = new Request(origin + c.path + (c.query ? "?" + c.query : ""), { method: c.method, headers });
  let problems;
  try {
    Date.now = () => c.now * 1000;
    const res = await mod.default(request, { next: (r = request) => serveFile(r) });
    const body = c.method === "HEAD" ? "" : await res.text();
    problems = await check(c, { status: res.status, header: (n) => res.headers.get(n), body }, site, { edgeKey: siteKey });
  } catch (e) {
    problems = [`threw ${e?.stack ?? e}`];
  } finally {
    Date.now = realNow;
  }
  results.push([`case: ${c.name}`, problems]);
}

// The module runs on every path, and passes most of them without normalising them: no path it
// passes may normalise to one under /private/. 20,000 random paths built from the pieces of
// private spellings (seeded, so a failure repeats), each through the whole module.
{
  let seed = 15;
  const random = (n) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
  const pieces = ["/", "//", "\\", ".", "..", "%2e", "%2E", "%2f", "%5c", "private", "PRIVATE", "Private", "priv", "ate", "p", "%70", "%50", "r", "%72", "i", "%69", "%49", "vate", "%65", "x", "datasets", "%C4%B0", "%", "%zz", " ", "cortex", "index.html"];
  const wrong = [];
  for (let i = 0; i < 20000 && wrong.length < 5; i++) {
    let path = "/";
    for (let n = 1 + random(8); n > 0; n--) path += pieces[random(pieces.length)];
    const request = new Request("https://gate.test" + path);
    let passed = false;
    const res = await mod.default(request, { next: () => { passed = true; return new Response("file"); } });
    const segs = mod.__test.segments(new URL(request.url).pathname);
    if (passed && res.status == 200 && (!segs || segs[0] == "private")) wrong.push(`${path} passed, but normalises to ${JSON.stringify(segs)}`);
  }
  results.push(["no path the module passes normalises into /private/ (20,000 random paths)", wrong]);
}

// Ed25519: the module's verifier must give ed25519-dalek's verify_strict answer on every vector.
const mismatches = [];
const vectors = await ed25519Vectors();
for (const v of vectors) {
  const got = await mod.__test.ed25519(v.pk, v.msg, v.sig);
  if (got !== v.strict) mismatches.push(`${v.id}: got ${got}, verify_strict says ${v.strict}`);
}
results.push([`ed25519: ${vectors.length} shared vectors agree with verify_strict`, mismatches]);

// The project's token vectors, through the module's token verifier.
const tokenFile = new URL("tests/vectors/share-tokens.json", repo);
const tokenVectors = JSON.parse(await Deno.readTextFile(tokenFile));
const { tokenCases } = await import("./token-vectors.js");
for (const t of tokenCases(tokenVectors)) {
  const got = await mod.__test.verify(t.token, t.scopes, t.now, t.keys, t.revoked);
  const problems = (got.error ?? "valid") === t.expect ? [] : [`got ${got.error ?? "valid"}, want ${t.expect}`];
  if (t.claims && !got.error && (got.scope !== t.claims.scope || got.expires !== (t.claims.expires ?? 0))) {
    problems.push(`claims ${JSON.stringify(got)}, want scope ${t.claims.scope} expires ${t.claims.expires}`);
  }
  results.push([`token vector: ${t.name}`, problems]);
}

// Files sealed in JS per docs/share-links.md, through the module with the vectors' edge key, then
// through the module with no key (`null`, as for a site built without private items).
{
  const dir = await makeSealedSite();
  const sealedSite = new URL(`file://${dir}/`);
  const send = async (m, c) => {
    const request = new Request("https://gate.test" + c.path, { method: c.method ?? "GET", headers: { ...(c.cookie ? { Cookie: c.cookie } : {}), ...c.headers } });
    Date.now = () => data.now * 1000;
    try {
      const res = await m.default(request, { next: (r = request) => serveFile(r, sealedSite) });
      return { status: res.status, header: (n) => res.headers.get(n), bytes: new Uint8Array(await res.arrayBuffer()) };
    } finally {
      Date.now = realNow;
    }
  };
  const keyed = await withKey(EDGE_KEY), keyless = await withKey(null);
  for (const [m, list, what] of [[keyed, sealedCases, "sealed"], [keyless, keylessCases, "sealed, no key"]]) {
    for (const c of list) {
      let problems;
      try {
        problems = checkSealed(c, await send(m, c), "run `vitrine build` again and deploy");
      } catch (e) {
        problems = [`threw ${e?.stack ?? e}`];
      }
      results.push([`${what}: ${c.name}`, problems]);
    }
  }
  // A conditional request the host answers 304 passes as it is (Netlify's context.next() strips
  // conditional headers by default, so there this only happens when a host sends one anyway).
  const tile = sealedCases.find((c) => c.name === "a tile, decrypted");
  const first = await serveFile(new Request("https://gate.test" + tile.path), sealedSite);
  const res304 = await send(keyed, { ...tile, headers: { "If-None-Match": first.headers.get("etag") } });
  results.push(["sealed: a 304 from the host passes", res304.status === 304 && res304.bytes.length === 0 && res304.header("cache-control") === data.gated_headers.cache_control ? [] : [`status ${res304.status}, ${res304.bytes.length} bytes`]]);
  await Deno.remove(dir, { recursive: true });
}

// Every vector of tests/vectors/sealed-files.json through the module's own decryption, a folder's
// page asked for as the folder; and the sealer of tests/edge/seal.mjs writes the same bytes.
for (const v of sealedVectors.vectors) {
  const problems = [];
  const url = "https://gate.test/" + v.path.split("/").map(encodeURIComponent).join("/").replace(/\/index\.html$/, "/");
  const sealed = unhex(v.sealed);
  for (const method of ["GET", "HEAD"]) {
    const res = await mod.__test.unseal(new Request(url, { method }), new Response(sealed, { headers: { "content-type": "application/octet-stream", etag: '"x"' } }), sealedVectors.edge_key, "fix");
    const body = new Uint8Array(await res.arrayBuffer());
    const want = { open: [200, v.plaintext_hex], fail: [500, null], "not-sealed": [200, v.sealed] }[v.expected];
    if (res.status !== want[0]) problems.push(`${method}: status ${res.status}, want ${want[0]}`);
    if (method === "GET" && want[1] !== null && hex(body) !== want[1]) problems.push(`${method}: body ${hex(body).slice(0, 40)}…`);
    if (method === "HEAD" && body.length) problems.push("HEAD has a body");
  }
  if (v.expected === "open") {
    const again = await seal(unhex(sealedVectors.edge_key), v.path, unhex(v.plaintext_hex), { label: unhex(v.label), nonce: unhex(v.nonce) });
    if (hex(again) !== v.sealed) problems.push("tests/edge/seal.mjs seals it to other bytes");
  }
  results.push([`sealed-files vector: ${v.name}`, problems]);
}

report(results);
