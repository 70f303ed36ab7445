// cloudflare:email (EmailMessage) and the `exports` of cloudflare:workers, so
// libraries that import them load (docs/nodejs.md). durable has no email
// binding: an EmailMessage can be built, not sent.
(() => {
  "use strict";
  const N = globalThis.__durable;
  class EmailMessage {
    constructor(from, to, raw) {
      if (typeof from !== "string" || typeof to !== "string")
        throw new TypeError("EmailMessage: `from` and `to` must be strings");
      this.from = from;
      this.to = to;
      this.raw = raw;
    }
  }
  N.nodeModules["cloudflare:email"] = () => ({ EmailMessage });
  // ctx.exports (loopback bindings to the Worker's own exports) is not provided
  // yet: an empty object, so `import { exports } from "cloudflare:workers"` works.
  if (N.cloudflareWorkers)
    N.cloudflareWorkers.exports = {};
})();
