// Walks every case of the gate table (tests/vectors/gate-cases.json, made again for the real
// clock) over HTTP through a local emulator of the host: `netlify serve --offline` or
// `wrangler pages dev`, already running on 127.0.0.1:PORT with the built gate fixture.
// `netlify-dev` is `netlify dev --offline` in front of `vitrine serve`.
// `bypass` is a host without the gate (`wrangler pages dev` on the same output less _worker.js):
// every private file must come out as the ciphertext on disk.
// Usage: deno run -A tests/emulators/walk.js netlify|netlify-dev|cloudflare|bypass PORT SITE_DIR WORK_DIR [NETLIFY_MODULE]
// WORK_DIR holds gate-cases.json made by tests/edge/make-gate-cases.js NOW WORK_DIR. The site's
// private files are sealed under the edge key in the environment variable VITRINE_EDGE_KEY.

import { check, data, exists, fillCases, report } from "../edge/cases.js";
import { rawHttp } from "../edge/workerd.js";
import { hex, isSealed, open, unhex } from "../edge/seal.mjs";

const [emulator, portArg, siteArg, work, moduleArg] = Deno.args;
if (!["netlify", "netlify-dev", "cloudflare", "bypass"].includes(emulator) || !portArg || !siteArg || !work || emulator.startsWith("netlify") !== Boolean(moduleArg)) {
  console.error("usage: walk.js netlify|netlify-dev|cloudflare|bypass PORT SITE_DIR WORK_DIR [NETLIFY_MODULE]");
  Deno.exit(2);
}
const edgeKey = Deno.env.get("VITRINE_EDGE_KEY");
if (!/^[0-9a-f]{64}$/.test(edgeKey ?? "")) {
  console.error("walk.js: VITRINE_EDGE_KEY must be the site's edge key (vitrine secret --edge)");
  Deno.exit(2);
}
// The words only the private items' plaintexts hold (tests/sites/gate).
const MARKERS = ["Confidential cortex volume", "Confidential hippocampus volume", "two private tracings", "First tracing", "Draft tracing"];
const port = Number(portArg);
const site = new URL(`file://${await Deno.realPath(siteArg)}/`);
const deno = Deno.execPath();
const maker = new URL("../edge/make-gate-cases.js", import.meta.url).pathname;

// What each host's file server does that a gate passes through: Pages redirects an existing
// `…/index.html` to `…/` with 308; both hosts send the types in TYPES below (under
// `netlify dev` the files come from vitrine serve, whose types are its own).
const HOST = { netlify: { types: true }, "netlify-dev": {}, cloudflare: { indexRedirect: 308, types: true } };

// Where netlify-cli's proxy changes a request before the function sees it, the expected answer
// is the gate's answer to the request as changed, asked of the module itself (the table checks
// the module in tests/edge/deno-gate.js):
// - it collapses repeated slashes (`//private/x/` reaches the function as `/private/x/`), so the
//   gate answers for the canonical path where the table expects its 301;
// - it retries a 403 or 404 with other spellings of the path "to mimic the CDN" (netlify-cli's
//   utils/proxy.js, alternativePathsFor) and answers with the first that is neither.
const gate = moduleArg && (await import(`file://${await Deno.realPath(moduleArg)}`)).default;
const ASSET = /\.(html?|png|jpg|js|css|svg|gif|ico|woff|woff2)$/;
function alternatives(path) {
  if (path.endsWith("/")) {
    const stem = path.slice(0, -1);
    return [...(path === "/" ? [] : [`${stem}.html`, `${stem}.htm`]), `${path}index.html`, `${path}index.htm`];
  }
  return ASSET.test(path) ? [] : [`${path}.html`, `${path}.htm`, `${path}/index.html`, `${path}/index.htm`];
}
async function tableStatus(c) {
  const want = c.expect;
  if (want.answer === "refuse" || want.answer === "redirect") return want.status;
  return (await exists(site, c.path)) ? 200 : 404;
}
async function ask(c, headers, path) {
  const res = await gate(new Request(`http://${headers.Host}${path}${c.query ? "?" + c.query : ""}`, { method: c.method, headers }), {
    next: async () => new Response(null, { status: (await exists(site, path)) ? 200 : 404 }),
  });
  return { path, status: res.status, reason: res.headers.get("x-vitrine-reason") };
}
async function netlifyExpect(c, headers) {
  if (!gate) return null;
  const seen = c.path.replace(/\/{2,}/g, "/");
  let answer = seen !== c.path ? await ask(c, headers, seen) : null;
  if (![403, 404].includes(answer ? answer.status : await tableStatus(c))) return answer;
  for (const path of alternatives(new URL(seen, "http://x").pathname)) {
    answer = await ask(c, headers, path);
    if (![403, 404].includes(answer.status)) break;
  }
  return answer;
}

const load = async (dir) => fillCases(JSON.parse(await Deno.readTextFile(`${dir}/gate-cases.json`)));
const base = new Map((await load(work)).map((c) => [c.name, c]));

// A case whose cookie lifetime is counted from "now" is made again for the next whole second and
// sent as that second begins, so the emulator's clock and the expected Max-Age agree exactly.
async function timed(name) {
  const next = Math.floor(Date.now() / 1000) + 1;
  const dir = `${work}/timed`;
  await Deno.mkdir(dir, { recursive: true });
  const made = await new Deno.Command(deno, { args: ["run", `--allow-write=${dir}`, maker, String(next), dir], stdout: "null" }).output();
  if (!made.success) throw new Error("make-gate-cases.js failed");
  const c = (await load(dir)).find((x) => x.name === name);
  await new Promise((r) => setTimeout(r, Math.max(0, next * 1000 - Date.now() + 20)));
  return c;
}

// netlify-cli dies (URIError in its utils/rules-proxy.js) on a path that does not percent-decode
// when no edge function answers it first, as under `netlify dev`: those cases are not sent there.
const decodes = (path) => {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
};

const results = [];
const skipped = [];
for (let c of emulator === "bypass" ? [] : base.values()) {
  if (emulator === "netlify-dev" && !decodes(c.path)) {
    skipped.push(c.name);
    continue;
  }
  try {
    const maxAge = c.expect.set_cookie?.max_age;
    if (maxAge !== undefined && maxAge < 2592000) c = await timed(c.name);
    // The emulators serve plain http on 127.0.0.1, where the gate leaves out Secure.
    const expect = c.expect.set_cookie ? { ...c.expect, set_cookie: { ...c.expect.set_cookie, secure: false } } : c.expect;
    const headers = { Host: `${c.localhost ? "localhost" : "127.0.0.1"}:${port}` };
    if (c.cookies.length) headers.Cookie = c.cookies.join("; ");
    const res = await rawHttp(port, c.method, c.path + (c.query ? "?" + c.query : ""), headers);
    const retried = await netlifyExpect(c, headers);
    if (retried) {
      const problems = [];
      if (res.status !== retried.status || res.header("x-vitrine-reason") !== retried.reason) {
        problems.push(`got ${res.status} ${res.header("x-vitrine-reason")}, want ${retried.status} ${retried.reason} (the gate's answer to ${retried.path}, which netlify-cli hands the function)`);
      }
      if (retried.reason && res.header("cache-control") !== data.gated_headers.cache_control) problems.push(`Cache-Control: got ${res.header("cache-control")}`);
      results.push([`${emulator}: ${c.name}`, problems]);
      continue;
    }
    // A served file must be the file on disk decrypted; not under netlify dev, where the table's
    // files are pages and vitrine serve adds its reload script to them.
    results.push([`${emulator}: ${c.name}`, await check({ ...c, expect }, res, site, { ...HOST[emulator], edgeKey: emulator === "netlify-dev" ? undefined : edgeKey })]);
  } catch (e) {
    results.push([`${emulator}: ${c.name}`, [`threw ${e?.stack ?? e}`]]);
  }
}
// The table's media paths name no real file; the built dataset's own files are walked too: its
// page, a thumbnail, the deep-zoom descriptor and a tile, with the dataset's cookie and an
// annotation's (media only), and without one. Bodies must be the files' bytes, and each type what
// the mocks in tests/edge/ send.
const TYPES = { html: "text/html; charset=utf-8", png: "image/png", jpg: "image/jpeg", webp: "image/webp", dzi: "application/octet-stream" };
const dataset = new URL("private/cortex/", site);
const media = [];
for await (const hash of Deno.readDir(new URL("media/", dataset))) {
  const dir = new URL(`media/${hash.name}/`, dataset);
  const names = [];
  for await (const f of Deno.readDir(dir)) if (f.isFile) names.push(f.name);
  const tiles = [];
  for await (const level of Deno.readDir(new URL("tiles_files/", dir))) {
    for await (const t of Deno.readDir(new URL(`tiles_files/${level.name}/`, dir))) tiles.push(`tiles_files/${level.name}/${t.name}`);
  }
  const thumb = names.find((n) => n.startsWith("thumb-"));
  for (const rel of [thumb, "tiles.dzi", tiles.sort()[0]]) media.push(`/private/cortex/media/${hash.name}/${rel}`);
}
const tokens = JSON.parse(await Deno.readTextFile(`${work}/gate-cases.json`)).tokens;
const files = [["/private/cortex/", "index.html"], ["/private/cortex/annotations/trace-1/", "index.html"], ...media.map((p) => [p, null])];
const latin1 = (b) => new TextDecoder("latin1").decode(b);
for (const [path, index] of files) {
  const file = new URL(path.slice("/private/cortex/".length) + (index ?? ""), dataset);
  const rel = decodeURIComponent(file.pathname.slice(site.pathname.length));
  const onDisk = await Deno.readFile(file);
  // What is on disk is ciphertext for this very path; the gates must serve it decrypted.
  const plain = isSealed(onDisk) ? await open(unhex(edgeKey), rel, onDisk) : null;
  results.push([`${emulator}: ${rel} on disk is sealed for its path, without the private words`,
    [...(plain ? [] : [`${rel} is not sealed, or does not open at its path`]), ...MARKERS.filter((m) => latin1(onDisk).includes(m)).map((m) => `contains "${m}"`)]]);
  const bytes = plain ?? onDisk;
  const name = path.includes("/annotations/") ? "First tracing" : "Confidential cortex volume";
  if (index) results.push([`${emulator}: ${rel} decrypted holds its item's name`, latin1(bytes).includes(name) ? [] : [`no "${name}" in the plaintext`]]);
  const type = TYPES[file.pathname.split(".").pop()];
  const isMedia = path.includes("/media/");
  if (emulator === "bypass") {
    // No gate: no cookie needed, and what comes out is the ciphertext on disk, byte for byte.
    const problems = [];
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: "manual" });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) problems.push(`status ${res.status}`);
      if (hex(body) !== hex(onDisk)) problems.push(`the body (${body.length} bytes) is not the ciphertext on disk (${onDisk.length} bytes)`);
      for (const m of MARKERS) if (latin1(body).includes(m)) problems.push(`the body contains "${m}"`);
    } catch (e) {
      problems.push(`threw ${e?.stack ?? e}`);
    }
    results.push([`bypass: ${path} without the gate is the ciphertext`, problems]);
    continue;
  }
  const tries = [
    ["GET", `vitrine_d=${tokens.cortex}`, 200],
    ["HEAD", `vitrine_d=${tokens.cortex}`, 200],
    ["GET", null, 401],
    ["GET", `vitrine_a_trace-1=${tokens.trace1}`, isMedia || path.includes("/annotations/trace-1/") ? 200 : 401],
  ];
  for (const [method, cookie, want] of tries) {
    const problems = [];
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: cookie ? { Cookie: cookie } : {}, redirect: "manual" });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== want) problems.push(`status ${res.status}, want ${want}`);
      if (res.headers.get("cache-control") !== data.gated_headers.cache_control) problems.push(`Cache-Control ${res.headers.get("cache-control")}`);
      if (want === 200 && HOST[emulator].types && res.headers.get("content-type") !== type) problems.push(`Content-Type ${res.headers.get("content-type")}, want ${type}`);
      // (vitrine serve adds its reload script to pages, so under netlify dev a page is not the file.)
      if (want === 200 && method === "GET" && !(index && emulator === "netlify-dev") && (body.length !== bytes.length || body.some((b, i) => b !== bytes[i]))) problems.push(`the body (${body.length} bytes) is not the file decrypted (${bytes.length} bytes)`);
      if (want !== 200 && MARKERS.some((m) => latin1(body).includes(m))) problems.push("a refusal holds a private word");
      if (want === 200 && method === "HEAD" && body.length) problems.push("HEAD has a body");
    } catch (e) {
      problems.push(`threw ${e?.stack ?? e}`);
    }
    results.push([`${emulator}: built file ${path} ${method} ${cookie ? cookie.split("=")[0] : "without a cookie"}`, problems]);
  }
}

if (skipped.length) console.log(`not sent to ${emulator} (netlify-cli would die on them): ${skipped.join("; ")}`);
report(results);
