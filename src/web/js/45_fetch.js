// fetch(input, init) (spec WEB-4, WRK-33, WRK-34): the Request is built as the
// standard says, its body read to bytes, and the transfer handed to web/fetch.c
// (libcurl on the shard's loop). The promise resolves once the response head is
// in; the body arrives as a ReadableStream fed chunk by chunk, and the transfer
// pauses while more than 1 MiB of it waits unread. An AbortSignal aborts the
// transfer at any point: before the head the promise rejects with the signal's
// reason, after it the body stream errors with it.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const { kBody, kUsed, kStream } = N.bodyKeys;
  const REDIRECT = { follow: 0, manual: 1, error: 2 };
  const BODY_HWM = 1 << 20;
  const failed = (msg) => new TypeError(`fetch failed: ${msg}`);

  const requestBytes = async (req) => {
    const b = req[kBody];
    if (b === null) return null;
    if (req[kUsed]) throw new TypeError("fetch: the request body has already been used.");
    if (typeof b === "string" && req[kStream] === null) { req[kUsed] = true; return N.bodyUtf8Encode(b); }
    return new Uint8Array(await req.arrayBuffer());
  };

  async function fetch(input, init = undefined) {
    const req = new Request(input, init);
    const url = req.url;
    if (!/^https?:/i.test(url)) throw new TypeError(`fetch failed: the URL's scheme is not http or https: ${url}`);
    const signal = req.signal;
    signal?.throwIfAborted?.();
    // WS-15: an upgrade to a WebSocket is not an HTTP transfer (50_websocket.js).
    if (/^websocket$/i.test(req.headers.get("upgrade") ?? "")) return N.wsFetchUpgrade(req);
    const wait = N.fetchAdmit();   // LIM-11 (throws), LIM-12 (waits)
    if (wait) await wait;
    let body;
    try {
      signal?.throwIfAborted?.();
      body = await requestBytes(req);
      signal?.throwIfAborted?.();
    } catch (e) {
      N.fetchRelease();
      throw e;
    }
    const [method, , flat] = N.requestHead(req);
    return new Promise((resolve, reject) => {
      let id = 0, ctl = null, settled = false, ended = false;
      const onAbort = () => {
        if (ended) return;
        ended = true;
        N.fetchCancel(id);
        const reason = signal.reason;
        if (!settled) { settled = true; reject(reason); }
        else try { ctl.error(reason); } catch {}
      };
      const end = () => { ended = true; signal?.removeEventListener?.("abort", onAbort); };
      const cbs = {
        head(status, statusText, finalUrl, redirected, headers) {
          const nullBody = method === "HEAD" || status === 204 || status === 205 || status === 304;
          const stream = nullBody ? null : new ReadableStream({
            start(c) { ctl = c; },
            pull() { N.fetchResume(id); },
            cancel() { if (!ended) { end(); N.fetchCancel(id); } },
          }, { highWaterMark: BODY_HWM, size: (c) => c.byteLength });
          const r = N.makeResponse(status, statusText, headers, stream);
          r.url = finalUrl;
          r.redirected = redirected;
          settled = true;
          resolve(r);
        },
        data(chunk) {
          if (!ctl) return false;
          try { ctl.enqueue(chunk); } catch { return true; }
          return ctl.desiredSize <= 0;
        },
        done(error) {
          if (ended) return;
          end();
          if (error !== undefined) {
            const e = failed(error);
            if (!settled) { settled = true; reject(e); }
            else if (ctl) try { ctl.error(e); } catch {}
          } else if (ctl) try { ctl.close(); } catch {}
        },
      };
      try {
        id = N.fetchStart(method, url, flat, body, REDIRECT[req.redirect] ?? 0, cbs);
      } catch (e) {
        reject(e);
        return;
      }
      signal?.addEventListener?.("abort", onAbort);
    });
  }
  Object.defineProperty(globalThis, "fetch", { value: fetch, writable: true, configurable: true, enumerable: false });
})();
