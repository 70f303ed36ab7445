/* storage natives: what the JS storage API (src/objects/js/45_storage.js) calls. */
#pragma once
#include <quickjs.h>
#include <stddef.h>

/* Process-wide settings, set once before shards start. */
void storage_configure(int durability, size_t open_max);
/* Allocates the storage classes' JSClassIDs. Main thread, before any runtime
 * exists (JS_NewClassID is not thread-safe); idempotent. */
void storage_classes_init(void);
/* The store behind a handle made by N.stOpen (borrowed; valid while the handle
 * is open), or NULL with a TypeError thrown: the objects layer's cluster mode takes
 * a commit's pages from it (storage/frames.h). */
struct store;
struct store *storage_store_of(JSContext *ctx, JSValueConst handle);
/* Adds the N.st* natives and the context's cache of open databases. */
int storage_install(JSContext *ctx, JSValueConst native);
