/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/core/api.h"
#include "daemon/group/group.h"
#include "daemon/metrics/expo.h"
#include "daemon/history.h"
#include "daemon/state-file.h"

/*
 * The GLib side's state around the core: the groups, the kill history and counters, the kill log,
 * and the verbs the D-Bus API and the command line share. It drains the core's events, records them
 * and tells its listener (the bus: signals, group objects). Top-level code: it logs.
 */

/* Who hears what the manager drains and reloads; each callback may be NULL. */
typedef struct {
    void (*pressure)(const char *group, const char *level, void *data);
    /* a kill recorded: k in the history; grp its group, NULL when no longer managed */
    void (*killed)(const MemctlKillEntry *k, const MemctlGroup *grp, void *data);
    /* a kill verdict waits for the group's pre-kill hooks (MEMCTL_EVENT_PREKILL), the group frozen */
    void (*prekill)(const MemctlCoreEvent *e, void *data);
    /* a dry run's record (outcome "pending"), or the same record when its outcome is known */
    void (*would_kill)(const MemctlKillEntry *k, void *data);
    /* a reload rescanned the groups: `removed` (names) are gone, the others are as listed now */
    void (*rescanned)(GPtrArray *removed, void *data);
} MemctlManagerListener;

typedef struct MemctlManager {
    MemctlCore *core;     /* borrowed */
    MemctlGroups *groups; /* borrowed */
    MemctlHistory *history;
    struct MemctlMetrics *metrics;
    MemctlManagerListener listener;
    void *listener_data;
    struct MemctlCritical *critical;   /* borrowed; NULL until set up */
    struct MemctlReserve *reserve;     /* borrowed; NULL until set up */
    struct MemctlConfig *config;       /* borrowed; NULL until set up */
    struct MemctlBoost *boost;         /* borrowed; NULL until set up */
    struct MemctlHooks *hooks;         /* pre-kill waits and their executables */
    struct MemctlReclaimer *reclaimer; /* borrowed; NULL until set up */
    char *root, *mount, *proc;         /* proc: the procfs mount (meminfo, host PSI) */
    FILE *kill_log;
    MemctlKillTotals totals; /* kept in the state file */
    int64_t started_usec;    /* monotonic */
    char *metrics_url;       /* the /metrics endpoint, or NULL */
    GHashTable *manual;      /* slot -> ManualKill*: KillGroup calls waiting for their kill */
    uint32_t next_kill_req;
    uint64_t last_heartbeat;
    gboolean core_alive;
    gboolean heap_trim; /* memory is locked as touched: give the heap's free pages back after a burst */
    guint heap_source;  /* the trims after the last burst (0: none pending) */
    guint heap_quiet;   /* seconds since the last burst */
} MemctlManager;

MemctlManager *memctl_manager_new(MemctlCore *core, MemctlGroups *groups, const char *mount, const char *root,
                                  const char *proc);
void memctl_manager_free(MemctlManager *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlManager, memctl_manager_free)

/* Sets the listener (NULL: none); the manager keeps a copy. */
void memctl_manager_set_listener(MemctlManager *m, const MemctlManagerListener *l, void *data);

/* Drains the core's events: counters, history, log, kill log, the listener. */
void memctl_manager_drain(MemctlManager *m);

/*
 * Kills in a group now through the core; completes `invocation` (if not NULL) once the core reports
 * the kill (its victim released), or with the core's error (no eligible victim, a victim still
 * dying), or after 10 s without a record. Returns 0, or -errno with *error set and invocation
 * untouched.
 */
int memctl_manager_kill(MemctlManager *m, const char *name, const char *reason, gboolean whole_group,
                        GDBusMethodInvocation *invocation, GError **error);

/*
 * Reload: the managed root rescanned (cgroups others made adopted, vanished ones dropped), then the
 * policy files read and applied (only what changed). Appends what changed to ret_changes. On a
 * policy error the running policy stays and *error names the file, the JSON path and the problem.
 */
int memctl_manager_reload(MemctlManager *m, GPtrArray *ret_changes, GError **error);

/* The metrics exposition (GetMetrics and /metrics); counts the scrape and its cost. */
GString *memctl_manager_metrics(MemctlManager *m, MemctlExpoFormat format);

/* After work that may have allocated in bursts (a scrape, a D-Bus call): each second until three
 * seconds after the last such work (a reply is freed only once GDBus's thread has written it), the
 * heap's free pages go back to the kernel when there are enough of them (basic/memlock.h). Nothing
 * runs while memctld is idle. */
void memctl_manager_settle_heap(MemctlManager *m);

/* GetStatus as a{sv}. */
GVariant *memctl_manager_status(MemctlManager *m);
