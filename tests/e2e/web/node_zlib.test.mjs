// node:zlib under nodejs_compat (issue 10; docs/nodejs.md): known-answer bytes
// for fixed levels (from the system zlib, the one durable links), round trips in
// every wrapping, the sync/callback/promisified/stream forms, brotli, crc32, Node's
// error codes for corrupt and truncated input, and the output bound
// (maxOutputLength → RangeError ERR_BUFFER_TOO_LARGE) that keeps a zip bomb from
// growing memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import zlibNode from "node:zlib";
import { nodeCases } from "./node_cases.mjs";
import { WALK_FOR_ARRAY_BUFFERS } from "../lib.mjs";

// Each case is the body of an async function in the Worker; GET /<name> runs it.
const cases = {
  named: `return named === zlib.gzipSync;`,
  known: `
    const d = Buffer.from("hello hello hello hello");
    return {
      deflate9: zlib.deflateSync(d, { level: 9 }).toString("hex"),
      raw1: zlib.deflateRawSync(d, { level: 1 }).toString("hex"),
      gzip9: zlib.gzipSync(d, { level: 9 }).toString("hex"),
      crc: [zlib.crc32("hello"), zlib.crc32(Buffer.from("The quick brown fox jumps over the lazy dog")),
            zlib.crc32("lo", zlib.crc32("hel"))],
      inflate: zlib.inflateSync(Buffer.from("78dacb48cdc9c957c8402701680308b1", "hex")).toString(),
      gunzipString: zlib.gunzipSync(zlib.gzipSync("héllo")).toString(),
      unzip: [zlib.unzipSync(zlib.gzipSync("a")).toString(), zlib.unzipSync(zlib.deflateSync("b")).toString()],
      multiMember: zlib.gunzipSync(Buffer.concat([zlib.gzipSync("one "), zlib.gzipSync("two")])).toString(),
      consts: [zlib.constants.Z_FINISH, zlib.constants.Z_BEST_COMPRESSION, zlib.constants.BROTLI_PARAM_QUALITY,
               zlib.codes.Z_DATA_ERROR, zlib.codes["-3"], zlib.Z_SYNC_FLUSH, zlib.constants.GZIP],
    };`,
  roundtrip: `
    const big = Buffer.alloc(300000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const r = {};
    for (const [c, d] of [["deflate", "inflate"], ["gzip", "gunzip"], ["deflateRaw", "inflateRaw"],
                          ["gzip", "unzip"], ["brotliCompress", "brotliDecompress"]]) {
      const z = zlib[c + "Sync"](big);
      r[c + "/" + d] = zlib[d + "Sync"](z).equals(big) && z.length < big.length;
    }
    const dict = Buffer.from("hello world dictionary");
    const zd = zlib.deflateSync("hello world", { dictionary: dict });
    r.dict = zlib.inflateSync(zd, { dictionary: dict }).toString();
    try { zlib.inflateSync(zd); r.noDict = "no error"; } catch (e) { r.noDict = [e.message, e.code, e.errno]; }
    const ab = zlib.deflateSync(new Uint16Array([1, 2, 3]).buffer);
    r.arrayBuffer = [...zlib.inflateSync(new DataView(ab.buffer, ab.byteOffset, ab.byteLength))];
    return r;`,
  errors: `
    const r = {};
    const grab = (f) => { try { f(); return "no error"; } catch (e) { return [e.name, e.message, e.code, e.errno ?? null]; } };
    r.corrupt = grab(() => zlib.inflateSync(Buffer.from("deadbeef", "hex")));
    r.truncated = grab(() => zlib.inflateSync(Buffer.from("78da0000", "hex")));
    r.truncatedGzip = grab(() => zlib.gunzipSync(zlib.gzipSync("hello world").subarray(0, 12)));
    r.brotliCorrupt = grab(() => zlib.brotliDecompressSync(Buffer.from("deadbeefdeadbeef", "hex")));
    r.level = grab(() => zlib.deflateSync("x", { level: 10 }));
    r.type = grab(() => zlib.deflateSync(42));
    r.brotliParam = grab(() => zlib.brotliCompressSync("x", { params: { 999: 1 } }));
    r.cbCorrupt = await new Promise((res) => zlib.inflate(Buffer.from("deadbeef", "hex"), (e, v) => res(e ? e.code : "no error")));
    return r;`,
  bomb: `
    // 64 MiB of zeros deflates to ~64 KiB; inflating it is bounded
    const z = zlib.deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const r = { compressed: z.length < 200000 };
    const grab = (f) => { try { return ["ok", f().length]; } catch (e) { return [e.name, e.message, e.code]; } };
    r.limited = grab(() => zlib.inflateSync(z, { maxOutputLength: 1000000 }));
    r.limitedGunzip = grab(() => zlib.gunzipSync(zlib.gzipSync(Buffer.alloc(5000000)), { maxOutputLength: 4999999 }));
    r.fits = grab(() => zlib.inflateSync(zlib.deflateSync(Buffer.alloc(5000)), { maxOutputLength: 5000 }));
    r.byDefault = grab(() => zlib.inflateSync(z));  // a quarter of the 128 MiB heap: 32 MiB
    r.brotli = grab(() => zlib.brotliDecompressSync(zlib.brotliCompressSync(Buffer.alloc(3000000), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }), { maxOutputLength: 100000 }));
    r.stillServes = zlib.inflateSync(zlib.deflateSync("ok")).toString();
    return r;`,
  forms: `
    const { promisify } = await import("node:util");
    const r = {};
    r.callback = await new Promise((res, rej) => zlib.gzip("cb data", (e, z) => e ? rej(e) : zlib.gunzip(z, (e2, v) => e2 ? rej(e2) : res(v.toString()))));
    r.callbackOpts = await new Promise((res) => zlib.deflate("x", { level: 1 }, (e, v) => res(v.toString("hex"))));
    const gz = promisify(zlib.gzip), gunz = promisify(zlib.gunzip);
    r.promisified = (await gunz(await gz("promised"))).toString();
    const br = promisify(zlib.brotliCompress), unbr = promisify(zlib.brotliDecompress);
    r.brotliPromisified = (await unbr(await br("brotli data"))).toString();
    try { zlib.gzip("x", 5); r.noCb = "no error"; } catch (e) { r.noCb = e.code; }
    return r;`,
  streams: `
    const { pipeline, Readable } = await import("node:stream");
    const collect = (s) => new Promise((res, rej) => { const out = []; s.on("data", (c) => out.push(c)); s.on("end", () => res(Buffer.concat(out))); s.on("error", rej); });
    const r = {};
    const src = Buffer.alloc(200000);
    for (let i = 0; i < src.length; i++) src[i] = (i * 31) % 97;
    const gzip = zlib.createGzip({ level: 6, chunkSize: 1024 });
    const done = collect(gzip);
    for (let i = 0; i < src.length; i += 10000) gzip.write(src.subarray(i, i + 10000));
    gzip.end();
    const gz = await done;
    r.gzipStream = zlib.gunzipSync(gz).equals(src);
    r.bytesWritten = gzip.bytesWritten;
    const gunzip = new zlib.Gunzip({ chunkSize: 4096 });
    const back = collect(gunzip);
    gunzip.end(gz);
    r.gunzipStream = (await back).equals(src);
    // back-pressure: 1 MiB of zeros, read in 1 KiB chunks, arrives whole
    const inf = zlib.createInflate({ chunkSize: 1024 });
    const got = collect(inf);
    inf.end(zlib.deflateSync(Buffer.alloc(1 << 20)));
    r.bigInflate = (await got).length;
    r.pipeline = await new Promise((res) => {
      const out = [];
      const sink = zlib.createBrotliDecompress();
      sink.on("data", (c) => out.push(c));
      pipeline(Readable.from([Buffer.from("pipe"), Buffer.from("line")]), zlib.createBrotliCompress(), sink,
        (e) => res(e ? String(e) : Buffer.concat(out).toString()));
    });
    r.streamError = await new Promise((res) => {
      const s = zlib.createInflate();
      s.on("error", (e) => res([e.code, e.errno]));
      s.on("data", () => {});
      s.end(Buffer.from("not zlib data"));
    });
    // flush() hands out what was written so far, with the stream still open
    const d = zlib.createDeflate();
    const parts = [];
    d.on("data", (c) => parts.push(c));
    d.write("partial");
    await new Promise((res) => d.flush(res));
    await new Promise((res) => setTimeout(res, 1));
    r.flushed = zlib.inflateSync(Buffer.concat(parts), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
    d.end();
    return r;`,
  // Hostile: the codec's native state (C pointers) must not be reachable from a
  // stream: no ArrayBuffer among the values a Worker can walk to from one.
  noHandle: `
    ${WALK_FOR_ARRAY_BUFFERS}
    for (const make of ["createGzip", "createGunzip", "createDeflate", "createInflate", "createDeflateRaw",
                        "createInflateRaw", "createUnzip", "createBrotliCompress", "createBrotliDecompress"]) {
      const z = zlib[make]();
      z.write("some data");
      walk(z, make, 3);
    }
    return found;`,
};

const { run } = nodeCases(cases, { top: `import zlib from "node:zlib"; import { gzipSync as named } from "zlib";` });

test("node:zlib: byte-exact deflate/deflateRaw/gzip at fixed levels, crc32, constants", async () => {
  const d = Buffer.from("hello hello hello hello");
  const out = await run("known");
  assert.deepEqual(out, {
    deflate9: "78dacb48cdc9c957c8402701680308b1",
    raw1: "cb48cdc9c957c8402701",
    gzip9: "1f8b0800000000000203cb48cdc9c957c8402701e3513d8d17000000",
    crc: [907060870, 1095738169, 907060870],
    inflate: "hello hello hello hello",
    gunzipString: "héllo",
    unzip: ["a", "b"],
    multiMember: "one two",
    consts: [4, 9, 1, -3, "Z_DATA_ERROR", 2, 3],
  });
  // the same answers as Node's own zlib
  assert.equal(out.deflate9, zlibNode.deflateSync(d, { level: 9 }).toString("hex"));
  assert.equal(out.gzip9, zlibNode.gzipSync(d, { level: 9 }).toString("hex"));
  assert.equal(out.crc[0], zlibNode.crc32 ? zlibNode.crc32("hello") : 907060870);
  assert.equal(await run("named"), true);
});

test("node:zlib: round trips in every wrapping, brotli, dictionaries, ArrayBuffer/DataView input", async () => {
  assert.deepEqual(await run("roundtrip"), {
    "deflate/inflate": true, "gzip/gunzip": true, "deflateRaw/inflateRaw": true, "gzip/unzip": true,
    "brotliCompress/brotliDecompress": true,
    dict: "hello world", noDict: ["Missing dictionary", "Z_NEED_DICT", 2],
    arrayBuffer: [1, 0, 2, 0, 3, 0],
  });
});

test("node:zlib: corrupt and truncated input fail with Node's codes", async () => {
  const out = await run("errors");
  assert.deepEqual(out, {
    corrupt: ["Error", "incorrect header check", "Z_DATA_ERROR", -3],
    truncated: ["Error", "unexpected end of file", "Z_BUF_ERROR", -5],
    truncatedGzip: ["Error", "unexpected end of file", "Z_BUF_ERROR", -5],
    brotliCorrupt: ["Error", "Decompression failed", "ERR__ERROR_FORMAT_PADDING_2", -15],
    level: ["RangeError", 'The value of "options.level" is out of range. It must be >= -1 and <= 9. Received 10', "ERR_OUT_OF_RANGE", null],
    type: ["TypeError", 'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type number (42)', "ERR_INVALID_ARG_TYPE", null],
    brotliParam: ["RangeError", "999 is not a valid Brotli parameter", "ERR_BROTLI_INVALID_PARAM", null],
    cbCorrupt: "Z_DATA_ERROR",
  });
  // Node says the same for the same bytes
  for (const [k, f] of [["corrupt", () => zlibNode.inflateSync(Buffer.from("deadbeef", "hex"))],
                        ["truncated", () => zlibNode.inflateSync(Buffer.from("78da0000", "hex"))],
                        ["brotliCorrupt", () => zlibNode.brotliDecompressSync(Buffer.from("deadbeefdeadbeef", "hex"))]])
    assert.throws(f, (e) => e.message === out[k][1] && e.code === out[k][2] && e.errno === out[k][3]);
});

test("node:zlib: output is bounded (maxOutputLength, and by default a quarter of the heap): a zip bomb is a RangeError", async () => {
  const tooLarge = (n) => ["RangeError", `Cannot create a Buffer larger than ${n} bytes`, "ERR_BUFFER_TOO_LARGE"];
  assert.deepEqual(await run("bomb"), {
    compressed: true,
    limited: tooLarge(1000000),
    limitedGunzip: tooLarge(4999999),
    fits: ["ok", 5000],
    byDefault: tooLarge(32 * 1024 * 1024),
    brotli: tooLarge(100000),
    stillServes: "ok",
  });
});

test("node:zlib: callback and promisified forms", async () => {
  assert.deepEqual(await run("forms"), {
    callback: "cb data", callbackOpts: zlibNode.deflateSync("x", { level: 1 }).toString("hex"),
    promisified: "promised", brotliPromisified: "brotli data", noCb: "ERR_INVALID_ARG_TYPE",
  });
});

test("node:zlib: Transform streams (createGzip, Gunzip, brotli in a pipeline, errors, flush)", async () => {
  assert.deepEqual(await run("streams"), {
    gzipStream: true, bytesWritten: 200000, gunzipStream: true, bigInflate: 1 << 20,
    pipeline: "pipeline", streamError: ["Z_DATA_ERROR", -3], flushed: "partial",
  });
});

test("node:zlib: a stream offers no way to its native codec state (hostile Worker code)", async () => {
  assert.deepEqual(await run("noHandle"), []);
});
