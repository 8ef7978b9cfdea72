/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "daemon/core/api.h"
#include "daemon/reserve/critical.h"
#include "daemon/group/group.h"
#include "daemon/state-file.h"
#include "policy/policy-file.h"

/*
 * The running configuration (GLib side): the policy read from memctld.json and the policy.d drop-ins, its
 * application to the groups (created, limits written, prefer/avoid, budgets and priority published
 * to the core), reloads that change only what changed, and when the state file is saved.
 */

#define MEMCTL_CONFIG_FILE "/etc/memctl/memctld.json"
#define MEMCTL_CONFIG_DIR "/etc/memctl/policy.d"

/*
 * Reads and checks a policy: `main_file` (missing is fine unless main_required), then every
 * `*.json` in `dropin_dir` in name order (a missing directory is fine). Errors (MEMCTL_ERROR_
 * INVALID_POLICY) name the file, the JSON path and the problem. *ret is set only on success.
 */
int memctl_config_read(const char *main_file, bool main_required, const char *dropin_dir, MemctlPolicy *ret,
                       GError **error);

/* Reads and checks the given files, in order (memctld --check-config). */
int memctl_config_read_files(char **files, MemctlPolicy *ret, GError **error);

typedef struct MemctlConfig MemctlConfig;

MemctlConfig *memctl_config_new(const char *main_file, bool main_required, const char *dropin_dir,
                                const char *state_file, MemctlGroups *groups, MemctlCore *core);
void memctl_config_free(MemctlConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlConfig, memctl_config_free)

/* For group registrations in the state file; NULL until set. */
void memctl_config_set_critical(MemctlConfig *c, MemctlCritical *critical);
/* --dry-run: a dry run whatever the policy files say (set before the first apply). */
void memctl_config_force_dry_run(MemctlConfig *c, bool on);
/* The proactive reclaimer: told of every change of the groups, and given the policy's interval. */
struct MemctlReclaimer;
void memctl_config_set_reclaimer(MemctlConfig *c, struct MemctlReclaimer *r);
/* The kill counters in all that the state file keeps (the manager's); NULL until set. */
void memctl_config_set_kill_totals(MemctlConfig *c, MemctlKillTotals *totals);

/* The running policy. */
const MemctlPolicy *memctl_config_policy(MemctlConfig *c);

/*
 * Makes `next` the running policy: creates the groups it declares that do not exist, writes the
 * limits that differ from the running policy's (keys it no longer gives go back to the kernel's
 * defaults), publishes every group's policy to the core, and switches the dry run (daemon.dry_run,
 * or --dry-run) on or off. Groups it no longer declares stay as they
 * are. All or nothing: on error what was changed is put back and the running policy stays.
 * `next` is taken over on success. Appends one line per change to ret_changes (may be NULL).
 */
int memctl_config_apply(MemctlConfig *c, MemctlPolicy *next, GPtrArray *ret_changes, GError **error);

/* Reads the policy files again and applies them (SIGHUP, ReloadPolicy). */
int memctl_config_reload(MemctlConfig *c, GPtrArray *ret_changes, GError **error);

/* Publishes every group's policy to the core (after groups were added or changed). */
void memctl_config_publish_all(MemctlConfig *c);

/* The state file (daemon/state-file.h) with the running policy: restored at start, saved at exit and
 * after changes. 0 without a state file. */
int memctl_config_restore_state(MemctlConfig *c, GError **error);
int memctl_config_save_state(MemctlConfig *c, GError **error);

/* From now on, every change to the groups republishes the policies and saves the state. */
void memctl_config_watch_groups(MemctlConfig *c);

/* Something the state file keeps changed (a critical registration): save it soon. */
void memctl_config_changed(MemctlConfig *c);
/* Only the kill counters changed: save the state file soon, publish nothing. */
void memctl_config_counted(MemctlConfig *c);
