// fetch(input, init) (spec WEB-4, WRK-33, WRK-34): the Request is built as the
// standard says and the transfer handed to web/fetch.c (libcurl on the shard's
// loop). A body held as a string or bytes goes whole; a ReadableStream body is
// streamed (chunked), each chunk written as it is read, reading paused while
// 64 KiB wait to be sent. The promise resolves once the response head is in; the
// body arrives as a ReadableStream fed chunk by chunk (decoded from gzip, deflate
// or br unless encodeResponseBody is "manual"), and the transfer pauses while more
// than 1 MiB of it waits unread. An AbortSignal aborts the transfer at any point:
// before the head the promise rejects with the signal's reason, after it the body
// stream errors with it.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const { kBody, kUsed, kStream } = N.bodyKeys;
  const REDIRECT = { follow: 0, manual: 1, error: 2 };
  const BODY_HWM = 1 << 20;
  const failed = (msg) => new TypeError(`fetch failed: ${msg}`);

  // A body that is a real stream is streamed; one held as a string or bytes (even
  // if .body was touched and not read) goes whole.
  const bodyStream = (req) => {
    const b = req[kBody];
    return b instanceof ReadableStream ? (req[kStream] ?? b) : null;
  };
  const toBytes = (c) => {
    if (c instanceof Uint8Array) return c;
    if (c instanceof ArrayBuffer) return new Uint8Array(c);
    if (ArrayBuffer.isView(c)) return new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    throw new TypeError("fetch: the request body stream gave a chunk that is not an ArrayBuffer or ArrayBufferView.");
  };

  const requestBytes = async (req) => {
    const b = req[kBody];
    if (b === null) return null;
    if (req[kUsed]) throw new TypeError("fetch: the request body has already been used.");
    if (typeof b === "string" && req[kStream] === null) { req[kUsed] = true; return N.bodyUtf8Encode(b); }
    return new Uint8Array(await req.arrayBuffer());
  };

  async function fetch(input, init = undefined) {
    const req = new Request(input, init);
    // workerd's RequestInit extension: "manual" hands the body over as received.
    const ere = init?.encodeResponseBody ?? "automatic";
    if (ere !== "automatic" && ere !== "manual")
      throw new TypeError(`fetch: encodeResponseBody must be "automatic" or "manual", not ${JSON.stringify(String(ere))}.`);
    const url = req.url;
    if (!/^https?:/i.test(url)) throw new TypeError(`fetch failed: the URL's scheme is not http or https: ${url}`);
    const signal = req.signal;
    signal?.throwIfAborted?.();
    // GATE-6: made by a Durable Object after a write not yet committed, the request
    // waits for the commit (and is never sent if it fails).
    const held = N.objOutboundHold?.();
    if (held !== undefined) {
      N.eventEnter(await held);
      signal?.throwIfAborted?.();
    }
    // WS-15: an upgrade to a WebSocket is not an HTTP transfer (50_websocket.js).
    if (/^websocket$/i.test(req.headers.get("upgrade") ?? "")) return N.wsFetchUpgrade(req);
    const wait = N.fetchAdmit();   // LIM-11 (throws), LIM-12 (waits)
    if (wait) await wait;
    let body, upload = null;
    try {
      signal?.throwIfAborted?.();
      const st = bodyStream(req);
      if (st !== null) {
        if (req[kUsed] || N.streamLocked(st) || N.streamDisturbed(st))
          throw new TypeError("fetch: the request body has already been used.");
        upload = st.getReader();
        req[kUsed] = true;
        body = true;
      } else {
        body = await requestBytes(req);
      }
      signal?.throwIfAborted?.();
    } catch (e) {
      upload?.cancel(e).catch(() => {});
      N.fetchRelease();
      throw e;
    }
    const [method, , flat] = N.requestHead(req);
    return new Promise((resolve, reject) => {
      let id = 0, ctl = null, settled = false, ended = false;
      let drainWaiter = null, drained = false;
      const wake = () => { const w = drainWaiter; drainWaiter = null; if (w) w(); else drained = true; };
      const stopUpload = (why) => { if (upload !== null) { const u = upload; upload = null; u.cancel(why).catch(() => {}); } wake(); };
      const onAbort = () => {
        if (ended) return;
        ended = true;
        N.fetchCancel(id);
        const reason = signal.reason;
        stopUpload(reason);
        if (!settled) { settled = true; reject(reason); }
        else try { ctl.error(reason); } catch {}
      };
      const end = () => { ended = true; signal?.removeEventListener?.("abort", onAbort); stopUpload(undefined); };
      // The request body stream, read a chunk at a time and written as it comes;
      // reading waits while the written bytes have not gone out (backpressure).
      const pump = async (reader) => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (ended) return;
            if (done) { N.fetchEnd(id); return; }
            drained = false;
            if (N.fetchWrite(id, toBytes(value)) && !drained && !ended) await new Promise((r) => { drainWaiter = r; });
            if (ended) return;
          }
        } catch (e) {
          if (ended) return;
          ended = true;
          N.fetchCancel(id);
          upload = null;
          reader.cancel(e).catch(() => {});
          signal?.removeEventListener?.("abort", onAbort);
          if (!settled) { settled = true; reject(e); }
          else if (ctl) try { ctl.error(e); } catch {}
        }
      };
      const cbs = {
        head(status, statusText, finalUrl, redirected, headers) {
          const nullBody = method === "HEAD" || status === 204 || status === 205 || status === 304;
          const stream = nullBody ? null : new ReadableStream({
            start(c) { ctl = c; },
            pull() { N.fetchResume(id); },
            cancel() { if (!ended) { end(); N.fetchCancel(id); } },
          }, { highWaterMark: BODY_HWM, size: (c) => c.byteLength });
          const r = N.makeResponse(status, statusText, headers, stream, finalUrl, redirected);
          settled = true;
          resolve(r);
        },
        drain() { wake(); },
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
        id = N.fetchStart(method, url, flat, body, REDIRECT[req.redirect] ?? 0, cbs, ere === "automatic");
      } catch (e) {
        stopUpload(e);
        reject(e);
        return;
      }
      signal?.addEventListener?.("abort", onAbort);
      if (upload !== null) pump(upload);
    });
  }
  Object.defineProperty(globalThis, "fetch", { value: fetch, writable: true, configurable: true, enumerable: false });
})();
