/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/core/api.h"
#include "policy/limits.h"
#include "policy/proactive.h"

/*
 * The groups memctld manages: cgroups below the managed root, each with the settings it was given,
 * the memory.* values written for them, and a slot in the core. GLib side only.
 */
/* Files read for status and metrics through fds kept open (memctl_groups_read()). */
typedef enum {
    MEMCTL_GROUP_FILE_CURRENT,
    MEMCTL_GROUP_FILE_PEAK,
    MEMCTL_GROUP_FILE_SWAP,
    MEMCTL_GROUP_FILE_EVENTS,
    MEMCTL_GROUP_FILE_PRESSURE,
    MEMCTL_GROUP_FILE_STAT,
    _MEMCTL_GROUP_FILE_COUNT,
} MemctlGroupFile;

typedef struct {
    char *name;  /* relative to the root: "web", "tenants/a" */
    char *path;  /* absolute cgroup directory */
    int slot;    /* the core's slot */
    uint64_t id; /* the cgroup's inode number (its kernfs id): a cgroup deleted and made again under
                  * the same name is another cgroup, with another id */
    bool adopted;
    bool thawed; /* adopted frozen with MEMCTL_PREKILL_MARK (memctld stopped in a pre-kill wait): thawed */
    MemctlLimits limits;      /* what was asked, merged over time */
    MemctlFileValues applied; /* what is written (without the boost) */
    uint64_t boost;           /* bytes memory.high and memory.max are raised by now (the reserve lent) */
    uint64_t kills, kernel_oom_kills;
    char *slice; /* systemd-style display name given over D-Bus ("machines.slice/ctr-1.scope"), or NULL */
    struct MemctlRemoval *removal; /* a RemoveGroup with the kill flag waiting for it to empty, or NULL */
    int read_fd1[_MEMCTL_GROUP_FILE_COUNT]; /* fd + 1, opened on first read; 0: not open */
    MemctlProactive *proactive; /* proactive reclaim's state (daemon/reclaimer.c) while reclaim=auto,
                                 * else NULL: nothing is kept or run for a group without it */
} MemctlGroup;

/* Final counters read before a group is deleted. */
typedef struct {
    uint64_t peak, oom, oom_kill, high, max;
} MemctlGroupFinal;

typedef struct MemctlGroups MemctlGroups;

enum {
    MEMCTL_REMOVE_KILL = 1u << 0, /* kill remaining processes first (else: Busy while populated) */
};

/* mount: the cgroup2 mount; root: the managed root; proc: the procfs mount (pids are checked there). */
MemctlGroups *memctl_groups_new(const char *mount, const char *root, const char *proc, MemctlCore *core);
void memctl_groups_free(MemctlGroups *g);

/* Called (on the GLib side) after every change: a group added, removed, or its limits changed. */
typedef void (*MemctlGroupsListener)(void *data);
void memctl_groups_set_listener(MemctlGroups *g, MemctlGroupsListener fn, void *data);
/* Called for every group entered in the table (created, adopted, re-adopted under a name it had):
 * what belongs to the name, such as a critical registration, follows it to its new core slot. */
typedef void (*MemctlGroupsAdded)(MemctlGroup *grp, void *data);
void memctl_groups_set_added_hook(MemctlGroups *g, MemctlGroupsAdded fn, void *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlGroups, memctl_groups_free)

/* Reads one of a group's files (NUL-terminated) through an fd kept until the group goes, the length or
 * -errno. memory.current, memory.swap.current and memory.pressure share the core's open files (one
 * seq_file buffer in the kernel, not two); the others are opened on first read. */
ssize_t memctl_groups_read(MemctlGroups *g, MemctlGroup *grp, MemctlGroupFile f, char *buf, size_t size);
/* The fd memctl_groups_read() reads f through (opened now if it is not yet), or -errno; the group
 * owns it. For poll(): memory.events says POLLPRI once it changed after this fd's last read, so the
 * metrics are its only reader (daemon/metrics/metrics.c): another read would hide a change. */
int memctl_groups_file_fd(MemctlGroups *g, MemctlGroup *grp, MemctlGroupFile f);
/* The same for a file of one number (memory.current, memory.peak, memory.swap.current): 0 or -errno. */
int memctl_groups_read_u64(MemctlGroups *g, MemctlGroup *grp, MemctlGroupFile f, uint64_t *ret);
/* memory.pressure's avg10 figures, in hundredths of a percent: 0 or -errno. */
int memctl_groups_read_pressure(MemctlGroups *g, MemctlGroup *grp, uint32_t *ret_some_centi,
                                uint32_t *ret_full_centi);

/* Adopts every cgroup below the root (but memctld's own leaf): limits read back, never reset. A cgroup
 * the core cannot watch (all --max-groups slots in use, no memory.* files: its parent does not pass
 * the memory controller down) is not adopted, nor anything below it; a line for each, naming it and
 * why, goes to ret_skipped. Fails only when the root cannot be listed. */
int memctl_groups_adopt_all(MemctlGroups *g, GPtrArray *ret_skipped, GError **error);

/*
 * Creates a group, or returns the existing one (idempotent). With limits, the keys given are applied
 * (only what differs from what is written). Nothing is created or written when validation fails.
 */
MemctlGroup *memctl_groups_create(MemctlGroups *g, const char *name, const MemctlLimits *limits,
                                  GError **error);

/* Sets (or with NULL or "", clears) the group's display name; the caller validated it. Returns
 * 1 if it changed, 0 if not, -ENOENT without such a group. */
int memctl_groups_set_slice(MemctlGroups *g, const char *name, const char *slice);

/* Overlays `update` on the group's settings and writes what changed, all or nothing. */
int memctl_groups_set_limits(MemctlGroups *g, const char *name, const MemctlLimits *update, GError **error);

/*
 * Boost (WHY.md §3): raises the group's memory.high and memory.max (those set) by `bytes` above its
 * own settings, max first. The settings and what status shows as the limits stay the group's own;
 * a later SetLimits is written with the boost on top. Nothing changes on error.
 * The boost is marked on the cgroup (MEMCTL_GROUP_BOOST_MARK) before the limits are raised, so a
 * memctld that restarts adopts the group with its own settings and the boost still on; returns 1
 * (boosted all the same) when the kernel refuses the mark.
 */
#define MEMCTL_GROUP_BOOST_MARK "memctl.boost"
int memctl_groups_boost(MemctlGroups *g, const char *name, uint64_t bytes, GError **error);
/* Puts high and max back to the group's own settings, high first: -EBUSY (nothing written) while
 * the usage is above them (a lower max would make the kernel reclaim or kill). */
int memctl_groups_unboost(MemctlGroups *g, const char *name, GError **error);

/* Reads the final counters and deletes the cgroup: Busy while it has processes or child groups or a
 * removal is in progress. A cgroup someone else deleted first is let go of with the counters the
 * core read last. */
int memctl_groups_remove(MemctlGroups *g, const char *name, MemctlGroupFinal *ret_final, GError **error);

/*
 * RemoveGroup with the kill flag: reads the final counters, writes cgroup.kill, and waits on the main
 * loop (never blocking it) until the group is empty, at most 5 s; then deletes it as
 * memctl_groups_remove() does. `done` is called once, from the main loop, never before this returns:
 * r 0 with the counters, or -errno with the error (Busy when the processes did not exit in time: the
 * group stays managed). Returns 0, or -errno with *error when it cannot start (nothing was killed):
 * no such group, child groups, a removal already in progress, memctld itself in the group. The kill
 * spares no one else: the caller refuses groups that hold registered critical clients.
 */
typedef struct MemctlRemoval MemctlRemoval;
typedef void (*MemctlGroupsRemoved)(int r, const MemctlGroupFinal *fin, const GError *error, void *data);
int memctl_groups_remove_killing(MemctlGroups *g, const char *name, MemctlGroupsRemoved done, void *data,
                                 GError **error);
/* Ends every removal still waiting (its `done` hears -ECANCELED): before what `done` uses goes. */
void memctl_groups_cancel_removals(MemctlGroups *g);
/* True if memctld itself is in grp's cgroup or below it. */
bool memctl_groups_holds_self(MemctlGroups *g, const MemctlGroup *grp);

/* Moves processes into a leaf group: every pid checked first (a process, neither PID 1 nor a kernel
 * thread nor memctld by any of its thread ids), then moved in order; stops at the first the kernel
 * refuses and names it. */
#define MEMCTL_ATTACH_MAX 65536u
int memctl_groups_attach(MemctlGroups *g, const char *name, const uint32_t *pids, size_t n, GError **error);

/*
 * Re-reads the root: groups whose cgroup vanished are dropped (names appended to ret_removed),
 * limits are read back from the kernel, new cgroups are adopted (names appended to ret_added, those
 * that cannot be watched to ret_skipped as memctl_groups_adopt_all() says).
 */
int memctl_groups_rescan(MemctlGroups *g, GPtrArray *ret_added, GPtrArray *ret_removed,
                         GPtrArray *ret_skipped, GError **error);

/* The name of one child group of name, or NULL. */
const char *memctl_groups_has_children(MemctlGroups *g, const char *name);

/* What the kernel enforces now for a file of the group: its own setting, high and max with its
 * boost on top. */
uint64_t memctl_group_enforced(const MemctlGroup *grp, MemctlFile f);

/* Opens one of the group's files (flags: O_RDONLY or O_WRONLY; close-on-exec added) for a caller
 * that keeps the fd for a while: the fd or -errno, -ESTALE when the cgroup at the group's path is
 * not the group's any more (deleted and made again). */
int memctl_groups_open_file(MemctlGroups *g, const MemctlGroup *grp, const char *file, int flags);

MemctlGroup *memctl_groups_get(MemctlGroups *g, const char *name);
/*
 * The group `name` as its cgroup is now: when the cgroup was deleted and made again (another id), the
 * old group is let go of (the core watched the dead one's files) and the new cgroup adopted in its
 * place, limits read back. A group whose cgroup is gone is returned as it was (RemoveGroup reports its
 * last counters). NULL when there is no such group (or the new cgroup cannot be watched).
 */
MemctlGroup *memctl_groups_lookup(MemctlGroups *g, const char *name);
MemctlGroup *memctl_groups_by_slot(MemctlGroups *g, int slot);
guint memctl_groups_count(MemctlGroups *g);
/* Groups sorted by name; the list and its elements are owned by g. */
GList *memctl_groups_list(MemctlGroups *g);
