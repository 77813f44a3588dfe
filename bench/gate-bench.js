// Gate overhead per request (verify + cookie check), median over 10,000 requests, in Deno (the
// Netlify edge function) and workerd (the Cloudflare worker); what a public request costs the
// Netlify function, which runs on every path; the worst cases (oversized requests, the most
// cookie checks a request can ask for); and the module size without its bundled data.
// Then what decrypting a sealed 256 KB tile adds to a gated request (encryption at rest), the
// median of 1,000 in each runtime.
// Targets: under 0.5 ms per gated request, under 0.05 ms per public one, under 2 ms worst case,
// under 2 ms added by decryption, under 6 KB of code.
// Usage: deno run -A bench/gate-bench.js NETLIFY_MODULE CLOUDFLARE_SITE_DIR [N]
// The sites are `vitrine build` outputs of tests/sites/gate (see tests/edge/run); the environment
// variable VITRINE_EDGE_KEY is the Cloudflare site's edge key (`vitrine secret --edge`), bound
// for its worker as Pages binds the secret.

import process from "node:process";
import { data } from "../tests/edge/cases.js";
import { startWorkerd } from "../tests/edge/workerd.js";
import { hex, seal, unhex } from "../tests/edge/seal.mjs";
import { EDGE_KEY } from "../tests/edge/sealed-site.js";

const [netlifyModule, cloudflareSite, nArg] = Deno.args;
if (!cloudflareSite) {
  console.error("usage: gate-bench.js NETLIFY_MODULE CLOUDFLARE_SITE_DIR [N]");
  Deno.exit(2);
}
const N = Number(nArg ?? 10000);
const cookie = `vitrine_d=${data.tokens.cortex}`;
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms * 1000).toFixed(1)} µs`;

// Code size: the module minus the two JSON literals the build fills in.
function codeSize(source) {
  const m = source.match(/^const D ?= ?(.*?), ?PAGES ?= ?(.*);$/m);
  return new TextEncoder().encode(source).length - new TextEncoder().encode(m[1] + m[2]).length;
}

// Deno: time the edge function itself with a context.next() that answers at once.
const mod = await import(`file://${await Deno.realPath(netlifyModule)}`);
const file = new Response("ok");
const next = () => Promise.resolve(file.clone());
Date.now = () => data.now * 1000;
const gated = [], passed = [];
for (let i = 0; i < N + 500; i++) {
  const req = new Request("https://gate.test/private/cortex/", { headers: { Cookie: cookie } });
  const t0 = performance.now();
  const res = await mod.default(req, { next });
  const t1 = performance.now();
  if (res.status !== 200) throw new Error(`gated request answered ${res.status}`);
  const t2 = performance.now();
  await next();
  const t3 = performance.now();
  if (i >= 500) gated.push(t1 - t0), passed.push(t3 - t2);
}
const denoGate = median(gated), denoNext = median(passed);

// Deno, public requests: the module runs on every path on Netlify, so what does a public request
// cost it? Timed around the whole function (context.next() included) against next() alone, for a
// tile (the fast path) and for a path with an escape (the full normalisation).
async function overhead(url) {
  const through = [], alone = [];
  for (let i = 0; i < N + 500; i++) {
    const req = new Request(url);
    const t0 = performance.now();
    const res = await mod.default(req, { next });
    const t1 = performance.now();
    await next();
    const t2 = performance.now();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    if (i >= 500) through.push(t1 - t0), alone.push(t2 - t1);
  }
  return median(through) - median(alone);
}
const publicFast = await overhead("https://gate.test/datasets/open-data/media/0123456789abcdef/tiles_files/11/3_4.webp");
const publicFull = await overhead("https://gate.test/datasets/open-data/files/caf%C3%A9-notes.csv");

// Deno, the worst cases: oversized requests (1 MB path, query or Cookie header; the runtime has
// already built the Request, which is not timed), and the most a request within the limits can
// cost: 16 candidate cookies, each a never-seen token under the site's key id, so each costs a
// base62 decode and a Web Crypto verification.
const genuine = data.tokens.cortex;
let serial = 0;
const fresh = () => genuine.slice(0, 60) + (serial++).toString(36).padStart(4, "0") + genuine.slice(64);
const worst = {
  "1 MB path (414)": () => [new Request(`https://gate.test/private/cortex/${"a".repeat(1 << 20)}/`), 414],
  "1 MB query on a private path (414)": () => [new Request(`https://gate.test/private/cortex/?s=${"a".repeat(1 << 20)}`), 414],
  "1 MB query on a public path (passes)": () => [new Request(`https://gate.test/datasets/open-data/?x=${"a".repeat(1 << 20)}`), 200],
  "1 MB Cookie header (431)": () => [new Request("https://gate.test/private/cortex/", { headers: { Cookie: `vitrine_d=${"A".repeat(1 << 20)}` } }), 431],
  "2 KiB path of escapes and dot segments (301)": () => [new Request(`https://gate.test/private/cortex/${"%61/x/%2e%2e/".repeat(150)}`), 301],
  "16 forged cookies in 8 KiB (403)": () => [new Request("https://gate.test/private/cortex/", { headers: { Cookie: Array.from({ length: 16 }, () => `vitrine_d=${fresh()}`).join("; ") } }), 403],
};
// Wall time per request (median and max of 176 after a warm-up round of 44; the Requests are built
// beforehand and not timed),
// and the process's CPU time over those 176 divided by 176 (what Netlify's 50 ms limit counts,
// garbage collection included): on a loaded machine the wall-clock tail is other processes.
const worstTimes = {};
for (const [name, make] of Object.entries(worst)) {
  const xs = [];
  for (let round = 0; round < 5; round++) {
    const batch = Array.from({ length: 44 }, make);
    const cpu0 = process.cpuUsage();
    for (const [req, status] of batch) {
      const t0 = performance.now();
      const res = await mod.default(req, { next });
      const t1 = performance.now();
      if (res.status !== status) throw new Error(`${name} answered ${res.status}, not ${status}`);
      if (round) xs.push(t1 - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    if (round) (worstTimes[name] ??= { cpu: 0 }).cpu += (cpu.user + cpu.system) / 1000 / 176;
  }
  xs.sort((a, b) => a - b);
  Object.assign(worstTimes[name], { median: xs[xs.length >> 1], max: xs.at(-1), n: xs.length });
}

// workerd: the clock stands still inside a request, so time from outside. (1) In the isolate:
// N requests through the worker with a valid cookie vs N public ones, one HTTP call each; the
// difference over N is the mean gate cost. (2) Over HTTP: N gated and N public requests
// interleaved on one keep-alive connection; the median of the pairwise differences.
const cf = await startWorkerd(await Deno.realPath(cloudflareSite), { edgeKey: Deno.env.get("VITRINE_EDGE_KEY") });
const base = `http://127.0.0.1:${cf.port}`;
const headers = { "x-test-now": String(data.now) };
const once = async (path, extra = {}) => {
  const t0 = performance.now();
  const res = await fetch(base + path, { headers: { ...headers, ...extra } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return performance.now() - t0;
};
const loop = async (url, cookie) => {
  const t0 = performance.now();
  const res = await fetch(base + "/__test/loop", { method: "POST", headers, body: JSON.stringify({ n: N, url, cookie }) });
  if ((await res.text()) !== "done") throw new Error(`loop over ${url} failed`);
  return performance.now() - t0;
};
let isolateGated, isolatePublic, pairDiffs = [], httpGated = [], httpPublic = [];
try {
  await loop("https://gate.test/private/cortex/", cookie);
  isolatePublic = await loop("https://gate.test/datasets/open-data/", null);
  isolateGated = await loop("https://gate.test/private/cortex/", cookie);
  for (let i = 0; i < N + 500; i++) {
    const p = await once("/datasets/open-data/");
    const g = await once("/private/cortex/", { Cookie: cookie });
    if (i >= 500) pairDiffs.push(g - p), httpGated.push(g), httpPublic.push(p);
  }
} finally {
  await cf.stop();
}

const netlifySource = await Deno.readTextFile(netlifyModule);
const workerSource = await Deno.readTextFile(`${cloudflareSite}/_worker.js`);

// Encryption at rest: a 256 KB tile sealed (tests/edge/seal.mjs) under the test edge key, against
// the same tile unsealed, which the gate reads through once to look for the magic. Each request
// carries a valid cookie, and each time runs until the answer's body is read. M requests of each
// after 100 warm-up, alternating; the median of the paired differences is what decryption adds.
const M = 1000, TILE = "private/cortex/media/00ff00ff00ff00ff/tiles_files/12/3_4.jpg";
const tile = new Uint8Array(256 * 1024);
for (let i = 0; i < tile.length; i += 65536) crypto.getRandomValues(tile.subarray(i, i + 65536));
const sealedTile = await seal(unhex(EDGE_KEY), TILE, tile);
const paired = async (time) => {
  const sealed = [], plain = [], diffs = [];
  for (let i = 0; i < M + 100; i++) {
    const s = await time(true), p = await time(false);
    if (i >= 100) sealed.push(s), plain.push(p), diffs.push(s - p);
  }
  return { sealed: median(sealed), plain: median(plain), added: median(diffs) };
};
// Deno: the Netlify module with the test key in place of the site's.
const keyed = await Deno.makeTempFile({ suffix: ".js" });
await Deno.writeTextFile(keyed, netlifySource.replace(/^const EDGE_KEY ?= ?.*;$/m, `const EDGE_KEY = "${EDGE_KEY}";`));
const keyedMod = await import(`file://${keyed}`);
await Deno.remove(keyed);
const denoSeal = await paired(async (sealed) => {
  const req = new Request("https://gate.test/" + TILE, { headers: { Cookie: cookie } });
  const body = sealed ? sealedTile : tile;
  const t0 = performance.now();
  const res = await keyedMod.default(req, { next: async () => new Response(body) });
  const got = await res.arrayBuffer();
  const t1 = performance.now();
  if (res.status !== 200 || got.byteLength !== tile.length) throw new Error(`the tile answered ${res.status}, ${got.byteLength} bytes`);
  return t1 - t0;
});
// workerd: over HTTP, the worker with the Pages secret bound and the two tiles as its assets; and
// in the isolate, M requests through the worker with an asset server that answers the tile at once.
const tileDir = await Deno.makeTempDir({ prefix: "vitrine-bench-" });
await Deno.mkdir(`${tileDir}/${TILE.slice(0, TILE.lastIndexOf("/"))}`, { recursive: true });
await Deno.writeFile(`${tileDir}/${TILE}`, sealedTile);
await Deno.writeFile(`${tileDir}/${TILE.replace("3_4", "3_5")}`, tile);
const tw = await startWorkerd(tileDir, { edgeKey: EDGE_KEY, worker: workerSource });
let workerdSeal, isolateSealed, isolatePlain;
try {
  const loopTile = async (file) => {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${tw.port}/__test/loop`, { method: "POST", headers, body: JSON.stringify({ n: M, url: "https://gate.test/" + TILE, cookie, file: hex(file), key: EDGE_KEY }) });
    if ((await res.text()) !== "done") throw new Error("the tile loop failed");
    return performance.now() - t0;
  };
  await loopTile(sealedTile);
  isolatePlain = await loopTile(tile);
  isolateSealed = await loopTile(sealedTile);
  workerdSeal = await paired(async (sealed) => {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${tw.port}/${sealed ? TILE : TILE.replace("3_4", "3_5")}`, { headers: { ...headers, Cookie: cookie } });
    const got = await res.arrayBuffer();
    if (res.status !== 200 || got.byteLength !== tile.length) throw new Error(`the tile answered ${res.status}, ${got.byteLength} bytes`);
    return performance.now() - t0;
  });
} finally {
  await tw.stop();
  await Deno.remove(tileDir, { recursive: true });
}
console.log(`requests per figure: ${N} (after 500 warm-up)`);
console.log(`deno ${Deno.version.deno}: edge function with a valid cookie, median ${fmt(denoGate)} (context.next() alone ${fmt(denoNext)}): gate overhead ${fmt(denoGate - denoNext)}`);
console.log(`deno: public request through the gate (overhead over context.next() alone, medians): tile (fast path) ${fmt(publicFast)}, escaped path (full normalisation) ${fmt(publicFull)}`);
for (const [name, t] of Object.entries(worstTimes)) console.log(`deno worst case: ${name}: wall median ${fmt(t.median)}, max ${fmt(t.max)} (${t.n} requests); CPU ${fmt(t.cpu)} per request`);
console.log(`workerd, in the isolate: ${fmt(isolateGated / N)} per gated request, ${fmt(isolatePublic / N)} per public one: gate overhead ${fmt((isolateGated - isolatePublic) / N)} (mean)`);
console.log(`workerd, over HTTP: gated median ${fmt(median(httpGated))}, public ${fmt(median(httpPublic))}: gate overhead ${fmt(median(pairDiffs))} (median of paired differences)`);
console.log(`deno: a sealed 256 KB tile through the gate, median ${fmt(denoSeal.sealed)} (the same tile unsealed ${fmt(denoSeal.plain)}): decryption adds ${fmt(denoSeal.added)} (median of ${M} paired differences)`);
console.log(`workerd, over HTTP: a sealed 256 KB tile, median ${fmt(workerdSeal.sealed)} (unsealed ${fmt(workerdSeal.plain)}): decryption adds ${fmt(workerdSeal.added)} (median of ${M} paired differences)`);
console.log(`workerd, in the isolate: a sealed 256 KB tile ${fmt(isolateSealed / M)} per request, unsealed ${fmt(isolatePlain / M)}: decryption adds ${fmt((isolateSealed - isolatePlain) / M)} (mean of ${M})`);
console.log(`module code without bundled data: netlify ${codeSize(netlifySource)} B, cloudflare ${codeSize(workerSource)} B (with data: ${netlifySource.length} B, ${workerSource.length} B)`);
