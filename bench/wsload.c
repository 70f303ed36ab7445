/* wsload.c: the WebSocket load generator of bench/ (built by bench/run into
 * bench/.bin/wsload with the system cc; not part of durable). One thread, epoll,
 * non-blocking sockets, a minimal RFC 6455 client: masked text frames out,
 * unmasked frames in (any length; ping, pong and close are counted, not answered).
 *
 *   wsload fanout PORT PATH CLIENTS SECONDS MAX_MSGS INFLIGHT
 *     Opens CLIENTS sockets to one room, then each client keeps at most INFLIGHT of
 *     its own messages in the air: it sends "<client> <seq> <t_ns>" and sends the next
 *     when its own message comes back (the room broadcasts to every socket, the sender
 *     included). Stops sending after SECONDS or MAX_MSGS messages sent in all, then
 *     waits at most 2 s for those in the air. Every received message is a delivery;
 *     its latency is now - t_ns (CLOCK_MONOTONIC, same process). Prints one line:
 *       sent=N delivered=N seconds=S delivered_per_s=X p50_us=X p99_us=X max_us=X
 *       lost=N errors=N
 *
 *   wsload hold PORT PATH N SECONDS
 *     Opens N sockets (at most 256 handshakes at a time), prints "open N" once all
 *     are upgraded, then keeps them open until stdin closes or SECONDS pass, and
 *     closes them (Close frame 1000, then the socket). Exits 1 if a socket fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (256 * 1024)
#define OUT_CAP (64 * 1024)
#define HIST_US 10000000 /* latency histogram: 1 µs buckets up to 10 s */

typedef struct {
    int fd;
    int id;
    int upgraded;   /* 0 handshake pending, 1 open, -1 failed/closed */
    int inflight;
    uint64_t seq;
    size_t in_len, out_len;
    unsigned char *in, *out;
} conn;

static uint32_t *hist;
static uint64_t hist_over;
static uint64_t delivered, sent, errors, max_ns;
static int efd;
static unsigned short port;
static const char *path;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static int flush_out(conn *c)
{
    while (c->out_len > 0) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -1;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(efd, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

static int queue(conn *c, const void *p, size_t n)
{
    if (c->out_len + n > OUT_CAP)
        return -1;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

static int send_frame(conn *c, int opcode, const char *payload, size_t len)
{
    unsigned char h[14];
    size_t hl = 0;
    h[hl++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[hl++] = (unsigned char)(0x80 | len);
    } else {
        h[hl++] = 0x80 | 126;
        h[hl++] = (unsigned char)(len >> 8);
        h[hl++] = (unsigned char)len;
    }
    unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(h + hl, mask, 4);
    hl += 4;
    unsigned char buf[512];
    if (len > sizeof buf)
        return -1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)payload[i] ^ mask[i & 3];
    if (queue(c, h, hl) < 0 || queue(c, buf, len) < 0)
        return -1;
    return flush_out(c);
}

static int send_msg(conn *c)
{
    char p[96];
    int n = snprintf(p, sizeof p, "%d %llu %llu", c->id, (unsigned long long)c->seq++,
                     (unsigned long long)now_ns());
    c->inflight++;
    sent++;
    return send_frame(c, 1, p, (size_t)n);
}

static conn *open_conn(int id)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        die("calloc");
    c->id = id;
    c->in = malloc(IN_CAP);
    c->out = malloc(OUT_CAP);
    if (!c->in || !c->out)
        die("malloc");
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
        die("connect");
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, port);
    queue(c, req, (size_t)n);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(efd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl");
    return c;
}

static void on_message(conn *c, conn **all, const unsigned char *p, size_t len)
{
    uint64_t t = now_ns();
    char s[96];
    if (len >= sizeof s) {
        errors++;
        return;
    }
    memcpy(s, p, len);
    s[len] = 0;
    int id;
    unsigned long long seq, ts;
    if (sscanf(s, "%d %llu %llu", &id, &seq, &ts) != 3) {
        errors++;
        return;
    }
    delivered++;
    uint64_t lat = t > ts ? t - ts : 0;
    if (lat > max_ns)
        max_ns = lat;
    if (hist) {
        if (lat / 1000 < HIST_US)
            hist[lat / 1000]++;
        else
            hist_over++;
    }
    if (id == c->id && all)
        c->inflight--;
}

/* Reads what the socket has; returns -1 when it is closed or broken. */
static int on_readable(conn *c, conn **all)
{
    for (;;) {
        if (c->in_len == IN_CAP)
            return -1;
        ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -1;
        }
        c->in_len += (size_t)n;
    }
    size_t off = 0;
    if (!c->upgraded) {
        unsigned char *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!e)
            return 0;
        if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "wsload: no 101: %.*s\n", (int)(c->in_len < 200 ? c->in_len : 200),
                    c->in);
            return -1;
        }
        c->upgraded = 1;
        off = (size_t)(e - c->in) + 4;
    }
    for (;;) {
        size_t avail = c->in_len - off;
        if (avail < 2)
            break;
        const unsigned char *h = c->in + off;
        size_t len = h[1] & 0x7f, hl = 2;
        if (h[1] & 0x80)
            return -1; /* server frames are never masked */
        if (len == 126) {
            if (avail < 4)
                break;
            len = (size_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | h[2 + i];
            hl = 10;
        }
        if (len > IN_CAP - 16)
            return -1;
        if (avail < hl + len)
            break;
        int op = h[0] & 0x0f;
        if (op == 1 || op == 2)
            on_message(c, all, h + hl, len);
        else if (op == 8)
            return -1;
        off += hl + len;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return 0;
}

static void run_until_open(int n)
{
    int open = 0;
    struct epoll_event evs[256];
    uint64_t deadline = now_ns() + 30000000000ull;
    while (open < n) {
        if (now_ns() > deadline) {
            fprintf(stderr, "wsload: %d of %d sockets open after 30 s\n", open, n);
            exit(1);
        }
        int k = epoll_wait(efd, evs, 256, 100);
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT && flush_out(c) < 0) {
                fprintf(stderr, "wsload: connect to port %u failed\n", port);
                exit(1);
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                int was = c->upgraded;
                if (on_readable(c, NULL) < 0) {
                    fprintf(stderr, "wsload: socket %d closed during the handshake\n", c->id);
                    exit(1);
                }
                if (!was && c->upgraded)
                    open++;
            }
        }
    }
}

static int fanout(int clients, double seconds, uint64_t max_msgs, int inflight)
{
    hist = calloc(HIST_US, sizeof *hist);
    if (!hist)
        die("calloc");
    conn **cs = calloc((size_t)clients, sizeof *cs);
    for (int i = 0; i < clients; i++)
        cs[i] = open_conn(i);
    run_until_open(clients);
    delivered = 0;
    uint64_t t0 = now_ns(), stop_send = t0 + (uint64_t)(seconds * 1e9), stop_all = stop_send + 2000000000ull;
    int sending = 1;
    for (int i = 0; i < clients; i++)
        for (int j = 0; j < inflight && sent < max_msgs; j++)
            if (send_msg(cs[i]) < 0)
                errors++;
    struct epoll_event evs[256];
    uint64_t t_end = t0;
    for (;;) {
        uint64_t t = now_ns();
        if (sending && (t >= stop_send || sent >= max_msgs))
            sending = 0;
        if (!sending) {
            int left = 0;
            for (int i = 0; i < clients; i++)
                left += cs[i]->inflight;
            if (left == 0 || t >= stop_all)
                break;
        }
        int k = epoll_wait(efd, evs, 256, 50);
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (c->upgraded < 0)
                continue;
            if (evs[i].events & EPOLLOUT && flush_out(c) < 0) {
                errors++;
                c->upgraded = -1;
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                if (on_readable(c, cs) < 0) {
                    errors++;
                    c->upgraded = -1;
                    epoll_ctl(efd, EPOLL_CTL_DEL, c->fd, NULL);
                    continue;
                }
                while (sending && c->inflight < inflight && sent < max_msgs)
                    if (send_msg(c) < 0) {
                        errors++;
                        break;
                    }
            }
        }
        t_end = now_ns();
    }
    /* The window is from the first send to the last delivery (or the drain's end). */
    double secs = (double)(t_end - t0) / 1e9;
    uint64_t lost = 0;
    for (int i = 0; i < clients; i++)
        lost += (uint64_t)(cs[i]->inflight > 0 ? cs[i]->inflight : 0);
    uint64_t p50 = 0, p99 = 0, acc = 0, want50 = (delivered + 1) / 2,
             want99 = (uint64_t)((double)delivered * 0.99 + 0.999);
    for (uint64_t b = 0; b < HIST_US && (p50 == 0 || p99 == 0); b++) {
        acc += hist[b];
        if (!p50 && acc >= want50 && want50)
            p50 = b + 1;
        if (!p99 && acc >= want99 && want99)
            p99 = b + 1;
    }
    if (want99 && !p99)
        p99 = HIST_US;
    printf("sent=%llu delivered=%llu seconds=%.3f delivered_per_s=%.0f p50_us=%llu p99_us=%llu "
           "max_us=%llu lost=%llu errors=%llu\n",
           (unsigned long long)sent, (unsigned long long)delivered, secs,
           secs > 0 ? (double)delivered / secs : 0.0, (unsigned long long)p50,
           (unsigned long long)p99, (unsigned long long)(max_ns / 1000), (unsigned long long)lost,
           (unsigned long long)errors);
    for (int i = 0; i < clients; i++)
        close(cs[i]->fd);
    return errors ? 1 : 0;
}

static int hold(int n, double seconds)
{
    conn **cs = calloc((size_t)n, sizeof *cs);
    int opened = 0;
    while (opened < n) { /* at most 256 handshakes at a time */
        int batch = n - opened < 256 ? n - opened : 256;
        for (int i = 0; i < batch; i++)
            cs[opened + i] = open_conn(opened + i);
        run_until_open(batch);
        opened += batch;
    }
    printf("open %d\n", n);
    fflush(stdout);
    uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
    struct epoll_event in = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(efd, EPOLL_CTL_ADD, 0, &in);
    struct epoll_event evs[256];
    int failed = 0;
    while (now_ns() < deadline) {
        int k = epoll_wait(efd, evs, 256, 100), quit = 0;
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                char b[64];
                if (read(0, b, sizeof b) <= 0)
                    quit = 1;
                continue;
            }
            if (c->upgraded > 0 && on_readable(c, NULL) < 0) {
                fprintf(stderr, "wsload: socket %d closed by the server\n", c->id);
                c->upgraded = -1;
                epoll_ctl(efd, EPOLL_CTL_DEL, c->fd, NULL);
                failed = 1;
            }
        }
        if (quit)
            break;
    }
    for (int i = 0; i < n; i++) {
        if (cs[i]->upgraded > 0) {
            send_frame(cs[i], 8, "\x03\xe8", 2);
        }
        close(cs[i]->fd);
    }
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: wsload fanout PORT PATH CLIENTS SECONDS MAX_MSGS INFLIGHT\n"
                        "       wsload hold PORT PATH N SECONDS\n");
        return 2;
    }
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    port = (unsigned short)atoi(argv[2]);
    path = argv[3];
    efd = epoll_create1(0);
    if (efd < 0)
        die("epoll_create1");
    if (strcmp(argv[1], "fanout") == 0 && argc == 8)
        return fanout(atoi(argv[4]), atof(argv[5]), strtoull(argv[6], NULL, 10), atoi(argv[7]));
    if (strcmp(argv[1], "hold") == 0 && argc == 6)
        return hold(atoi(argv[4]), atof(argv[5]));
    fprintf(stderr, "wsload: bad arguments\n");
    return 2;
}
