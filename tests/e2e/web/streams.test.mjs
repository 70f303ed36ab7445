// Streams inside a Worker (spec WEB-7): the reader loop, tee, pipeTo/pipeThrough,
// TransformStream, WritableStream backpressure, errors and cancellation travelling
// through, ReadableStream.from, and stream bodies both ways over HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject, raw } from "../lib.mjs";

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "streams"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": `
const te = new TextEncoder(), td = new TextDecoder();
const err = (e) => ({ name: e?.name, message: e?.message ?? String(e) });
const upper = () => new TransformStream({ transform(chunk, c) { c.enqueue(te.encode(td.decode(chunk).toUpperCase())); } });
const cases = {
  async readerLoop() {
    let i = 0;
    const s = new ReadableStream({ pull(c) { if (i < 3) c.enqueue("c" + i++); else c.close(); } });
    const r = s.getReader(), got = [];
    for (;;) { const { value, done } = await r.read(); if (done) break; got.push(value); }
    await r.closed;
    return got;
  },
  async tee() {
    const [a, b] = new Response("same bytes").body.tee();
    return [await new Response(a).text(), await new Response(b).text()];
  },
  async pipeThroughUpper() {
    return await new Response(new Response("shout this").body.pipeThrough(upper())).text();
  },
  async asyncIteration() {
    const got = [];
    for await (const c of ReadableStream.from(["x", "y", "z"])) got.push(c);
    return got;
  },
  async breakCancels() {
    let reason = "not cancelled";
    const s = new ReadableStream({ pull(c) { c.enqueue(1); }, cancel(r) { reason = r === undefined ? "cancelled" : String(r); } });
    for await (const c of s) break;
    return { reason, locked: s.locked };
  },
  async cancelReason() {
    let reason;
    const s = new ReadableStream({ start(c) { c.enqueue("a"); }, cancel(r) { reason = r; } });
    const r = s.getReader();
    await r.read();
    await r.cancel("enough");
    return { reason, after: await r.read() };
  },
  async sourceError() {
    const s = new ReadableStream({ start(c) { c.enqueue("ok"); c.error(new RangeError("source broke")); } });
    const r = s.getReader();
    try { await r.read(); return "no error"; } catch (e) { return err(e); }
  },
  async transformErrorPropagates() {
    const t = new TransformStream({ transform() { throw new Error("transform broke"); } });
    const piped = new Response("data").body.pipeTo(t.writable).then(() => "resolved", err);
    const read = t.readable.getReader().read().then(() => "read ok", err);
    return { piped: await piped, read: await read };
  },
  async pipeToAbortsDestOnError() {
    let aborted;
    const src = new ReadableStream({ start(c) { c.enqueue("one"); setTimeout(() => c.error(new Error("late failure")), 5); } });
    const got = [];
    const dest = new WritableStream({ write(c) { got.push(c); }, abort(r) { aborted = r.message; } });
    const res = await src.pipeTo(dest).then(() => "resolved", err);
    return { res, aborted, got };
  },
  async pipeToCancelsSourceOnSinkError() {
    let cancelled;
    const src = new ReadableStream({ pull(c) { c.enqueue("x"); }, cancel(r) { cancelled = r.message; } });
    const dest = new WritableStream({ write() { throw new Error("sink full"); } });
    const res = await src.pipeTo(dest).then(() => "resolved", err);
    return { res, cancelled };
  },
  async writableBackpressure() {
    const writes = [];
    let release;
    const gate = new Promise((r) => { release = r; });
    const w = new WritableStream({ async write(c) { writes.push(c); await gate; } }, { highWaterMark: 2 });
    const wr = w.getWriter();
    const sizes = [wr.desiredSize];
    wr.write("a"); sizes.push(wr.desiredSize);
    wr.write("b"); sizes.push(wr.desiredSize);
    wr.write("c"); sizes.push(wr.desiredSize);
    let ready = false;
    wr.ready.then(() => { ready = true; });
    await new Promise((r) => setTimeout(r, 5));
    const readyWhileFull = ready;
    release();
    await wr.close();
    return { sizes, readyWhileFull, ready, writes };
  },
  async pullOnDemand() {
    let pulls = 0;
    const s = new ReadableStream({ pull(c) { pulls++; c.enqueue(pulls); } }, { highWaterMark: 2 });
    await new Promise((r) => setTimeout(r, 5));
    const before = pulls;
    const r = s.getReader();
    await r.read(); await r.read();
    await new Promise((r) => setTimeout(r, 5));
    return { before, after: pulls };
  },
  async lockedBody() {
    const res = new Response("x");
    res.body.getReader();
    const locked = res.body.locked;
    try { await res.text(); return { locked, text: "read" }; } catch (e) { return { locked, used: res.bodyUsed, error: err(e) }; }
  },
  async byteLengthStrategy() {
    const s = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); } }, new ByteLengthQueuingStrategy({ highWaterMark: 16 }));
    return s.getReader ? 16 - 10 : 0;
  },
};
export default { async fetch(req) {
  const u = new URL(req.url);
  const name = u.pathname.slice(1);
  if (name === "upper") return new Response(req.body.pipeThrough(upper()), { headers: { "content-type": "text/plain" } });
  if (name === "count") {
    let n = 0;
    for await (const c of req.body) n += c.byteLength;
    return new Response(String(n));
  }
  if (name === "generated") {
    let i = 0;
    return new Response(new ReadableStream({ pull(c) { if (i < 100) c.enqueue(te.encode("line " + i++ + "\\n")); else c.close(); } }));
  }
  if (name === "broken") {
    return new Response(new ReadableStream({ start(c) { c.enqueue(te.encode("partial")); setTimeout(() => c.error(new Error("stream broke")), 5); } }));
  }
  if (name === "strings") return new Response(new ReadableStream({ start(c) { c.enqueue("not bytes"); c.close(); } }));
  if (!cases[name]) return new Response("?", { status: 404 });
  try { return Response.json(await cases[name]()); } catch (e) { return Response.json({ thrown: err(e) }, { status: 500 }); }
} };`,
  });
  srv = await startDev(dir);
});
after(async () => { if (srv) assert.equal((await srv.stop()).code, 0); });

const j = async (name) => { const r = await fetch(`${srv.url}/${name}`); const v = await r.json(); assert.equal(r.status, 200, JSON.stringify(v)); return v; };

test("a reader loop reads every chunk, then done", async () => {
  assert.deepEqual(await j("readerLoop"), ["c0", "c1", "c2"]);
});
test("tee gives both branches every chunk", async () => {
  assert.deepEqual(await j("tee"), ["same bytes", "same bytes"]);
});
test("pipeThrough a TransformStream that upper-cases text", async () => {
  assert.equal(await j("pipeThroughUpper"), "SHOUT THIS");
});
test("async iteration over ReadableStream.from; break cancels the stream and releases it", async () => {
  assert.deepEqual(await j("asyncIteration"), ["x", "y", "z"]);
  assert.deepEqual(await j("breakCancels"), { reason: "cancelled", locked: false });
});
test("cancel reaches the source with its reason; reads after it are done", async () => {
  assert.deepEqual(await j("cancelReason"), { reason: "enough", after: { done: true } });
});
test("errors travel: source error rejects read; a throwing transform fails the pipe and the readable", async () => {
  assert.deepEqual(await j("sourceError"), { name: "RangeError", message: "source broke" });
  const t = await j("transformErrorPropagates");
  assert.deepEqual(t.piped, { name: "Error", message: "transform broke" });
  assert.deepEqual(t.read, { name: "Error", message: "transform broke" });
  const a = await j("pipeToAbortsDestOnError");
  assert.deepEqual(a, { res: { name: "Error", message: "late failure" }, aborted: "late failure", got: ["one"] });
  const c = await j("pipeToCancelsSourceOnSinkError");
  assert.deepEqual(c, { res: { name: "Error", message: "sink full" }, cancelled: "sink full" });
});
test("WritableStream: desiredSize falls with queued writes; ready waits while full", async () => {
  const r = await j("writableBackpressure");
  assert.deepEqual(r.sizes, [2, 1, 0, -1]);
  assert.equal(r.readyWhileFull, false);
  assert.equal(r.ready, true);
  assert.deepEqual(r.writes, ["a", "b", "c"]);
});
test("pull fills the queue to the highWaterMark and no further", async () => {
  const r = await j("pullOnDemand");
  assert.equal(r.before, 2);
  assert.equal(r.after, 4);
});
test("a body locked to a reader cannot be read again", async () => {
  const r = await j("lockedBody");
  assert.equal(r.locked, true);
  assert.equal(r.error.name, "TypeError");
});
test("request.body as a stream, a stream Response back: upper-cased on the way", async () => {
  const r = await fetch(`${srv.url}/upper`, { method: "POST", body: "hello streams" });
  assert.equal(await r.text(), "HELLO STREAMS");
  const big = "x".repeat(300000);
  const c = await fetch(`${srv.url}/count`, { method: "POST", body: big });
  assert.equal(await c.text(), "300000");
});
test("a generated stream body reaches the client chunked and whole", async () => {
  const r = await fetch(`${srv.url}/generated`);
  assert.equal(r.headers.get("transfer-encoding"), "chunked");
  const text = await r.text();
  assert.equal(text.split("\n").length, 101);
  assert.ok(text.endsWith("line 99\n"));
});
test("a stream body that errors breaks the connection instead of ending a short body", async () => {
  const { text } = await raw(srv.port, "GET /broken HTTP/1.1\r\nHost: t\r\n\r\n", { ms: 5000 });
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.match(text, /partial/);
  assert.ok(!text.includes("0\r\n\r\n"), "no terminating chunk");
  await srv.waitForLog(/the response body stream failed: Error: stream broke/);
  const s = await raw(srv.port, "GET /strings HTTP/1.1\r\nHost: t\r\n\r\n", { ms: 5000 });
  assert.ok(!s.text.includes("0\r\n\r\n"));
  await srv.waitForLog(/did not return bytes/);
});
