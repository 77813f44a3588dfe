// A tiny static file server for built sites, shared by the browser suite and the benchmark.
// It checks no share link (the suite tests the pages, not the edge), but serves private files
// opened as a gate serves them when given `open` (`siteDir`'s, see sealed.mjs).
import { createServer } from "node:http";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".dzi": "application/xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".txt": "text/plain; charset=utf-8",
  ".swc": "text/plain; charset=utf-8",
  ".nml": "application/xml",
};

/** Types a static host compresses (Netlify and Pages gzip or brotli text, never images). */
const TEXT = /^(text\/|application\/(json|xml))|svg/;

/** Serves `dir` on 127.0.0.1 at a random free port, sealed files opened with `open`; resolves to
 * `{url, close}`. With `gzip`, text is sent compressed to clients that accept it, as the
 * platforms do, so page weights measured through it are what a reader downloads. */
export function serve(dir, open, { gzip = false } = {}) {
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        if (!path.endsWith("/")) {
          res.writeHead(301, { Location: path + "/" }).end();
          return;
        }
        file = join(file, "index.html");
        st = statSync(file);
      }
    } catch {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const type = TYPES[extname(file).toLowerCase()] || "application/octet-stream";
    const rel = file.slice(root.length).split(sep).join("/");
    if (open && rel.startsWith("private/")) {
      const body = open(rel, readFileSync(file));
      res.writeHead(200, { "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (gzip && TEXT.test(type) && /\bgzip\b/.test(req.headers["accept-encoding"] || "")) {
      const body = gzipSync(readFileSync(file));
      res.writeHead(200, { "Content-Type": type, "Content-Length": body.length, "Content-Encoding": "gzip", "Cache-Control": "no-cache", Vary: "Accept-Encoding" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(200, { "Content-Type": type, "Content-Length": st.size, "Cache-Control": "no-cache" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((r) => server.close(r)),
      })
    )
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = await serve(process.argv[2] || ".");
  console.log(s.url);
}
