/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/episode.h"

#include "policy/reclaim.h"

#include <errno.h>
#include <stddef.h>

void memctl_episode_init(MemctlEpisode *e)
{
    *e = (MemctlEpisode){0};
}

/* Whether the episode may act on what it knows (no victim is dying): a victim whose memory is on
 * its way back makes any figure taken now a guess (WHY.md §1). */
static bool knows(const MemctlEpisode *e)
{
    return !e->victim || e->released;
}

bool memctl_episode_wants_sample(const MemctlEpisode *e, MemctlEpisodeCause cause, uint64_t high)
{
    if (high == UINT64_MAX)
        return false; /* memctld does not decide for groups without a high threshold */
    if (!e->sampling)
        return knows(e);
    return cause == MEMCTL_EPISODE_TICK || e->max_hit || knows(e);
}

bool memctl_episode_event_needs_sample(const MemctlEpisode *e, MemctlEpisodeCause cause, uint64_t current,
                                       uint64_t high, const MemctlProgressConfig *cfg)
{
    if (!e->sampling || cause == MEMCTL_EPISODE_TICK || e->max_hit)
        return true;
    /* beyond the margin even if reclaim could free nothing at all: the rest of the sample may tell */
    return knows(e) && memctl_reclaim_hopeless(current, high, 0, cfg->progress_floor);
}

/* Nothing reclaim could free covers the overage of what the group uses (memctl_progress_usage(): a
 * huge page khugepaged is collapsing is no overage the group is heading to), and the group is past
 * the band where it is at its threshold (the progress floor: a hover is none either): no window can
 * show progress. */
static bool hopeless(const MemctlEpisode *e, const MemctlProgressSample *x, const MemctlProgressConfig *cfg,
                     const char **ret_reason)
{
    if (!knows(e) ||
        !memctl_reclaim_hopeless(memctl_progress_usage(x), x->high, x->reclaimable, cfg->progress_floor))
        return false;
    *ret_reason = "no-reclaim";
    return true;
}

/* A kill decided on knowledge, between or before the windows: its figures are the overage against
 * what reclaim could free, from the crossing. The sample that decided becomes the last one: the kill
 * record's usage is its usage, and the next window measures from it. */
static bool knowledge_kill(MemctlEpisode *e, const MemctlProgressSample *x, const MemctlProgressConfig *cfg,
                           const char **ret_reason)
{
    if (!hopeless(e, x, cfg, ret_reason))
        return false;
    e->last = *x;
    e->figures = (MemctlProgressFigures){
            .dt_usec = x->t_usec > e->t_over_mono ? x->t_usec - e->t_over_mono : 0,
            .reclaimable_bytes = x->reclaimable,
    };
    return true;
}

static MemctlEpisodeAction start(MemctlEpisode *e, const MemctlProgressSample *x, uint64_t t_rt)
{
    if (x->current <= x->high)
        return MEMCTL_EPISODE_NONE;
    e->sampling = true;
    e->t_over_rt = t_rt;
    e->t_over_mono = x->t_usec;
    e->last = *x;
    e->progress = (MemctlProgressState){0};
    e->max_hit = false;
    return MEMCTL_EPISODE_START;
}

static MemctlEpisodeAction decide(MemctlEpisode *e, MemctlEpisodeCause cause, const MemctlProgressSample *x,
                                  uint64_t t_rt, const MemctlProgressConfig *cfg, uint64_t page_size,
                                  const char **ret_reason)
{
    e->window_stalled = false;
    if (!e->sampling) {
        MemctlEpisodeAction a = start(e, x, t_rt);
        return a == MEMCTL_EPISODE_START && knowledge_kill(e, x, cfg, ret_reason) ? MEMCTL_EPISODE_KILL : a;
    }
    if (cause != MEMCTL_EPISODE_TICK && !e->max_hit) /* between windows: only what is known decides */
        return knowledge_kill(e, x, cfg, ret_reason) ? MEMCTL_EPISODE_KILL : MEMCTL_EPISODE_NONE;

    e->verdict = memctl_progress_decide(&e->last, x, cfg, page_size, &e->progress, &e->figures);
    e->last = *x;
    if (e->verdict == MEMCTL_VERDICT_CALM) {
        /* Back under high. A victim that has still not exited released what the group needed. */
        if (e->victim && !e->released) {
            e->released = true;
            e->t_released = x->t_usec;
        }
        e->sampling = false;
        e->t_over_rt = e->t_over_mono = 0;
        e->no_victim_said = false;
        return MEMCTL_EPISODE_CALM;
    }
    e->window_stalled = e->figures.stall_pct >= cfg->stall_budget_pct;
    const char *reason = memctl_verdict_name(e->verdict);
    bool kill = memctl_verdict_is_kill(e->verdict);
    if (!kill && hopeless(e, x, cfg, &reason)) {
        e->max_hit = false;
        *ret_reason = reason;
        return MEMCTL_EPISODE_KILL;
    }
    if (!kill && e->max_hit && e->verdict == MEMCTL_VERDICT_WAIT) {
        kill = true;
        reason = "max";
    }
    e->max_hit = false;
    if (!kill)
        return MEMCTL_EPISODE_NONE;
    *ret_reason = reason;
    return MEMCTL_EPISODE_KILL;
}

MemctlEpisodeAction memctl_episode_decide(MemctlEpisode *e, MemctlEpisodeCause cause,
                                          const MemctlProgressSample *x, uint64_t t_rt,
                                          const MemctlProgressConfig *cfg, uint64_t page_size,
                                          const char **ret_reason)
{
    const char *reason = NULL;
    MemctlEpisodeAction a = decide(e, cause, x, t_rt, cfg, page_size, &reason);
    if (a != MEMCTL_EPISODE_KILL)
        return a;
    if (e->shadow.active) /* a dry run's verdict is being watched: the same kill, not recorded again */
        return MEMCTL_EPISODE_NONE;
    *ret_reason = reason;
    return a;
}

void memctl_episode_shadow_started(MemctlEpisode *e, uint64_t now)
{
    memctl_shadow_start(&e->shadow, now);
    e->progress = (MemctlProgressState){0};
}

MemctlShadowOutcome memctl_episode_shadow_settle(MemctlEpisode *e, uint64_t now, bool kernel_killed)
{
    return memctl_shadow_settle(&e->shadow, now, kernel_killed, !e->sampling);
}

void memctl_episode_max_hit(MemctlEpisode *e)
{
    if (e->sampling)
        e->max_hit = true;
}

void memctl_episode_set_origin(MemctlEpisode *e, const MemctlProgressSample *x, uint64_t t_rt,
                               uint64_t t_mono, const MemctlProgressFigures *figures)
{
    if (x)
        e->last = *x;
    e->t_over_rt = t_rt;
    e->t_over_mono = t_mono;
    if (figures)
        e->figures = *figures;
}

bool memctl_episode_escalates(const MemctlEpisode *e)
{
    return e->victim && !e->released;
}

void memctl_episode_victim_started(MemctlEpisode *e)
{
    e->victim = true;
    e->released = false;
    e->progress = (MemctlProgressState){0};
}

void memctl_episode_victim_done(MemctlEpisode *e, bool exited)
{
    bool released = e->released;
    e->victim = false;
    e->released = false;
    if (!exited || released)
        return; /* escalation or teardown: the episode goes on; released: it ended when the group
                 * came back under high, and another may have begun since */
    e->progress = (MemctlProgressState){0};
    e->t_over_rt = e->t_over_mono = 0;
    e->sampling = false;
    e->max_hit = false;
}

bool memctl_episode_kill_result(MemctlEpisode *e, int r)
{
    if (r == 0) {
        e->no_victim_said = false;
        return false;
    }
    if (r == -ESRCH) {
        bool say = !e->no_victim_said;
        e->no_victim_said = true;
        return say;
    }
    return r != -EINPROGRESS;
}

bool memctl_episode_release_expired(const MemctlEpisode *e, uint64_t now)
{
    return e->victim && e->released && now - e->t_released >= MEMCTL_EPISODE_RELEASED_WAIT_USEC;
}

bool memctl_episode_needs_timer(const MemctlEpisode *e)
{
    return e->sampling || (e->victim && e->released);
}
