/* web.c: installs the Web platform into a new context (see web.h for the order of
 * the embedded JS and the split between C and JS). */
#include "web/web.h"

int web_install(JSContext *ctx, JSValueConst native)
{
    if (web_events_install(ctx, native) < 0 || web_encoding_install(ctx, native) < 0 ||
        web_crypto_install(ctx, native) < 0 || web_console_install(ctx, native) < 0 ||
        web_url_install(ctx, native) < 0 || web_http_install(ctx, native) < 0 ||
        web_timers_install(ctx, native) < 0 || web_websocket_install(ctx, native) < 0 ||
        web_fetch_install(ctx, native) < 0 || web_compression_install(ctx, native) < 0 ||
        web_node_zlib_install(ctx, native) < 0 ||
        web_intl_install(ctx, native) < 0 ||
        web_cache_install(ctx, native) < 0)
        return -1;
    return 0;
}
