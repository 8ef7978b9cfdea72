/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* File descriptors owned by a scope: `_cleanup_close_ int fd = open(...);` closes it on every exit. */

#include <errno.h>
#include <unistd.h>

static inline void memctl_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno; /* callers return -errno after the cleanup runs */
        close(*fd);
        errno = saved;
    }
}
#define _cleanup_close_ __attribute__((cleanup(memctl_closep)))

/* Hands the fd over to the caller: the variable no longer owns it. */
static inline int memctl_fd_steal(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

/* Closes an fd that a struct owns and marks it closed (-1); nothing for -1. */
static inline void memctl_fd_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}
