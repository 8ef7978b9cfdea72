/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/victim.h"

#include <errno.h>
#include <string.h>

#include "basic/size.h"
#include "policy/limits.h"

bool memctl_victim_eligible(const MemctlCandidate *c)
{
    if (c->pid <= 1)
        return false;
    if (c->flags & (MEMCTL_CAND_CRITICAL | MEMCTL_CAND_SELF | MEMCTL_CAND_GONE | MEMCTL_CAND_DYING))
        return false;
    return c->oom_score_adj > -1000;
}

bool memctl_victim_spared(const MemctlCandidate *c)
{
    return c->pid <= 1 || (c->flags & (MEMCTL_CAND_CRITICAL | MEMCTL_CAND_SELF)) || c->oom_score_adj <= -1000;
}

uint64_t memctl_victim_badness(const MemctlCandidate *c, uint64_t scale_bytes)
{
    if (!memctl_victim_eligible(c))
        return 0;
    uint64_t points = memctl_size_add(c->anon_bytes, c->swap_bytes);
    int adj = c->oom_score_adj;
    if (adj > 1000)
        adj = 1000;
    uint64_t shift = scale_bytes / 1000 * (uint64_t)(adj < 0 ? -adj : adj);
    if (adj > 0)
        points = memctl_size_add(points, shift);
    else if (adj < 0)
        points = points > shift ? points - shift : 0;
    return points > 0 ? points : 1;
}

static int tier(const MemctlCandidate *c)
{
    if (c->flags & MEMCTL_CAND_PREFER)
        return 2;
    if (c->flags & MEMCTL_CAND_AVOID)
        return 0;
    return 1;
}

int memctl_victim_pick(const MemctlCandidate *c, size_t n, uint64_t scale_bytes, size_t *ret_index)
{
    size_t best = n;
    uint64_t best_points = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t points = memctl_victim_badness(&c[i], scale_bytes);
        if (points == 0)
            continue;
        if (best == n) {
            best = i;
            best_points = points;
            continue;
        }
        int t = tier(&c[i]), bt = tier(&c[best]);
        if (t > bt ||
            (t == bt && (points > best_points || (points == best_points && c[i].pid > c[best].pid)))) {
            best = i;
            best_points = points;
        }
    }
    if (best == n)
        return -ESRCH;
    *ret_index = best;
    return 0;
}

bool memctl_victim_comm_in(const char *comm, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strncmp(comm, list[i], MEMCTL_COMM_MAX - 1) == 0 && strlen(list[i]) < MEMCTL_COMM_MAX)
            return true;
    return false;
}

uint64_t memctl_victim_group_score(const MemctlGroupCandidate *g)
{
    if (g->flags & (MEMCTL_GCAND_CRITICAL | MEMCTL_GCAND_BUSY | MEMCTL_GCAND_EMPTY))
        return 0;
    uint64_t protection = g->min > g->low ? g->min : g->low;
    if (g->current <= protection)
        return 0;
    uint32_t prio = g->priority;
    if (prio < MEMCTL_PRIORITY_MIN)
        prio = MEMCTL_PRIORITY_MIN;
    if (prio > MEMCTL_PRIORITY_MAX)
        prio = MEMCTL_PRIORITY_MAX;
    uint64_t weight = MEMCTL_PRIORITY_MAX + 1 - prio; /* 1 .. 100 */
    uint64_t over = g->current - protection;
    return over > UINT64_MAX / weight ? UINT64_MAX : over * weight;
}

int memctl_victim_pick_group(const MemctlGroupCandidate *g, size_t n, size_t *ret_index)
{
    size_t best = n;
    uint64_t best_score = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = memctl_victim_group_score(&g[i]);
        if (s == 0)
            continue;
        if (best == n || s > best_score || (s == best_score && g[i].current > g[best].current)) {
            best = i;
            best_score = s;
        }
    }
    if (best == n)
        return -ESRCH;
    *ret_index = best;
    return 0;
}
