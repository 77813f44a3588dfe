// Starts workerd on 127.0.0.1 with a built site's _worker.js and the site as its assets, the way
// Cloudflare Pages runs it, and speaks raw HTTP/1.1 to it. Used by the gate test and the benchmark.

import { repo } from "./cases.js";

const workerd = Deno.env.get("WORKERD") ?? new URL("node_modules/@cloudflare/workerd-linux-64/bin/workerd", repo).pathname;

// Starts workerd for SITE_DIR; returns {port, source (the worker as built), raw, stop}.
// `edgeKey`: the Pages secret VITRINE_EDGE_KEY, bound as Pages binds a secret (a text binding);
// without it the worker has none. `worker`: the worker's source, when SITE_DIR has no _worker.js.
export async function startWorkerd(siteDir, { edgeKey, worker } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "vitrine-workerd-" });
  const source = worker ?? await Deno.readTextFile(`${siteDir}/_worker.js`);
  // The worker as built, plus one export line so the test entry can reach its verifier.
  await Deno.writeTextFile(`${dir}/_worker.js`, source + "\nexport const __test = { verify, ed25519, unseal };\n");

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
      if (path === "/__test/loop") {
        // n requests through the worker in this isolate, with an asset server that answers at once
        // (with "ok", or with the bytes of \`file\`, hex, and the edge key \`key\` bound), each body read.
        const { n, url, cookie, file, key } = await request.json();
        const body = file ? bytes(file) : "ok";
        const assets = { ASSETS: { fetch: async () => new Response(body) }, VITRINE_EDGE_KEY: key };
        for (let i = 0; i < n; i++) {
          const res = await worker.fetch(new Request(url, { headers: cookie ? { Cookie: cookie } : {} }), assets);
          await res.arrayBuffer();
          if (res.status !== 200) return new Response("status " + res.status, { status: 500 });
        }
        return new Response("done");
      }
      if (path === "/__test/unseal") {
        // Sealed files through the worker's decryption: {url, method, sealed (hex), key}.
        const out = [];
        for (const v of await request.json()) {
          const res = await __test.unseal(new Request(v.url, { method: v.method }), new Response(bytes(v.sealed), { headers: { etag: '"x"' } }), v.key, "fix");
          const body = new Uint8Array(await res.arrayBuffer());
          out.push({ status: res.status, body: Array.from(body, (x) => x.toString(16).padStart(2, "0")).join("") });
        }
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

  // Cloudflare Pages' asset server as far as the gate can tell: folders serve index.html, an
  // existing …/index.html answers 308 to …/ (as \`wrangler pages dev\` shows), missing files the
  // site's 404.html with status 404, and content types (workerd's disk service sends none; like
  // the real servers, the mock knows no type for .dzi and sends application/octet-stream); an ETag
  // and a length, a Range answered 206 with the slice and a matching If-None-Match 304.
  await Deno.writeTextFile(`${dir}/assets.js`, `
  const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript", css: "text/css", json: "application/json", svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", webp: "image/webp", xml: "application/xml" };
  export default {
    async fetch(request, env) {
      const url = new URL(request.url);
      const file = url.pathname.endsWith("/") ? url.pathname + "index.html" : url.pathname;
      const res = await env.DISK.fetch("http://disk" + file, { method: request.method === "HEAD" ? "HEAD" : "GET" });
      if (res.status === 200 && url.pathname.endsWith("/index.html")) {
        return new Response(null, { status: 308, headers: { location: url.pathname.slice(0, -"index.html".length) + url.search } });
      }
      if (res.status === 200 && !res.headers.get("content-type")?.includes("json")) {
        const bytes = new Uint8Array(await res.arrayBuffer());
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes), 0, 8);
        const etag = '"' + Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("") + '"';
        const headers = { "content-type": TYPES[file.split(".").pop()] ?? "application/octet-stream", etag };
        if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
        const range = request.headers.get("range")?.match(/^bytes=(\\d+)-(\\d+)$/);
        const body = range ? bytes.slice(Number(range[1]), Number(range[2]) + 1) : bytes;
        return new Response(request.method === "HEAD" ? null : body, { status: range ? 206 : 200, headers });
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
    bindings = [ (name = "ASSETS", service = "assets")${edgeKey ? `, (name = "VITRINE_EDGE_KEY", text = ${JSON.stringify(edgeKey)})` : ""} ],
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

  const raw = (...args) => rawHttp(port, ...args);


  for (let i = 0; ; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (i > 200) {
        await stop();
        throw new Error("workerd did not start listening within 20 s");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, source, raw, stop };
}

/// One raw HTTP/1.1 exchange with 127.0.0.1:PORT, the target sent exactly as written (so `..`, `//`
/// and odd escapes reach the server); returns {status, header(name), body}.
export async function rawHttp(port, method, target, headers, body = "") {
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
