/* clone: the structured-clone serializer. Values cross shards (RPC arguments and
 * results), reach storage, and back the global `structuredClone` only as the bytes
 * made here; the byte format is documented at the top of clone.c and is stable
 * (storage keeps it on disk, so every later version must read version 1).
 * (spec: storage.md SER-1..6, objects.md RPC-8, RPC-10, ID-12, workers.md WEB-12)
 *
 * Shard-local like every JSValue: a context's values are written and read on the
 * shard that owns the context. The bytes themselves may go anywhere. */
#pragma once
#include <quickjs.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The format version: the first byte of every encoding. */
#define JS_CLONE_VERSION 1
/* Objects nested deeper than this are refused by the writer (RangeError) and by the
 * reader, so a deep value never overflows the C stack. */
#define JS_CLONE_DEPTH_MAX 2000

/* RPC (RPC-10): an instance of a class (prototype other than Object.prototype or
 * null, not a built-in) is a DataCloneError. */
#define JS_CLONE_REJECT_CLASS_INSTANCES 1
/* Storage (SER-2): a class instance is stored as a plain object of its own
 * enumerable properties (its prototype is lost). This is also what happens with
 * flags 0 (structuredClone); the flag names the caller's intent. */
#define JS_CLONE_STORAGE 2

/* Appends the encoding of `v` (version byte first) to `out`, never past out->max.
 * `v` is borrowed. Returns 0, or -1 with a JS exception pending and out->len as it
 * was on entry:
 *   DataCloneError (a DOMException if globalThis.DOMException exists, else an
 *     Error named "DataCloneError") for functions, symbols, WeakMap, WeakSet,
 *     Promise, Proxy, SharedArrayBuffer, detached buffers, host objects, objects
 *     marked with Symbol.for("durable.noClone"), and class instances under
 *     JS_CLONE_REJECT_CLASS_INSTANCES;
 *   RangeError "value too large: more than N bytes" when out->max would be passed;
 *   RangeError when nesting passes JS_CLONE_DEPTH_MAX;
 *   whatever a getter invoked on the way threw. */
int js_clone_write(JSContext *ctx, JSValueConst v, int flags, buf *out);

/* Decodes bytes made by js_clone_write (p is borrowed; len bytes exactly, nothing
 * may follow the value). Returns a new value, or JS_EXCEPTION with an Error
 * "structured clone: malformed data at byte N" for bytes that are not a valid
 * encoding (never a crash), or "unsupported format version". */
JSValue js_clone_read(JSContext *ctx, const uint8_t *p, size_t len);

/* Defines the global `structuredClone(value, {transfer}?)` (ArrayBuffers in
 * `transfer` are detached after the copy). Also checks that the QuickJS build
 * matches the object layout clone.c relies on. Returns 0, or -1 with an exception
 * pending. Call once per context, before user code runs. */
int js_clone_install(JSContext *ctx);
