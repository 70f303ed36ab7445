/* ws_client: a WebSocket connection the shard opens itself (a Worker as client,
 * spec websockets.md WS-15), on the shard's loop: resolves the host
 * (uv_getaddrinfo), connects, sends the handshake with a fresh key, checks the
 * answer (status 101, Upgrade: websocket, Connection: upgrade, the
 * Sec-WebSocket-Accept of our key, no extension we did not offer) and then runs
 * net/ws.c over the connection as a client (masked frames), with the same limits
 * as a server connection (WS_MSG_BYTES_MAX in, WS_SEND_QUEUE_BYTES_MAX queued).
 *
 * ws:// over plain TCP, wss:// over TLS (OpenSSL; the server's certificate is
 * verified against the system's trust store and the host name). Nothing blocks
 * the loop. Shard-local. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "net/ws.h"

#define WS_CLIENT_HANDSHAKE_MS 30000u          /* connect + answer, or it fails */
#define WS_CLIENT_HEAD_BYTES_MAX (64u * 1024u) /* the answer's head */
#define WS_CLIENT_BODY_BYTES_MAX (1u << 20)    /* the body of a non-101 answer */

typedef struct ws_client ws_client;

typedef struct ws_client_answer {
    int status;              /* 0: no HTTP answer came */
    const char *reason;      /* reason phrase ("" if none) */
    const char *const *hdrs; /* name, value, name, value, … as received */
    size_t nhdrs;            /* pairs */
    const char *body;        /* a non-101 answer's body */
    size_t body_len;
} ws_client_answer;

/* Runs once, from the loop, when the handshake is over. Success: `w` is the open
 * connection (the cbs given to ws_client_open get its messages and its close, as
 * for a server connection; use ws_conn_send/close/detach), `a` the 101, error
 * NULL. Failure: `w` NULL, `error` says what failed, `a` the answer if one came
 * (a status other than 101 with its head and body) or NULL. Either way the
 * ws_client is not the caller's any more. */
typedef void (*ws_client_done_fn)(void *ud, ws_conn *w, const ws_client_answer *a,
                                  const char *error);

typedef struct ws_client_opts {
    const char *host; /* a name or an address (IPv6 without brackets) */
    uint16_t port;
    const char *target;      /* path and query: "/chat?x=1" */
    const char *host_header; /* the Host header's value */
    const char *const *hdrs; /* extra headers: name, value pairs */
    size_t nhdrs;
    bool tls; /* wss: TLS, the peer's certificate verified */
} ws_client_opts;

/* Starts the connection; `done` runs later, never inside this call. Fails
 * (DUR_EINVAL with a message) for a CR or LF in the target, host or a header. The
 * handshake's own headers (Host, Upgrade, Connection, Sec-WebSocket-Key,
 * -Version, -Extensions) in hdrs are replaced by ours. */
int ws_client_open(uv_loop_t *loop, const ws_client_opts *o, ws_client_done_fn done,
                   const ws_conn_cbs *cbs, void *ud, ws_client **out, err *e);
/* Before `done` ran: stops the attempt; no callback runs. */
void ws_client_cancel(ws_client *c);
