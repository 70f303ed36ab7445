// examples/chat in a real browser: Debian's headless Chromium (tools/deps installs
// the `chromium` package) opens the page twice, both join one room under two names,
// a message typed in the first page appears in the second, and the second sees the
// first leave. Chromium is driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4), so no
// extra npm package and no debugging port. It runs as root here, hence --no-sandbox,
// with a throwaway profile; every wait is bounded and only the browser this test
// started (its own process group) is stopped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDev, root } from "../lib.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Starts headless Chromium; resolves { send(method, params, sessionId), on(method, fn), close() }. */
async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: ./tools/deps installs Debian's chromium package`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "durable-chromium-"));
  const proc = spawn(CHROMIUM, [
    "--headless", "--no-sandbox", `--user-data-dir=${profile}`, "--remote-debugging-pipe",
    "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio",
    "about:blank",
  ], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; if (stderr.length > 65536) stderr = stderr.slice(-32768); });
  const exited = new Promise((r) => proc.once("exit", (code, sig) => r({ code, sig })));
  const [, , , toBrowser, fromBrowser] = proc.stdio;
  toBrowser.on("error", () => {});
  let next = 1, buf = Buffer.alloc(0);
  const pending = new Map(), listeners = [];
  fromBrowser.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    for (let i; (i = buf.indexOf(0)) >= 0; buf = buf.subarray(i + 1)) {
      const msg = JSON.parse(buf.subarray(0, i).toString());
      if (msg.id && pending.has(msg.id)) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) for (const l of listeners) l(msg);
    }
  });
  exited.then(({ code, sig }) => {
    for (const p of pending.values()) { clearTimeout(p.timer); p.reject(new Error(`chromium exited (${code ?? sig}) during ${p.method}\n${stderr}`)); }
    pending.clear();
  });
  const send = (method, params = {}, sessionId, ms = 15000) => new Promise((resolve, reject) => {
    const id = next++;
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`no answer to ${method} within ${ms} ms\n${stderr}`)); }, ms);
    pending.set(id, { resolve, reject, timer, method });
    toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
  });
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      await send("Browser.close", {}, undefined, 5000).catch(() => {});
      const t = setTimeout(() => { try { process.kill(-proc.pid, "SIGKILL"); } catch {} }, 10000);
      await exited;
      clearTimeout(t);
    }
    // Chromium's helpers (zygote, renderers) are in the group this test started.
    try { process.kill(-proc.pid, "SIGKILL"); } catch {}
    fs.rmSync(profile, { recursive: true, force: true });
  };
  // The first answer proves the pipe works (a browser that cannot start fails here).
  await send("Browser.getVersion", {}, undefined, 30000).catch(async (e) => { await close(); throw e; });
  return { send, close, on: (fn) => listeners.push(fn), stderr: () => stderr };
}

/** A new tab at url; resolves { eval(expr), type(text), key(name), waitFor(expr, what) }. */
async function openPage(browser, url) {
  const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await browser.send("Target.attachToTarget", { targetId, flatten: true });
  const s = (m, p) => browser.send(m, p, sessionId);
  const errors = [];
  browser.on((msg) => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === "Runtime.exceptionThrown") errors.push(msg.params.exceptionDetails.exception?.description ?? msg.params.exceptionDetails.text);
  });
  await s("Runtime.enable");
  await s("Page.enable");
  await s("Page.navigate", { url });
  const page = {
    errors,
    async eval(expression) {
      const r = await s("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    },
    /** Polls expr (a boolean expression) until true; fails after ms with what the page shows. */
    async waitFor(expr, what, ms = 15000) {
      const end = Date.now() + ms;
      for (;;) {
        if (await page.eval(`!!(${expr})`).catch(() => false)) return;
        if (Date.now() > end) {
          const shown = await page.eval("document.body ? document.body.innerText : '(no body)'").catch((e) => String(e));
          throw new Error(`${what}: not within ${ms} ms; the page shows:\n${shown}\npage errors: ${errors.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    type: (text) => s("Input.insertText", { text }),
    async enter() {
      const k = { key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
      await s("Input.dispatchKeyEvent", { type: "keyDown", text: "\r", ...k });
      await s("Input.dispatchKeyEvent", { type: "keyUp", ...k });
    },
    close: () => browser.send("Target.closeTarget", { targetId }),
  };
  await page.waitFor("document.readyState === 'complete' && document.getElementById('join')", `${url} loaded`);
  return page;
}

/** Types a name and the room into the page's join form and presses Enter. */
async function join(page, user, room) {
  for (const [id, value] of [["user", user], ["room", room]]) {
    await page.eval(`(() => { const e = document.getElementById(${JSON.stringify(id)}); e.value = ""; e.focus(); })()`);
    await page.type(value);
  }
  await page.enter();
  await page.waitFor("!document.getElementById('text').disabled", `${user} connected`);
}

const logText = "document.getElementById('log').innerText";

test("examples/chat in headless Chromium: two pages, a message typed in one appears in the other", async () => {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), "durable-persist-"));
  const srv = await startDev(path.join(root, "examples", "chat"), ["--persist-to", persist]);
  let browser;
  try {
    browser = await launch();
    const a = await openPage(browser, srv.url + "/");
    const b = await openPage(browser, srv.url + "/");
    await join(a, "ann", "lobby");
    await join(b, "bob", "lobby");
    await a.waitFor(`${logText}.includes("bob joined")`, "ann sees bob join");
    await a.waitFor(`document.getElementById('users').textContent === "here: ann, bob"`, "ann's list of users");

    await a.eval("document.getElementById('text').focus()");
    await a.type("hello from a real browser \u00e9\u4e16");
    await a.enter();
    await b.waitFor(`${logText}.includes("ann: hello from a real browser \u00e9\u4e16")`, "bob sees ann's message");
    await a.waitFor(`${logText}.includes("ann: hello from a real browser")`, "ann sees her own message");
    assert.equal(await a.eval("document.getElementById('text').value"), "", "the input is cleared after sending");

    await b.eval("document.getElementById('text').focus()");
    await b.type("hi ann");
    await b.enter();
    await a.waitFor(`${logText}.includes("bob: hi ann")`, "ann sees bob's answer");

    await a.close();
    await b.waitFor(`${logText}.includes("ann left")`, "bob sees ann leave");
    assert.equal(await b.eval("document.getElementById('users').textContent"), "here: bob");
    assert.deepEqual([...a.errors, ...b.errors], [], "no script errors on the pages");
  } finally {
    await browser?.close();
    assert.equal((await srv.stop()).code, 0);
    fs.rmSync(persist, { recursive: true, force: true });
  }
});
