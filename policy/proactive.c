/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/proactive.h"

#include "basic/size.h"

void memctl_proactive_init(MemctlProactive *p)
{
    *p = (MemctlProactive){.step = MEMCTL_PROACTIVE_STEP_MIN};
}

/* The stall share over dt, in ppm, saturated at a million. */
static uint32_t share_ppm(uint64_t stall, uint64_t dt)
{
    if (dt == 0 || stall >= dt)
        return stall ? 1000000 : 0;
    return (uint32_t)(stall * 1000000 / dt);
}

/*
 * The working set: at or over the target, the usage now is what the group needs (the last step cut
 * into it and its refaults brought it back), averaged with what was known before so that one noisy
 * interval does not move it far, unless the group now holds more (it grew). Under the target, what
 * the group holds is an upper bound of it: once known, the estimate follows the usage down, never
 * up. What reclaim could not take at all (anonymous memory without swap) is in it, always.
 */
static void update_workingset(MemctlProactive *p, bool breach, const MemctlProactiveSample *s)
{
    if (breach) {
        p->workingset =
                !p->known || s->current >= p->workingset ? s->current : p->workingset / 2 + s->current / 2;
        p->known = true;
    } else if (!p->known || s->current < p->workingset)
        p->workingset = s->current;
    uint64_t pinned = s->current > s->could_free ? s->current - s->could_free : 0;
    if (p->workingset < pinned)
        p->workingset = pinned;
}

uint64_t memctl_proactive_next(MemctlProactive *p, const MemctlProactiveConfig *cfg,
                               const MemctlProactiveSample *s)
{
    if (!p->primed || s->t_usec <= p->last_t || s->some_usec < p->last_some ||
        s->refaulted < p->last_refaulted) {
        p->primed = true;
        p->last_t = s->t_usec;
        p->last_some = s->some_usec;
        p->last_refaulted = s->refaulted;
        if (p->workingset == 0)
            p->workingset = s->current;
        return 0;
    }
    uint64_t stall = s->some_usec - p->last_some;
    uint32_t ppm = share_ppm(stall, s->t_usec - p->last_t);
    uint64_t refaulted = s->refaulted - p->last_refaulted;
    p->last_t = s->t_usec;
    p->last_some = s->some_usec;
    p->last_refaulted = s->refaulted;
    /* Half of what the last step gave back came back: it took pages in use. */
    bool came_back =
            p->stepped && p->last_freed >= MEMCTL_PROACTIVE_MIN_BYTES && refaulted >= p->last_freed / 2;
    bool breach = ppm >= cfg->target_ppm || came_back;
    update_workingset(p, breach, s);
    if (p->stepped)
        p->stall_usec += stall; /* the interval after a step: its stall is the step's cost, at most */
    p->stepped = false;
    if (breach) {
        p->breaches++;
        p->since_probe = 0;
        p->step = p->step / 2 < MEMCTL_PROACTIVE_STEP_MIN ? MEMCTL_PROACTIVE_STEP_MIN : p->step / 2;
        return 0;
    }
    if (cfg->hold)
        return 0;
    uint64_t above = s->current > cfg->floor ? s->current - cfg->floor : 0;
    uint64_t room = memctl_size_min(above, s->could_free);
    /* The step, scaled by how far under the target the stall is: a stall at half the target asks
     * half the step. */
    uint64_t bytes = room / 1024 * p->step;
    bytes -= bytes / cfg->target_ppm * ppm + bytes % cfg->target_ppm * ppm / cfg->target_ppm;
    /* Well under the target (a quarter of it or less): the next step may be larger. */
    if ((uint64_t)ppm * 4 <= cfg->target_ppm)
        p->step = p->step * 2 > MEMCTL_PROACTIVE_STEP_MAX ? MEMCTL_PROACTIVE_STEP_MAX : p->step * 2;
    /* Measured: down to the working set, below it only for a probe of the least step. */
    uint64_t above_ws = s->current > p->workingset ? s->current - p->workingset : 0;
    if (p->known && bytes > above_ws) {
        if (++p->since_probe >= MEMCTL_PROACTIVE_PROBE_EVERY) {
            p->since_probe = 0;
            uint64_t probe = room / 1024 * MEMCTL_PROACTIVE_STEP_MIN;
            if (probe < MEMCTL_PROACTIVE_MIN_BYTES)
                probe = MEMCTL_PROACTIVE_MIN_BYTES;
            bytes = memctl_size_min(bytes, memctl_size_add(above_ws, probe));
        } else
            bytes = above_ws;
    }
    if (bytes < MEMCTL_PROACTIVE_MIN_BYTES)
        return 0;
    p->stepped = true;
    p->last_freed = 0;
    return bytes;
}

void memctl_proactive_reclaimed(MemctlProactive *p, uint64_t bytes)
{
    p->reclaimed = memctl_size_add(p->reclaimed, bytes);
    p->last_freed = bytes;
}

uint64_t memctl_proactive_suggest(const MemctlProactive *p)
{
    if (p->workingset == 0)
        return 0;
    uint64_t head = p->workingset / 4;
    if (head < (16ull << 20))
        head = 16ull << 20;
    uint64_t v = p->workingset + head;
    return (v + (1ull << 20) - 1) & ~((1ull << 20) - 1);
}
