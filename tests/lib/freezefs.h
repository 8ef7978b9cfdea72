/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* An ext4 filesystem on a fresh zram device: freezing it makes its writers sleep uninterruptibly. */
typedef struct {
    char *dir, *file, *dev;
    int zram;
    int fd;
} FreezableFs;

/* Builds and mounts it; false (the test skipped, saying why) without zram or ext4. */
bool freezable_fs_setup(FreezableFs *f);
void freezable_fs_freeze(FreezableFs *f, bool frozen);
/* Unmounts it and removes the zram device (also after a setup that failed). */
void freezable_fs_teardown(FreezableFs *f);

/* True once pid sleeps uninterruptibly ('D' in /proc/<pid>/stat), within timeout_ms. */
bool freezable_fs_wait_stuck(int pid, int timeout_ms);
