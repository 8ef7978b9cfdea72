/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "daemon/core/api.h"

/*
 * Pre-kill hooks, on the GLib side (docs/POLICY.md, "Freeze, then decide"): the waits the core
 * announced (MEMCTL_EVENT_PREKILL: a kill verdict, the group frozen), and the executable a group's
 * policy names, run for each. Its exit, or PreKillDone, ends the wait early
 * (memctl_core_prekill_done()); the core's own deadline ends it otherwise. A hook still running
 * after its wait is killed. The executable runs in the leaf MEMCTL_HOOKS_LEAF of the managed root
 * (never in the frozen group, nor in memctld's protected leaf; made when first needed, and memctld's
 * own leaf if it cannot be), in a session of its own, stdin from /dev/null, its output in memctld's
 * journal.
 */
typedef struct MemctlHooks MemctlHooks;

/* root: the managed root. */
MemctlHooks *memctl_hooks_new(MemctlCore *core, const char *root);
void memctl_hooks_free(MemctlHooks *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlHooks, memctl_hooks_free)

/*
 * A wait began (e: MEMCTL_EVENT_PREKILL). exe (NULL or "": none) is run with MEMCTL_GROUP,
 * MEMCTL_CGROUP (cgroup_path), MEMCTL_PID, MEMCTL_COMM, MEMCTL_REASON and MEMCTL_DEADLINE_USEC
 * (CLOCK_REALTIME) in its environment. It must be a regular executable file owned by root (or
 * memctld's user) and writable by nobody else; otherwise it is not run and the call fails
 * (the wait goes on until PreKillDone or its deadline). 0 or -errno with *error.
 */
int memctl_hooks_begin(MemctlHooks *h, const MemctlCoreEvent *e, const char *exe, const char *cgroup_path,
                       GError **error);

/* PreKillDone: -ENOENT when no wait of that slot is known. */
int memctl_hooks_done(MemctlHooks *h, int slot);

/* The wait of slot is over (its kill record came, the group went): a hook still running is killed. */
void memctl_hooks_end(MemctlHooks *h, int slot);
