// A clean start is quiet: every example in examples/ starts, answers a request and
// stops without a single "error" or "warn" line on stderr, and a Worker without
// Durable Objects leaves no persist folder behind (issue 8, item 17).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDev, root, logText } from "../lib.mjs";

const examples = fs.readdirSync(path.join(root, "examples"), { withFileTypes: true })
  .filter((d) => d.isDirectory()).map((d) => d.name).sort();

// JSON log lines (stderr is not a terminal) are read as the text a person would see.
const noisy = (text) => logText(text).split("\n").filter((l) => /^\s*(error|warn)\b|\b(error|warn):/i.test(l));

test("examples/ is not empty", () => {
  assert.ok(examples.length >= 1, "no examples found");
});

for (const name of examples) {
  test(`examples/${name}: stderr stays clean at start, after a request and at stop`, async () => {
    // A copy, so the test never writes into the source tree.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `durable-clean-${name}-`));
    try {
      fs.cpSync(path.join(root, "examples", name), dir, { recursive: true });
      const hasObjects = /durable_objects/.test(fs.readFileSync(path.join(dir, "wrangler.toml"), "utf8"));
      // Two shards: the start-up work that runs once per shard shows twice.
      const srv = await startDev(dir, ["--threads", "2"]);
      let stopped;
      try {
        assert.deepEqual(noisy(srv.logs()), [], "stderr after start");
        const r = await fetch(srv.url + "/");
        await r.arrayBuffer();
        assert.ok(r.status < 500, `GET / answered ${r.status}`);
        await srv.waitForLog(/GET \/ \d{3}/);
        assert.deepEqual(noisy(srv.logs()), [], "stderr after a request");
      } finally {
        stopped = await srv.stop();
      }
      assert.equal(stopped.code, 0);
      assert.deepEqual(noisy(srv.logs()), [], "stderr after stop");
      if (!hasObjects)
        assert.equal(fs.existsSync(path.join(dir, ".durable")), false,
                     "a Worker without Durable Objects must not create .durable/");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
