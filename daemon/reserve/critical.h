/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "daemon/core/api.h"
#include "daemon/group/group.h"
#include "daemon/reserve/reserve.h"

/*
 * Registered critical clients (WHY.md §3): a group or a process that memctld never chooses as a
 * victim, whose group gets memory.min up to the registered size, and which may hold one lease of the
 * reserve at a time. A lease belongs to the bus connection that acquired it: when that connection
 * goes away (the client exits or dies) or releases it, the registration's memory is renewed (a new
 * memfd, daemon/reserve/reserve.h), so no byte passes from one holder to the next and none outlives the
 * registration. GLib side.
 */

typedef struct {
    char *group;   /* group registrations: the group's name; NULL for a process */
    int32_t pid;   /* process registrations: its pid; 0 for a group */
    uint64_t size; /* registered reserve (page-rounded) */
    MemctlLeaseMem mem;
    uint32_t lease; /* the lease held now; 0 when none */
    char *holder;   /* the holder's unique bus name */
    guint holder_watch;
    char *min_group;   /* the group whose memory.min this registration raised, or NULL */
    uint64_t prev_min; /* its memory.min before, put back on unregistration */
    bool lent; /* mem's pages are lent out as its group's boost (MemctlGroup.boost, daemon/reserve/boost.h),
                * or not yet taken back: no lease */
    bool renewing;       /* the last holder's memory is emptied, its replacement not yet had: no lease */
    int pidfd;           /* process registrations end when the process does */
    uint64_t start_time; /* the process's (/proc/<pid>/stat field 22): kept in the state file */
    guint pid_source;
    struct MemctlCritical *owner;
} MemctlRegistration;

typedef struct MemctlCritical MemctlCritical;

MemctlCritical *memctl_critical_new(MemctlReserve *reserve, MemctlGroups *groups, MemctlCore *core,
                                    const char *mount, const char *proc);
void memctl_critical_free(MemctlCritical *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlCritical, memctl_critical_free)

/*
 * Registers a group (name, pid 0) or a process (name NULL or "", pid > 0) with `bytes` of the reserve
 * (0: never a victim, no lease). Errors (GError, MEMCTL_ERROR) name the argument: InvalidArgument,
 * NoSuchGroup, Busy (registered already), ReserveExhausted. Nothing changes on error.
 */
int memctl_critical_register(MemctlCritical *c, const char *group, int32_t pid, uint64_t bytes,
                             GError **error);
int memctl_critical_unregister(MemctlCritical *c, const char *group, int32_t pid, GError **error);
/* A process registration from the state file: only if pid is still the process that started at
 * start_time (InvalidArgument naming the pid otherwise: it ended, and the pid may be another's). */
int memctl_critical_restore_process(MemctlCritical *c, int32_t pid, uint64_t start_time, uint64_t bytes,
                                    GError **error);

/* The start time (/proc/<pid>/stat) and real uid (if ret_uid) of the process pidfd holds, read by
 * pid and checked to be about that process: it still runs after the reads. -ESRCH otherwise. */
int memctl_critical_process_identity(MemctlCritical *c, int32_t pid, int pidfd, uint64_t *ret_start_time,
                                     uint32_t *ret_uid);

/* The registration that covers pid: its own, or its group's (pid in the group or below). */
MemctlRegistration *memctl_critical_find_for_pid(MemctlCritical *c, int32_t pid);

/*
 * Leases the registration's reserve to `holder` (a unique bus name): returns the memfd (a new fd the
 * caller owns), the lease size and id. Errors: InvalidArgument (0, or more than registered),
 * Busy (a lease is held), ReserveExhausted (registered with 0 bytes).
 */
int memctl_critical_acquire(MemctlCritical *c, MemctlRegistration *reg, GDBusConnection *conn,
                            const char *holder, uint64_t bytes, int *ret_fd, uint64_t *ret_size,
                            uint32_t *ret_lease, GError **error);
/* Returns lease `lease` held by holder (NULL: any holder). InvalidArgument when it is not held. */
int memctl_critical_release(MemctlCritical *c, const char *holder, uint32_t lease, GError **error);

gboolean memctl_critical_group_is_critical(MemctlCritical *c, const char *group);
/* A registered critical process in grp's cgroup or below it, or 0. */
int32_t memctl_critical_pid_within(MemctlCritical *c, const MemctlGroup *grp);
/* The registrations, in registration order (owned by c). */
GPtrArray *memctl_critical_list(MemctlCritical *c);
uint64_t memctl_critical_registered_bytes(MemctlCritical *c);
uint64_t memctl_critical_leased_bytes(MemctlCritical *c);
/* Pool plus leases, resident now (mincore). */
uint64_t memctl_critical_resident_bytes(MemctlCritical *c);
