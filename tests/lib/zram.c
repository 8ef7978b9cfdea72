/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/zram.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/swap.h>

#include "tests/lib/cgtest.h"

int zram_swap_on(uint64_t size, char **ret_dev)
{
    g_autofree char *id = NULL;
    if (!g_file_get_contents("/sys/class/zram-control/hot_add", &id, NULL, NULL)) {
        g_test_skip("no /sys/class/zram-control (zram module): cannot make zram swap");
        return -1;
    }
    int n = atoi(id);
    g_autofree char *blk = g_strdup_printf("/sys/block/zram%d", n);
    g_autofree char *sz = g_strdup_printf("%" G_GUINT64_FORMAT, size);
    g_assert_cmpint(cgtest_write(blk, "disksize", sz), ==, 0);
    char *dev = g_strdup_printf("/dev/zram%d", n);
    const char *mk[] = {"mkswap", dev, NULL};
    gint status = -1;
    g_assert_true(g_spawn_sync(NULL, (char **)mk, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_no_errno(swapon(dev, 0));
    *ret_dev = dev;
    return n;
}

void zram_swap_off(int n, char *dev)
{
    if (n < 0)
        return;
    (void)swapoff(dev);
    char id[16];
    snprintf(id, sizeof(id), "%d", n);
    (void)cgtest_write("/sys/class/zram-control", "hot_remove", id);
    g_free(dev);
}

static void run(const char *const *argv)
{
    gint status = -1;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &err));
    if (!g_spawn_check_wait_status(status, &err))
        g_error("%s: %s", argv[0], err->message);
}

char *zram_ext4_mount(uint64_t size, int *ret_n)
{
    g_autofree char *id = NULL;
    if (!g_file_get_contents("/sys/class/zram-control/hot_add", &id, NULL, NULL)) {
        g_test_skip("no /sys/class/zram-control (zram module): cannot make a zram disk");
        return NULL;
    }
    int n = atoi(id);
    g_autofree char *blk = g_strdup_printf("/sys/block/zram%d", n);
    g_autofree char *sz = g_strdup_printf("%" G_GUINT64_FORMAT, size);
    g_assert_cmpint(cgtest_write(blk, "disksize", sz), ==, 0);
    g_autofree char *dev = g_strdup_printf("/dev/zram%d", n);
    const char *mk[] = {"mkfs.ext4", "-q", "-F", dev, NULL};
    run(mk);
    char *dir = g_dir_make_tmp("memctl-ext4.XXXXXX", NULL);
    g_assert_nonnull(dir);
    const char *mnt[] = {"mount", "-t", "ext4", dev, dir, NULL};
    run(mnt);
    *ret_n = n;
    return dir;
}

void zram_ext4_unmount(int n, char *dir)
{
    if (!dir)
        return;
    const char *um[] = {"umount", dir, NULL};
    run(um);
    (void)g_rmdir(dir);
    char id[16];
    snprintf(id, sizeof(id), "%d", n);
    (void)cgtest_write("/sys/class/zram-control", "hot_remove", id);
    g_free(dir);
}
