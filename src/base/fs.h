/* fs: the few file-system helpers several layers need. */
#pragma once
#include "base/err.h"

/* mkdir -p: creates `path` and its missing parents (mode 0755). */
int fs_mkdir_p(const char *path, err *e);
/* rm -rf: removes `path` and everything under it; a missing path is not an error. */
int fs_rm_rf(const char *path, err *e);
