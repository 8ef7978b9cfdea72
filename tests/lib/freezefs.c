/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/freezefs.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"

bool freezable_fs_setup(FreezableFs *f)
{
    *f = (FreezableFs){.zram = -1, .fd = -1};
    g_autofree char *id = NULL;
    if (!g_file_get_contents("/sys/class/zram-control/hot_add", &id, NULL, NULL)) {
        g_test_skip("no /sys/class/zram-control (zram module): cannot build a freezable filesystem");
        return false;
    }
    f->zram = atoi(id);
    g_autofree char *blk = g_strdup_printf("/sys/block/zram%d", f->zram);
    g_assert_cmpint(cgtest_write(blk, "disksize", "33554432"), ==, 0);
    f->dev = g_strdup_printf("/dev/zram%d", f->zram);
    const char *mkfs[] = {"mkfs.ext4", "-q", "-F", f->dev, NULL};
    gint status = -1;
    g_autofree char *err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)mkfs, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &err, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    f->dir = g_dir_make_tmp("memctl-frozen-XXXXXX", NULL);
    if (mount(f->dev, f->dir, "ext4", 0, NULL) < 0) {
        g_autofree char *why = g_strdup_printf("cannot mount ext4 (module missing?): %s", g_strerror(errno));
        g_test_skip(why);
        return false;
    }
    f->file = g_build_filename(f->dir, "f", NULL);
    g_assert_true(g_file_set_contents(f->file, "", 0, NULL));
    f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(f->fd, >=, 0);
    return true;
}

void freezable_fs_freeze(FreezableFs *f, bool frozen)
{
    g_assert_no_errno(ioctl(f->fd, frozen ? FIFREEZE : FITHAW, 0));
}

void freezable_fs_teardown(FreezableFs *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->dir) {
        (void)umount2(f->dir, MNT_DETACH);
        (void)rmdir(f->dir);
    }
    if (f->zram >= 0) {
        char id[16];
        snprintf(id, sizeof(id), "%d", f->zram);
        (void)cgtest_write("/sys/class/zram-control", "hot_remove", id);
    }
    g_free(f->dir);
    g_free(f->file);
    g_free(f->dev);
}

bool freezable_fs_wait_stuck(int pid, int timeout_ms)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        g_autofree char *s = NULL;
        const char *p = g_file_get_contents(path, &s, NULL, NULL) ? strrchr(s, ')') : NULL;
        if (p && p[1] == ' ' && p[2] == 'D')
            return true;
        g_usleep(10 * 1000);
    }
    return false;
}
