/* fs.c: see fs.h. */
#define _XOPEN_SOURCE 700
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *path, err *e)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return err_setf(e, DUR_ETOOBIG, "path too long: %s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return err_setf(e, -errno, "cannot create %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return err_setf(e, -errno, "cannot create %s: %s", tmp, strerror(errno));
    return 0;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

int fs_rm_rf(const char *path, err *e)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : err_setf(e, -errno, "cannot remove %s: %s", path, strerror(errno));
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return err_setf(e, -errno, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

int fs_lock_dir(const char *dir, int *fd_out, err *e)
{
    *fd_out = -1;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path)
        return err_setf(e, DUR_ETOOBIG, "path too long: %s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return err_setf(e, -errno, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int x = errno;
        close(fd);
        if (x == EWOULDBLOCK)
            return err_setf(e, -x, "%s is in use by another durable process (it holds %s); stop "
                            "it or choose another folder with --persist-to", dir, path);
        return err_setf(e, -x, "cannot lock %s: %s", path, strerror(x));
    }
    *fd_out = fd;
    return 0;
}
