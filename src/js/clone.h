/* clone: the structured-clone serializer (format and rules in
 * src/js/prelude/10_clone.js, which does the walking; this is the C entry). Values
 * cross shards and (later) reach storage only as these bytes.
 * (spec: storage.md SER-1..6, objects.md RPC-8, RPC-10, RPC-11) */
#pragma once
#include <quickjs.h>
#include <stdint.h>

#include "base/buf.h"

/* Class instances (prototype other than Object.prototype/null, not a built-in) are
 * a DataCloneError (RPC); without the flag they become plain objects (storage). */
#define JS_CLONE_REJECT_CLASS_INSTANCES 1

/* Appends the encoding of `v` to `out` (bounded by out->max). Returns 0, or -1
 * with a JS exception pending: DataCloneError for what cannot be cloned, RangeError
 * past the size bound. */
int js_clone_write(JSContext *ctx, JSValueConst v, int flags, buf *out);
/* Decodes bytes made by js_clone_write. Malformed input: an Error, never a crash. */
JSValue js_clone_read(JSContext *ctx, const uint8_t *p, size_t len);
