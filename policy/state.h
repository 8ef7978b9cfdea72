/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "include/memctl/memctl.h"
#include "policy/policy-file.h"

/*
 * The state file (/var/lib/memctl/state.json): what memctld keeps across restarts that the policy
 * files do not say, the groups made over D-Bus (in the policy files' format) and the critical
 * registrations. Every entry is read on its own: a bad one is named in `problems` and left out, the
 * others are kept. No I/O: the caller reads and writes the file.
 *
 *   {"version": 1,
 *    "groups": {"web": {"limit": 67108864, "slice": "machines.slice/web.scope"}, ...},
 *    "critical": [{"group": "db", "bytes": 16777216},
 *                 {"pid": 4242, "start_time": 123456, "bytes": 0}, ...],
 *    "kills": {"memctld": 12, "kernel": 1, "groups": {"web": {"memctld": 3, "kernel": 0}, ...}}}
 *
 * "kills" are the counters of ListKills' history and GetStatus: processes killed by memctld and by
 * the kernel's OOM killer, in all and by group, since memctld first ran with this state file.
 *
 * A process registration names its process by pid and start time (field 22 of /proc/<pid>/stat):
 * restored only while that same process runs, never for whoever has the pid now.
 */
typedef struct {
    char group[MEMCTL_GROUP_NAME_MAX + 1]; /* "" for a process registration */
    int32_t pid;
    uint64_t start_time;
    uint64_t bytes;
} MemctlStateCritical;

typedef struct {
    char group[MEMCTL_GROUP_NAME_MAX + 1];
    uint64_t memctld, kernel;
} MemctlStateKills;

typedef struct {
    MemctlPolicy groups; /* the groups kept, each checked on its own */
    MemctlStateCritical *critical;
    size_t n_critical;
    uint64_t kills_memctld, kills_kernel; /* in all */
    MemctlStateKills *kills;              /* by group */
    size_t n_kills;
    char **problems; /* "groups.web.limit: ...", one per entry left out */
    size_t n_problems;
} MemctlState;

void memctl_state_init(MemctlState *s);
void memctl_state_clear(MemctlState *s);
static inline void memctl_state_clearp(MemctlState *s)
{
    memctl_state_clear(s);
}
#define _cleanup_state_ __attribute__((cleanup(memctl_state_clearp)))

/*
 * Reads the state document `text` (`file` names it). 0 with *ret filled: the entries that are
 * valid, and a problem line for each that is not (0 even when some are left out). -EINVAL with
 * *ret_error when nothing can be read (not JSON, not a state file of version 1), -ENOMEM. *ret is
 * the caller's to clear either way (memctl_state_init() first).
 */
int memctl_state_parse(const char *file, const char *text, size_t len, MemctlState *ret,
                       MemctlPolicyError *ret_error);
