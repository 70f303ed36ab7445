/* outbound: HTTP(S) requests from a shard to the network through libcurl's multi
 * interface, driven by the shard's libuv loop (uv_poll per socket, one uv_timer);
 * nothing here blocks the loop (spec: workers.md WEB-4). Shard-local, no JS.
 *
 * A request reports its response head once (on_head: the final response after the
 * redirects curl followed), then its body in pieces as they arrive (on_data; return
 * true to pause until outbound_resume), then exactly one on_done — also when it
 * failed before a head (rc != 0 and a message such as "connection refused to
 * 127.0.0.1:1"). After outbound_cancel no callback runs. Only http and https are
 * reachable, for the first URL and for every redirect. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/err.h"

#define OUTBOUND_REDIRECTS_MAX 20
#define OUTBOUND_CONNECT_TIMEOUT_MS 30000u

typedef struct outbound outbound;
typedef struct outbound_req outbound_req;

enum { OUTBOUND_FOLLOW, OUTBOUND_MANUAL, OUTBOUND_ERROR };

typedef struct outbound_head {
    int status;
    const char *reason;       /* reason phrase, NUL-terminated ("" if none) */
    const char *url;          /* the final URL */
    unsigned redirects;       /* how many curl followed */
    const char *const *hdrs;  /* name, value, name, value, … (lower-case names kept as sent) */
    size_t nhdrs;             /* pairs */
} outbound_head;

typedef struct outbound_cbs {
    void (*on_head)(outbound_req *r, void *ud, const outbound_head *head);
    bool (*on_data)(outbound_req *r, void *ud, const char *data, size_t len);
    void (*on_done)(outbound_req *r, void *ud, int rc, const char *msg);
    /* A streamed request body (opts.body_stream): what was written has gone to
     * the network after outbound_body_write said "full"; write more. Optional. */
    void (*on_drain)(outbound_req *r, void *ud);
} outbound_cbs;

/* Streamed request bodies wait in memory up to this much before a write says
 * "full" (the writer then waits for on_drain). */
#define OUTBOUND_BODY_BUFFER (64u * 1024u)

typedef struct outbound_opts {
    const char *url;
    const char *method;          /* "GET", "POST", … */
    const char *const *hdrs;     /* name, value pairs */
    size_t nhdrs;
    const void *body;            /* copied; NULL: no body */
    size_t body_len;
    bool body_stream;            /* the body comes later: outbound_body_write/_end; sent
                                  * chunked, or with the caller's Content-Length header
                                  * (the stream must then give exactly that many bytes) */
    bool decode;                 /* decode the response body's Content-Encoding (gzip,
                                  * deflate, br, zstd); sends Accept-Encoding: gzip,
                                  * deflate, br if the caller set none; the head then
                                  * goes without Content-Encoding and Content-Length */
    int redirect;                /* OUTBOUND_FOLLOW / _MANUAL / _ERROR */
    uint32_t connect_timeout_ms; /* 0: OUTBOUND_CONNECT_TIMEOUT_MS */
} outbound_opts;

/* `after(ud)` runs each time curl's callbacks for one socket event or timeout are
 * over (the caller runs its promise jobs there, outside curl's callbacks). */
int outbound_new(uv_loop_t *loop, void (*after)(void *ud), void *ud, outbound **out, err *e);
/* Cancels every request (no callbacks) and frees `o` once libuv has closed its
 * handles. */
void outbound_free(outbound *o);
/* Starts a request. Fails (DUR_EINVAL with a message) for a scheme other than http
 * and https or a bad option; callbacks run later, from the loop. */
int outbound_start(outbound *o, const outbound_opts *opts, const outbound_cbs *cbs, void *ud,
                   outbound_req **out, err *e);
/* Streamed request body: appends `len` bytes (copied). Sets *full when
 * OUTBOUND_BODY_BUFFER bytes or more wait to be sent (on_drain follows once they
 * went). DUR_EINVAL (with a message) past a declared Content-Length, after
 * outbound_body_end, or on a request without body_stream. */
int outbound_body_write(outbound_req *r, const void *data, size_t len, bool *full, err *e);
/* The streamed request body is complete. */
void outbound_body_end(outbound_req *r);
/* A paused body continues. */
void outbound_resume(outbound_req *r);
/* Stops the transfer; no callback runs for `r` after this, and `r` is freed. */
void outbound_cancel(outbound_req *r);
/* Requests started and not yet done or cancelled. */
size_t outbound_active(const outbound *o);
