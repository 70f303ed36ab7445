/* Unit tests for src/cluster/peer.c, the internal connections between nodes (spec
 * CL-2, CL-5). Two or three peer sides run in this one process (cluster__test_new
 * starts only the peer thread and listener, no PostgreSQL), on 127.0.0.1 with free
 * ports. A raw socket client speaks the handshake by hand where a test needs a
 * misbehaving peer. Waits are for events with a generous deadline, never sleeps.
 *
 * Covered: frames both ways keep their order; replies go back on the connection a
 * frame came in on; a wrong secret is refused and the log names the remote address
 * but never the secret; a frame over the bound closes the connection (and a send
 * over it is refused); the bound on queued bytes; redial after the other node
 * restarts, with on_lost called for the drop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "cluster/internal.h"

#define WAIT_MS 20000
#define FRAME_MAX (33u << 20)
#define QUEUE_MAX ((size_t)64 << 20)

/* ---- what a node saw, filled on its peer thread ---- */

typedef struct rec {
    uint64_t conn;
    size_t len;
    uint8_t *b;
} rec;

typedef struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rec *frames;
    size_t frame_count, frame_cap;
    int lost;
    char lost_node[CLUSTER_NODE_MAX];
    cluster *self;
    bool echo;            /* every frame is answered with cluster_peer_reply */
    int reply_failures;
} seen;

static void seen_init(seen *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
}

static void seen_fini(seen *s)
{
    for (size_t i = 0; i < s->frame_count; i++)
        free(s->frames[i].b);
    free(s->frames);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

static void on_frame(void *ud, uint64_t conn, const uint8_t *b, size_t len)
{
    seen *s = ud;
    /* No cmocka assert here: this is the peer thread. */
    bool replied = !s->echo || cluster_peer_reply(s->self, conn, b, len);
    pthread_mutex_lock(&s->mu);
    if (!replied)
        s->reply_failures++;
    if (s->frame_count == s->frame_cap) {
        s->frame_cap = s->frame_cap ? 2 * s->frame_cap : 64;
        s->frames = realloc(s->frames, s->frame_cap * sizeof *s->frames);
        assert_non_null(s->frames);
    }
    rec *r = &s->frames[s->frame_count++];
    r->conn = conn;
    r->len = len;
    r->b = malloc(len ? len : 1);
    assert_non_null(r->b);
    memcpy(r->b, b, len);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_lost(void *ud, const char *node)
{
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->lost++;
    snprintf(s->lost_node, sizeof s->lost_node, "%s", node);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits until `frames` frames and `lost` drops were seen; false at the deadline. */
static bool seen_wait(seen *s, size_t frames, int lost)
{
    struct timespec ts;
    deadline_in(&ts, WAIT_MS);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while ((s->frame_count < frames || s->lost < lost) && rc == 0)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    bool ok = s->frame_count >= frames && s->lost >= lost;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static cluster *node_new(const char *id, const char *secret, int port, seen *s)
{
    cluster_opts o = {.node_id = id, .listen_ip = "127.0.0.1", .listen_port = port,
                      .secret = secret};
    err e = {0};
    cluster *c = cluster__test_new(&o, &e);
    if (!c)
        fail_msg("cluster__test_new: %s", e.msg);
    if (s) {
        s->self = c;
        cluster_peer_on_frame(c, on_frame, s);
        cluster_peer_on_lost(c, on_lost, s);
    }
    return c;
}

static int port_of(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    assert_non_null(colon);
    return (int)strtol(colon + 1, NULL, 10);
}

/* ---- stderr captured into a file, to check what the log says ---- */

typedef struct capture {
    int saved;
    char path[64];
} capture;

static void capture_start(capture *cp)
{
    snprintf(cp->path, sizeof cp->path, "/tmp/durable-test-peer-XXXXXX");
    int fd = mkstemp(cp->path);
    assert_true(fd >= 0);
    fflush(stderr);
    cp->saved = dup(2);
    assert_true(cp->saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    close(fd);
}

/* Restores stderr; returns what was written (caller frees). */
static char *capture_end(capture *cp)
{
    fflush(stderr);
    dup2(cp->saved, 2);
    close(cp->saved);
    FILE *f = fopen(cp->path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = 0;
    fclose(f);
    unlink(cp->path);
    return text;
}

/* Waits until the captured log contains `needle`. */
static bool capture_wait_for(capture *cp, const char *needle)
{
    for (int i = 0; i < WAIT_MS / 10; i++) {
        FILE *f = fopen(cp->path, "rb");
        if (f) {
            static char text[1 << 16];
            size_t n = fread(text, 1, sizeof text - 1, f);
            text[n] = 0;
            fclose(f);
            if (strstr(text, needle))
                return true;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* ---- a raw client that speaks the handshake by hand ---- */

static int raw_connect(const char *addr, char *local, size_t local_cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_of(addr))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
    snprintf(local, local_cap, "127.0.0.1:%d", ntohs(me.sin_port));
    return fd;
}

static void raw_write(int fd, const void *b, size_t n)
{
    const uint8_t *p = b;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void raw_frame(int fd, const void *b, size_t n)
{
    uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    raw_write(fd, h, 4);
    raw_write(fd, b, n);
}

/* Reads exactly n bytes; false on EOF/error/deadline. */
static bool raw_read(int fd, void *b, size_t n)
{
    uint8_t *p = b;
    while (n > 0) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, WAIT_MS) <= 0)
            return false;
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads one frame of at most cap bytes; its length, or -1. */
static long raw_read_frame(int fd, uint8_t *b, size_t cap)
{
    uint8_t h[4];
    if (!raw_read(fd, h, 4))
        return -1;
    size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    if (n > cap || !raw_read(fd, b, n))
        return -1;
    return (long)n;
}

/* True once the other side closed fd (EOF or reset) before the deadline. */
static bool raw_wait_closed(int fd)
{
    uint8_t b[4096];
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, WAIT_MS) <= 0)
            return false;
        ssize_t r = read(fd, b, sizeof b);
        if (r <= 0)
            return true;
    }
}

static void proof(const char *secret, uint8_t role, const uint8_t nonce[32], const char *prover,
                  const char *challenger, uint8_t out[32])
{
    uint8_t m[256];
    size_t n = 0;
    memcpy(m, "durable-peer-v1", 15);
    n += 15;
    m[n++] = role;
    memcpy(m + n, nonce, 32);
    n += 32;
    m[n++] = (uint8_t)strlen(prover);
    memcpy(m + n, prover, strlen(prover));
    n += strlen(prover);
    m[n++] = (uint8_t)strlen(challenger);
    memcpy(m + n, challenger, strlen(challenger));
    n += strlen(challenger);
    unsigned int ol = 32;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), m, n, out, &ol));
}

/* Dials node `node_id` at addr as node "raw" with `secret`: HELLO, PROOF, and the
 * listener's PROOF checked when the secret is right. Returns the socket. */
static int raw_handshake(const char *addr, const char *node_id, const char *secret, char *local,
                         size_t local_cap, bool expect_ok)
{
    int fd = raw_connect(addr, local, local_cap);
    uint8_t their[128];
    long n = raw_read_frame(fd, their, sizeof their);
    assert_true(n == 5 + 1 + 32 + (long)strlen(node_id));
    assert_memory_equal(their, "DURP1L", 6);
    assert_memory_equal(their + 38, node_id, strlen(node_id));
    uint8_t hello[64] = "DURP1D";
    uint8_t my_nonce[32];
    for (int i = 0; i < 32; i++)
        my_nonce[i] = (uint8_t)(i * 7 + 1);
    memcpy(hello + 6, my_nonce, 32);
    memcpy(hello + 38, "raw", 3);
    raw_frame(fd, hello, 41);
    uint8_t pr[32];
    proof(secret, 'D', their + 6, "raw", node_id, pr);
    raw_frame(fd, pr, 32);
    if (expect_ok) {
        uint8_t got[32], want[32];
        assert_int_equal(raw_read_frame(fd, got, sizeof got), 32);
        proof(secret, 'L', my_nonce, node_id, "raw", want);
        assert_memory_equal(got, want, 32);
    }
    return fd;
}

/* ---- tests ---- */

static void put_seq(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get_seq(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* a sends N frames of varying size to b; b echoes each with cluster_peer_reply on
 * the connection it came on; b also sends N frames of its own to a. Every stream
 * arrives complete, in order, byte for byte. */
static void test_frames_both_ways_in_order(void **state)
{
    enum { N = 2000 };
    seen sa, sb;
    seen_init(&sa);
    seen_init(&sb);
    sb.echo = true;
    cluster *a = node_new("node-a", "s3cret-shared", 0, &sa);
    cluster *b = node_new("node-b", "s3cret-shared", 0, &sb);
    char addr_a[CLUSTER_ADDR_MAX], addr_b[CLUSTER_ADDR_MAX];
    snprintf(addr_a, sizeof addr_a, "%s", cluster__peer_advertise(a));
    snprintf(addr_b, sizeof addr_b, "%s", cluster__peer_advertise(b));
    assert_true(port_of(addr_a) > 0);
    assert_true(port_of(addr_b) > 0);
    assert_string_not_equal(addr_a, addr_b);

    static uint8_t frame[70000];
    for (uint32_t i = 0; i < N; i++) {
        size_t len = 4 + (i * 37) % 66000;   /* some frames span several reads */
        put_seq(frame, i);
        for (size_t k = 4; k < len; k++)
            frame[k] = (uint8_t)(i + k);
        assert_true(cluster_peer_send(a, "node-b", addr_b, frame, len));
        assert_true(cluster_peer_send(b, "node-a", addr_a, frame, len));
    }
    /* a gets b's N echoes plus b's N own frames. */
    assert_true(seen_wait(&sb, N, 0));
    assert_true(seen_wait(&sa, 2 * N, 0));
    pthread_mutex_lock(&sb.mu);
    uint64_t in_conn = sb.frames[0].conn;
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(get_seq(sb.frames[i].b), i);
        assert_int_equal(sb.frames[i].len, 4 + (i * 37) % 66000);
        assert_int_equal(sb.frames[i].conn, in_conn);
        for (size_t k = 4; k < sb.frames[i].len; k++)
            assert_int_equal(sb.frames[i].b[k], (uint8_t)(i + k));
    }
    pthread_mutex_unlock(&sb.mu);
    /* On a, the echoes came on a's outbound connection, b's own frames on the
     * connection b dialled: two connection ids, each in order. */
    pthread_mutex_lock(&sa.mu);
    uint64_t c1 = sa.frames[0].conn, c2 = 0;
    uint32_t next1 = 0, next2 = 0;
    for (size_t i = 0; i < 2 * N; i++) {
        rec *r = &sa.frames[i];
        if (r->conn != c1 && c2 == 0)
            c2 = r->conn;
        assert_true(r->conn == c1 || r->conn == c2);
        uint32_t *next = r->conn == c1 ? &next1 : &next2;
        assert_int_equal(get_seq(r->b), *next);
        assert_int_equal(r->len, 4 + (*next * 37) % 66000);
        (*next)++;
    }
    assert_int_equal(next1, N);
    assert_int_equal(next2, N);
    assert_int_equal(sa.lost, 0);
    pthread_mutex_unlock(&sa.mu);
    assert_int_equal(sb.reply_failures, 0);

    /* A reply to a connection that does not exist is refused. */
    assert_false(cluster_peer_reply(b, 999999, "x", 1));
    cluster__test_free(a);
    cluster__test_free(b);
    seen_fini(&sa);
    seen_fini(&sb);
}

/* Two nodes with different secrets: the connection is refused on both sides, the
 * dialler hears on_lost, no frame is delivered, and the log names the remote
 * address and says why without either secret. A raw client with a wrong proof is
 * refused too, and the log line names its exact address. */
static void test_wrong_secret_refused(void **state)
{
    const char *sec_a = "alpha-SECRET-0123", *sec_b = "bravo-SECRET-4567";
    seen sa, sb;
    seen_init(&sa);
    seen_init(&sb);
    capture cp;
    capture_start(&cp);
    cluster *a = node_new("node-a", sec_a, 0, &sa);
    cluster *b = node_new("node-b", sec_b, 0, &sb);
    char addr_b[CLUSTER_ADDR_MAX];
    snprintf(addr_b, sizeof addr_b, "%s", cluster__peer_advertise(b));
    assert_true(cluster_peer_send(a, "node-b", addr_b, "hello", 5));
    assert_true(seen_wait(&sa, 0, 1));
    assert_string_equal(sa.lost_node, "node-b");

    char local[64];
    int fd = raw_handshake(addr_b, "node-b", sec_a, local, sizeof local, false);
    assert_true(raw_wait_closed(fd));
    close(fd);
    char needle[160];
    snprintf(needle, sizeof needle, "internal connection from %s (node raw) closed", local);
    assert_true(capture_wait_for(&cp, needle));
    cluster__test_free(a);
    cluster__test_free(b);
    char *log = capture_end(&cp);
    assert_non_null(strstr(log, "authentication failed"));
    assert_non_null(strstr(log, needle));
    assert_null(strstr(log, sec_a));
    assert_null(strstr(log, sec_b));
    assert_null(strstr(log, "SECRET"));
    assert_int_equal(sb.frame_count, 0);
    free(log);
    seen_fini(&sa);
    seen_fini(&sb);
}

/* After a correct handshake a frame at the bound is delivered, one byte above
 * it closes the connection with a log line; before the handshake the bound is a
 * few hundred bytes. cluster_peer_send refuses an oversize frame up front. */
static void test_oversize_frame(void **state)
{
    seen sb;
    seen_init(&sb);
    capture cp;
    capture_start(&cp);
    cluster *b = node_new("node-b", "the-secret", 0, &sb);
    char addr_b[CLUSTER_ADDR_MAX];
    snprintf(addr_b, sizeof addr_b, "%s", cluster__peer_advertise(b));
    char local[64];

    int fd = raw_handshake(addr_b, "node-b", "the-secret", local, sizeof local, true);
    uint8_t *big = calloc(1, FRAME_MAX + 1);
    assert_non_null(big);
    big[0] = 42;
    raw_frame(fd, big, FRAME_MAX);            /* at the bound: delivered */
    assert_true(seen_wait(&sb, 1, 0));
    assert_int_equal(sb.frames[0].len, FRAME_MAX);
    assert_int_equal(sb.frames[0].b[0], 42);
    uint8_t h[4] = {(uint8_t)((FRAME_MAX + 1) >> 24), (uint8_t)((FRAME_MAX + 1) >> 16),
                    (uint8_t)((FRAME_MAX + 1) >> 8), (uint8_t)(FRAME_MAX + 1)};
    raw_write(fd, h, 4);                      /* one above: the connection closes */
    assert_true(raw_wait_closed(fd));
    close(fd);
    assert_true(capture_wait_for(&cp, "exceeds the limit of 34603008 bytes"));

    /* Unauthenticated: a 1000-byte first frame is refused without reading it. */
    fd = raw_connect(addr_b, local, sizeof local);
    uint8_t h2[4] = {0, 0, 0x03, 0xe8};
    raw_write(fd, h2, 4);
    assert_true(raw_wait_closed(fd));
    close(fd);
    assert_true(capture_wait_for(&cp, "a frame of 1000 bytes exceeds the limit of 128 bytes"));

    /* The sending side refuses what the receiving side would. */
    cluster *a = node_new("node-a", "the-secret", 0, NULL);
    assert_false(cluster_peer_send(a, "node-b", addr_b, big, FRAME_MAX + 1));
    assert_false(cluster_peer_send(a, "bad node", addr_b, "x", 1));
    free(big);
    cluster__test_free(a);
    cluster__test_free(b);
    free(capture_end(&cp));
    assert_int_equal(sb.frame_count, 1);
    seen_fini(&sb);
}

/* A node that accepts TCP but never answers the handshake: frames for it queue up
 * to the bound, then cluster_peer_send returns false. */
static void test_queue_bound(void **state)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 8), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));

    cluster *a = node_new("node-a", "the-secret", 0, NULL);
    size_t half = QUEUE_MAX / 2;
    uint8_t *big = calloc(1, half);
    assert_non_null(big);
    assert_true(cluster_peer_send(a, "mute", addr, big, half));
    assert_true(cluster_peer_send(a, "mute", addr, big, half));   /* exactly at the bound */
    assert_false(cluster_peer_send(a, "mute", addr, big, 1));     /* one byte past it */
    /* The bound is per node: another node still gets frames queued. */
    assert_true(cluster_peer_send(a, "other", addr, big, 1));
    free(big);
    cluster__test_free(a);
    close(lfd);
}

/* b stops (its connection drops: a hears on_lost) and starts again on the same
 * port: the next frame from a dials anew and arrives. */
static void test_redial_after_restart(void **state)
{
    seen sa, sb;
    seen_init(&sa);
    seen_init(&sb);
    cluster *a = node_new("node-a", "the-secret", 0, &sa);
    cluster *b = node_new("node-b", "the-secret", 0, &sb);
    char addr_b[CLUSTER_ADDR_MAX];
    snprintf(addr_b, sizeof addr_b, "%s", cluster__peer_advertise(b));
    assert_true(cluster_peer_send(a, "node-b", addr_b, "one", 3));
    assert_true(seen_wait(&sb, 1, 0));
    assert_int_equal(sa.lost, 0);

    cluster__test_free(b);
    assert_true(seen_wait(&sa, 0, 1));
    assert_string_equal(sa.lost_node, "node-b");

    seen sb2;
    seen_init(&sb2);
    b = node_new("node-b", "the-secret", port_of(addr_b), &sb2);
    assert_string_equal(cluster__peer_advertise(b), addr_b);
    assert_true(cluster_peer_send(a, "node-b", addr_b, "two", 3));
    assert_true(cluster_peer_send(a, "node-b", addr_b, "three", 5));
    assert_true(seen_wait(&sb2, 2, 0));
    assert_memory_equal(sb2.frames[0].b, "two", 3);
    assert_memory_equal(sb2.frames[1].b, "three", 5);
    assert_int_equal(sa.lost, 1);

    /* A dial to a port where nobody listens fails: on_lost, and the send after it
     * dials again (and fails again) rather than sticking. */
    assert_true(cluster_peer_send(a, "node-c", "127.0.0.1:1", "x", 1));
    assert_true(seen_wait(&sa, 0, 2));
    assert_string_equal(sa.lost_node, "node-c");
    assert_true(cluster_peer_send(a, "node-c", "127.0.0.1:1", "x", 1));
    assert_true(seen_wait(&sa, 0, 3));

    cluster__test_free(a);
    cluster__test_free(b);
    seen_fini(&sa);
    seen_fini(&sb);
    seen_fini(&sb2);
}

/* A node with the wrong id at the dialled address is refused (frames meant for
 * one node never reach another), and so is one claiming our own id. */
static void test_wrong_node_refused(void **state)
{
    seen sa, sb;
    seen_init(&sa);
    seen_init(&sb);
    cluster *a = node_new("node-a", "the-secret", 0, &sa);
    cluster *b = node_new("node-b", "the-secret", 0, &sb);
    char addr_b[CLUSTER_ADDR_MAX];
    snprintf(addr_b, sizeof addr_b, "%s", cluster__peer_advertise(b));
    assert_true(cluster_peer_send(a, "node-x", addr_b, "hi", 2));
    assert_true(seen_wait(&sa, 0, 1));
    assert_string_equal(sa.lost_node, "node-x");
    cluster *b2 = node_new("node-b", "the-secret", 0, NULL);
    assert_true(cluster_peer_send(b2, "node-b", addr_b, "hi", 2));
    cluster__test_free(b2);
    assert_true(cluster_peer_send(a, "node-b", addr_b, "ok", 2));
    assert_true(seen_wait(&sb, 1, 0));
    assert_memory_equal(sb.frames[0].b, "ok", 2);
    assert_int_equal(sb.frame_count, 1);
    cluster__test_free(a);
    cluster__test_free(b);
    seen_fini(&sa);
    seen_fini(&sb);
}

/* A frame reaching a node that has no on_frame yet (just started) closes the
 * connection: the sender hears on_lost at once instead of waiting forever. */
static void test_frame_before_ready(void **state)
{
    seen sa;
    seen_init(&sa);
    cluster *a = node_new("node-a", "the-secret", 0, &sa);
    cluster *b = node_new("node-b", "the-secret", 0, NULL);
    char addr_b[CLUSTER_ADDR_MAX];
    snprintf(addr_b, sizeof addr_b, "%s", cluster__peer_advertise(b));
    assert_true(cluster_peer_send(a, "node-b", addr_b, "early", 5));
    assert_true(seen_wait(&sa, 0, 1));
    assert_string_equal(sa.lost_node, "node-b");
    cluster__test_free(a);
    cluster__test_free(b);
    seen_fini(&sa);
}

static void test_bad_options(void **state)
{
    err e = {0};
    cluster_opts o = {.node_id = "n1", .listen_ip = "127.0.0.1"};
    assert_null(cluster__test_new(&o, &e));
    assert_non_null(strstr(e.msg, "secret is required"));
    o.secret = "s";
    o.listen_ip = "not-an-ip";
    assert_null(cluster__test_new(&o, &e));
    assert_non_null(strstr(e.msg, "not an IP address"));
    o.listen_ip = "127.0.0.1";
    o.node_id = "bad id";
    assert_null(cluster__test_new(&o, &e));
    o.node_id = "n1";
    o.advertise = "10.0.0.5:7000";
    cluster *c = cluster__test_new(&o, &e);
    assert_non_null(c);
    assert_string_equal(cluster__peer_advertise(c), "10.0.0.5:7000");
    cluster__test_free(c);
}

int main(void)
{
    log_setup(LOG_INFO, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_both_ways_in_order),
        cmocka_unit_test(test_wrong_secret_refused),
        cmocka_unit_test(test_oversize_frame),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_redial_after_restart),
        cmocka_unit_test(test_wrong_node_refused),
        cmocka_unit_test(test_frame_before_ready),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
