/* http.c: placeholder until Request/Response land. */
#include <string.h>

#include "web/web.h"

void web_http_classes_init(void) {}

int web_http_install(JSContext *ctx, JSValueConst native)
{
    return 0;
}

JSValue web_request_new(JSContext *ctx, const h1_request *req, const char *url, size_t url_len)
{
    return JS_ThrowInternalError(ctx, "Request is not implemented yet");
}

int web_response_parts_get(JSContext *ctx, JSValueConst v, web_response_parts *out, err *e)
{
    memset(out, 0, sizeof *out);
    return err_setf(e, DUR_ETYPE, "Response is not implemented yet");
}

int web_response_parts_set_body(JSContext *ctx, web_response_parts *p, JSValueConst ab)
{
    return DUR_ETYPE;
}

void web_response_parts_fini(JSContext *ctx, web_response_parts *p) {}
