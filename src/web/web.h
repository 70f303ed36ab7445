/* web: the Web platform every Worker touches (spec: workers.md WEB-*).
 *
 * Split between C (parsers, encoders, crypto — where speed or correctness needs it)
 * and JS compiled into the binary as bytecode (the .js files of src/web/js, evaluated in sorted
 * file-name order after web_install). File prefixes fix the order:
 *   10_events.js   Event, EventTarget, DOMException
 *   12_abort.js    AbortController, AbortSignal
 *   15_console.js  console
 *   20_encoding.js TextEncoder/TextDecoder, atob/btoa wrappers
 *   25_crypto.js   crypto, crypto.subtle
 *   30_url.js      URL, URLSearchParams
 *   35_streams.js  ReadableStream, WritableStream, TransformStream
 *   40_headers.js, 41_body.js, 42_request.js, 43_response.js
 *   45_fetch.js    fetch() over the natives of fetch.c (net/outbound.c)
 *   37_compression.js CompressionStream, DecompressionStream, TextEncoderStream,
 *                  TextDecoderStream
 *   38_urlpattern.js URLPattern;  39_cache.js caches (over cache.c's SQLite store)
 *   50_websocket.js WebSocket, WebSocketPair, MessageEvent, CloseEvent
 *   90_worker.js   FetchEvent, addEventListener, the fetch dispatch
 * (timers are C natives, web/timers.c, installed by web_timers_install).
 *
 * Each C module adds its natives in its own *_install function, called from
 * web_install (web.c). The Web platform's classes are JS classes: web/ registers
 * no JSClassID (C state JS holds by reference is a native handle, js/rt.h). Layers that do (storage, objects) allocate theirs in an
 * *_classes_init function that server_classes_init (cli/server.c) calls on the
 * main thread before any shard starts, because JS_NewClassID is process-wide and
 * not thread-safe in QuickJS 2021-03-27. */
#pragma once
#include <quickjs.h>
#include <stdbool.h>

#include "base/err.h"
#include "net/h1.h"

/* js_install_fn for js_rt_opts.install. */
int web_install(JSContext *ctx, JSValueConst native);

/* Per-module installs (each in its own file). */
int web_events_install(JSContext *ctx, JSValueConst native);
int web_url_install(JSContext *ctx, JSValueConst native);
int web_encoding_install(JSContext *ctx, JSValueConst native);
int web_crypto_install(JSContext *ctx, JSValueConst native);
int web_console_install(JSContext *ctx, JSValueConst native);
int web_http_install(JSContext *ctx, JSValueConst native);
int web_timers_install(JSContext *ctx, JSValueConst native);
int web_websocket_install(JSContext *ctx, JSValueConst native);

/* A Worker answered a WebSocket upgrade with the 101 `response` (websocket.c):
 * takes its client end (TypeError if it was accepted or used before), sends the
 * 101 with Sec-WebSocket-Accept `accept` and the response's headers `hdrs`, and
 * binds the server end the Worker kept to the connection. Finishes the request
 * either way once past the JS checks. Returns 0; -1 with a JS exception pending
 * (the request is not finished then); DUR_ECLOSED if the client went away. */
int web_ws_upgrade(JSContext *ctx, h1_conn *conn, const char *accept, JSValueConst response,
                   const h1_header *hdrs, size_t n);
int web_fetch_install(JSContext *ctx, JSValueConst native);
int web_compression_install(JSContext *ctx, JSValueConst native); /* compression.c: zlib */
int web_node_zlib_install(JSContext *ctx, JSValueConst native); /* node_zlib.c: node:zlib */
int web_intl_install(JSContext *ctx, JSValueConst native); /* intl.c, on ICU */

/* ---- the Cache API's store (cache.c) ---- */

#define WEB_CACHE_OBJECT_BYTES_DEFAULT ((size_t)64 * 1024 * 1024)
#define WEB_CACHE_TOTAL_BYTES_DEFAULT ((size_t)1024 * 1024 * 1024)
/* The largest --cache-object-mb: Cloudflare's limit per cached file, and below
 * SQLite's default SQLITE_MAX_LENGTH for one blob. */
#define WEB_CACHE_OBJECT_BYTES_LIMIT ((size_t)512 * 1024 * 1024)

typedef struct web_cache_opts {
    const char *dir;          /* folder of cache.sqlite (made on first use); borrowed */
    size_t object_bytes_max;  /* largest body put() stores; 0 = the default */
    size_t total_bytes_max;   /* past it, the oldest entries are evicted; 0 = the default */
} web_cache_opts;

int web_cache_install(JSContext *ctx, JSValueConst native);
/* Gives the context's caches their store: <o->dir>/cache.sqlite, entries keyed
 * under `script`. Strings are copied. Until called, the Cache API's methods reject
 * with an InternalError. Returns 0, DUR_EINVAL or DUR_ENOMEM. Shard-local. */
int web_cache_configure(JSContext *ctx, const web_cache_opts *o, const char *script);

/* A JS string from UTF-8 bytes; invalid sequences become U+FFFD, or JS_NULL is
 * returned when `fatal` (http.c). */
JSValue web_utf8_decode(JSContext *ctx, const uint8_t *s, size_t len, bool fatal);

/* ---- the hot path between an HTTP connection and a Worker (http.c) ---- */

/* A JS Request for an incoming HTTP request. `url` is the absolute URL
 * ("http://host/path?q"). Headers and body are copied. Returns a new reference or
 * JS_EXCEPTION. */
JSValue web_request_new(JSContext *ctx, const h1_request *req, const char *url, size_t url_len);
/* True if `s` parses as a WHATWG URL (what `new URL(s)` accepts). The HTTP server
 * checks Host by RFC 3986 syntax only; an "xn--" label that is not valid Punycode
 * passes that but not this. */
bool web_url_parses(const char *s, size_t len);

/* What a Response becomes on the wire. */
typedef struct web_response_parts {
    int status;
    char *reason;             /* owned custom statusText as Latin-1 bytes; NULL: standard */
    size_t reason_len;
    h1_header *headers;       /* owned (names/values point into `strings`) */
    size_t header_count;
    char *strings;            /* owned storage for header names and values */
    const char *body;         /* body bytes when !body_pending; points into `hold` or `body_cstr` */
    size_t body_len;
    const char *body_cstr;    /* a string body's JS_ToCStringLen (JS_FreeCString); may be NULL */
    JSValue hold;             /* keeps the JS value behind `body` alive; JS_UNDEFINED if none */
    bool body_pending;        /* body is a stream: body_promise is the ReadableStream */
    JSValue body_promise;     /* JS_UNDEFINED unless body_pending */
} web_response_parts;

/* Reads status, headers and body of `v`. Returns 0; DUR_ETYPE with *e filled when
 * `v` is not a Response ("handler returned a string, not a Response"); -1 with a JS
 * exception pending on other failures. Marks the body used. */
int web_response_parts_get(JSContext *ctx, JSValueConst v, web_response_parts *out, err *e);
/* Takes the bytes of `ab` as the body (for a caller that read a stream itself). */
int web_response_parts_set_body(JSContext *ctx, web_response_parts *p, JSValueConst ab);
void web_response_parts_fini(JSContext *ctx, web_response_parts *p);
