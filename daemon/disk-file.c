/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/disk-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "daemon/error.h"

int memctl_disk_read(const char *path, size_t max, char **ret_text, size_t *ret_len, GError **error)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT)
        return -ENOENT;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "%s: cannot read: %s", path,
                                g_strerror(errno));
    if (!S_ISREG(st.st_mode))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_FAILED, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > max)
        return memctl_error_set(error, -EFBIG, MEMCTL_ERROR_FAILED, "%s: larger than %zu bytes", path, max);
    g_autofree char *text = g_malloc(max + 1);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "%s: cannot read: %s", path,
                                    g_strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) /* it grew while being read */
            return memctl_error_set(error, -EFBIG, MEMCTL_ERROR_FAILED, "%s: larger than %zu bytes", path,
                                    max);
    }
    text[len] = '\0';
    *ret_text = g_steal_pointer(&text);
    *ret_len = len;
    return 0;
}

int memctl_disk_write_atomic(const char *path, const char *text, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0755) < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "cannot create %s: %s", dir,
                                g_strerror(errno));
    g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
    _cleanup_close_ int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "cannot create %s: %s", tmp,
                                g_strerror(errno));
    size_t len = strlen(text);
    int r = 0;
    for (size_t off = 0; off < len && r == 0;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno != EINTR)
            r = -errno;
        off += n > 0 ? (size_t)n : 0;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        (void)unlink(tmp);
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "cannot write %s: %s", path, g_strerror(-r));
    }
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED,
                                "%s written, but its directory not synced: %s", path, g_strerror(errno));
    return 0;
}
