/* h1: the HTTP/1.1 server of one shard (libuv + http-parser).
 *
 * One h1_server per shard: its own listening socket (SO_REUSEPORT, so the kernel
 * spreads connections over shards), its own connections, all on the shard's loop.
 * Nothing here is shared between threads.
 *
 * A request is handed to the callback once its head and whole body have arrived.
 * The connection then reads no further request until the handler has finished the
 * response (h1_conn_respond, or h1_conn_start + h1_conn_write* + h1_conn_end), which
 * makes pipelining correct: responses leave in request order.
 *
 * The server writes Date, Content-Length or Transfer-Encoding: chunked, and
 * Connection; HEAD responses keep Content-Length and drop the body. Errors it
 * answers by itself (never reaching the handler): 400 malformed (a bad header name,
 * obsolete line folding, a missing, repeated or invalid Host on HTTP/1.1, a target
 * that is not origin-, absolute- or asterisk-form; then closes), 413 body over
 * body_bytes_max, 431 head over head_bytes_max, 408 head or body too slow, 417
 * unknown Expect, 505 an HTTP version other than 1.x; `Expect: 100-continue` is
 * answered with 100 before the body is read. Error bodies are JSON:
 * {"error":"..."}. Every request handed out has an absolute URL (h1_request.url). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"

#define H1_HEAD_BYTES_MAX_DEFAULT (64u * 1024u)
#define H1_BODY_BYTES_MAX_DEFAULT (100u * 1024u * 1024u) /* 100 MiB */
#define H1_HEAD_TIMEOUT_MS_DEFAULT 10000u
#define H1_IDLE_TIMEOUT_MS_DEFAULT 60000u
#define H1_BODY_TIMEOUT_MS_DEFAULT 60000u
#define H1_HEADERS_COUNT_MAX 200u

typedef struct h1_header {
    const char *name;   /* as received (case kept); NUL-terminated */
    size_t name_len;
    const char *value;  /* NUL-terminated */
    size_t value_len;
} h1_header;

typedef struct h1_request {
    const char *method;      /* "GET", NUL-terminated */
    const char *target;      /* request target as received, "/a/b?c", NUL-terminated */
    size_t target_len;
    const char *url;         /* absolute URL, "http://host:port/a/b?c", NUL-terminated:
                                see h1_target.c for how it is made */
    size_t url_len;
    const char *host;        /* value of the (one, valid) Host, or NULL (HTTP/1.0 only) */
    const h1_header *headers;
    size_t header_count;
    const char *body;        /* whole body (de-chunked), NUL-terminated; "" if none */
    size_t body_len;
    int http_major, http_minor;
    bool keep_alive;
    bool is_head;
} h1_request;

typedef struct h1_limits {
    size_t head_bytes_max;       /* request line + headers; over it: 431 */
    size_t body_bytes_max;       /* over it: 413 */
    uint32_t head_timeout_ms;    /* whole head must arrive within this; else 408 + close */
    uint32_t idle_timeout_ms;    /* idle keep-alive connection closed after this; a body
                                    that makes no progress for this long: 408 + close */
    uint32_t body_timeout_ms;    /* whole body must arrive within this from the end of
                                    the head; else 408 + close */
} h1_limits;

typedef struct h1_conn h1_conn;
typedef struct h1_server h1_server;

/* The request and everything it points to stay valid until the response is
 * finished. `ud` is the one given to h1_server_open. */
typedef void (*h1_request_cb)(h1_conn *conn, const h1_request *req, void *ud);

void h1_limits_default(h1_limits *l);

/* Checks that nobody listens on ip:port (a bind without SO_REUSEPORT, closed
 * again) and sets *bound to the port (with port 0, a free one the kernel picked,
 * which is free only until someone else takes it). Fails with
 * "port N is in use …" when another socket holds it. Main thread, before the
 * shards bind with h1_server_open. */
int h1_server_port_check(const char *ip, int port, int *bound, err *e);

/* Binds ip:port with SO_REUSEPORT on `loop` and starts accepting. port 0 picks a
 * free port (see h1_server_port). Fills *e on failure (e.g. "127.0.0.1:8787: address
 * already in use"). Shard-local. */
int h1_server_open(uv_loop_t *loop, const char *ip, int port, const h1_limits *limits,
                   h1_request_cb on_request, void *ud, h1_server **out, err *e);
int h1_server_port(const h1_server *s);
/* Stops accepting; connections stay until their in-flight response ends, idle ones
 * are closed now. */
void h1_server_stop_accepting(h1_server *s);
/* Number of requests handed to the callback and not yet finished. */
size_t h1_server_inflight(const h1_server *s);
/* Closes everything (in-flight responses are abandoned: their conns become
 * closed, later respond calls return DUR_ECLOSED) and frees the server once libuv
 * has closed every handle; then calls done(arg). */
void h1_server_close(h1_server *s, void (*done)(void *arg), void *arg);

/* Every request handed to the callback is finished by exactly one h1_conn_respond
 * or h1_conn_end call, whatever any call before it returned; the conn may be freed
 * inside that call, so it must not be used afterwards. Status must be 200..999
 * (1xx is not supported; a 101 for a WebSocket goes through h1_conn_upgrade).
 *
 * Whole response with a known body. `hdrs` and `body` are borrowed for the call
 * only (they are sent or copied before it returns). The server adds Date,
 * Content-Length and Connection (headers of those names, and Transfer-Encoding,
 * given by the caller are dropped, except that Connection: close is honoured).
 * Returns 0; DUR_ECLOSED if the client went away (the conn is still released);
 * DUR_EINVAL/DUR_ETOOBIG for a bad status, a header name that is not a token, a
 * value with CR/LF/NUL, or headers over 256 KiB: the client then gets a 500 JSON
 * error instead and the connection closes (the request is finished all the same). */
int h1_conn_respond(h1_conn *c, int status, const h1_header *hdrs, size_t n,
                    const void *body, size_t body_len);
/* Sets the reason phrase of the response that the next h1_conn_respond or
 * h1_conn_start sends (instead of the standard one for its status); `reason` is
 * borrowed until that call. len 0: the standard phrase. Returns DUR_EINVAL (and
 * changes nothing) if it has a byte a reason-phrase may not hold (a control
 * character other than HTAB: CR, LF, NUL, DEL). */
int h1_conn_reason(h1_conn *c, const char *reason, size_t len);
/* Streaming: head now, then chunks, then end (chunked transfer encoding; to an
 * HTTP/1.0 client the body is sent raw and the connection closes at the end).
 * Writes are queued without limit: there is no backpressure signal yet. start
 * returns like respond (after a failed start, writes are dropped; end still has to
 * be called); write returns 0 or DUR_ECLOSED. */
int h1_conn_start(h1_conn *c, int status, const h1_header *hdrs, size_t n);
int h1_conn_write(h1_conn *c, const void *data, size_t len);
int h1_conn_end(h1_conn *c);
/* Protocol upgrade (a WebSocket handshake answered with 101). Instead of
 * respond/end: sends `101 Switching Protocols` with `hdrs` (checked as for
 * respond; the server adds Date and `Connection: Upgrade` and drops a Connection
 * in hdrs, so hdrs carry Upgrade, Sec-WebSocket-Accept and the rest), finishes the request (it no longer counts as
 * in flight, and no HTTP timer runs for c any more) and from then on hands every
 * byte received to on_data(ud, bytes, len) (bytes borrowed for the call; the
 * first call may come from inside h1_conn_upgrade, with what arrived behind the
 * request). on_gone(ud) runs once when the connection is closed, whoever closed
 * it; c is freed right after and must not be used then. Returns 0, or
 * DUR_ECLOSED/DUR_EINVAL like respond (then no callback ever runs). */
typedef void (*h1_upgrade_data_cb)(void *ud, const char *bytes, size_t len);
typedef void (*h1_upgrade_gone_cb)(void *ud);
int h1_conn_upgrade(h1_conn *c, const h1_header *hdrs, size_t n, h1_upgrade_data_cb on_data,
                    h1_upgrade_gone_cb on_gone, void *ud);
/* After an upgrade: queues bytes (copied). The sends of one loop turn are held and
 * written together, in order, once the turn's callbacks are done (one syscall per
 * connection per turn, not per send); a send of 64 KiB or more goes at once.
 * 0 or DUR_ECLOSED (a write error found later closes c: on_gone follows). */
int h1_conn_raw_send(h1_conn *c, const void *data, size_t len);
/* Bytes queued in libuv (and held for this turn's write, after an upgrade) that the
 * peer has not taken yet (after an upgrade, or
 * for a streamed response: a streaming writer waits while this is high). */
size_t h1_conn_queued_bytes(const h1_conn *c);
/* After an upgrade: closes c if it is still open in `ms` (a deadline, not an idle
 * timeout; a later call replaces it). on_gone follows. */
void h1_conn_raw_timeout(h1_conn *c, uint32_t ms);
/* After an upgrade: closes c, after the queued bytes went out if `flush` (a peer
 * that never reads is dropped after the idle timeout). on_gone follows. */
void h1_conn_raw_close(h1_conn *c, bool flush);

/* Ends a streamed response without its end marker and closes the connection, so
 * the client sees a broken body rather than a complete short one (the body's
 * source failed). Finishes the request like h1_conn_end. */
void h1_conn_abort(h1_conn *c);
/* True once the peer has gone away or the server is closing. */
bool h1_conn_closed(const h1_conn *c);
/* Remote address as text ("127.0.0.1"), for logs and CF-Connecting-IP. */
const char *h1_conn_peer(const h1_conn *c);

/* Standard reason phrase ("Not Found"), "" for unknown codes. */
const char *h1_status_text(int status);
