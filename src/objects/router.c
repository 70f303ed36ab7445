/* router.c: the registry of namespaces, the per-shard inboxes, and the natives
 * that turn stub calls into messages (see objects.h).
 *
 * Hot path (the do-memory / do-rpc benchmarks): objSend serializes the payload
 * once into a message allocated at its final size, pushes it on the target
 * shard's MPSC inbox and wakes that shard with uv_async_send (coalesced by libuv).
 * The target drains its inbox in one callback, handing each message to the JS
 * half (N.objDeliver / N.objSettle), then pumps the job queue once. */
#include "objects/objects.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/rand.h>

#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/mpsc.h"
#include "js/clone.h"
#include "js/rt.h"
#include "objects/internal.h"

/* ---- namespaces from the migrations ---- */

static obj_ns *ns_find(obj_registry *r, size_t script, const char *cls)
{
    for (size_t i = 0; i < r->ns_count; i++)
        if (r->ns[i].script == script && strcmp(r->ns[i].class_name, cls) == 0)
            return &r->ns[i];
    return NULL;
}

static int ns_add(obj_registry *r, size_t script, const char *cls, const char *identity,
                  int backend)
{
    obj_ns *n = realloc(r->ns, (r->ns_count + 1) * sizeof *n);
    if (!n)
        return DUR_ENOMEM;
    r->ns = n;
    obj_ns *x = &n[r->ns_count];
    x->class_name = strdup(cls);
    x->identity = strdup(identity);
    x->backend = backend;
    x->script = script;
    if (!x->class_name || !x->identity) {
        free(x->class_name);
        free(x->identity);
        return DUR_ENOMEM;
    }
    r->ns_count++;
    return 0;
}

static int deleted_add(obj_registry *r, const char *tag, const char *identity)
{
    obj_deleted *d = realloc(r->deleted, (r->deleted_count + 1) * sizeof *d);
    if (!d)
        return DUR_ENOMEM;
    r->deleted = d;
    d[r->deleted_count].tag = strdup(tag);
    d[r->deleted_count].identity = strdup(identity);
    if (!d[r->deleted_count].tag || !d[r->deleted_count].identity) {
        free(d[r->deleted_count].tag);
        free(d[r->deleted_count].identity);
        return DUR_ENOMEM;
    }
    r->deleted_count++;
    return 0;
}

static void ns_remove(obj_registry *r, obj_ns *x)
{
    free(x->class_name);
    free(x->identity);
    size_t i = (size_t)(x - r->ns);
    memmove(&r->ns[i], &r->ns[i + 1], (r->ns_count - i - 1) * sizeof *r->ns);
    r->ns_count--;
}

/* Replays the migrations of script `script` in order (MIG-7 order inside one
 * migration) to learn which classes are Durable Objects now and each namespace's
 * identity. */
static int build_namespaces(obj_registry *r, size_t script, err *e)
{
    const config *c = r->cfgs[script];
    for (size_t m = 0; m < c->migrations_count; m++) {
        const config_migration *mg = &c->migrations[m];
        for (size_t i = 0; i < mg->deleted_classes_count; i++) {
            obj_ns *x = ns_find(r, script, mg->deleted_classes[i]);
            if (!x)
                return err_setf(e, DUR_EINVAL, "migration '%s': cannot delete class '%s': no "
                                "earlier migration created it", mg->tag, mg->deleted_classes[i]);
            if (deleted_add(r, mg->tag, x->identity) < 0)
                return err_setf(e, DUR_ENOMEM, "out of memory");
            ns_remove(r, x);
        }
        for (size_t i = 0; i < mg->renamed_count; i++) {
            obj_ns *x = ns_find(r, script, mg->renamed[i].from);
            if (!x)
                return err_setf(e, DUR_EINVAL, "migration '%s': cannot rename class '%s': no "
                                "earlier migration created it", mg->tag, mg->renamed[i].from);
            if (ns_find(r, script, mg->renamed[i].to))
                return err_setf(e, DUR_EINVAL, "migration '%s': cannot rename '%s' to '%s': "
                                "'%s' already has a namespace", mg->tag, mg->renamed[i].from,
                                mg->renamed[i].to, mg->renamed[i].to);
            char *nn = strdup(mg->renamed[i].to);
            if (!nn)
                return err_setf(e, DUR_ENOMEM, "out of memory");
            free(x->class_name);
            x->class_name = nn;
        }
        if (mg->transferred_count && !r->lenient)
            return err_setf(e, DUR_EINVAL, "migration '%s': transferred_classes moves a class "
                            "from another script; durable dev runs one script — use durable "
                            "serve for multi-script deployments", mg->tag);
        /* durable serve: a namespace moved here keeps the identity it was created
         * with in the other script, so its ids and data stay (MIG-5). */
        for (size_t i = 0; i < mg->transferred_count; i++) {
            const config_transfer *t = &mg->transferred[i];
            if (ns_find(r, script, t->to))
                return err_setf(e, DUR_EINVAL, "migration '%s': cannot transfer '%s' to '%s': "
                                "'%s' already has a namespace", mg->tag, t->from, t->to, t->to);
            char ident[1024];
            snprintf(ident, sizeof ident, "%s/%s", t->from_script, t->from);
            if (ns_add(r, script, t->to, ident, t->backend ? t->backend : 2) < 0)
                return err_setf(e, DUR_ENOMEM, "out of memory");
        }
        for (int pass = 0; pass < 2; pass++) {
            char **list = pass ? mg->new_sqlite_classes : mg->new_classes;
            size_t n = pass ? mg->new_sqlite_classes_count : mg->new_classes_count;
            for (size_t i = 0; i < n; i++) {
                if (ns_find(r, script, list[i]))
                    return err_setf(e, DUR_EINVAL, "migration '%s': class '%s' already has a "
                                    "namespace", mg->tag, list[i]);
                char ident[1024];
                snprintf(ident, sizeof ident, "%s/%s", c->name, list[i]);
                if (ns_add(r, script, list[i], ident, pass ? 2 : 1) < 0)
                    return err_setf(e, DUR_ENOMEM, "out of memory");
            }
        }
    }
    /* Several scripts (durable serve): a binding is resolved when env is made
     * (obj_env_bind_script), and one that resolves to nothing is left out there. */
    for (size_t i = 0; !r->lenient && i < c->do_bindings_count; i++) {
        const config_do_binding *b = &c->do_bindings[i];
        if (b->script_name && strcmp(b->script_name, c->name) != 0)
            return err_setf(e, DUR_EINVAL, "binding '%s' names class '%s' of script '%s': "
                            "bindings to another script need a multi-script deployment "
                            "(durable serve); durable dev runs one script", b->name,
                            b->class_name, b->script_name);
        if (!ns_find(r, script, b->class_name))
            return err_setf(e, DUR_EINVAL, "Cannot create binding for class '%s' because it is "
                            "not currently configured to implement Durable Objects. Ensure a "
                            "new-class migration has been applied to it: add "
                            "[[migrations]] tag = \"v1\" new_sqlite_classes = [\"%s\"] to the "
                            "configuration (binding '%s')", b->class_name, b->class_name, b->name);
    }
    return 0;
}

static obj_registry *registry_new(const config *const *cfgs, size_t cfg_count,
                                  const char *persist_dir, int threads, const obj_opts *opts,
                                  bool lenient, err *e);

obj_registry *obj_registry_new(const config *cfg, const char *persist_dir, int shard_count,
                               const obj_opts *opts, err *e)
{
    return registry_new(&cfg, 1, persist_dir, shard_count, opts, false, e);
}

obj_registry *obj_registry_new_multi(const config *const *cfgs, size_t cfg_count,
                                     const char *persist_dir, int threads, const obj_opts *opts,
                                     err *e)
{
    return registry_new(cfgs, cfg_count, persist_dir, threads, opts, true, e);
}

static obj_registry *registry_new(const config *const *cfgs, size_t cfg_count,
                                  const char *persist_dir, int threads, const obj_opts *opts,
                                  bool lenient, err *e)
{
    if (cfg_count == 0 || threads <= 0) {
        err_setf(e, DUR_EINVAL, "objects: a registry needs a script and a shard");
        return NULL;
    }
    obj_registry *r = calloc(1, sizeof *r);
    if (!r) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    r->cfg = cfgs[0];
    r->cfg_one[0] = cfgs[0];
    r->cfgs = cfg_count == 1 ? r->cfg_one : cfgs;
    r->cfg_count = cfg_count;
    r->threads = threads;
    r->lenient = lenient;
    int shard_count = threads * (int)cfg_count;
    r->opts = *opts;
    if (!r->opts.idle_ms)
        r->opts.idle_ms = OBJ_IDLE_MS_DEFAULT;
    if (!r->opts.call_bytes_max)
        r->opts.call_bytes_max = OBJ_CALL_BYTES_MAX;
    if (!r->opts.queue_max)
        r->opts.queue_max = OBJ_QUEUE_MAX_DEFAULT;
    if (!r->opts.queue_bytes_max)
        r->opts.queue_bytes_max = OBJ_QUEUE_BYTES_MAX_DEFAULT;
    if (!r->opts.queue_wait_ms)
        r->opts.queue_wait_ms = OBJ_QUEUE_WAIT_MS_DEFAULT;
    r->shard_count = shard_count;
    r->inboxes = calloc((size_t)shard_count, sizeof *r->inboxes);
    if (!r->inboxes) {
        free(r);
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < shard_count; i++)
        mpsc_init(&r->inboxes[i].q);
    bool need_secret = false;
    for (size_t i = 0; i < cfg_count; i++)
        need_secret = need_secret || cfgs[i]->migrations_count > 0 ||
                      cfgs[i]->do_bindings_count > 0;
    r->persist_dir = strdup(persist_dir);
    if (!r->persist_dir) {
        obj_registry_free(r);
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    /* Cluster mode: every node makes the same ids, with the secret in PostgreSQL. */
    if (r->opts.cluster) {
        memcpy(r->secret, obj__cluster_secret(r->opts.cluster), OBJ_KEY_BYTES);
        if (obj__cluster_reg_add(r->opts.cluster, r) < 0) {
            r->opts.cluster = NULL;
            obj_registry_free(r);
            err_setf(e, DUR_ENOMEM, "out of memory");
            return NULL;
        }
    } else if (need_secret && obj_secret_load(persist_dir, r->secret, e) < 0) {
        obj_registry_free(r);
        return NULL;
    }
    for (size_t i = 0; i < cfg_count; i++)
        if (build_namespaces(r, i, e) < 0) {
            obj_registry_free(r);
            return NULL;
        }
    for (size_t i = 0; i < r->ns_count; i++)
        obj_ns_key_derive(r->secret, r->ns[i].identity, strlen(r->ns[i].identity), r->ns[i].key);
    if (need_secret && obj_persist_init(r, e) < 0) {
        obj_registry_free(r);
        return NULL;
    }
    return r;
}

void obj_registry_free(obj_registry *r)
{
    if (!r)
        return;
    if (r->opts.cluster)   /* no frame reaches its inboxes from now on */
        obj__cluster_reg_remove(r->opts.cluster, r);
    for (int i = 0; r->inboxes && i < r->shard_count; i++) {
        mpsc_node *n;
        while ((n = mpsc_pop(&r->inboxes[i].q)))
            free(n);
    }
    while (r->ns_count)
        ns_remove(r, &r->ns[r->ns_count - 1]);
    for (size_t i = 0; i < r->deleted_count; i++) {
        free(r->deleted[i].tag);
        free(r->deleted[i].identity);
    }
    free(r->deleted);
    free(r->persist_dir);
    free(r->ns);
    free(r->inboxes);
    free(r);
}

size_t obj_registry_ns_count(const obj_registry *r)
{
    return r->ns_count;
}

const char *obj_registry_ns_class(const obj_registry *r, size_t ns)
{
    return ns < r->ns_count ? r->ns[ns].class_name : NULL;
}

size_t obj_registry_script_ns_count(const obj_registry *r, size_t script)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ns_count; i++)
        n += r->ns[i].script == script;
    return n;
}

const char *obj_registry_script_ns_class(const obj_registry *r, size_t script, size_t k)
{
    for (size_t i = 0; i < r->ns_count; i++)
        if (r->ns[i].script == script && k-- == 0)
            return r->ns[i].class_name;
    return NULL;
}

/* ---- messages ---- */

/* An object's inbox: its script's block of inboxes, then hash(id) % threads (so an
 * id is on the same shard thread whatever the script's place in the list). */
static int shard_of(const obj_registry *r, uint32_t ns, const obj_id *id)
{
    return (int)r->ns[ns].script * r->threads + (int)(obj_id_hash(id) % (uint64_t)r->threads);
}

int obj_registry_shard_of(const obj_registry *r, size_t ns, const char *hex)
{
    int k = obj_shard_of_hex(r, hex);
    return k < 0 || ns >= r->ns_count ? -1 : (int)r->ns[ns].script * r->threads + k;
}

void obj__msg_push(obj_registry *r, int shard, obj_msg *m)
{
    if (shard < 0) {   /* a caller on another node (cluster mode) */
        if (r->opts.cluster && shard <= OBJ_RELAY_BASE)
            obj__relay_send(r, shard, m);
        else if (r->opts.cluster && shard <= -2)
            obj__cluster_reply(r, shard, m);
        else
            free(m);
        return;
    }
    inbox *ib = &r->inboxes[shard];
    mpsc_push(&ib->q, &m->node);
    uv_async_t *w = atomic_load_explicit(&ib->wake, memory_order_acquire);
    if (w)
        uv_async_send(w);
}

static obj_shard *shard_of_ctx(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_OBJECTS);
}

void obj__deliver(obj_shard *s, obj_msg *m)
{
    JSContext *ctx = s->ctx;
    JSValue payload = js_clone_read(ctx, m->data, m->len);
    JSValue native = js_native(ctx);
    JSValue fn, r;
    if (JS_IsException(payload)) {
        js_log_exception(ctx, "internal error: a Durable Object message could not be read");
        return;
    }
    if (m->kind == MSG_REPLY) {
        fn = JS_GetPropertyStr(ctx, native, "objSettle");
        JSValue args[4] = {JS_NewFloat64(ctx, m->call_id), JS_NewInt32(ctx, m->status), payload,
                           JS_NewInt32(ctx, m->from_shard)};
        r = JS_Call(ctx, fn, JS_UNDEFINED, 4, args);
    } else if (m->kind == MSG_WS) {
        fn = JS_GetPropertyStr(ctx, native, "objWsDeliver");
        JSValue args[2] = {payload, JS_NewInt32(ctx, m->from_shard)};
        r = JS_Call(ctx, fn, JS_UNDEFINED, 2, args);
    } else if (m->kind == MSG_REFCALL) {
        fn = JS_GetPropertyStr(ctx, native, "objRefCall");
        JSValue args[3] = {payload, JS_NewInt32(ctx, m->from_shard), JS_NewFloat64(ctx, m->call_id)};
        r = JS_Call(ctx, fn, JS_UNDEFINED, 3, args);
    } else {
        char hex[OBJ_ID_HEX_LEN + 1];
        obj_id_hex(&m->id, hex);
        fn = JS_GetPropertyStr(ctx, native, "objDeliver");
        JSValue args[8] = {JS_NewInt32(ctx, m->kind), JS_NewInt32(ctx, (int32_t)m->ns),
                           JS_NewStringLen(ctx, hex, OBJ_ID_HEX_LEN), payload,
                           JS_NewInt32(ctx, m->from_shard), JS_NewFloat64(ctx, m->call_id),
                           JS_NewFloat64(ctx, (double)m->sent_ns / 1e6),
                           JS_NewFloat64(ctx, (double)m->len)};
        r = JS_Call(ctx, fn, JS_UNDEFINED, 8, args);
        JS_FreeValue(ctx, args[2]);
    }
    if (JS_IsException(r))
        js_log_exception(ctx, "internal error while delivering a Durable Object message");
    JS_FreeValue(ctx, r);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, payload);
}

/* Messages handed to JS per wake-up before the job queue runs; more come at the
 * next loop iteration, after the loop's other work. */
#define INBOX_BATCH_MAX 4096

/* Every message of the batch is queued at its object before any promise reaction
 * or turn runs: an object's queue then holds what is really waiting for it, so the
 * overload bounds (LIM-31) see a backlog that would otherwise sit unseen in the
 * inbox while the turns started events 64 at a time. */
static void on_wake(uv_async_t *a)
{
    obj_shard *s = a->data;
    inbox *ib = &s->reg->inboxes[s->index];
    if (!s->ctx)
        return;   /* not attached yet: obj_shard_attach drains */
    js_rt *rt = js_rt_of(s->ctx);
    mpsc_node *n = NULL;
    int batch = 0;
    while (batch < INBOX_BATCH_MAX && (n = mpsc_pop(&ib->q))) {
        obj_msg *m = (obj_msg *)n;
        /* Each message is a turn of its own: a reply resumes the event that made
         * the call (N.objSettle enters it), and the jobs it causes are drained
         * here, charged to that event (js/rt.h "events"). The clock read that
         * ends one message's drain starts the next message's run. */
        /* Cluster mode: a call for an object not owned here waits for its claim or
         * goes to its owner (owner.c). */
        if (s->owners && obj__cluster_route(s, m)) {
            batch++;
            continue;
        }
        js_rt_event_begin_fresh(rt, batch > 0); /* one clock read per message */
        obj__deliver(s, m);
        js_rt_event_end(rt);
        js_rt_drain(rt);
        free(m);
        batch++;
    }
    if (batch == INBOX_BATCH_MAX)
        uv_async_send(&s->async);
    js_rt_pump(rt);
}

obj_shard *obj_shard_new(obj_registry *reg, int index, uv_loop_t *loop, err *e)
{
    obj_shard *s = calloc(1, sizeof *s);
    if (!s) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    s->reg = reg;
    s->index = index;
    if (obj__gates_open(s) < 0) {
        free(s);
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    if (uv_async_init(loop, &s->async, on_wake) != 0) {
        obj_gates_free(s->gates);
        free(s);
        err_setf(e, DUR_ENOMEM, "could not create the shard's inbox wake-up");
        return NULL;
    }
    s->async.data = s;
    if (reg->opts.cluster && obj__cluster_shard_open(s, loop) < 0) {
        obj_shard_close(s);
        err_setf(e, DUR_ENOMEM, "could not open the shard's cluster port");
        return NULL;
    }
    return s;
}

void obj_shard_attach(obj_shard *s, JSContext *ctx)
{
    s->pending_ctx = ctx;
    js_ctx_set_slot(ctx, JS_SLOT_OBJECTS, s);
    if (s->owners)   /* before any database of the shard opens */
        obj__cluster_attach(s, ctx);
}

static void call_native_fn(JSContext *ctx, const char *name)
{
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), name);
    if (JS_IsFunction(ctx, fn)) {
        JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 0, NULL);
        if (JS_IsException(r))
            js_log_exception(ctx, "internal error in the objects layer");
        JS_FreeValue(ctx, r);
    }
    JS_FreeValue(ctx, fn);
}

/* A turn (js_rt_set_turn_hook): the JS half delivers the next events of objects
 * and commits what they wrote. */
static void on_turn(js_rt *rt, void *ud)
{
    (void)rt;
    obj_shard *s = ud;
    if (s->ctx)
        call_native_fn(s->ctx, "objTurn");
}

void obj_shard_start(obj_shard *s)
{
    s->ctx = s->pending_ctx;
    if (s->ctx) {
        js_rt *rt = js_rt_of(s->ctx);
        js_rt_set_turn_hook(rt, on_turn, s);
        js_rt_event_begin(rt);
        call_native_fn(s->ctx, "objStart");   /* alarms pending from earlier runs */
        js_rt_event_end(rt);
        js_rt_pump(rt);
    }
    atomic_store_explicit(&s->reg->inboxes[s->index].wake, &s->async, memory_order_release);
    uv_async_send(&s->async);   /* deliver what arrived before we were ready */
}

static void on_async_closed(uv_handle_t *h)
{
    free(h->data);
}

void obj_shard_close(obj_shard *s)
{
    if (!s)
        return;
    atomic_store_explicit(&s->reg->inboxes[s->index].wake, NULL, memory_order_release);
    metrics_objects_live(0);   /* its instances go with the context */
    obj__cluster_shard_close(s);
    obj_persist_shard_close(s);
    obj_gates_free(s->gates);
    s->gates = NULL;
    s->ctx = NULL;
    s->pending_ctx = NULL;
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}

/* ---- natives ---- */

static int get_ns(JSContext *ctx, obj_shard *s, JSValueConst v, uint32_t *ns)
{
    if (!s)
        return JS_ThrowInternalError(ctx, "Durable Objects are not available here"), -1;
    if (JS_ToUint32(ctx, ns, v) < 0)
        return -1;
    if (*ns >= s->reg->ns_count)
        return JS_ThrowInternalError(ctx, "unknown Durable Object namespace %u", *ns), -1;
    return 0;
}

/* Ids as JS holds them: the binary id, its namespace and its shard, checked once
 * when the id is made or parsed; a stub sends through it without parsing or
 * re-checking anything. Immutable, so one target is shared by every id and stub of
 * the same object in a context. */
static JSClassID target_class_id;

typedef struct obj_target {
    obj_id id;
    uint32_t ns;
    int32_t shard;
} obj_target;

static void target_finalizer(JSRuntime *rt, JSValue v)
{
    (void)rt;
    free(JS_GetOpaque(v, target_class_id));
}

static JSValue target_new(JSContext *ctx, obj_shard *s, uint32_t ns, const obj_id *id)
{
    obj_target *t = malloc(sizeof *t);
    if (!t)
        return JS_ThrowOutOfMemory(ctx);
    JSValue v = JS_NewObjectClass(ctx, (int)target_class_id);
    if (JS_IsException(v)) {
        free(t);
        return v;
    }
    t->id = *id;
    t->ns = ns;
    t->shard = shard_of(s->reg, ns, id);
    JS_SetOpaque(v, t);
    return v;
}

static obj_target *target_get(JSContext *ctx, JSValueConst v)
{
    obj_target *t = JS_GetOpaque(v, target_class_id);
    if (!t)
        JS_ThrowInternalError(ctx, "internal error: not a Durable Object id target");
    return t;
}

static int get_jur(JSContext *ctx, JSValueConst v, obj_jurisdiction *j)
{
    *j = OBJ_JUR_NONE;
    if (JS_IsUndefined(v) || JS_IsNull(v))
        return 0;
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, v);
    if (!s)
        return -1;
    int r = obj_jurisdiction_parse(s, len);
    if (r < 0) {
        JS_ThrowTypeError(ctx, "Unknown jurisdiction: \"%s\"; expected \"eu\", \"fedramp\", "
                               "\"fedramp-high\" or \"us\"", s);
        JS_FreeCString(ctx, s);
        return -1;
    }
    JS_FreeCString(ctx, s);
    *j = (obj_jurisdiction)r;
    return 0;
}

/* objIdFromName(ns, name, jurisdiction) → target */
static JSValue js_id_from_name(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    uint32_t ns;
    obj_jurisdiction j;
    if (get_ns(ctx, s, argv[0], &ns) < 0 || get_jur(ctx, argv[2], &j) < 0)
        return JS_EXCEPTION;
    size_t len;
    const char *name = JS_ToCStringLen(ctx, &len, argv[1]);
    if (!name)
        return JS_EXCEPTION;
    obj_id id;
    obj_id_from_name(s->reg->ns[ns].key, j, name, len, &id);
    JS_FreeCString(ctx, name);
    return target_new(ctx, s, ns, &id);
}

/* objIdUnique(ns, jurisdiction) → target */
static JSValue js_id_unique(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    uint32_t ns;
    obj_jurisdiction j;
    if (get_ns(ctx, s, argv[0], &ns) < 0 || get_jur(ctx, argv[1], &j) < 0)
        return JS_EXCEPTION;
    obj_id id;
    if (obj_id_unique(s->reg->ns[ns].key, j, &id) < 0)
        return JS_ThrowInternalError(ctx, "newUniqueId: no random bytes available");
    return target_new(ctx, s, ns, &id);
}

/* objIdParse(ns, string) → target, or throws the spec's TypeErrors. */
static JSValue js_id_parse(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    uint32_t ns;
    if (get_ns(ctx, s, argv[0], &ns) < 0)
        return JS_EXCEPTION;
    size_t len;
    const char *hex = JS_ToCStringLen(ctx, &len, argv[1]);
    if (!hex)
        return JS_EXCEPTION;
    obj_id id;
    int rc = obj_id_parse(s->reg->ns[ns].key, hex, len, &id);
    JS_FreeCString(ctx, hex);
    if (rc == DUR_EPARSE)
        return JS_ThrowTypeError(ctx, "Invalid Durable Object ID: must be 64 hex digits");
    if (rc < 0)
        return JS_ThrowTypeError(ctx, "Durable Object ID is not valid for this namespace.");
    return target_new(ctx, s, ns, &id);
}

/* objIdHex(target) → 64 lowercase hex digits */
static JSValue js_id_hex(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_target *t = target_get(ctx, argv[0]);
    if (!t)
        return JS_EXCEPTION;
    char hex[OBJ_ID_HEX_LEN + 1];
    obj_id_hex(&t->id, hex);
    return JS_NewStringLen(ctx, hex, OBJ_ID_HEX_LEN);
}

/* objIdJurisdiction(target) → "eu" | … | undefined */
static JSValue js_id_jurisdiction(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    obj_target *t = target_get(ctx, argv[0]);
    if (!t)
        return JS_EXCEPTION;
    const char *name = obj_jurisdiction_name(obj_id_jurisdiction(&t->id));
    return name ? JS_NewString(ctx, name) : JS_UNDEFINED;
}

obj_msg *obj__msg_new(JSContext *ctx, obj_shard *s, JSValueConst payload)
{
    buf b;
    buf_init(&b, s->reg->opts.call_bytes_max);
    /* Reserve the header in front so the message is one allocation. */
    if (buf_reserve(&b, sizeof(obj_msg)) < 0) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    b.len = sizeof(obj_msg);
    int rc = js_clone_write(ctx, payload, JS_CLONE_REJECT_CLASS_INSTANCES, &b);
    if (rc < 0) {
        buf_fini(&b);
        return NULL;
    }
    size_t total;
    obj_msg *m = (obj_msg *)buf_take(&b, &total);
    memset(m, 0, sizeof *m);
    m->len = total - sizeof(obj_msg);
    return m;
}

/* objSend(kind, target, payload, callId): a call to an object. The target holds
 * the checked binary id and its shard: nothing is parsed or verified here. */
static JSValue js_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    int32_t kind;
    double call_id;
    if (!s)
        return JS_ThrowInternalError(ctx, "Durable Objects are not available here");
    obj_target *t = target_get(ctx, argv[1]);
    if (!t || JS_ToInt32(ctx, &kind, argv[0]) < 0 || JS_ToFloat64(ctx, &call_id, argv[3]) < 0)
        return JS_EXCEPTION;
    obj_msg *m = obj__msg_new(ctx, s, argv[2]);
    if (!m)
        return JS_EXCEPTION;
    m->kind = (uint8_t)kind;
    m->ns = t->ns;
    m->id = t->id;
    m->from_shard = s->index;
    m->call_id = call_id;
    m->sent_ns = uv_hrtime();
    obj__msg_push(s->reg, t->shard, m);
    return JS_UNDEFINED;
}

/* objSendShard(shard, payload, callId): a call on a reference exported by that
 * shard (MSG_REFCALL); the reply comes back as for any call. */
static JSValue js_send_shard(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    obj_shard *s = shard_of_ctx(ctx);
    int32_t to;
    double call_id;
    if (!s)
        return JS_ThrowInternalError(ctx, "Durable Objects are not available here");
    if (JS_ToInt32(ctx, &to, argv[0]) < 0 || JS_ToFloat64(ctx, &call_id, argv[2]) < 0)
        return JS_EXCEPTION;
    if (to < 0 || to >= s->reg->shard_count)
        return JS_ThrowInternalError(ctx, "objSendShard: no shard %d", to);
    obj_msg *m = obj__msg_new(ctx, s, argv[1]);
    if (!m)
        return JS_EXCEPTION;
    m->kind = MSG_REFCALL;
    m->from_shard = s->index;
    m->call_id = call_id;
    obj__msg_push(s->reg, to, m);
    return JS_UNDEFINED;
}

/* objWsSend(shard, payload): a WebSocket frame or event for that shard (MSG_WS),
 * not gated: the connection's side forwards what the client sent, and a reset
 * object's sockets are closed this way. An object's sends go through gateWsSend. */
static JSValue js_ws_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    int32_t to;
    if (!s)
        return JS_ThrowInternalError(ctx, "Durable Objects are not available here");
    if (JS_ToInt32(ctx, &to, argv[0]) < 0)
        return JS_EXCEPTION;
    if (to >= s->reg->shard_count || (to < 0 && !(s->owners && to <= OBJ_RELAY_BASE)))
        return JS_ThrowInternalError(ctx, "objWsSend: no shard %d", to);
    obj_msg *m = obj__msg_new(ctx, s, argv[1]);
    if (!m)
        return JS_EXCEPTION;
    m->kind = MSG_WS;
    m->from_shard = s->index;
    obj__msg_push(s->reg, to, m);
    return JS_UNDEFINED;
}

static JSValue js_shard_index(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    (void)argv;
    obj_shard *s = shard_of_ctx(ctx);
    return JS_NewInt32(ctx, s ? s->index : -1);
}

/* objWantTurn(): asks for a turn once the job queue is empty (see js_rt_set_turn_hook). */
static JSValue js_want_turn(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    (void)argv;
    js_rt_want_turn(js_rt_of(ctx));
    return JS_UNDEFINED;
}

/* objReply(fromShard, callId, status, payload): the answer to a call on a reference
 * (RPC-9). An object's replies go through its gate instead (gateReply, gate.c). */
static JSValue js_reply(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    int32_t to, status;
    double call_id;
    if (!s)
        return JS_ThrowInternalError(ctx, "Durable Objects are not available here");
    if (JS_ToInt32(ctx, &to, argv[0]) < 0 || JS_ToFloat64(ctx, &call_id, argv[1]) < 0 ||
        JS_ToInt32(ctx, &status, argv[2]) < 0)
        return JS_EXCEPTION;
    if (to >= s->reg->shard_count || (to < 0 && !(s->owners && to <= -2)))
        return JS_ThrowInternalError(ctx, "objReply: no shard %d", to);
    obj_msg *m = obj__msg_new(ctx, s, argv[3]);
    if (!m)
        return JS_EXCEPTION;
    m->kind = MSG_REPLY;
    m->status = (uint8_t)status;
    m->call_id = call_id;
    m->from_shard = s->index;
    obj__msg_push(s->reg, to, m);
    return JS_UNDEFINED;
}

static JSValue js_idle_ms(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    return JS_NewInt64(ctx, s ? s->reg->opts.idle_ms : OBJ_IDLE_MS_DEFAULT);
}

/* objLive(count, evicted): the instances in memory on this shard now, and whether
 * one just left for being idle (for /metrics). */
static JSValue js_obj_live(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int64_t n = 0;
    if (argc > 0 && JS_ToInt64(ctx, &n, argv[0]) == 0)
        metrics_objects_live(n);
    if (argc > 1 && JS_ToBool(ctx, argv[1]))
        metrics_object_evicted();
    return JS_UNDEFINED;
}

/* objQueueLimits() → [events, bytes, wait ms] (LIM-31) */
static JSValue js_queue_limits(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = shard_of_ctx(ctx);
    const obj_opts *o = s ? &s->reg->opts : NULL;
    JSValue a = JS_NewArray(ctx);
    JS_SetPropertyUint32(ctx, a, 0, JS_NewUint32(ctx, o ? o->queue_max : OBJ_QUEUE_MAX_DEFAULT));
    JS_SetPropertyUint32(ctx, a, 1, JS_NewUint32(ctx, o ? o->queue_bytes_max
                                                        : OBJ_QUEUE_BYTES_MAX_DEFAULT));
    JS_SetPropertyUint32(ctx, a, 2, JS_NewUint32(ctx, o ? o->queue_wait_ms
                                                        : OBJ_QUEUE_WAIT_MS_DEFAULT));
    return a;
}

/* objClockMs() → the monotonic clock of message send times, in ms */
static JSValue js_clock_ms(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return JS_NewFloat64(ctx, (double)uv_hrtime() / 1e6);
}

void obj_classes_init(void)
{
    if (!target_class_id)
        JS_NewClassID(&target_class_id);
    obj__gate_classes_init();
}

int obj_install(JSContext *ctx, JSValueConst native)
{
    if (!target_class_id) {
        JS_ThrowInternalError(ctx, "objects: obj_classes_init() was not called before the "
                                   "first runtime (server_classes_init does it)");
        return -1;
    }
    JSRuntime *rt = JS_GetRuntime(ctx);
    if (!JS_IsRegisteredClass(rt, target_class_id)) {
        JSClassDef d = {.class_name = "DurableObjectTarget", .finalizer = target_finalizer};
        if (JS_NewClass(rt, target_class_id, &d) < 0)
            return -1;
    }
    if (obj_persist_install(ctx, native) < 0 || obj__gate_install(ctx, native) < 0 ||
        obj__cluster_install(ctx, native) < 0 || obj__relay_install(ctx, native) < 0)
        return -1;
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("objIdFromName", 3, js_id_from_name),
        JS_CFUNC_DEF("objIdUnique", 2, js_id_unique),
        JS_CFUNC_DEF("objIdParse", 2, js_id_parse),
        JS_CFUNC_DEF("objIdHex", 1, js_id_hex),
        JS_CFUNC_DEF("objIdJurisdiction", 1, js_id_jurisdiction),
        JS_CFUNC_DEF("objSend", 4, js_send),
        JS_CFUNC_DEF("objReply", 4, js_reply),
        JS_CFUNC_DEF("objSendShard", 3, js_send_shard),
        JS_CFUNC_DEF("objWsSend", 2, js_ws_send),
        JS_CFUNC_DEF("objShardIndex", 0, js_shard_index),
        JS_CFUNC_DEF("objWantTurn", 0, js_want_turn),
        JS_CFUNC_DEF("objIdleMs", 0, js_idle_ms),
        JS_CFUNC_DEF("objLive", 2, js_obj_live),
        JS_CFUNC_DEF("objQueueLimits", 0, js_queue_limits),
        JS_CFUNC_DEF("objClockMs", 0, js_clock_ms),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}

/* ---- startup checks and env ---- */

int obj_check_exports(const obj_registry *r, JSContext *ctx, JSValueConst exports, err *e)
{
    return obj_check_exports_script(r, 0, ctx, exports, e);
}

int obj_check_exports_script(const obj_registry *r, size_t script, JSContext *ctx,
                             JSValueConst exports, err *e)
{
    for (size_t i = 0; i < r->ns_count; i++) {
        if (r->ns[i].script != script)
            continue;
        JSValue v = JS_GetPropertyStr(ctx, exports, r->ns[i].class_name);
        bool ok = JS_IsFunction(ctx, v) && JS_IsConstructor(ctx, v);
        JS_FreeValue(ctx, v);
        if (!ok)
            return err_setf(e, DUR_EINVAL, "Cannot create binding for class %s that is not "
                            "exported by the script: add `export class %s …` to %s, or delete "
                            "the class with a deleted_classes migration",
                            r->ns[i].class_name, r->ns[i].class_name, r->cfgs[script]->main);
    }
    return 0;
}

int obj_env_bind(const obj_registry *r, JSContext *ctx, JSValueConst env, err *e)
{
    return obj_env_bind_script(r, 0, ctx, env, e);
}

/* The namespace a binding of script `script` names, or r->ns_count. */
static size_t binding_ns(const obj_registry *r, size_t script, const config_do_binding *b)
{
    size_t owner = script;
    if (b->script_name) {
        owner = r->cfg_count;
        for (size_t k = 0; k < r->cfg_count; k++)
            if (strcmp(r->cfgs[k]->name, b->script_name) == 0)
                owner = k;
    }
    size_t ns = 0;
    while (ns < r->ns_count &&
           (r->ns[ns].script != owner || strcmp(r->ns[ns].class_name, b->class_name) != 0))
        ns++;
    return ns;
}

int obj_env_bind_script(const obj_registry *r, size_t script, JSContext *ctx, JSValueConst env,
                        err *e)
{
    const config *c = r->cfgs[script];
    JSValue names = JS_NewArray(ctx);
    for (size_t i = 0; i < r->ns_count; i++)
        JS_SetPropertyUint32(ctx, names, (uint32_t)i, JS_NewString(ctx, r->ns[i].class_name));
    JS_SetPropertyStr(ctx, js_native(ctx), "objClassNames", names);
    JSValue backends = JS_NewArray(ctx);
    for (size_t i = 0; i < r->ns_count; i++)
        JS_SetPropertyUint32(ctx, backends, (uint32_t)i, JS_NewInt32(ctx, r->ns[i].backend));
    JS_SetPropertyStr(ctx, js_native(ctx), "objBackends", backends);
    /* KV-19: deleteAll() also deletes the alarm from 2026-02-24 on, or with the flag. */
    bool del_alarm = c->compatibility_date && strcmp(c->compatibility_date, "2026-02-24") >= 0;
    for (size_t i = 0; i < c->compatibility_flags_count; i++)
        if (strcmp(c->compatibility_flags[i], "delete_all_deletes_alarm") == 0)
            del_alarm = true;
    JS_SetPropertyStr(ctx, js_native(ctx), "deleteAllDeletesAlarm", JS_NewBool(ctx, del_alarm));
    JSValue make = JS_GetPropertyStr(ctx, js_native(ctx), "objMakeNamespace");
    for (size_t i = 0; i < c->do_bindings_count; i++) {
        const config_do_binding *b = &c->do_bindings[i];
        size_t ns = binding_ns(r, script, b);
        if (ns == r->ns_count) {
            /* Only with several scripts: one script's registry checked its bindings. */
            log_warn("script '%s': binding '%s' names class '%s' of script '%s', which has no "
                     "Durable Object namespace here; env.%s is left undefined", c->name, b->name,
                     b->class_name, b->script_name ? b->script_name : c->name, b->name);
            continue;
        }
        JSValue args[3] = {JS_NewInt32(ctx, (int32_t)ns), JS_NewString(ctx, b->class_name),
                           JS_NewInt32(ctx, r->ns[ns].backend)};
        JSValue v = JS_Call(ctx, make, JS_UNDEFINED, 3, args);
        JS_FreeValue(ctx, args[1]);
        if (JS_IsException(v)) {
            JS_FreeValue(ctx, make);
            char *t = js_exception_text(ctx, JS_UNDEFINED);
            err_setf(e, DUR_EINVAL, "binding %s: %s", b->name, t ? t : "?");
            free(t);
            return -1;
        }
        JS_SetPropertyStr(ctx, env, b->name, v);
    }
    JS_FreeValue(ctx, make);
    return 0;
}
