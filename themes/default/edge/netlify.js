// vitrine share gate (Netlify edge function), written by `vitrine build`: do not edit.
// Netlify runs it before serving anything; public paths go straight to context.next(), /private/
// only through the gate, which serves the file with context.next() too.
{% include "gate.js" %}

export default async (request, context) => {
  const r = await gate(request);
  return r == FILE ? privately(await context.next()) : r || context.next();
};

// Every path, not "/private/*": Netlify matches route globs case-sensitively on the path as sent
// but serves files case-insensitively and decoded, so `/PRIVATE/…`, `/%70rivate/…` or `//private/…`
// would reach private files without the gate (docs/deploy.md, "Netlify route").
export const config = { path: "/*" };
