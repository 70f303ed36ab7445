// reportError, and caches (the Cloudflare Cache API): caches.default and caches.open(name) give
// Cache objects whose match/put/delete behave as on a workers.dev subdomain, where
// Cloudflare has no zone cache to store in: put resolves without storing, match
// resolves undefined, delete resolves false. The arguments are checked as workerd
// checks them, so code that works here does not fail on Cloudflare for a bad put.
(() => {
  "use strict";
  const kC = Symbol("cache");
  const toRequest = (what, req) => {
    if (req instanceof Request) return req;
    try { return new Request(`${req}`); } catch (e) { throw new TypeError(`Cache.${what}: '${req}' is not a valid URL`); }
  };
  const checkUrl = (what, r) => {
    const p = new URL(r.url).protocol;
    if (p !== "http:" && p !== "https:") throw new TypeError(`Cache.${what}: only http and https URLs can be cached`);
  };
  class Cache {
    constructor() { throw new TypeError("Illegal constructor"); }
    async match(request, options = undefined) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'match' on 'Cache': 1 argument required, but only 0 present.");
      checkUrl("match", toRequest("match", request));
      return undefined;
    }
    async put(request, response) {
      if (arguments.length < 2) throw new TypeError(`Failed to execute 'put' on 'Cache': 2 arguments required, but only ${arguments.length} present.`);
      const r = toRequest("put", request);
      checkUrl("put", r);
      if (r.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
      if (!(response instanceof Response)) throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
      if (response.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
      const vary = response.headers.get("vary");
      if (vary !== null && vary.split(",").some((v) => v.trim() === "*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
      if (response.status === 101) throw new TypeError("Cannot cache response with status 101 (Switching Protocols).");
      if (response.bodyUsed) throw new TypeError("Cannot cache a Response whose body was already used.");
      // Consumed as Cloudflare consumes it, then dropped: nothing is stored.
      if (response.body) await response.body.cancel().catch(() => {});
      return undefined;
    }
    async delete(request, options = undefined) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'delete' on 'Cache': 1 argument required, but only 0 present.");
      checkUrl("delete", toRequest("delete", request));
      return false;
    }
    get [Symbol.toStringTag]() { return "Cache"; }
  }
  const newCache = () => Object.create(Cache.prototype);
  const named = new Map();
  const def = newCache();
  class CacheStorage {
    constructor() { throw new TypeError("Illegal constructor"); }
    get default() { return def; }
    async open(name) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'open' on 'CacheStorage': 1 argument required, but only 0 present.");
      name = `${name}`;
      if (name.length > 1024) throw new TypeError("Cache name is too long.");
      let c = named.get(name);
      if (!c) { c = newCache(); named.set(name, c); }
      return c;
    }
    get [Symbol.toStringTag]() { return "CacheStorage"; }
  }
  const caches = Object.create(CacheStorage.prototype);
  // reportError (HTML; workerd has it): logs the error as an uncaught one, as an
  // exception thrown by an event listener is.
  const N = globalThis.__durable;
  function reportError(e) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
    N.reportError(e);
  }
  for (const [k, v] of [["Cache", Cache], ["CacheStorage", CacheStorage], ["caches", caches], ["reportError", reportError]])
    Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true, enumerable: false });
})();
