/* h1_server.c: the listening side of a shard's HTTP/1.1 server.
 *
 * Owns: the listening socket, the list of connections, the in-flight count and the
 * cached Date header value.
 *
 * The socket is made by hand (socket, SO_REUSEADDR + SO_REUSEPORT, bind, listen) and
 * then given to libuv with uv_tcp_open, because uv_tcp_bind cannot set SO_REUSEPORT
 * before bind: that option is what lets every shard listen on the same port and the
 * kernel spread connections between them. SO_REUSEPORT would also let a second
 * process (same user) join the group silently and take half the connections, so
 * the server first claims the port with h1_server_port_check: a probe socket
 * without SO_REUSEPORT, which cannot bind while anyone listens there. (What is
 * left is the instant between the probe and the first shard's bind, when two
 * processes starting together could both pass.)
 *
 * Lifetime: the server is freed (and done() called) once h1_server_close was called,
 * the listener's close callback ran, and no conn is left in its list. A conn whose
 * handler still holds it when the server closes is detached first (see h1_conn.c). */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "net/internal.h"

#define LISTEN_BACKLOG 1024

static void on_listener_closed(uv_handle_t *h)
{
    h1_server *s = h->data;
    s->listener_closed = true;
    h1__server_maybe_free(s);
}

static void on_connection(uv_stream_t *listener, int status)
{
    h1_server *s = listener->data;
    if (status < 0) {
        log_warn("h1: accept on port %d failed: %s", s->port, uv_strerror(status));
        return;
    }
    if (s->stopping || s->closing)
        return;
    h1__conn_accept(s);
}

/* Makes the bound socket, listening and shared through SO_REUSEPORT unless it is
 * the probe of h1_server_port_check; returns the fd or a negative errno. */
static int listen_socket(const struct sockaddr *sa, socklen_t sa_len, bool probe)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    /* SO_REUSEADDR on the probe too: connections of an earlier run still in
     * TIME_WAIT do not make the port busy, a listener does. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (!probe && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0))
        goto fail;
    /* [::] then listens on IPv6 only, so it can sit beside 0.0.0.0 on the same port. */
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        goto fail;
    if (bind(fd, sa, sa_len) < 0 || (!probe && listen(fd, LISTEN_BACKLOG) < 0))
        goto fail;
    return fd;
fail:;
    int rc = -errno;
    close(fd);
    return rc;
}

static int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Fills *ss from an address literal and a port; 0, or -1 if ip is not one. */
static int sockaddr_of(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) == 0) {
        *len = sizeof(struct sockaddr_in);
        return 0;
    }
    if (uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss) == 0) {
        *len = sizeof(struct sockaddr_in6);
        return 0;
    }
    return -1;
}

int h1_server_port_check(const char *ip, int port, int *bound, err *e)
{
    assert(ip && bound);
    if (port < 0 || port > 65535)
        return err_setf(e, DUR_EINVAL, "%s:%d: port must be 0..65535", ip, port);
    struct sockaddr_storage ss;
    socklen_t ss_len;
    if (sockaddr_of(ip, port, &ss, &ss_len) < 0)
        return err_setf(e, DUR_EINVAL, "%s:%d: not an IPv4 or IPv6 address literal", ip, port);
    int fd = listen_socket((struct sockaddr *)&ss, ss_len, true);
    if (fd == -EADDRINUSE)
        return err_setf(e, fd, "port %d is in use (another process listens on %s:%d); stop it "
                        "or choose another port with --port", port, ip, port);
    if (fd < 0)
        return err_setf(e, fd, "%s:%d: %s", ip, port, strerror(-fd));
    int p = local_port(fd);
    close(fd);
    if (p < 0)
        return err_setf(e, p, "%s:%d: getsockname: %s", ip, port, strerror(-p));
    *bound = p;
    return 0;
}

/* "127.0.0.1:8787" or "[::1]:8787": what an HTTP/1.0 request without Host is
 * taken to have asked for. */
static void listen_authority(h1_server *s, const char *ip)
{
    bool v6 = strchr(ip, ':') != NULL;
    snprintf(s->authority, sizeof s->authority, "%s%s%s:%d", v6 ? "[" : "", ip, v6 ? "]" : "",
             s->port);
}

int h1_server_open(uv_loop_t *loop, const char *ip, int port, const h1_limits *limits,
                   h1_request_cb on_request, void *ud, h1_server **out, err *e)
{
    assert(loop && ip && on_request && out);
    *out = NULL;
    if (port < 0 || port > 65535)
        return err_setf(e, DUR_EINVAL, "%s:%d: port must be 0..65535", ip, port);
    h1_limits lim;
    if (limits)
        lim = *limits;
    else
        h1_limits_default(&lim);
    if (lim.head_bytes_max == 0 || lim.head_timeout_ms == 0 || lim.idle_timeout_ms == 0 ||
        lim.body_timeout_ms == 0)
        return err_setf(e, DUR_EINVAL,
                        "%s:%d: head_bytes_max, head_timeout_ms, idle_timeout_ms and "
                        "body_timeout_ms must be positive",
                        ip, port);

    struct sockaddr_storage ss;
    socklen_t ss_len;
    if (sockaddr_of(ip, port, &ss, &ss_len) < 0)
        return err_setf(e, DUR_EINVAL, "%s:%d: not an IPv4 or IPv6 address literal", ip, port);
    int fd = listen_socket((struct sockaddr *)&ss, ss_len, false);
    if (fd < 0)
        return err_setf(e, fd, "%s:%d: %s", ip, port, strerror(-fd));
    int bound = local_port(fd);
    if (bound < 0) {
        close(fd);
        return err_setf(e, bound, "%s:%d: getsockname: %s", ip, port, strerror(-bound));
    }

    h1_server *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return err_setf(e, DUR_ENOMEM, "%s:%d: out of memory", ip, port);
    }
    s->loop = loop;
    s->lim = lim;
    s->on_request = on_request;
    s->ud = ud;
    s->port = bound;
    listen_authority(s, ip);
    int rc = uv_tcp_init(loop, &s->listener);
    if (rc < 0) {
        close(fd);
        free(s);
        return err_setf(e, rc, "%s:%d: %s", ip, port, uv_strerror(rc));
    }
    s->listener.data = s;
    s->listener_open = true;
    rc = uv_tcp_open(&s->listener, fd);
    if (rc < 0)
        close(fd); /* not adopted by the handle */
    else
        rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
    if (rc < 0) {
        /* The handle exists now: it can only go through uv_close, which frees s. */
        s->closing = true;
        s->listener_open = false;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return err_setf(e, rc, "%s:%d: %s", ip, port, uv_strerror(rc));
    }
    *out = s;
    return 0;
}

int h1_server_port(const h1_server *s)
{
    return s->port;
}

size_t h1_server_inflight(const h1_server *s)
{
    return s->inflight;
}

static void close_listener(h1_server *s)
{
    if (!s->listener_open)
        return;
    s->listener_open = false;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

void h1_server_stop_accepting(h1_server *s)
{
    if (s->stopping || s->closing)
        return;
    s->stopping = true;
    close_listener(s);
    /* h1__conn_stop may unlink nothing synchronously (closing is asynchronous), but
     * keep the next pointer anyway so the walk never depends on that. */
    for (h1_conn *c = s->conns, *next; c; c = next) {
        next = h1__conn_next(c);
        h1__conn_stop(c);
    }
}

void h1_server_close(h1_server *s, void (*done)(void *arg), void *arg)
{
    assert(!s->closing);
    s->closing = true;
    s->stopping = true;
    s->done = done;
    s->done_arg = arg;
    close_listener(s);
    for (h1_conn *c = s->conns, *next; c; c = next) {
        next = h1__conn_next(c);
        h1__conn_server_close(c); /* may unlink c (detach) */
    }
    h1__flush_close(s);
    h1__server_maybe_free(s);
}

void h1__server_maybe_free(h1_server *s)
{
    if (!s->closing || !s->listener_closed || s->conns || s->flush_handles)
        return;
    void (*done)(void *) = s->done;
    void *arg = s->done_arg;
    free(s);
    if (done)
        done(arg);
}

static const char wday_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate by hand: strftime's %a/%b follow the locale, HTTP's do not. */
const char *h1__server_date(h1_server *s)
{
    time_t now = time(NULL);
    if (now == s->date_sec && s->date[0])
        return s->date;
    struct tm tm;
    if (!gmtime_r(&now, &tm))
        return s->date[0] ? s->date : "Thu, 01 Jan 1970 00:00:00 GMT";
    char *p = s->date;
    memcpy(p, wday_names[tm.tm_wday % 7], 3);
    p[3] = ',';
    p[4] = ' ';
    p[5] = (char)('0' + tm.tm_mday / 10);
    p[6] = (char)('0' + tm.tm_mday % 10);
    p[7] = ' ';
    memcpy(p + 8, month_names[tm.tm_mon % 12], 3);
    p[11] = ' ';
    int year = tm.tm_year + 1900;
    p[12] = (char)('0' + (year / 1000) % 10);
    p[13] = (char)('0' + (year / 100) % 10);
    p[14] = (char)('0' + (year / 10) % 10);
    p[15] = (char)('0' + year % 10);
    p[16] = ' ';
    p[17] = (char)('0' + tm.tm_hour / 10);
    p[18] = (char)('0' + tm.tm_hour % 10);
    p[19] = ':';
    p[20] = (char)('0' + tm.tm_min / 10);
    p[21] = (char)('0' + tm.tm_min % 10);
    p[22] = ':';
    p[23] = (char)('0' + tm.tm_sec / 10);
    p[24] = (char)('0' + tm.tm_sec % 10);
    memcpy(p + 25, " GMT", 5);
    _Static_assert(sizeof s->date >= 30, "Date value is 29 chars + NUL");
    s->date_sec = now;
    return s->date;
}
