/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Freeze, then decide (docs/POLICY.md), on the core thread. A kill verdict for a group with a
 * pre-kill wait does not kill at once: the victim is chosen and pinned (a pidfd), the group frozen
 * (cgroup.freeze: it stops allocating, so it stops hurting the others) and the victim announced to
 * the GLib side, which tells the bus (PreKill) and runs the group's executable. The wait ends when
 * the hooks say so (memctl_core_prekill_done(): a command) or at the deadline, which the core keeps
 * on its own window timer: a hook that never answers, or a starved GLib side, cannot delay the kill
 * past it. Then the victim is killed (SIGKILL reaches frozen tasks in cgroup v2) unless it is gone
 * already, and the group thawed. The host guard's kills and KillGroup never wait.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "basic/str.h"
#include "daemon/core/internal.h"
#include "daemon/core/ring.h"
#include "kernel/sample.h"

int memctl_core_prekill_begin(MemctlCore *c, size_t i, const char *reason)
{
    Slot *s = &c->slots[i];
    Prekill *pk = &s->pk;
    bool whole = atomic_load(&s->oom_group);
    size_t k, count;
    int r = memctl_core_choose_victim(c, i, whole, &k, &count);
    if (r < 0)
        return r;
    const MemctlCandidate *cand = &c->cands[k];
    int pidfd = (int)syscall(SYS_pidfd_open, cand->pid, 0);
    if (pidfd < 0) /* gone meanwhile: no wait for a victim that is not there */
        return memctl_core_slot_kill(c, i, reason, false);
    *pk = (Prekill){
            .active = true,
            .pidfd = pidfd,
            .t_start = memctl_now_usec(),
    };
    pk->deadline = pk->t_start + atomic_load(&s->prekill_usec);
    memctl_str_copy(pk->reason, sizeof(pk->reason), reason);
    pk->frozen = memctl_core_slot_freeze(s, true) == 0;

    MemctlCoreEvent e = {.type = MEMCTL_EVENT_PREKILL, .slot = (int32_t)i, .frozen = pk->frozen};
    memctl_str_copy(e.group, sizeof(e.group), s->name);
    memctl_str_copy(e.reason, sizeof(e.reason), reason);
    e.pid = cand->pid;
    e.npids = (uint32_t)count;
    e.group_kill = whole;
    memcpy(e.comm, cand->comm, sizeof(e.comm));
    e.t_event_usec = memctl_realtime_usec();
    e.current = s->ep.last.current;
    e.high = atomic_load(&s->high);
    e.max = atomic_load(&s->max);
    e.prekill_usec = pk->deadline - pk->t_start;
    memctl_ring_push(c->events, &e); /* lost (counted): no hook runs, the deadline still kills */
    memctl_core_window_timer(c, true);
    return CORE_KILL_WAITING;
}

/* True if the pinned victim has exited (its pidfd is readable). */
static bool victim_gone(int pidfd)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

int memctl_core_prekill_finish(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    Prekill *pk = &s->pk;
    if (!pk->active)
        return 0;
    pk->active = false;
    uint64_t waited = memctl_now_usec() - pk->t_start;
    bool gone = victim_gone(pk->pidfd);
    memctl_fd_close(&pk->pidfd);
    int r = 0;
    if (!gone) { /* the group is still frozen: nobody in it has moved since the choice */
        r = memctl_core_slot_kill(c, i, pk->reason, false);
        if (r == CORE_KILLED && s->ep.victim) {
            s->v.rec.prekill_usec = waited;
            s->v.rec.frozen = pk->frozen;
        }
    }
    int t = pk->frozen ? memctl_core_slot_freeze(s, false) : 0;
    if (t < 0)
        memctl_core_emit_error(c, (int)i, "thaw after the pre-kill wait", t);
    return r;
}

void memctl_core_prekill_cancel(MemctlCore *c, size_t i)
{
    Prekill *pk = &c->slots[i].pk;
    if (!pk->active)
        return;
    pk->active = false;
    memctl_fd_close(&pk->pidfd);
    if (pk->frozen)
        (void)memctl_core_slot_freeze(&c->slots[i], false);
}
