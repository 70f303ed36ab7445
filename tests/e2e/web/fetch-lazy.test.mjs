// libcurl is loaded at the first outbound fetch(), not at start: a server that never
// fetches does not map it (nor the ~30 libraries it depends on, ~4 MiB resident);
// the first fetch() loads it and works.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import { startDev, makeProject } from "../lib.mjs";

const mapsCurl = (pid) => /libcurl/.test(fs.readFileSync(`/proc/${pid}/maps`, "utf8"));

test("libcurl is mapped only after the first fetch()", async () => {
  const up = http.createServer((req, res) => res.end("from upstream"));
  await new Promise((r) => up.listen(0, "127.0.0.1", r));
  const dir = makeProject({
    "wrangler.toml": 'name = "lazy"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n',
    "src/index.js": `export default {
      async fetch(req) {
        const to = new URL(req.url).searchParams.get("to");
        if (!to) return new Response("no fetch");
        return new Response("got " + await (await fetch(to)).text());
      },
    };`,
  });
  const srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(`${srv.url}/`)).text(), "no fetch");
    assert.equal(mapsCurl(srv.proc.pid), false, "libcurl mapped before any fetch()");
    const to = `http://127.0.0.1:${up.address().port}/`;
    assert.equal(await (await fetch(`${srv.url}/?to=${encodeURIComponent(to)}`)).text(), "got from upstream");
    assert.equal(mapsCurl(srv.proc.pid), true);
  } finally {
    assert.equal((await srv.stop()).code, 0);
    up.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
