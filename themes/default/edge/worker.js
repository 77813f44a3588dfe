// vitrine share gate for Cloudflare Pages (advanced mode), written by `vitrine build`; do not edit.
// It sees every request: public paths go straight to the assets, /private/ only through the gate.
{% include "gate.js" %}

export default {
  async fetch(request, env) {
    const d = await gate(request);
    if (d.response) return d.response;
    if (d.kind == FILE) return privateFile(await env.ASSETS.fetch(request));
    if (d.segs[0] != "_worker.js") return env.ASSETS.fetch(request);
    const missing = await env.ASSETS.fetch(new URL("/404.html", request.url));
    return new Response(missing.ok ? missing.body : "Not found", { status: 404, headers: missing.headers });
  },
};
