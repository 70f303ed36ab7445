// reportError, and caches (the Cloudflare Cache API): caches.default and
// caches.open(name) give Cache objects whose put/match/delete behave as on a
// Worker on a custom domain, over a SQLite file on disk (web/cache.c:
// <persist-to>/cache.sqlite, keyed by script, cache and URL). docs/web.md
// "Cache API" is the user's description; what follows Cloudflare's documentation
// (workers/runtime-apis/cache) and workerd's checks:
//  - put: only GET requests (TypeError otherwise); a 206, a 101, an error
//    response or one with `*` in Vary is a TypeError; a 304 is dropped silently.
//    Whether and how long it is kept follows the response's headers, as
//    Cloudflare's cache does: Cache-Control no-store, private or no-cache (without
//    field names) and Set-Cookie (unless Cache-Control names it in private= or
//    no-cache=, which then drops the header) are not stored; the TTL is s-maxage,
//    else max-age, else Expires, else Cloudflare's default edge TTL for the
//    status (200/301: 2 h, 302/303: 20 min, 404/410: 3 min; other statuses: not
//    stored). A response that is not stored resolves undefined, as on Cloudflare
//    (where the cache answers 413 and put ignores it). The body is read whole,
//    bounded by N.cacheObjectMax() (a RangeError past it).
//  - match: GET only unless {ignoreMethod: true} (else undefined); undefined once
//    expired; the response carries `cf-cache-status: HIT`; If-None-Match against
//    ETag and If-Modified-Since against Last-Modified give a 304; one byte range in
//    Range gives a 206 (416 if unsatisfiable); several ranges get the whole 200.
//  - delete: true if a live entry was removed; GET only unless ignoreMethod.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const names = new WeakMap();   // Cache → null (caches.default) or its name
  const cacheName = (c) => {
    if (!names.has(c)) throw new TypeError("Illegal invocation");
    return names.get(c);
  };
  const toRequest = (what, req) => {
    if (req instanceof Request) return req;
    try { return new Request(`${req}`); } catch (e) { throw new TypeError(`Cache.${what}: '${req}' is not a valid URL`); }
  };
  const checkUrl = (what, r) => {
    const p = new URL(r.url).protocol;
    if (p !== "http:" && p !== "https:") throw new TypeError(`Cache.${what}: only http and https URLs can be cached`);
  };

  // Cache-Control as a Map of lower-case directive → value (undefined when it has
  // none; quoted values unquoted). Commas inside quotes do not split. The first of
  // a repeated directive wins.
  const parseCacheControl = (v) => {
    const out = new Map();
    if (v === null) return out;
    const parts = [];
    let cur = "", quoted = false;
    for (let i = 0; i < v.length; i++) {
      const ch = v[i];
      if (quoted && ch === "\\" && i + 1 < v.length) { cur += ch + v[++i]; continue; }
      if (ch === '"') quoted = !quoted;
      if (ch === "," && !quoted) { parts.push(cur); cur = ""; continue; }
      cur += ch;
    }
    parts.push(cur);
    for (const p of parts) {
      const eq = p.indexOf("=");
      const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      if (!name || out.has(name)) continue;
      let val = eq < 0 ? undefined : p.slice(eq + 1).trim();
      if (val !== undefined && val.length >= 2 && val[0] === '"' && val[val.length - 1] === '"')
        val = val.slice(1, -1).replace(/\\(.)/g, "$1");
      out.set(name, val);
    }
    return out;
  };
  // Cloudflare's edge TTL for a response without Cache-Control max-age/s-maxage or
  // Expires (cache/how-to/configure-cache-status-code, "Edge TTL"), in ms.
  const DEFAULT_TTL_MS = { 200: 7200e3, 301: 7200e3, 302: 1200e3, 303: 1200e3, 404: 180e3, 410: 180e3 };
  // null: not stored; else { ttlMs, strip: header names not stored }.
  const storePolicy = (response) => {
    const h = response.headers;
    const cc = parseCacheControl(h.get("cache-control"));
    if (cc.has("no-store")) return null;
    const strip = [];
    for (const d of ["private", "no-cache"]) {
      if (!cc.has(d)) continue;
      const fields = (cc.get(d) ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (fields.length === 0) return null;   // the whole response is private / needs revalidation
      strip.push(...fields);
    }
    if (h.has("set-cookie") && !strip.includes("set-cookie")) return null;
    // delta-seconds that do not parse make the response stale (RFC 9111 §1.2.2).
    const secs = (v) => (/^\d+$/.test(v ?? "") ? Number(v) * 1000 : 0);
    let ttlMs;
    if (cc.has("s-maxage")) ttlMs = secs(cc.get("s-maxage"));
    else if (cc.has("max-age")) ttlMs = secs(cc.get("max-age"));
    else if (h.has("expires")) {
      // An Expires that does not parse is in the past (RFC 9111 §5.3).
      const at = Date.parse(h.get("expires"));
      ttlMs = Number.isNaN(at) ? 0 : at - Date.now();
    } else ttlMs = DEFAULT_TTL_MS[response.status] ?? 0;
    return ttlMs > 0 ? { ttlMs, strip } : null;
  };

  // The body as Uint8Array chunks, at most `max` bytes in all.
  const readBody = async (body, max) => {
    const chunks = [];
    if (!body) return chunks;
    const reader = body.getReader();
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return chunks;
      let bytes = value;
      if (!(bytes instanceof Uint8Array)) {
        if (ArrayBuffer.isView(bytes)) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        else if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
        else {
          await reader.cancel().catch(() => {});
          throw new TypeError("Cache.put: the response body gave a chunk that is not bytes (a Uint8Array or ArrayBuffer)");
        }
      }
      total += bytes.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw new RangeError(`Cache.put: the response body is larger than ${max} bytes, the most the cache stores per entry (--cache-object-mb)`);
      }
      chunks.push(bytes);
    }
  };

  // ETag comparison for If-None-Match: the weak one (W/ ignored), as RFC 9110
  // §13.1.2 asks; "*" matches any.
  const opaque = (t) => { t = t.trim(); return t.startsWith("W/") ? t.slice(2) : t; };
  const etagMatches = (list, etag) =>
    list.trim() === "*" || list.split(",").some((t) => opaque(t) === opaque(etag));
  // One byte range of `len` bytes: [start, end] (inclusive), "unsatisfiable", or
  // null for what is served whole (several ranges, other units, bad syntax: RFC
  // 9110 §14.2 lets a server ignore Range).
  const parseRange = (v, len) => {
    const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(v);
    if (!m || (m[1] === "" && m[2] === "")) return null;
    let start, end;
    if (m[1] === "") {
      const n = Number(m[2]);
      if (n === 0) return "unsatisfiable";
      start = Math.max(0, len - n);
      end = len - 1;
    } else {
      start = Number(m[1]);
      if (m[2] !== "" && Number(m[2]) < start) return null;
      end = m[2] === "" ? len - 1 : Math.min(Number(m[2]), len - 1);
    }
    return start >= len ? "unsatisfiable" : [start, end];
  };
  const NULL_BODY = new Set([101, 204, 205, 304]);

  class Cache {
    constructor() { throw new TypeError("Illegal constructor"); }
    async match(request, options = undefined) {
      const name = cacheName(this);
      if (arguments.length < 1) throw new TypeError("Failed to execute 'match' on 'Cache': 1 argument required, but only 0 present.");
      const r = toRequest("match", request);
      checkUrl("match", r);
      if (r.method !== "GET" && !options?.ignoreMethod) return undefined;
      const row = N.cacheMatch(name, r.url);
      if (!row) return undefined;
      const [status, statusText, headerJson, body] = row;
      const headers = new Headers(JSON.parse(headerJson));
      headers.set("cf-cache-status", "HIT");
      const inm = r.headers.get("if-none-match"), etag = headers.get("etag");
      if (inm !== null && etag !== null && etagMatches(inm, etag))
        return new Response(null, { status: 304, headers });
      const ims = r.headers.get("if-modified-since"), lm = headers.get("last-modified");
      if (inm === null && ims !== null && lm !== null && Date.parse(lm) <= Date.parse(ims))
        return new Response(null, { status: 304, headers });
      const range = r.headers.get("range");
      if (range !== null && status === 200) {
        const len = body.byteLength, rr = parseRange(range, len);
        if (rr === "unsatisfiable") {
          headers.set("content-range", `bytes */${len}`);
          headers.delete("content-length");
          return new Response(null, { status: 416, headers });
        }
        if (rr) {
          headers.set("content-range", `bytes ${rr[0]}-${rr[1]}/${len}`);
          headers.set("content-length", `${rr[1] - rr[0] + 1}`);
          return new Response(new Uint8Array(body, rr[0], rr[1] - rr[0] + 1), { status: 206, headers });
        }
      }
      return new Response(NULL_BODY.has(status) ? null : body, { status, statusText, headers });
    }
    async put(request, response) {
      const name = cacheName(this);
      if (arguments.length < 2) throw new TypeError(`Failed to execute 'put' on 'Cache': 2 arguments required, but only ${arguments.length} present.`);
      const r = toRequest("put", request);
      checkUrl("put", r);
      if (r.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
      if (!(response instanceof Response)) throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
      if (response.type === "error") throw new TypeError("Cache is unable to store an error response");
      if (response.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
      const vary = response.headers.get("vary");
      if (vary !== null && vary.includes("*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
      if (response.status === 101) throw new TypeError("Cannot cache WebSocket upgrade response.");
      if (response.bodyUsed) throw new TypeError("Cannot cache a Response whose body was already used.");
      // A 304 is never stored (workerd drops it before reading the body).
      if (response.status === 304) return undefined;
      const policy = storePolicy(response);
      if (!policy) {
        // Read as Cloudflare reads it (the cache refuses it after), then dropped.
        if (response.body) await response.body.cancel().catch(() => {});
        return undefined;
      }
      const chunks = await readBody(response.body, N.cacheObjectMax());
      const headers = [...response.headers].filter(([k]) => !policy.strip.includes(k));
      N.cachePut(name, r.url, response.status, response.statusText, JSON.stringify(headers), chunks, policy.ttlMs);
      return undefined;
    }
    async delete(request, options = undefined) {
      const name = cacheName(this);
      if (arguments.length < 1) throw new TypeError("Failed to execute 'delete' on 'Cache': 1 argument required, but only 0 present.");
      const r = toRequest("delete", request);
      checkUrl("delete", r);
      if (r.method !== "GET" && !options?.ignoreMethod) return false;
      return N.cacheDelete(name, r.url);
    }
    get [Symbol.toStringTag]() { return "Cache"; }
  }
  const newCache = (name) => {
    const c = Object.create(Cache.prototype);
    names.set(c, name);
    return c;
  };
  const named = new Map();
  const def = newCache(null);
  class CacheStorage {
    constructor() { throw new TypeError("Illegal constructor"); }
    get default() { return def; }
    async open(name) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'open' on 'CacheStorage': 1 argument required, but only 0 present.");
      name = `${name}`;
      if (name.length > 1024) throw new TypeError("Cache name is too long.");
      let c = named.get(name);
      if (!c) { c = newCache(name); named.set(name, c); }
      return c;
    }
    get [Symbol.toStringTag]() { return "CacheStorage"; }
  }
  const caches = Object.create(CacheStorage.prototype);
  // reportError (HTML; workerd has it): logs the error as an uncaught one, as an
  // exception thrown by an event listener is.
  function reportError(e) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
    N.reportError(e);
  }
  for (const [k, v] of [["Cache", Cache], ["CacheStorage", CacheStorage], ["caches", caches], ["reportError", reportError]])
    Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true, enumerable: false });
})();
