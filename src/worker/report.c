/* report.c: a finished request's log line, metrics and tail event (report.h).
 *
 * The log line: text for people ("GET /path 200 (1.2 ms, cpu 0.4 ms)"), or JSON
 * with the fields method, path, status, worker, duration_ms, cpu_ms (base/log.h
 * picks the format). The tail event is wrangler's shape: {outcome, scriptName,
 * exceptions, logs, eventTimestamp, event: {request: {url, method, headers, cf},
 * response: {status}}}; it is built only while a tail of that Worker is open. */
#include "worker/report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/tail.h"

#define TAIL_LOG_BYTES_MAX (256u * 1024u)    /* console output kept per request */
#define TAIL_EVENT_BYTES_MAX (1024u * 1024u)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A JSON string (with quotes), invalid UTF-8 replaced. */
static int jstr(buf *b, const char *s, size_t n)
{
    int rc = buf_append(b, "\"", 1);
    char tmp[4096];
    for (size_t i = 0; i < n && rc == 0;) {
        size_t at = 0;
        i += log_json_escape(tmp, sizeof tmp, &at, s + i, n - i);
        rc = buf_append(b, tmp, at);
    }
    return rc ? rc : buf_append(b, "\"", 1);
}

static int jcstr(buf *b, const char *s)
{
    return jstr(b, s, strlen(s));
}

void worker_report_console(buf **logs, int level, const char *text, size_t len)
{
    static const char *const names[] = {"debug", "log", "warn", "error"};
    if (!*logs) {
        *logs = malloc(sizeof **logs);
        if (!*logs)
            return;
        buf_init(*logs, TAIL_LOG_BYTES_MAX);
    }
    buf *b = *logs;
    size_t mark = b->len;
    int rc = buf_append_str(b, b->len ? ",{\"message\":[" : "{\"message\":[");
    rc = rc ? rc : jstr(b, text, len);
    rc = rc ? rc : buf_printf(b, "],\"level\":\"%s\",\"timestamp\":%lld}",
                              names[level >= 0 && level <= 3 ? level : 1], (long long)now_ms());
    if (rc)
        b->len = mark;   /* full: later lines are left out, the event stays valid */
}

/* "Name: message\n    at …" → {name, message, stack, timestamp}. */
static int exception_json(buf *b, const char *text, int64_t ts)
{
    size_t line = strcspn(text, "\n");
    const char *colon = memchr(text, ':', line);
    bool named = colon && colon > text && colon[1] == ' ' && memchr(text, ' ', (size_t)(colon - text)) == NULL;
    int rc = buf_append_str(b, "{\"name\":");
    rc = rc ? rc : named ? jstr(b, text, (size_t)(colon - text)) : jcstr(b, "Error");
    rc = rc ? rc : buf_append_str(b, ",\"message\":");
    rc = rc ? rc : named ? jstr(b, colon + 2, line - (size_t)(colon + 2 - text)) : jstr(b, text, line);
    rc = rc ? rc : buf_append_str(b, ",\"stack\":");
    rc = rc ? rc : jcstr(b, text);
    return rc ? rc : buf_printf(b, ",\"timestamp\":%lld}", (long long)ts);
}

static void publish(const worker_report *r, double ms)
{
    const h1_request *q = r->req;
    int64_t ts = now_ms();
    buf b;
    buf_init(&b, TAIL_EVENT_BYTES_MAX);
    const char *outcome = r->exceeded_cpu ? "exceededCpu" : r->exception ? "exception" : "ok";
    int rc = buf_printf(&b, "{\"outcome\":\"%s\",\"scriptName\":", outcome);
    rc = rc ? rc : jcstr(&b, r->worker);
    rc = rc ? rc : buf_append_str(&b, ",\"diagnosticsChannelEvents\":[],\"exceptions\":[");
    if (r->exception)
        rc = rc ? rc : exception_json(&b, r->exception, ts);
    rc = rc ? rc : buf_append_str(&b, "],\"logs\":[");
    if (r->logs && r->logs->len)
        rc = rc ? rc : buf_append(&b, r->logs->ptr, r->logs->len);
    rc = rc ? rc : buf_printf(&b, "],\"eventTimestamp\":%lld,\"event\":{\"request\":{\"url\":",
                              (long long)(ts - (int64_t)ms));
    rc = rc ? rc : jstr(&b, q->url, q->url_len);
    rc = rc ? rc : buf_append_str(&b, ",\"method\":");
    rc = rc ? rc : jcstr(&b, q->method);
    rc = rc ? rc : buf_append_str(&b, ",\"headers\":{");
    for (size_t i = 0; i < q->header_count && rc == 0; i++) {
        const h1_header *h = &q->headers[i];
        char name[256];
        size_t n = h->name_len < sizeof name - 1 ? h->name_len : sizeof name - 1;
        for (size_t k = 0; k < n; k++)
            name[k] = (char)(h->name[k] >= 'A' && h->name[k] <= 'Z' ? h->name[k] + 32 : h->name[k]);
        name[n] = '\0';
        bool secret = strcmp(name, "authorization") == 0 || strcmp(name, "cookie") == 0;
        rc = buf_append_str(&b, i ? "," : "");
        rc = rc ? rc : jcstr(&b, name);
        rc = rc ? rc : buf_append_str(&b, ":");
        rc = rc ? rc : secret ? jcstr(&b, "REDACTED") : jstr(&b, h->value, h->value_len);
    }
    rc = rc ? rc : buf_printf(&b, "},\"cf\":{}},\"response\":{\"status\":%d}}}", r->status);
    if (rc == 0)
        tail_publish(r->worker, r->client_ip, b.ptr, b.len);
    buf_fini(&b);
}

void worker_report_request(const worker_report *r)
{
    const char *worker = r->worker ? r->worker : "";
    metrics_request(worker, r->status, r->cpu_ns);
    double ms = (double)(uv_hrtime() - r->start_ns) / 1e6;
    if (r->log_line && log_enabled(LOG_INFO)) {
        const h1_request *q = r->req;
        double cpu_ms = (double)r->cpu_ns / 1e6;
        log_field f[] = {
            {"method", q->method, SIZE_MAX, 0},
            {"path", q->target, q->target_len, 0},
            {"status", NULL, 0, r->status},
            {"worker", worker, SIZE_MAX, 0},
            {"duration_ms", NULL, 0, ms},
            {"cpu_ms", NULL, 0, cpu_ms},
        };
        const char *color = r->status >= 500 ? C_RED : r->status >= 400 ? C_YELLOW : C_GREEN;
        log_fields(LOG_INFO, f, sizeof f / sizeof f[0], "%s %.*s %s%d%s %s(%.1f ms, cpu %.1f ms)%s",
                   q->method, (int)q->target_len, q->target, color, r->status, C_RESET, C_DIM, ms,
                   cpu_ms, C_RESET);
    }
    if (tail_wanted(worker))
        publish(r, ms);
}

void worker_report_error(const char *worker, const h1_request *req, const char *what,
                         const char *text)
{
    log_field f[] = {
        {"method", req->method, SIZE_MAX, 0},
        {"path", req->target, req->target_len, 0},
        {"worker", worker ? worker : "", SIZE_MAX, 0},
    };
    log_fields(LOG_ERROR, f, sizeof f / sizeof f[0], "%s %.*s: %s%s", req->method,
               (int)req->target_len, req->target, what, text);
}
