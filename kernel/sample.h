/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/reclaim.h"
#include "policy/victim.h"

/*
 * Hot-path readers for the core: pread() on file descriptors opened once, parsing into
 * caller-provided buffers. No allocation, no stdio, no locale. Every function returns 0 or -errno
 * and leaves its ret_* untouched on failure.
 */

/* Reads a whole small file at offset 0 into buf (NUL-terminated); returns the length or -errno. */
ssize_t memctl_sample_read(int fd, char *buf, size_t size);

/* Reads a single value file (memory.current, memory.swap.current, memory.high: "max" is UINT64_MAX). */
/* The same, for a file opened, read once and closed (cold paths: status, metrics). */
ssize_t memctl_sample_read_file(const char *path, char *buf, size_t size);
int memctl_sample_read_u64(int fd, uint64_t *ret);

/*
 * Finds `key` in flat-keyed text ("key value\n" lines: memory.events, memory.stat, cgroup.events).
 * Returns 0 and the value, or -ENOENT.
 */
int memctl_sample_key(const char *text, const char *key, uint64_t *ret);

/* The LRU and slab counters of memory.stat text that say what reclaim could free (policy/reclaim.h),
 * into *ret (its swap and host fields zeroed: the caller fills them). -ENOENT when one is missing
 * (an unknown kernel). */
int memctl_sample_reclaim_stat(const char *text, MemctlReclaimInput *ret);

/* The memory a group uses, from memory.stat text: anon + file + kernel + sock (+ zswap where the
 * kernel has it). memory.current also holds what is charged ahead of use: each CPU's batch of up to
 * 64 pages, and the huge page khugepaged collapses pages into, charged before it is mapped and before
 * the pages it replaces are freed (2 MiB for a moment). -ENOENT without one of the four (`kernel`
 * is Linux 5.18+). */
int memctl_sample_used(const char *text, uint64_t *ret);

/* The pages refaulted since the group was created, from memory.stat text: workingset_refault_anon
 * plus workingset_refault_file (workingset_refault before Linux 5.9). -ENOENT without them. */
int memctl_sample_refaults(const char *text, uint64_t *ret_pages);

/* Parses "some avg10=.. total=N\nfull avg10=.. total=N" into the two totals (usec). */
int memctl_sample_pressure(const char *text, uint64_t *ret_some_total, uint64_t *ret_full_total,
                           uint32_t *ret_full_avg10_centi);

/* Parses the "some" and "full" avg10 of a pressure file, in hundredths of a percent. */
int memctl_sample_pressure_avg10(const char *text, uint32_t *ret_some_centi, uint32_t *ret_full_centi);
/* Opens, reads and parses a pressure file (memory.pressure, /proc/pressure/memory): cold path. */
int memctl_sample_pressure_file(const char *path, uint32_t *ret_some_centi, uint32_t *ret_full_centi);
/* Parses cgroup.procs text into up to max pids; returns the count (excess pids are ignored). */
size_t memctl_sample_pids(const char *text, int32_t *pids, size_t max);

/* Writes "<proc_root>/<pid>[/<leaf>]" into buf without stdio; returns 0, or -ENAMETOOLONG. */
int memctl_sample_proc_path(char *buf, size_t size, const char *proc_root, int32_t pid, const char *leaf);

/*
 * Fills a victim candidate for pid from <proc_root>/<pid>/status and oom_score_adj, using the
 * caller's scratch buffer. -ESRCH if the process is gone.
 */
int memctl_sample_process(const char *proc_root, int32_t pid, char *scratch, size_t scratch_size,
                          MemctlCandidate *ret);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds. */
uint64_t memctl_now_usec(void);
uint64_t memctl_realtime_usec(void);
