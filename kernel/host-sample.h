/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "policy/host.h"

/*
 * Parsers of the host's memory files for the host guard, on caller-provided text (the core reads
 * the files with pread() on fds opened once). No allocation, no stdio. Each returns 0 or -errno and
 * fills only its own fields of *s.
 */

/* /proc/zoneinfo: every zone's free pages, min/low/high watermarks and managed pages, in order.
 * -EINVAL when no zone is found; zones past MEMCTL_HOST_ZONES_MAX are ignored. */
int memctl_host_sample_zoneinfo(const char *text, MemctlHostSample *s);

/* /proc/meminfo: MemTotal, MemAvailable (both required), SwapTotal, SwapFree (0 when absent). */
int memctl_host_sample_meminfo(const char *text, MemctlHostSample *s);

/* /proc/vmstat: pgsteal_* and pgscan_* summed (kswapd, direct, khugepaged), the workingset
 * refaults (anon + file on 5.9+, workingset_refault before; the anon share apart), pswpin and
 * oom_kill (0 when absent). */
int memctl_host_sample_vmstat(const char *text, MemctlHostSample *s);

/* /proc/swaps: the zram devices swapped on, as their numbers (N of /dev/zramN), at most max.
 * Returns how many; *ret_swaps (if given): how many swap devices there are, zram or not. */
uint32_t memctl_host_sample_zram_devices(const char *text, uint32_t *ret_numbers, uint32_t max,
                                         uint32_t *ret_swaps);

/* /sys/block/zramN/mm_stat: its first field, orig_data_size (bytes stored), and its third,
 * mem_used_total (bytes of RAM the device holds for them). */
int memctl_host_sample_zram(const char *text, uint64_t *ret_orig, uint64_t *ret_used);

/* The host's memory and swap in bytes, from <proc_root>/meminfo (status, metrics, the reserve's
 * size check: a read of its own, not the core's fd); ret untouched on failure. */
typedef struct {
    uint64_t total, available, swap_total, swap_free;
} MemctlHostMemory;
int memctl_host_memory_read(const char *proc_root, MemctlHostMemory *ret);
