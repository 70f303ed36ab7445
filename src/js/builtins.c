/* builtins.c: natives of the js layer installed in every context before the
 * embedded JS runs (structuredClone comes from clone.c). */
#include "js/internal.h"

int js__builtins_install(JSContext *ctx, JSValueConst native)
{
    return 0;
}
