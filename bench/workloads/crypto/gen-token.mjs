// Makes the fixed token of worker.js: a fresh THROWAWAY P-256 key pair (the private
// half is printed to nothing and discarded), an ES256 JWT with exp in 2100, and prints
// the public JWK and the token to paste into worker.js. Run: node gen-token.mjs
const b64u = (b) => Buffer.from(b).toString("base64url");
const { privateKey, publicKey } = await crypto.subtle.generateKey(
  { name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
const jwk = await crypto.subtle.exportKey("jwk", publicKey);
const header = b64u(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "bench" }));
const payload = b64u(JSON.stringify({
  iss: "https://bench.example", sub: "user-1", aud: "bench", iat: 1764800000, exp: 4102444800,
}));
const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey,
  new TextEncoder().encode(`${header}.${payload}`));
console.log(JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }));
console.log(`${header}.${payload}.${b64u(sig)}`);
