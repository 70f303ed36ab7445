/* url.c: placeholder until the URL parser lands. */
#include "web/web.h"

void web_url_classes_init(void) {}

int web_url_install(JSContext *ctx, JSValueConst native)
{
    return 0;
}
