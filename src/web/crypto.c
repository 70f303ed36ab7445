/* crypto.c: placeholder until the web platform lands; installs nothing yet. */
#include "web/web.h"

int web_crypto_install(JSContext *ctx, JSValueConst native)
{
    return 0;
}
