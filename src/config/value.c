/* value.c: the generic cfg_value tree both readers produce (spec: config.md CFG-2,
 * CFG-9 for the JSON form of vars), plus the small UTF-8 and file helpers the
 * readers share. Trees are bounded in depth by the readers (CFG_DEPTH_MAX), which
 * is what makes the recursion in cfg_value_free / cfg_value_to_json safe. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/internal.h"

cfg_value *cfg__new(cfg_type type, int line)
{
    cfg_value *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->type = type;
    v->line = line;
    return v;
}

cfg_value *cfg__new_str(cfg_type type, int line, char *s, size_t len)
{
    cfg_value *v = cfg__new(type, line);
    if (!v) {
        free(s);
        return NULL;
    }
    v->str = s;
    v->str_len = len;
    return v;
}

void cfg_value_free(cfg_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        cfg_value_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->index);
    free(v->str);
    free(v);
}

/* Grows items (and keys for tables) to hold one more entry. */
static int grow(cfg_value *c)
{
    /* Capacity is max(4, next power of two >= count): grow at 0, 4, 8, 16, ... */
    size_t n = c->count;
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return 0;
    if (n > ((size_t)-1) / 2 / sizeof(void *))
        return DUR_ENOMEM;
    size_t cap = n ? n * 2 : 4;
    cfg_value **items = realloc(c->items, cap * sizeof *items);
    if (!items)
        return DUR_ENOMEM;
    c->items = items;
    if (c->type == CFG_TABLE) {
        char **keys = realloc(c->keys, cap * sizeof *keys);
        if (!keys)
            return DUR_ENOMEM;
        c->keys = keys;
    }
    return 0;
}

int cfg__array_push(cfg_value *arr, cfg_value *v)
{
    if (grow(arr) < 0) {
        cfg_value_free(v);
        return DUR_ENOMEM;
    }
    arr->items[arr->count++] = v;
    return 0;
}

/* Tables with more than INDEX_MIN keys get an open-addressing hash index (slots hold
 * item index + 1), so that a hostile document with a million keys in one table costs
 * linear, not quadratic, time. Small tables (every real config) are scanned. */
#define INDEX_MIN 16

static size_t key_hash(const char *key, size_t len)
{
    size_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    return h;
}

static void index_put(cfg_value *t, size_t item)
{
    size_t mask = t->index_cap - 1;
    size_t h = key_hash(t->keys[item], strlen(t->keys[item])) & mask;
    while (t->index[h])
        h = (h + 1) & mask;
    t->index[h] = item + 1;
}

/* Keeps the index at most half full; on allocation failure drops it (lookups fall
 * back to scanning, which is slow but correct). */
static void index_update(cfg_value *t)
{
    if (t->count <= INDEX_MIN)
        return;
    if (t->index && t->count * 2 <= t->index_cap) {
        index_put(t, t->count - 1);
        return;
    }
    size_t cap = 64;
    while (cap < t->count * 4)
        cap *= 2;
    free(t->index);
    t->index = calloc(cap, sizeof *t->index);
    t->index_cap = t->index ? cap : 0;
    for (size_t i = 0; t->index && i < t->count; i++)
        index_put(t, i);
}

int cfg__table_add(cfg_value *table, const char *key, size_t key_len, cfg_value *v)
{
    char *k = malloc(key_len + 1);
    if (!k || grow(table) < 0) {
        free(k);
        cfg_value_free(v);
        return DUR_ENOMEM;
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    table->keys[table->count] = k;
    table->items[table->count++] = v;
    index_update(table);
    return 0;
}

long cfg__table_find(const cfg_value *table, const char *key, size_t key_len)
{
    if (!table || table->type != CFG_TABLE)
        return -1;
    if (table->index) {
        size_t mask = table->index_cap - 1;
        for (size_t h = key_hash(key, key_len) & mask; table->index[h]; h = (h + 1) & mask) {
            size_t i = table->index[h] - 1;
            if (strlen(table->keys[i]) == key_len && memcmp(table->keys[i], key, key_len) == 0)
                return (long)i;
        }
        return -1;
    }
    for (size_t i = 0; i < table->count; i++)
        if (strlen(table->keys[i]) == key_len && memcmp(table->keys[i], key, key_len) == 0)
            return (long)i;
    return -1;
}

const cfg_value *cfg_table_get(const cfg_value *table, const char *key)
{
    long i = cfg__table_find(table, key, strlen(key));
    return i < 0 ? NULL : table->items[i];
}

long cfg__utf8_check(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned long cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return (long)i;
        }
        if (len - i <= n)
            return (long)i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        i += n + 1;
    }
    return -1;
}

size_t cfg__utf8_put(char out[4], unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int cfg__line_at(const char *text, size_t len, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

/* ---- JSON output (CFG-9 / ENV-3: non-string vars become JSON values) ---- */

static int json_string(buf *b, const char *s, size_t len)
{
    int rc = buf_append(b, "\"", 1);
    for (size_t i = 0; rc == 0 && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': rc = buf_append(b, "\\\"", 2); break;
        case '\\': rc = buf_append(b, "\\\\", 2); break;
        case '\b': rc = buf_append(b, "\\b", 2); break;
        case '\f': rc = buf_append(b, "\\f", 2); break;
        case '\n': rc = buf_append(b, "\\n", 2); break;
        case '\r': rc = buf_append(b, "\\r", 2); break;
        case '\t': rc = buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7F)
                rc = buf_printf(b, "\\u%04x", c);
            else
                rc = buf_append(b, &s[i], 1);
        }
    }
    return rc ? rc : buf_append(b, "\"", 1);
}

/* Shortest %g form that reads back as the same double, as JSON.stringify does. */
static int json_double(buf *b, double d)
{
    if (!isfinite(d))
        return buf_append_str(b, "null"); /* JSON.stringify(Infinity) is null */
    if (d == 0)
        return buf_append_str(b, "0"); /* and JSON.stringify(-0) is "0" */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return buf_append_str(b, tmp);
}

static int json_value(buf *b, const cfg_value *v)
{
    int rc = 0;
    switch (v->type) {
    case CFG_NULL: return buf_append_str(b, "null");
    case CFG_BOOL: return buf_append_str(b, v->b ? "true" : "false");
    case CFG_INT: return buf_printf(b, "%lld", v->i);
    case CFG_FLOAT: return json_double(b, v->f);
    case CFG_STRING:
    case CFG_DATETIME: return json_string(b, v->str, v->str_len);
    case CFG_ARRAY:
        rc = buf_append(b, "[", 1);
        for (size_t i = 0; rc == 0 && i < v->count; i++) {
            if (i)
                rc = buf_append(b, ",", 1);
            if (rc == 0)
                rc = json_value(b, v->items[i]);
        }
        return rc ? rc : buf_append(b, "]", 1);
    case CFG_TABLE:
        rc = buf_append(b, "{", 1);
        for (size_t i = 0; rc == 0 && i < v->count; i++) {
            if (i)
                rc = buf_append(b, ",", 1);
            if (rc == 0)
                rc = json_string(b, v->keys[i], strlen(v->keys[i]));
            if (rc == 0)
                rc = buf_append(b, ":", 1);
            if (rc == 0)
                rc = json_value(b, v->items[i]);
        }
        return rc ? rc : buf_append(b, "}", 1);
    }
    return DUR_EINVAL;
}

char *cfg_value_to_json(const cfg_value *v)
{
    buf b;
    /* Output is at most ~6x the source (\u00XX escapes), which is bounded. */
    buf_init(&b, (size_t)CFG_FILE_BYTES_MAX * 8);
    if (!v || json_value(&b, v) < 0) {
        buf_fini(&b);
        return NULL;
    }
    if (!b.ptr) {
        buf_fini(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

/* ---- files ---- */

int cfg__read_file(const char *path, size_t max, char **out, size_t *out_len, err *e)
{
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_setf(e, -errno, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    char *data = NULL;
    if (fstat(fd, &st) < 0) {
        rc = err_setf(e, -errno, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = err_setf(e, DUR_EINVAL, "%s: not a regular file", path);
        goto done;
    }
    if ((unsigned long long)st.st_size > max) {
        rc = err_setf(e, DUR_ETOOBIG, "%s: file is %lld bytes, more than the %zu allowed",
                      path, (long long)st.st_size, max);
        goto done;
    }
    size_t cap = (size_t)st.st_size;
    data = malloc(cap + 1);
    if (!data) {
        rc = err_setf(e, DUR_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, data + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_setf(e, -errno, "%s: read failed: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break; /* the file shrank under us: use what is there */
        got += (size_t)n;
    }
    data[got] = '\0';
    *out = data;
    *out_len = got;
    data = NULL;
done:
    free(data);
    close(fd);
    return rc;
}
