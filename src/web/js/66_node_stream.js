// node:stream, minimal (nodejs_compat; docs/nodejs.md): Readable, Writable,
// Duplex, Transform, PassThrough, pipeline, finished — enough for libraries that
// push, pipe and iterate. No highWaterMark back-pressure beyond write()'s return
// value, no cork/uncork, no readable.read(n) byte counting in object mode.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const EE = () => N.nodeEventEmitter;
  const later = (fn) => queueMicrotask(fn);

  function makeClasses() {
    const EventEmitter = EE();
    class Stream extends EventEmitter {
      pipe(dest, opts) {
        const src = this;
        src.on("data", (chunk) => {
          if (dest.write(chunk) === false && typeof src.pause === "function") {
            src.pause();
            dest.once("drain", () => src.resume());
          }
        });
        if (!opts || opts.end !== false) src.on("end", () => dest.end());
        src.on("error", (e) => dest.destroy ? dest.destroy(e) : dest.emit("error", e));
        dest.emit("pipe", src);
        return dest;
      }
    }

    class Readable extends Stream {
      constructor(opts = {}) {
        super();
        this._buf = [];
        this._flowing = null;
        this._ended = false;      // push(null) seen
        this._endEmitted = false;
        this._reading = false;
        this.destroyed = false;
        this.readable = true;
        this.objectMode = !!(opts.objectMode || opts.readableObjectMode);
        this._encoding = opts.encoding || null;
        if (typeof opts.read === "function") this._read = opts.read;
        if (typeof opts.destroy === "function") this._destroy = opts.destroy;
      }
      static from(iterable, opts) {
        const it = iterable[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
        const r = new Readable({ objectMode: true, ...opts });
        r._read = function () {
          Promise.resolve(it.next()).then(({ value, done }) => {
            if (done) this.push(null);
            else this.push(value);
          }, (e) => this.destroy(e));
        };
        return r;
      }
      _read() {}
      push(chunk, enc) {
        if (chunk === null) {
          this._ended = true;
          later(() => this._drainBuf());
          return false;
        }
        if (!this.objectMode && typeof chunk === "string") chunk = N.nodeModule("buffer").Buffer.from(chunk, enc);
        this._buf.push(chunk);
        this._reading = false;
        later(() => this._drainBuf());
        return true;
      }
      unshift(chunk) { this._buf.unshift(chunk); }
      _decode(chunk) {
        return this._encoding && !this.objectMode && typeof chunk !== "string" ? N.nodeModule("buffer").Buffer.from(chunk).toString(this._encoding) : chunk;
      }
      _drainBuf() {
        if (this.destroyed) return;
        while (this._flowing && this._buf.length) this.emit("data", this._decode(this._buf.shift()));
        if (this._buf.length) this.emit("readable");
        if (this._ended && !this._buf.length && !this._endEmitted && this._flowing !== false) {
          this._endEmitted = true;
          this.readable = false;
          this.emit("end");
          this.emit("close");
          return;
        }
        if (this._flowing && !this._ended && !this._reading) {
          this._reading = true;
          try { this._read(); } catch (e) { this.destroy(e); }
        }
      }
      read() {
        if (!this._buf.length) {
          if (!this._ended && !this._reading) { this._reading = true; later(() => this._read()); }
          if (this._ended) later(() => { this._flowing = this._flowing ?? true; this._drainBuf(); });
          return null;
        }
        const c = this._buf.shift();
        return this._decode(c);
      }
      on(ev, fn) {
        super.on(ev, fn);
        if (ev === "data" && this._flowing !== false) this.resume();
        if (ev === "readable" && !this._ended) { this._reading = true; later(() => this._read()); }
        return this;
      }
      resume() { this._flowing = true; later(() => this._drainBuf()); return this; }
      pause() { this._flowing = false; return this; }
      isPaused() { return this._flowing === false; }
      setEncoding(enc) { this._encoding = enc; return this; }
      destroy(err) {
        if (this.destroyed) return this;
        this.destroyed = true;
        const done = (e) => later(() => { if (e) this.emit("error", e); this.emit("close"); });
        if (this._destroy) this._destroy(err || null, done); else done(err);
        return this;
      }
      [Symbol.asyncIterator]() {
        const queue = [];
        let waiting = null, done = false, error = null;
        const wake = () => { if (waiting) { const w = waiting; waiting = null; w(); } };
        this.on("data", (c) => { queue.push(c); wake(); });
        this.on("end", () => { done = true; wake(); });
        this.on("error", (e) => { error = e; wake(); });
        const self = this;
        return {
          async next() {
            for (;;) {
              if (queue.length) return { value: queue.shift(), done: false };
              if (error) throw error;
              if (done) return { value: undefined, done: true };
              await new Promise((r) => { waiting = r; });
            }
          },
          async return() { self.destroy(); return { value: undefined, done: true }; },
          [Symbol.asyncIterator]() { return this; },
        };
      }
    }

    class Writable extends Stream {
      constructor(opts = {}) {
        super();
        this.writable = true;
        this.destroyed = false;
        this._ending = false;
        this.writableFinished = false;
        this._pending = 0;
        this._queue = [];
        this.objectMode = !!(opts.objectMode || opts.writableObjectMode);
        if (typeof opts.write === "function") this._write = opts.write;
        if (typeof opts.final === "function") this._final = opts.final;
        if (typeof opts.destroy === "function") this._destroy = opts.destroy;
      }
      _write(chunk, enc, cb) { cb(); }
      write(chunk, enc, cb) {
        if (typeof enc === "function") { cb = enc; enc = undefined; }
        if (this._ending) {
          const e = Object.assign(new Error("write after end"), { code: "ERR_STREAM_WRITE_AFTER_END" });
          later(() => { if (cb) cb(e); this.emit("error", e); });
          return false;
        }
        if (!this.objectMode && typeof chunk === "string") chunk = N.nodeModule("buffer").Buffer.from(chunk, enc);
        this._queue.push([chunk, enc, cb]);
        if (this._queue.length === 1) this._next();
        return this._queue.length < 16;
      }
      _next() {
        if (!this._queue.length) {
          this.emit("drain");
          if (this._ending) this._finish();
          return;
        }
        const [chunk, enc, cb] = this._queue[0];
        this._write(chunk, enc || "buffer", (err) => {
          this._queue.shift();
          if (cb) cb(err);
          if (err) return this.destroy(err);
          later(() => this._next());
        });
      }
      end(chunk, enc, cb) {
        if (typeof chunk === "function") { cb = chunk; chunk = undefined; }
        if (typeof enc === "function") { cb = enc; enc = undefined; }
        if (chunk !== undefined && chunk !== null) this.write(chunk, enc);
        if (cb) this.once("finish", cb);
        if (this._ending) return this;
        this._ending = true;
        if (!this._queue.length) later(() => this._finish());
        return this;
      }
      _finish() {
        if (this.writableFinished || this._finishing) return;
        this._finishing = true;
        const done = (err) => {
          if (err) return this.destroy(err);
          this.writableFinished = true;
          this.writable = false;
          this.emit("finish");
          this.emit("close");
        };
        if (this._final) this._final(done); else done();
      }
      destroy(err) {
        if (this.destroyed) return this;
        this.destroyed = true;
        const done = (e) => later(() => { if (e) this.emit("error", e); this.emit("close"); });
        if (this._destroy) this._destroy(err || null, done); else done(err);
        return this;
      }
      cork() {}
      uncork() {}
      setDefaultEncoding() { return this; }
    }

    // A Duplex is a Readable with Writable's methods mixed in.
    class Duplex extends Readable {
      constructor(opts = {}) {
        super(opts);
        const w = new Writable(opts);
        for (const k of Object.keys(w)) if (!(k in this) || k.startsWith("_") || k === "writable") this[k] = w[k];
        this.objectMode = !!(opts.objectMode || opts.readableObjectMode);
        this._wObjectMode = !!(opts.objectMode || opts.writableObjectMode);
        if (typeof opts.write === "function") this._write = opts.write;
        if (typeof opts.final === "function") this._final = opts.final;
      }
    }
    for (const k of ["write", "_next", "end", "_finish", "cork", "uncork", "setDefaultEncoding"])
      Duplex.prototype[k] = Writable.prototype[k];
    Duplex.prototype._write = Writable.prototype._write;

    class Transform extends Duplex {
      constructor(opts = {}) {
        super(opts);
        if (typeof opts.transform === "function") this._transform = opts.transform;
        if (typeof opts.flush === "function") this._flushT = opts.flush;
      }
      _transform(chunk, enc, cb) { cb(null, chunk); }
      _write(chunk, enc, cb) {
        this._transform(chunk, enc, (err, data) => {
          if (data !== undefined && data !== null) this.push(data);
          cb(err);
        });
      }
      _final(cb) {
        const end = (err, data) => {
          if (data !== undefined && data !== null) this.push(data);
          this.push(null);
          cb(err);
        };
        if (this._flushT) this._flushT(end);
        else if (typeof this._flush === "function") this._flush(end);
        else end();
      }
    }
    class PassThrough extends Transform {}

    function finished(stream, opts, cb) {
      if (typeof opts === "function") { cb = opts; opts = {}; }
      let called = false;
      const once = (e) => { if (!called) { called = true; cb(e); } };
      stream.on("end", () => once());
      stream.on("finish", () => once());
      stream.on("error", (e) => once(e));
      return () => {};
    }
    function pipeline(...streams) {
      const cb = typeof streams[streams.length - 1] === "function" ? streams.pop() : null;
      if (Array.isArray(streams[0])) streams = streams[0];
      let done = false;
      const finish = (e) => { if (!done) { done = true; if (e) for (const s of streams) s.destroy && s.destroy(); if (cb) cb(e); } };
      for (let i = 0; i < streams.length - 1; i++) streams[i].pipe(streams[i + 1]);
      for (const s of streams) s.on("error", finish);
      finished(streams[streams.length - 1], (e) => finish(e));
      return streams[streams.length - 1];
    }
    const promises = {
      pipeline: (...s) => new Promise((res, rej) => pipeline(...s, (e) => (e ? rej(e) : res()))),
      finished: (s, o) => new Promise((res, rej) => finished(s, o || {}, (e) => (e ? rej(e) : res()))),
    };
    Stream.Stream = Stream;
    Object.assign(Stream, { Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished, promises });
    return Stream;
  }
  let Stream;
  const get = () => (Stream ??= makeClasses());
  N.nodeModules.stream = () => {
    const S = get();
    const m = Object.assign(Object.create(null), { Stream: S, Readable: S.Readable, Writable: S.Writable, Duplex: S.Duplex,
      Transform: S.Transform, PassThrough: S.PassThrough, pipeline: S.pipeline, finished: S.finished, promises: S.promises });
    m.default = S;
    return m;
  };
  N.nodeModules["stream/promises"] = () => Object.assign(Object.create(null), get().promises, { default: get().promises });
})();
