/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "daemon/group/group.h"
#include "daemon/reserve/critical.h"
#include "policy/policy-file.h"

/*
 * The state file (default /var/lib/memctl/state.json; format in docs/POLICY-FILES.md): what memctld
 * keeps across restarts that the policy files do not say, the groups created over D-Bus (with their
 * limits and slice), the critical registrations (groups by name, processes by pid and start time) and
 * the kill counters (in all, and every group's).
 * The policy files' groups are theirs, not the state file's. Parsed entry by entry by
 * policy/state.c; this reads, applies and writes it. GLib side.
 */

#define MEMCTL_STATE_FILE "/var/lib/memctl/state.json"

/* Processes killed in all, by memctld and by the kernel's OOM killer (a group's own counts are its
 * MemctlGroup's). */
typedef struct {
    uint64_t memctld, kernel;
} MemctlKillTotals;

/* Writes it atomically (temporary file, fsync, rename, fsync of the directory). critical and totals
 * may be NULL. */
int memctl_state_file_save(const char *path, MemctlGroups *groups, MemctlCritical *critical,
                           const MemctlPolicy *policy, const MemctlKillTotals *totals, GError **error);

/*
 * Creates the groups of the state file (those the policy does not declare) and re-registers its
 * critical groups, and its critical processes that still run (the same pid and start time). A
 * missing file is fine. Every entry counts on its own: what is valid is restored; -EINVAL when
 * something is not, with *error naming each entry left out, and the file as it was kept beside it
 * as <path>.bad (the next save writes what was restored). The kill counters go back into the
 * groups that exist (adopted, the policy's or the state's) and, in all, into *totals (may be NULL).
 */
int memctl_state_file_restore(const char *path, MemctlGroups *groups, MemctlCritical *critical,
                              const MemctlPolicy *policy, MemctlKillTotals *totals, GError **error);
