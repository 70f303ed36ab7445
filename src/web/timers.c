/* timers.c: placeholder. */
#include "web/web.h"

int web_timers_install(JSContext *ctx, JSValueConst native)
{
    return 0;
}
