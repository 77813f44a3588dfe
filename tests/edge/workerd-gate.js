// Runs the generated Cloudflare Pages worker in workerd, the runtime Cloudflare runs it in, with the
// built site as its assets, and sends every gate case as a raw HTTP/1.1 request over 127.0.0.1 (raw,
// so `..`, `//` and odd escapes reach workerd exactly as written). Then runs every Ed25519 vector
// and token vector through the worker's own verifier inside workerd.
// Usage: deno run -A tests/edge/workerd-gate.js SITE_DIR   (SITE_DIR holds _worker.js)

import { cases, check, data, report, repo } from "./cases.js";
import { ed25519Vectors } from "./vectors.js";
import { tokenCases } from "./token-vectors.js";

const siteArg = Deno.args[0];
if (!siteArg) {
  console.error("usage: workerd-gate.js SITE_DIR");
  Deno.exit(2);
}
const siteDir = await Deno.realPath(siteArg);
const site = new URL(`file://${siteDir}/`);
const workerd = Deno.env.get("WORKERD") ?? new URL("node_modules/@cloudflare/workerd-linux-64/bin/workerd", repo).pathname;

const dir = await Deno.makeTempDir({ prefix: "vitrine-workerd-" });
const source = await Deno.readTextFile(`${siteDir}/_worker.js`);
// The worker as built, plus one export line so the test entry can reach its verifier.
await Deno.writeTextFile(`${dir}/_worker.js`, source + "\nexport const __test = { verify, ed25519 };\n");

// Test entry: sets the clock a case asks for, answers the vector requests, else runs the worker.
await Deno.writeTextFile(`${dir}/main.js`, `
import worker, { __test } from "./_worker.js";
const bytes = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
export default {
  async fetch(request, env) {
    const now = request.headers.get("x-test-now");
    if (now) Date.now = () => Number(now) * 1000;
    const path = new URL(request.url).pathname;
    if (path === "/__test/ed25519") {
      const out = [];
      for (const v of await request.json()) out.push(await __test.ed25519(bytes(v.pk), bytes(v.msg), bytes(v.sig)));
      return Response.json(out);
    }
    if (path === "/__test/tokens") {
      const out = [];
      for (const t of await request.json()) out.push(await __test.verify(t.token, t.scopes, t.now, new Map(t.keys), new Set(t.revoked)));
      return Response.json(out);
    }
    return worker.fetch(request, env);
  },
};
`);

// Cloudflare Pages' asset server as far as the gate can tell: folders serve index.html, missing
// files the site's 404.html with status 404, and content types (workerd's disk service sends none).
await Deno.writeTextFile(`${dir}/assets.js`, `
const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript", css: "text/css", json: "application/json", svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", webp: "image/webp", dzi: "application/xml", xml: "application/xml" };
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const file = url.pathname.endsWith("/") ? url.pathname + "index.html" : url.pathname;
    const res = await env.DISK.fetch("http://disk" + file, { method: request.method === "HEAD" ? "HEAD" : "GET" });
    if (res.status === 200 && !res.headers.get("content-type")?.includes("json")) {
      return new Response(res.body, { headers: { "content-type": TYPES[file.split(".").pop()] ?? "application/octet-stream" } });
    }
    const missing = await env.DISK.fetch("http://disk/404.html");
    return new Response(missing.ok ? missing.body : "not found", { status: 404, headers: { "content-type": "text/html; charset=utf-8" } });
  },
};
`);

const port = (() => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = l.addr.port;
  l.close();
  return p;
})();

await Deno.writeTextFile(`${dir}/config.capnp`, `
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .gate),
    (name = "assets", worker = .assets),
    (name = "site", disk = (path = ${JSON.stringify(siteDir)}, writable = false)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const gate :Workerd.Worker = (
  modules = [ (name = "main.js", esModule = embed "main.js"), (name = "_worker.js", esModule = embed "_worker.js") ],
  compatibilityDate = "2025-09-01",
  bindings = [ (name = "ASSETS", service = "assets") ],
);
const assets :Workerd.Worker = (
  modules = [ (name = "assets.js", esModule = embed "assets.js") ],
  compatibilityDate = "2025-09-01",
  bindings = [ (name = "DISK", service = "site") ],
);
`);

const child = new Deno.Command(workerd, { args: ["serve", `${dir}/config.capnp`], stdout: "inherit", stderr: "inherit" }).spawn();
const stop = async () => {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  await child.status;
  await Deno.remove(dir, { recursive: true });
};

/// One raw HTTP/1.1 exchange; returns {status, header(name), headers, body}.
async function raw(method, target, headers, body = "") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${new TextEncoder().encode(body).length}`, "Connection: close", "", body];
  await conn.write(new TextEncoder().encode(lines.join("\r\n")));
  const chunks = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  const text = new TextDecoder().decode(all);
  const split = text.indexOf("\r\n\r\n");
  const [statusLine, ...headerLines] = text.slice(0, split).split("\r\n");
  const hs = headerLines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]);
  let rest = text.slice(split + 4);
  if (hs.some(([k, v]) => k === "transfer-encoding" && v.includes("chunked"))) {
    let out = "";
    for (;;) {
      const nl = rest.indexOf("\r\n");
      const size = parseInt(rest.slice(0, nl), 16);
      if (!size) break;
      const bytes = new TextEncoder().encode(rest.slice(nl + 2));
      out += new TextDecoder().decode(bytes.slice(0, size));
      rest = new TextDecoder().decode(bytes.slice(size + 2));
    }
    rest = out;
  }
  const header = (name) => {
    const found = hs.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);
    return found.length ? found.join(", ") : null;
  };
  return { status: Number(statusLine.split(" ")[1]), header, body: method === "HEAD" ? "" : rest };
}

const results = [];
try {
  for (let i = 0; ; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (i > 200) throw new Error("workerd did not start listening within 20 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const bundled = JSON.parse(source.match(/^const D = (.*), PAGES = /m)[1]);
  results.push(["bundled site data matches gate-cases.json", JSON.stringify({ ...bundled, serial: undefined }) === JSON.stringify({ ...data.site, serial: undefined }) ? [] : [`module data ${JSON.stringify(bundled)}`]]);

  for (const c of cases) {
    const headers = { Host: c.localhost ? "localhost" : "gate.test", "x-test-now": String(c.now) };
    if (c.cookies.length) headers.Cookie = c.cookies.join("; ");
    let problems;
    try {
      const res = await raw(c.method, c.path + (c.query ? "?" + c.query : ""), headers);
      problems = await check(c, res, site);
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
