// Runs the generated Netlify edge function in Deno, the runtime Netlify runs it in: every gate
// case as a real Request with a context.next() that serves the built site, then every Ed25519
// vector and token vector through the module's own verifier.
// Usage: deno run --allow-read --allow-write --allow-env tests/edge/deno-gate.js SITE_DIR NETLIFY_MODULE

import { cases, check, data, exists, leaks, report, repo } from "./cases.js";
import { ed25519Vectors } from "./vectors.js";

const [siteArg, moduleArg] = Deno.args;
if (!siteArg || !moduleArg) {
  console.error("usage: deno-gate.js SITE_DIR NETLIFY_MODULE");
  Deno.exit(2);
}
const site = new URL(`file://${await Deno.realPath(siteArg)}/`);
const source = await Deno.readTextFile(moduleArg);

// The module as built, plus one export line so the test can reach its verifier directly.
const copy = await Deno.makeTempFile({ suffix: ".js" });
await Deno.writeTextFile(copy, source + "\nexport const __test = { verify, ed25519, segments };\n");
const mod = await import(`file://${copy}`);
await Deno.remove(copy);

const TYPES = { html: "text/html; charset=utf-8", json: "application/json", js: "text/javascript", css: "text/css", svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", webp: "image/webp", xml: "application/xml" };

// Netlify's static file server, as far as the gate can tell: folders serve index.html, else 404.
async function serveFile(request) {
  const path = new URL(request.url).pathname;
  if (!(await exists(site, path))) return new Response("not found", { status: 404 });
  const rel = decodeURIComponent(path).replace(/^\//, "");
  const file = rel === "" || rel.endsWith("/") ? rel + "index.html" : rel;
  const body = request.method === "HEAD" ? null : await Deno.readFile(new URL(file, site));
  return new Response(body, { headers: { "content-type": TYPES[file.split(".").pop()] ?? "application/octet-stream", "cache-control": "public, max-age=60" } });
}

const results = [];
const realNow = Date.now;

// The module carries the site's data; it must be the data the cases were written for.
const bundled = JSON.parse(source.match(/^const D ?= ?(.*?), ?PAGES ?=/m)[1]);
results.push(["bundled site data matches gate-cases.json", JSON.stringify({ ...bundled, serial: undefined }) === JSON.stringify({ ...data.site, serial: undefined }) ? [] : [`module data ${JSON.stringify(bundled)}\n  cases data ${JSON.stringify(data.site)}`]]);
results.push(["config.path is /* (every path)", JSON.stringify(mod.config) === JSON.stringify({ path: "/*" }) ? [] : [`config = ${JSON.stringify(mod.config)}`]]);
results.push(["no byte of the signing key in the module", leaks(source)]);

for (const c of cases) {
  const origin = c.localhost ? "http://localhost" : "https://gate.test";
  const headers = new Headers();
  if (c.cookies.length) headers.set("Cookie", c.cookies.join("; "));
  const request = new Request(origin + c.path + (c.query ? "?" + c.query : ""), { method: c.method, headers });
  let problems;
  try {
    Date.now = () => c.now * 1000;
    const res = await mod.default(request, { next: () => serveFile(request) });
    const body = c.method === "HEAD" ? "" : await res.text();
    problems = await check(c, { status: res.status, header: (n) => res.headers.get(n), body }, site);
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

report(results);
