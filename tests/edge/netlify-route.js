// Proves that Netlify routes every spelling of a private path to the gate. The route is compiled
// from the *built* module with Netlify's own code (@netlify/edge-bundler, what netlify-cli and
// Netlify's build use): its config extractor runs the module in Deno and reads `config`, then
// generateManifest turns it into the regular expressions Netlify's router matches the path as
// sent against. Each spelling of tests/vectors/gate-cases.json marked `spelling` must match, and
// the module must then answer it with a redirect to its canonical path or a refusal, never by
// serving a file. The old route, "/private/*", compiled the same way, must miss several of them.
// Usage: deno run -A tests/edge/netlify-route.js SITE_ROOT   (holds .netlify/v1/edge-functions/)

import { Buffer } from "node:buffer";
import { DenoBridge, find, generateManifest, mergeDeclarations } from "@netlify/edge-bundler";
import { cases, report, repo } from "./cases.js";

const root = Deno.args[0];
if (!root) {
  console.error("usage: netlify-route.js SITE_ROOT");
  Deno.exit(2);
}
// Netlify's config extractor is internal to the package (not in its exports), so it is imported
// by file; so is the import map class it takes.
const bundler = new URL("node_modules/@netlify/edge-bundler/dist/node/", repo);
const { getFunctionConfig } = await import(new URL("config.js", bundler));
const { ImportMap } = await import(new URL("import_map.js", bundler));

const functions = await find([`${await Deno.realPath(root)}/.netlify/v1/edge-functions`]);
const results = [];
results.push(["the build wrote one edge function, vitrine-share", functions.map((f) => f.name).join() === "vitrine-share" ? [] : [`found ${JSON.stringify(functions)}`]]);
const [fn] = functions;

// The extractor imports one type from edge.netlify.com; the tests reach no network, so the import
// map (the extractor's own --import-map) points that URL at an empty stub. Deno comes from PATH.
const stub = "data:application/typescript;base64," + Buffer.from("export type NetlifyGlobal = unknown;\n").toString("base64");
const importMap = new ImportMap([{ baseURL: new URL("file:///"), imports: { "https://edge.netlify.com/bootstrap/globals/types.ts": stub } }]);
const logged = [];
const log = { user: (...a) => logged.push(a.join(" ")), system: () => {} };
const config = await getFunctionConfig({ functionPath: fn.path, importMap, deno: new DenoBridge({ useGlobal: true }), log });
results.push(["Netlify's extractor reads the built module's config", config.path ? [] : [`config ${JSON.stringify(config)}; ${logged.join("; ")}`]]);

// The manifest Netlify's build would deploy for this config, and whether its routes send a path
// (as sent, before any decoding) to the function. Frameworks API functions are "internal".
function router(functionConfig) {
  const declarations = mergeDeclarations([], {}, { [fn.name]: functionConfig }, []);
  const { manifest } = generateManifest({ functions, declarations, internalFunctionConfig: { [fn.name]: functionConfig } });
  const excluded = (manifest.function_config[fn.name]?.excluded_patterns ?? []).map((p) => new RegExp(p));
  const routes = manifest.routes.filter((r) => r.function === fn.name)
    .map((r) => ({ pattern: new RegExp(r.pattern), excluded: r.excluded_patterns.map((p) => new RegExp(p)) }));
  const routed = (path) => routes.some((r) => r.pattern.test(path) && !r.excluded.some((x) => x.test(path))) && !excluded.some((x) => x.test(path));
  return { routed, patterns: manifest.routes.map((r) => r.pattern) };
}
const now = router(config), old = router({ path: "/private/*" });

// The module as built, answering each spelling with a context.next() that must not be called.
const mod = await import(`file://${fn.path}`);
const spellings = cases.filter((c) => c.spelling);
results.push([`at least 40 spellings (${spellings.length})`, spellings.length >= 40 ? [] : ["too few"]]);
for (const c of spellings) {
  const problems = [];
  if (!now.routed(c.path)) problems.push(`not routed to the gate by ${JSON.stringify(now.patterns)}`);
  let served = false;
  const res = await mod.default(new Request("https://gate.test" + c.path), { next: () => { served = true; return new Response("file"); } });
  const location = res.headers.get("location");
  if (served) problems.push(`the gate served it (status ${res.status})`);
  else if (res.status === 301 ? !location?.startsWith("/private/") : !res.headers.get("x-vitrine-reason")) {
    problems.push(`answered ${res.status} ${location ?? ""}: neither a redirect to a canonical /private/ path nor a refusal`);
  }
  results.push([`spelling reaches the gate and is redirected or refused: ${c.path}`, problems]);
}
// The test can fail: the route vitrine used to declare lets many of these past the gate.
const missed = spellings.filter((c) => !old.routed(c.path)).map((c) => c.path);
results.push([`"/private/*" (${old.patterns}) misses at least 20 spellings (${missed.length}: ${missed.slice(0, 4).join(" ")} …)`, missed.length >= 20 ? [] : ["it routes them"]]);
report(results);
