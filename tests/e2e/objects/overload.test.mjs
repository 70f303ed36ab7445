// The overload bound (spec limits.md LIM-31, objects.md ERR-4): more than 1,000
// events waiting at one object fail with
// Error("Durable Object is overloaded. Too many requests queued.") and
// overloaded === true; the object keeps serving, and the stub is not broken.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "overload"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "HOT"
class_name = "Hot"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Hot"]
`;

const worker = `
import { DurableObject } from "cloudflare:workers";
export class Hot extends DurableObject {
  started = 0;
  async slow(i) { this.started++; await new Promise((r) => setTimeout(r, 200)); return i; }
  count() { return this.started; }
}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const n = Number(url.searchParams.get("n"));
    const s = env.HOT.getByName(url.searchParams.get("name"));
    const rs = await Promise.allSettled(Array.from({ length: n }, (_, i) => s.slow(i)));
    const out = { ok: 0, overloaded: 0, other: [], shapes: new Set() };
    for (const r of rs) {
      if (r.status === "fulfilled") { out.ok++; continue; }
      const e = r.reason;
      if (e.overloaded === true) {
        out.overloaded++;
        out.shapes.add(JSON.stringify([e.constructor.name, e.message, "remote" in e, "durableObjectReset" in e]));
      } else out.other.push(String(e));
    }
    out.shapes = [...out.shapes];
    out.after = await s.slow(-1);          // the same stub still works (not broken)
    out.started = await s.count();
    return Response.json(out);
  },
};
`;

let srv;
before(async () => { srv = await startDev(makeProject({ "wrangler.toml": wrangler, "index.js": worker })); });
after(async () => { assert.equal((await srv.stop()).code, 0); });

const run = async (q) => {
  const r = await fetch(srv.url + "/?" + q);
  const text = await r.text();
  assert.equal(r.status, 200, text + "\n" + srv.logs());
  return JSON.parse(text);
};

test("a fan-out of 1,500 calls from one request to one slow object: the calls past 1,000 queued are overloaded", async () => {
  const j = await run("n=1500&name=a");
  assert.deepEqual(j.other, []);
  assert.equal(j.ok + j.overloaded, 1500);
  assert.ok(j.overloaded > 0, "the overload bound fired");
  assert.ok(j.ok >= 1000, `at least the first 1,000 were served (${j.ok})`);
  assert.deepEqual(j.shapes, [JSON.stringify(["Error", "Durable Object is overloaded. Too many requests queued.", false, false])]);
  assert.equal(j.after, -1, "the object still serves afterwards, through the same stub");
  assert.equal(j.started, j.ok + 1, "refused calls never ran");
});

test("a fan-out under the bound is served whole", async () => {
  const j = await run("n=900&name=b");
  assert.deepEqual({ ok: j.ok, overloaded: j.overloaded, other: j.other }, { ok: 900, overloaded: 0, other: [] });
});
