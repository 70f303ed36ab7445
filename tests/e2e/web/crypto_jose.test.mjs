// The real library check for WebCrypto (issue 10): `jose` from npm bundled by
// esbuild (format esm), both pinned and installed from their lockfiles into
// build/npm/ (tests/e2e/libs/npm.mjs), in a Worker that makes 12 checks: sign and verify RS256, PS256, ES256
// and EdDSA tokens with keys it generates; a JWE with RSA-OAEP-256 + A256GCM and one
// with dir + A128CBC-HS256; tokens Node signed (RS256, ES256, EdDSA) verified
// against a local JWK set; a tampered and an expired token refused with jose's own
// error codes; and a remote JWK set fetched from this test's server. Node then
// verifies a token the Worker signed, with jose too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startDev, makeProject } from "../lib.mjs";
import { npmInstall } from "../libs/npm.mjs";

const WORKER = `
import * as jose from "jose";
const te = new TextEncoder(), td = new TextDecoder();
export default {
  async fetch(req) {
    const { jwks, tokens, tampered, expired, jwksUrl, remoteToken } = await req.json();
    const checks = {};
    const check = async (name, f) => {
      try { checks[name] = await f(); } catch (e) { checks[name] = (e.code || e.name) + ": " + e.message; }
    };
    const refused = (p, code) => p.then(() => "accepted", (e) => e.code === code || (e.code || e.name) + ": " + e.message);
    let signed;
    for (const alg of ["RS256", "PS256", "ES256", "EdDSA"]) {
      await check("sign+verify " + alg, async () => {
        const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
        const jwt = await new jose.SignJWT({ sub: "u-" + alg }).setProtectedHeader({ alg, kid: "w" })
          .setIssuedAt().setIssuer("durable").setExpirationTime("5m").sign(privateKey);
        const { payload, protectedHeader } = await jose.jwtVerify(jwt, publicKey, { issuer: "durable" });
        if (alg === "ES256") signed = { jwt, jwk: { ...(await jose.exportJWK(publicKey)), kid: "w", alg } };
        return payload.sub === "u-" + alg && protectedHeader.alg === alg;
      });
    }
    await check("JWE RSA-OAEP-256 + A256GCM", async () => {
      const { publicKey, privateKey } = await jose.generateKeyPair("RSA-OAEP-256");
      const jwe = await new jose.CompactEncrypt(te.encode("for your eyes only"))
        .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM" }).encrypt(publicKey);
      const { plaintext, protectedHeader } = await jose.compactDecrypt(jwe, privateKey);
      return td.decode(plaintext) === "for your eyes only" && protectedHeader.enc === "A256GCM";
    });
    await check("JWE dir + A128CBC-HS256", async () => {
      const key = await jose.generateSecret("A128CBC-HS256");
      const jwe = await new jose.EncryptJWT({ n: 42 }).setProtectedHeader({ alg: "dir", enc: "A128CBC-HS256" }).encrypt(key);
      const { payload } = await jose.jwtDecrypt(jwe, key);
      const bad = jwe.slice(0, -3) + (jwe.slice(-3) === "AAA" ? "BBB" : "AAA");
      return payload.n === 42 && (await refused(jose.jwtDecrypt(bad, key), "ERR_JWE_DECRYPTION_FAILED"));
    });
    const set = jose.createLocalJWKSet(jwks);
    for (const [alg, token] of Object.entries(tokens)) {
      await check("JWKS verify " + alg + " (signed by Node)", async () => {
        const { payload } = await jose.jwtVerify(token, set, { issuer: "node", audience: "durable" });
        return payload.sub === "node-" + alg;
      });
    }
    await check("tampered token refused", () => refused(jose.jwtVerify(tampered, set), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"));
    await check("expired token refused", () => refused(jose.jwtVerify(expired, set), "ERR_JWT_EXPIRED"));
    await check("remote JWKS verify", async () => {
      const remote = jose.createRemoteJWKSet(new URL(jwksUrl));
      const { payload } = await jose.jwtVerify(remoteToken, remote, { issuer: "node" });
      return payload.sub === "node-remote";
    });
    return Response.json({ checks, signed });
  },
};
`;

let srv, jose, jwksServer, jwksUrl;
const keys = {};

before(async () => {
  const joseModules = npmInstall("jose");
  const entry = path.join(joseModules, "jose", "dist", "webapi", "index.js");
  const esbuild = path.join(npmInstall("esbuild"), ".bin", "esbuild");
  jose = await import(pathToFileURL(entry).href);
  const project = makeProject({
    "wrangler.toml": `name = "jose"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "src.js": WORKER,
  });
  // QuickJS 2021-03-27 has no class static blocks: es2021 has esbuild lower them.
  execFileSync(esbuild, ["src.js", "--bundle", "--format=esm", "--target=es2021", "--outfile=index.js"],
    { cwd: project, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_PATH: joseModules } });
  for (const alg of ["RS256", "ES256", "EdDSA"]) keys[alg] = await jose.generateKeyPair(alg, { extractable: true });
  const jwks = { keys: [] };
  for (const [alg, k] of Object.entries(keys)) jwks.keys.push({ ...(await jose.exportJWK(k.publicKey)), kid: `k-${alg}`, alg, use: "sig" });
  jwksServer = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(jwks));
  });
  await new Promise((r) => jwksServer.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${jwksServer.address().port}/.well-known/jwks.json`;
  keys.jwks = jwks;
  srv = await startDev(project);
});
after(async () => {
  await srv?.stop();
  jwksServer?.close();
});

const sign = (alg, claims, exp = "5m") => new jose.SignJWT(claims).setProtectedHeader({ alg, kid: `k-${alg}` })
  .setIssuedAt().setIssuer("node").setAudience("durable").setExpirationTime(exp).sign(keys[alg].privateKey);

test("jose in a Worker: 12 of 12 checks pass; Node verifies the Worker's ES256 token", async () => {
  const tokens = {};
  for (const alg of ["RS256", "ES256", "EdDSA"]) tokens[alg] = await sign(alg, { sub: `node-${alg}` });
  const [h, p, s] = tokens.ES256.split(".");
  const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: "admin", iss: "node", aud: "durable" })).toString("base64url")}.${s}`;
  assert.notEqual(tampered.split(".")[1], p);
  const expired = await sign("ES256", { sub: "late" }, Math.floor(Date.now() / 1000) - 60);
  const remoteToken = await sign("RS256", { sub: "node-remote" });
  const res = await fetch(srv.url, { method: "POST",
    body: JSON.stringify({ jwks: keys.jwks, tokens, tampered, expired, jwksUrl, remoteToken }) });
  assert.equal(res.status, 200, srv.logs());
  const { checks, signed } = await res.json();
  assert.equal(Object.keys(checks).length, 12, JSON.stringify(checks));
  const failed = Object.entries(checks).filter(([, v]) => v !== true);
  assert.deepEqual(failed, [], `${12 - failed.length}/12 checks pass`);
  const pub = await jose.importJWK(signed.jwk, "ES256");
  const { payload } = await jose.jwtVerify(signed.jwt, pub, { issuer: "durable" });
  assert.equal(payload.sub, "u-ES256");
});
