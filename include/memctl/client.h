/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libmemctl: a small client of org.memctl.Manager1 (sd-bus) for container runtimes and tools.
 * A runtime creates a group per container, updates it, attaches pids and follows kill events:
 *
 *     MemctlClient *c;
 *     memctl_client_open(NULL, &c);                          // the system bus
 *     MemctlSetting s[] = {{"limit", "512M"}, {"memory.swap.max", "0"}};
 *     memctl_client_create_group(c, "ctr-1234", s, 2, NULL);
 *     memctl_client_attach(c, "ctr-1234", &pid, 1);
 *     memctl_client_subscribe(c, on_killed, NULL, userdata);
 *     for (;;) memctl_client_wait(c, UINT64_MAX);             // or integrate memctl_client_bus()
 *
 * Every function returns 0 (or a positive count) on success and -errno on failure:
 * -ENOENT no such group, -EINVAL invalid argument, -EACCES access denied, -EBUSY busy, -ENOSPC
 * reserve exhausted, -EIO other daemon failures, or the transport's error. The daemon's error name
 * and message (which names the bad key or argument) stay available until the next call.
 * Output parameters (ret_*) are untouched on failure. Not thread-safe: one client per thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct MemctlClient MemctlClient;
typedef struct sd_bus sd_bus;

/* address: a D-Bus address, or NULL for the system bus ($DBUS_SYSTEM_BUS_ADDRESS honoured). */
int memctl_client_open(const char *address, MemctlClient **ret);
void memctl_client_free(MemctlClient *c);
/* The connection, to attach to an sd-event loop (sd_bus_attach_event). */
sd_bus *memctl_client_bus(MemctlClient *c);

/* The last failure: its D-Bus error name (or NULL) and a message, "" if none. */
const char *memctl_client_error_name(const MemctlClient *c);
const char *memctl_client_error_message(const MemctlClient *c);

/*
 * A setting: a policy key ("limit", "min", "low", "high", "max", "swap_max", "headroom",
 * "oom_group", "priority") with its text value ("512M", "max", "true", "10"), or a raw cgroup
 * file ("memory.max", "memory.swap.max", ...), which goes into the "unified" map as an OCI
 * runtime's unified resources do.
 */
typedef struct {
    const char *key;
    const char *value;
} MemctlSetting;

/* Creates (idempotently) a group; *ret_object_path (if given) receives its object path (free()). */
int memctl_client_create_group(MemctlClient *c, const char *name, const MemctlSetting *settings, size_t n,
                               char **ret_object_path);
int memctl_client_set_limits(MemctlClient *c, const char *name, const MemctlSetting *settings, size_t n);
int memctl_client_attach(MemctlClient *c, const char *name, const uint32_t *pids, size_t n);

#define MEMCTL_CLIENT_REMOVE_KILL 1u /* kill what is left in the group */
typedef struct {
    uint64_t peak, oom, oom_kill, high, max, kills;
} MemctlFinal;
int memctl_client_remove_group(MemctlClient *c, const char *name, uint64_t flags, MemctlFinal *ret_final);

#define MEMCTL_CLIENT_KILL_ONE 1u /* only the process the policy picks; default: the whole group */
/* Returns when the kill is done (the victim's memory released). */
int memctl_client_kill_group(MemctlClient *c, const char *name, const char *reason, uint64_t flags);
/*
 * Re-reads the managed root and the policy files (ReloadPolicy). With ret_changes, a NULL-terminated
 * array of what changed ("created batch", "web: limit"), freed with memctl_strv_free(). -EBADMSG when
 * a policy file is invalid (memctl_client_last_error() names the file, the JSON path and why).
 */
int memctl_client_reload(MemctlClient *c, char ***ret_changes);
void memctl_strv_free(char **v);

typedef struct {
    char *name, *object_path, *cgroup_path;
    uint64_t current, peak, min, low, high, max, swap_max; /* UINT64_MAX: "max" */
    uint64_t kills, kernel_oom_kills;
    uint32_t priority;
    bool oom_group, critical;
    double pressure_some, pressure_full; /* avg10, percent */
    char *slice;                         /* systemd-style display name, "" if none (get_group only) */
    /* proactive reclaim (get_group; list_working_sets fills name and the figures but reclaim):
     * "auto" or "off"; the working set (0: none known) and whether it was measured (else an upper
     * bound); the limit it suggests; bytes reclaimed; the stall reclaim cost, microseconds */
    char *reclaim;
    uint64_t workingset, suggested_limit, reclaimed, reclaim_stall_usec;
    bool workingset_measured;
} MemctlGroupInfo;

/* Every property of one group. */
int memctl_client_get_group(MemctlClient *c, const char *name, MemctlGroupInfo *ret);
/* All groups, sorted by name; fills name, object_path, cgroup_path, current, min, high, max, kills,
 * pressure_full (the rest is 0). Returns the count. */
int memctl_client_list_groups(MemctlClient *c, MemctlGroupInfo **ret, size_t *ret_n);
/* The groups with proactive reclaim on, sorted by name: name, workingset, workingset_measured,
 * suggested_limit, reclaimed (ListWorkingSets). Returns the count. */
int memctl_client_list_working_sets(MemctlClient *c, MemctlGroupInfo **ret, size_t *ret_n);
void memctl_group_info_clear(MemctlGroupInfo *g);
void memctl_group_info_free_array(MemctlGroupInfo *g, size_t n);

typedef struct {
    uint64_t seq, time_usec;
    char *group, *comm, *reason, *by, *message; /* message: NULL unless a manual kill gave one */
    uint32_t pid, processes;
    bool group_kill, livelock;
    uint64_t bytes_freed, latency_usec, freed_usec, current, high, max;
    uint64_t reap_usec; /* of freed_usec, the time process_mrelease ran; 0 if none */
    /* a dry run's record (WouldKill): nobody was killed; outcome "pending", "kernel-killed",
     * "recovered" or "still-stuck" (NULL for kills made); host: a host guard verdict */
    bool dry_run, host;
    char *outcome;
} MemctlKill;

/* Kill records with seq > since, oldest first; *ret_last is the newest seq. Returns the count. */
int memctl_client_list_kills(MemctlClient *c, uint64_t since, MemctlKill **ret, size_t *ret_n,
                             uint64_t *ret_last);
void memctl_kill_free_array(MemctlKill *k, size_t n);

typedef struct {
    char *version, *root;
    uint32_t groups;
    uint64_t kills, kernel_oom_kills, events_dropped, uptime_usec, memory_total, memory_available;
    double pressure_some, pressure_full;
    bool core_alive;
    /* the reserve (bytes) and the critical clients registered */
    uint64_t reserve_total, reserve_registered, reserve_leased, reserve_free, reserve_resident;
    uint32_t critical_clients;
    uint64_t swap_total, swap_free;
    char *metrics_url;     /* the /metrics endpoint, "" when off */
    uint64_t reserve_lent; /* registered reserve lent to critical groups as boosts (not resident) */
    bool dry_run;          /* memctld records the kills it would make and makes none */
} MemctlStatus;
int memctl_client_get_status(MemctlClient *c, MemctlStatus *ret);
void memctl_status_clear(MemctlStatus *s);

/*
 * The metrics exposition (GetMetrics): format "prometheus" (text 0.0.4), "openmetrics" or "".
 * *ret_text (and *ret_content_type if not NULL) are the caller's to free(). -EINVAL: unknown format.
 */
int memctl_client_get_metrics(MemctlClient *c, const char *format, char **ret_text, char **ret_content_type);

/*
 * Critical clients and the reserve (root or the admin group may register). Exactly one of group
 * (non-empty) and pid (> 0) names the client; bytes is its share of the reserve (0: never a victim,
 * no lease). -EBUSY registered already, -ENOSPC the reserve is exhausted, -ENOENT no such group.
 */
int memctl_client_register_critical(MemctlClient *c, const char *group, uint32_t pid, uint64_t bytes);
int memctl_client_unregister_critical(MemctlClient *c, const char *group, uint32_t pid);
/* A group's registration on the word of less trusted metadata (a container's annotations): granted
 * only to groups the policy's daemon.critical_claims names; -EACCES otherwise. */
int memctl_client_claim_critical(MemctlClient *c, const char *group, uint64_t bytes);

typedef struct {
    char *group;   /* "" for a process */
    uint32_t pid;  /* 0 for a group */
    uint64_t size; /* registered */
    uint64_t leased;
    uint32_t lease; /* 0: none held */
} MemctlCriticalInfo;
int memctl_client_list_critical(MemctlClient *c, MemctlCriticalInfo **ret, size_t *ret_n);
void memctl_critical_info_free_array(MemctlCriticalInfo *a, size_t n);

/*
 * Leases the calling process's share of the reserve: *ret_fd is a memfd of *ret_size bytes (the
 * caller owns and closes it); map it MAP_SHARED, its pages are resident and charged to memctld. The
 * lease belongs to this connection: closing the client (or dying) returns it, wiped.
 * -EACCES not registered, -EINVAL 0 or more than registered, -EBUSY a lease is held, -ENOSPC
 * registered without a reserve.
 */
int memctl_client_acquire_reserve(MemctlClient *c, uint64_t bytes, int *ret_fd, uint64_t *ret_size,
                                  uint32_t *ret_lease);
int memctl_client_release_reserve(MemctlClient *c, uint32_t lease);

typedef void (*MemctlKilledFn)(const char *group, uint32_t pid, const char *comm, const char *reason,
                               uint64_t bytes_freed, uint64_t latency_usec, void *userdata);
typedef void (*MemctlAlertFn)(const char *group, const char *level, void *userdata);
/* Subscribes to Killed and PressureAlert (either callback may be NULL). */
int memctl_client_subscribe(MemctlClient *c, MemctlKilledFn killed, MemctlAlertFn alert, void *userdata);
/* A dry run's record (WouldKill): the kill memctld would have made, outcome "pending", then the same
 * seq again with what followed. Never called for kills made. */
typedef void (*MemctlWouldKillFn)(const char *group, uint32_t pid, const char *comm, const char *reason,
                                  uint64_t seq, const char *outcome, void *userdata);
/* Subscribes to WouldKill (with the userdata of memctl_client_subscribe(), or NULL: none). */
int memctl_client_subscribe_dry_run(MemctlClient *c, MemctlWouldKillFn would_kill);
/* Dispatches incoming signals, waiting up to timeout_usec (UINT64_MAX: forever) for one.
 * Returns 1 if something was dispatched, 0 on timeout, -EINTR when a signal interrupted the wait. */
int memctl_client_wait(MemctlClient *c, uint64_t timeout_usec);

#ifdef __cplusplus
}
#endif
