/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/bus/auth.h"
#include "policy/policy-file.h"

/*
 * memctld's settings: the command line (memctld(8)), then what the policy files' "daemon" section
 * says where the command line is silent. Everything is checked here, before memctld touches the
 * system: a bad option changes nothing.
 */
typedef struct {
    /* the command line */
    char *root, *mount, *proc_root, *kill_log, *bus_address, *admin_group, *reserve_spec;
    char *config, *config_dir, *state_file, *metrics_address;
    char **group_specs;
    char **check_files; /* --check-config: the files given, or none */
    int max_groups, max_procs, events_ring, window_ms, stuck_windows;
    bool config_given; /* --config given: the file must exist (--config='' reads none) */
    bool no_bus, no_polkit, check, test_hooks, version;
    bool dry_run; /* --dry-run: whatever the policy says (it cannot switch this off) */

    /* settled by memctl_options_settle() */
    bool metrics_explicit; /* an address given (command line or policy) must work */
    uint64_t reserve_bytes;
    GPtrArray *group_names;   /* --group: the names ... */
    GArray *group_limits;     /* ... and their MemctlLimits */
    MemctlAuthConfig auth;    /* the admin group's gid resolved */
    bool admin_group_missing; /* the admin group named does not exist: root only */
} MemctlOptions;

void memctl_options_init(MemctlOptions *o);
void memctl_options_clear(MemctlOptions *o);

/* Parses argv. -EINVAL with *error (G_OPTION_ERROR) for a usage error. */
int memctl_options_parse(MemctlOptions *o, int argc, char **argv, GError **error);

/*
 * Takes from the policy what the command line does not say, and checks it all: ranges, the metrics
 * address, every --group, the admin group, and the reserve (at most half of the host's memory, from
 * <proc>/meminfo). -EINVAL with *error: G_OPTION_ERROR for the command line's mistakes,
 * MEMCTL_ERROR_INVALID_POLICY for the policy's.
 */
int memctl_options_settle(MemctlOptions *o, const MemctlPolicy *policy, GError **error);
