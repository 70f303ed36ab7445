// WebCrypto inside a Worker (spec WEB-10; docs/crypto.md): known-answer vectors
// from the RFCs and NIST (FIPS 180 and RFC 1321 digests, RFC 4231 HMAC, RFC 5869
// HKDF, RFC 6070 / RFC 7914 PBKDF2, SP 800-38A AES-CBC/CTR, GCM test cases, RFC 3394
// AES-KW, RFC 8032 Ed25519, RFC 7748 X25519), checked first against Node's own
// WebCrypto in this process so a typo in a vector fails loudly; then RSA, ECDSA,
// ECDH and RSA-OAEP across the two implementations both ways (Node makes the key
// and signs, durable verifies, and the reverse); ECDSA P-256 before and after a key's
// precomputed table (valid, high-S, tampered, r/s zero or >= n); generateKey and JWK/pkcs8/spki
// round trips; wrapKey/unwrapKey; DigestStream; DOMException names of errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { startDev, makeProject } from "../lib.mjs";

const subtle = globalThis.crypto.subtle;
const hex = (b) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));
const utf8 = (s) => new TextEncoder().encode(s);

const WORKER = `
const subtle = crypto.subtle;
const hex = (b) => Array.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((x) => parseInt(x, 16)));
const utf8 = (s) => new TextEncoder().encode(s);
const err = (e) => ({ error: e?.name, isDOM: e instanceof DOMException, message: e?.message ?? String(e) });
const outcome = (p) => p.then((v) => (v instanceof ArrayBuffer ? hex(v) : v), err);
const cases = {
  async digest({ alg, data }) { return hex(await subtle.digest(alg, unhex(data))); },
  async hmac({ hash, key, data }) {
    const k = await subtle.importKey("raw", unhex(key), { name: "HMAC", hash }, false, ["sign", "verify"]);
    const sig = await subtle.sign("HMAC", k, unhex(data));
    return { sig: hex(sig), ok: await subtle.verify("HMAC", k, sig, unhex(data)) };
  },
  async hkdf({ hash, ikm, salt, info, bits }) {
    const k = await subtle.importKey("raw", unhex(ikm), "HKDF", false, ["deriveBits", "deriveKey"]);
    const okm = await subtle.deriveBits({ name: "HKDF", hash, salt: unhex(salt), info: unhex(info) }, k, bits);
    const aes = await subtle.deriveKey({ name: "HKDF", hash, salt: unhex(salt), info: unhex(info) }, k,
      { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    return { okm: hex(okm), aes: hex(await subtle.exportKey("raw", aes)), alg: aes.algorithm };
  },
  async pbkdf2({ hash, password, salt, iterations, bits }) {
    const k = await subtle.importKey("raw", utf8(password), { name: "PBKDF2" }, false, ["deriveBits"]);
    return hex(await subtle.deriveBits({ name: "PBKDF2", hash, salt: utf8(salt), iterations }, k, bits));
  },
  async aes({ name, key, params, data }) {
    const k = await subtle.importKey("raw", unhex(key), name, true, ["encrypt", "decrypt"]);
    const p = { name, ...Object.fromEntries(Object.entries(params).map(([n, v]) => [n, typeof v === "string" ? unhex(v) : v])) };
    const ct = await subtle.encrypt(p, k, unhex(data));
    const pt = await subtle.decrypt(p, k, ct);
    const bad = new Uint8Array(ct).slice(); bad[bad.length - 1] ^= 1;
    return { ct: hex(ct), pt: hex(pt), tampered: await outcome(subtle.decrypt(p, k, bad)), alg: k.algorithm,
      jwk: await subtle.exportKey("jwk", k) };
  },
  async aesKw({ kek, key }) {
    const w = await subtle.importKey("raw", unhex(kek), "AES-KW", false, ["wrapKey", "unwrapKey"]);
    const k = await subtle.importKey("raw", unhex(key), "AES-GCM", true, ["encrypt"]);
    const wrapped = await subtle.wrapKey("raw", k, w, "AES-KW");
    const back = await subtle.unwrapKey("raw", wrapped, w, "AES-KW", "AES-GCM", true, ["encrypt"]);
    const bad = new Uint8Array(wrapped).slice(); bad[0] ^= 1;
    return { wrapped: hex(wrapped), back: hex(await subtle.exportKey("raw", back)),
      tampered: await outcome(subtle.unwrapKey("raw", bad, w, "AES-KW", "AES-GCM", true, ["encrypt"])) };
  },
  async ed25519({ name, d, x, msg }) {
    const b64u = (h) => btoa(String.fromCharCode(...unhex(h))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    const alg = name === "NODE-ED25519" ? { name, namedCurve: name } : name;
    const priv = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d: b64u(d), x: b64u(x) }, alg, true, ["sign"]);
    const pub = await subtle.importKey("raw", unhex(x), alg, true, ["verify"]);
    const sig = await subtle.sign(alg, priv, unhex(msg));
    const bad = new Uint8Array(sig).slice(); bad[0] ^= 1;
    return { sig: hex(sig), ok: await subtle.verify(alg, pub, sig, unhex(msg)), bad: await subtle.verify(alg, pub, bad, unhex(msg)),
      alg: pub.algorithm, types: [priv.type, pub.type], jwk: await subtle.exportKey("jwk", priv),
      pkcs8: hex(await subtle.exportKey("pkcs8", priv)), spki: hex(await subtle.exportKey("spki", pub)) };
  },
  async x25519({ alicePkcs8, bobRaw }) {
    const a = await subtle.importKey("pkcs8", unhex(alicePkcs8), "X25519", true, ["deriveBits"]);
    const b = await subtle.importKey("raw", unhex(bobRaw), "X25519", true, []);
    const zero = await subtle.importKey("raw", new Uint8Array(32), "X25519", true, []);
    return { shared: hex(await subtle.deriveBits({ name: "X25519", public: b }, a, 256)),
      short: hex(await subtle.deriveBits({ name: "X25519", public: b }, a, 12)),
      smallOrder: await outcome(subtle.deriveBits({ name: "X25519", public: zero }, a, 256)),
      usages: b.usages, jwk: await subtle.exportKey("jwk", a) };
  },
  // Node made the keys and signatures: verify them here, and sign for Node to verify.
  async asymFromNode({ alg, imp, spki, pkcs8, jwkPub, jwkPriv, sig, msg }) {
    const pub1 = await subtle.importKey("spki", unhex(spki), imp, true, ["verify"]);
    const pub2 = await subtle.importKey("jwk", jwkPub, imp, true, ["verify"]);
    const priv1 = await subtle.importKey("pkcs8", unhex(pkcs8), imp, true, ["sign"]);
    const priv2 = await subtle.importKey("jwk", jwkPriv, imp, true, ["sign"]);
    const m = unhex(msg);
    return { v1: await subtle.verify(alg, pub1, unhex(sig), m), v2: await subtle.verify(alg, pub2, unhex(sig), m),
      wrong: await subtle.verify(alg, pub1, unhex(sig), utf8("another message")),
      sig1: hex(await subtle.sign(alg, priv1, m)), sig2: hex(await subtle.sign(alg, priv2, m)),
      alg: pub1.algorithm.name, curve: pub1.algorithm.namedCurve, bits: pub1.algorithm.modulusLength,
      exp: pub1.algorithm.publicExponent && hex(pub1.algorithm.publicExponent),
      jwkPriv: await subtle.exportKey("jwk", priv1), spkiBack: hex(await subtle.exportKey("spki", pub2)) };
  },
  // The same P-256 key verifies the cases, then 300 more times (past the 256 after
  // which durable verifies through a precomputed table for the key), then the cases again.
  async ecdsaMany({ spki, cases: list }) {
    const pub = await subtle.importKey("spki", unhex(spki), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const pass = () => Promise.all(list.map((c) => subtle.verify({ name: "ECDSA", hash: c.hash }, pub, unhex(c.sig), unhex(c.msg))));
    const before = await pass();
    let warm = 0;
    for (let i = 0; i < 300; i++) warm += await subtle.verify({ name: "ECDSA", hash: list[0].hash }, pub, unhex(list[0].sig), unhex(list[0].msg));
    return { before, warm, after: await pass() };
  },
  async oaepFromNode({ hash, spki, jwkPriv, ct, label }) {
    const imp = { name: "RSA-OAEP", hash };
    const priv = await subtle.importKey("jwk", jwkPriv, imp, false, ["decrypt"]);
    const pub = await subtle.importKey("spki", unhex(spki), imp, false, ["encrypt"]);
    const p = { name: "RSA-OAEP", label: label ? unhex(label) : undefined };
    return { pt: hex(await subtle.decrypt(p, priv, unhex(ct))), ct: hex(await subtle.encrypt(p, pub, utf8("from durable"))),
      tooLong: await outcome(subtle.encrypt(p, pub, new Uint8Array(4096))) };
  },
  async ecdhFromNode({ curve, myJwk, peerSpki }) {
    const mine = await subtle.importKey("jwk", myJwk, { name: "ECDH", namedCurve: curve }, false, ["deriveBits", "deriveKey"]);
    const peer = await subtle.importKey("spki", unhex(peerSpki), { name: "ECDH", namedCurve: curve }, true, []);
    const k = await subtle.deriveKey({ name: "ECDH", public: peer }, mine, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
    return { bits: hex(await subtle.deriveBits({ name: "ECDH", public: peer }, mine, null)),
      hmacKey: hex(await subtle.exportKey("raw", k)), raw: hex(await subtle.exportKey("raw", peer)) };
  },
  // Keys made here, for Node to use.
  async generate({ alg, gen, usages }) {
    if (gen.publicExponent) gen.publicExponent = new Uint8Array(Object.values(gen.publicExponent));
    const pair = await subtle.generateKey(gen, true, usages);
    const m = utf8("generated here");
    const out = { pubUsages: pair.publicKey.usages, privUsages: pair.privateKey.usages, alg: pair.privateKey.algorithm,
      spki: hex(await subtle.exportKey("spki", pair.publicKey)), pkcs8: hex(await subtle.exportKey("pkcs8", pair.privateKey)),
      jwkPriv: await subtle.exportKey("jwk", pair.privateKey), jwkPub: await subtle.exportKey("jwk", pair.publicKey) };
    if (out.alg.publicExponent) out.alg = { ...out.alg, publicExponent: hex(out.alg.publicExponent) };
    if (usages.includes("sign")) {
      out.sig = hex(await subtle.sign(alg, pair.privateKey, m));
      const back = await subtle.importKey("jwk", out.jwkPriv, gen, false, ["sign"]);
      out.verifyOwn = await subtle.verify(alg, pair.publicKey, await subtle.sign(alg, back, m), m);
    } else {
      out.ct = hex(await subtle.encrypt(alg, pair.publicKey, m));
      out.roundTrip = new TextDecoder().decode(await subtle.decrypt(alg, pair.privateKey, unhex(out.ct)));
    }
    return out;
  },
  async secretGenerate() {
    const out = {};
    for (const [gen, usages] of [[{ name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]], [{ name: "AES-CBC", length: 128 }, ["encrypt", "decrypt"]],
      [{ name: "AES-CTR", length: 192 }, ["encrypt", "decrypt"]], [{ name: "AES-KW", length: 128 }, ["wrapKey", "unwrapKey"]],
      [{ name: "HMAC", hash: "SHA-384" }, ["sign", "verify"]]]) {
      const k = await subtle.generateKey(gen, true, usages);
      const jwk = await subtle.exportKey("jwk", k);
      const back = await subtle.importKey("jwk", jwk, gen, true, usages);
      out[gen.name] = { alg: k.algorithm, jwkAlg: jwk.alg, same: hex(await subtle.exportKey("raw", back)) === hex(await subtle.exportKey("raw", k)) };
    }
    return out;
  },
  async wrapJwk() {
    const kek = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"]);
    const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const wrapped = await subtle.wrapKey("jwk", pair.privateKey, kek, { name: "AES-GCM", iv });
    const back = await subtle.unwrapKey("jwk", wrapped, kek, { name: "AES-GCM", iv }, { name: "ECDSA", namedCurve: "P-384" }, false, ["sign"]);
    const m = utf8("wrapped");
    const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-384" }, back, m);
    const kw = await subtle.generateKey({ name: "AES-KW", length: 256 }, false, ["wrapKey", "unwrapKey"]);
    const hmacKey = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const kwWrapped = await subtle.wrapKey("raw", hmacKey, kw, "AES-KW");
    const hmacBack = await subtle.unwrapKey("raw", kwWrapped, kw, "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    return { ok: await subtle.verify({ name: "ECDSA", hash: "SHA-384" }, pair.publicKey, sig, m), extractable: back.extractable,
      hmacSame: hex(await subtle.exportKey("raw", hmacBack)) === hex(await subtle.exportKey("raw", hmacKey)) };
  },
  async digestStream() {
    const s = new crypto.DigestStream("SHA-256");
    const w = s.getWriter();
    await w.write(utf8("a"));
    await w.write("b");
    await w.write(new Uint8Array([0x63]).buffer);
    await w.close();
    const md5 = new crypto.DigestStream({ name: "MD5" });
    await new Response("abc").body.pipeTo(md5);
    const aborted = new crypto.DigestStream("SHA-1");
    await aborted.getWriter().abort(new Error("stopped"));
    return { sha256: hex(await s.digest), md5: hex(await md5.digest), isWritable: s instanceof WritableStream,
      aborted: await outcome(aborted.digest), badChunk: await outcome((async () => {
        const d = new crypto.DigestStream("SHA-256"); await d.getWriter().write(42); })()),
      bad: await outcome((async () => new crypto.DigestStream("SHA-3"))()),
      protoName: await outcome((async () => new crypto.DigestStream("constructor"))()) };
  },
  async errors({ rsaSpki }) {
    const aes = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
    const ec = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const r = {};
    const t = async (n, f) => { r[n] = await outcome((async () => f())()); };
    await t("unknownAlg", () => subtle.encrypt({ name: "ROT13" }, aes, new Uint8Array(1)));
    await t("wrongUsage", () => subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["sign"]));
    await t("emptyUsages", () => subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]));
    await t("notPermitted", () => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, new Uint8Array(32)));
    await t("notExtractable", () => subtle.exportKey("raw", aes));
    await t("signWithPublic", () => subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ec.publicKey, new Uint8Array(1)));
    await t("pkcs8OfPublic", () => subtle.exportKey("pkcs8", ec.publicKey));
    await t("badSpki", () => subtle.importKey("spki", new Uint8Array([0x30, 0x03, 1, 2, 3]), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]));
    await t("rsaAsEc", () => subtle.importKey("spki", unhex(rsaSpki), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]));
    await t("curveMismatch", () => subtle.exportKey("spki", ec.publicKey).then((d) => subtle.importKey("spki", d, { name: "ECDSA", namedCurve: "P-384" }, true, ["verify"])));
    await t("badCurve", () => subtle.generateKey({ name: "ECDSA", namedCurve: "P-192" }, true, ["sign"]));
    await t("gcmNoIv", () => subtle.encrypt({ name: "AES-GCM" }, aes, new Uint8Array(1)));
    await t("gcmBadTag", () => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12), tagLength: 100 }, aes, new Uint8Array(1)));
    await t("ctrWouldRepeat", () => subtle.importKey("raw", new Uint8Array(16), "AES-CTR", false, ["encrypt"])
      .then((k) => subtle.encrypt({ name: "AES-CTR", counter: new Uint8Array(16), length: 2 }, k, new Uint8Array(65))));
    await t("aesBadLength", () => subtle.generateKey({ name: "AES-GCM", length: 100 }, true, ["encrypt"]));
    await t("hkdfExtractable", () => subtle.importKey("raw", new Uint8Array(4), "HKDF", true, ["deriveBits"]));
    await t("hkdfNoLength", () => subtle.importKey("raw", new Uint8Array(4), "HKDF", false, ["deriveBits"])
      .then((k) => subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, k, null)));
    await t("pbkdf2Zero", () => subtle.importKey("raw", new Uint8Array(4), "PBKDF2", false, ["deriveBits"])
      .then((k) => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(4), iterations: 0 }, k, 256)));
    await t("pbkdf2TooMany", () => subtle.importKey("raw", new Uint8Array(4), "PBKDF2", false, ["deriveBits"])
      .then((k) => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(4), iterations: 100001 }, k, 256)));
    await t("pssNoSalt", () => subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])
      .then((p) => subtle.sign({ name: "RSA-PSS" }, p.privateKey, new Uint8Array(1))));
    await t("badExponent", () => subtle.generateKey({ name: "RSA-OAEP", modulusLength: 1024, publicExponent: new Uint8Array([5]), hash: "SHA-256" }, true, ["encrypt"]));
    await t("jwkCrv", () => subtle.exportKey("jwk", ec.publicKey).then((j) => subtle.importKey("jwk", { ...j, crv: "P-384" }, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"])));
    await t("missingArg", () => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes));
    await t("ecdhWithEcdsa", () => subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])
      .then((p) => subtle.deriveBits({ name: "ECDH", public: ec.publicKey }, p.privateKey, 256)));
    await t("ecdsaRawPrivate", () => subtle.exportKey("raw", ec.privateKey));
    r.ecdsaWrongSigLength = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ec.publicKey, new Uint8Array(63), new Uint8Array(1));
    r.timingSafeEqual = [subtle.timingSafeEqual(utf8("abc"), utf8("abc")), subtle.timingSafeEqual(utf8("abc"), utf8("abd"))];
    return r;
  },
};
export default {
  async fetch(req) {
    const { name, args } = await req.json();
    try {
      return Response.json({ ok: await cases[name](args || {}) });
    } catch (e) {
      return Response.json({ thrown: err(e), stack: e?.stack });
    }
  },
};
`;

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "crypto"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": WORKER,
  });
  srv = await startDev(dir);
});
after(async () => { await srv?.stop(); });

async function run(name, args) {
  const res = await fetch(srv.url, { method: "POST", body: JSON.stringify({ name, args }) });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  if (body.thrown) assert.fail(`${name} threw ${JSON.stringify(body.thrown)}\n${body.stack}`);
  return body.ok;
}

test("digest: FIPS 180 SHA-1/256/384/512 and RFC 1321 MD5 of 'abc'", async () => {
  const abc = hex(utf8("abc"));
  const want = {
    "SHA-1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "SHA-256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "SHA-384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    "SHA-512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    MD5: "900150983cd24fb0d6963f7d28e17f72",
  };
  for (const [alg, h] of Object.entries(want)) {
    assert.equal(nodeCrypto.createHash(alg.replace("-", "").toLowerCase()).update("abc").digest("hex"), h);
    assert.equal(await run("digest", { alg, data: abc }), h, alg);
  }
  assert.equal(await run("digest", { alg: "MD5", data: "" }), "d41d8cd98f00b204e9800998ecf8427e");
  assert.equal(await run("digest", { alg: "MD5", data: hex(utf8("message digest")) }), "f96b697d7cb7938d525a2f31aaf161d0");
});

test("HMAC: RFC 4231 test cases 1 and 2", async () => {
  const cases = [
    { key: "0b".repeat(20), data: hex(utf8("Hi There")), "SHA-256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "SHA-512": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { key: hex(utf8("Jefe")), data: hex(utf8("what do ya want for nothing?")), "SHA-256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "SHA-512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
  ];
  for (const c of cases) {
    for (const hash of ["SHA-256", "SHA-512"]) {
      assert.equal(nodeCrypto.createHmac(hash.replace("-", ""), Buffer.from(c.key, "hex")).update(Buffer.from(c.data, "hex")).digest("hex"), c[hash]);
      assert.deepEqual(await run("hmac", { hash, key: c.key, data: c.data }), { sig: c[hash], ok: true });
    }
  }
});

test("HKDF: RFC 5869 test cases 1 and 3; deriveKey gives an AES key of the first bytes", async () => {
  const c1 = { hash: "SHA-256", ikm: "0b".repeat(22), salt: "000102030405060708090a0b0c", info: "f0f1f2f3f4f5f6f7f8f9", bits: 42 * 8 };
  const okm1 = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
  const c3 = { hash: "SHA-256", ikm: "0b".repeat(22), salt: "", info: "", bits: 42 * 8 };
  const okm3 = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8";
  for (const [c, okm] of [[c1, okm1], [c3, okm3]]) {
    assert.equal(hex(nodeCrypto.hkdfSync("sha256", unhex(c.ikm), unhex(c.salt), unhex(c.info), c.bits / 8)), okm);
    const got = await run("hkdf", c);
    assert.equal(got.okm, okm);
    assert.equal(got.aes, okm.slice(0, 32));
    assert.deepEqual(got.alg, { name: "AES-GCM", length: 128 });
  }
});

test("PBKDF2: RFC 6070 (SHA-1, 1/2/4096 iterations) and RFC 7914 §11 (SHA-256)", async () => {
  const cases = [
    [{ hash: "SHA-1", password: "password", salt: "salt", iterations: 1, bits: 160 }, "0c60c80f961f0e71f3a9b524af6012062fe037a6"],
    [{ hash: "SHA-1", password: "password", salt: "salt", iterations: 2, bits: 160 }, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"],
    [{ hash: "SHA-1", password: "password", salt: "salt", iterations: 4096, bits: 160 }, "4b007901b765489abead49d926f721d065a429c1"],
    [{ hash: "SHA-256", password: "passwd", salt: "salt", iterations: 1, bits: 512 },
      "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"],
  ];
  for (const [c, want] of cases) {
    assert.equal(hex(nodeCrypto.pbkdf2Sync(c.password, c.salt, c.iterations, c.bits / 8, c.hash.replace("-", "").toLowerCase())), want);
    assert.equal(await run("pbkdf2", c), want);
  }
});

test("AES-GCM (GCM spec test cases 2 and 3), AES-CBC and AES-CTR (SP 800-38A F.2.1, F.5.1); tampering is OperationError", async () => {
  const tc2 = await run("aes", { name: "AES-GCM", key: "00".repeat(16), params: { iv: "00".repeat(12) }, data: "00".repeat(16) });
  assert.equal(tc2.ct, "0388dace60b6a392f328c2b971b2fe78" + "ab6e47d42cec13bdf53a67b21257bddf");
  assert.equal(tc2.pt, "00".repeat(16));
  assert.equal(tc2.tampered.error, "OperationError");
  assert.deepEqual(tc2.alg, { name: "AES-GCM", length: 128 });
  assert.deepEqual(tc2.jwk, { kty: "oct", k: "AAAAAAAAAAAAAAAAAAAAAA", alg: "A128GCM", key_ops: ["encrypt", "decrypt"], ext: true });
  const p3 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
  const c3 = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985" + "4d5c2af327cd64a62cf35abd2ba6fab4";
  const g3 = { name: "AES-GCM", key: "feffe9928665731c6d6a8f9467308308", params: { iv: "cafebabefacedbaddecaf888" }, data: p3 };
  assert.equal(hex(await subtle.encrypt({ name: "AES-GCM", iv: unhex(g3.params.iv) },
    await subtle.importKey("raw", unhex(g3.key), "AES-GCM", false, ["encrypt"]), unhex(p3))), c3);
  assert.equal((await run("aes", g3)).ct, c3);
  // With additional data and a 96-bit tag: the same bytes as Node.
  const g4 = { name: "AES-GCM", key: "feffe9928665731c6d6a8f9467308308", params: { iv: "cafebabefacedbaddecaf888", additionalData: "feedfacedeadbeef", tagLength: 96 }, data: p3 };
  const n4 = await subtle.encrypt({ name: "AES-GCM", iv: unhex(g4.params.iv), additionalData: unhex("feedfacedeadbeef"), tagLength: 96 },
    await subtle.importKey("raw", unhex(g4.key), "AES-GCM", false, ["encrypt"]), unhex(p3));
  assert.equal((await run("aes", g4)).ct, hex(n4));

  const key = "2b7e151628aed2a6abf7158809cf4f3c";
  const cbc = await run("aes", { name: "AES-CBC", key, params: { iv: "000102030405060708090a0b0c0d0e0f" }, data: "6bc1bee22e409f96e93d7e117393172a" });
  assert.equal(cbc.ct.slice(0, 32), "7649abac8119b246cee98e9b12e9197d");
  assert.equal(cbc.ct.length, 64); // PKCS#7 padding adds a block
  assert.equal(cbc.pt, "6bc1bee22e409f96e93d7e117393172a");
  assert.equal(cbc.tampered.error, "OperationError");
  const ctr = await run("aes", { name: "AES-CTR", key, params: { counter: "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", length: 64 }, data: "6bc1bee22e409f96e93d7e117393172a" });
  assert.equal(ctr.ct, "874d6191b620e3261bef6864990db6ce");
});

test("AES-CTR: a counter that wraps in its low `length` bits does not carry (same bytes as Node)", async () => {
  const key = "2b7e151628aed2a6abf7158809cf4f3c";
  const data = hex(nodeCrypto.randomBytes(100));
  for (const [counter, length] of [["0000000000000000000000000000fffe", 16], ["ffffffffffffffffffffffffffffffff", 8],
    ["0102030405060708090a0b0c0d0e0fff", 4], ["ffffffffffffffffffffffffffffffff", 128], ["000000000000000000000000fffffffe", 64]]) {
    const nk = await subtle.importKey("raw", unhex(key), "AES-CTR", false, ["encrypt"]);
    const want = hex(await subtle.encrypt({ name: "AES-CTR", counter: unhex(counter), length }, nk, unhex(data)));
    const got = await run("aes", { name: "AES-CTR", key, params: { counter, length }, data });
    assert.equal(got.ct, want, `counter ${counter} length ${length}`);
    assert.equal(got.pt, data);
  }
});

test("AES-KW: RFC 3394 §4.1 and §4.6 through wrapKey/unwrapKey; a bad wrapped key is OperationError", async () => {
  const r1 = await run("aesKw", { kek: "000102030405060708090a0b0c0d0e0f", key: "00112233445566778899aabbccddeeff" });
  assert.equal(r1.wrapped, "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
  assert.equal(r1.back, "00112233445566778899aabbccddeeff");
  assert.equal(r1.tampered.error, "OperationError");
  const r6 = await run("aesKw", { kek: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    key: "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f" });
  assert.equal(r6.wrapped, "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21");
});

test("Ed25519 and NODE-ED25519: RFC 8032 §7.1 tests 1 and 2; jwk/pkcs8/spki exports", async () => {
  const vectors = [
    { d: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", x: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", msg: "",
      sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
    { d: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", x: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", msg: "72",
      sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
  ];
  for (const v of vectors) {
    const nk = await subtle.importKey("pkcs8", unhex("302e020100300506032b657004220420" + v.d), "Ed25519", false, ["sign"]);
    assert.equal(hex(await subtle.sign("Ed25519", nk, unhex(v.msg))), v.sig);
    for (const name of ["Ed25519", "NODE-ED25519"]) {
      const r = await run("ed25519", { name, ...v });
      assert.equal(r.sig, v.sig);
      assert.equal(r.ok, true);
      assert.equal(r.bad, false);
      assert.deepEqual(r.types, ["private", "public"]);
      assert.deepEqual(r.alg, name === "Ed25519" ? { name } : { name, namedCurve: name });
      assert.equal(r.pkcs8, "302e020100300506032b657004220420" + v.d);
      assert.equal(r.spki, "302a300506032b6570032100" + v.x);
      assert.equal(r.jwk.kty, "OKP");
      assert.equal(r.jwk.crv, "Ed25519");
      assert.equal(hex(Buffer.from(r.jwk.d, "base64url")), v.d);
      assert.equal(hex(Buffer.from(r.jwk.x, "base64url")), v.x);
    }
  }
});

test("X25519: RFC 7748 §6.1 shared secret; a small-order peer is OperationError", async () => {
  const alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const bobPub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  const pkcs8 = "302e020100300506032b656e04220420" + alice;
  const na = await subtle.importKey("pkcs8", unhex(pkcs8), "X25519", false, ["deriveBits"]);
  const nb = await subtle.importKey("raw", unhex(bobPub), "X25519", true, []);
  assert.equal(hex(await subtle.deriveBits({ name: "X25519", public: nb }, na, 256)), shared);
  const r = await run("x25519", { alicePkcs8: pkcs8, bobRaw: bobPub });
  assert.equal(r.shared, shared);
  assert.equal(r.short, "4a50"); // 12 bits: the rest of the second byte is zeroed
  assert.equal(r.smallOrder.error, "OperationError");
  assert.deepEqual(r.usages, []);
  assert.equal(hex(Buffer.from(r.jwk.x, "base64url")), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
});

// ---- across implementations ----

async function nodePair(gen, usages) {
  const pair = await subtle.generateKey(gen, true, usages);
  return {
    pair,
    spki: hex(await subtle.exportKey("spki", pair.publicKey)),
    pkcs8: hex(await subtle.exportKey("pkcs8", pair.privateKey)),
    jwkPub: await subtle.exportKey("jwk", pair.publicKey),
    jwkPriv: await subtle.exportKey("jwk", pair.privateKey),
  };
}

const rsaGen = (name, hash, bits = 2048) => ({ name, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash });
const signers = [
  ["RS256", { name: "RSASSA-PKCS1-v1_5" }, rsaGen("RSASSA-PKCS1-v1_5", "SHA-256")],
  ["RS512", { name: "RSASSA-PKCS1-v1_5" }, rsaGen("RSASSA-PKCS1-v1_5", "SHA-512", 1024)],
  ["PS256", { name: "RSA-PSS", saltLength: 32 }, rsaGen("RSA-PSS", "SHA-256")],
  ["PS384 salt 0", { name: "RSA-PSS", saltLength: 0 }, rsaGen("RSA-PSS", "SHA-384", 1024)],
  ["ES256", { name: "ECDSA", hash: "SHA-256" }, { name: "ECDSA", namedCurve: "P-256" }],
  ["ES384", { name: "ECDSA", hash: "SHA-384" }, { name: "ECDSA", namedCurve: "P-384" }],
  ["ES512", { name: "ECDSA", hash: "SHA-512" }, { name: "ECDSA", namedCurve: "P-521" }],
  ["ES256 with SHA-1", { name: "ECDSA", hash: "SHA-1" }, { name: "ECDSA", namedCurve: "P-256" }],
  ["EdDSA", { name: "Ed25519" }, { name: "Ed25519" }],
];

for (const [label, alg, gen] of signers) {
  test(`sign/verify across Node and durable: ${label}`, async () => {
    const k = await nodePair(gen, ["sign", "verify"]);
    const msg = utf8(`the message for ${label}`);
    const sig = await subtle.sign(alg, k.pair.privateKey, msg);
    const r = await run("asymFromNode", { alg, imp: gen, spki: k.spki, pkcs8: k.pkcs8, jwkPub: k.jwkPub, jwkPriv: k.jwkPriv, sig: hex(sig), msg: hex(msg) });
    assert.equal(r.v1, true);
    assert.equal(r.v2, true);
    assert.equal(r.wrong, false);
    assert.equal(await subtle.verify(alg, k.pair.publicKey, unhex(r.sig1), msg), true);
    assert.equal(await subtle.verify(alg, k.pair.publicKey, unhex(r.sig2), msg), true);
    assert.equal(r.alg, gen.name);
    if (gen.namedCurve) assert.equal(r.curve, gen.namedCurve);
    if (gen.modulusLength) { assert.equal(r.bits, gen.modulusLength); assert.equal(r.exp, "010001"); }
    assert.equal(r.spkiBack, k.spki);
    // The private JWK durable exports is the one Node made (same fields, same values).
    // (Node writes "alg": "Ed25519" for Ed25519 keys, durable "EdDSA" as workerd does.)
    for (const f of ["kty", "crv", "n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y", "alg"])
      assert.equal(r.jwkPriv[f], f === "alg" && gen.name === "Ed25519" ? "EdDSA" : k.jwkPriv[f], `jwk ${f}`);
  });
}

test("ECDSA P-256: a key past 256 verifies (durable's per-key table) gives the answers it gave before and Node gives", async () => {
  const gen = { name: "ECDSA", namedCurve: "P-256" };
  const { pair, spki } = await nodePair(gen, ["sign", "verify"]);
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const big = (h) => BigInt("0x" + h);
  const h32 = (v) => v.toString(16).padStart(64, "0");
  const cases = [];
  for (const hash of ["SHA-256", "SHA-1", "SHA-384", "SHA-512"]) {
    for (let i = 0; i < 4; i++) {
      const msg = utf8(`message ${i} for ${hash}`);
      const sig = hex(await subtle.sign({ name: "ECDSA", hash }, pair.privateKey, msg));
      const [r, s] = [sig.slice(0, 64), sig.slice(64)];
      cases.push({ hash, msg: hex(msg), sig, want: true });
      cases.push({ hash, msg: hex(msg), sig: r + h32(n - big(s)), want: true });            // high-S
      cases.push({ hash, msg: hex(utf8(`message ${i} for ${hash}!`)), sig, want: false });  // another message
      cases.push({ hash, msg: hex(msg), sig: h32((big(r) + 1n) % 2n ** 256n) + s, want: false });
      cases.push({ hash, msg: hex(msg), sig: r + h32(big(s) ^ 1n), want: false });
      cases.push({ hash, msg: hex(msg), sig: s + r, want: false });                          // swapped
      cases.push({ hash, msg: hex(msg), sig: h32(0n) + s, want: false });
      cases.push({ hash, msg: hex(msg), sig: r + h32(0n), want: false });
      cases.push({ hash, msg: hex(msg), sig: h32(n) + s, want: false });
      cases.push({ hash, msg: hex(msg), sig: r + h32(n), want: false });
      cases.push({ hash, msg: hex(msg), sig: h32(big(r) + n < 2n ** 256n ? big(r) + n : 2n ** 256n - 1n) + s, want: false });
      cases.push({ hash, msg: hex(msg), sig: r + h32(n + big(s) < 2n ** 256n ? n + big(s) : 2n ** 256n - 1n), want: false });
      cases.push({ hash, msg: hex(msg), sig: sig.slice(0, 126), want: false });              // 63 bytes
    }
  }
  const node = await Promise.all(cases.map((c) =>
    subtle.verify({ name: "ECDSA", hash: c.hash }, pair.publicKey, unhex(c.sig), unhex(c.msg))));
  assert.deepEqual(node, cases.map((c) => c.want));
  const r = await run("ecdsaMany", { spki, cases });
  assert.equal(r.warm, 300);
  assert.deepEqual(r.before, node);
  assert.deepEqual(r.after, node);
});

test("RSA-OAEP across Node and durable: SHA-256 with a label, SHA-1 without; too long is OperationError", async () => {
  for (const [hash, label] of [["SHA-256", "6c6162656c"], ["SHA-1", null]]) {
    const k = await nodePair(rsaGen("RSA-OAEP", hash), ["encrypt", "decrypt"]);
    const p = { name: "RSA-OAEP", label: label ? unhex(label) : undefined };
    const ct = await subtle.encrypt(p, k.pair.publicKey, utf8("from node"));
    const r = await run("oaepFromNode", { hash, spki: k.spki, jwkPriv: k.jwkPriv, ct: hex(ct), label });
    assert.equal(Buffer.from(r.pt, "hex").toString(), "from node");
    assert.equal(Buffer.from(await subtle.decrypt(p, k.pair.privateKey, unhex(r.ct))).toString(), "from durable");
    assert.equal(r.tooLong.error, "OperationError");
  }
});

test("ECDH across Node and durable: P-256, P-384, P-521 agree; deriveKey makes an HMAC key", async () => {
  for (const curve of ["P-256", "P-384", "P-521"]) {
    const gen = { name: "ECDH", namedCurve: curve };
    const a = await nodePair(gen, ["deriveBits", "deriveKey"]), b = await nodePair(gen, ["deriveBits", "deriveKey"]);
    const want = await subtle.deriveBits({ name: "ECDH", public: a.pair.publicKey }, b.pair.privateKey, null);
    const r = await run("ecdhFromNode", { curve, myJwk: a.jwkPriv, peerSpki: b.spki });
    assert.equal(r.bits, hex(want));
    assert.equal(r.hmacKey, hex(want).slice(0, 64));
    assert.equal(r.raw, hex(await subtle.exportKey("raw", b.pair.publicKey)));
  }
});

const generated = [
  ["RSASSA-PKCS1-v1_5", rsaGen("RSASSA-PKCS1-v1_5", "SHA-256", 1024), ["sign", "verify"]],
  ["RSA-PSS", rsaGen("RSA-PSS", "SHA-256", 1024), ["sign", "verify"], { name: "RSA-PSS", saltLength: 32 }],
  ["RSA-OAEP", rsaGen("RSA-OAEP", "SHA-256", 1024), ["encrypt", "decrypt", "wrapKey", "unwrapKey"]],
  ["ECDSA", { name: "ECDSA", namedCurve: "P-384" }, ["sign", "verify"], { name: "ECDSA", hash: "SHA-384" }],
  ["Ed25519", { name: "Ed25519" }, ["sign", "verify"]],
];
for (const [label, gen, usages, alg0] of generated) {
  test(`generateKey in durable, used by Node: ${label}`, async () => {
    const alg = alg0 || { name: gen.name };
    const r = await run("generate", { alg, gen, usages });
    const pub = await subtle.importKey("spki", unhex(r.spki), gen, true, usages.filter((u) => ["verify", "encrypt", "wrapKey"].includes(u)));
    const priv = await subtle.importKey("pkcs8", unhex(r.pkcs8), gen, true, usages.filter((u) => ["sign", "decrypt", "unwrapKey"].includes(u)));
    const nodeJwk = await subtle.exportKey("jwk", pub);
    if (gen.name === "Ed25519") nodeJwk.alg = "EdDSA"; // Node writes "Ed25519"; workerd and durable "EdDSA"
    assert.deepEqual(r.jwkPub, nodeJwk);
    assert.equal(r.jwkPriv.d, (await subtle.exportKey("jwk", priv)).d);
    const m = utf8("generated here");
    if (r.sig !== undefined) {
      assert.equal(await subtle.verify(alg, pub, unhex(r.sig), m), true);
      assert.equal(r.verifyOwn, true);
      assert.deepEqual([r.pubUsages, r.privUsages], [["verify"], ["sign"]]);
    } else {
      assert.equal(Buffer.from(await subtle.decrypt(alg, priv, unhex(r.ct))).toString(), "generated here");
      assert.equal(r.roundTrip, "generated here");
      assert.deepEqual([r.pubUsages, r.privUsages], [["encrypt", "wrapKey"], ["decrypt", "unwrapKey"]]);
    }
    if (gen.modulusLength) assert.deepEqual(r.alg, { name: gen.name, modulusLength: 1024, publicExponent: "010001", hash: { name: "SHA-256" } });
    else assert.deepEqual(r.alg, gen);
  });
}

test("secret keys: generateKey for AES-GCM/CBC/CTR/KW and HMAC, jwk round trips", async () => {
  const r = await run("secretGenerate");
  assert.deepEqual(r["AES-GCM"], { alg: { name: "AES-GCM", length: 256 }, jwkAlg: "A256GCM", same: true });
  assert.deepEqual(r["AES-CBC"], { alg: { name: "AES-CBC", length: 128 }, jwkAlg: "A128CBC", same: true });
  assert.deepEqual(r["AES-CTR"], { alg: { name: "AES-CTR", length: 192 }, jwkAlg: "A192CTR", same: true });
  assert.deepEqual(r["AES-KW"], { alg: { name: "AES-KW", length: 128 }, jwkAlg: "A128KW", same: true });
  assert.deepEqual(r.HMAC, { alg: { name: "HMAC", hash: { name: "SHA-384" }, length: 1024 }, jwkAlg: "HS384", same: true });
});

test("wrapKey/unwrapKey: a private ECDSA key as JWK under AES-GCM; an HMAC key under AES-KW", async () => {
  assert.deepEqual(await run("wrapJwk"), { ok: true, extractable: false, hmacSame: true });
});

test("crypto.DigestStream: chunks of every kind, piped bodies, MD5; an unknown hash is NotSupportedError", async () => {
  const r = await run("digestStream");
  assert.equal(r.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(r.md5, "900150983cd24fb0d6963f7d28e17f72");
  assert.equal(r.isWritable, true);
  assert.equal(r.bad.error, "NotSupportedError");
  assert.equal(r.protoName.error, "NotSupportedError");   // not Object.prototype's "constructor"
  assert.deepEqual([r.aborted.error, r.aborted.message], ["Error", "stopped"]);
  assert.equal(r.badChunk.error, "TypeError");
});

test("errors are DOMExceptions with WebCrypto's names (TypeError for bad arguments)", async () => {
  const k = await nodePair(rsaGen("RSASSA-PKCS1-v1_5", "SHA-256", 1024), ["sign", "verify"]);
  const r = await run("errors", { rsaSpki: k.spki });
  const names = Object.fromEntries(Object.entries(r).filter(([, v]) => v && v.error).map(([n, v]) => [n, v.error]));
  assert.deepEqual(names, {
    unknownAlg: "NotSupportedError", wrongUsage: "SyntaxError", emptyUsages: "SyntaxError",
    notPermitted: "InvalidAccessError", notExtractable: "InvalidAccessError", signWithPublic: "InvalidAccessError",
    pkcs8OfPublic: "InvalidAccessError", badSpki: "DataError", rsaAsEc: "DataError", curveMismatch: "DataError",
    badCurve: "NotSupportedError", gcmNoIv: "TypeError", gcmBadTag: "OperationError", ctrWouldRepeat: "OperationError", aesBadLength: "OperationError",
    hkdfExtractable: "SyntaxError", hkdfNoLength: "OperationError", pbkdf2Zero: "OperationError", pbkdf2TooMany: "NotSupportedError", pssNoSalt: "TypeError",
    badExponent: "OperationError", jwkCrv: "DataError", missingArg: "TypeError", ecdhWithEcdsa: "InvalidAccessError",
    ecdsaRawPrivate: "InvalidAccessError",
  });
  for (const [n, v] of Object.entries(r)) {
    if (v && v.error && v.error !== "TypeError") assert.equal(v.isDOM, true, n);
    if (v && v.error) assert.match(v.message, /^Failed to execute '\w+' on 'SubtleCrypto': ./, n);
  }
  assert.equal(r.ecdsaWrongSigLength, false);
  assert.deepEqual(r.timingSafeEqual, [true, false]);
});

test("RSA key generation stops at the CPU limit (503), not minutes later; the Worker serves on", async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "rsa-limit"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": `export default { async fetch(req) {
      if (new URL(req.url).pathname === "/big") {
        await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 16384,
          publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"]);
        return new Response("generated");
      }
      return new Response("ok");
    } };`,
  });
  const limited = await startDev(dir, ["--cpu-ms", "300"]);
  try {
    // Unchecked, a 16384-bit key takes minutes of CPU; the limit stops it.
    const r = await fetch(limited.url + "/big", { signal: AbortSignal.timeout(60000) });
    assert.equal(r.status, 503);
    await r.text();
    await limited.waitForLog(/GET \/big: the handler ran past the CPU limit of 300 ms/);
    assert.equal(await (await fetch(limited.url + "/")).text(), "ok");
  } finally { await limited.stop(); }
});
