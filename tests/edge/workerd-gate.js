// Runs the generated Cloudflare Pages worker in workerd, the runtime Cloudflare runs it in, with the
// built site as its assets, and sends every gate case as a raw HTTP/1.1 request over 127.0.0.1 (raw,
// so `..`, `//` and odd escapes reach workerd exactly as written). Then runs every Ed25519 vector
// and token vector through the worker's own verifier inside workerd. Then files sealed in JS
// (tests/edge/sealed-site.js) through the same worker with the Pages secret VITRINE_EDGE_KEY bound
// and without it, and every vector of tests/vectors/sealed-files.json through its decryption.
// Usage: deno run -A tests/edge/workerd-gate.js SITE_DIR [EDGE_KEY]   (SITE_DIR holds _worker.js;
// EDGE_KEY, 64 hex digits, is bound as VITRINE_EDGE_KEY for the site's own files)

import { cases, check, data, leaks, report, repo } from "./cases.js";
import { ed25519Vectors } from "./vectors.js";
import { tokenCases } from "./token-vectors.js";
import { startWorkerd } from "./workerd.js";
import { checkSealed, EDGE_KEY, keylessCases, makeSealedSite, sealedCases, vectors as sealedVectors } from "./sealed-site.js";

const [siteArg, siteKey] = Deno.args;
if (!siteArg) {
  console.error("usage: workerd-gate.js SITE_DIR [EDGE_KEY]");
  Deno.exit(2);
}
const siteDir = await Deno.realPath(siteArg);
const site = new URL(`file://${siteDir}/`);

const { source, raw, stop } = await startWorkerd(siteDir, { edgeKey: siteKey });

const results = [];
try {
  const bundled = JSON.parse(source.match(/^const D ?= ?(.*?), ?PAGES ?=/m)[1]);
  results.push(["bundled site data matches gate-cases.json", JSON.stringify({ ...bundled, serial: undefined }) === JSON.stringify({ ...data.site, serial: undefined }) ? [] : [`module data ${JSON.stringify(bundled)}`]]);

  results.push(["no byte of the signing key in the worker", leaks(source)]);
  // The worker is a public file: no edge key in it, neither the site's nor the test one.
  const keys = [siteKey, EDGE_KEY].filter(Boolean);
  results.push(["no edge key in the worker", keys.filter((k) => source.toLowerCase().includes(k.toLowerCase())).map((k) => `the worker contains ${k}`)]);

  for (const c of cases) {
    const headers = { Host: c.localhost ? "localhost" : "gate.test", "x-test-now": String(c.now) };
    if (c.cookies.length) headers.Cookie = c.cookies.join("; ");
    let problems;
    try {
      const res = await raw(c.method, c.path + (c.query ? "?" + c.query : ""), headers);
      problems = await check(c, res, site, { indexRedirect: 308, edgeKey: siteKey });
    } catch (e) {
      problems = [`threw ${e?.stack ?? e}`];
    }
    results.push([`case: ${c.name}`, problems]);
  }

  // The worker sees every request, so it must refuse to hand out its own source.
  for (const path of ["/_worker.js", "/_WORKER.JS", "/%5fworker.js", "/static/../_worker.js"]) {
    const res = await raw("GET", path, { Host: "gate.test" });
    results.push([`worker source is not served: ${path}`, res.status === 404 && !res.body.includes("async function gate(") ? [] : [`status ${res.status}`]]);
  }

  const vectors = await ed25519Vectors();
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const answers = JSON.parse((await raw("POST", "/__test/ed25519", { Host: "localhost", "Content-Type": "application/json" }, JSON.stringify(vectors.map((v) => ({ pk: hex(v.pk), msg: hex(v.msg), sig: hex(v.sig) }))))).body);
  const mismatches = vectors.filter((v, i) => answers[i] !== v.strict).map((v) => `${v.id}: verify_strict says ${v.strict}`);
  results.push([`ed25519: ${vectors.length} shared vectors agree with verify_strict in workerd`, answers.length === vectors.length ? mismatches : [`${answers.length} answers`]]);

  const tokens = tokenCases(JSON.parse(await Deno.readTextFile(new URL("tests/vectors/share-tokens.json", repo))));
  const got = JSON.parse((await raw("POST", "/__test/tokens", { Host: "localhost", "Content-Type": "application/json" }, JSON.stringify(tokens.map((t) => ({ ...t, keys: [...t.keys], revoked: [...t.revoked] }))))).body);
  tokens.forEach((t, i) => {
    const g = got[i];
    const problems = (g.error ?? "valid") === t.expect ? [] : [`got ${g.error ?? "valid"}, want ${t.expect}`];
    if (t.claims && !g.error && (g.scope !== t.claims.scope || g.expires !== (t.claims.expires ?? 0))) problems.push(`claims ${JSON.stringify(g)}`);
    results.push([`token vector in workerd: ${t.name}`, problems]);
  });

  // Every vector of tests/vectors/sealed-files.json through the worker's own decryption.
  const asked = sealedVectors.vectors.flatMap((v) => ["GET", "HEAD"].map((method) => ({
    v, method, url: "https://gate.test/" + v.path.split("/").map(encodeURIComponent).join("/").replace(/\/index\.html$/, "/"),
  })));
  const opened = JSON.parse((await raw("POST", "/__test/unseal", { Host: "localhost", "Content-Type": "application/json" }, JSON.stringify(asked.map((a) => ({ url: a.url, method: a.method, sealed: a.v.sealed, key: sealedVectors.edge_key }))))).body);
  asked.forEach(({ v, method }, i) => {
    const got = opened[i], want = { open: [200, v.plaintext_hex], fail: [500, null], "not-sealed": [200, v.sealed] }[v.expected];
    const problems = [];
    if (got.status !== want[0]) problems.push(`status ${got.status}, want ${want[0]}`);
    if (method === "GET" && want[1] !== null && got.body !== want[1]) problems.push(`body ${got.body.slice(0, 40)}…`);
    if (method === "HEAD" && got.body) problems.push("HEAD has a body");
    results.push([`sealed-files vector in workerd: ${v.name} ${method}`, problems]);
  });
} finally {
  await stop();
}

// Files sealed in JS, through the worker with the Pages secret bound, then without it: there every
// sealed file is a 500 that names the fix and nothing of the file.
const sealedDir = await makeSealedSite();
const FIX = "set the Pages secret VITRINE_EDGE_KEY: vitrine secret --edge | npx wrangler pages secret put VITRINE_EDGE_KEY";
for (const [edgeKey, list, what] of [[EDGE_KEY, sealedCases, "sealed in workerd"], [undefined, keylessCases, "sealed in workerd, no VITRINE_EDGE_KEY"]]) {
  const w = await startWorkerd(sealedDir, { edgeKey, worker: source });
  try {
    for (const c of list) {
      let problems;
      try {
        const res = await fetch(`http://127.0.0.1:${w.port}${c.path}`, { method: c.method ?? "GET", redirect: "manual", headers: { "x-test-now": String(data.now), ...(c.cookie ? { Cookie: c.cookie } : {}), ...c.headers } });
        problems = checkSealed(c, { status: res.status, header: (n) => res.headers.get(n), bytes: new Uint8Array(await res.arrayBuffer()) }, FIX);
      } catch (e) {
        problems = [`threw ${e?.stack ?? e}`];
      }
      results.push([`${what}: ${c.name}`, problems]);
    }
  } finally {
    await w.stop();
  }
}
await Deno.remove(sealedDir, { recursive: true });
report(results);
