// A WebSocket server of the test suite's own (node:http's upgrade event and
// RFC 6455 framing by hand), for the tests of outbound WebSockets: the Worker is
// the client, this is the far end. Paths:
//   /echo     echoes every message; the text "close:CODE:REASON" makes it send a
//             Close with that code and reason; "headers" answers with the
//             handshake's request headers as JSON
//   /refuse   answers 403 with a body instead of switching
//   /stall    switches, then never reads (a slow peer)
//   /big      switches, then starts a message over the 32 MiB limit
//   /badaccept switches with a wrong Sec-WebSocket-Accept
//   /proto    switches and picks the first offered subprotocol
import http from "node:http";
import https from "node:https";
import crypto from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

function frame(opcode, payload) {
  const data = Buffer.from(payload);
  const len = data.length;
  let head;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) head = Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]);
  else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, data]);
}

/** Starts the server (over TLS with tls = { key, cert }); resolves
 *  { port, close(), seen } where seen lists { path, query, masked, op, text } for
 *  every frame received (text: the payload of a one-frame text message), and
 *  upgrades, the URL of every upgrade request. */
export function startUpstream(tls = null) {
  const seen = [], upgrades = [];
  const sockets = new Set();
  const answer = (req, res) => { res.writeHead(426); res.end("upgrade required"); };
  const server = tls ? https.createServer(tls, answer) : http.createServer(answer);
  server.on("upgrade", (req, sock) => {
    sockets.add(sock);
    upgrades.push(req.url);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    const [path, query = ""] = req.url.split("?");
    if (path === "/refuse") {
      sock.end("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nX-Why: test\r\n\r\nno upgrade here");
      return;
    }
    const key = req.headers["sec-websocket-key"];
    let accept = crypto.createHash("sha1").update(key + GUID).digest("base64");
    if (path === "/badaccept") accept = crypto.createHash("sha1").update("wrong").digest("base64");
    let extra = "";
    if (path === "/proto") extra = `Sec-WebSocket-Protocol: ${String(req.headers["sec-websocket-protocol"]).split(",")[0].trim()}\r\n`;
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`);
    if (path === "/stall") { sock.pause(); return; }
    if (path === "/big") { // announces a 33 MiB message (over the 32 MiB limit)
      const head = Buffer.alloc(10);
      head[0] = 0x82;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(33 * 1024 * 1024), 2);
      sock.write(Buffer.concat([head, Buffer.alloc(1024)]));
    }
    let buf = Buffer.alloc(0), frag = null;
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const fin = !!(buf[0] & 0x80), op = buf[0] & 15, masked = !!(buf[1] & 0x80);
        let len = buf[1] & 127, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        const mkey = masked ? buf.subarray(off, off + 4) : null;
        if (masked) off += 4;
        if (buf.length < off + len) return;
        const payload = Buffer.from(buf.subarray(off, off + len));
        if (mkey) for (let i = 0; i < len; i++) payload[i] ^= mkey[i & 3];
        buf = buf.subarray(off + len);
        seen.push({ path, query, masked, op, text: op === 1 ? payload.toString() : null });
        if (op === 8) { sock.end(frame(8, payload.subarray(0, 2))); return; }
        if (op === 9) { sock.write(frame(10, payload)); continue; }
        if (op === 10) continue;
        if (op !== 0) frag = { op, parts: [] };
        frag.parts.push(payload);
        if (!fin) continue;
        const msg = Buffer.concat(frag.parts), mop = frag.op;
        frag = null;
        const text = mop === 1 ? msg.toString() : null;
        if (text !== null && text.startsWith("close:")) {
          const [, code, reason] = text.split(":");
          const p = Buffer.alloc(2);
          p.writeUInt16BE(Number(code));
          sock.write(frame(8, Buffer.concat([p, Buffer.from(reason)])));
          sock.end();
          continue;
        }
        if (text === "headers") { sock.write(frame(1, JSON.stringify(req.headers))); continue; }
        sock.write(frame(mop, msg));
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({
      port: server.address().port,
      seen,
      upgrades,
      close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
    }));
  });
}
