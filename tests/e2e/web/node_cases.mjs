// A Worker under nodejs_compat that runs named cases: each case is the body of an
// async function; GET /<name> runs it and answers { ok: value } or { err: stack }.
// Used by the node_*.test.mjs files.
import { before, after } from "node:test";
import { makeProject, startDev } from "../lib.mjs";

// Starts the Worker before the file's tests (top: module-level code put before
// the cases; date: its compatibility date) and returns run(name) → the case's value.
export function nodeCases(cases, { top = "", date = "2026-11-01" } = {}) {
  let srv;
  const ctx = {};
  before(async () => {
    ctx.dir = makeProject({
      "wrangler.toml": `name = "n"\nmain = "src/index.js"\ncompatibility_date = "${date}"\ncompatibility_flags = ["nodejs_compat"]\n`,
      "src/index.js": `${top}
        const cases = {${Object.entries(cases).map(([k, v]) => `${k}: async () => { ${v} }`).join(",\n")}};
        export default { async fetch(req) {
          const name = new URL(req.url).pathname.slice(1);
          try { return Response.json({ ok: await cases[name]() }); }
          catch (e) { return Response.json({ err: String(e && e.stack || e) }); }
        } };`,
    });
    srv = await startDev(ctx.dir);
  });
  after(async () => { await srv?.stop(); });
  ctx.run = async (name) => {
    const r = await (await fetch(`${srv.url}/${name}`)).json();
    if (r.err) throw new Error("in the Worker: " + r.err);
    return r.ok;
  };
  return ctx;
}
