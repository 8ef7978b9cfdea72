/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/memctl/memctl.h"
#include "policy/host.h"
#include "policy/progress.h"
#include "policy/victim.h"

/*
 * The core: detection, decision and kill, on its own thread with its own epoll loop, over state
 * preallocated by memctl_core_new() for max_groups groups and max_procs processes per decision.
 * Once started it never allocates, never logs and never touches the GLib main loop: it works when
 * the host has no free memory and the GLib side is starved. It talks to the GLib side through two
 * preallocated rings: commands in (add, update, remove, kill a group: bits per slot, so that none
 * can be lost), events out (kill records, kernel OOM kills, released groups, errors).
 */
typedef struct MemctlCore MemctlCore;

typedef struct {
    const char *cgroup_mount; /* the cgroup2 mount, e.g. /sys/fs/cgroup */
    const char *proc_root;    /* /proc */
    const char *sys_root;     /* /sys: zram devices' mm_stat (NULL: /sys) */
    size_t max_groups;
    size_t max_procs;
    size_t events_ring; /* events the core can push before the GLib side pops them (16-65536) */
    MemctlProgressConfig progress;
    MemctlHostConfig host;         /* the host guard */
    uint64_t host_psi_stall_usec;  /* host PSI trigger that arms it: "some <stall> <window>" */
    uint64_t host_psi_window_usec; /* below 500 ms: 500 ms where the kernel allows no less (before 6.5) */
} MemctlCoreConfig;

/* What the policy says about one group, beyond its limits: published to the core per slot. */
#define MEMCTL_CORE_LIST_MAX 16
typedef struct {
    uint32_t n_comm, n_slot;
    char comm[MEMCTL_CORE_LIST_MAX][MEMCTL_COMM_MAX];
    int32_t slot[MEMCTL_CORE_LIST_MAX]; /* descendant groups, by slot */
} MemctlCoreMatch;

typedef struct {
    uint32_t priority;         /* 1 (killed first across groups) .. 100 */
    uint64_t min, low;         /* the group's protection, for the ranking across groups */
    uint32_t stall_budget_pct; /* 0: the core's default */
    uint32_t stall_windows;    /* 0: the core's default */
    MemctlCoreMatch prefer, avoid;
} MemctlCorePolicy;

void memctl_core_config_default(MemctlCoreConfig *c);

typedef enum {
    MEMCTL_EVENT_KILL,           /* memctld killed a process (or a whole group) */
    MEMCTL_EVENT_KERNEL_OOM,     /* the kernel's OOM killer killed in a group */
    MEMCTL_EVENT_GROUP_RELEASED, /* the core let go of a removed group's slot */
    MEMCTL_EVENT_ERROR,          /* something failed on the core; error and what say what */
    MEMCTL_EVENT_PRESSURE,       /* a group crossed high ("high") or its PSI budget ("stall") */
    MEMCTL_EVENT_OUTCOME,        /* a dry run's kill record settled: outcome says how */
    MEMCTL_EVENT_PREKILL,        /* a kill verdict waits for the group's pre-kill hooks, the group
                                  * frozen: pid, comm, reason, prekill_usec (the most it waits) */
} MemctlCoreEventType;

typedef struct {
    uint32_t type;
    int32_t slot;
    char group[MEMCTL_GROUP_NAME_MAX + 1];
    int32_t pid;    /* the victim, or the first process of a group kill */
    uint32_t npids; /* processes killed (group kills) or kernel oom_kill count */
    char comm[MEMCTL_COMM_MAX];
    char reason[24]; /* no-reclaim, no-progress, stall, max, manual, kernel, host-*; pressure: high, stall,
                        host, calm */
    bool group_kill;
    bool livelock; /* the previous victim did not release its memory: escalated */
    /* a dry run's record: the victim chosen, killed by nobody (no latencies but the decision's,
     * nothing freed); its outcome follows in a MEMCTL_EVENT_OUTCOME of the same group (and host) */
    bool dry_run;
    char outcome[16];      /* MEMCTL_EVENT_OUTCOME: policy/shadow.h's name; a dry record: "pending" */
    uint64_t t_event_usec; /* CLOCK_REALTIME of the detection (crossing high, or the event) */
    /* the trigger: figures at the decision */
    uint64_t current, high, max;
    uint64_t charged_ahead; /* of current: charged ahead of use (policy/progress.h); 0: none known */
    uint32_t full_avg10_centi;
    MemctlProgressFigures figures;
    /* latencies, microseconds */
    uint64_t event_to_signal_usec;
    uint64_t signal_to_exit_usec;
    uint64_t signal_to_freed_usec; /* until the memory is back: process_mrelease returned and the
                                    * victim exited (a group kill: the group is empty) */
    uint64_t reap_usec;            /* of which process_mrelease took this long (at SCHED_OTHER); 0: no reap */
    uint64_t prekill_usec;         /* the verdict waited this long for pre-kill hooks before the signal */
    bool frozen;                   /* ... the group frozen meanwhile (cgroup.freeze) */
    uint64_t bytes_freed;
    /* host guard kills: what the host looked like at the decision */
    bool host;
    uint64_t host_available;                /* MemAvailable, bytes */
    uint64_t host_zone_free, host_zone_min; /* the zone closest to its min watermark, pages */
    /* host "calm" (the guard disarmed): how long it was armed, and how close the stall came to
     * killing (the episode's most windows over the stall budget, of the windows that kill) */
    uint64_t host_episode_usec;
    uint32_t host_stall_peak, host_stall_limit;
    int32_t error; /* -errno for MEMCTL_EVENT_ERROR, or a non-fatal kill error */
    char what[32];
} MemctlCoreEvent;

/* Allocates everything the core will ever use. Returns 0 or -errno. */
int memctl_core_new(const MemctlCoreConfig *cfg, MemctlCore **ret);
void memctl_core_free(MemctlCore *c);

/* Starts the core thread (stack pre-faulted) at SCHED_RR priority 1. Returns 0, -EPERM or -EINVAL
 * when only the real-time priority could not be set (the thread runs anyway), or another -errno. */
int memctl_core_start(MemctlCore *c);
/* Stops and joins the core thread. */
void memctl_core_stop(MemctlCore *c);
/* The window of the host's PSI trigger in force: the one asked for, or the kernel's 500 ms minimum
 * before Linux 6.5 (commit 519fabc7 lifted it for privileged users). */
uint64_t memctl_core_host_psi_window(const MemctlCore *c);

/* What the GLib side wrote (or read back at adoption) for a group and the core decides with: the
 * core reads none of these files itself. UINT64_MAX: "max". */
typedef struct {
    uint64_t high, max;
    uint64_t swap_max; /* memory.swap.max: how much the group may swap (what reclaim could free) */
    bool oom_group;
    uint64_t prekill_usec; /* a kill verdict freezes the group and waits this long for its pre-kill
                            * hooks (memctl_core_prekill_done() ends the wait early); 0: no wait */
} MemctlCoreLimits;

/* The extended attribute that marks a group memctld froze for a pre-kill wait (user.* xattrs on
 * cgroup2: Linux 5.7): set before the freeze, removed after the thaw, so that a group a restart
 * found frozen with it is thawed (memctld stopped in the middle), and one frozen without it (a
 * runtime's pause) is left as it is. */
#define MEMCTL_PREKILL_MARK "memctl.prekill"
#define MEMCTL_PREKILL_XATTR "user." MEMCTL_PREKILL_MARK

/* The files the core keeps open for a group, opened in its directory before the group is handed
 * over. -1: not open. */
#define MEMCTL_CORE_GROUP_FILES 8
typedef struct {
    int fd[MEMCTL_CORE_GROUP_FILES];
} MemctlCoreGroupFiles;
/*
 * Any thread: opens the group's files in its directory dirfd into *ret (touches no core state: the
 * GLib side opens many groups' files at once on several threads when it adopts them). Returns 0, or
 * -errno with nothing left open (memory.swap.current alone may be absent: no swap accounting).
 */
int memctl_core_group_files_open(int dirfd, MemctlCoreGroupFiles *ret);
/* Closes those still open (-1 after). */
void memctl_core_group_files_close(MemctlCoreGroupFiles *files);
/*
 * GLib side: puts a group into a free slot with its files (taken: the slot owns them on success,
 * they are closed on failure; *files is all -1 after) and hands it to the core. path is the group's
 * cgroup directory, name its memctl name. Returns the slot or -errno (-ENOSPC when all max_groups
 * slots are used).
 */
int memctl_core_add_group(MemctlCore *c, const char *name, const char *path, MemctlCoreGroupFiles *files,
                          int parent_slot, const MemctlCoreLimits *limits);
/*
 * GLib side: while hold is true, the core is woken once for every 32 groups added (CORE_ADD_BATCH), not
 * for each (adoption adds thousands in a row, and each wake-up of the core preempts the threads
 * opening the next ones); false wakes it for those still held.
 */
void memctl_core_hold_adds(MemctlCore *c, bool hold);
/* Files the core keeps open for every group that the GLib side reads too (status, metrics). */
typedef enum {
    MEMCTL_CORE_FILE_CURRENT,
    MEMCTL_CORE_FILE_PRESSURE,
    MEMCTL_CORE_FILE_SWAP,
} MemctlCoreFile;
/*
 * GLib side: a new fd (close-on-exec) on the core's own open file for one of a slot's files, so that
 * the kernel holds one open file for both sides, not two (each with its seq_file buffer, a page once
 * read). Both sides read it with pread() at offset 0, which the kernel serializes per open file.
 * Returns 0 and the fd in *ret_fd; -ENOENT when the slot is not in use or has no such file (no
 * memory.swap.current without swap accounting); or -errno.
 */
int memctl_core_dup_file(MemctlCore *c, int slot, MemctlCoreFile f, int *ret_fd);
/* Publishes new limits for a slot; the core re-evaluates it. */
int memctl_core_update_group(MemctlCore *c, int slot, const MemctlCoreLimits *limits);
/* Asks the core to drop a slot; MEMCTL_EVENT_GROUP_RELEASED follows, then the slot is free. */
int memctl_core_remove_group(MemctlCore *c, int slot);
/* Marks a slot's subtree critical (never a victim) or not. Takes effect at the core's next decision. */
int memctl_core_set_critical(MemctlCore *c, int slot, bool critical);
/* Adds or removes a critical process (never a victim). -ENOSPC when MEMCTL_CORE_CRITICAL_PIDS are set,
 * -ENOENT when removing a pid that is not there. */
#define MEMCTL_CORE_CRITICAL_PIDS 256
int memctl_core_set_critical_pid(MemctlCore *c, int32_t pid, bool critical);

/* Publishes a slot's policy (priority, protection, budgets, prefer/avoid). */
int memctl_core_set_policy(MemctlCore *c, int slot, const MemctlCorePolicy *p);

/*
 * Asks the core to kill a group now (all of it with group=true, else its largest victim). `req` (not
 * 0) names the request for memctl_core_kill_result(): the core always answers it, with the kill's
 * record (MEMCTL_EVENT_KILL, reason "manual") or an error event, and with the outcome kept in the
 * slot, so that a caller learns it even if the events ring was full.
 */
int memctl_core_kill_group(MemctlCore *c, int slot, bool group, uint32_t req);
/* The pre-kill hooks of slot's group are done (PreKillDone, the executable exited): the waiting
 * verdict is carried out now. Nothing if none waits. */
int memctl_core_prekill_done(MemctlCore *c, int slot);
/* 1 with *ret_result (0: killed and released, or -errno: -ESRCH no eligible victim, -EINPROGRESS a
 * victim is still dying, -ENOENT the slot is not active, another kill error) once request `req` is
 * done; 0 while it is not; -EINVAL for a bad slot. */
int memctl_core_kill_result(MemctlCore *c, int slot, uint32_t req, int *ret_result);

/* The events ring's fd (readable when events wait) and its consumer. */
int memctl_core_event_fd(const MemctlCore *c);
bool memctl_core_next_event(MemctlCore *c, MemctlCoreEvent *ret);
/* Resets the events fd; call before draining with memctl_core_next_event(). */
void memctl_core_ack_events(MemctlCore *c);

/* Events lost because the GLib side did not drain the ring in time. */
uint64_t memctl_core_events_dropped(const MemctlCore *c);

/* A group's memory.events counters as the core last read them (at every change the kernel
 * notifies): what RemoveGroup reports when the cgroup is already gone. -EINVAL for a bad slot. */
typedef struct {
    uint64_t oom, oom_kill, high, max;
} MemctlCoreEvents;
int memctl_core_group_events(MemctlCore *c, int slot, MemctlCoreEvents *ret);

/* True while the core thread runs at SCHED_RR: memctl_core_start() set it, and no reap since has
 * failed to raise it again (daemon/core/kill.c). */
bool memctl_core_realtime(const MemctlCore *c);
/* Dry run (docs/POLICY.md): the core decides, records the victim it would kill and what follows
 * (MEMCTL_EVENT_OUTCOME), and kills nobody; KillGroup still kills. Takes effect at the next
 * decision; a shadow being watched settles all the same. */
void memctl_core_set_dry_run(MemctlCore *c, bool on);
bool memctl_core_dry_run(const MemctlCore *c);

/* True while the host guard is armed (the host short of memory): what is not the kill path keeps
 * out of the way (proactive reclaim waits). */
bool memctl_core_host_armed(const MemctlCore *c);

/* Number of loop iterations the core has made: the watchdog checks that it moves. */
uint64_t memctl_core_heartbeat(const MemctlCore *c);
/* Wakes the core so that its heartbeat moves when it is alive. */
void memctl_core_ping(MemctlCore *c);
/* Test hook: the core thread stops answering (it only notices memctl_core_stop()), as a deadlocked
 * one would; the watchdog must then starve. */
void memctl_core_test_wedge(MemctlCore *c);

static inline void memctl_core_freep(MemctlCore **c)
{
    if (*c)
        memctl_core_free(*c);
}
#define _cleanup_core_ __attribute__((cleanup(memctl_core_freep)))
