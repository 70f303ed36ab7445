/* peer.c: the connections between the nodes of a cluster (spec CL-2, CL-5; the
 * contract is the "peers" part of cluster.h).
 *
 * One *peer thread* per node runs its own libuv loop with
 *   - the internal listener (--cluster-listen; port 0 picks a free one, and the bound
 *     address becomes cluster_advertise() unless --cluster-advertise says otherwise),
 *   - one outbound connection per other node, dialled on the first cluster_peer_send
 *     to it and redialled on the next send after it dropped,
 *   - the incoming connections other nodes dialled.
 * Senders on any thread copy their frame into a message, account its bytes to the
 * connection under `mu`, push it on an MPSC queue and wake the loop (uv_async).
 *
 * Wire format: every unit is a frame, a big-endian u32 length and that many bytes.
 * A connection opens with two handshake frames each way, then carries data frames:
 *   HELLO  "DURP1" role('D' dialer | 'L' listener) nonce[32] node-id
 *   PROOF  HMAC-SHA256(secret, "durable-peer-v1" role nonce len id len id)
 * A side answers the other's HELLO with a PROOF over the *other's* nonce, its own
 * role and both node ids (prover first, challenger second), so the secret never
 * crosses the wire, a proof cannot be replayed on another connection (fresh nonce)
 * nor reflected back to its maker (the role byte differs, and a HELLO naming our
 * own node id is refused). A connection is READY once the other side's PROOF
 * checked out; only then are data frames accepted (from the other side) and sent
 * (by the dialer: it never hands a frame to a node that has not proven the secret).
 * Before READY a frame may be at most PEER_HANDSHAKE_BYTES_MAX, so an unauthenticated
 * client cannot make us allocate; a handshake not done in PEER_AUTH_MS is closed.
 *
 * Failures are logged with the remote address and, when known, the node id claimed;
 * never with the secret or a proof. A data frame above PEER_FRAME_BYTES_MAX (33 MiB,
 * above the 32 MiB payload bound of a call) closes its connection with a log line;
 * cluster_peer_send refuses one up front.
 *
 * Ordering (ORDER-1 across nodes): frames to one node go through the one MPSC queue
 * (FIFO per producer thread), then the node's link (pending list while connecting,
 * then the TCP stream), so they arrive in the order each thread sent them.
 *
 * Backpressure: the bytes of frames queued and not yet written are counted per
 * outbound link and per incoming connection; past PEER_QUEUE_BYTES_MAX (64 MiB)
 * cluster_peer_send / cluster_peer_reply return false and queue nothing; the caller
 * turns that into an error for its call (an overloaded or stuck peer does not grow
 * our memory without bound).
 *
 * Liveness: a dialled connection that received nothing for node_timeout/2 sends
 * a probe (a 1-byte data frame 'P', answered 'Q' by the other peer thread and
 * never handed to on_frame); one silent for node_timeout is closed (on_silent).
 *
 * A drop (read error, EOF, write error, failed dial, failed handshake) closes the
 * connection; for an outbound link the frames not yet written are dropped and
 * on_lost(node) is called on the peer thread. Frames sent after that dial anew.
 * Every authenticated connection that closes, either way, is also told to
 * on_closed(conn) (the WebSocket relays on it end, objects/relay.c), and
 * cluster_peer_drop closes one on request (a relay past the queue bound). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/log.h"
#include "base/mpsc.h"
#include "cluster/cluster.h"
#include "cluster/internal.h"

#define PEER_FRAME_BYTES_MAX (33u << 20)
#define PEER_QUEUE_BYTES_MAX ((size_t)64 << 20)
#define PEER_HANDSHAKE_BYTES_MAX 128u
#define PEER_NONCE_BYTES 32
#define PEER_PROOF_BYTES 32
#define PEER_AUTH_MS 5000
#define PEER_SWEEP_MS 1000
#define PEER_CONNS_MAX 1024
#define PEER_MAGIC "DURP1"
#define PEER_MAGIC_LEN 5
#define PEER_PROOF_DOMAIN "durable-peer-v1"
#define PEER_READ_BYTES 65536
#define PEER_PROBE 'P'                 /* liveness probe, a 1-byte data frame */
#define PEER_PROBE_ANSWER 'Q'          /* its answer */

_Static_assert(PEER_QUEUE_BYTES_MAX >= PEER_FRAME_BYTES_MAX, "one max frame must fit the queue");
_Static_assert(PEER_MAGIC_LEN + 1 + PEER_NONCE_BYTES + CLUSTER_NODE_MAX <= PEER_HANDSHAKE_BYTES_MAX,
               "a HELLO fits the handshake bound");

typedef struct peer peer;
typedef struct peer_link peer_link;
typedef struct peer_conn peer_conn;

typedef enum msg_kind { MSG_SEND, MSG_REPLY, MSG_CTRL, MSG_TEST_DROP, MSG_DROP } msg_kind;

/* One frame on its way out. `wire` holds the length prefix and the payload, so a
 * frame is one uv_write. */
typedef struct peer_msg {
    mpsc_node node;             /* first: the queue hands back this pointer */
    struct peer_msg *next;      /* in a link's pending list (peer thread) */
    uv_write_t wr;
    msg_kind kind;
    peer_link *link;            /* SEND: the node it goes to (bytes accounted there) */
    uint64_t conn_id;           /* REPLY: the connection (bytes accounted there) */
    size_t len;                 /* payload bytes */
    uint8_t wire[];             /* 4 + len */
} peer_msg;

/* The outbound side towards one node. Created by the first send to it, lives until
 * the peer side stops. */
struct peer_link {
    peer_link *next;               /* p->links, under mu */
    char node[CLUSTER_NODE_MAX];
    char addr[CLUSTER_ADDR_MAX];   /* under mu: the latest address a sender gave */
    size_t queued_bytes;           /* under mu */
    peer_conn *conn;               /* peer thread: NULL when not connected */
    peer_msg *pend_head;           /* peer thread: frames waiting for READY */
    peer_msg *pend_tail;
};

typedef enum conn_state {
    CONN_DIALLING,     /* outbound, TCP connect in progress */
    CONN_HELLO,        /* waiting for the other side's HELLO */
    CONN_PROOF,        /* waiting for the other side's PROOF */
    CONN_READY,
    CONN_CLOSING,
} conn_state;

struct peer_conn {
    peer_conn *next;               /* p->conns: changed on the peer thread under mu */
    peer *p;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uint64_t id;
    peer_link *link;               /* outbound: its link; NULL: incoming */
    conn_state state;
    size_t queued_bytes;           /* replies, under mu */
    uint64_t opened_ms;
    uint64_t rx_ms;                /* loop time anything was last read (outbound: probes) */
    uint64_t probe_ms;             /* loop time the last probe was sent; 0: none since rx */
    uint32_t silent_ms;            /* closed because the other side stayed silent this long */
    char remote[CLUSTER_ADDR_MAX];           /* "ip:port" of the other end */
    char remote_node[CLUSTER_NODE_MAX];      /* the node id its HELLO claimed */
    uint8_t my_nonce[PEER_NONCE_BYTES];
    uint8_t their_nonce[PEER_NONCE_BYTES];
    uint8_t hdr[4];                /* frame assembly */
    size_t hdr_have;
    uint8_t *frame;
    size_t frame_len, frame_have;
    bool in_frame;
    char rbuf[PEER_READ_BYTES];
};

struct peer {
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t sweep;
    uv_timer_t probe;              /* liveness probes (node_timeout_ms > 0) */
    uint32_t node_timeout_ms;
    uv_tcp_t listener;
    uv_thread_t thread;
    bool thread_started;
    uv_mutex_t mu;
    bool stopping;                 /* under mu */
    mpsc inbox;
    peer_link *links;              /* under mu */
    peer_conn *conns;              /* under mu */
    size_t conn_count;             /* peer thread */
    uint64_t next_conn_id;         /* peer thread */
    char node_id[CLUSTER_NODE_MAX];
    char advertise[CLUSTER_ADDR_MAX];
    char listen_addr[CLUSTER_ADDR_MAX];
    uint8_t *secret;
    size_t secret_len;
    /* Set by the objects layer after cluster_open (any thread), read on the peer
     * thread: ud is written first, the function last (release/acquire). */
    _Atomic(cluster_peer_frame_fn) on_frame;
    void *on_frame_ud;
    _Atomic(cluster_peer_lost_fn) on_lost;
    void *on_lost_ud;
    _Atomic(cluster_peer_silent_fn) on_silent;
    void *on_silent_ud;
    _Atomic(cluster_peer_closed_fn) on_closed;
    void *on_closed_ud;
};

/* ---- small helpers ---- */

static void put_u32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static peer_msg *msg_new(msg_kind kind, const void *b, size_t len)
{
    peer_msg *m = malloc(sizeof *m + 4 + len);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->len = len;
    put_u32(m->wire, (uint32_t)len);
    if (len)
        memcpy(m->wire + 4, b, len);
    return m;
}

/* Frees a message that will not be written (or was), giving its bytes back to the
 * link or connection they were counted on. `c` is the connection a REPLY was
 * queued on, NULL if that connection is gone. */
static void msg_done(peer *p, peer_msg *m, peer_conn *c)
{
    if (m->kind == MSG_SEND || (m->kind == MSG_REPLY && c)) {
        uv_mutex_lock(&p->mu);
        if (m->kind == MSG_SEND)
            m->link->queued_bytes -= m->len;
        else
            c->queued_bytes -= m->len;
        uv_mutex_unlock(&p->mu);
    }
    free(m);
}

static void addr_name(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, cap, "%s:%d", ip, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, cap, "[%s]:%d", ip, port);
    } else {
        snprintf(out, cap, "?");
    }
}

/* "ip:port" or "[ip6]:port" into a socket address. Host names are not resolved:
 * nodes advertise addresses (CL-1 registers the address peers dial). */
static int addr_parse(const char *s, struct sockaddr_storage *ss)
{
    char host[CLUSTER_ADDR_MAX];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || strlen(s) >= sizeof host)
        return DUR_EINVAL;
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
        h = s + 1;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port <= 0 || port > 65535)
        return DUR_EINVAL;
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return DUR_EINVAL;
}

/* The PROOF `prover` (in role `role`) gives for `challenger`'s nonce. */
static void proof_make(const peer *p, uint8_t role, const uint8_t nonce[PEER_NONCE_BYTES],
                       const char *prover, const char *challenger, uint8_t out[PEER_PROOF_BYTES])
{
    uint8_t msg[sizeof PEER_PROOF_DOMAIN + 1 + PEER_NONCE_BYTES + 2 * CLUSTER_NODE_MAX];
    size_t n = 0;
    memcpy(msg, PEER_PROOF_DOMAIN, sizeof PEER_PROOF_DOMAIN - 1);
    n += sizeof PEER_PROOF_DOMAIN - 1;
    msg[n++] = role;
    memcpy(msg + n, nonce, PEER_NONCE_BYTES);
    n += PEER_NONCE_BYTES;
    size_t a = strlen(prover), b = strlen(challenger);
    msg[n++] = (uint8_t)a;
    memcpy(msg + n, prover, a);
    n += a;
    msg[n++] = (uint8_t)b;
    memcpy(msg + n, challenger, b);
    n += b;
    unsigned int out_len = PEER_PROOF_BYTES;
    if (!HMAC(EVP_sha256(), p->secret, (int)p->secret_len, msg, n, out, &out_len))
        memset(out, 0, PEER_PROOF_BYTES);   /* cannot match a real proof: refused */
}

/* ---- connections ---- */

static void conn_close(peer_conn *c, log_level lvl, const char *why);

static void log_conn(log_level lvl, peer_conn *c, const char *why)
{
    log_field f[] = {
        {.key = "remote", .str = c->remote, .len = SIZE_MAX},
        {.key = "node", .str = c->link ? c->link->node : c->remote_node, .len = SIZE_MAX},
    };
    if (c->link)
        log_fields(lvl, f, 2, "cluster: connection to node %s at %s closed: %s", c->link->node,
                   c->remote, why);
    else
        log_fields(lvl, f, 2, "cluster: internal connection from %s%s%s%s closed: %s", c->remote,
                   c->remote_node[0] ? " (node " : "", c->remote_node,
                   c->remote_node[0] ? ")" : "", why);
}

static void on_conn_closed(uv_handle_t *h)
{
    peer_conn *c = h->data;
    free(c->frame);
    free(c);
}

static void on_written(uv_write_t *wr, int status)
{
    peer_msg *m = wr->data;
    peer_conn *c = wr->handle->data;
    msg_done(c->p, m, c);
    if (status < 0 && status != UV_ECANCELED)
        conn_close(c, LOG_WARN, uv_strerror(status));
}

static void conn_write(peer_conn *c, peer_msg *m)
{
    m->wr.data = m;
    uv_buf_t b = uv_buf_init((char *)m->wire, (unsigned)(4 + m->len));
    int rc = uv_write(&m->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc < 0) {
        msg_done(c->p, m, c);
        conn_close(c, LOG_WARN, uv_strerror(rc));
    }
}

static void link_drop_pending(peer *p, peer_link *l)
{
    peer_msg *m = l->pend_head;
    l->pend_head = l->pend_tail = NULL;
    while (m) {
        peer_msg *next = m->next;
        msg_done(p, m, NULL);
        m = next;
    }
}

/* Closes c (once), logging `why` at lvl. An outbound link loses the frames it had
 * not written and its owner hears on_lost. */
static void conn_close(peer_conn *c, log_level lvl, const char *why)
{
    if (c->state == CONN_CLOSING)
        return;
    peer *p = c->p;
    bool was_dialling = c->state == CONN_DIALLING;
    bool was_ready = c->state == CONN_READY;
    c->state = CONN_CLOSING;
    log_conn(lvl, c, why);
    uv_mutex_lock(&p->mu);
    for (peer_conn **pp = &p->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    bool stopping = p->stopping;
    uv_mutex_unlock(&p->mu);
    p->conn_count--;
    if (!was_dialling)
        uv_read_stop((uv_stream_t *)&c->tcp);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    cluster_peer_closed_fn cfn = atomic_load_explicit(&p->on_closed, memory_order_acquire);
    if (was_ready && !stopping && cfn)
        cfn(p->on_closed_ud, c->id);
    peer_link *l = c->link;
    if (l) {
        l->conn = NULL;
        link_drop_pending(p, l);
        cluster_peer_silent_fn sfn = atomic_load_explicit(&p->on_silent, memory_order_acquire);
        cluster_peer_lost_fn fn = atomic_load_explicit(&p->on_lost, memory_order_acquire);
        if (!stopping && c->silent_ms && sfn)
            sfn(p->on_silent_ud, l->node, c->silent_ms);
        else if (!stopping && fn)
            fn(p->on_lost_ud, l->node);
    }
}

static void send_ctrl(peer_conn *c, const void *b, size_t len)
{
    peer_msg *m = msg_new(MSG_CTRL, b, len);
    if (!m) {
        conn_close(c, LOG_ERROR, "out of memory");
        return;
    }
    conn_write(c, m);
}

static void send_hello(peer_conn *c)
{
    uint8_t b[PEER_HANDSHAKE_BYTES_MAX];
    size_t n = 0;
    memcpy(b, PEER_MAGIC, PEER_MAGIC_LEN);
    n += PEER_MAGIC_LEN;
    b[n++] = c->link ? 'D' : 'L';
    memcpy(b + n, c->my_nonce, PEER_NONCE_BYTES);
    n += PEER_NONCE_BYTES;
    size_t idl = strlen(c->p->node_id);
    memcpy(b + n, c->p->node_id, idl);
    n += idl;
    c->state = CONN_HELLO;
    send_ctrl(c, b, n);
}

static void on_hello(peer_conn *c, const uint8_t *b, size_t len)
{
    peer *p = c->p;
    uint8_t want_role = c->link ? 'L' : 'D';
    size_t head = PEER_MAGIC_LEN + 1 + PEER_NONCE_BYTES;
    if (len < head || memcmp(b, PEER_MAGIC, PEER_MAGIC_LEN) != 0 || b[PEER_MAGIC_LEN] != want_role) {
        conn_close(c, LOG_WARN, "refused: not a durable cluster handshake");
        return;
    }
    if (!cluster_node_id_valid((const char *)b + head, len - head)) {
        conn_close(c, LOG_WARN, "refused: the handshake names an invalid node id");
        return;
    }
    memcpy(c->remote_node, b + head, len - head);
    c->remote_node[len - head] = 0;
    memcpy(c->their_nonce, b + PEER_MAGIC_LEN + 1, PEER_NONCE_BYTES);
    if (strcmp(c->remote_node, p->node_id) == 0 ||
        CRYPTO_memcmp(c->their_nonce, c->my_nonce, PEER_NONCE_BYTES) == 0) {
        conn_close(c, LOG_WARN, "refused: the other side claims this node's own id");
        return;
    }
    if (c->link && strcmp(c->remote_node, c->link->node) != 0) {
        char why[160];
        snprintf(why, sizeof why, "refused: the node there is \"%s\", not the one dialled",
                 c->remote_node);
        conn_close(c, LOG_WARN, why);
        return;
    }
    uint8_t proof[PEER_PROOF_BYTES];
    proof_make(p, c->link ? 'D' : 'L', c->their_nonce, p->node_id, c->remote_node, proof);
    c->state = CONN_PROOF;
    send_ctrl(c, proof, sizeof proof);
}

static void on_proof(peer_conn *c, const uint8_t *b, size_t len)
{
    peer *p = c->p;
    uint8_t want[PEER_PROOF_BYTES];
    proof_make(p, c->link ? 'L' : 'D', c->my_nonce, c->remote_node, p->node_id, want);
    if (len != PEER_PROOF_BYTES || CRYPTO_memcmp(b, want, PEER_PROOF_BYTES) != 0) {
        conn_close(c, LOG_WARN, "refused: authentication failed (a different cluster secret?)");
        return;
    }
    c->state = CONN_READY;
    log_field f[] = {{.key = "remote", .str = c->remote, .len = SIZE_MAX},
                     {.key = "node", .str = c->remote_node, .len = SIZE_MAX}};
    log_fields(LOG_DEBUG, f, 2, "cluster: %s node %s at %s authenticated",
               c->link ? "connected to" : "accepted", c->remote_node, c->remote);
    peer_link *l = c->link;
    while (l && l->pend_head && c->state == CONN_READY) {
        peer_msg *m = l->pend_head;
        l->pend_head = m->next;
        if (!l->pend_head)
            l->pend_tail = NULL;
        conn_write(c, m);
    }
}

/* One whole frame: handshake or data, by the connection's state. */
static void on_frame(peer_conn *c, const uint8_t *b, size_t len)
{
    switch (c->state) {
    case CONN_HELLO:
        on_hello(c, b, len);
        break;
    case CONN_PROOF:
        on_proof(c, b, len);
        break;
    case CONN_READY: {
        if (len == 1 && (b[0] == PEER_PROBE || b[0] == PEER_PROBE_ANSWER)) {
            if (b[0] == PEER_PROBE) {
                uint8_t a = PEER_PROBE_ANSWER;
                send_ctrl(c, &a, 1);
            }
            break;   /* an answer: reading it moved rx_ms, which is all it is for */
        }
        cluster_peer_frame_fn fn = atomic_load_explicit(&c->p->on_frame, memory_order_acquire);
        /* Nobody to hand it to yet (a node that just started): closing makes the
         * sender fail its call now (on_lost) rather than wait for an answer that
         * cannot come. */
        if (!fn)
            conn_close(c, LOG_WARN, "a frame arrived before this node was ready for calls");
        else
            fn(c->p->on_frame_ud, c->id, b, len);
        break;
    }
    default:
        break;
    }
}

/* Splits the bytes read into frames. Bounded before allocating: the handshake
 * bound until READY, PEER_FRAME_BYTES_MAX after. */
static void conn_feed(peer_conn *c, const uint8_t *b, size_t n)
{
    while (n > 0 && c->state != CONN_CLOSING) {
        if (!c->in_frame) {
            size_t k = 4 - c->hdr_have < n ? 4 - c->hdr_have : n;
            memcpy(c->hdr + c->hdr_have, b, k);
            c->hdr_have += k;
            b += k;
            n -= k;
            if (c->hdr_have < 4)
                return;
            c->hdr_have = 0;
            uint32_t flen = get_u32(c->hdr);
            size_t bound = c->state == CONN_READY ? PEER_FRAME_BYTES_MAX : PEER_HANDSHAKE_BYTES_MAX;
            if (flen > bound) {
                char why[160];
                snprintf(why, sizeof why, "a frame of %u bytes exceeds the limit of %zu bytes",
                         flen, bound);
                conn_close(c, LOG_WARN, why);
                return;
            }
            /* A frame wholly inside this read is handed over without a copy. */
            if (flen <= n) {
                on_frame(c, b, flen);
                b += flen;
                n -= flen;
                continue;
            }
            c->frame = malloc(flen);
            if (!c->frame) {
                conn_close(c, LOG_ERROR, "out of memory for a frame");
                return;
            }
            c->frame_len = flen;
            c->frame_have = 0;
            c->in_frame = true;
        }
        size_t want = c->frame_len - c->frame_have;
        size_t k = want < n ? want : n;
        memcpy(c->frame + c->frame_have, b, k);
        c->frame_have += k;
        b += k;
        n -= k;
        if (c->frame_have == c->frame_len) {
            uint8_t *f = c->frame;
            c->frame = NULL;
            c->in_frame = false;
            on_frame(c, f, c->frame_len);
            free(f);
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    peer_conn *c = h->data;
    *out = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    peer_conn *c = s->data;
    if (nread < 0) {
        bool ready = c->state == CONN_READY;
        if (nread == UV_EOF)
            conn_close(c, c->link || !ready ? LOG_WARN : LOG_INFO,
                       ready ? "closed by the other side" : "closed during authentication");
        else
            conn_close(c, LOG_WARN, uv_strerror((int)nread));
        return;
    }
    if (nread > 0) {
        c->rx_ms = uv_now(&c->p->loop);
        c->probe_ms = 0;
    }
    conn_feed(c, (const uint8_t *)b->base, (size_t)nread);
}

static peer_conn *conn_new(peer *p, peer_link *l)
{
    if (p->conn_count >= PEER_CONNS_MAX)
        return NULL;
    peer_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = p;
    c->link = l;
    c->id = ++p->next_conn_id;
    c->opened_ms = c->rx_ms = uv_now(&p->loop);
    c->tcp.data = c;
    if (uv_tcp_init(&p->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    if (RAND_bytes(c->my_nonce, sizeof c->my_nonce) != 1) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return NULL;
    }
    p->conn_count++;
    uv_mutex_lock(&p->mu);
    c->next = p->conns;
    p->conns = c;
    uv_mutex_unlock(&p->mu);
    return c;
}

static void conn_start(peer_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 10);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    c->state = CONN_HELLO;
    if (rc < 0) {
        conn_close(c, LOG_WARN, uv_strerror(rc));
        return;
    }
    send_hello(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    peer *p = server->data;
    if (status < 0) {
        log_warn("cluster: internal listener: %s", uv_strerror(status));
        return;
    }
    peer_conn *c = conn_new(p, NULL);
    if (!c) {
        /* Accept and drop it, so it does not stay in the backlog. */
        uv_tcp_t *t = malloc(sizeof *t);
        if (t && uv_tcp_init(&p->loop, t) == 0) {
            if (uv_accept(server, (uv_stream_t *)t) == 0)
                log_warn("cluster: internal connection refused: %d connections already open",
                         PEER_CONNS_MAX);
            uv_close((uv_handle_t *)t, (uv_close_cb)free);
        } else {
            free(t);
        }
        return;
    }
    c->state = CONN_HELLO;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        snprintf(c->remote, sizeof c->remote, "?");
        conn_close(c, LOG_WARN, "accept failed");
        return;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0)
        addr_name(&ss, c->remote, sizeof c->remote);
    else
        snprintf(c->remote, sizeof c->remote, "?");
    conn_start(c);
}

static void on_connected(uv_connect_t *req, int status)
{
    peer_conn *c = req->data;
    if (status == UV_ECANCELED || c->state == CONN_CLOSING)
        return;
    if (status < 0) {
        char why[128];
        snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(status));
        conn_close(c, LOG_WARN, why);
        return;
    }
    conn_start(c);
}

static void link_dial(peer *p, peer_link *l)
{
    peer_conn *c = conn_new(p, l);
    if (!c) {
        link_drop_pending(p, l);
        log_warn("cluster: cannot dial node %s: too many connections or out of memory", l->node);
        cluster_peer_lost_fn fn = atomic_load_explicit(&p->on_lost, memory_order_acquire);
        if (fn)
            fn(p->on_lost_ud, l->node);
        return;
    }
    l->conn = c;
    c->state = CONN_DIALLING;
    uv_mutex_lock(&p->mu);
    snprintf(c->remote, sizeof c->remote, "%s", l->addr);
    uv_mutex_unlock(&p->mu);
    struct sockaddr_storage ss;
    if (addr_parse(c->remote, &ss) != 0) {
        conn_close(c, LOG_WARN, "the address is not ip:port");
        return;
    }
    c->connect.data = c;
    int rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&ss, on_connected);
    if (rc < 0) {
        char why[128];
        snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(rc));
        conn_close(c, LOG_WARN, why);
    }
}

/* ---- the peer thread ---- */

static peer_conn *conn_find(peer *p, uint64_t id)
{
    for (peer_conn *c = p->conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static void deliver(peer *p, peer_msg *m)
{
    if (m->kind == MSG_TEST_DROP) {   /* cluster_peer_test_drop */
        peer_conn *c = conn_find(p, m->conn_id);
        if (c)
            conn_close(c, LOG_WARN, "closed by a test hook (DURABLE_TEST_HOOKS)");
        free(m);
        return;
    }
    if (m->kind == MSG_DROP) {   /* cluster_peer_drop: wire[4..] is the reason */
        peer_conn *c = m->link ? m->link->conn : conn_find(p, m->conn_id);
        if (c)
            conn_close(c, LOG_WARN, (const char *)m->wire + 4);
        free(m);
        return;
    }
    if (m->kind == MSG_REPLY) {
        peer_conn *c = conn_find(p, m->conn_id);
        if (!c || c->state != CONN_READY) {
            msg_done(p, m, c);
            return;
        }
        conn_write(c, m);
        return;
    }
    peer_link *l = m->link;
    if (l->conn && l->conn->state == CONN_READY) {
        conn_write(l->conn, m);
        return;
    }
    m->next = NULL;
    if (l->pend_tail)
        l->pend_tail->next = m;
    else
        l->pend_head = m;
    l->pend_tail = m;
    if (!l->conn)
        link_dial(p, l);
}

static void close_all(peer *p)
{
    uv_mutex_lock(&p->mu);
    peer_conn *c = p->conns;
    uv_mutex_unlock(&p->mu);
    while (c) {
        peer_conn *next = c->next;
        conn_close(c, LOG_DEBUG, "node stopping");
        c = next;
    }
    uv_close((uv_handle_t *)&p->listener, NULL);
    uv_close((uv_handle_t *)&p->sweep, NULL);
    uv_close((uv_handle_t *)&p->probe, NULL);
    uv_close((uv_handle_t *)&p->wake, NULL);
}

static void on_wake(uv_async_t *a)
{
    peer *p = a->data;
    mpsc_node *n;
    while ((n = mpsc_pop(&p->inbox)) != NULL)
        deliver(p, (peer_msg *)n);
    uv_mutex_lock(&p->mu);
    bool stopping = p->stopping;
    uv_mutex_unlock(&p->mu);
    if (stopping && !uv_is_closing((uv_handle_t *)&p->wake))
        close_all(p);
}

/* Closes connections stuck in the handshake (a client that connects and says
 * nothing must not hold a slot). */
static void on_sweep(uv_timer_t *t)
{
    peer *p = t->data;
    uint64_t now = uv_now(&p->loop);
    peer_conn *c = p->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->state != CONN_READY && now - c->opened_ms >= PEER_AUTH_MS)
            conn_close(c, LOG_WARN, "refused: no authentication within 5 s");
    }
}

/* Liveness of the nodes we dialled: a probe after node_timeout/2 of silence, and
 * a connection silent for node_timeout (TCP connect and handshake included) is
 * closed, failing the calls waiting on it (on_silent) instead of letting them
 * wait for a paused or cut-off node. The other side's peer thread answers
 * probes by itself, so a busy node is not taken for a silent one. */
static void on_probe(uv_timer_t *t)
{
    peer *p = t->data;
    uint64_t now = uv_now(&p->loop), to = p->node_timeout_ms;
    peer_conn *c = p->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (!c->link || c->state == CONN_CLOSING)   /* dialling too: a host gone mid-connect */
            continue;
        uint64_t quiet = now - c->rx_ms;
        /* A READY connection is judged only by a probe that had half a timeout to
         * be answered: a stall of this loop must not pass for the other's silence. */
        bool probed = c->probe_ms && now - c->probe_ms >= to / 2;
        if (quiet >= to && (c->state != CONN_READY || probed)) {
            char why[160];
            snprintf(why, sizeof why, "the node did not answer for %" PRIu64 " ms (paused, cut off "
                     "or gone?); the calls waiting on it fail", quiet);
            c->silent_ms = p->node_timeout_ms;
            conn_close(c, LOG_WARN, why);
        } else if (c->state == CONN_READY && quiet >= to / 2 && !c->probe_ms) {
            uint8_t b = PEER_PROBE;
            c->probe_ms = now;
            send_ctrl(c, &b, 1);
        }
    }
}

static void peer_main(void *arg)
{
    peer *p = arg;
    uv_run(&p->loop, UV_RUN_DEFAULT);
}

/* ---- start and stop ---- */

static void peer_free(peer *p)
{
    mpsc_node *n;
    while ((n = mpsc_pop(&p->inbox)) != NULL)
        free(n);
    for (peer_link *l = p->links, *next; l; l = next) {
        next = l->next;
        for (peer_msg *m = l->pend_head, *mn; m; m = mn) {
            mn = m->next;
            free(m);
        }
        free(l);
    }
    if (p->secret) {
        OPENSSL_cleanse(p->secret, p->secret_len);
        free(p->secret);
    }
    uv_mutex_destroy(&p->mu);
    free(p);
}

static int listen_on(peer *p, const cluster_opts *o, err *e)
{
    const char *ip = o->listen_ip && *o->listen_ip ? o->listen_ip : "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (o->listen_port < 0 || o->listen_port > 65535)
        return err_setf(e, DUR_EINVAL, "cluster: --cluster-listen port %d is not 0-65535",
                        o->listen_port);
    if (uv_ip4_addr(ip, o->listen_port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(ip, o->listen_port, (struct sockaddr_in6 *)&ss) != 0)
        return err_setf(e, DUR_EINVAL, "cluster: --cluster-listen address '%s' is not an IP address",
                        ip);
    int rc = uv_tcp_bind(&p->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&p->listener, 128, on_connection);
    if (rc < 0)
        return err_setf(e, rc, "cluster: cannot listen on %s port %d: %s", ip, o->listen_port,
                        uv_strerror(rc));
    int sl = sizeof ss;
    rc = uv_tcp_getsockname(&p->listener, (struct sockaddr *)&ss, &sl);
    if (rc < 0)
        return err_setf(e, rc, "cluster: internal listener: %s", uv_strerror(rc));
    addr_name(&ss, p->listen_addr, sizeof p->listen_addr);
    int n = o->advertise && *o->advertise
                ? snprintf(p->advertise, sizeof p->advertise, "%s", o->advertise)
                : snprintf(p->advertise, sizeof p->advertise, "%s", p->listen_addr);
    if (n < 0 || (size_t)n >= sizeof p->advertise)
        return err_setf(e, DUR_EINVAL, "cluster: the advertised address is longer than %d bytes",
                        CLUSTER_ADDR_MAX - 1);
    return 0;
}

/* Sets up the loop, listener and handles on the calling thread, then hands the
 * loop to the peer thread (thread creation orders the two). */
static int peer_open(cluster *c, const char *node_id, const cluster_opts *o, err *e)
{
    if (!o->secret || !*o->secret)
        return err_setf(e, DUR_EINVAL,
                        "cluster: a shared secret is required (--cluster-secret or "
                        "DURABLE_CLUSTER_SECRET)");
    if (!cluster_node_id_valid(node_id, strlen(node_id)))
        return err_setf(e, DUR_EINVAL, "cluster: node id '%s' is not 1-63 of [A-Za-z0-9._-]",
                        node_id);
    peer *p = calloc(1, sizeof *p);
    if (!p)
        return err_setf(e, DUR_ENOMEM, "cluster: out of memory");
    snprintf(p->node_id, sizeof p->node_id, "%s", node_id);
    p->secret_len = strlen(o->secret);
    p->secret = malloc(p->secret_len);
    if (!p->secret || uv_mutex_init(&p->mu) != 0) {
        free(p->secret);
        free(p);
        return err_setf(e, DUR_ENOMEM, "cluster: out of memory");
    }
    memcpy(p->secret, o->secret, p->secret_len);
    mpsc_init(&p->inbox);
    int rc = uv_loop_init(&p->loop);
    if (rc < 0) {
        peer_free(p);
        return err_setf(e, rc, "cluster: peer loop: %s", uv_strerror(rc));
    }
    uv_async_init(&p->loop, &p->wake, on_wake);
    uv_timer_init(&p->loop, &p->sweep);
    uv_timer_init(&p->loop, &p->probe);
    uv_tcp_init(&p->loop, &p->listener);
    p->wake.data = p->sweep.data = p->probe.data = p->listener.data = p;
    p->node_timeout_ms = o->node_timeout_ms;
    rc = listen_on(p, o, e);
    if (rc == 0) {
        uv_timer_start(&p->sweep, on_sweep, PEER_SWEEP_MS, PEER_SWEEP_MS);
        if (p->node_timeout_ms) {
            uint64_t tick = p->node_timeout_ms / 8 > 20 ? p->node_timeout_ms / 8 : 20;
            uv_timer_start(&p->probe, on_probe, tick, tick);
        }
        rc = uv_thread_create(&p->thread, peer_main, p);
        if (rc < 0)
            err_setf(e, rc, "cluster: peer thread: %s", uv_strerror(rc));
    }
    if (rc < 0) {
        uv_close((uv_handle_t *)&p->listener, NULL);
        uv_close((uv_handle_t *)&p->sweep, NULL);
        uv_close((uv_handle_t *)&p->probe, NULL);
        uv_close((uv_handle_t *)&p->wake, NULL);
        uv_run(&p->loop, UV_RUN_DEFAULT);
        uv_loop_close(&p->loop);
        peer_free(p);
        return rc;
    }
    p->thread_started = true;
    c->peer = p;
    log_info("cluster: node %s listens for internal connections on %s (advertised as %s)",
             p->node_id, p->listen_addr, p->advertise);
    return 0;
}

void cluster__peer_stop(cluster *c)
{
    peer *p = c->peer;
    if (!p)
        return;
    uv_mutex_lock(&p->mu);
    p->stopping = true;
    uv_mutex_unlock(&p->mu);
    uv_async_send(&p->wake);
    uv_thread_join(&p->thread);
    if (uv_loop_close(&p->loop) != 0)
        log_warn("cluster: peer loop closed with handles open");
    peer_free(p);
    c->peer = NULL;
}

int cluster__peer_start(cluster *c, err *e)
{
    cluster_opts o = c->o;
    o.listen_ip = c->listen_ip[0] ? c->listen_ip : NULL;
    o.advertise = c->advertise[0] ? c->advertise : NULL;
    o.secret = c->secret;
    int rc = peer_open(c, c->node_id, &o, e);
    if (rc == 0 && !c->advertise[0])
        snprintf(c->advertise, sizeof c->advertise, "%s", ((peer *)c->peer)->advertise);
    return rc;
}

static bool copy_opt(char *dst, size_t cap, const char *src)
{
    int n = snprintf(dst, cap, "%s", src ? src : "");
    return n >= 0 && (size_t)n < cap;
}

cluster *cluster__test_new(const cluster_opts *o, err *e)
{
    if (!o->node_id) {
        err_setf(e, DUR_EINVAL, "cluster: a test node needs a node id");
        return NULL;
    }
    cluster *c = calloc(1, sizeof *c);
    if (!c) {
        err_setf(e, DUR_ENOMEM, "cluster: out of memory");
        return NULL;
    }
    c->o = *o;
    if (!copy_opt(c->node_id, sizeof c->node_id, o->node_id) ||
        !copy_opt(c->listen_ip, sizeof c->listen_ip, o->listen_ip) ||
        !copy_opt(c->advertise, sizeof c->advertise, o->advertise) ||
        !copy_opt(c->secret, sizeof c->secret, o->secret)) {
        err_setf(e, DUR_EINVAL, "cluster: a test option is too long");
        free(c);
        return NULL;
    }
    if (cluster__peer_start(c, e) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

void cluster__test_free(cluster *c)
{
    if (!c)
        return;
    cluster__peer_stop(c);
    free(c);
}

const char *cluster__peer_advertise(const cluster *c)
{
    return c->advertise;
}

/* ---- the public peer API (cluster.h) ---- */

void cluster_peer_on_frame(cluster *c, cluster_peer_frame_fn fn, void *ud)
{
    peer *p = c->peer;
    if (!p)
        return;
    p->on_frame_ud = ud;
    atomic_store_explicit(&p->on_frame, fn, memory_order_release);
}

void cluster_peer_on_lost(cluster *c, cluster_peer_lost_fn fn, void *ud)
{
    peer *p = c->peer;
    if (!p)
        return;
    p->on_lost_ud = ud;
    atomic_store_explicit(&p->on_lost, fn, memory_order_release);
}

void cluster_peer_on_silent(cluster *c, cluster_peer_silent_fn fn, void *ud)
{
    peer *p = c->peer;
    if (!p)
        return;
    p->on_silent_ud = ud;
    atomic_store_explicit(&p->on_silent, fn, memory_order_release);
}

void cluster_peer_on_closed(cluster *c, cluster_peer_closed_fn fn, void *ud)
{
    peer *p = c->peer;
    if (!p)
        return;
    p->on_closed_ud = ud;
    atomic_store_explicit(&p->on_closed, fn, memory_order_release);
}

static peer_link *link_get(peer *p, const char *node, const char *addr)
{
    for (peer_link *l = p->links; l; l = l->next)
        if (strcmp(l->node, node) == 0) {
            if (strcmp(l->addr, addr) != 0)
                snprintf(l->addr, sizeof l->addr, "%s", addr);
            return l;
        }
    peer_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->node, sizeof l->node, "%s", node);
    snprintf(l->addr, sizeof l->addr, "%s", addr);
    l->next = p->links;
    p->links = l;
    return l;
}

bool cluster_peer_send(cluster *c, const char *node, const char *addr, const void *b, size_t len)
{
    peer *p = c->peer;
    if (!p || len > PEER_FRAME_BYTES_MAX || !node || !addr ||
        !cluster_node_id_valid(node, strlen(node)) || strlen(addr) >= CLUSTER_ADDR_MAX)
        return false;
    peer_msg *m = msg_new(MSG_SEND, b, len);
    if (!m)
        return false;
    uv_mutex_lock(&p->mu);
    peer_link *l = p->stopping ? NULL : link_get(p, node, addr);
    if (!l || l->queued_bytes + len > PEER_QUEUE_BYTES_MAX) {
        uv_mutex_unlock(&p->mu);
        free(m);
        return false;
    }
    l->queued_bytes += len;
    m->link = l;
    mpsc_push(&p->inbox, &m->node);
    /* Under mu: once cluster__peer_stop set `stopping`, nobody touches `wake`,
     * which the peer thread then closes. */
    uv_async_send(&p->wake);
    uv_mutex_unlock(&p->mu);
    return true;
}

bool cluster_peer_reply(cluster *c, uint64_t conn, const void *b, size_t len)
{
    peer *p = c->peer;
    if (!p || len > PEER_FRAME_BYTES_MAX)
        return false;
    peer_msg *m = msg_new(MSG_REPLY, b, len);
    if (!m)
        return false;
    m->conn_id = conn;
    uv_mutex_lock(&p->mu);
    peer_conn *pc = p->stopping ? NULL : conn_find(p, conn);
    if (!pc || pc->queued_bytes + len > PEER_QUEUE_BYTES_MAX) {
        uv_mutex_unlock(&p->mu);
        free(m);
        return false;
    }
    pc->queued_bytes += len;
    mpsc_push(&p->inbox, &m->node);
    /* Under mu: once cluster__peer_stop set `stopping`, nobody touches `wake`,
     * which the peer thread then closes. */
    uv_async_send(&p->wake);
    uv_mutex_unlock(&p->mu);
    return true;
}

void cluster_peer_test_drop(cluster *c, uint64_t conn)
{
    peer *p = c->peer;
    peer_msg *m = p ? msg_new(MSG_TEST_DROP, NULL, 0) : NULL;
    if (!m)
        return;
    m->conn_id = conn;
    uv_mutex_lock(&p->mu);
    if (p->stopping) {
        free(m);
    } else {
        mpsc_push(&p->inbox, &m->node);
        uv_async_send(&p->wake);
    }
    uv_mutex_unlock(&p->mu);
}

void cluster_peer_drop(cluster *c, const char *node, uint64_t conn, const char *why)
{
    peer *p = c->peer;
    peer_msg *m = p ? msg_new(MSG_DROP, why, strlen(why) + 1) : NULL;
    if (!m)
        return;
    m->conn_id = conn;
    uv_mutex_lock(&p->mu);
    if (node)
        for (peer_link *l = p->links; l; l = l->next)
            if (strcmp(l->node, node) == 0)
                m->link = l;
    if (p->stopping || (node && !m->link)) {
        free(m);
    } else {
        mpsc_push(&p->inbox, &m->node);
        uv_async_send(&p->wake);
    }
    uv_mutex_unlock(&p->mu);
}
