/* devvars.c: reads `.dev.vars` (dotenv `KEY=value` lines), the secrets of
 * `durable dev` (spec: workers.md ENV-4, config.md CFG-4).
 *
 * Accepted, as wrangler's dotenv does: blank lines, `#` comments, an `export `
 * prefix, blanks around `=`, unquoted values (trimmed; ` #` starts a comment),
 * 'single', "double" and `backtick` quoted values that may span lines. Inside double
 * quotes \n, \r, \t, \" and \\ are unescaped (dotenv unescapes only \n and \r; we
 * also take \" and \\ literally-escaped so that a quote can be written). A later
 * definition of a name replaces an earlier one. Lines that are not KEY=value are
 * reported as warnings (never silently dropped); an unterminated quote is an error.
 * Secret values never appear in any message. */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/internal.h"

typedef struct dv {
    const char *path;
    const char *s;
    size_t len, pos;
    int line;
} dv;

static int peek(const dv *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static void skip_blanks(dv *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

static void skip_line(dv *p)
{
    while (peek(p) >= 0 && peek(p) != '\n')
        p->pos++;
    if (peek(p) == '\n') {
        p->pos++;
        p->line++;
    }
}

static bool key_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

/* A quoted value at pos (the opening quote) into b. */
static int quoted(dv *p, buf *b, const char *key, err *e)
{
    int q = peek(p);
    int start_line = p->line;
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c < 0)
            return err_setf(e, DUR_EPARSE, "%s:%d: unterminated %c-quoted value for '%s'",
                            p->path, start_line, q, key);
        p->pos++;
        if (c == q)
            return 0;
        if (c == '\n')
            p->line++;
        char out = (char)c;
        if (q == '"' && c == '\\') {
            int n = peek(p);
            if (n == 'n' || n == 'r' || n == 't' || n == '"' || n == '\\') {
                out = n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : (char)n;
                p->pos++;
            }
        }
        if (buf_append(b, &out, 1) < 0)
            return err_setf(e, DUR_ETOOBIG, "%s:%d: value of '%s' is too long", p->path,
                            start_line, key);
    }
}

static int add(cfg_devvar **arr, size_t *count, char *name, char *value, int line)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp((*arr)[i].name, name) == 0) { /* the later line wins */
            free((*arr)[i].value);
            free(name);
            (*arr)[i].value = value;
            (*arr)[i].line = line;
            return 0;
        }
    }
    cfg_devvar *n = realloc(*arr, (*count + 1) * sizeof *n);
    if (!n) {
        free(name);
        free(value);
        return DUR_ENOMEM;
    }
    *arr = n;
    n[*count] = (cfg_devvar){name, value, line};
    (*count)++;
    return 0;
}

/* One `KEY=value` line at pos. Returns 1 when the line was not an assignment. */
static int one_line(dv *p, cfg_devvar **arr, size_t *count, err *e)
{
    skip_blanks(p);
    if (p->len - p->pos >= 7 && memcmp(p->s + p->pos, "export", 6) == 0 &&
        (p->s[p->pos + 6] == ' ' || p->s[p->pos + 6] == '\t')) {
        p->pos += 6;
        skip_blanks(p);
    }
    size_t ks = p->pos;
    while (key_char(peek(p)))
        p->pos++;
    size_t klen = p->pos - ks;
    skip_blanks(p);
    if (klen == 0 || peek(p) != '=')
        return 1;
    p->pos++;
    skip_blanks(p);
    int line = p->line;
    char *key = strndup(p->s + ks, klen);
    buf b;
    buf_init(&b, CFG_FILE_BYTES_MAX);
    if (!key)
        return err_setf(e, DUR_ENOMEM, "%s: out of memory", p->path);
    int c = peek(p);
    if (c == '"' || c == '\'' || c == '`') {
        if (quoted(p, &b, key, e) < 0) {
            free(key);
            buf_fini(&b);
            return DUR_EPARSE;
        }
        skip_blanks(p);
        if (peek(p) >= 0 && peek(p) != '#' && peek(p) != '\n' && peek(p) != '\r') {
            err_setf(e, DUR_EPARSE, "%s:%d: unexpected text after the quoted value of '%s'",
                     p->path, p->line, key);
            free(key);
            buf_fini(&b);
            return DUR_EPARSE;
        }
    } else {
        size_t vs = p->pos;
        while (peek(p) >= 0 && peek(p) != '\n' && peek(p) != '#')
            p->pos++;
        size_t ve = p->pos;
        while (ve > vs && (p->s[ve - 1] == ' ' || p->s[ve - 1] == '\t' || p->s[ve - 1] == '\r'))
            ve--;
        if (buf_append(&b, p->s + vs, ve - vs) < 0) {
            free(key);
            buf_fini(&b);
            return err_setf(e, DUR_ENOMEM, "%s: out of memory", p->path);
        }
    }
    char *value = buf_take(&b, NULL);
    if (!value)
        value = strdup("");
    if (!value || add(arr, count, key, value, line) < 0)
        return err_setf(e, DUR_ENOMEM, "%s: out of memory", p->path);
    skip_line(p);
    return 0;
}

int cfg__devvars_parse(const char *path, const char *text, size_t len, cfg_devvar **out,
                       size_t *count, void (*warn_cb)(void *ctx, const char *msg),
                       void *ctx, err *e)
{
    dv p = {.path = path, .s = text, .len = len, .line = 1};
    *out = NULL;
    *count = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    while (p.pos < p.len) {
        skip_blanks(&p);
        int c = peek(&p);
        if (c == '#' || c == '\n' || c == '\r') {
            skip_line(&p);
            continue;
        }
        if (c < 0)
            break;
        int line = p.line;
        int rc = one_line(&p, out, count, e);
        if (rc < 0) {
            cfg__devvars_free(*out, *count);
            *out = NULL;
            *count = 0;
            return rc;
        }
        if (rc == 1) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s:%d: ignored a line that is not KEY=value", path,
                     line);
            if (warn_cb)
                warn_cb(ctx, msg);
            skip_line(&p);
        }
    }
    return 0;
}

void cfg__devvars_free(cfg_devvar *v, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static void on_warn(void *ctx, const char *msg)
{
    /* Out of memory here only loses a warning; the load itself goes on. */
    (void)cfg__warn_text(ctx, msg);
}

/* Adds (or overrides, ENV-4: the secret wins) one secret in c->vars. */
static int put_secret(sc *s, const char *file, cfg_devvar *d)
{
    config *c = s->c;
    for (size_t i = 0; i < c->do_bindings_count; i++)
        if (strcmp(c->do_bindings[i].name, d->name) == 0)
            return err_setf(s->e, DUR_EPARSE, "%s:%d: '%s' is both a secret and a Durable "
                            "Object binding; binding names must be unique", file, d->line,
                            d->name);
    for (size_t i = 0; i < c->vars_count; i++) {
        if (strcmp(c->vars[i].name, d->name) == 0) {
            free(c->vars[i].value);
            c->vars[i].value = d->value;
            c->vars[i].is_json = false;
            c->var_is_secret[i] = true;
            d->value = NULL;
            return 0;
        }
    }
    config_var *v = realloc(c->vars, (c->vars_count + 1) * sizeof *v);
    if (!v)
        return cfg__oom(s);
    c->vars = v;
    bool *sec = realloc(c->var_is_secret, (c->vars_count + 1) * sizeof *sec);
    if (!sec)
        return cfg__oom(s);
    c->var_is_secret = sec;
    v[c->vars_count] = (config_var){d->name, d->value, false};
    sec[c->vars_count++] = true;
    d->name = d->value = NULL;
    return 0;
}

int cfg__load_devvars(sc *s, const char *env_name)
{
    config *c = s->c;
    char path[4096], file[300];
    struct stat st;
    int n = -1;
    if (env_name) { /* wrangler prefers .dev.vars.<env> when an environment is selected */
        n = snprintf(path, sizeof path, "%s/.dev.vars.%s", c->dir, env_name);
        snprintf(file, sizeof file, ".dev.vars.%.200s", env_name);
    }
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0) {
        n = snprintf(path, sizeof path, "%s/.dev.vars", c->dir);
        snprintf(file, sizeof file, ".dev.vars");
        if (n < 0 || (size_t)n >= sizeof path)
            return err_setf(s->e, DUR_EINVAL, "%s: directory path too long", s->file);
        if (stat(path, &st) != 0)
            return 0; /* no secrets: fine */
    }
    char *text;
    size_t len;
    int rc = cfg__read_file(path, CFG_FILE_BYTES_MAX, &text, &len, s->e);
    if (rc < 0)
        return rc;
    cfg_devvar *vars = NULL;
    size_t count = 0;
    rc = cfg__devvars_parse(file, text, len, &vars, &count, on_warn, c, s->e);
    free(text);
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = put_secret(s, file, &vars[i]);
    cfg__devvars_free(vars, count);
    return rc;
}
