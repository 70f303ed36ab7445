/* config/internal.h: what the files of src/config share (value tree building,
 * limits of the readers, the schema helpers). Not for other layers. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* Nesting bound of a parsed tree (tables + arrays, counted from the root), so that
 * neither the recursive-descent readers nor the recursive walkers (free, to_json)
 * can exhaust the stack on hostile input. Real wrangler files use depth <= 5. */
#define CFG_DEPTH_MAX 64
/* Key path components in one TOML key (a.b.c = 1 has 3). */
#define CFG_KEY_PARTS_MAX 64
/* Bytes of one config file / .dev.vars file read from disk. */
#define CFG_FILE_BYTES_MAX (4u << 20)
/* Bytes of one string value or key (bounded before we allocate). */
#define CFG_STRING_BYTES_MAX (1u << 20)

/* Reader-private state kept in cfg_value.flags while a TOML document is parsed. */
enum {
    CFG_F_IMPLICIT = 1 << 0,  /* table created as a parent in a [a.b.c] header */
    CFG_F_DEFINED = 1 << 1,   /* table opened by its own [header] */
    CFG_F_DOTTED = 1 << 2,    /* table created by a dotted key (a.b = 1) */
    CFG_F_INLINE = 1 << 3,    /* inline table / static array: sealed */
    CFG_F_AOT = 1 << 4,       /* array created by [[header]] */
};

/* Value constructors: return NULL on allocation failure. */
cfg_value *cfg__new(cfg_type type, int line);
/* Takes ownership of s (malloc'd, NUL-terminated at s[len]). Frees s on failure. */
cfg_value *cfg__new_str(cfg_type type, int line, char *s, size_t len);
/* Appends v to an array (takes v; frees it on failure). Returns 0 or DUR_ENOMEM. */
int cfg__array_push(cfg_value *arr, cfg_value *v);
/* Adds key -> v to a table (copies key, takes v; frees v on failure). The caller has
 * checked that the key is absent. Returns 0 or DUR_ENOMEM. */
int cfg__table_add(cfg_value *table, const char *key, size_t key_len, cfg_value *v);
/* Index of key in table, or -1. */
long cfg__table_find(const cfg_value *table, const char *key, size_t key_len);

/* Validates UTF-8 in text[0..len). Returns -1 if valid, else the offset of the first
 * bad byte. Overlong forms, surrogates and code points > U+10FFFF are invalid. */
long cfg__utf8_check(const char *text, size_t len);
/* Encodes code point cp (valid scalar value) as UTF-8 into out[4]; returns bytes. */
size_t cfg__utf8_put(char out[4], unsigned long cp);
/* Line (1-based) of byte offset off. */
int cfg__line_at(const char *text, size_t len, size_t off);

/* ---- .dev.vars (devvars.c) ---- */
typedef struct cfg_devvar {
    char *name, *value;
    int line;
} cfg_devvar;
/* Parses dotenv text. Returns 0 and a new array in *out (free with
 * cfg__devvars_free), or an error. Malformed lines become warnings via warn_cb. */
int cfg__devvars_parse(const char *path, const char *text, size_t len, cfg_devvar **out,
                       size_t *count, void (*warn_cb)(void *ctx, const char *msg),
                       void *ctx, err *e);
void cfg__devvars_free(cfg_devvar *v, size_t count);

/* Reads a whole file of at most max bytes. Returns 0 and malloc'd bytes (NUL
 * appended) or -errno / DUR_ETOOBIG with *e filled. */
int cfg__read_file(const char *path, size_t max, char **out, size_t *out_len, err *e);

/* ---- the schema (schema.c, schema_do.c, devvars.c) ---- */
#define CFG_KP_MAX 512        /* key path text in messages ("env.x.vars.Y") */
#define CFG_NAME_MAX 63       /* CFG-5 */
#define CFG_CPU_MS_MAX 300000 /* CFG-13 */

/* State of one config_load. */
typedef struct sc {
    const char *file;  /* name for messages: "wrangler.toml" or the --config argument */
    bool json;         /* type names as JSON says them ("an object", "a number") */
    config *c;         /* being filled */
    err *e;
    const char *env;   /* selected environment or NULL */
} sc;

extern const char *const cfg__known_flags[]; /* CFG-8, NULL-terminated */

const char *cfg__tname(const sc *s, cfg_type t);
/* DUR_ETYPE "file:line: key 'kp': expected <t>, got <type>" unless v has type t. */
int cfg__want(sc *s, const cfg_value *v, const char *kp, cfg_type t);
/* DUR_EPARSE "file:line: msg" ("file: msg" when line <= 0). */
int cfg__fail(sc *s, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cfg__oom(sc *s);
/* Formats a key path for messages into out (an over-long one ends in "..."). */
void cfg__kp(char out[CFG_KP_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds "file:line: msg" to config.warnings. Returns 0 or DUR_ENOMEM (with *e). */
int cfg__warn(sc *s, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cfg__warn_text(config *c, const char *text);
/* Copies a string value into *out (freeing what was there). */
int cfg__get_str(sc *s, const cfg_value *v, const char *kp, char **out);
int cfg__get_str_array(sc *s, const cfg_value *v, const char *kp, char ***out, size_t *count);
void cfg__free_strs(char **arr, size_t n);
bool cfg__date_valid(const char *yyyy_mm_dd);

int cfg__load_durable_objects(sc *s, const cfg_value *v, const char *kp); /* CFG-10 */
int cfg__load_migrations(sc *s, const cfg_value *v);                      /* MIG-1, MIG-7 */
void cfg__migration_fini(config_migration *m);
/* Reads .dev.vars.<env> or .dev.vars next to the config into vars (ENV-4). */
int cfg__load_devvars(sc *s, const char *env_name);

/* Decimal value of n digits at s (caller checked they are digits). */
static inline int atoi_n(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}
