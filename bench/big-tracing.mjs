// Load time of a big tracing's annotation page: from navigation start until the overlay's first
// drawing is on screen, in headless Chromium on a loopback server, cold cache each run.
//
//   node bench/big-tracing.mjs BUILT-SITE PAGE-PATH [runs]      (bench/big-tracing runs it)
//
// "On screen" is the `vitrine:skeleton-drawn` mark skeleton.js sets in the frame after its
// first drawing; for a skeleton.js without it (an older build, for a before/after), the frame
// after the first path of the overlay got its `d`, seen by a MutationObserver.
import { loadavg } from "node:os";
import { launch } from "../tests/browser/lib.mjs";
import { serve } from "../tests/browser/serve.mjs";

const [dir, path, runsArg] = process.argv.slice(2);
if (!dir || !path) throw new Error("usage: node bench/big-tracing.mjs BUILT-SITE PAGE-PATH [runs]");
const runs = Number(runsArg || 5);
const TARGET_MS = 2000;

const server = await serve(dir);
const browser = await launch();
const samples = [];
try {
  for (let i = 0; i <= runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.addInitScript(() => {
      window.__drawn = new Promise((done) => {
        const seen = new MutationObserver((records) => {
          if (!records.some((r) => r.target.getAttribute("d"))) return;
          seen.disconnect();
          requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));
        });
        seen.observe(document, { subtree: true, attributes: true, attributeFilter: ["d"] });
      });
    });
    await page.goto(server.url + path);
    const t = await page.evaluate(
      () =>
        new Promise((done) => {
          const mark = () => performance.getEntriesByName("vitrine:skeleton-drawn")[0];
          window.__drawn.then((t) => done(mark() ? mark().startTime : t));
          const poll = () => (mark() ? done(mark().startTime) : setTimeout(poll, 5));
          poll();
        })
    );
    const stats = await page.evaluate(() => {
      const r = performance.getEntriesByType("resource").find((e) => /skeleton\.(bin|json)$/.test(e.name));
      const segments = [...document.querySelectorAll("svg.viewer-overlay g.skeleton-tree path")]
        .map((p) => ((p.getAttribute("d") || "").match(/M/g) || []).length)
        .reduce((a, b) => a + b, 0);
      return { fetched: r ? r.responseEnd - r.startTime : NaN, segments };
    });
    if (errors.length) throw new Error(errors.join("\n"));
    // The first run warms the browser process, not the page.
    if (i > 0) samples.push({ t, ...stats });
    await ctx.close();
  }
} finally {
  await browser.close();
  await server.close();
}
samples.sort((a, b) => a.t - b.t);
const median = samples[Math.floor(samples.length / 2)];
console.log(
  `page load: median ${median.t.toFixed(0)} ms (min ${samples[0].t.toFixed(0)}, max ${samples.at(-1).t.toFixed(0)}; ` +
    `overlay fetched in ${median.fetched.toFixed(0)} ms; ${median.segments} segments and dots drawn) over ${runs} cold loads, ` +
    `1280×800, load average ${loadavg()[0].toFixed(1)} (target < ${TARGET_MS} ms: ${median.t < TARGET_MS ? "met" : "MISSED"})`
);
