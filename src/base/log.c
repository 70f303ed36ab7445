/* log.c: line-at-a-time logging to stderr (see log.h). The settings are written
 * once before any shard thread starts and only read afterwards. */
#include "base/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_level g_min = LOG_INFO;
static bool g_color = false;
static log_format g_format = LOG_TEXT;

void log_setup(log_level min, bool color)
{
    g_min = min;
    const char *f = getenv("DURABLE_LOG_FORMAT");
    if (f && strcmp(f, "json") == 0)
        g_format = LOG_JSON;
    else if (f && strcmp(f, "text") == 0)
        g_format = LOG_TEXT;
    else
        g_format = isatty(STDERR_FILENO) ? LOG_TEXT : LOG_JSON;
    g_color = color && g_format == LOG_TEXT;
}

bool log_color(void)
{
    return g_color;
}

log_format log_get_format(void)
{
    return g_format;
}

bool log_enabled(log_level lvl)
{
    return lvl >= g_min;
}

const char *log_c(const char *ansi)
{
    return g_color ? ansi : "";
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Length of the valid UTF-8 character at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

size_t log_json_escape(char *out, size_t cap, size_t *at, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = *at;
    for (size_t i = 0; i < len;) {
        char tmp[8];
        const char *piece = tmp;
        size_t plen, step = 1;
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            plen = 2;
        } else if (c == '\n') {
            piece = "\\n"; plen = 2;
        } else if (c == '\r') {
            piece = "\\r"; plen = 2;
        } else if (c == '\t') {
            piece = "\\t"; plen = 2;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            plen = 6;
        } else if (c < 0x80) {
            tmp[0] = (char)c;
            plen = 1;
        } else if ((step = utf8_len(p + i, len - i)) == 0) {
            piece = "\\ufffd";
            plen = 6;
            step = 1;
        } else {
            piece = (const char *)p + i;
            plen = step;
        }
        if (o + plen >= cap) {
            *at = o;
            return i;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        i += step;
    }
    *at = o;
    return len;
}

#define MARK "..."

static void write_line(char *line, size_t n)
{
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;   /* nothing sensible to do if stderr is gone */
}

/* JSON: {"time","level","msg",fields…}. The fields go first into their own room
 * (each string at most a quarter of the line), then the message gets what is
 * left; a cut message ends in "..." and the line says "truncated":true. */
static void json_line(log_level lvl, const log_field *f, size_t nf, const char *msg, size_t mlen,
                      bool cut)
{
    char line[LOG_LINE_BYTES_MAX + 1];
    char tail[LOG_LINE_BYTES_MAX / 2];
    size_t t = 0;
    for (size_t i = 0; i < nf; i++) {
        size_t before = t;
        int k = snprintf(tail + t, sizeof tail - t, ",\"%s\":", f[i].key);
        if (k < 0 || (size_t)k >= sizeof tail - t)
            break;
        t += (size_t)k;
        if (f[i].str) {
            size_t len = f[i].len == SIZE_MAX ? strlen(f[i].str) : f[i].len;
            size_t room = t + sizeof tail / 4 < sizeof tail - 8 ? t + sizeof tail / 4
                                                                : sizeof tail - 8;
            tail[t++] = '"';
            if (log_json_escape(tail, room, &t, f[i].str, len) < len) {
                memcpy(tail + t, MARK, 3);
                t += 3;
            }
            tail[t++] = '"';
        } else {
            double v = isfinite(f[i].num) ? f[i].num : 0;
            k = (v == (double)(int64_t)v && fabs(v) < 1e15)
                    ? snprintf(tail + t, sizeof tail - t, "%lld", (long long)v)
                    : snprintf(tail + t, sizeof tail - t, "%.3f", v);
            if (k < 0 || (size_t)k >= sizeof tail - t) {
                t = before;
                break;
            }
            t += (size_t)k;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int k = snprintf(line, sizeof line,
                     "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
                     "\"msg\":\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl]);
    size_t n = k > 0 ? (size_t)k : 0;
    /* Room kept for: MARK, the closing quote, the fields, ",\"truncated\":true}", '\n'. */
    size_t room = sizeof line - 1 - t - 3 - 1 - 18 - 1;
    if (log_json_escape(line, room, &n, msg, mlen) < mlen)
        cut = true;
    if (cut) {
        memcpy(line + n, MARK, 3);
        n += 3;
    }
    line[n++] = '"';
    memcpy(line + n, tail, t);
    n += t;
    if (cut) {
        memcpy(line + n, ",\"truncated\":true", 17);
        n += 17;
    }
    line[n++] = '}';
    write_line(line, n);
}

static void text_line(log_level lvl, const char *msg, size_t mlen, bool cut)
{
    static const char *const colors[] = {"\033[2m", "", "\033[33m", "\033[31m"};
    char line[LOG_LINE_BYTES_MAX + 1];
    size_t n = 0;
    if (lvl != LOG_INFO) {
        int k = snprintf(line, sizeof line, "%s%s%s: ", g_color ? colors[lvl] : "",
                         level_names[lvl], g_color ? "\033[0m" : "");
        n = k > 0 ? (size_t)k : 0;
    }
    size_t room = sizeof line - 1 - n - 3;
    if (mlen > room) {
        mlen = room;
        cut = true;
    }
    memcpy(line + n, msg, mlen);
    n += mlen;
    if (cut) {   /* long line: mark the cut rather than hide it */
        memcpy(line + n, MARK, 3);
        n += 3;
    }
    write_line(line, n);
}

static void vlog(log_level lvl, const log_field *f, size_t nf, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_BYTES_MAX];
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    size_t mlen = k < 0 ? 0 : (size_t)k;
    bool cut = false;
    if (mlen >= sizeof msg) {
        mlen = sizeof msg - 1;
        cut = true;
    }
    if (g_format == LOG_JSON)
        json_line(lvl, f, nf, msg, mlen, cut);
    else
        text_line(lvl, msg, mlen, cut);
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    if (lvl < g_min)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_fields(log_level lvl, const log_field *f, size_t n, const char *fmt, ...)
{
    if (lvl < g_min)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, f, n, fmt, ap);
    va_end(ap);
}
