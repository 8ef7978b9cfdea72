/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host guard (seeds 003, 004), on the core thread. A PSI event on /proc/pressure/memory arms it;
 * armed, it samples the host (zoneinfo, meminfo, vmstat, PSI) once per window on its own timer and
 * asks policy/host.c for a verdict; calm, it disarms (no timer runs while the host is calm). A kill
 * goes to the group that the policy library ranks first (usage above protection x priority),
 * descending to the child that ranks first, and to that group's victim. The next host kill needs
 * the previous victim's memory back and fresh evidence measured after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/core/internal.h"
#include "kernel/host-sample.h"
#include "daemon/core/ring.h"
#include "kernel/sample.h"

/* ---- GLib side: setup ---------------------------------------------------------------------- */

static int open_proc(const MemctlCore *c, const char *leaf)
{
    char path[96];
    snprintf(path, sizeof(path), "%s/%s", c->proc_root, leaf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* The size of a /proc file, by reading it (they report st_size 0). */
static ssize_t proc_size(int fd)
{
    char buf[4096];
    ssize_t total = 0, n;
    off_t off = 0;
    while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
        total += n;
        off += n;
    }
    return n < 0 ? -errno : total;
}

/* The zram devices swapped on now, each mm_stat opened once (at setup and at each arming: swap
 * may have been switched on since). Devices that cannot be read are left out. */
static void zram_rescan(MemctlCore *c)
{
    for (uint32_t i = 0; i < c->n_zram; i++)
        if (c->fd_zram[i] >= 0)
            close(c->fd_zram[i]);
    c->n_zram = 0;
    uint32_t nums[MEMCTL_HOST_ZRAM_MAX];
    if (c->fd_swaps < 0 || memctl_sample_read(c->fd_swaps, c->host_buf, c->host_buf_size) <= 0)
        return;
    uint32_t n = memctl_host_sample_zram_devices(c->host_buf, nums, MEMCTL_HOST_ZRAM_MAX);
    for (uint32_t i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/block/zram%u/mm_stat", c->sys_root, nums[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            c->fd_zram[c->n_zram++] = fd;
    }
}

int memctl_core_host_setup(MemctlCore *c)
{
    c->host_victim = -1;
    memctl_host_progress_config(&c->cfg.host, &c->cfg.progress, &c->host_progress);
    c->host_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->host_tfd < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)K_HOST_TIMER << 32};
    if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->host_tfd, &ev) < 0)
        return -errno;
    if ((c->fd_zoneinfo = open_proc(c, "zoneinfo")) < 0 || (c->fd_meminfo = open_proc(c, "meminfo")) < 0 ||
        (c->fd_vmstat = open_proc(c, "vmstat")) < 0 ||
        (c->fd_host_pressure = open_proc(c, "pressure/memory")) < 0)
        return c->fd_zoneinfo < 0  ? c->fd_zoneinfo
               : c->fd_meminfo < 0 ? c->fd_meminfo
               : c->fd_vmstat < 0  ? c->fd_vmstat
                                   : c->fd_host_pressure;
    /* One buffer for all four, twice the largest (zoneinfo grows with CPUs: per-cpu pagesets). */
    ssize_t biggest = 16384;
    int fds[] = {c->fd_zoneinfo, c->fd_meminfo, c->fd_vmstat};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        ssize_t n = proc_size(fds[i]);
        if (n < 0)
            return (int)n;
        if (n > biggest)
            biggest = n;
    }
    c->host_buf_size = (size_t)biggest * 2;
    c->host_buf = calloc(1, c->host_buf_size);
    c->gcands = calloc(c->cfg.max_groups, sizeof(*c->gcands));
    c->gcand_slot = calloc(c->cfg.max_groups, sizeof(*c->gcand_slot));
    c->gskip = calloc(c->cfg.max_groups, sizeof(*c->gskip));
    if (!c->host_buf || !c->gcands || !c->gcand_slot || !c->gskip)
        return -ENOMEM;
    c->fd_swaps = open_proc(c, "swaps"); /* no swap support: no zram to account for */
    zram_rescan(c);
    return 0;
}

void memctl_core_host_teardown(MemctlCore *c)
{
    int *fds[] = {&c->host_tfd,  &c->fd_zoneinfo,      &c->fd_meminfo,
                  &c->fd_vmstat, &c->fd_host_pressure, &c->fd_swaps};
    for (uint32_t i = 0; i < c->n_zram; i++)
        close(c->fd_zram[i]);
    c->n_zram = 0;
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    free(c->host_buf);
    free(c->gcands);
    free(c->gcand_slot);
    free(c->gskip);
    c->gskip = NULL;
    c->host_buf = NULL;
    c->gcands = NULL;
    c->gcand_slot = NULL;
}

/* ---- core thread ----------------------------------------------------------------------------- */

static int host_sample(MemctlCore *c, MemctlHostSample *ret)
{
    MemctlHostSample x = {.t_usec = memctl_now_usec()};
    char *b = c->host_buf;
    size_t n = c->host_buf_size;
    if (memctl_sample_read(c->fd_meminfo, b, n) <= 0 || memctl_host_sample_meminfo(b, &x) < 0)
        return -EIO;
    if (memctl_sample_read(c->fd_zoneinfo, b, n) <= 0 || memctl_host_sample_zoneinfo(b, &x) < 0)
        return -EIO;
    if (memctl_sample_read(c->fd_vmstat, b, n) <= 0 || memctl_host_sample_vmstat(b, &x) < 0)
        return -EIO;
    for (uint32_t i = 0; i < c->n_zram; i++) {
        uint64_t used;
        if (memctl_sample_read(c->fd_zram[i], b, n) > 0 && memctl_host_sample_zram_used(b, &used) == 0)
            x.zram_used += used;
    }
    uint32_t avg10;
    if (memctl_sample_read(c->fd_host_pressure, b, n) > 0)
        (void)memctl_sample_pressure(b, &x.some_total_usec, &x.full_total_usec, &avg10);
    *ret = x;
    return 0;
}

static void host_timer(MemctlCore *c, bool on)
{
    if (memctl_core_timer_period(c->host_tfd, on ? c->cfg.host.window_usec : 0) == 0)
        c->host_armed = on;
}

static void host_kill(MemctlCore *c, MemctlHostVerdict verdict);

void memctl_core_host_pressure(MemctlCore *c)
{
    if (!c->cfg.host.enabled || c->host_armed || c->host_tfd < 0)
        return;
    zram_rescan(c);
    if (host_sample(c, &c->host_last) < 0) {
        memctl_core_emit_error(c, -1, "host sample", -EIO);
        return;
    }
    c->host_state = (MemctlHostState){0};
    c->host_stall_peak = 0;
    c->host_no_victim_said = false;
    c->host_t_rt = memctl_realtime_usec();
    c->host_t_mono = c->host_last.t_usec;
    c->host_t_armed = c->host_last.t_usec;
    /* The arming sample counts: a zone already below its min watermark is a first breach window
     * (the PSI event may come late, when a fast allocator has already emptied the host). */
    (void)memctl_host_decide(&c->host_last, &c->host_last, &c->cfg.host, &c->host_progress, c->page_size,
                             &c->host_state, &c->host_fig);
    host_timer(c, true);
    bool exhausted = memctl_host_exhausted(&c->host_last, &c->cfg.host);
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_PRESSURE, .slot = -1, .host = true};
    memcpy(e.reason, "host", 5);
    e.t_event_usec = c->host_t_rt;
    e.host_available = c->host_last.available;
    memctl_ring_push(c->events, &e);
    if (exhausted)
        host_kill(c, MEMCTL_HOST_EXHAUSTED); /* the PSI event is the wait: no progress is possible */
}

void memctl_core_host_victim_done(MemctlCore *c)
{
    c->host_victim = -1;
    c->host_state = (MemctlHostState){0}; /* the next kill needs evidence measured from here */
    c->host_t_rt = memctl_realtime_usec();
    c->host_t_mono = memctl_now_usec();
}

/* The best-ranked group among the active children of `parent` (-1: the top level), or -1. */
static int pick_child(MemctlCore *c, int parent, const bool *skip)
{
    size_t n = 0;
    for (size_t j = 0; j < c->cfg.max_groups; j++) {
        Slot *s = &c->slots[j];
        if (atomic_load(&s->state) != SLOT_ACTIVE || s->parent != parent || skip[j])
            continue;
        MemctlGroupCandidate *g = &c->gcands[n];
        memset(g, 0, sizeof(*g));
        (void)memctl_sample_read_u64(s->fd_current, &g->current);
        g->min = atomic_load(&s->prot_min);
        g->low = atomic_load(&s->prot_low);
        g->priority = atomic_load(&s->priority);
        if (memctl_core_slot_is_critical(c, j))
            g->flags |= MEMCTL_GCAND_CRITICAL;
        if (s->v.active)
            g->flags |= MEMCTL_GCAND_BUSY;
        if (g->current == 0)
            g->flags |= MEMCTL_GCAND_EMPTY;
        c->gcand_slot[n++] = (int32_t)j;
    }
    size_t k;
    return memctl_victim_pick_group(c->gcands, n, &k) == 0 ? c->gcand_slot[k] : -1;
}

static void host_kill(MemctlCore *c, MemctlHostVerdict verdict)
{
    c->host_state = (MemctlHostState){0}; /* whatever happens, the next decision needs fresh evidence */
    bool *skip = c->gskip;                /* groups found without an eligible victim during this decision */
    memset(skip, 0, c->cfg.max_groups * sizeof(*skip));
    for (int attempt = 0; attempt < 8; attempt++) {
        int i = pick_child(c, -1, skip);
        if (i < 0)
            break;
        for (int child; (child = pick_child(c, i, skip)) >= 0;)
            i = child;
        Slot *s = &c->slots[i];
        (void)memctl_core_slot_sample(c, s, &s->last);
        s->t_over_rt = c->host_t_rt;
        s->t_over_mono = c->host_t_mono;
        s->fig = c->host_fig.progress;
        int r = memctl_core_slot_kill(c, (size_t)i, memctl_host_verdict_name(verdict), false);
        if (r == 0) {
            c->host_no_victim_said = false;
            MemctlCoreEvent *e = &s->v.rec;
            e->host = true;
            e->host_available = c->host_fig.available;
            e->host_zone_free = c->host_fig.zone_free;
            e->host_zone_min = c->host_fig.zone_min;
            if (s->v.active)
                c->host_victim = i;
            return;
        }
        if (r == -EINPROGRESS)
            return;     /* someone there is dying already (the kernel's OOM killer got there first): its
                         * memory is coming back; killing in another group now would be collateral */
        skip[i] = true; /* nothing to kill in there: the next group */
    }
    if (!c->host_no_victim_said) /* once per arming: it is checked at every window */
        memctl_core_emit_error(c, -1, "host: no eligible victim", -ESRCH);
    c->host_no_victim_said = true;
}

void memctl_core_host_tick(MemctlCore *c)
{
    uint64_t expirations;
    (void)!read(c->host_tfd, &expirations, sizeof(expirations));
    if (!c->host_armed)
        return;
    MemctlHostSample x;
    if (host_sample(c, &x) < 0)
        return;
    if (c->host_victim >= 0) {
        /* A victim's memory is still being released: wait for it, don't guess. */
        c->host_last = x;
        return;
    }
    MemctlHostVerdict v = memctl_host_decide(&c->host_last, &x, &c->cfg.host, &c->host_progress, c->page_size,
                                             &c->host_state, &c->host_fig);
    c->host_last = x;
    if (c->host_state.progress.stalled > c->host_stall_peak)
        c->host_stall_peak = c->host_state.progress.stalled;
    if (v == MEMCTL_HOST_CALM) {
        host_timer(c, false);
        MemctlCoreEvent e = {.type = MEMCTL_EVENT_PRESSURE, .slot = -1, .host = true};
        memcpy(e.reason, "calm", 5);
        e.t_event_usec = memctl_realtime_usec();
        e.host_available = x.available;
        e.host_episode_usec = x.t_usec > c->host_t_armed ? x.t_usec - c->host_t_armed : 0;
        e.host_stall_peak = c->host_stall_peak;
        e.host_stall_limit = memctl_host_stall_windows(&c->cfg.host);
        memctl_ring_push(c->events, &e);
        return;
    }
    if (memctl_host_verdict_is_kill(v))
        host_kill(c, v);
}
