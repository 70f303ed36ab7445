// node:fs and node:fs/promises (nodejs_compat, from compatibility date 2025-09-01
// or the enable_nodejs_fs_module flag, as on Cloudflare; docs/nodejs.md): a
// virtual file system held in the Worker's heap. It never reaches the host's
// files: there is no native call under it.
//   /bundle   read-only (empty: durable does not expose the Worker's modules here)
//   /tmp      writable, one per request (a request sees only its own files, gone
//             when it ends); at most TMP_BYTES_MAX bytes of file data, then ENOSPC
//   /dev      null, zero, full, random, urandom
// Descriptors 1 and 2 write to the console.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const TMP_BYTES_MAX = 32 * 1024 * 1024;
  const S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFCHR = 0o020000;
  const constants = Object.freeze({
    F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200,
    O_TRUNC: 0o1000, O_APPEND: 0o2000, O_DIRECTORY: 0o200000, O_SYNC: 0o4010000, COPYFILE_EXCL: 1,
    COPYFILE_FICLONE: 2, COPYFILE_FICLONE_FORCE: 4, S_IFMT: 0o170000, S_IFREG, S_IFDIR, S_IFCHR, S_IFLNK: 0o120000,
  });
  const ERRNO = { ENOENT: [-2, "no such file or directory"], EEXIST: [-17, "file already exists"],
    ENOTDIR: [-20, "not a directory"], EISDIR: [-21, "illegal operation on a directory"],
    ENOTEMPTY: [-39, "directory not empty"], EROFS: [-30, "read-only file system"], EBADF: [-9, "bad file descriptor"],
    ENOSPC: [-28, "no space left on device"], EINVAL: [-22, "invalid argument"], EPERM: [-1, "operation not permitted"],
    EACCES: [-13, "permission denied"] };
  const fsErr = (code, syscall, path, dest) => {
    const [errno, what] = ERRNO[code];
    const e = new Error(`${code}: ${what}, ${syscall}${path !== undefined ? ` '${path}'` : ""}${dest !== undefined ? ` -> '${dest}'` : ""}`);
    return Object.assign(e, { errno, code, syscall }, path !== undefined ? { path } : {}, dest !== undefined ? { dest } : {});
  };

  let ino = 1;
  const now = () => Date.now();
  const mkNode = (type, ro, extra) => ({ type, ro, ino: ino++, mode: type === "dir" ? 0o755 : 0o644, mtime: now(), birth: now(), ...extra });
  const mkDir = (ro) => mkNode("dir", ro, { entries: new Map() });
  const mkFile = (ro) => mkNode("file", ro, { data: new Uint8Array(0), size: 0 });
  const root = mkDir(true);
  root.entries.set("bundle", mkDir(true));
  const tmpPlaceholder = mkDir(false);
  root.entries.set("tmp", tmpPlaceholder);
  const dev = mkDir(true);
  for (const name of ["null", "zero", "full", "random", "urandom"])
    dev.entries.set(name, mkNode("dev", false, { dev: name, mode: 0o666 }));
  root.entries.set("dev", dev);

  // ---- the per-request /tmp ----
  // N.requestScope (90_worker.js calls it around each request) runs the request
  // in an async-context frame holding its own /tmp; outside a request (the
  // module's top level, Durable Object calls) one shared /tmp is used.
  let scope = null;
  const shared = { dir: null, used: 0 };
  const tmpState = () => (scope && scope.getStore()) || shared;
  const tmpDir = () => { const t = tmpState(); return (t.dir ??= mkDir(false)); };
  const enable = () => {
    const { AsyncLocalStorage } = N.nodeModule("async_hooks");
    scope = new AsyncLocalStorage();
    N.requestScope = (fn) => scope.run({ dir: null, used: 0 }, fn);
  };
  N.nodeGated.push([["fs", "fs/promises"], "2025-09-01", "enable_nodejs_fs_module", "disable_nodejs_fs_module", enable]);

  // ---- paths ----
  let Buffer;
  const pathOf = (p, name = "path") => {
    if (p instanceof URL) {
      if (p.protocol !== "file:") throw Object.assign(new TypeError("The URL must be of scheme file"), { code: "ERR_INVALID_URL_SCHEME" });
      p = decodeURIComponent(p.pathname);
    } else if (p instanceof Uint8Array) {
      p = new TextDecoder().decode(p);
    }
    if (typeof p !== "string")
      throw Object.assign(new TypeError(`The "${name}" argument must be of type string or an instance of Buffer or URL. Received ${p === null ? "null" : typeof p}`), { code: "ERR_INVALID_ARG_TYPE" });
    if (p.includes("\0")) throw Object.assign(new TypeError(`The argument '${name}' must be a string, Uint8Array, or URL without null bytes.`), { code: "ERR_INVALID_ARG_VALUE" });
    return p;
  };
  const parts = (p) => {
    const out = [];
    for (const s of p.split("/")) {
      if (s === "" || s === ".") continue;
      if (s === "..") out.pop(); else out.push(s);
    }
    return out;
  };
  const childOf = (dir, name) => (dir === root && name === "tmp" ? tmpDir() : dir.entries.get(name));
  // → { node, parent, name, under: "tmp" | other }; node undefined when missing
  function walk(p, syscall) {
    const segs = parts(p);
    let node = root, parent = null, name = "";
    for (let i = 0; i < segs.length; i++) {
      if (node.type !== "dir") throw fsErr("ENOTDIR", syscall, p);
      parent = node; name = segs[i];
      node = childOf(node, name);
      if (!node) {
        if (i < segs.length - 1) throw fsErr("ENOENT", syscall, p);
        break;
      }
    }
    return { node, parent, name, tmp: segs[0] === "tmp" && segs.length > 1, isTmpRoot: segs.length === 1 && segs[0] === "tmp" };
  }
  const need = (p, syscall) => { const w = walk(p, syscall); if (!w.node) throw fsErr("ENOENT", syscall, p); return w; };
  const writableParent = (w, p, syscall) => {
    if (!w.parent || w.parent.ro || (!w.tmp && w.parent !== tmpDir())) throw fsErr(w.parent === dev ? "EPERM" : "EROFS", syscall, p);
  };
  const sizeOf = (node) => (node.type === "file" ? node.size : node.type === "dir" ? 4096 : 0);
  const account = (delta, syscall, p) => {
    const t = tmpState();
    if (delta > 0 && t.used + delta > TMP_BYTES_MAX) throw fsErr("ENOSPC", syscall, p);
    t.used += delta;
  };
  const setSize = (node, n, syscall, p) => {
    if (n === node.size) return;
    account(n - node.size, syscall, p);
    if (n > node.data.length) {
      const grown = new Uint8Array(Math.max(n, Math.min(node.data.length * 2, n + (1 << 20))));
      grown.set(node.data.subarray(0, node.size));
      node.data = grown;
    } else if (n < node.size) {
      node.data.fill(0, n, node.size);
    }
    node.size = n;
  };
  const dropTree = (node) => {
    if (node.type === "file") account(-node.size);
    else if (node.type === "dir") for (const c of node.entries.values()) dropTree(c);
  };

  // ---- Stats / Dirent ----
  class Stats {
    constructor(node) {
      const kind = node.type === "dir" ? S_IFDIR : node.type === "dev" ? S_IFCHR : S_IFREG;
      Object.assign(this, { dev: 0, mode: kind | node.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, blksize: 4096,
        ino: node.ino, size: sizeOf(node), blocks: Math.ceil(sizeOf(node) / 512),
        atimeMs: node.mtime, mtimeMs: node.mtime, ctimeMs: node.mtime, birthtimeMs: node.birth });
      this.atime = new Date(node.mtime); this.mtime = new Date(node.mtime); this.ctime = new Date(node.mtime); this.birthtime = new Date(node.birth);
    }
    isFile() { return (this.mode & 0o170000) === S_IFREG; }
    isDirectory() { return (this.mode & 0o170000) === S_IFDIR; }
    isCharacterDevice() { return (this.mode & 0o170000) === S_IFCHR; }
    isSymbolicLink() { return false; }
    isBlockDevice() { return false; }
    isFIFO() { return false; }
    isSocket() { return false; }
  }
  class Dirent {
    constructor(name, node, parentPath) { this.name = name; this.parentPath = this.path = parentPath; this._t = node.type; }
    isFile() { return this._t === "file"; }
    isDirectory() { return this._t === "dir"; }
    isCharacterDevice() { return this._t === "dev"; }
    isSymbolicLink() { return false; }
    isBlockDevice() { return false; }
    isFIFO() { return false; }
    isSocket() { return false; }
  }

  // ---- descriptors ----
  const fds = new Map();
  let nextFd = 3;
  const flagBits = (f = "r") => {
    if (typeof f === "number") return f;
    const table = { r: 0, "r+": 2, rs: 0, "rs+": 2, w: 0o1101, wx: 0o1301, "w+": 0o1102, "wx+": 0o1302,
      a: 0o2101, ax: 0o2301, "a+": 0o2102, "ax+": 0o2302, as: 0o2101, "as+": 0o2102 };
    if (!(f in table)) throw Object.assign(new TypeError(`The value "${f}" is invalid for option "flags"`), { code: "ERR_INVALID_ARG_VALUE" });
    return table[f];
  };
  function openSync(path, flags = "r", mode = 0o666) {
    const p = pathOf(path), bits = flagBits(flags ?? "r");
    const w = walk(p, "open");
    let node = w.node;
    const writing = (bits & 3) !== 0;
    if (node && (bits & constants.O_CREAT) && (bits & constants.O_EXCL)) throw fsErr("EEXIST", "open", p);
    if (!node) {
      if (!(bits & constants.O_CREAT)) throw fsErr("ENOENT", "open", p);
      writableParent(w, p, "open");
      node = mkFile(false);
      node.mode = mode & 0o777;
      w.parent.entries.set(w.name, node);
    }
    if (node.type === "dir" && writing) throw fsErr("EISDIR", "open", p);
    if (writing && node.ro) throw fsErr("EROFS", "open", p);
    if (writing && node.type === "file" && !w.tmp) throw fsErr("EROFS", "open", p);
    if (node.type === "file" && (bits & constants.O_TRUNC) && writing) setSize(node, 0, "open", p);
    const fd = nextFd++;
    fds.set(fd, { node, pos: 0, read: (bits & 3) !== 1, write: writing, append: !!(bits & constants.O_APPEND), path: p });
    return fd;
  }
  const fdOf = (fd, syscall) => {
    const f = fds.get(fd);
    if (!f) throw fsErr("EBADF", syscall);
    return f;
  };
  function closeSync(fd) { fdOf(fd, "close"); fds.delete(fd); }
  const bytesIn = (data, enc) => {
    if (typeof data === "string") return Buffer.from(data, enc || "utf8");
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw Object.assign(new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.'), { code: "ERR_INVALID_ARG_TYPE" });
  };
  function writeAt(f, bytes, position) {
    const node = f.node;
    if (!f.write) throw fsErr("EBADF", "write");
    if (node.type === "dev") {
      if (node.dev === "full") throw fsErr("ENOSPC", "write");
      return bytes.length;
    }
    const at = f.append ? node.size : position ?? f.pos;
    if (at + bytes.length > node.size) setSize(node, at + bytes.length, "write", f.path);
    node.data.set(bytes, at);
    node.mtime = now();
    if (position === null || position === undefined || f.append) f.pos = at + bytes.length;
    return bytes.length;
  }
  function writeSync(fd, data, a, b, c) {
    if (fd === 1 || fd === 2) {
      const s = typeof data === "string" ? data : new TextDecoder().decode(bytesIn(data));
      (fd === 1 ? console.log : console.error)(s.replace(/\n$/, ""));
      return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    }
    const f = fdOf(fd, "write");
    if (typeof data === "string") return writeAt(f, bytesIn(data, typeof b === "string" ? b : undefined), typeof a === "number" ? a : null);
    const bytes = bytesIn(data);
    const off = a ?? 0, len = b ?? bytes.length - off;
    return writeAt(f, bytes.subarray(off, off + len), c);
  }
  function readSync(fd, buffer, offOrOpts = 0, length, position) {
    const f = fdOf(fd, "read");
    let off = offOrOpts;
    if (typeof offOrOpts === "object" && offOrOpts !== null) ({ offset: off = 0, length, position } = offOrOpts);
    const out = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    length ??= out.length - off;
    if (!f.read) throw fsErr("EBADF", "read");
    const node = f.node;
    if (node.type === "dir") throw fsErr("EISDIR", "read");
    if (node.type === "dev") {
      if (node.dev === "null") return 0;
      if (node.dev === "random" || node.dev === "urandom") {
        for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(off + i, off + Math.min(length, i + 65536)));
      } else out.fill(0, off, off + length);
      return length;
    }
    const at = position === null || position === undefined || position < 0 ? f.pos : Number(position);
    const n = Math.max(0, Math.min(length, node.size - at));
    out.set(node.data.subarray(at, at + n), off);
    if (position === null || position === undefined || position < 0) f.pos = at + n;
    return n;
  }
  const encOf = (o) => (typeof o === "string" ? o : o?.encoding ?? null);
  function readFileSync(path, opts) {
    const enc = encOf(opts);
    let node;
    if (typeof path === "number") node = fdOf(path, "read").node;
    else {
      const p = pathOf(path);
      node = need(p, "open").node;
      if (node.type === "dir") throw fsErr("EISDIR", "read");
    }
    let bytes;
    if (node.type === "dev") bytes = Buffer.alloc(0);
    else bytes = Buffer.from(node.data.slice(0, node.size));
    return enc && enc !== "buffer" ? bytes.toString(enc) : bytes;
  }
  function writeFileSync(path, data, opts) {
    const flag = (typeof opts === "object" && opts?.flag) || "w";
    const fd = typeof path === "number" ? path : openSync(path, flag, opts?.mode);
    try {
      const f = fdOf(fd, "write");
      writeAt(f, bytesIn(data, encOf(opts)), null);
    } finally {
      if (typeof path !== "number") closeSync(fd);
    }
  }
  const appendFileSync = (path, data, opts) =>
    writeFileSync(path, data, { ...(typeof opts === "string" ? { encoding: opts } : opts), flag: (typeof opts === "object" && opts?.flag) || "a" });
  function statSync(path, opts) {
    let node;
    try {
      node = typeof path === "number" ? fdOf(path, "fstat").node : need(pathOf(path), "stat").node;
    } catch (e) {
      if (opts?.throwIfNoEntry === false && e.code === "ENOENT") return undefined;
      throw e;
    }
    return new Stats(node);
  }
  function existsSync(path) {
    try { return !!walk(pathOf(path), "access").node; } catch { return false; }
  }
  function accessSync(path, mode = 0) {
    const p = pathOf(path), w = need(p, "access");
    if ((mode & 2) && (w.node.ro || (w.node.type !== "dev" && !w.tmp && !w.isTmpRoot))) throw fsErr("EROFS", "access", p);
  }
  function mkdirSync(path, opts) {
    const p = pathOf(path), recursive = typeof opts === "object" && opts?.recursive;
    if (recursive) {
      const segs = parts(p);
      let first;
      for (let i = 1; i <= segs.length; i++) {
        const sub = "/" + segs.slice(0, i).join("/");
        const w = walk(sub, "mkdir");
        if (w.node) { if (w.node.type !== "dir") throw fsErr("ENOTDIR", "mkdir", p); continue; }
        writableParent(w, p, "mkdir");
        w.parent.entries.set(w.name, mkDir(false));
        first ??= sub;
      }
      return first;
    }
    const w = walk(p, "mkdir");
    if (w.node) throw fsErr("EEXIST", "mkdir", p);
    writableParent(w, p, "mkdir");
    w.parent.entries.set(w.name, mkDir(false));
    return undefined;
  }
  function mkdtempSync(prefix) {
    const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (;;) {
      const r = crypto.getRandomValues(new Uint8Array(6));
      const p = pathOf(prefix, "prefix") + Array.from(r, (x) => chars[x % chars.length]).join("");
      if (!existsSync(p)) { mkdirSync(p); return p; }
    }
  }
  function readdirSync(path, opts) {
    const p = pathOf(path), node = need(p, "scandir").node;
    if (node.type !== "dir") throw fsErr("ENOTDIR", "scandir", p);
    const names = [...node.entries.keys()].sort();
    if (opts?.withFileTypes) return names.map((n) => new Dirent(n, childOf(node, n), p));
    return encOf(opts) === "buffer" ? names.map((n) => Buffer.from(n)) : names;
  }
  function removeEntry(p, syscall, { dir, recursive, force }) {
    let w;
    try { w = need(p, syscall); } catch (e) { if (force && e.code === "ENOENT") return; throw e; }
    if (!w.tmp) throw fsErr(w.isTmpRoot || w.parent === dev || w.parent === root ? "EPERM" : "EROFS", syscall, p);
    if (w.node.type === "dir") {
      if (dir === false) throw fsErr(syscall === "unlink" ? "EISDIR" : "EISDIR", syscall, p);
      if (w.node.entries.size && !recursive) throw fsErr("ENOTEMPTY", syscall, p);
    } else if (dir === true) throw fsErr("ENOTDIR", syscall, p);
    dropTree(w.node);
    w.parent.entries.delete(w.name);
  }
  const unlinkSync = (path) => removeEntry(pathOf(path), "unlink", { dir: false });
  const rmdirSync = (path, opts) => removeEntry(pathOf(path), "rmdir", { dir: true, recursive: opts?.recursive });
  const rmSync = (path, opts) => {
    const p = pathOf(path);
    const w = walk(p, "rm");
    if (w.node?.type === "dir" && !opts?.recursive)
      throw Object.assign(new Error(`Path is a directory: rm returned EISDIR (is a directory) ${p}`), { code: "ERR_FS_EISDIR" });
    removeEntry(p, "rm", { recursive: opts?.recursive, force: opts?.force });
  };
  function renameSync(from, to) {
    const a = pathOf(from, "oldPath"), b = pathOf(to, "newPath");
    const wa = need(a, "rename");
    const wb = walk(b, "rename");
    if (!wa.tmp) throw fsErr("EROFS", "rename", a, b);
    writableParent(wb, b, "rename");
    if (wb.node === wa.node) return;
    if (wb.node?.type === "dir" && wa.node.type !== "dir") throw fsErr("EISDIR", "rename", a, b);
    if (wb.node?.type === "dir" && wb.node.entries.size) throw fsErr("ENOTEMPTY", "rename", a, b);
    if (wb.node) dropTree(wb.node);
    wa.parent.entries.delete(wa.name);
    wb.parent.entries.set(wb.name, wa.node);
  }
  function copyFileSync(src, dest, mode = 0) {
    const a = pathOf(src, "src"), b = pathOf(dest, "dest");
    const from = need(a, "copyfile").node;
    if (from.type === "dir") throw fsErr("EISDIR", "copyfile", a, b);
    if ((mode & 1) && existsSync(b)) throw fsErr("EEXIST", "copyfile", a, b);
    writeFileSync(b, readFileSync(a));
  }
  function truncateSync(path, len = 0) {
    const f = typeof path === "number" ? fdOf(path, "ftruncate") : null;
    const p = f ? f.path : pathOf(path);
    const w = f ? null : need(p, "open");
    const node = f ? f.node : w.node;
    if (node.type === "dir") throw fsErr("EISDIR", "open", p);
    if (f ? !f.write : !w.tmp) throw fsErr(f ? "EBADF" : "EROFS", "ftruncate", p);
    if (node.type === "file") setSize(node, len, "ftruncate", p);
  }
  function realpathSync(path) {
    const p = pathOf(path);
    need(p, "realpath");
    return "/" + parts(p).join("/");
  }
  const noop = (path) => { need(pathOf(path), "chmod"); };
  const notSupported = (name) => () => { throw Object.assign(new Error(`The fs.${name} method is not implemented`), { code: "ERR_METHOD_NOT_IMPLEMENTED" }); };

  const sync = {
    openSync, closeSync, readSync, writeSync, readFileSync, writeFileSync, appendFileSync, statSync,
    lstatSync: statSync, fstatSync: (fd) => statSync(fd), existsSync, accessSync, mkdirSync, mkdtempSync,
    readdirSync, unlinkSync, rmdirSync, rmSync, renameSync, copyFileSync, truncateSync,
    ftruncateSync: (fd, len) => truncateSync(fd, len), realpathSync,
    chmodSync: noop, chownSync: noop, utimesSync: noop, lchownSync: noop, lutimesSync: noop,
    fchmodSync: (fd) => { fdOf(fd, "fchmod"); }, fchownSync: (fd) => { fdOf(fd, "fchown"); },
    futimesSync: (fd) => { fdOf(fd, "futimes"); }, fsyncSync: (fd) => { fdOf(fd, "fsync"); },
    fdatasyncSync: (fd) => { fdOf(fd, "fdatasync"); },
    symlinkSync: notSupported("symlinkSync"), linkSync: notSupported("linkSync"),
    readlinkSync: (p) => { need(pathOf(p), "readlink"); throw fsErr("EINVAL", "readlink", pathOf(p)); },
  };
  realpathSync.native = realpathSync;

  // callback and promise forms run the sync work in a microtask
  const cbForm = (fn, name) => ({ [name](...args) {
    const cb = args.pop();
    if (typeof cb !== "function")
      throw Object.assign(new TypeError(`The "cb" argument must be of type function. Received ${typeof cb}`), { code: "ERR_INVALID_ARG_TYPE" });
    queueMicrotask(() => {
      let r;
      try { r = fn(...args); } catch (e) { return cb(e); }
      name === "exists" ? cb(r) : cb(null, r);
    });
  } })[name];
  const promiseForm = (fn) => async (...args) => fn(...args);

  function makeModule() {
    Buffer = N.nodeModule("buffer").Buffer;
    const { Readable, Writable } = N.nodeModule("stream");
    const m = { constants, Stats, Dirent, F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };
    for (const [k, fn] of Object.entries(sync)) {
      m[k] = fn;
      const base = k.slice(0, -4);
      m[base] = cbForm(fn, base);
    }
    m.exists = cbForm(existsSync, "exists");
    m.read = cbForm((fd, buffer, ...rest) => { const n = readSync(fd, buffer, ...rest); return n; }, "read");
    m.symlink = m.link = notSupported("symlink");
    m.watch = m.watchFile = m.unwatchFile = notSupported("watch");
    class FileHandle {
      constructor(fd) { this.fd = fd; }
      async read(buffer, offset, length, position) { const n = readSync(this.fd, buffer, offset, length, position); return { bytesRead: n, buffer }; }
      async write(data, ...rest) { const n = writeSync(this.fd, data, ...rest); return { bytesWritten: n, buffer: data }; }
      async readFile(opts) { return readFileSync(this.fd, opts); }
      async writeFile(data, opts) { return writeFileSync(this.fd, data, opts); }
      async stat() { return statSync(this.fd); }
      async truncate(len) { return truncateSync(this.fd, len); }
      async sync() {}
      async close() { if (fds.has(this.fd)) closeSync(this.fd); }
      async [Symbol.asyncDispose]() { return this.close(); }
    }
    const promises = {};
    for (const [k, fn] of Object.entries(sync))
      if (!["existsSync", "openSync", "closeSync", "readSync", "writeSync"].includes(k) && !k.startsWith("f"))
        promises[k.slice(0, -4)] = promiseForm(fn);
    promises.open = async (p, flags, mode) => new FileHandle(openSync(p, flags, mode));
    promises.constants = constants;
    m.promises = promises;
    m.createReadStream = (path, opts) => {
      const o = typeof opts === "string" ? { encoding: opts } : opts || {};
      const fd = o.fd ?? openSync(path, o.flags || "r");
      let pos = o.start ?? 0;
      const end = o.end ?? Infinity;
      const hwm = o.highWaterMark ?? 64 * 1024;
      const r = new Readable({ encoding: o.encoding });
      r.path = path; r.fd = fd; r.bytesRead = 0;
      r._read = function () {
        try {
          const want = Math.min(hwm, end - pos + 1);
          const buf = Buffer.alloc(Math.max(0, want));
          const n = want > 0 ? readSync(fd, buf, 0, want, pos) : 0;
          pos += n; this.bytesRead += n;
          if (n === 0) { if (o.autoClose !== false && fds.has(fd)) closeSync(fd); this.push(null); }
          else this.push(buf.subarray(0, n));
        } catch (e) { this.destroy(e); }
      };
      queueMicrotask(() => { r.emit("open", fd); r.emit("ready"); });
      return r;
    };
    m.createWriteStream = (path, opts) => {
      const o = typeof opts === "string" ? { encoding: opts } : opts || {};
      const fd = o.fd ?? openSync(path, o.flags || "w");
      let pos = o.start;
      const w = new Writable({
        write(chunk, enc, cb) {
          try {
            const n = writeSync(fd, typeof chunk === "string" ? Buffer.from(chunk, enc) : chunk, 0, undefined, pos);
            if (pos !== undefined) pos += n;
            w.bytesWritten += n;
            cb();
          } catch (e) { cb(e); }
        },
        final(cb) { if (o.autoClose !== false && fds.has(fd)) closeSync(fd); cb(); },
      });
      w.path = path; w.fd = fd; w.bytesWritten = 0;
      queueMicrotask(() => { w.emit("open", fd); w.emit("ready"); });
      return w;
    };
    const def = Object.assign(Object.create(null), m);
    m.default = def;
    return m;
  }
  let mod;
  N.nodeModules.fs = () => (mod ??= makeModule());
  N.nodeModules["fs/promises"] = () => {
    const p = N.nodeModule("fs").promises;
    return Object.assign(Object.create(null), p, { default: p });
  };
})();
