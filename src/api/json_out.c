/* json_out.c: writing JSON into a bounded buf for the REST answers. */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int api__json_str(buf *b, const char *s, size_t len)
{
    int rc = buf_append(b, "\"", 1);
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = buf_append(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            rc = buf_printf(b, "\\u%04x", c);
        } else {
            rc = buf_append(b, s + i, 1);
        }
    }
    return rc ? rc : buf_append(b, "\"", 1);
}

int api__json_cstr(buf *b, const char *s)
{
    return s ? api__json_str(b, s, strlen(s)) : buf_append_str(b, "null");
}

int api__json_time(buf *b, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char out[64];
    strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf_printf(b, "\"%s.%06lldZ\"", out, (long long)(ms % 1000) * 1000);
}

typedef struct bindings_out {
    buf *b;
    int rc;
    bool first;
} bindings_out;

static int on_binding(const deploy_binding *bd, void *ud)
{
    bindings_out *x = ud;
    if (!x->rc && !x->first)
        x->rc = buf_append_str(x->b, ",");
    x->first = false;
    /* secret_text values are not echoed. */
    if (!x->rc && strcmp(bd->type, "secret_text") == 0) {
        x->rc = buf_append_str(x->b, "{\"type\":\"secret_text\",\"name\":");
        x->rc = x->rc ? x->rc : api__json_cstr(x->b, bd->name);
        x->rc = x->rc ? x->rc : buf_append_str(x->b, "}");
    } else if (!x->rc) {
        x->rc = buf_append_str(x->b, bd->json);
    }
    return 0;
}

int api__bindings_json(deploy_store *s, buf *b, const char *script, int64_t number, err *e)
{
    bindings_out x = {b, 0, true};
    if (deploy_binding_each(s, script, number, on_binding, &x, e) < 0)
        return -1;
    return x.rc ? DUR_ENOMEM : 0;
}
