/* schema.c: config_load — finds the wrangler file, parses it (toml.c / jsonc.c),
 * selects the environment and checks every key durable understands, filling a
 * `config` (spec: config.md CFG-1..16, CFG-20..22, MIG-1, MIG-7; workers.md
 * ENV-3..5). Migrations and Durable Object bindings are read in schema_do.c.
 *
 * Messages: errors are "file:line: key 'a.b[0].c': problem"; warnings go to
 * config.warnings in the same form, for the caller to print. `file` is the name the
 * user knows: "wrangler.toml" when found by lookup, the --config argument otherwise.
 * Ownership: everything in `config` is malloc'd and owned by it (config_fini). On
 * error config_load frees what it built and leaves *out zeroed. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/internal.h"

const char *const cfg__known_flags[] = {
    "rpc",
    "durable_object_fetch_requires_full_url",
    "delete_all_deletes_alarm",
    "websocket_close_reason_byte_limit",
    "web_socket_auto_reply_to_close",
    "nodejs_compat",
    NULL,
};

/* CFG-16: accepted and ignored, with a notice. */
static const char *const ignored_keys[] = {
    "account_id", "workers_dev", "route", "routes", "preview_urls", "build", "minify",
    "observability", "logpush", "placement", "send_metrics", "keep_vars", "tsconfig",
    "rules", "no_bundle", "find_additional_modules", "base_dir", "preserve_file_names",
    "upload_source_maps", "dev", NULL,
};

/* ENV-5: binding types durable does not provide; declaring one is an error. */
static const struct {
    const char *key, *what;
} unsupported[] = {
    {"kv_namespaces", "KV namespace"},
    {"r2_buckets", "R2 bucket"},
    {"d1_databases", "D1 database"},
    {"services", "service"},
    {"queues", "Queue"},
    {"ai", "Workers AI"},
    {"analytics_engine_datasets", "Analytics Engine"},
    {"vectorize", "Vectorize"},
    {"hyperdrive", "Hyperdrive"},
    {"browser", "Browser Rendering"},
    {"mtls_certificates", "mTLS certificate"},
    {"dispatch_namespaces", "dispatch namespace"},
    {"send_email", "send_email"},
    {"workflows", "Workflow"},
    {"tail_consumers", "tail consumer"},
    {"version_metadata", "version metadata"},
    {"pipelines", "Pipeline"},
    {"secrets_store_secrets", "Secrets Store"},
    {"images", "Images"},
    {"unsafe", "unsafe"},
    {"wasm_modules", "wasm_modules"},
    {"text_blobs", "text_blobs"},
    {"data_blobs", "data_blobs"},
    {"logfwdr", "logfwdr"},
    {"assets", "static assets"},
    {"containers", "container"},
    {NULL, NULL},
};

/* ---- messages ---- */

const char *cfg__tname(const sc *s, cfg_type t)
{
    switch (t) {
    case CFG_NULL: return "null";
    case CFG_BOOL: return "a boolean";
    case CFG_INT: return s->json ? "a number" : "an integer";
    case CFG_FLOAT: return s->json ? "a number" : "a float";
    case CFG_STRING: return "a string";
    case CFG_DATETIME: return "a date-time";
    case CFG_ARRAY: return "an array";
    case CFG_TABLE: return s->json ? "an object" : "a table";
    }
    return "a value";
}

int cfg__want(sc *s, const cfg_value *v, const char *kp, cfg_type t)
{
    if (v->type == t)
        return 0;
    if (t == CFG_INT && s->json && v->type == CFG_FLOAT)
        return err_setf(s->e, DUR_ETYPE, "%s:%d: key '%s': expected an integer, got %g",
                        s->file, v->line, kp, v->f);
    return err_setf(s->e, DUR_ETYPE, "%s:%d: key '%s': expected %s, got %s", s->file, v->line,
                    kp, t == CFG_INT ? "an integer" : cfg__tname(s, t), cfg__tname(s, v->type));
}

int cfg__fail(sc *s, int line, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        return err_setf(s->e, DUR_EPARSE, "%s:%d: %s", s->file, line, msg);
    return err_setf(s->e, DUR_EPARSE, "%s: %s", s->file, msg);
}

void cfg__kp(char out[CFG_KP_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, CFG_KP_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(out, CFG_KP_MAX, "?");
    else if (n >= CFG_KP_MAX)
        memcpy(out + CFG_KP_MAX - 4, "...", 4); /* a key path only names; mark the cut */
}

int cfg__oom(sc *s)
{
    return err_setf(s->e, DUR_ENOMEM, "%s: out of memory", s->file);
}

int cfg__warn_text(config *c, const char *text)
{
    char *copy = strdup(text);
    char **w = copy ? realloc(c->warnings, (c->warnings_count + 1) * sizeof *w) : NULL;
    if (!w) {
        free(copy);
        return DUR_ENOMEM;
    }
    c->warnings = w;
    w[c->warnings_count++] = copy;
    return 0;
}

int cfg__warn(sc *s, int line, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX], full[ERR_MSG_MAX + 300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(full, sizeof full, "%s:%d: %s", s->file, line, msg);
    else
        snprintf(full, sizeof full, "%s: %s", s->file, msg);
    return cfg__warn_text(s->c, full) < 0 ? cfg__oom(s) : 0;
}

int cfg__get_str(sc *s, const cfg_value *v, const char *kp, char **out)
{
    if (cfg__want(s, v, kp, CFG_STRING) < 0)
        return DUR_ETYPE;
    if (memchr(v->str, '\0', v->str_len))
        return cfg__fail(s, v->line, "key '%s': the string contains U+0000", kp);
    free(*out);
    *out = strdup(v->str);
    return *out ? 0 : cfg__oom(s);
}

int cfg__get_str_array(sc *s, const cfg_value *v, const char *kp, char ***out, size_t *count)
{
    if (cfg__want(s, v, kp, CFG_ARRAY) < 0)
        return DUR_ETYPE;
    char **arr = calloc(v->count ? v->count : 1, sizeof *arr);
    if (!arr)
        return cfg__oom(s);
    for (size_t i = 0; i < v->count; i++) {
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s[%zu]", kp, i);
        if (cfg__get_str(s, v->items[i], ikp, &arr[i]) < 0) {
            cfg__free_strs(arr, i + 1);
            return DUR_ETYPE;
        }
    }
    *out = arr;
    *count = v->count;
    return 0;
}

void cfg__free_strs(char **arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        free(arr[i]);
    free(arr);
}

/* ---- file lookup (CFG-1, CFG-4) ---- */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sets *abs (realpath) and *display for the config file to read. */
static int locate(const char *cwd, const char *explicit_path, char **abs, char **display,
                  err *e)
{
    char cand[PATH_MAX];
    if (explicit_path) {
        int n = explicit_path[0] == '/'
                    ? snprintf(cand, sizeof cand, "%s", explicit_path)
                    : snprintf(cand, sizeof cand, "%s/%s", cwd, explicit_path);
        if (n < 0 || (size_t)n >= sizeof cand)
            return err_setf(e, DUR_EINVAL, "config path '%s' is too long", explicit_path);
        if (!file_exists(cand))
            return err_setf(e, DUR_ENOTFOUND, "config file '%s' not found", explicit_path);
        *display = strdup(explicit_path);
    } else {
        static const char *const names[] = {"wrangler.json", "wrangler.jsonc", "wrangler.toml"};
        size_t i;
        for (i = 0; i < 3; i++) {
            int n = snprintf(cand, sizeof cand, "%s/%s", cwd, names[i]);
            if (n < 0 || (size_t)n >= sizeof cand)
                return err_setf(e, DUR_EINVAL, "directory '%s' is too long", cwd);
            if (file_exists(cand))
                break;
        }
        if (i == 3)
            return err_setf(e, DUR_ENOTFOUND,
                            "no wrangler.json, wrangler.jsonc or wrangler.toml in %s "
                            "(or pass --config FILE)", cwd);
        *display = strdup(names[i]);
    }
    *abs = realpath(cand, NULL);
    if (!*abs || !*display) {
        free(*abs);
        free(*display);
        *abs = *display = NULL;
        return err_setf(e, -errno ? -errno : DUR_ENOMEM, "cannot resolve '%s': %s", cand,
                        strerror(errno));
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- scalar keys ---- */

/* CFG-5: letters, digits, '-'; '_' tolerated with a warning; 1..63 characters. */
static int check_name(sc *s, const char *name, int line, const char *kp)
{
    size_t n = strlen(name);
    if (n == 0)
        return cfg__fail(s, line, "key '%s': the Worker name is empty", kp);
    if (n > CFG_NAME_MAX)
        return cfg__fail(s, line, "key '%s': Worker name '%.80s' is %zu characters, more "
                         "than %d", kp, name, n, CFG_NAME_MAX);
    bool underscore = false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-')
            continue;
        if (c == '_') {
            underscore = true;
            continue;
        }
        return cfg__fail(s, line, "key '%s': '%.80s' is not a valid Worker name: use letters, "
                         "digits and '-' (found '%c' at position %zu)", kp, name,
                         (c > 0x20 && c < 0x7F) ? c : '?', i + 1);
    }
    if (underscore)
        return cfg__warn(s, line, "key '%s': Worker name '%s' contains '_'; Cloudflare "
                         "accepts only letters, digits and '-'", kp, name);
    return 0;
}

static int load_main(sc *s, const cfg_value *v, const char *kp)
{
    char *rel = NULL;
    if (cfg__get_str(s, v, kp, &rel) < 0)
        return DUR_ETYPE;
    int rc = 0;
    if (!rel[0]) {
        rc = cfg__fail(s, v->line, "key '%s': the entry module path is empty", kp);
        goto done;
    }
    if (ends_with(rel, ".ts") || ends_with(rel, ".tsx") || ends_with(rel, ".mts") ||
        ends_with(rel, ".cts")) {
        rc = cfg__fail(s, v->line, "key '%s': '%s' is TypeScript; durable runs JavaScript "
                       "and does not bundle: build it first (for example with esbuild or "
                       "`wrangler deploy --dry-run --outdir dist`) and set main to the .js "
                       "output", kp, rel);
        goto done;
    }
    char full[PATH_MAX];
    int n = rel[0] == '/' ? snprintf(full, sizeof full, "%s", rel)
                          : snprintf(full, sizeof full, "%s/%s", s->c->dir, rel);
    if (n < 0 || (size_t)n >= sizeof full) {
        rc = cfg__fail(s, v->line, "key '%s': path '%.80s' is too long", kp, rel);
        goto done;
    }
    if (!file_exists(full)) {
        rc = cfg__fail(s, v->line, "key '%s': entry module '%s' not found (looked for %s)", kp,
                       rel, full);
        goto done;
    }
    s->c->main = realpath(full, NULL);
    if (!s->c->main)
        rc = cfg__fail(s, v->line, "key '%s': cannot resolve '%s': %s", kp, full,
                       strerror(errno));
done:
    free(rel);
    return rc;
}

bool cfg__date_valid(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return false;
    int y = atoi_n(d, 4), m = atoi_n(d + 5, 2), day = atoi_n(d + 8, 2);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || day < 1 || day > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && day == 29 && !leap);
}

/* CFG-7 */
static int load_compat_date(sc *s, const cfg_value *v, const char *kp)
{
    config *c = s->c;
    if (!v) {
        char today[16];
        time_t now = time(NULL);
        struct tm tm;
        if (!localtime_r(&now, &tm) || strftime(today, sizeof today, "%Y-%m-%d", &tm) != 10)
            snprintf(today, sizeof today, "%s", CONFIG_COMPAT_DATE_MAX);
        if (strcmp(today, CONFIG_COMPAT_DATE_MAX) > 0)
            snprintf(today, sizeof today, "%s", CONFIG_COMPAT_DATE_MAX);
        c->compatibility_date = strdup(today);
        if (!c->compatibility_date)
            return cfg__oom(s);
        return cfg__warn(s, 0, "no compatibility_date set; using %s (add "
                         "compatibility_date = \"%s\" to pin it)", today, today);
    }
    if (cfg__get_str(s, v, kp, &c->compatibility_date) < 0)
        return DUR_ETYPE;
    if (!cfg__date_valid(c->compatibility_date))
        return cfg__fail(s, v->line, "key '%s': '%.40s' is not a valid date (expected "
                         "\"YYYY-MM-DD\")", kp, c->compatibility_date);
    if (strcmp(c->compatibility_date, CONFIG_COMPAT_DATE_MAX) > 0) {
        if (cfg__warn(s, v->line, "key '%s': %s is after the newest date durable supports; "
                      "using %s", kp, c->compatibility_date, CONFIG_COMPAT_DATE_MAX) < 0)
            return DUR_ENOMEM;
        memcpy(c->compatibility_date, CONFIG_COMPAT_DATE_MAX, 11);
    }
    return 0;
}

static bool known_flag(const char *f)
{
    if (strncmp(f, "no_", 3) == 0)
        f += 3;
    for (int i = 0; cfg__known_flags[i]; i++)
        if (strcmp(cfg__known_flags[i], f) == 0)
            return true;
    return false;
}

/* CFG-8 */
static int load_flags(sc *s, const cfg_value *v, const char *kp)
{
    config *c = s->c;
    if (cfg__get_str_array(s, v, kp, &c->compatibility_flags, &c->compatibility_flags_count) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < c->compatibility_flags_count; i++) {
        const char *f = c->compatibility_flags[i];
        int line = v->items[i]->line;
        if (!known_flag(f) &&
            cfg__warn(s, line, "key '%s[%zu]': unknown compatibility flag '%s' (ignored)", kp,
                      i, f) < 0)
            return DUR_ENOMEM;
        for (size_t j = 0; j < c->compatibility_flags_count; j++) {
            const char *g = c->compatibility_flags[j];
            if (strncmp(g, "no_", 3) == 0 && strcmp(g + 3, f) == 0)
                return cfg__fail(s, line, "key '%s': compatibility flags '%s' and '%s' "
                                 "contradict each other", kp, f, g);
        }
    }
    return 0;
}

/* CFG-9, ENV-3 */
static int load_vars(sc *s, const cfg_value *v, const char *kp)
{
    config *c = s->c;
    if (cfg__want(s, v, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    c->vars = calloc(v->count ? v->count : 1, sizeof *c->vars);
    c->var_is_secret = calloc(v->count ? v->count : 1, sizeof *c->var_is_secret);
    if (!c->vars || !c->var_is_secret)
        return cfg__oom(s);
    for (size_t i = 0; i < v->count; i++) {
        const cfg_value *x = v->items[i];
        config_var *var = &c->vars[c->vars_count++];
        var->name = strdup(v->keys[i]);
        if (!var->name)
            return cfg__oom(s);
        if (x->type == CFG_STRING) {
            char ikp[CFG_KP_MAX];
            cfg__kp(ikp, "%s.%.100s", kp, v->keys[i]);
            if (cfg__get_str(s, x, ikp, &var->value) < 0)
                return DUR_EPARSE;
        } else {
            var->value = cfg_value_to_json(x);
            var->is_json = true;
            if (!var->value)
                return cfg__oom(s);
        }
    }
    return 0;
}

static int load_limits(sc *s, const cfg_value *v, const char *kp)
{
    if (cfg__want(s, v, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < v->count; i++) {
        const cfg_value *x = v->items[i];
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s.%.100s", kp, v->keys[i]);
        if (strcmp(v->keys[i], "cpu_ms") != 0) {
            if (cfg__warn(s, x->line, "unknown key '%s' (ignored)", ikp) < 0)
                return DUR_ENOMEM;
            continue;
        }
        if (cfg__want(s, x, ikp, CFG_INT) < 0)
            return DUR_ETYPE;
        if (x->i < 1 || x->i > CFG_CPU_MS_MAX)
            return cfg__fail(s, x->line, "key '%s': %lld is out of range (1 to %d)", ikp, x->i,
                             CFG_CPU_MS_MAX);
        s->c->cpu_ms = x->i;
    }
    return 0;
}

/* Light CRON check: five fields of digits, names and * , - / ? L W #. */
static bool cron_valid(const char *cron)
{
    int fields = 0;
    const char *p = cron;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        fields++;
        while (*p && *p != ' ' && *p != '\t') {
            char c = *p++;
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  strchr("*,-/?#", c)))
                return false;
        }
    }
    return fields == 5;
}

static int load_triggers(sc *s, const cfg_value *v, const char *kp)
{
    if (cfg__want(s, v, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < v->count; i++) {
        const cfg_value *x = v->items[i];
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s.%.100s", kp, v->keys[i]);
        if (strcmp(v->keys[i], "crons") != 0) {
            if (cfg__warn(s, x->line, "unknown key '%s' (ignored)", ikp) < 0)
                return DUR_ENOMEM;
            continue;
        }
        config *c = s->c;
        cfg__free_strs(c->crons, c->crons_count);
        c->crons = NULL;
        c->crons_count = 0;
        if (cfg__get_str_array(s, x, ikp, &c->crons, &c->crons_count) < 0)
            return DUR_ETYPE;
        for (size_t j = 0; j < c->crons_count; j++)
            if (!cron_valid(c->crons[j]))
                return cfg__fail(s, x->items[j]->line, "key '%s[%zu]': '%.80s' is not a cron "
                                 "expression (expected 5 fields: minute hour day-of-month "
                                 "month day-of-week)", ikp, j, c->crons[j]);
    }
    return 0;
}

/* ---- key checks (CFG-3, CFG-16, ENV-5) ---- */

static bool in_list(const char *const *list, const char *k)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], k) == 0)
            return true;
    return false;
}

/* Every key of a top-level or [env.X] table: known, ignored (notice), unsupported
 * binding (error) or unknown (warning). `prefix` is "" or "env.X.". */
static int check_keys(sc *s, const cfg_value *t, const char *prefix, bool is_env)
{
    static const char *const known[] = {
        "name", "main", "compatibility_date", "compatibility_flags", "vars",
        "durable_objects", "limits", "triggers", NULL,
    };
    for (size_t i = 0; i < t->count; i++) {
        const char *k = t->keys[i];
        const cfg_value *v = t->items[i];
        if (in_list(known, k) || (!is_env && (strcmp(k, "migrations") == 0 ||
                                              strcmp(k, "env") == 0 || strcmp(k, "$schema") == 0)))
            continue;
        if (is_env && strcmp(k, "migrations") == 0)
            return cfg__fail(s, v->line, "key '%smigrations': migrations are top-level only "
                             "(they apply to every environment); move them out of the "
                             "environment", prefix);
        int rc = 0;
        if (in_list(ignored_keys, k)) {
            rc = cfg__warn(s, v->line, "ignored: '%s%s' is not used by durable", prefix, k);
        } else {
            int u;
            for (u = 0; unsupported[u].key; u++)
                if (strcmp(unsupported[u].key, k) == 0)
                    break;
            if (unsupported[u].key) {
                /* An empty list declares nothing: accept it. */
                if ((v->type == CFG_ARRAY || v->type == CFG_TABLE) && v->count == 0)
                    continue;
                return cfg__fail(s, v->line, "key '%s%s': %s bindings are not supported by "
                                 "durable (only Durable Objects, vars and .dev.vars secrets); "
                                 "remove it", prefix, k, unsupported[u].what);
            }
            rc = cfg__warn(s, v->line, "unknown key '%s%s' (ignored)", prefix, k);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- environments (CFG-20..22) ---- */

static int select_env(sc *s, const cfg_value *root, const char *env_name, const cfg_value **out)
{
    const cfg_value *envs = cfg_table_get(root, "env");
    *out = NULL;
    if (envs) {
        if (cfg__want(s, envs, "env", CFG_TABLE) < 0)
            return DUR_ETYPE;
        for (size_t i = 0; i < envs->count; i++) {
            char kp[CFG_KP_MAX];
            cfg__kp(kp, "env.%.100s", envs->keys[i]);
            if (cfg__want(s, envs->items[i], kp, CFG_TABLE) < 0)
                return DUR_ETYPE;
            const cfg_value *m = cfg_table_get(envs->items[i], "migrations");
            if (m) /* CFG-21 holds for every environment, selected or not */
                return cfg__fail(s, m->line, "key '%s.migrations': migrations are top-level "
                                 "only (they apply to every environment); move them out of "
                                 "the environment", kp);
        }
    }
    if (!env_name)
        return 0;
    *out = envs ? cfg_table_get(envs, env_name) : NULL;
    if (*out)
        return 0;
    char names[256] = "";
    size_t used = 0;
    for (size_t i = 0; envs && i < envs->count && used < sizeof names - 1; i++) {
        int n = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                         envs->keys[i]);
        if (n < 0 || (size_t)n >= sizeof names - used) {
            memcpy(names + sizeof names - 4, "...", 4);
            break;
        }
        used += (size_t)n;
    }
    return err_setf(s->e, DUR_ENOTFOUND, "%s: environment '%s' not found (defined: %s)", s->file,
                    env_name, used ? names : "none");
}

/* The value of an inheritable key: the environment's, else the top level's. */
static const cfg_value *pick(sc *s, const cfg_value *root, const cfg_value *env,
                             const char *key, char kp[CFG_KP_MAX])
{
    const cfg_value *v = env ? cfg_table_get(env, key) : NULL;
    if (v) {
        cfg__kp(kp, "env.%s.%s", s->env, key);
        return v;
    }
    cfg__kp(kp, "%s", key);
    return cfg_table_get(root, key);
}

/* A non-inheritable key: only the environment's when one is selected (CFG-20). */
static const cfg_value *own(sc *s, const cfg_value *root, const cfg_value *env,
                            const char *key, char kp[CFG_KP_MAX], int *rc)
{
    *rc = 0;
    if (!env) {
        cfg__kp(kp, "%s", key);
        return cfg_table_get(root, key);
    }
    cfg__kp(kp, "env.%s.%s", s->env, key);
    const cfg_value *v = cfg_table_get(env, key);
    const cfg_value *top = cfg_table_get(root, key);
    if (!v && top && (top->type != CFG_TABLE || top->count > 0))
        *rc = cfg__warn(s, top->line, "'%s' is set at the top level but not in [env.%s]; "
                        "environments do not inherit it, so environment '%s' has no %s",
                        key, s->env, s->env, key);
    return v;
}

static int load_name(sc *s, const cfg_value *root, const cfg_value *env)
{
    char kp[CFG_KP_MAX];
    const cfg_value *v = pick(s, root, env, "name", kp);
    if (!v)
        return cfg__fail(s, 0, "key 'name' is required (the Worker's name)");
    if (cfg__get_str(s, v, kp, &s->c->name) < 0)
        return DUR_ETYPE;
    if (env && !cfg_table_get(env, "name")) { /* CFG-22: <name>-<env> */
        size_t n = strlen(s->c->name) + strlen(s->env) + 2;
        char *full = malloc(n);
        if (!full)
            return cfg__oom(s);
        snprintf(full, n, "%s-%s", s->c->name, s->env);
        free(s->c->name);
        s->c->name = full;
    }
    return check_name(s, s->c->name, v->line, kp);
}

static int load_all(sc *s, const cfg_value *root, const char *env_name)
{
    char kp[CFG_KP_MAX];
    const cfg_value *env = NULL, *v;
    int rc;
    if (root->type != CFG_TABLE)
        return cfg__fail(s, root->line, "the top level must be %s, not %s",
                         cfg__tname(s, CFG_TABLE), cfg__tname(s, root->type));
    if ((rc = check_keys(s, root, "", false)) < 0 ||
        (rc = select_env(s, root, env_name, &env)) < 0)
        return rc;
    if (env) {
        char prefix[CFG_KP_MAX];
        cfg__kp(prefix, "env.%.100s.", env_name);
        if ((rc = check_keys(s, env, prefix, true)) < 0)
            return rc;
    }
    if ((rc = load_name(s, root, env)) < 0)
        return rc;
    if (!(v = pick(s, root, env, "main", kp)))
        return cfg__fail(s, 0, "key 'main' is required (the path of the entry module)");
    if ((rc = load_main(s, v, kp)) < 0)
        return rc;
    v = pick(s, root, env, "compatibility_date", kp);
    if ((rc = load_compat_date(s, v, kp)) < 0)
        return rc;
    if ((v = pick(s, root, env, "compatibility_flags", kp)) && (rc = load_flags(s, v, kp)) < 0)
        return rc;
    if ((v = pick(s, root, env, "limits", kp)) && (rc = load_limits(s, v, kp)) < 0)
        return rc;
    if ((v = pick(s, root, env, "triggers", kp)) && (rc = load_triggers(s, v, kp)) < 0)
        return rc;
    v = own(s, root, env, "vars", kp, &rc);
    if (rc < 0 || (v && (rc = load_vars(s, v, kp)) < 0))
        return rc;
    v = own(s, root, env, "durable_objects", kp, &rc);
    if (rc < 0 || (v && (rc = cfg__load_durable_objects(s, v, kp)) < 0))
        return rc;
    if ((v = cfg_table_get(root, "migrations")) && (rc = cfg__load_migrations(s, v)) < 0)
        return rc;
    return 0;
}

int config_load(const char *cwd, const char *explicit_path, const char *env_name,
                config *out, err *e)
{
    memset(out, 0, sizeof *out);
    char *display = NULL, *text = NULL;
    size_t len = 0;
    cfg_value *root = NULL;
    char cwdbuf[PATH_MAX];
    if (!cwd) {
        if (!getcwd(cwdbuf, sizeof cwdbuf))
            return err_setf(e, -errno, "cannot get the current directory: %s", strerror(errno));
        cwd = cwdbuf;
    }
    int rc = locate(cwd, explicit_path, &out->path, &display, e);
    if (rc < 0)
        return rc;
    sc s = {.file = display, .json = !ends_with(display, ".toml"), .c = out, .e = e,
            .env = env_name};
    out->dir = strdup(out->path);
    if (!out->dir) {
        rc = cfg__oom(&s);
        goto done;
    }
    *strrchr(out->dir, '/') = '\0';
    if (!out->dir[0]) { /* the config is in "/" */
        out->dir[0] = '/';
        out->dir[1] = '\0';
    }
    if ((rc = cfg__read_file(out->path, CFG_FILE_BYTES_MAX, &text, &len, e)) < 0)
        goto done;
    root = s.json ? jsonc_parse(display, text, len, e) : toml_parse(display, text, len, e);
    if (!root) {
        rc = e && e->code ? e->code : DUR_EPARSE;
        goto done;
    }
    if ((rc = load_all(&s, root, env_name)) < 0)
        goto done;
    rc = cfg__load_devvars(&s, env_name);
done:
    if (rc < 0)
        config_fini(out);
    cfg_value_free(root);
    free(text);
    free(display);
    return rc;
}

void config_fini(config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->dir);
    free(c->name);
    free(c->main);
    free(c->compatibility_date);
    cfg__free_strs(c->compatibility_flags, c->compatibility_flags_count);
    for (size_t i = 0; c->vars && i < c->vars_count; i++) {
        free(c->vars[i].name);
        free(c->vars[i].value);
    }
    free(c->vars);
    free(c->var_is_secret);
    for (size_t i = 0; c->do_bindings && i < c->do_bindings_count; i++) {
        free(c->do_bindings[i].name);
        free(c->do_bindings[i].class_name);
        free(c->do_bindings[i].script_name);
        free(c->do_bindings[i].environment);
    }
    free(c->do_bindings);
    for (size_t i = 0; c->migrations && i < c->migrations_count; i++)
        cfg__migration_fini(&c->migrations[i]);
    free(c->migrations);
    cfg__free_strs(c->crons, c->crons_count);
    cfg__free_strs(c->warnings, c->warnings_count);
    memset(c, 0, sizeof *c);
}
