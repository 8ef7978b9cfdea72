/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "daemon/options.h"
#include "policy/policy-file.h"

/*
 * memctld as a whole: one constructor owns everything it runs (the core, the reserve, the groups,
 * the manager, the registrations, the boost, the running policy, the bus, the HTTP server, the main
 * loop's sources) and one destructor lets it go in reverse. Top-level code: it logs.
 */
typedef struct MemctlDaemon MemctlDaemon;

/*
 * Sets memctld up as `o` and `policy` say: the managed root owned, the core started, the groups
 * adopted and the policy applied, the state restored, the API served. policy is taken over on
 * success. -errno with *error naming what failed; nothing is left running then.
 */
int memctl_daemon_new(const MemctlOptions *o, MemctlPolicy *policy, MemctlDaemon **ret, GError **error);

/* Tells systemd it is ready and runs the main loop until SIGTERM or SIGINT. */
void memctl_daemon_run(MemctlDaemon *d);

/* Stops the core, drains what it said last, saves the state, answers callers still waiting, frees. */
void memctl_daemon_free(MemctlDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlDaemon, memctl_daemon_free)
