/* ws: the WebSocket protocol (RFC 6455) on an upgraded h1_conn, with wslay's
 * event API doing the framing.
 *
 * What it does by itself: checks the handshake (ws_handshake_check), answers
 * pings with pongs, puts fragments back together, answers the peer's Close frame
 * with the same code, and fails the connection for what RFC 6455 calls a protocol
 * error (an unmasked client frame, an unknown opcode, a fragmented or oversized
 * control frame, a continuation without a start: close 1002), text that is not
 * UTF-8 (1007) and a message over WS_MSG_BYTES_MAX (1009).
 *
 * Outgoing data: a frame goes to the kernel at once, and what the kernel does not
 * take is queued in libuv. A peer that does not read makes that queue grow; once a
 * send would take it past WS_SEND_QUEUE_BYTES_MAX the connection is dropped at
 * once (no Close frame: it could not be delivered either), its queued bytes are
 * freed and the owner's on_close gets 1006 with a reason saying so.
 *
 * The same code runs the client side (net/ws_client.c) over a connection of
 * its own, through the ws_io below.
 *
 * Shard-local, like the h1_conn under it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/h1.h"

#define WS_MSG_BYTES_MAX (32u * 1024u * 1024u)        /* spec WS-13: bigger closes 1009 */
#define WS_SEND_QUEUE_BYTES_MAX (16u * 1024u * 1024u) /* unsent bytes to a slow peer */
#define WS_CLOSE_REASON_BYTES_MAX 123u
#define WS_ACCEPT_LEN 28u
#define WS_CLOSE_TIMEOUT_MS 5000u /* our Close unanswered this long: the connection drops */

typedef struct ws_conn ws_conn;

typedef struct ws_conn_cbs {
    /* A whole data message (bytes borrowed for the call). */
    void (*on_message)(void *ud, bool text, const uint8_t *data, size_t len);
    /* Once, last: the peer's Close frame arrived (clean, its code — 1005 when it
     * had none — and reason), the connection failed (`error` says how: a
     * protocol error, a message too big, a slow reader; code is what we sent), or
     * the peer vanished without a Close frame (1006). No callback follows. */
    void (*on_close)(void *ud, int code, const char *reason, size_t reason_len, bool clean,
                     const char *error);
} ws_conn_cbs;

/* Checks a request for a WebSocket handshake. Returns 1 and fills accept
 * (WS_ACCEPT_LEN chars + NUL: the Sec-WebSocket-Accept for its key) if it is a
 * valid one; 0 if it asks for no upgrade to websocket at all; -1 with *why set
 * if it asks for one but is malformed (not GET, no Connection: upgrade, a
 * Sec-WebSocket-Version other than 13, a key that is not 16 bytes in base64). */
int ws_handshake_check(const h1_request *req, char accept[WS_ACCEPT_LEN + 1], const char **why);

/* The Sec-WebSocket-Accept for a 24-character key: 0, or DUR_EINVAL if SHA-1 is
 * unavailable. */
int ws_accept_of(const char key[24], char accept[WS_ACCEPT_LEN + 1]);
/* True if the comma-separated header value v[0..len) lists `token`
 * (case-insensitive). */
bool ws_token_has(const char *v, size_t len, const char *token);

/* Sends the 101 (Upgrade, Connection, Sec-WebSocket-Accept, then `extra`, e.g.
 * Sec-WebSocket-Protocol) and takes the connection over; finishes the request
 * like h1_conn_respond. cbs and ud are borrowed until on_close has run (which
 * may happen inside this call, with what arrived behind the handshake). Returns
 * 0 with *out set, or a negative code (the client went away, bad extra headers,
 * out of memory) and then no callback runs. */
int ws_conn_open(h1_conn *c, const char *accept, const h1_header *extra, size_t n,
                 const ws_conn_cbs *cbs, void *ud, ws_conn **out);
/* Queues one message. 0; DUR_ECLOSED if the connection is closing or gone
 * (nothing sent); DUR_ETOOBIG if it would pass WS_SEND_QUEUE_BYTES_MAX (the
 * connection is then dropped and on_close runs before this returns). */
int ws_conn_send(ws_conn *w, bool text, const void *data, size_t len);
/* Starts the close handshake: sends Close with code (0: none) and reason (at most
 * WS_CLOSE_REASON_BYTES_MAX bytes, checked by the caller). on_close runs when the
 * peer answers, or with 1006 when it has not within WS_CLOSE_TIMEOUT_MS (the
 * connection is dropped then). A second call does nothing. */
int ws_conn_close(ws_conn *w, int code, const char *reason, size_t reason_len);
/* The owner goes away (its context is freed: shutdown, or a re-created context):
 * the peer gets Close 1001 "server going away" if it can still be sent, then the
 * connection closes; no callback runs any more. */
void ws_conn_detach(ws_conn *w);
/* Bytes queued toward the peer and not yet taken by it. */
size_t ws_conn_queued_bytes(const ws_conn *w);

/* ---- another transport (net/ws_client.c: a connection we opened) ----
 * The transport hands received bytes to ws_conn_feed and calls ws_conn_gone once
 * it is closed, whoever closed it (that frees w; on_close runs first with 1006
 * if nothing was told yet). The ws_conn calls io back with `t`. */
typedef struct ws_io {
    int (*send)(void *t, const void *data, size_t len); /* 0, or < 0: gone */
    void (*close)(void *t, bool flush);  /* flush: after queued bytes went out */
    void (*timeout)(void *t, uint32_t ms); /* close if still open in ms */
    size_t (*queued)(const void *t);     /* bytes not yet taken by the peer */
    const char *(*peer)(const void *t);  /* "host:port" for log lines */
} ws_io;
/* A connection whose handshake is over. `client`: frames we send are masked and
 * frames we get must not be (RFC 6455 5.1). 0 or DUR_ENOMEM. */
int ws_conn_new(const ws_io *io, void *t, bool client, const ws_conn_cbs *cbs, void *ud,
                ws_conn **out);
void ws_conn_feed(ws_conn *w, const char *bytes, size_t len);
void ws_conn_gone(ws_conn *w);
