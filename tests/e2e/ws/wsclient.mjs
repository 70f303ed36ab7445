// A small WebSocket client of the test suite's own (RFC 6455 over node:net), so
// the tests do not depend on Node's flagged WebSocket: it masks what it sends, can
// send what a correct client never would (unmasked frames, bad opcodes, invalid
// UTF-8), and can stop reading to play a slow client.
import net from "node:net";
import crypto from "node:crypto";

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };

/** One frame as bytes. opts: { fin = true, mask = true, rsv = 0 }. */
export function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = crypto.randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = data[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

export function closePayload(code, reason = "") {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason)]);
}

/** Opens a WebSocket to 127.0.0.1:port/path. Resolves a client, or rejects with
 *  the HTTP answer ({ status, head, body }) when the server did not switch. */
export function connect(port, path = "/", { headers = {}, key = crypto.randomBytes(16).toString("base64"), ms = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0), done = false;
    const timer = setTimeout(() => { if (!done) { done = true; sock.destroy(); reject(new Error("handshake timed out")); } }, ms);
    sock.on("error", (e) => { if (!done) { done = true; clearTimeout(timer); reject(e); } });
    sock.on("connect", () => {
      const h = { Host: `127.0.0.1:${port}`, Upgrade: "websocket", Connection: "Upgrade",
                  "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13", ...headers };
      let text = `GET ${path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(h)) if (v !== null) text += `${k}: ${v}\r\n`;
      sock.write(text + "\r\n");
    });
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.subarray(0, end).toString("latin1");
      const status = Number(head.split(" ")[1]);
      if (status !== 101) {
        // Not switched: wait for the body (Content-Length) and report it.
        const m = /content-length:\s*(\d+)/i.exec(head);
        const want = m ? Number(m[1]) : 0;
        if (buf.length < end + 4 + want) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        reject(Object.assign(new Error(`status ${status}`), { status, head, body: buf.subarray(end + 4, end + 4 + want).toString() }));
        return;
      }
      done = true;
      clearTimeout(timer);
      sock.off("data", onData);
      const expect = crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      const c = new Client(sock, head);
      if (!new RegExp(`sec-websocket-accept: ${expect.replace(/[+/]/g, "\\$&")}\\r?$`, "im").test(head)) {
        sock.destroy();
        reject(new Error(`bad Sec-WebSocket-Accept in:\n${head}`));
        return;
      }
      resolve(c);
      c.feed(buf.subarray(end + 4));
    };
    sock.on("data", onData);
  });
}

class Client {
  constructor(sock, head) {
    this.sock = sock;
    this.head = head;
    this.buf = Buffer.alloc(0);
    this.events = [];   // { type: "text"|"binary"|"close"|"ping"|"pong"|"end", ... }
    this.waiters = [];
    this.frag = null;
    this.ended = false;
    sock.on("data", (d) => this.feed(d));
    sock.on("close", () => { this.ended = true; this.push({ type: "end" }); });
    sock.on("error", () => {});
  }
  feed(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = !!(b[0] & 0x80), op = b[0] & 15, masked = !!(b[1] & 0x80);
      let len = b[1] & 127, off = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
      if (masked) off += 4; // a server never masks; a test would see garbage
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      this.buf = b.subarray(off + len);
      if (op === OP.CLOSE) {
        this.push({ type: "close", code: len >= 2 ? payload.readUInt16BE(0) : undefined, reason: payload.subarray(2).toString() });
      } else if (op === OP.PING || op === OP.PONG) {
        this.push({ type: op === OP.PING ? "ping" : "pong", data: payload });
      } else {
        if (op !== OP.CONT) this.frag = { op, parts: [] };
        this.frag.parts.push(payload);
        if (fin) {
          const all = Buffer.concat(this.frag.parts);
          this.push(this.frag.op === OP.TEXT ? { type: "text", data: all.toString() } : { type: "binary", data: all });
          this.frag = null;
        }
      }
    }
  }
  push(ev) {
    const w = this.waiters.shift();
    if (w) { clearTimeout(w.timer); w.resolve(ev); } else this.events.push(ev);
  }
  /** The next event; rejects after ms. */
  next(ms = 5000) {
    if (this.events.length) return Promise.resolve(this.events.shift());
    return new Promise((resolve, reject) => {
      const w = { resolve, timer: setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); reject(new Error(`no WebSocket event within ${ms} ms`)); }, ms) };
      this.waiters.push(w);
    });
  }
  /** The next text/binary message (skipping pings/pongs). */
  async message(ms = 5000) {
    for (;;) {
      const ev = await this.next(ms);
      if (ev.type === "text" || ev.type === "binary") return ev.data;
      if (ev.type === "close" || ev.type === "end") throw new Error(`expected a message, got ${JSON.stringify(ev)}`);
    }
  }
  /** Waits for the server's Close frame (skipping messages). */
  async closed(ms = 5000) {
    for (;;) {
      const ev = await this.next(ms);
      if (ev.type === "close" || ev.type === "end") return ev;
    }
  }
  send(data) {
    if (typeof data === "string") this.sock.write(frame(OP.TEXT, Buffer.from(data)));
    else this.sock.write(frame(OP.BINARY, Buffer.from(data)));
  }
  raw(bytes) { this.sock.write(bytes); }
  close(code, reason) { this.sock.write(frame(OP.CLOSE, closePayload(code, reason))); }
  destroy() { this.sock.destroy(); }
}
