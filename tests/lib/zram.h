/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* zram devices for the real-kernel tests (the zram module: /sys/class/zram-control). */

/* A zram swap device of `size` bytes, swapped on; returns its number and *ret_dev (/dev/zramN, to
 * free), or -1 after g_test_skip() when the kernel has no zram. */
int zram_swap_on(uint64_t size, char **ret_dev);
/* Swaps it off and removes it (n < 0: nothing); frees dev. */
void zram_swap_off(int n, char *dev);

/* A zram block device of `size` bytes with a fresh ext4 on it, mounted on a new directory: a real
 * filesystem whose page cache is charged to its readers and can be dropped (the VM's root is 9p
 * and tmpfs). Returns the mount point (to free) and *ret_n, or NULL after g_test_skip(). */
char *zram_ext4_mount(uint64_t size, int *ret_n);
/* Unmounts it, removes the device and the directory; frees dir. */
void zram_ext4_unmount(int n, char *dir);
