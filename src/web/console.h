/* web/console: where console.* output goes (spec: workers.md WEB-14).
 *
 * console.log and friends format their arguments in JS (web/js/15_console.js) and
 * hand one finished line per call to C. By default a line goes to durable's log
 * (base/log.h) at the call's level; the worker layer replaces the sink per context
 * to prefix lines with the script or object name, and tests replace it to capture
 * output. */
#pragma once
#include <stddef.h>
#include <quickjs.h>

/* Receives one console line: `level` is a log_level of base/log.h (LOG_DEBUG for
 * console.debug, LOG_INFO for log/info/trace/dir/table, LOG_WARN for warn,
 * LOG_ERROR for error and failed asserts); `text` is UTF-8, `len` bytes, not
 * NUL-terminated, without a trailing newline (it may contain newlines). It is
 * only valid during the call. Called on the context's shard thread. */
typedef void (*web_console_sink_fn)(void *ud, int level, const char *text, size_t len);

/* Replaces the sink of `ctx` (a context made by js_rt_context_new with the web
 * platform installed); `sink` NULL restores the default (log_msg). `ud` is
 * borrowed: it must stay valid until the sink is replaced or the context freed.
 * Returns 0, or DUR_EINVAL if the context has no console state (the web platform
 * was not installed, or the context was not made by js/rt). */
int web_console_set_sink(JSContext *ctx, web_console_sink_fn sink, void *ud);
