/* form_meta.c: metadata sent as flattened form fields (`metadata[main_module]`,
 * `metadata[bindings][][type]`, …), as the `cloudflare` SDK 7.x sends it (spec
 * API-30, cloudflare-typescript issue #2799), rebuilt into the JSON object a
 * `metadata` part would hold. Brackets follow the common form-encoding rules: `[]`
 * appends to an array; `[][k]` adds k to the array's last object, or starts a new
 * object when that one already has k. Every value is a string. */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

enum { N_STR, N_OBJ, N_ARR };

typedef struct node {
    char *key;
    int type;
    char *str;
    struct node **kids;
    size_t n;
} node;

static void node_free(node *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        node_free(x->kids[i]);
    free(x->kids);
    free(x->key);
    free(x->str);
    free(x);
}

static node *node_add(node *parent, const char *key, size_t klen, int type)
{
    node **k = realloc(parent->kids, (parent->n + 1) * sizeof *k);
    node *x = calloc(1, sizeof *x);
    if (!k || !x) {
        free(x);
        if (k)
            parent->kids = k;
        return NULL;
    }
    parent->kids = k;
    x->type = type;
    x->key = key ? strndup(key, klen) : NULL;
    if (key && !x->key) {
        free(x);
        return NULL;
    }
    k[parent->n++] = x;
    return x;
}

static node *node_find(node *obj, const char *key, size_t klen)
{
    for (size_t i = 0; i < obj->n; i++)
        if (strlen(obj->kids[i]->key) == klen && memcmp(obj->kids[i]->key, key, klen) == 0)
            return obj->kids[i];
    return NULL;
}

#define SEGS_MAX 8

/* Puts value at the path given by segs (see the top). Returns 0 or <0 (bad path). */
static int put(node *root, const char *segs[], const size_t lens[], int nseg, const char *v,
               size_t vlen)
{
    node *cur = root;
    for (int i = 0; i < nseg; i++) {
        bool last = i == nseg - 1;
        int want = last ? N_STR : lens[i + 1] == 0 ? N_ARR : N_OBJ;
        if (cur->type == N_OBJ) {
            if (lens[i] == 0)
                return DUR_EPARSE;
            node *c = node_find(cur, segs[i], lens[i]);
            if (c && (last || c->type != want))
                return DUR_EPARSE;   /* given twice, or as two kinds */
            if (!c && !(c = node_add(cur, segs[i], lens[i], want)))
                return DUR_ENOMEM;
            cur = c;
        } else {   /* N_ARR: the segment must be [] */
            if (lens[i] != 0)
                return DUR_EPARSE;
            if (want == N_OBJ) {
                node *lastobj = cur->n ? cur->kids[cur->n - 1] : NULL;
                if (!lastobj || lastobj->type != N_OBJ ||
                    (i + 1 == nseg - 1 && node_find(lastobj, segs[i + 1], lens[i + 1])))
                    lastobj = node_add(cur, NULL, 0, N_OBJ);
                if (!lastobj)
                    return DUR_ENOMEM;
                cur = lastobj;
            } else {
                node *c = node_add(cur, NULL, 0, want);
                if (!c)
                    return DUR_ENOMEM;
                cur = c;
            }
        }
        if (last) {
            cur->str = strndup(v, vlen);
            if (!cur->str)
                return DUR_ENOMEM;
        }
    }
    return 0;
}

static int to_json(buf *b, const node *x)
{
    int rc = 0;
    if (x->type == N_STR)
        return api__json_str(b, x->str, strlen(x->str));
    rc = buf_append_str(b, x->type == N_OBJ ? "{" : "[");
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        if (i)
            rc = buf_append_str(b, ",");
        if (!rc && x->type == N_OBJ) {
            rc = api__json_cstr(b, x->kids[i]->key);
            rc = rc ? rc : buf_append_str(b, ":");
        }
        rc = rc ? rc : to_json(b, x->kids[i]);
    }
    return rc ? rc : buf_append_str(b, x->type == N_OBJ ? "}" : "]");
}

bool api__is_flat_meta(const char *name)
{
    return strncmp(name, "metadata[", 9) == 0;
}

char *api__flat_meta_json(const api_part *parts, size_t count, err *e)
{
    node root = {.type = N_OBJ};
    char *out = NULL;
    for (size_t p = 0; p < count; p++) {
        const char *name = parts[p].name;
        if (!api__is_flat_meta(name))
            continue;
        const char *segs[SEGS_MAX];
        size_t lens[SEGS_MAX];
        int nseg = 0;
        const char *s = name + 8;   /* at the first '[' */
        while (*s == '[') {
            const char *close = strchr(s, ']');
            if (!close || nseg == SEGS_MAX) {
                err_setf(e, DUR_EPARSE, "form field '%.80s': not a metadata[...] path", name);
                goto out;
            }
            segs[nseg] = s + 1;
            lens[nseg++] = (size_t)(close - s - 1);
            s = close + 1;
        }
        if (*s || nseg == 0 ||
            put(&root, segs, lens, nseg, parts[p].data, parts[p].data_len) < 0) {
            err_setf(e, DUR_EPARSE, "form field '%.80s': not a metadata[...] path, or given "
                     "twice", name);
            goto out;
        }
    }
    buf b;
    buf_init(&b, 1024 * 1024);
    if (to_json(&b, &root) == 0)
        out = buf_take(&b, NULL);
    else
        err_setf(e, DUR_ETOOBIG, "the metadata fields are too large");
    buf_fini(&b);
out:
    for (size_t i = 0; i < root.n; i++)
        node_free(root.kids[i]);
    free(root.kids);
    return out;
}
