// vitrine share gate, a Cloudflare Pages worker written by `vitrine build` (do not edit): it sees
// every request; public paths go straight to the assets, /private/ only through the gate.
{% include "gate.js" %}

export default {
  async fetch(request, env) {
    const r = await gate(request);
    if (r == FILE) return privately(await env.ASSETS.fetch(request));
    if (r) return r;
    if (segments(new URL(request.url).pathname)[0] != "_worker.js") return env.ASSETS.fetch(request);
    const missing = await env.ASSETS.fetch(new URL("/404.html", request.url));
    return new Response(missing.ok ? missing.body : "Not found", { status: 404, headers: missing.headers });
  },
};
