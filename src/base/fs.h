/* fs: the few file-system helpers several layers need. */
#pragma once
#include "base/err.h"

/* mkdir -p: creates `path` and its missing parents (mode 0755). */
int fs_mkdir_p(const char *path, err *e);
/* rm -rf: removes `path` and everything under it; a missing path is not an error. */
int fs_rm_rf(const char *path, err *e);
/* Takes an exclusive lock on `dir` (flock on dir/lock, created if missing) without
 * waiting, so two processes never share one data folder. On success *fd holds
 * the lock until it is closed (or the process ends); a folder another process has
 * locked fails with a message naming the folder. `dir` must exist. */
int fs_lock_dir(const char *dir, int *fd, err *e);
