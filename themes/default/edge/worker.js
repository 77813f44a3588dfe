// vitrine share gate (Cloudflare Pages worker), written by `vitrine build`: do not edit.
// It sees every request: public paths go straight to the assets, /private/ only through the gate,
// and its own source is never served (real Pages hides it too; a plain asset server would not).
// It is a public file, so it carries no key: the edge key that opens the sealed private files is
// the Pages secret VITRINE_EDGE_KEY.
{% include "gate.js" %}

export default {
  async fetch(request, env) {
    const r = await gate(request);
    if (r == FILE) return unseal(request, await env.ASSETS.fetch(whole(request)), env.VITRINE_EDGE_KEY,
      "set the Pages secret VITRINE_EDGE_KEY: vitrine secret --edge | npx wrangler pages secret put VITRINE_EDGE_KEY");
    if (r) return r;
    // The path alone is parsed: a public request may carry a query of any length.
    const href = request.url, q = href.indexOf("?");
    const own = segments(new URL(q < 0 ? href : href.slice(0, q)).pathname)[0] == "_worker.js";
    const res = await env.ASSETS.fetch(own ? new URL("/404.html", request.url) : request);
    return own ? new Response(res.body, { status: 404, headers: res.headers }) : res;
  },
};
