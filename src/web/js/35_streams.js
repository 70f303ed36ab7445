// Streams (spec WEB-7): ReadableStream with a default reader, tee, async
// iteration, pipeTo/pipeThrough and ReadableStream.from; WritableStream with a
// writer and backpressure by highWaterMark; TransformStream. The semantics follow
// the WHATWG Streams standard where Worker code can see them (queueing strategy,
// desiredSize, when pull is called, how errors and cancellation travel through a
// pipe); BYOB readers are absent: a `type: "bytes"` source is accepted and read
// with the default reader. Everything here is plain JS on the engine's promises.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const kS = Symbol("streamState");
  const noop = () => {};
  const quiet = (p) => { p.catch(noop); return p; };
  const deferred = () => {
    let resolve, reject;
    const promise = new Promise((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  };
  const call = (obj, name, args) => {
    const f = obj ? obj[name] : undefined;
    if (f === undefined || f === null) return Promise.resolve();
    if (typeof f !== "function") return Promise.reject(new TypeError(`${name} is not a function`));
    try { return Promise.resolve(f.apply(obj, args)); } catch (e) { return Promise.reject(e); }
  };
  const strategyOf = (strategy, defaultHwm) => {
    const hwm = strategy?.highWaterMark === undefined ? defaultHwm : Number(strategy.highWaterMark);
    if (Number.isNaN(hwm) || hwm < 0) throw new RangeError("The highWaterMark of a queuing strategy must be a non-negative number.");
    const size = strategy?.size;
    if (size !== undefined && typeof size !== "function") throw new TypeError("The size of a queuing strategy must be a function.");
    return { hwm, size: size ? (c) => Number(size(c)) : () => 1 };
  };

  class CountQueuingStrategy {
    constructor({ highWaterMark }) { this.highWaterMark = highWaterMark; }
    get size() { return () => 1; }
  }
  class ByteLengthQueuingStrategy {
    constructor({ highWaterMark }) { this.highWaterMark = highWaterMark; }
    get size() { return (c) => c.byteLength; }
  }

  // ---- ReadableStream ----
  // s: { state: "readable"|"closed"|"errored", queue: [[chunk, size]], total,
  //      reads: [deferred], closeRequested, started, pulling, pullAgain, reader,
  //      source, strategy, error, controller, disturbed }
  class ReadableStreamDefaultController {
    constructor() { throw new TypeError("Illegal constructor"); }
    get desiredSize() { return desired(this[kS]); }
    enqueue(chunk) {
      const s = this[kS];
      if (s.closeRequested || s.state !== "readable") throw new TypeError("Cannot enqueue a chunk into a readable stream that is closed or has been requested to be closed");
      rsEnqueue(s, chunk);
    }
    close() {
      const s = this[kS];
      if (s.closeRequested || s.state !== "readable") throw new TypeError("Cannot close a readable stream that has already been requested to be closed");
      s.closeRequested = true;
      if (s.queue.length === 0) rsClose(s);
    }
    error(e) { rsError(this[kS], e); }
  }
  const desired = (s) => s.state === "errored" ? null : s.state === "closed" ? 0 : s.strategy.hwm - s.total;
  const rsEnqueue = (s, chunk) => {
    if (s.reads.length) { s.reads.shift().resolve({ value: chunk, done: false }); }
    else {
      let size;
      try { size = s.strategy.size(chunk); if (!(size >= 0) || size === Infinity) throw new RangeError("The return value of a queuing strategy's size function must be a finite, non-negative number."); }
      catch (e) { rsError(s, e); throw e; }
      s.queue.push([chunk, size]);
      s.total += size;
    }
    rsPullIfNeeded(s);
  };
  const rsClose = (s) => {
    if (s.state !== "readable") return;
    s.state = "closed";
    for (const r of s.reads.splice(0)) r.resolve({ value: undefined, done: true });
    s.reader?._closed.resolve();
  };
  const rsError = (s, e) => {
    if (s.state !== "readable") return;
    s.state = "errored";
    s.error = e;
    s.queue.length = 0;
    s.total = 0;
    for (const r of s.reads.splice(0)) r.reject(e);
    s.reader?._closed.reject(e);
  };
  const rsPullIfNeeded = (s) => {
    if (!s.started || s.state !== "readable" || s.closeRequested) return;
    if (!(s.reads.length > 0 || desired(s) > 0)) return;
    if (s.pulling) { s.pullAgain = true; return; }
    s.pulling = true;
    call(s.source, "pull", [s.controller]).then(() => {
      s.pulling = false;
      if (s.pullAgain) { s.pullAgain = false; rsPullIfNeeded(s); }
    }, (e) => rsError(s, e));
  };
  const rsRead = (s) => {
    s.disturbed = true;
    if (s.queue.length) {
      const [chunk, size] = s.queue.shift();
      s.total -= size;
      if (s.total < 1e-9) s.total = 0;
      if (s.closeRequested && s.queue.length === 0) rsClose(s);
      else rsPullIfNeeded(s);
      return Promise.resolve({ value: chunk, done: false });
    }
    if (s.state === "closed") return Promise.resolve({ value: undefined, done: true });
    if (s.state === "errored") return Promise.reject(s.error);
    const d = deferred();
    s.reads.push(d);
    rsPullIfNeeded(s);
    return d.promise;
  };
  const rsCancel = (s, reason) => {
    s.disturbed = true;
    if (s.state === "closed") return Promise.resolve();
    if (s.state === "errored") return Promise.reject(s.error);
    s.queue.length = 0;
    s.total = 0;
    rsClose(s);
    return call(s.source, "cancel", [reason]).then(noop);
  };
  const newReadableState = (source, strategy) => {
    const s = { state: "readable", queue: [], total: 0, reads: [], closeRequested: false, started: false,
      pulling: false, pullAgain: false, reader: null, source, strategy, error: undefined, disturbed: false };
    const c = Object.create(ReadableStreamDefaultController.prototype);
    c[kS] = s;
    s.controller = c;
    return s;
  };
  const startReadable = (s) => {
    call(s.source, "start", [s.controller]).then(() => { s.started = true; rsPullIfNeeded(s); }, (e) => rsError(s, e));
  };

  class ReadableStreamDefaultReader {
    constructor(stream) {
      if (!(stream instanceof ReadableStream)) throw new TypeError("ReadableStreamDefaultReader needs a ReadableStream");
      const s = stream[kS];
      if (s.reader) throw new TypeError("ReadableStream is locked to a reader");
      s.reader = this;
      this[kS] = s;
      this._closed = deferred();
      quiet(this._closed.promise);
      if (s.state === "closed") this._closed.resolve();
      else if (s.state === "errored") this._closed.reject(s.error);
    }
    get closed() { return this._closed.promise; }
    read() {
      const s = this[kS];
      if (!s) return Promise.reject(new TypeError("This reader has been released from its stream"));
      return rsRead(s);
    }
    cancel(reason) {
      const s = this[kS];
      if (!s) return Promise.reject(new TypeError("This reader has been released from its stream"));
      return rsCancel(s, reason);
    }
    releaseLock() {
      const s = this[kS];
      if (!s) return;
      const e = new TypeError("The reader was released");
      for (const r of s.reads.splice(0)) r.reject(e);
      if (s.state === "readable") this._closed.reject(e);
      else { this._closed = deferred(); quiet(this._closed.promise); this._closed.reject(e); }
      s.reader = null;
      this[kS] = null;
    }
    get [Symbol.toStringTag]() { return "ReadableStreamDefaultReader"; }
  }
  const readerClosed = (r) => r._closed;

  class ReadableStream {
    constructor(source = undefined, strategy = undefined) {
      if (source === null) throw new TypeError("The underlying source cannot be null");
      const isBytes = source?.type === "bytes";
      if (source?.type !== undefined && !isBytes) throw new RangeError(`Invalid type: ${source.type}`);
      const s = newReadableState(source ?? {}, strategyOf(strategy, isBytes ? 0 : 1));
      this[kS] = s;
      startReadable(s);
    }
    get locked() { return this[kS].reader !== null; }
    getReader(options) {
      if (options?.mode === "byob") throw new TypeError("BYOB readers are not supported by durable yet.");
      if (options?.mode !== undefined) throw new RangeError(`Invalid reader mode: ${options.mode}`);
      return new ReadableStreamDefaultReader(this);
    }
    cancel(reason) {
      if (this.locked) return Promise.reject(new TypeError("Cannot cancel a stream that is locked to a reader"));
      return rsCancel(this[kS], reason);
    }
    tee() {
      if (this.locked) throw new TypeError("Cannot tee a stream that is locked to a reader");
      const reader = this.getReader();
      let reading = false, readAgain = false, canceled = [false, false], reasons = [undefined, undefined];
      const cancelDone = deferred();
      const ctl = [null, null];
      const pullAlgo = () => {
        if (reading) { readAgain = true; return Promise.resolve(); }
        reading = true;
        reader.read().then(({ value, done }) => {
          reading = false;
          if (done) {
            for (let i = 0; i < 2; i++) if (!canceled[i]) try { ctl[i].close(); } catch {}
            cancelDone.resolve();
            return;
          }
          for (let i = 0; i < 2; i++) if (!canceled[i]) try { ctl[i].enqueue(value); } catch {}
          if (readAgain) { readAgain = false; pullAlgo(); }
        }, (e) => { reading = false; });
        return Promise.resolve();
      };
      const cancelAlgo = (i) => (reason) => {
        canceled[i] = true;
        reasons[i] = reason;
        if (canceled[0] && canceled[1]) cancelDone.resolve(reader.cancel(reasons));
        return cancelDone.promise;
      };
      const mk = (i) => new ReadableStream({ start: (c) => { ctl[i] = c; }, pull: pullAlgo, cancel: cancelAlgo(i) });
      const branches = [mk(0), mk(1)];
      quiet(readerClosed(reader).promise.catch((e) => { for (const c of ctl) try { c.error(e); } catch {} cancelDone.resolve(); }));
      return branches;
    }
    values({ preventCancel = false } = {}) {
      const reader = this.getReader();
      let finished = false;
      return {
        next() {
          if (finished) return Promise.resolve({ value: undefined, done: true });
          return reader.read().then((r) => {
            if (r.done) { finished = true; reader.releaseLock(); }
            return r;
          }, (e) => { finished = true; reader.releaseLock(); throw e; });
        },
        return(value) {
          if (finished) return Promise.resolve({ value, done: true });
          finished = true;
          if (preventCancel) { reader.releaseLock(); return Promise.resolve({ value, done: true }); }
          const p = reader.cancel(value);
          reader.releaseLock();
          return p.then(() => ({ value, done: true }));
        },
        [Symbol.asyncIterator]() { return this; },
      };
    }
    [Symbol.asyncIterator](options) { return this.values(options); }
    pipeThrough(transform, options) {
      if (!transform || !(transform.writable instanceof WritableStream) || !(transform.readable instanceof ReadableStream))
        throw new TypeError("pipeThrough needs a { writable, readable } pair");
      if (this.locked) throw new TypeError("Cannot pipe a stream that is locked to a reader");
      if (transform.writable.locked) throw new TypeError("Cannot pipe to a WritableStream that is locked");
      quiet(this.pipeTo(transform.writable, options));
      return transform.readable;
    }
    pipeTo(dest, options = {}) {
      if (!(dest instanceof WritableStream)) return Promise.reject(new TypeError("pipeTo needs a WritableStream"));
      if (this.locked) return Promise.reject(new TypeError("Cannot pipe a stream that is locked to a reader"));
      if (dest.locked) return Promise.reject(new TypeError("Cannot pipe to a WritableStream that is locked"));
      return pipe(this, dest, options ?? {});
    }
    static from(iterable) {
      if (iterable instanceof ReadableStream) return iterable;
      const get = iterable?.[Symbol.asyncIterator] ?? iterable?.[Symbol.iterator];
      if (typeof get !== "function") throw new TypeError("ReadableStream.from needs an iterable or async iterable");
      const it = get.call(iterable);
      return new ReadableStream({
        async pull(c) {
          const r = await it.next();
          if (r.done) c.close(); else c.enqueue(await r.value);
        },
        async cancel(reason) { if (typeof it.return === "function") await it.return(reason); },
      }, { highWaterMark: 0 });
    }
    get [Symbol.toStringTag]() { return "ReadableStream"; }
  }

  const pipe = (src, dest, { preventClose = false, preventAbort = false, preventCancel = false, signal } = {}) => {
    const reader = src.getReader();
    const writer = dest.getWriter();
    const result = deferred();
    let done = false;
    const finish = (action, error, isError) => {
      if (done) return;
      done = true;
      Promise.resolve(action ? action() : undefined).then(noop, noop).then(() => {
        try { writer.releaseLock(); } catch {}
        try { reader.releaseLock(); } catch {}
        if (signal) signal.removeEventListener?.("abort", onAbort);
        if (isError) result.reject(error); else result.resolve();
      });
    };
    const onAbort = () => {
      const reason = signal.reason;
      finish(() => Promise.all([
        preventAbort ? undefined : writer.abort(reason).catch(noop),
        preventCancel ? undefined : reader.cancel(reason).catch(noop),
      ]), reason, true);
    };
    if (signal) {
      if (signal.aborted) { onAbort(); return result.promise; }
      signal.addEventListener("abort", onAbort);
    }
    readerClosed(reader).promise.then(null, (e) => {
      finish(preventAbort ? null : () => writer.abort(e), e, true);
    });
    writer.closed.then(null, (e) => {
      finish(preventCancel ? null : () => reader.cancel(e), e, true);
    });
    const loop = () => {
      if (done) return;
      writer.ready.then(() => {
        if (done) return;
        return reader.read().then(({ value, done: end }) => {
          if (done) return;
          if (end) {
            if (preventClose) finish(null);
            else writer.close().then(() => finish(null), (e) => finish(null, e, true));
            return;
          }
          quiet(writer.write(value));
          loop();
        });
      }).catch(noop);
    };
    loop();
    return result.promise;
  };

  // ---- WritableStream ----
  // w: { state: "writable"|"erroring"|"errored"|"closed", queue: [[chunk, size, deferred]],
  //      total, writing, closeRequest, inFlightClose, writer, sink, strategy, error,
  //      backpressure, controller, abortController, pendingAbort }
  class WritableStreamDefaultController {
    constructor() { throw new TypeError("Illegal constructor"); }
    error(e) { const w = this[kS]; if (w.state === "writable") wsStartErroring(w, e); }
    get signal() { return this[kS].abortController.signal; }
  }
  const wsDesired = (w) => w.strategy.hwm - w.total;
  const wsUpdateBackpressure = (w) => {
    if (w.state !== "writable" || w.closeRequest) return;
    const bp = wsDesired(w) <= 0;
    if (bp === w.backpressure) return;
    w.backpressure = bp;
    if (w.writer) {
      if (bp) { w.writer._ready = deferred(); quiet(w.writer._ready.promise); }
      else w.writer._ready.resolve();
    }
  };
  const wsStartErroring = (w, e) => {
    w.state = "erroring";
    w.error = e;
    if (w.writer && !w.backpressure) { w.writer._ready = deferred(); quiet(w.writer._ready.promise); }
    if (w.writer) w.writer._ready.reject(e);
    if (!w.writing && !w.inFlightClose && w.started) wsFinishErroring(w);
  };
  const wsFinishErroring = (w) => {
    w.state = "errored";
    const e = w.error;
    for (const [, , d] of w.queue.splice(0)) d.reject(e);
    w.total = 0;
    if (w.closeRequest) { w.closeRequest.reject(e); w.closeRequest = null; }
    if (w.writer) w.writer._closed.reject(e);
    const pa = w.pendingAbort;
    w.pendingAbort = null;
    if (pa) {
      if (pa.wasAlreadyErroring) { pa.d.reject(e); return; }
      call(w.sink, "abort", [pa.reason]).then(() => pa.d.resolve(), (x) => pa.d.reject(x));
    }
  };
  const wsAdvance = (w) => {
    if (!w.started || w.writing || w.inFlightClose) return;
    if (w.state === "erroring") { wsFinishErroring(w); return; }
    if (w.state !== "writable") return;
    if (w.queue.length === 0) {
      if (w.closeRequest) {
        w.inFlightClose = w.closeRequest;
        w.closeRequest = null;
        call(w.sink, "close", []).then(() => {
          const d = w.inFlightClose;
          w.inFlightClose = null;
          if (w.state === "erroring") { w.pendingAbort?.d.resolve(); w.pendingAbort = null; }
          w.state = "closed";
          d.resolve();
          if (w.writer) w.writer._closed.resolve();
        }, (e) => {
          const d = w.inFlightClose;
          w.inFlightClose = null;
          d.reject(e);
          if (w.state === "writable") w.state = "erroring", w.error = e;
          wsFinishErroring(w);
        });
      }
      return;
    }
    const [chunk, size, d] = w.queue[0];
    w.writing = true;
    call(w.sink, "write", [chunk, w.controller]).then(() => {
      w.writing = false;
      w.queue.shift();
      w.total -= size;
      d.resolve();
      if (w.state === "erroring") { wsFinishErroring(w); return; }
      wsUpdateBackpressure(w);
      wsAdvance(w);
    }, (e) => {
      w.writing = false;
      w.queue.shift();
      w.total -= size;
      d.reject(e);
      if (w.state === "writable") { w.state = "erroring"; w.error = e; if (w.writer) { w.writer._ready = deferred(); quiet(w.writer._ready.promise); w.writer._ready.reject(e); } }
      wsFinishErroring(w);
    });
  };
  const wsWrite = (w, chunk) => {
    if (w.state === "errored" || w.state === "erroring") return Promise.reject(w.error);
    if (w.closeRequest || w.inFlightClose || w.state === "closed") return Promise.reject(new TypeError("Cannot write to a WritableStream that is closing or closed"));
    let size;
    try { size = w.strategy.size(chunk); } catch (e) { wsStartErroring(w, e); return Promise.reject(e); }
    const d = deferred();
    w.queue.push([chunk, size, d]);
    w.total += size;
    wsUpdateBackpressure(w);
    wsAdvance(w);
    return d.promise;
  };
  const wsClose = (w) => {
    if (w.state === "closed" || w.state === "errored") return Promise.reject(new TypeError("Cannot close a WritableStream that is closed or errored"));
    if (w.closeRequest || w.inFlightClose) return Promise.reject(new TypeError("The WritableStream is already closing"));
    const d = deferred();
    w.closeRequest = d;
    if (w.writer && w.backpressure && w.state === "writable") w.writer._ready.resolve();
    wsAdvance(w);
    return d.promise;
  };
  const wsAbort = (w, reason) => {
    if (w.state === "closed" || w.state === "errored") return Promise.resolve();
    w.abortController.abort(reason);
    if (w.pendingAbort) return w.pendingAbort.d.promise;
    const wasAlreadyErroring = w.state === "erroring";
    const d = deferred();
    w.pendingAbort = { d, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) wsStartErroring(w, reason);
    return d.promise;
  };

  class WritableStreamDefaultWriter {
    constructor(stream) {
      if (!(stream instanceof WritableStream)) throw new TypeError("WritableStreamDefaultWriter needs a WritableStream");
      const w = stream[kS];
      if (w.writer) throw new TypeError("WritableStream is locked to a writer");
      w.writer = this;
      this[kS] = w;
      this._ready = deferred();
      this._closed = deferred();
      quiet(this._ready.promise);
      quiet(this._closed.promise);
      if (w.state === "writable") { if (!w.backpressure || w.closeRequest) this._ready.resolve(); }
      else if (w.state === "erroring") this._ready.reject(w.error);
      else if (w.state === "closed") { this._ready.resolve(); this._closed.resolve(); }
      else { this._ready.reject(w.error); this._closed.reject(w.error); }
    }
    get ready() { return this._ready.promise; }
    get closed() { return this._closed.promise; }
    get desiredSize() {
      const w = this[kS];
      if (!w) throw new TypeError("This writer has been released");
      return w.state === "errored" || w.state === "erroring" ? null : w.state === "closed" ? 0 : wsDesired(w);
    }
    write(chunk) { const w = this[kS]; return w ? wsWrite(w, chunk) : Promise.reject(new TypeError("This writer has been released")); }
    close() { const w = this[kS]; return w ? wsClose(w) : Promise.reject(new TypeError("This writer has been released")); }
    abort(reason) { const w = this[kS]; return w ? wsAbort(w, reason) : Promise.reject(new TypeError("This writer has been released")); }
    releaseLock() {
      const w = this[kS];
      if (!w) return;
      const e = new TypeError("The writer was released");
      this._ready = deferred(); quiet(this._ready.promise); this._ready.reject(e);
      this._closed = deferred(); quiet(this._closed.promise); this._closed.reject(e);
      w.writer = null;
      this[kS] = null;
    }
    get [Symbol.toStringTag]() { return "WritableStreamDefaultWriter"; }
  }

  class WritableStream {
    constructor(sink = undefined, strategy = undefined) {
      if (sink === null) throw new TypeError("The underlying sink cannot be null");
      if (sink?.type !== undefined) throw new RangeError("Invalid type is specified");
      const w = { state: "writable", queue: [], total: 0, writing: false, closeRequest: null, inFlightClose: null,
        writer: null, sink: sink ?? {}, strategy: strategyOf(strategy, 1), error: undefined, backpressure: false,
        started: false, pendingAbort: null, abortController: new AbortController() };
      const c = Object.create(WritableStreamDefaultController.prototype);
      c[kS] = w;
      w.controller = c;
      this[kS] = w;
      wsUpdateBackpressure(w);
      call(w.sink, "start", [c]).then(() => { w.started = true; wsAdvance(w); }, (e) => {
        w.started = true;
        if (w.state === "writable") wsStartErroring(w, e); else if (w.state === "erroring") wsFinishErroring(w);
      });
    }
    get locked() { return this[kS].writer !== null; }
    getWriter() { return new WritableStreamDefaultWriter(this); }
    abort(reason) {
      if (this.locked) return Promise.reject(new TypeError("Cannot abort a WritableStream that is locked to a writer"));
      return wsAbort(this[kS], reason);
    }
    close() {
      if (this.locked) return Promise.reject(new TypeError("Cannot close a WritableStream that is locked to a writer"));
      return wsClose(this[kS]);
    }
    get [Symbol.toStringTag]() { return "WritableStream"; }
  }

  // ---- TransformStream ----
  class TransformStreamDefaultController {
    constructor() { throw new TypeError("Illegal constructor"); }
    get desiredSize() { return desired(this[kS].rs); }
    enqueue(chunk) {
      const t = this[kS];
      if (t.rs.state !== "readable" || t.rs.closeRequested) throw new TypeError("The readable side of the TransformStream is closed or errored");
      t.readable[kS].controller.enqueue(chunk);
      if (desired(t.rs) <= 0) t.setBackpressure(true);
    }
    error(e) { this[kS].errorBoth(e); }
    terminate() {
      const t = this[kS];
      try { t.rs.controller.close(); } catch {}
      t.errorWritable(new TypeError("The TransformStream was terminated"));
    }
  }
  class TransformStream {
    constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
      transformer = transformer ?? {};
      if (transformer.readableType !== undefined || transformer.writableType !== undefined) throw new RangeError("Invalid type is specified");
      const t = {};
      const c = Object.create(TransformStreamDefaultController.prototype);
      c[kS] = t;
      let bp = deferred(), backpressure = true;
      t.setBackpressure = (v) => {
        if (v === backpressure) return;
        backpressure = v;
        if (v) bp = deferred(); else bp.resolve();
      };
      t.pulled = () => (backpressure ? bp.promise : Promise.resolve());
      const startDone = deferred();
      t.errorWritable = (e) => {
        const w = this.writable[kS];
        if (w.state === "writable") wsStartErroring(w, e);
        t.setBackpressure(false);
      };
      t.errorBoth = (e) => { rsError(t.rs, e); t.errorWritable(e); };
      const transform = (chunk) => typeof transformer.transform === "function"
        ? call(transformer, "transform", [chunk, c])
        : Promise.resolve().then(() => c.enqueue(chunk));
      this.writable = new WritableStream({
        start: () => startDone.promise,
        write: (chunk) => {
          const run = () => transform(chunk).catch((e) => { t.errorBoth(e); throw e; });
          return backpressure ? bp.promise.then(() => {
            const w = this.writable[kS];
            if (w.state === "erroring") throw w.error;
            return run();
          }) : run();
        },
        close: () => call(transformer, "flush", [c]).then(() => {
          if (t.rs.state === "errored") throw t.rs.error;
          try { t.rs.controller.close(); } catch {}
        }, (e) => { rsError(t.rs, e); throw e; }),
        abort: (reason) => { rsError(t.rs, reason); return Promise.resolve(); },
      }, writableStrategy);
      this.readable = new ReadableStream({
        start: () => startDone.promise,
        pull: () => { t.setBackpressure(false); return Promise.resolve(); },
        cancel: (reason) => { t.errorWritable(reason); return Promise.resolve(); },
      }, readableStrategy ?? { highWaterMark: 0 });
      t.rs = this.readable[kS];
      t.readable = this.readable;
      call(transformer, "start", [c]).then(() => startDone.resolve(), (e) => { startDone.reject(e); });
    }
    get [Symbol.toStringTag]() { return "TransformStream"; }
  }
  // IdentityTransformStream (a Cloudflare global): a TransformStream of bytes.
  class IdentityTransformStream extends TransformStream {
    constructor() { super(); }
  }

  Object.assign(globalThis, {
    ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
    WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController,
    TransformStream, TransformStreamDefaultController, IdentityTransformStream,
    CountQueuingStrategy, ByteLengthQueuingStrategy,
  });
  // For the body code: a stream fed from outside (a network body), and whether a
  // stream was ever read.
  N.streamDisturbed = (stream) => stream[kS].disturbed;
  N.streamLocked = (stream) => stream[kS].reader !== null;
  // For transformers that make much output from little input (37_compression.js):
  // a promise that resolves once the readable side wants more.
  N.transformPulled = (controller) => controller[kS].pulled();
})();
