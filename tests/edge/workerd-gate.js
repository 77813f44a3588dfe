// Runs the generated Cloudflare Pages worker in workerd, the runtime Cloudflare runs it in, with the
// built site as its assets, and sends every gate case as a raw HTTP/1.1 request over 127.0.0.1 (raw,
// so `..`, `//` and odd escapes reach workerd exactly as written). Then runs every Ed25519 vector
// and token vector through the worker's own verifier inside workerd.
// Usage: deno run -A tests/edge/workerd-gate.js SITE_DIR   (SITE_DIR holds _worker.js)

import { cases, check, data, leaks, report, repo } from "./cases.js";
import { ed25519Vectors } from "./vectors.js";
import { tokenCases } from "./token-vectors.js";
import { startWorkerd } from "./workerd.js";

const siteArg = Deno.args[0];
if (!siteArg) {
  console.error("usage: workerd-gate.js SITE_DIR");
  Deno.exit(2);
}
const siteDir = await Deno.realPath(siteArg);
const site = new URL(`file://${siteDir}/`);

const { source, raw, stop } = await startWorkerd(siteDir);

const results = [];
try {
  const bundled = JSON.parse(source.match(/^const D ?= ?(.*?), ?PAGES ?=/m)[1]);
  results.push(["bundled site data matches gate-cases.json", JSON.stringify({ ...bundled, serial: undefined }) === JSON.stringify({ ...data.site, serial: undefined }) ? [] : [`module data ${JSON.stringify(bundled)}`]]);

  results.push(["no byte of the signing key in the worker", leaks(source)]);

  for (const c of cases) {
    const headers = { Host: c.localhost ? "localhost" : "gate.test", "x-test-now": String(c.now) };
    if (c.cookies.length) headers.Cookie = c.cookies.join("; ");
    let problems;
    try {
      const res = await raw(c.method, c.path + (c.query ? "?" + c.query : ""), headers);
      problems = await check(c, res, site, { indexRedirect: 308 });
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
} finally {
  await stop();
}
report(results);
