/* net/internal.h: what the files of the HTTP/1.1 server share (not for other layers).
 *
 * h1_parse.c  the request parser driver: http-parser glue that turns bytes into one
 *             h1_request at a time, enforcing head/body/header-count limits and the
 *             header syntax http-parser lets through. It knows nothing of sockets, so
 *             unit tests feed it bytes directly.
 * h1_target.c Host and request-target checks; builds the request's absolute URL.
 * h1_conn.c   one accepted connection: reads, drives the parser, writes responses,
 *             timers (head, body, idle, linger) and the close sequence.
 * h1_server.c the listening socket (SO_REUSEPORT), accept, stop, close, Date cache.
 *
 * Everything here is shard-local: one loop, one thread. */
#pragma once
#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "net/h1.h"

/* ---- parser driver ---- */

typedef enum h1_parse_event {
    H1_PARSE_MORE,     /* every byte given was consumed; the request is not complete */
    H1_PARSE_REQUEST,  /* a whole request is in ps->req; the bytes after it were not
                          consumed. Call h1__parse_next() once its response is done. */
    H1_PARSE_CONTINUE, /* head complete with `Expect: 100-continue` and a body within
                          limits: send "100 Continue", then feed the rest again */
    H1_PARSE_ERROR,    /* ps->err_status (400/413/414/417/431/500/505) and ps->err_msg say
                          why; the parser is dead, answer and close */
} h1_parse_event;

typedef struct h1_hdr_off {
    size_t name_off, name_len;
    size_t value_off, value_len; /* value_off == SIZE_MAX: no value bytes seen */
} h1_hdr_off;

/* Longest listen address as an authority: "[" IPv6 "]:" port. */
#define H1_AUTHORITY_BYTES_MAX 64u

typedef struct h1_parse {
    http_parser hp;
    h1_limits lim;
    char authority[H1_AUTHORITY_BYTES_MAX]; /* listen address, for HTTP/1.0 without Host */
    buf arena;        /* target and header names/values, each NUL-terminated */
    buf url;          /* the request's absolute URL, NUL-terminated */
    buf body;         /* de-chunked body, bounded by lim.body_bytes_max */
    h1_hdr_off *offs; /* offsets into arena while the head is arriving (it may move) */
    h1_header *hdrs;  /* pointers, filled once the head is complete */
    size_t hdr_count;
    size_t hdr_cap;
    size_t host_count; /* Host headers of the current request */
    size_t url_off;
    size_t url_len;
    size_t head_seen; /* head bytes consumed so far for the current request */
    int piece;        /* which arena piece is open: PIECE_* in h1_parse.c */
    int line_state;   /* LINE_* in h1_parse.c: where the head's lines stand */
    bool in_message;  /* first byte of a request seen */
    bool head_done;
    bool msg_done; /* H1_PARSE_REQUEST returned, h1__parse_next not yet called */
    int err_status;
    char err_msg[160];
    h1_request req;
} h1_parse;

/* Prepares *ps for requests under *lim (copied). `authority` ("127.0.0.1:8787",
 * copied; NULL: "localhost") stands in for the Host an HTTP/1.0 request leaves out.
 * Allocates nothing yet. */
void h1__parse_init(h1_parse *ps, const h1_limits *lim, const char *authority);
void h1__parse_fini(h1_parse *ps);
/* Feeds len bytes; *consumed says how many were used (the rest belong to the next
 * request, or follow a CONTINUE). Must not be called between H1_PARSE_REQUEST and
 * h1__parse_next(). After H1_PARSE_ERROR every call returns H1_PARSE_ERROR. */
h1_parse_event h1__parse_feed(h1_parse *ps, const char *data, size_t len, size_t *consumed);
/* Forgets the finished request (its pointers die) and readies the next one. */
void h1__parse_next(h1_parse *ps);
/* True while bytes of a request have been seen but the request is not complete. */
bool h1__parse_partial(const h1_parse *ps);

/* ---- request URL (h1_target.c) ---- */

typedef struct h1_authority {
    const char *host; /* "example.com", "1.2.3.4" or "[::1]", as received */
    size_t host_len;
    int port;         /* -1: none (absent or empty) */
} h1_authority;

typedef struct h1_url_in {
    const char *target;
    size_t target_len;
    const char *host; /* the one Host value when host_count == 1 */
    size_t host_len;
    size_t host_count;
    int http_minor;   /* of HTTP/1.x */
    bool is_options;
    const char *default_authority; /* for HTTP/1.0 without Host */
} h1_url_in;

/* Parses `host [":" port]` (RFC 3986 syntax, narrowed as h1_target.c says).
 * Returns 0 and fills *out, or -1 if s is not a valid authority. */
int h1__authority_parse(const char *s, size_t n, h1_authority *out);
/* Checks Host and the target and writes the absolute URL into *out (reset first;
 * NUL-terminated). Returns 0, or the status to answer (400, 414, 500) with *why. */
int h1__url_build(const h1_url_in *in, buf *out, const char **why);

/* ---- server and connections ---- */

struct h1_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    h1_limits lim;
    h1_request_cb on_request;
    void *ud;
    int port;
    bool listener_open;   /* uv_close not yet called on listener */
    bool listener_closed; /* its close callback ran (or it was never initialised) */
    bool stopping;        /* stop_accepting called: no new keep-alive */
    bool closing;         /* h1_server_close called */
    h1_conn *conns;       /* every conn whose handles are open, or that a handler
                             still holds while the server lives */
    size_t conn_count;
    size_t inflight;
    void (*done)(void *);
    void *done_arg;
    char authority[H1_AUTHORITY_BYTES_MAX]; /* "127.0.0.1:8787": URL of Host-less HTTP/1.0 */
    time_t date_sec;
    char date[32]; /* "Sun, 06 Nov 1994 08:49:37 GMT", refreshed once a second */
    /* Coalesced upgraded-connection writes (h1_conn.c): conns with bytes in their
     * out buffer, flushed by flush_check after each poll and by flush_idle (started
     * only while the list is non-empty, so the loop does not block with bytes held). */
    h1_conn *dirty;
    uv_check_t flush_check;
    uv_idle_t flush_idle;
    bool flush_init;   /* flush_check and flush_idle initialised */
    int flush_handles; /* of them, not yet through their close callback */
};

/* Accepts one pending connection on s->listener (h1_conn.c). */
void h1__conn_accept(h1_server *s);
/* Stop accepting: closes c now if it is idle, else makes its current response the
 * last one. */
void h1__conn_stop(h1_conn *c);
/* Server closing: closes c's handles now; a conn whose handler still holds it is
 * detached from the server (it frees itself when the handler finishes). */
void h1__conn_server_close(h1_conn *c);

/* The conn after c in its server's list (list walks that may close c). */
h1_conn *h1__conn_next(const h1_conn *c);

/* Server closing: closes the write-coalescing handles (h1_conn.c). */
void h1__flush_close(h1_server *s);

/* h1_server.c: frees s (and calls done) once it is closing, its listener is closed
 * and no conn is left in its list. */
void h1__server_maybe_free(h1_server *s);
/* The formatted Date value for now; valid until the next call. */
const char *h1__server_date(h1_server *s);
