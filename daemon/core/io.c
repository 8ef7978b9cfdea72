/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core thread's small reads and writes, shared by its other files: a group's sample, the
 * critical bit of a slot's subtree, events out to the GLib side, timers, KillGroup answers. Nothing
 * here allocates, logs or blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/str.h"
#include "daemon/core/internal.h"
#include "daemon/core/ring.h"
#include "kernel/host-sample.h"
#include "kernel/sample.h"
#include "policy/reclaim.h"

/* What reclaim could free in the group (policy/reclaim.h), from the memory.stat text in c->buf;
 * UINT64_MAX when a counter it needs is missing (an unknown kernel: the windows decide). */
static uint64_t slot_reclaimable(MemctlCore *c, Slot *s, uint64_t swap_current)
{
    MemctlReclaimInput in;
    if (memctl_sample_reclaim_stat(c->buf, &in) < 0)
        return UINT64_MAX;
    in.swap_current = swap_current;
    /* Swap room: only where the group may swap (memory.swap.max as the GLib side published it; no
     * swap accounting, no memory.swap.current: none). The
     * host's free swap is read only then, after the group's text is parsed (c->buf is reused). */
    in.swap_max = atomic_load(&s->swap_max);
    if (s->fd_swap >= 0 && in.swap_max > in.swap_current) {
        MemctlHostSample h;
        if (memctl_sample_read(c->fd_meminfo, c->buf, c->buf_size) > 0 &&
            memctl_host_sample_meminfo(c->buf, &h) == 0)
            in.host_swap_free = h.swap_free;
        else
            return UINT64_MAX;
    }
    return memctl_reclaim_could_free(&in);
}

int memctl_core_slot_sample(MemctlCore *c, Slot *s, const uint64_t *current, MemctlProgressSample *ret)
{
    MemctlProgressSample x = {
            .t_usec = memctl_now_usec(), .high = atomic_load(&s->high), .reclaimable = UINT64_MAX};
    int r = current ? (x.current = *current, 0) : memctl_sample_read_u64(s->fd_current, &x.current);
    if (r < 0)
        return r;
    if (s->fd_swap >= 0)
        (void)memctl_sample_read_u64(s->fd_swap, &x.swap_current);
    uint64_t some;
    if (memctl_sample_read(s->fd_pressure, c->buf, c->buf_size) > 0)
        (void)memctl_sample_pressure(c->buf, &some, &x.full_total_usec, &s->full_avg10);
    if (memctl_sample_read(s->fd_stat, c->buf, c->buf_size) > 0) {
        (void)memctl_sample_key(c->buf, "pgsteal", &x.pgsteal);
        (void)memctl_sample_key(c->buf, "pgscan", &x.pgscan);
        uint64_t ra = 0, rf = 0;
        (void)memctl_sample_key(c->buf, "workingset_refault_anon", &ra);
        (void)memctl_sample_key(c->buf, "workingset_refault_file", &rf);
        x.refault = ra + rf;
        uint64_t used;
        if (memctl_sample_used(c->buf, &used) == 0 && used < x.current)
            x.ahead = x.current - used;
        x.reclaimable = slot_reclaimable(c, s, x.swap_current); /* last: it may reuse c->buf */
    }
    *ret = x;
    return 0;
}

bool memctl_core_slot_is_critical(const MemctlCore *c, size_t j)
{
    for (int k = (int)j; k >= 0; k = c->slots[k].parent)
        if (atomic_load(&c->slots[k].critical))
            return true;
    return false;
}

int memctl_core_epoll_add(MemctlCore *c, int fd, uint32_t events, uint32_t kind, size_t idx)
{
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)kind << 32) | (uint32_t)idx};
    return epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int memctl_core_timer_period(int tfd, uint64_t period_usec)
{
    struct itimerspec its = {0};
    its.it_interval.tv_sec = (time_t)(period_usec / 1000000);
    its.it_interval.tv_nsec = (long)(period_usec % 1000000) * 1000;
    its.it_value = its.it_interval;
    return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

void memctl_core_window_timer(MemctlCore *c, bool on)
{
    if (c->timer_armed != on && memctl_core_timer_period(c->tfd, on ? c->cfg.progress.window_usec : 0) == 0)
        c->timer_armed = on;
}

void memctl_core_emit_error(MemctlCore *c, int slot, const char *what, int err)
{
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_ERROR, .slot = slot, .error = err};
    if (slot >= 0 && c->slots[slot].name)
        memctl_str_copy(e.group, sizeof(e.group), c->slots[slot].name);
    memctl_str_copy(e.what, sizeof(e.what), what);
    e.t_event_usec = memctl_realtime_usec();
    memctl_ring_push_spare(c->events, &e, memctl_ring_capacity(c->events) / 4); /* a notice (slot.c) */
}

void memctl_core_shadow_outcome(MemctlCore *c, size_t i, bool host, MemctlShadowOutcome o)
{
    if (o == MEMCTL_SHADOW_NONE)
        return;
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_OUTCOME, .slot = (int32_t)i, .host = host, .dry_run = true};
    memctl_str_copy(e.group, sizeof(e.group), c->slots[i].name);
    memctl_str_copy(e.outcome, sizeof(e.outcome), memctl_shadow_outcome_name(o));
    e.t_event_usec = memctl_realtime_usec();
    memctl_ring_push(c->events, &e); /* a drop is counted (events_dropped); the record says "pending" */
}

int memctl_core_slot_freeze(Slot *s, bool freeze)
{
    char p[CORE_PATH_MAX + 16];
    size_t n = strlen(s->path);
    memcpy(p, s->path, n);
    memcpy(p + n, "/cgroup.freeze", sizeof("/cgroup.freeze"));
    if (freeze && setxattr(s->path, MEMCTL_PREKILL_XATTR, "1", 1, 0) < 0)
        return -errno; /* no freeze that a restart could not undo */
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    int r = fd < 0 ? -errno : 0;
    if (fd >= 0 && write(fd, freeze ? "1" : "0", 1) < 0)
        r = -errno;
    if (fd >= 0)
        close(fd);
    if (freeze ? r < 0 : r == 0) /* a group left frozen keeps its marker */
        (void)removexattr(s->path, MEMCTL_PREKILL_XATTR);
    return r;
}

void memctl_core_manual_done(Slot *s, uint32_t req, int result)
{
    atomic_store_explicit(&s->manual_result, result, memory_order_relaxed);
    atomic_store_explicit(&s->manual_done_req, req, memory_order_release);
}
