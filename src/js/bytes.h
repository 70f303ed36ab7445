/* Bytes out of JS values, for natives of every layer: the checked range of an
 * ArrayBuffer the JS side names by (buffer, offset, length), and the bytes of an
 * ArrayBuffer or any view. One copy of each, so every API checks ranges alike. */
#pragma once
#include <quickjs.h>
#include <stddef.h>
#include <stdint.h>

/* The bytes [off, off+len) of the ArrayBuffer `ab` (borrowed: valid while `ab`
 * is alive and not detached). Returns 0, or -1 with a TypeError (not an
 * ArrayBuffer, detached) or RangeError (range outside the buffer) pending. */
int js_byte_range(JSContext *ctx, JSValueConst ab, JSValueConst off_v, JSValueConst len_v,
                  uint8_t **p, size_t *n);

/* The bytes of an ArrayBuffer or an ArrayBuffer view (typed array, DataView): a
 * view gives only its own window. *hold gets a new reference that keeps the bytes
 * alive (free it with JS_FreeValue once done with them); JS_UNDEFINED on failure.
 * Returns the bytes (non-NULL even when empty), or NULL with an exception pending. */
const uint8_t *js_bytes_of(JSContext *ctx, JSValueConst v, size_t *len, JSValue *hold);
