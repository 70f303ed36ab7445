/* console.c: placeholder until the web platform lands; installs nothing yet. */
#include "web/web.h"

int web_console_install(JSContext *ctx, JSValueConst native)
{
    return 0;
}
