// Verifies one fixed ES256 JWT per request: base64url-decodes the three parts,
// checks the header, verifies the signature with crypto.subtle.verify (ECDSA P-256,
// SHA-256) and the claims (iss, aud, exp, nbf), answers 200 "ok" or 401.
// The public key is imported lazily: the first request starts importKey("jwk") and
// every request awaits the same cached promise (the same on durable and workerd; the
// import is not part of the per-request cost). Key and token come from gen-token.mjs
// (a throwaway key pair; its private half was never saved). ?bad=1 flips a byte of the
// signature (a check that 401 works; not used by the benchmark).
const JWK = {"kty":"EC","crv":"P-256","x":"PqZujhI-M3cvuWYa7MnKwsRcRk5mn3RuzMiiND94MuI","y":"Sr-UI6WtOeppVYkY8tKuh7wR4NKFiYjrO1rgaY_dF8Q"};
const TOKEN = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoIn0.eyJpc3MiOiJodHRwczovL2JlbmNoLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJiZW5jaCIsImlhdCI6MTc2NDgwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.xXR8oSSSfBx1WWC9TCJ5iLeTWoL5mkLjY1TdxUavdxX7nmrNqWq58iPH1T710EDOMXK32LkP6X_NYj02fWJJ4Q";

let keyPromise = null;
function key() {
  keyPromise ??= crypto.subtle.importKey("jwk", JWK, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return keyPromise;
}

function b64uBytes(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
const dec = new TextDecoder();
const b64uJson = (s) => JSON.parse(dec.decode(b64uBytes(s)));

async function verify(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  const header = b64uJson(parts[0]);
  if (header.alg !== "ES256") return false;
  const sig = b64uBytes(parts[2]);
  if (sig.length !== 64) return false;
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await key(), sig,
    new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
  if (!ok) return false;
  const claims = b64uJson(parts[1]);
  const now = Math.floor(Date.now() / 1000);
  return claims.iss === "https://bench.example" && claims.aud === "bench" &&
    typeof claims.exp === "number" && claims.exp > now && !(claims.nbf > now);
}

export default {
  async fetch(request) {
    let token = TOKEN;
    if (new URL(request.url).searchParams.has("bad")) {
      token = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    }
    let ok = false;
    try { ok = await verify(token); } catch { ok = false; }
    return ok ? new Response("ok") : new Response("invalid token", { status: 401 });
  },
};
