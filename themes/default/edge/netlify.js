// vitrine share gate (Netlify edge function), written by `vitrine build`: do not edit.
// Netlify runs it before serving anything; public paths go straight to context.next(), /private/
// only through the gate, which fetches the file with context.next() too and decrypts it.
{% include "gate.js" %}

// The edge key that opens the site's sealed private files (64 hex digits; null when the site has
// no private item). This module lives outside public/, so Netlify never serves it.
const EDGE_KEY = {{ edge_key }};

export default async (request, context) => {
  const r = await gate(request);
  if (r == FILE) return unseal(request, await context.next(whole(request)), EDGE_KEY, "run `vitrine build` again and deploy");
  return r || context.next();
};

// Every path, not "/private/*": Netlify matches route globs case-sensitively on the path as sent
// but serves files case-insensitively and decoded, so `/PRIVATE/…`, `/%70rivate/…` or `//private/…`
// would reach private files without the gate (docs/deploy.md, "Netlify route").
export const config = { path: "/*" };
