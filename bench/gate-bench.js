// Gate overhead per request (verify + cookie check), median over 10,000 requests, in Deno (the
// Netlify edge function) and workerd (the Cloudflare worker); what a public request costs the
// Netlify function, which runs on every path; the worst cases (oversized requests, the most
// cookie checks a request can ask for); and the module size without its bundled data.
// Targets: under 0.5 ms per gated request, under 0.05 ms per public one, under 2 ms worst case,
// under 6 KB of code.
// Usage: deno run -A bench/gate-bench.js NETLIFY_MODULE CLOUDFLARE_SITE_DIR [N]
// The sites are `vitrine build` outputs of tests/sites/gate (see tests/edge/run).

import process from "node:process";
import { data } from "../tests/edge/cases.js";
import { startWorkerd } from "../tests/edge/workerd.js";

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
const cf = await startWorkerd(await Deno.realPath(cloudflareSite));
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
console.log(`requests per figure: ${N} (after 500 warm-up)`);
console.log(`deno ${Deno.version.deno}: edge function with a valid cookie, median ${fmt(denoGate)} (context.next() alone ${fmt(denoNext)}): gate overhead ${fmt(denoGate - denoNext)}`);
console.log(`deno: public request through the gate (overhead over context.next() alone, medians): tile (fast path) ${fmt(publicFast)}, escaped path (full normalisation) ${fmt(publicFull)}`);
for (const [name, t] of Object.entries(worstTimes)) console.log(`deno worst case: ${name}: wall median ${fmt(t.median)}, max ${fmt(t.max)} (${t.n} requests); CPU ${fmt(t.cpu)} per request`);
console.log(`workerd, in the isolate: ${fmt(isolateGated / N)} per gated request, ${fmt(isolatePublic / N)} per public one: gate overhead ${fmt((isolateGated - isolatePublic) / N)} (mean)`);
console.log(`workerd, over HTTP: gated median ${fmt(median(httpGated))}, public ${fmt(median(httpPublic))}: gate overhead ${fmt(median(pairDiffs))} (median of paired differences)`);
console.log(`module code without bundled data: netlify ${codeSize(netlifySource)} B, cloudflare ${codeSize(workerSource)} B (with data: ${netlifySource.length} B, ${workerSource.length} B)`);
