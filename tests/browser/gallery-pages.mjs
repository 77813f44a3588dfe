#!/usr/bin/env node
// A paged gallery in Chromium: the example site (the repository's own content/) built with one
// card a page, so every public dataset is on a page of its own.
//
//   node tests/browser/gallery-pages.mjs
//
// Without JavaScript, following "Next" from the first page reaches every public dataset once;
// with it, a search on the first page finds a dataset that is on the last page (from
// search-index.json), its card links to its page, the count says so and the page's own cards
// and links step aside until the search is cleared; facets search the whole index too; each
// page is axe-core clean. Prints `N passed, N failed` last; exits 1 on any failure.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, checks, launch, REPO } from "./lib.mjs";
import { serve } from "./serve.mjs";

const BIN = process.env.VITRINE_BIN || join(REPO, "target/debug/vitrine");
const AXE = join(REPO, "node_modules/axe-core/axe.min.js");
const { test, fail, finish } = checks();

const tmp = mkdtempSync(join(tmpdir(), "vitrine-pages-"));
const root = join(tmp, "site");
cpSync(join(REPO, "content"), join(root, "content"), { recursive: true });
appendFileSync(join(root, "content/site.yaml"), "\ngallery:\n  per_page: 1\n");
let server, browser;
try {
  const r = spawnSync(BIN, ["--root", root, "build", "--out", join(tmp, "public")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vitrine build failed (${r.status}):\n${r.stderr}`);
  const index = JSON.parse(readFileSync(join(tmp, "public/search-index.json"), "utf8"));
  assert(index.length >= 3, `the example has ${index.length} public datasets; the test needs 3`);
  server = await serve(join(tmp, "public"));
  browser = await launch();

  await test("without JavaScript, Next leads through every public dataset once, in the index's order", async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(server.url + "/");
    const seen = [];
    for (let i = 0; i < index.length + 1; i++) {
      seen.push(...(await page.locator("[data-grid] .card").evaluateAll((cards) => cards.map((c) => c.dataset.slug))));
      const next = page.locator('a[rel="next"]');
      if (!(await next.count())) break;
      await next.click();
    }
    assert(JSON.stringify(seen) === JSON.stringify(index.map((e) => e.slug)), `seen ${seen}, index ${index.map((e) => e.slug)}`);
    assert(new URL(page.url()).pathname === `/page/${index.length}/`, `ended at ${page.url()}`);
    await ctx.close();
  });

  const last = index.at(-1);
  await test("a search on the first page finds a dataset on the last page, and its card opens it", async () => {
    const page = await browser.newPage();
    await page.goto(server.url + "/");
    await page.locator("[data-filters]:not([hidden])").waitFor();
    const first = await page.locator("[data-grid] .card").getAttribute("data-slug");
    assert(first !== last.slug, "the last dataset is on the first page");
    await page.fill("#filter-q", last.name);
    const card = page.locator("[data-results] .card");
    await card.first().waitFor();
    assert((await card.count()) >= 1, "no result");
    assert((await card.first().getAttribute("data-slug")) === last.slug, `found ${await card.first().getAttribute("data-slug")}`);
    assert(await page.locator("[data-grid]").isHidden(), "the page's own cards still show");
    assert(await page.locator("[data-pagination]").isHidden(), "the page links still show");
    const count = await page.locator("[data-count]").textContent();
    assert(count.includes(`of ${index.length} datasets`), `count: ${count}`);
    const img = card.first().locator("img");
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    const href = await card.first().locator("a").getAttribute("href");
    assert(href === new URL(last.url, server.url + "/").href, `links to ${href}`);
    await Promise.all([page.waitForEvent("framenavigated"), card.first().locator("a").click()]);
    assert(new URL(page.url()).pathname === `/${last.url}`, `opened ${page.url()}`);
    await page.goBack();
    await page.fill("#filter-q", "");
    await page.locator("[data-grid]").waitFor();
    assert(await page.locator("[data-results]").isHidden(), "results still show after clearing the search");
    assert(!(await page.locator("[data-results] .card").count()), "results left behind");
    await page.close();
  });

  await test("a facet filters the whole index, and the filter is kept in the address", async () => {
    const page = await browser.newPage();
    const withSpecies = index.filter((e) => e.species);
    assert(withSpecies.length, "no dataset with a species");
    const species = withSpecies.at(-1).species;
    const want = index.filter((e) => e.species === species).map((e) => e.slug).sort();
    await page.goto(server.url + "/?species=" + encodeURIComponent(species));
    await page.locator("[data-results] .card").first().waitFor();
    const got = (await page.locator("[data-results] .card").evaluateAll((cs) => cs.map((c) => c.dataset.slug))).sort();
    assert(JSON.stringify(got) === JSON.stringify(want), `got ${got}, want ${want}`);
    await page.close();
  });

  for (const path of ["/", "/page/2/"]) {
    await test(`axe-core: no serious or critical findings on ${path}`, async () => {
      const page = await browser.newPage();
      await page.goto(server.url + path);
      await page.addScriptTag({ path: AXE });
      const found = await page.evaluate(async () => {
        const r = await axe.run(document, { resultTypes: ["violations"] });
        return r.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
      });
      assert(!found.length, found.join("\n"));
      await page.close();
    });
  }
} catch (e) {
  fail("setup", e);
} finally {
  if (browser) await browser.close();
  if (server) await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
finish();
