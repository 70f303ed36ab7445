// A throw-away PostgreSQL for the cluster tests (issue 11): initdb into a temporary
// folder, started with pg_ctl on a free loopback port, its Unix socket in that
// folder. Nothing assumes a system PostgreSQL service. As root the server runs as
// the `postgres` user (PostgreSQL refuses to run as root): the folder is chowned
// to it and the binaries are run through `runuser -u postgres --`.
//
//   import { startPostgres } from "../cluster/pg.mjs";
//   const pg = await startPostgres();
//   pg.url          postgres://postgres@127.0.0.1:PORT/postgres
//   await pg.restart()   fast stop, then start again on the same port and folder
//   await pg.halt()      fast stop, keep the folder (pg.start() brings it back)
//   await pg.start()
//   await pg.kill()      SIGKILL the postmaster and its children (a crash); pg.start() recovers
//   await pg.stop()      stop and remove the folder (always call it, e.g. in after())
//   await pg.psql(sql)   runs sql with psql, resolves its stdout (tuples only, unaligned);
//                        pg.psql(sql, { db }) in database db
//
// Also a command-line wrapper, so a C test registered with ctest gets its own
// PostgreSQL: `node pg.mjs run -- PROGRAM ARGS…` starts one, runs PROGRAM with
// DURABLE_TEST_PG_URL set, and DURABLE_TEST_PG_CTL set to a shell command prefix
// that takes "stop", "start" or "restart" (e.g. `system("$DURABLE_TEST_PG_CTL restart")`),
// then removes it; exits with PROGRAM's status.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

function pgBinDir() {
  if (process.env.DURABLE_PG_BIN) return process.env.DURABLE_PG_BIN;
  const base = "/usr/lib/postgresql";
  let vers = [];
  try { vers = fs.readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a); } catch { /* none */ }
  for (const v of ["15", ...vers]) {
    const d = path.join(base, v, "bin");
    if (fs.existsSync(path.join(d, "pg_ctl"))) return d;
  }
  throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (tools/deps installs the `postgresql` package)");
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

function wrap(cmd, args) {
  return asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

function run(cmd, args, { timeoutMs = 60000 } = {}) {
  const [c, a] = wrap(cmd, args);
  return new Promise((resolve, reject) => {
    const p = spawn(c, a, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { err += d; });
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", (e) => { clearTimeout(t); reject(e); });
    p.on("exit", (code, sig) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? sig}):\n${out}${err}`));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function childrenOf(pid) {
  const kids = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch { /* gone */ }
  }
  return kids;
}

/** Starts a throw-away PostgreSQL; see the comment at the top of this file. */
export async function startPostgres({ port: wantPort = 0 } = {}) {
  const bin = pgBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-pg-"));
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "pg.log");
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    spawnSync("chown", ["postgres:postgres", dir]);
  }
  const port = wantPort || await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pgctl = path.join(bin, "pg_ctl");
  try {
    await run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust",
      "--no-sync", "-E", "UTF8", "--locale=C"]);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  let running = false;
  const pg = {
    url, port, dir, data, bin,
    /** The conninfo through the Unix socket in the folder (no TCP). */
    socketUrl: `postgresql://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${port}`,
    async start() {
      await run(pgctl, ["-D", data, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"]);
      running = true;
    },
    async halt() {
      if (!running) return;
      await run(pgctl, ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
      running = false;
    },
    async restart() { await pg.halt(); await pg.start(); },
    async kill() {
      let pid = 0;
      try { pid = Number(fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]); } catch { /* not running */ }
      if (pid > 0) {
        const kids = childrenOf(pid);
        try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        for (const k of kids) { try { process.kill(k, "SIGKILL"); } catch { /* gone */ } }
        const deadline = Date.now() + 10000;
        // Wait until they are gone, zombies included: the next postmaster takes a
        // zombie's pid in postmaster.pid for a live server (kill(pid, 0) succeeds).
        while (Date.now() < deadline && [pid, ...kids].some((p) => fs.existsSync(`/proc/${p}`)))
          await new Promise((r) => setTimeout(r, 50));
        if ([pid, ...kids].some((p) => fs.existsSync(`/proc/${p}`))) fs.rmSync(path.join(data, "postmaster.pid"), { force: true });
      }
      running = false;
    },
    async stop() {
      try { await pg.halt(); } catch { await pg.kill(); }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async psql(sql, { db = "postgres" } = {}) {
      const url = pg.socketUrl.replace("/postgres?", `/${encodeURIComponent(db)}?`);
      return run(path.join(bin, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]);
    },
    log() { return safeRead(logFile); },
    /** Shell command prefix taking stop|start|restart (for C tests). */
    ctlCommand() {
      const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
      const pre = asRoot ? "runuser -u postgres -- " : "";
      return `${pre}${q(pgctl)} -D ${q(data)} -l ${q(logFile)} -o ${q(opts)} -w -t 60 -m fast`;
    },
  };
  try {
    await pg.start();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return pg;
}

function safeRead(p) { try { return fs.readFileSync(p, "utf8"); } catch { return ""; } }

// node pg.mjs run -- PROGRAM ARGS…
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === "run") {
  const i = process.argv.indexOf("--");
  const argv = process.argv.slice(i >= 0 ? i + 1 : 3);
  if (argv.length === 0) { console.error("usage: node pg.mjs run -- PROGRAM ARGS…"); process.exit(2); }
  const pg = await startPostgres();
  let code = 1;
  const onSig = async () => { await pg.stop(); process.exit(1); };
  process.once("SIGINT", onSig);
  process.once("SIGTERM", onSig);
  try {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: "inherit",
      env: { ...process.env, DURABLE_TEST_PG_URL: pg.url, DURABLE_TEST_PG_CTL: pg.ctlCommand() },
    });
    code = await new Promise((r) => child.on("exit", (c, s) => r(c ?? (s ? 128 : 1))));
  } finally {
    if (code !== 0) process.stderr.write(`--- PostgreSQL log (${pg.dir}):\n${pg.log().slice(-4000)}\n`);
    await pg.stop();
  }
  process.exit(code);
}
