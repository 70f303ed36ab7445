/* h1_target.c: the one place a request's absolute URL is made (request.url).
 *
 * From the request target, the Host header and the listen address:
 *   origin-form    "/p?q"           http:// + Host + "/p?q"
 *   absolute-form  "http://a/p?q"   the target's own scheme and authority win over
 *                                   Host (RFC 9112 §3.2.2); Host must still be valid
 *   asterisk-form  "*" (OPTIONS)    http:// + Host + "/"
 * Anything else (authority-form, a relative path) is a 400.
 *
 * Host (RFC 9112 §3.2, RFC 3986 §3.2.2): an HTTP/1.1 request must carry exactly one
 * valid Host; HTTP/1.0 may leave it out and then gets the listen address. A valid
 * authority is `host [":" port]` where host is an IPv6 literal in brackets, a
 * dotted-quad IPv4 address or a reg-name of unreserved and sub-delim characters. Two
 * narrowings keep request.url parseable by the WHATWG URL parser the Worker uses:
 * no percent-encoding in a reg-name, and a name whose last label is a number must be
 * a dotted-quad IPv4 address (WHATWG reads "1.2.3.999" or "0x7f.1" as IPv4).
 * The port is at most 65535.
 *
 * The URL is lightly normalised as WHATWG would: the scheme and host in lower case,
 * an empty or default port dropped, a port without leading zeros. The path and query
 * are passed through as received. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "net/internal.h"

static bool is_unreserved_or_sub_delim(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch && strchr("-._~!$&'()*+,;=", ch) != NULL;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* RFC 3986 IPv4address: four dec-octets 0..255 without leading zeros. */
static bool ipv4_valid(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t len = i - start;
        if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
            return false;
    }
    return i == n;
}

/* WHATWG's "ends in a number": the last label (a trailing dot ignored) is all
 * digits or 0x-hex, so the URL parser would take the whole name for IPv4. */
static bool ends_in_number(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    size_t start = n;
    while (start > 0 && s[start - 1] != '.')
        start--;
    const char *l = s + start;
    size_t len = n - start;
    if (all_digits(l, len))
        return true;
    if (len < 2 || l[0] != '0' || (l[1] != 'x' && l[1] != 'X'))
        return false;
    for (size_t i = 2; i < len; i++)
        if (!strchr("0123456789abcdefABCDEF", l[i]))
            return false;
    return true;
}

static bool ipv6_literal_valid(const char *s, size_t n)
{
    /* s is "[...]". IPvFuture and zone ids are refused (WHATWG refuses them). */
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n < 4 || n - 2 >= sizeof tmp)
        return false;
    memcpy(tmp, s + 1, n - 2);
    tmp[n - 2] = '\0';
    unsigned char addr[16];
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

int h1__authority_parse(const char *s, size_t n, h1_authority *out)
{
    size_t host_len;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        host_len = (size_t)(close - s) + 1;
        if (!ipv6_literal_valid(s, host_len))
            return -1;
    } else {
        host_len = 0;
        while (host_len < n && s[host_len] != ':') {
            if (!is_unreserved_or_sub_delim((unsigned char)s[host_len]))
                return -1;
            host_len++;
        }
        if (host_len == 0)
            return -1; /* "http" URIs need a host (RFC 9110 §4.2.1) */
        if (ends_in_number(s, host_len) && !ipv4_valid(s, host_len))
            return -1;
    }
    out->host = s;
    out->host_len = host_len;
    out->port = -1;
    if (host_len == n)
        return 0;
    if (s[host_len] != ':')
        return -1;
    const char *p = s + host_len + 1;
    size_t plen = n - host_len - 1;
    if (plen == 0)
        return 0; /* "host:" is allowed and means no port */
    if (!all_digits(p, plen))
        return -1;
    long port = 0;
    for (size_t i = 0; i < plen; i++) {
        port = port * 10 + (p[i] - '0');
        if (port > 65535)
            return -1;
    }
    out->port = (int)port;
    return 0;
}

/* Appends scheme "://" authority (lower-cased host, port unless default) to out. */
static int put_origin(buf *out, bool https, const h1_authority *a)
{
    int rc = buf_append_str(out, https ? "https://" : "http://");
    if (rc < 0)
        return rc;
    if ((rc = buf_reserve(out, a->host_len)) < 0)
        return rc;
    for (size_t i = 0; i < a->host_len; i++) {
        char ch = a->host[i];
        out->ptr[out->len++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    if (a->port >= 0 && a->port != (https ? 443 : 80))
        rc = buf_printf(out, ":%d", a->port);
    return rc;
}

/* Where the scheme "://" of an absolute-form target ends, 0 if it is not one we
 * serve (http or https, any case); *https says which. */
static size_t absolute_prefix(const char *t, size_t n, bool *https)
{
    if (n >= 7 && strncasecmp(t, "http://", 7) == 0) {
        *https = false;
        return 7;
    }
    if (n >= 8 && strncasecmp(t, "https://", 8) == 0) {
        *https = true;
        return 8;
    }
    return 0;
}

int h1__url_build(const h1_url_in *in, buf *out, const char **why)
{
    buf_reset(out);
    h1_authority host_auth;
    if (in->host_count > 1) {
        *why = "more than one Host header";
        return 400;
    }
    if (in->host_count == 1 && h1__authority_parse(in->host, in->host_len, &host_auth) < 0) {
        *why = "invalid Host header";
        return 400;
    }
    if (in->host_count == 0 && in->http_minor >= 1) {
        *why = "an HTTP/1.1 request needs a Host header";
        return 400;
    }
    if (in->host_count == 0) { /* HTTP/1.0: the address the server listens on */
        const char *d = in->default_authority && *in->default_authority ? in->default_authority
                                                                         : "localhost";
        if (h1__authority_parse(d, strlen(d), &host_auth) < 0) {
            *why = "the server's listen address is not a valid authority";
            return 500;
        }
    }

    const char *t = in->target;
    size_t n = in->target_len;
    bool https = false;
    size_t pre = absolute_prefix(t, n, &https);
    int rc;
    if (pre) {
        size_t end = pre;
        while (end < n && t[end] != '/' && t[end] != '?' && t[end] != '#')
            end++;
        h1_authority a;
        if (memchr(t + pre, '@', end - pre)) {
            *why = "a request target with user information";
            return 400;
        }
        if (h1__authority_parse(t + pre, end - pre, &a) < 0) {
            *why = "invalid host in the request target";
            return 400;
        }
        rc = put_origin(out, https, &a);
        if (rc == 0 && (end == n || t[end] != '/'))
            rc = buf_append(out, "/", 1);
        if (rc == 0)
            rc = buf_append(out, t + end, n - end);
    } else if (n > 0 && t[0] == '/') {
        rc = put_origin(out, false, &host_auth);
        if (rc == 0)
            rc = buf_append(out, t, n);
    } else if (n == 1 && t[0] == '*' && in->is_options) {
        rc = put_origin(out, false, &host_auth);
        if (rc == 0)
            rc = buf_append(out, "/", 1);
    } else {
        *why = "invalid request target";
        return 400;
    }
    if (rc < 0) {
        *why = rc == DUR_ETOOBIG ? "request URL too long" : "out of memory building the URL";
        return rc == DUR_ETOOBIG ? 414 : 500;
    }
    return 0; /* the last append left a NUL after the bytes */
}
