/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Parsers for the text of /proc/<pid>/status and /proc/<pid>/stat. Pure (no I/O, no allocation):
 * the caller reads the files. Every function returns 0 or -errno and leaves ret_* untouched on
 * failure. The text comes from the kernel but describes a process someone else controls: a process
 * name may hold spaces, parentheses, newlines and bytes that are not UTF-8, so nothing is found by
 * searching the whole text.
 */

/* PF_KTHREAD in the flags of /proc/<pid>/stat: a kernel thread. */
#define MEMCTL_PF_KTHREAD 0x00200000u

/*
 * The first number of the line "key:" of /proc/<pid>/status ("Tgid", "PPid"; "Uid" gives the real
 * uid). -ENOENT without that line, -EINVAL when no number follows it or it overflows.
 */
int memctl_proc_status_u64(const char *text, const char *key, uint64_t *ret);

/*
 * The flags (field 9) and the start time (field 22, clock ticks after boot) of /proc/<pid>/stat,
 * counted after the last ')' that ends the process name. -EINVAL when the text is not of that form.
 */
int memctl_proc_stat(const char *text, uint64_t *ret_flags, uint64_t *ret_start_time);

/* The pid a pidfd holds, from the text of /proc/self/fdinfo/<fd> ("Pid:\t1234"; -1 when the process
 * is gone). -ENOENT without a Pid line (not a pidfd), -ESRCH for a process that is gone. */
int memctl_proc_fdinfo_pid(const char *text, int32_t *ret_pid);
