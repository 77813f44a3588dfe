// Lighthouse's mobile profile (its default: a mid-range phone, simulated slow 4G, 4× CPU
// slowdown) on the gallery, a dataset page and an annotation page of a built site, served from
// loopback with gzip as the platforms serve text. Prints performance and accessibility scores,
// LCP and total bytes per page, and the audits that cost points.
//
//   bench/lighthouse [built-site-dir | site-root] [runs]   (default: the example site, 3 runs)
//
// Lighthouse 13 needs Node ≥ 22.19: bench/lighthouse runs this with the Node that
// tests/install-tools puts in node_modules. Scores are medians of `runs` (performance varies
// with the machine's load; accessibility does not).
import { loadavg } from "node:os";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { CHROMIUM_ARGS, REPO, siteDir } from "../tests/browser/lib.mjs";
import { serve } from "../tests/browser/serve.mjs";

const { default: lighthouse } = await import(join(REPO, "node_modules/lighthouse/core/index.js"));
const chromeLauncher = await import(join(REPO, "node_modules/chrome-launcher/dist/index.js"));

const site = siteDir(process.argv[2] || process.env.VITRINE_SITE || REPO);
const runs = Number(process.argv[3] || 3);

/** The gallery, the first public dataset page, and the first public annotation page. */
function pages(dir) {
  const found = [["gallery", "/"]];
  const datasets = join(dir, "datasets");
  const slugs = existsSync(datasets) ? readdirSync(datasets).sort() : [];
  const page = slugs.find((s) => existsSync(join(datasets, s, "index.html")));
  if (page) found.push(["dataset", `/datasets/${page}/`]);
  for (const s of slugs) {
    const dir = join(datasets, s, "annotations");
    const id = existsSync(dir) && readdirSync(dir).sort().find((a) => existsSync(join(dir, a, "index.html")));
    if (id) {
      found.push(["annotation", `/datasets/${s}/annotations/${id}/`]);
      break;
    }
  }
  return found;
}

const server = await serve(site.dir, site.open, { gzip: true });
// Lighthouse drives its own Chromium: the machine's, with the flags the browser suite uses
// (without the background-networking ones Chromium dials out and this sandbox refuses it).
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM || "/usr/bin/chromium",
  chromeFlags: CHROMIUM_ARGS.map((f) => (f === "--headless" ? "--headless=new" : f)),
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const commit = (() => {
  try {
    return execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
})();
console.log(`lighthouse ${(await import(join(REPO, "node_modules/lighthouse/package.json"), { with: { type: "json" } })).default.version}, mobile profile, ${runs} runs, commit ${commit}, load ${loadavg()[0].toFixed(1)}`);
console.log("| page | path | performance | accessibility | LCP ms | total KB |");
console.log("|---|---|--:|--:|--:|--:|");
const losses = new Map();
try {
  for (const [name, path] of pages(site.dir)) {
    const perf = [], a11y = [], lcp = [], bytes = [];
    for (let i = 0; i < runs; i++) {
      const { lhr } = await lighthouse(server.url + path, {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance", "accessibility"],
      });
      perf.push(Math.round(lhr.categories.performance.score * 100));
      a11y.push(Math.round(lhr.categories.accessibility.score * 100));
      lcp.push(lhr.audits["largest-contentful-paint"].numericValue);
      bytes.push(lhr.audits["total-byte-weight"].numericValue);
      for (const cat of ["performance", "accessibility"]) {
        for (const ref of lhr.categories[cat].auditRefs) {
          const audit = lhr.audits[ref.id];
          if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
            losses.set(`${name}: ${ref.id} (${audit.displayValue || audit.score})`, audit.title);
          }
        }
      }
    }
    console.log(`| ${name} | ${path} | ${median(perf)} | ${median(a11y)} | ${median(lcp).toFixed(0)} | ${(median(bytes) / 1024).toFixed(1)} |`);
  }
} finally {
  chrome.kill();
  await server.close();
  site.cleanup();
}
console.log("targets: performance ≥ 95, accessibility 100");
for (const [what, title] of losses) console.log(`  below 1: ${what} — ${title}`);
