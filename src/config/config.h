/* config: reads wrangler.toml / wrangler.json / wrangler.jsonc into a `config`.
 * (spec: config.md CFG-*, MIG-1, MIG-7)
 * The readers (toml.c, jsonc.c) produce one generic tree (cfg_value); schema.c
 * checks it against the keys durable understands and fills `config`. Every error
 * names the file, the line and the key. Warnings (unknown keys, ignored keys) are
 * collected in config.warnings for the caller to print. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* ---- generic tree (shared by the TOML and JSONC readers) ---- */
typedef enum cfg_type {
    CFG_NULL, CFG_BOOL, CFG_INT, CFG_FLOAT, CFG_STRING, CFG_ARRAY, CFG_TABLE,
    CFG_DATETIME, /* TOML dates/times, kept as their source text in .str */
} cfg_type;

typedef struct cfg_value cfg_value;
struct cfg_value {
    cfg_type type;
    int line;                 /* line where the value starts (1-based) */
    bool b;
    long long i;
    double f;
    char *str;                /* CFG_STRING / CFG_DATETIME: NUL-terminated, owned */
    size_t str_len;
    /* CFG_ARRAY: items; CFG_TABLE: items with keys[i], in source order */
    cfg_value **items;
    char **keys;
    size_t count;
    unsigned flags;           /* reader-private (CFG_F_* in internal.h); ignore */
    size_t *index;            /* private: hash index of keys for big tables (value.c) */
    size_t index_cap;
};

/* Parse a whole document. `path` is only used in messages. Returns a new tree
 * (free with cfg_value_free) or NULL with *e filled ("path:line: message"). */
cfg_value *toml_parse(const char *path, const char *text, size_t len, err *e);
cfg_value *jsonc_parse(const char *path, const char *text, size_t len, err *e);
void cfg_value_free(cfg_value *v);
const cfg_value *cfg_table_get(const cfg_value *table, const char *key);
/* Serialize a value as JSON (for vars that are not strings). Returns malloc'd text. */
char *cfg_value_to_json(const cfg_value *v);

/* ---- the wrangler schema ---- */
typedef struct config_var {
    char *name;
    char *value;              /* string value, or JSON text when is_json */
    bool is_json;
} config_var;

typedef struct config_do_binding {
    char *name;               /* env property */
    char *class_name;
    char *script_name;        /* NULL = this script */
    char *environment;        /* NULL unless given */
} config_do_binding;

typedef struct config_rename {
    char *from, *to;
} config_rename;

typedef struct config_transfer {
    char *from, *from_script, *to;
    int backend;              /* 0 from a config file; 1 KV, 2 SQLite when durable serve
                                 rebuilds a namespace it moved (api/materialise.c) */
} config_transfer;

typedef struct config_migration {
    char *tag;
    char **new_classes; size_t new_classes_count;
    char **new_sqlite_classes; size_t new_sqlite_classes_count;
    config_rename *renamed; size_t renamed_count;
    char **deleted_classes; size_t deleted_classes_count;
    config_transfer *transferred; size_t transferred_count;
} config_migration;

typedef struct config {
    char *path;               /* the config file, absolute */
    char *dir;                /* its directory: relative paths resolve against it */
    char *name;               /* script name (with -<env> suffix when an env is selected) */
    char *main;               /* entry module, absolute path */
    char *compatibility_date; /* "YYYY-MM-DD" (today's when missing, with a warning) */
    char **compatibility_flags; size_t compatibility_flags_count;
    config_var *vars; size_t vars_count;           /* includes .dev.vars secrets (is_secret) */
    bool *var_is_secret;                           /* parallel to vars */
    config_do_binding *do_bindings; size_t do_bindings_count;
    config_migration *migrations; size_t migrations_count;
    long long cpu_ms;         /* limits.cpu_ms, 0 = default */
    char **crons; size_t crons_count;
    char **warnings; size_t warnings_count;        /* for the caller to print */
} config;

/* Finds the config file: `explicit_path` if not NULL, else wrangler.json, then
 * wrangler.jsonc, then wrangler.toml in `cwd` (CFG-1). Reads it, applies the
 * environment `env_name` (NULL = top level, CFG-20..22), reads `.dev.vars` next to
 * it, and validates every key (CFG-3..16, MIG-1, MIG-7). Returns 0 or an error with
 * *e filled: "wrangler.toml:12: key 'vars.X': expected ..." */
int config_load(const char *cwd, const char *explicit_path, const char *env_name,
                config *out, err *e);
void config_fini(config *c);

/* The newest compatibility date durable supports (its release date, CFG-7). */
#define CONFIG_COMPAT_DATE_MAX "2026-11-22"

/* Storage backend of a class after applying c->migrations in order (MIG-7 order
 * inside one migration), following renames and deletes. */
enum {
    CONFIG_BACKEND_NONE = 0,        /* no namespace (never created, deleted, renamed away) */
    CONFIG_BACKEND_KV = 1,          /* new_classes */
    CONFIG_BACKEND_SQLITE = 2,      /* new_sqlite_classes */
    CONFIG_BACKEND_TRANSFERRED = 3, /* transferred_classes: the source script's backend */
};
int config_class_backend(const config *c, const char *class_name);

/* Checks what can be checked of the migrations and bindings without the module's
 * code: MIG-3 (created twice), MIG-4/MIG-10(d) (rename/transfer source missing or
 * target present), MIG-6 (deleted class still bound), MIG-8 (backend change),
 * MIG-10(a) (binding without script_name to a class no migration creates), and a
 * binding that names a class renamed away. Returns 0 or DUR_EPARSE with *e filled
 * ("wrangler.toml: migration 'v2': ..."). Pure: reads c only. */
int config_check_migrations(const config *c, err *e);
