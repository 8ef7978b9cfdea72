/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Definitions shared by the core's files: the thread (loop.c, dispatching to slot.c for a group's
 * episode, kill.c for victims, host.c for the host guard, io.c for the small reads and writes they
 * all make) and its API to the main thread (api.c). README.md says what each side may touch.
 */

#include <pthread.h>
#include <stdatomic.h>

#include "daemon/core/api.h"
#include "daemon/core/ring.h"
#include "kernel/pidfd.h"
#include "policy/episode.h"

#define CORE_STACK_SIZE (512u * 1024)
#define CORE_EPOLL_BATCH 64
#define CORE_STAT_BUF (16u * 1024)
#define CORE_PATH_MAX 512
#define CORE_ALERT_INTERVAL_USEC 1000000
#define CORE_ADD_BATCH 32 /* groups added per wake-up of the core while adds are held */
/* A kernel OOM kill up to this long before the host guard armed is of the same episode: the guard
 * arms on a PSI event or the watch, which can come a PSI window (500 ms on 6.1) after the kernel's
 * own kill, and a dry run's host verdict then stands confirmed. */
#define CORE_HOST_FIRST_USEC 1000000

enum { SLOT_FREE, SLOT_PREPARED, SLOT_ACTIVE, SLOT_RETIRED };
enum { K_CMD = 1, K_EVENTS, K_CGEVENTS, K_TIMER, K_PIDFD, K_HOST_PSI, K_HOST_TIMER, K_HOST_WATCH };
enum { CAUSE_EVENT, CAUSE_TICK, CAUSE_PRESSURE };

/*
 * Commands from the GLib side are bits in a word: a slot's (Slot.pending, handled in this order) or
 * the core's own (MemctlCore.pending). The command ring carries the index of a word that went from
 * no bits to some (-1: the core's), so each word is in the ring at most once and the ring (one entry
 * per slot, plus one) can never be full: no command is ever dropped.
 */
enum {
    CMD_ADD = 1u << 0,
    CMD_UPDATE = 1u << 1,
    CMD_KILL = 1u << 2,
    CMD_KILL_GROUP = 1u << 3,
    CMD_REMOVE = 1u << 4,
    CMD_PREKILL_DONE = 1u << 5
};
enum { CMD_PING = 1u << 0, CMD_WEDGE = 1u << 1 };
#define CMD_CORE (-1)

/* The victim being released (whether there is one: the episode's `victim`). */
typedef struct {
    bool group_kill;
    uint32_t manual_req; /* the KillGroup request waiting for this victim's record; 0: none */
    int pidfd;
    uint64_t t_signal; /* CLOCK_MONOTONIC */
    uint64_t current_before;
    MemctlCoreEvent rec;
} Victim;

/* A kill verdict waiting for the group's pre-kill hooks (freeze, then decide), the group frozen. */
typedef struct {
    bool active;
    bool frozen;                /* cgroup.freeze was written 1 (and MEMCTL_PREKILL_XATTR set) */
    int pidfd;                  /* the victim announced, pinned: if it is gone by the end, nobody is killed */
    uint64_t t_start, deadline; /* CLOCK_MONOTONIC */
    char reason[24];
} Prekill;

typedef struct {
    MemctlCoreMatch prefer, avoid;
} SlotLists;

typedef struct {
    _Atomic int state;
    char path[CORE_PATH_MAX]; /* absolute cgroup directory; past the mount (MemctlCore.mount_len), as
                               * /proc/<pid>/cgroup shows it: "/memctl.slice/g" */
    const char *name;         /* memctl's name for it: the end of path */
    int parent;
    int fd_events, fd_current, fd_stat, fd_pressure, fd_procs, fd_kill, fd_swap, fd_cgevents;
    _Atomic uint64_t high, max, swap_max;
    _Atomic bool oom_group;
    _Atomic bool critical; /* a registered critical group: nothing in its subtree is a victim */
    _Atomic uint32_t priority, stall_budget_pct, stall_windows;
    _Atomic uint64_t prekill_usec; /* the pre-kill wait (0: none) */
    _Atomic uint64_t prot_min, prot_low;
    _Atomic bool has_lists;     /* MemctlCore.lists[slot] was written for this group */
    _Atomic uint32_t lists_seq; /* seqlock over them: odd while the GLib side writes */

    /* core-private */
    bool watched;        /* fd_events and fd_cgevents are in the epoll set */
    bool release_unsent; /* retired, and MEMCTL_EVENT_GROUP_RELEASED found the events ring full */
    bool record_unsent;  /* the last victim's record (v.rec) found the events ring full */
    MemctlEpisode ep;    /* the episode over high (policy/episode.h) */
    uint32_t full_avg10;
    uint64_t seen_oom_kill, seen_max;
    _Atomic uint64_t last_events[4]; /* memory.events oom, oom_kill, high, max as last read */
    uint64_t t_alert[2];             /* last PressureAlert per level (high, stall), CLOCK_MONOTONIC */
    uint32_t manual_next; /* the KillGroup request the victim about to be chosen answers; 0: none */
    Victim v;
    Prekill pk;

    _Atomic uint32_t pending;         /* CMD_* bits the GLib side asked for */
    _Atomic uint32_t manual_req;      /* the KillGroup request (an id the GLib side chose) ... */
    _Atomic int32_t manual_result;    /* ... and, once done, its outcome: 0 or -errno, */
    _Atomic uint32_t manual_done_req; /* published by storing its id here (after the result) */
} Slot;

struct MemctlCore {
    MemctlCoreConfig cfg;
    char mount[CORE_PATH_MAX];
    size_t mount_len;
    char proc_root[64];
    char sys_root[64];
    /* cfg.max_groups slots, of which the first n_slots have been used (the rest are untouched pages:
     * never resident, never read); free_hint: no free slot below it (the main thread's) */
    Slot *slots;
    _Atomic size_t n_slots;
    size_t free_hint;
    bool holding_adds;    /* memctl_core_hold_adds(): the main thread's */
    size_t adds_held;     /* groups added since the core was last woken, while holding */
    size_t events_unsent; /* release_unsent and record_unsent flags set, over all slots (the core's) */
    /* each slot's prefer/avoid lists, apart: written (and so resident) only for groups that have
     * some, read only when the slot's has_lists says so */
    SlotLists *lists;
    MemctlCandidate *cands;
    int32_t *cand_slot;
    int32_t *pids;
    int *pidfds;
    char *buf;
    size_t buf_size;
    int epfd, tfd, host_psi_fd;
    uint64_t host_psi_window_usec; /* in force: asked for, or the kernel's least */
    MemctlRing *cmds, *events;
    _Atomic uint32_t pending; /* CMD_PING, CMD_WEDGE */
    pthread_t thread;
    bool running;
    _Atomic bool realtime; /* the thread runs at SCHED_RR (memctl_core_start() could set it) */
    _Atomic bool dry_run;  /* decide and record, kill nobody (memctl_core_set_dry_run()) */
    bool timer_armed;
    _Atomic bool stop;
    _Atomic uint64_t heartbeat;
    int32_t self_pid;
    _Atomic int32_t critical_pids[MEMCTL_CORE_CRITICAL_PIDS]; /* registered critical processes; 0: free */
    uint64_t page_size;

    /* the host guard */
    int host_tfd, host_watch_tfd, fd_zoneinfo, fd_meminfo, fd_vmstat, fd_host_pressure;
    int fd_swaps, fd_zram[MEMCTL_HOST_ZRAM_MAX]; /* /proc/swaps; the zram swap devices' mm_stat */
    uint32_t n_zram;
    bool zram_only; /* every swap device is one of them */
    char *host_buf;
    size_t host_buf_size;
    _Atomic bool host_armed; /* written by the core only; read by the GLib side (memctl_core_host_armed()) */
    MemctlHostGlance host_glance; /* the watch's last look at MemAvailable (between episodes) */
    bool host_glanced;
    int32_t host_victim;             /* slot whose victim the guard waits for, or -1 */
    uint64_t host_t_rt, host_t_mono; /* the evidence's start: arming, or the last victim's release */
    uint64_t host_t_armed;           /* CLOCK_MONOTONIC when the guard armed */
    MemctlHostSample host_last;
    MemctlHostState host_state;
    MemctlHostFigures host_fig;
    MemctlProgressConfig host_progress; /* the group verdict's settings on the host window */
    uint32_t host_stall_peak;           /* this episode's most windows over the stall budget (net) */
    bool host_no_victim_said;           /* "host: no eligible victim" reported in this episode */
    bool host_deciding;                 /* memctl_core_host_kill() is choosing: records say host */
    MemctlShadow host_shadow;           /* a dry run's host verdict being watched (policy/shadow.h) */
    uint64_t host_shadow_oom;           /* /proc/vmstat oom_kill at that verdict */
    uint64_t t_kernel_kill;             /* CLOCK_MONOTONIC of the last kernel OOM kill seen in a group */
    int32_t host_shadow_slot;           /* the group its record names */
    MemctlGroupCandidate *gcands;
    int32_t *gcand_slot;
    bool *gskip;
};

/* The slots in use or used once: loops over groups stop there. */
static inline size_t memctl_core_slots_used(const MemctlCore *c)
{
    return atomic_load(&c->n_slots);
}

/* loop.c: the thread's entry point. */
void *memctl_core_main(void *arg);

/* io.c: the small reads and writes of the core thread. */
/* Reads a slot's memory.current (unless the caller read it just now: current), memory.stat,
 * memory.swap.current and memory.pressure. */
int memctl_core_slot_sample(MemctlCore *c, Slot *s, const uint64_t *current, MemctlProgressSample *ret);
/* True if slot j or an ancestor is registered critical. */
bool memctl_core_slot_is_critical(const MemctlCore *c, size_t j);
/* Makes a timerfd fire every period_usec (0: disarms it); 0 or -errno. */
int memctl_core_timer_period(int tfd, uint64_t period_usec);
/* Puts fd into the core's epoll set for `events`, reported as kind and idx; 0 or -errno. */
int memctl_core_epoll_add(MemctlCore *c, int fd, uint32_t events, uint32_t kind, size_t idx);
/* Runs the groups' decision window timer, or stops it. */
void memctl_core_window_timer(MemctlCore *c, bool on);
void memctl_core_emit_error(MemctlCore *c, int slot, const char *what, int err);
/* A dry run's outcome for slot i (the host guard's if host), as an event (nothing for
 * MEMCTL_SHADOW_NONE). */
void memctl_core_shadow_outcome(MemctlCore *c, size_t i, bool host, MemctlShadowOutcome o);
/* Freezes (true) or thaws slot s's cgroup, the marker xattr set before the freeze and removed after
 * the thaw; 0 or -errno (freezing: nothing frozen without the marker). */
int memctl_core_slot_freeze(Slot *s, bool freeze);
/* Tells the KillGroup request `req` how its kill went (0, or -errno). */
void memctl_core_manual_done(Slot *s, uint32_t req, int result);

/* slot.c: a group's episode over high, on the core thread. */
void memctl_core_slot_check(MemctlCore *c, size_t i, MemctlEpisodeCause cause);
void memctl_core_slot_alert(MemctlCore *c, size_t i, int level); /* 0: "high", 1: "stall" */
void memctl_core_slot_events_changed(MemctlCore *c, size_t i);   /* memory.events.local */
void memctl_core_slot_cgevents_changed(MemctlCore *c, size_t i); /* cgroup.events */
/* Offers again the kill records and GROUP_RELEASED events the events ring had no room for, each
 * slot's record before its release (slot.c). */
void memctl_core_send_unsent(MemctlCore *c);
void memctl_core_slot_commands(MemctlCore *c, size_t i); /* the slot's CMD_* bits */
void memctl_core_slot_tick(MemctlCore *c, size_t i, uint64_t now);

/* kill.c: victims. Kills in slot i (its policy's way, or all of it): CORE_KILLED or -errno (-ESRCH:
 * no eligible victim, -EINPROGRESS: one is dying already). In a dry run (not a KillGroup request) it
 * records the victim it would kill instead: CORE_KILL_RECORDED (the caller starts the shadow). */
enum { CORE_KILLED = 0, CORE_KILL_RECORDED = 1, CORE_KILL_WAITING = 2 };
int memctl_core_slot_kill(MemctlCore *c, size_t i, const char *reason, bool force_group);
/* The victim slot i's kill would take now: its candidate index in c->cands (*ret_k) and how many
 * processes the kill would take (*ret_count); 0, -ESRCH or -EINPROGRESS as a kill. */
int memctl_core_choose_victim(MemctlCore *c, size_t i, bool whole, size_t *ret_k, size_t *ret_count);

/* prekill.c: freeze, then decide. A kill verdict for a group with a pre-kill wait: the victim chosen
 * and pinned, the group frozen, the victim announced (MEMCTL_EVENT_PREKILL): CORE_KILL_WAITING, or
 * what memctl_core_slot_kill() returns when it killed at once (the victim could not be pinned). */
int memctl_core_prekill_begin(MemctlCore *c, size_t i, const char *reason);
/* The wait of slot i is over (its hooks are done, or its deadline passed): the victim is killed
 * unless it is gone, then the group thawed. Returns as memctl_core_slot_kill(); 0 if none waited. */
int memctl_core_prekill_finish(MemctlCore *c, size_t i);
/* The slot is let go of while it waits: thawed, nobody killed. */
void memctl_core_prekill_cancel(MemctlCore *c, size_t i);
/* The victim of slot i is done: exited or not (escalation, teardown, release wait over). */
void memctl_core_victim_finish(MemctlCore *c, size_t i, bool exited);
/* Offers again the record of the slot's last victim that the events ring had no room for (force:
 * pushed now or dropped and counted, before the next victim's record takes its place); true when
 * none is kept any more. */
bool memctl_core_record_resend(MemctlCore *c, Slot *s, bool force);
/* The host guard's kill: the group ranked first, then its victim. */
void memctl_core_host_kill(MemctlCore *c, MemctlHostVerdict verdict);

/* host.c: the host guard, on the core thread. */
bool memctl_core_host_pressure(MemctlCore *c); /* the host PSI trigger fired; true: kill now */
/* The watch's timer expired: a glance at MemAvailable, and the guard armed if the host is heading
 * below available_min (policy/host.h); true: kill now. */
bool memctl_core_host_watch(MemctlCore *c);
/* The host timer expired: true with the verdict when it says kill. */
bool memctl_core_host_tick(MemctlCore *c, MemctlHostVerdict *ret_kill);
/* The kernel's OOM killer killed in a group: a dry run's host verdict being watched is confirmed. */
void memctl_core_host_shadow_kernel_kill(MemctlCore *c);
void memctl_core_host_victim_done(MemctlCore *c); /* the victim it waited for is done */
/* The best-ranked group among the active children of `parent` (-1: the top level) not in skip. */
int memctl_core_host_pick(MemctlCore *c, int parent, const bool *skip);
/* The zram devices swapped on now, each mm_stat opened once (setup, and each arming). */
void memctl_core_host_zram_rescan(MemctlCore *c);
