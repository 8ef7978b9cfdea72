/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/progress.h"
#include "policy/shadow.h"

/*
 * A group's episode over memory.high, as pure logic: the core reads the group's files, signals and
 * reports (daemon/core/slot.c); this decides when. An episode starts when the group is found over
 * its high (sampling starts: the decision window's timer runs), goes on window by window with a
 * verdict on measured progress (policy/progress.h), and ends when the group is back under high
 * (calm) or when its victim has exited.
 *
 * Knowledge first: when nothing reclaim could free covers the overage, no window is waited for
 * (policy/reclaim.h). Knowledge, not timers (docs/WHY.md, "Re-enable OOM killer using timers"): while a
 * victim is dying nothing new starts on the event path, since its memory is on its way back; the next kill
 * needs a whole decision's worth of windows measured after this one. A kill decided while the previous victim
 * has neither exited nor been released is an escalation: that victim cannot exit (a livelock), and its record
 * says so. A victim whose group went back under high before it exited released what the group needed: the
 * episode is over, and its record waits for the exit at most MEMCTL_EPISODE_RELEASED_WAIT_USEC (one stuck in
 * the kernel, its address space reaped, may never exit).
 */

#define MEMCTL_EPISODE_RELEASED_WAIT_USEC 1000000

typedef enum {
    MEMCTL_EPISODE_EVENT,    /* memory.events changed, a command, the group's registration */
    MEMCTL_EPISODE_TICK,     /* the decision window's timer */
    MEMCTL_EPISODE_PRESSURE, /* a PSI trigger, the group's or the host's */
} MemctlEpisodeCause;

typedef enum {
    MEMCTL_EPISODE_NONE,  /* nothing to do */
    MEMCTL_EPISODE_START, /* crossed high: sampling starts (run the window timer, say "high") */
    MEMCTL_EPISODE_CALM,  /* back under high: the episode is over */
    MEMCTL_EPISODE_KILL,  /* kill a victim now, for the reason given */
} MemctlEpisodeAction;

typedef struct {
    bool sampling;       /* over high: sampled once per window */
    bool max_hit;        /* memory.max was hit since the last decision */
    bool no_victim_said; /* "no eligible victim" was reported in this episode */
    bool window_stalled; /* the last decision was a window whose full stall reached the stall budget:
                          * the "stall" PressureAlert */
    uint64_t t_over_rt, t_over_mono; /* when it crossed high (the kill record's event time); 0: not */
    MemctlProgressSample last;
    MemctlProgressState progress;
    MemctlProgressFigures figures; /* what the last verdict was based on */
    MemctlVerdict verdict;
    bool victim;         /* a victim is dying */
    bool released;       /* ... and the group went back under high before it exited */
    uint64_t t_released; /* CLOCK_MONOTONIC */
    /* a dry run's verdict being watched (policy/shadow.h): no other kill is decided meanwhile */
    MemctlShadow shadow;
} MemctlEpisode;

void memctl_episode_init(MemctlEpisode *e);

/* Whether the core must read a fresh sample for this cause. A group without high (UINT64_MAX) is
 * never decided on; a dying victim not yet released is waited for (only the window's tick samples,
 * for the escalation verdict); otherwise every cause samples: the windows decide on their edges, or
 * at once when memory.max was hit, and every other event is checked against what is known. */
bool memctl_episode_wants_sample(const MemctlEpisode *e, MemctlEpisodeCause cause, uint64_t high);

/* Between windows (an event while sampling, memory.max not hit), only an overage beyond the margin
 * can decide: true when a group at `current` needs the whole sample read for that (the core reads
 * memory.current first, and the rest only then). */
bool memctl_episode_event_needs_sample(const MemctlEpisode *e, MemctlEpisodeCause cause, uint64_t current,
                                       uint64_t high, const MemctlProgressConfig *cfg);

/* The decision on a fresh sample x (x->high: the high in force) taken for `cause` at CLOCK_REALTIME
 * t_rt. On MEMCTL_EPISODE_KILL, *ret_reason names why:
 *  - no-reclaim: over high by more than the progress floor, and more than everything reclaim could
 *    free (x->reclaimable, policy/reclaim.h): decided at the crossing or at any event after it,
 *    without waiting for a window, unless a victim is dying;
 *  - no-progress, stall: the window verdict (policy/progress.h), on the window's edges;
 *  - max: memory.max was hit in a window without progress (the kernel is about to fail a charge or
 *    kill).
 * A kill at the crossing returns MEMCTL_EPISODE_KILL with the episode started (sampling): the
 * caller runs the window timer as for MEMCTL_EPISODE_START. */
MemctlEpisodeAction memctl_episode_decide(MemctlEpisode *e, MemctlEpisodeCause cause,
                                          const MemctlProgressSample *x, uint64_t t_rt,
                                          const MemctlProgressConfig *cfg, uint64_t page_size,
                                          const char **ret_reason);

/* memory.events "max" moved: while sampling, the next decision is made at once. */
void memctl_episode_max_hit(MemctlEpisode *e);

/* A kill decided outside the episode (a manual kill, the host guard): its record's evidence is x
 * (NULL: the last sample stands), taken at t_rt / t_mono, and figures if given. */
void memctl_episode_set_origin(MemctlEpisode *e, const MemctlProgressSample *x, uint64_t t_rt,
                               uint64_t t_mono, const MemctlProgressFigures *figures);

/* A kill is about to be made while a victim is dying: true when it is an escalation (that victim
 * neither exited nor was released: a livelock). The caller then ends that victim (not exited). */
bool memctl_episode_escalates(const MemctlEpisode *e);

/* A dry run recorded a kill instead of making it (at CLOCK_MONOTONIC now): the episode goes on
 * without deciding another until the shadow settles (memctl_episode_shadow_settle()), and the next
 * verdict needs fresh evidence, as after a kill. */
void memctl_episode_shadow_started(MemctlEpisode *e, uint64_t now);

/* The dry run's shadow at `now`: kernel_killed, the group's oom_kill moved since the verdict; a group
 * back under high (not sampling) recovered. MEMCTL_SHADOW_NONE while unsettled or without one. */
MemctlShadowOutcome memctl_episode_shadow_settle(MemctlEpisode *e, uint64_t now, bool kernel_killed);

/* A victim was signalled: the next one needs fresh evidence, measured after this kill. */
void memctl_episode_victim_started(MemctlEpisode *e);

/* The victim is done: exited (its pidfd, or the group emptied: the episode is decided afresh from
 * what the group looks like now) or not (escalation, teardown, the release wait ran out). */
void memctl_episode_victim_done(MemctlEpisode *e, bool exited);

/* The outcome (0 or -errno) of a kill the episode decided: true when it must be reported. -ESRCH
 * (nothing eligible: everything is critical, protected or memctld) stays so at every decision of the
 * episode, so it is reported once; -EINPROGRESS (someone is dying already) is no failure. */
bool memctl_episode_kill_result(MemctlEpisode *e, int r);

/* On the window's tick at `now` (CLOCK_MONOTONIC): true when a released victim has had its
 * MEMCTL_EPISODE_RELEASED_WAIT_USEC and its record must go out as it stands. */
bool memctl_episode_release_expired(const MemctlEpisode *e, uint64_t now);

/* Whether the window timer must keep running for this group (no timer runs while nothing happens). */
bool memctl_episode_needs_timer(const MemctlEpisode *e);
