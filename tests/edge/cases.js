// Shared by the Deno and workerd gate tests: loads tests/vectors/gate-cases.json, fills in the
// tokens, and checks one HTTP answer against a case so both runtimes are judged by the same rules.

import { isSealed, open, unhex } from "./seal.mjs";

export const repo = new URL("../../", import.meta.url);
export const data = JSON.parse(await Deno.readTextFile(new URL("tests/vectors/gate-cases.json", repo)));

// The cases of a gate-cases.json object with their placeholders replaced by its tokens.
export function fillCases(d) {
  const fill = (s) => s.replace(/\{(\w+)\}/g, (m, k) => (k in d.tokens ? d.tokens[k] : m));
  return d.cases.map((c) => ({
    ...c,
    query: fill(c.query),
    cookies: c.cookies.map(fill),
    expect: JSON.parse(fill(JSON.stringify(c.expect))),
  }));
}

// The cases of tests/vectors/gate-cases.json.
export const cases = fillCases(data);

// Whether the built site has a file for a canonical URL path (folders serve their index.html).
export async function exists(site, path) {
  const rel = decodeURIComponent(path.split("?")[0]).replace(/^\//, "");
  const file = rel === "" || rel.endsWith("/") ? rel + "index.html" : rel;
  try {
    return (await Deno.stat(new URL(file, site))).isFile;
  } catch {
    return false;
  }
}

// Parses one Set-Cookie header into the attribute names used by the cases.
export function parseCookie(h) {
  const [pair, ...attrs] = h.split(";").map((s) => s.trim());
  const i = pair.indexOf("=");
  const out = { name: pair.slice(0, i), value: pair.slice(i + 1), http_only: false, secure: false };
  for (const a of attrs) {
    const [k, v] = a.split("=");
    const key = k.toLowerCase();
    if (key === "path") out.path = v;
    else if (key === "max-age") out.max_age = Number(v);
    else if (key === "httponly") out.http_only = true;
    else if (key === "secure") out.secure = true;
    else if (key === "samesite") out.same_site = v;
    else out["unexpected " + k] = v ?? true;
  }
  return out;
}

// Checks an answer {status, header(name), body} against a case; returns the list of problems.
// `host.indexRedirect`: the file server answers an existing `…/index.html` with this status and
// a redirect to `…/`, as Cloudflare Pages does (308). `host.edgeKey` (hex): the site's files are
// sealed under it, and a served file's body must be the file decrypted.
export async function check(c, res, site, host = {}) {
  const bad = [];
  const want = c.expect;
  const sorted = (v) => (v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort()) : v);
  const expectEq = (what, got, exp) => {
    if (JSON.stringify(sorted(got)) !== JSON.stringify(sorted(exp))) bad.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(exp)}`);
  };
  const gated = want.answer !== "pass";
  if (gated) {
    expectEq("Cache-Control", res.header("cache-control"), data.gated_headers.cache_control);
    expectEq("X-Robots-Tag", res.header("x-robots-tag"), data.gated_headers.x_robots_tag);
    expectEq("Referrer-Policy", res.header("referrer-policy"), data.gated_headers.referrer_policy);
  }
  const reason = res.header("x-vitrine-reason");
  switch (want.answer) {
    case "pass":
    case "serve": {
      const found = await exists(site, c.path);
      if (found && host.indexRedirect && c.path.endsWith("/index.html")) {
        expectEq("status", res.status, host.indexRedirect);
        expectEq("Location", res.header("location"), c.path.slice(0, -"index.html".length));
        expectEq("X-Vitrine-Reason", reason, null);
        break;
      }
      const status = found ? 200 : 404;
      expectEq("status", res.status, status);
      expectEq("X-Vitrine-Reason", reason, null);
      if (want.answer === "pass") expectEq("Cache-Control", res.header("cache-control") === data.gated_headers.cache_control, false);
      if (status === 200 && c.method !== "HEAD" && res.body.length === 0) bad.push("empty body for an existing file");
      if (status === 200 && c.method !== "HEAD" && host.edgeKey) {
        // The file as the host finds it (dot segments resolved), and its path from the output folder.
        const file = new URL(decodeURIComponent(c.path.split("?")[0]).replace(/^\//, "").replace(/(^|\/)$/, "$1index.html"), site);
        const rel = decodeURIComponent(file.pathname.slice(site.pathname.length));
        const bytes = await Deno.readFile(file);
        if (isSealed(bytes)) {
          const plain = await open(unhex(host.edgeKey), rel, bytes);
          if (!plain) bad.push(`${rel} on disk does not open with the site's edge key`);
          else if (res.body !== new TextDecoder().decode(plain)) bad.push(`the body is not ${rel} decrypted`);
        }
      }
      break;
    }
    case "redirect": {
      expectEq("status", res.status, want.status);
      expectEq("Location", res.header("location"), want.location);
      expectEq("X-Vitrine-Reason", reason, null);
      const sc = res.header("set-cookie");
      expectEq("Set-Cookie", sc ? parseCookie(sc) : null, want.set_cookie ?? null);
      break;
    }
    case "refuse": {
      expectEq("status", res.status, want.status);
      expectEq("X-Vitrine-Reason", reason, want.reason);
      expectEq("Set-Cookie", res.header("set-cookie"), null);
      expectEq("Content-Type", res.header("content-type"), "text/html; charset=utf-8");
      if (c.method === "HEAD") expectEq("HEAD body length", res.body.length, 0);
      else {
        if (!/<html[\s>]/i.test(res.body)) bad.push("refusal body is not an HTML page");
        if (!res.body.includes(`>${want.status}<`) && !res.body.includes(String(want.status))) bad.push("refusal page does not show its status");
        for (const secret of ["cortex", "hippo", "trace-1", "draft"]) {
          if (res.body.toLowerCase().includes(secret)) bad.push(`refusal page names "${secret}"`);
        }
      }
      break;
    }
    default:
      bad.push(`unknown answer ${want.answer}`);
  }
  return bad;
}

// No byte of the site's signing key may reach the module: not as hex, base64 or base64url.
export function leaks(source) {
  const seed = data.signing_seed_for_leak_tests;
  const bytes = Uint8Array.from(seed.match(/../g), (x) => parseInt(x, 16));
  const b64 = btoa(String.fromCharCode(...bytes));
  const spellings = [seed, seed.toUpperCase(), b64.slice(0, 40), b64.slice(0, 40).replace(/\+/g, "-").replace(/\//g, "_")];
  return spellings.filter((s) => source.includes(s)).map((s) => `the module contains the signing key as ${s}`);
}

// Runs named checks, prints failures and the closing `N passed, N failed` line, and sets the exit code.
export function report(results) {
  let passed = 0, failed = 0;
  for (const [name, problems] of results) {
    if (problems.length) {
      failed++;
      console.log(`FAIL ${name}\n  ${problems.join("\n  ")}`);
    } else passed++;
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed) Deno.exit(1);
}
