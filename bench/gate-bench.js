// Gate overhead per request (verify + cookie check), median over 10,000 requests, in Deno (the
// Netlify edge function) and workerd (the Cloudflare worker); and the module size without its
// bundled data. Targets: under 0.5 ms per request, under 6 KB of code.
// Usage: deno run -A bench/gate-bench.js NETLIFY_MODULE CLOUDFLARE_SITE_DIR [N]
// The sites are `vitrine build` outputs of tests/sites/gate (see tests/edge/run).

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
console.log(`workerd, in the isolate: ${fmt(isolateGated / N)} per gated request, ${fmt(isolatePublic / N)} per public one: gate overhead ${fmt((isolateGated - isolatePublic) / N)} (mean)`);
console.log(`workerd, over HTTP: gated median ${fmt(median(httpGated))}, public ${fmt(median(httpPublic))}: gate overhead ${fmt(median(pairDiffs))} (median of paired differences)`);
console.log(`module code without bundled data: netlify ${codeSize(netlifySource)} B, cloudflare ${codeSize(workerSource)} B (with data: ${netlifySource.length} B, ${workerSource.length} B)`);
