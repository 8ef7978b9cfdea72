/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host guard on the core thread (docs/WHY.md: watermarks, and slow swap). A PSI event on
 * /proc/pressure/memory arms it, or the watch does first: between episodes it glances at MemAvailable
 * at a period that shrinks with the headroom (policy/host.h), and arms the guard when the host is
 * heading below available_min, before anyone has stalled; armed, it samples the host (zoneinfo, meminfo,
 * vmstat, PSI, zram) once per window on its own timer and asks policy/host.c for a verdict; calm, it disarms
 * (no timer runs while the host is calm). A kill (kill.c) goes to the group ranked first here (usage above
 * protection x priority, policy/victim.c), descending to the child ranked first, and to that
 * group's victim. The next host kill needs the previous victim's memory back and fresh evidence
 * measured after it. Its files are opened on the main thread (api.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "basic/str.h"
#include "daemon/core/internal.h"
#include "daemon/core/ring.h"
#include "kernel/host-sample.h"
#include "kernel/sample.h"

/* The zram devices swapped on now, each mm_stat opened once (at setup and at each arming: swap
 * may have been switched on since). Devices that cannot be read are left out. */
void memctl_core_host_zram_rescan(MemctlCore *c)
{
    for (uint32_t i = 0; i < c->n_zram; i++)
        if (c->fd_zram[i] >= 0)
            close(c->fd_zram[i]);
    c->n_zram = 0;
    uint32_t nums[MEMCTL_HOST_ZRAM_MAX];
    if (c->fd_swaps < 0 || memctl_sample_read(c->fd_swaps, c->host_buf, c->host_buf_size) <= 0)
        return;
    uint32_t swaps = 0;
    uint32_t n = memctl_host_sample_zram_devices(c->host_buf, nums, MEMCTL_HOST_ZRAM_MAX, &swaps);
    for (uint32_t i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/block/zram%u/mm_stat", c->sys_root, nums[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            c->fd_zram[c->n_zram++] = fd;
    }
    c->zram_only = c->n_zram > 0 && c->n_zram == swaps; /* a device left out counts as not zram */
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
        uint64_t orig, used;
        if (memctl_sample_read(c->fd_zram[i], b, n) > 0 && memctl_host_sample_zram(b, &orig, &used) == 0) {
            x.zram_orig += orig;
            x.zram_used += used;
        }
    }
    x.zram_only = c->zram_only;
    uint32_t avg10;
    if (memctl_sample_read(c->fd_host_pressure, b, n) > 0)
        (void)memctl_sample_pressure(b, &x.some_total_usec, &x.full_total_usec, &avg10);
    *ret = x;
    return 0;
}

/* The watch's next glance in usec (0: none). */
static void watch_timer(MemctlCore *c, uint64_t usec)
{
    struct itimerspec its = {
            .it_value = {.tv_sec = (time_t)(usec / 1000000), .tv_nsec = (long)(usec % 1000000) * 1000}};
    (void)timerfd_settime(c->host_watch_tfd, 0, &its, NULL);
}

/* Armed: the guard's window timer runs and the watch rests; disarmed, the other way round. */
static void host_timer(MemctlCore *c, bool on)
{
    if (memctl_core_timer_period(c->host_tfd, on ? c->cfg.host.window_usec : 0) != 0)
        return;
    c->host_armed = on;
    c->host_glanced = false; /* the watch measures its rate afresh */
    watch_timer(c, on ? 0 : c->cfg.host.window_usec);
}

/* Arms the guard, by a PSI event (tasks stalled) or by the watch; true: exhausted, kill now. */
static bool host_arm(MemctlCore *c, bool psi)
{
    if (!c->cfg.host.enabled || c->host_tfd < 0)
        return false;
    if (c->host_armed) {
        c->host_state.stall_seen |= psi; /* armed by the watch, and now tasks stall */
        return false;
    }
    memctl_core_host_zram_rescan(c);
    if (host_sample(c, &c->host_last) < 0) {
        memctl_core_emit_error(c, -1, "host sample", -EIO);
        return false;
    }
    c->host_state = (MemctlHostState){.stall_seen = psi};
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
    bool exhausted = memctl_host_exhausted(&c->host_last, &c->cfg.host, &c->host_state);
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_PRESSURE, .slot = -1, .host = true};
    memcpy(e.reason, "host", 5);
    memctl_str_copy(e.what, sizeof(e.what), psi ? "psi" : "watch");
    e.t_event_usec = c->host_t_rt;
    e.host_available = c->host_last.available;
    memctl_ring_push(c->events, &e);
    return exhausted; /* the PSI event is the wait: no progress is possible */
}

/* A dry run's host verdict being watched, settled at `now`: the kernel's OOM killer killed
 * anywhere since, the host recovered, or the watch is over. */
static void host_shadow_settle(MemctlCore *c, uint64_t now, bool kernel_killed, bool recovered)
{
    if (c->host_shadow.active)
        memctl_core_shadow_outcome(c, (size_t)c->host_shadow_slot, true,
                                   memctl_shadow_settle(&c->host_shadow, now, kernel_killed, recovered));
}

/* Recovered: MemAvailable back above available_min. A guard that calms down only because nobody
 * waited for memory for a second is no recovery: the hog may still be there. */
static bool host_recovered(const MemctlCore *c, uint64_t available, uint64_t total)
{
    return available > memctl_host_available_min(&c->cfg.host, total);
}

bool memctl_core_host_watch(MemctlCore *c)
{
    uint64_t expirations;
    (void)!read(c->host_watch_tfd, &expirations, sizeof(expirations));
    if (!c->cfg.host.enabled || c->host_armed)
        return false;
    MemctlHostSample x = {0};
    MemctlHostGlance g = {.t_usec = memctl_now_usec()};
    if (memctl_sample_read(c->fd_meminfo, c->host_buf, c->host_buf_size) <= 0 ||
        memctl_host_sample_meminfo(c->host_buf, &x) < 0) {
        watch_timer(c, MEMCTL_HOST_WATCH_MAX_USEC);
        return false;
    }
    g.total = x.total;
    g.available = x.available;
    host_shadow_settle(c, g.t_usec, false,
                       host_recovered(c, x.available, x.total)); /* disarmed, still watched */
    uint64_t next = MEMCTL_HOST_WATCH_MAX_USEC;
    bool arm = memctl_host_watch(c->host_glanced ? &c->host_glance : NULL, &g, &c->cfg.host, &next);
    c->host_glance = g;
    c->host_glanced = true;
    if (!arm) {
        watch_timer(c, next);
        return false;
    }
    return host_arm(c, false);
}

bool memctl_core_host_pressure(MemctlCore *c)
{
    return host_arm(c, true);
}

void memctl_core_host_victim_done(MemctlCore *c)
{
    c->host_victim = -1;
    /* the next kill needs evidence measured from here (the stall seen in this episode stands) */
    c->host_state = (MemctlHostState){.stall_seen = c->host_state.stall_seen};
    c->host_t_rt = memctl_realtime_usec();
    c->host_t_mono = memctl_now_usec();
}

int memctl_core_host_pick(MemctlCore *c, int parent, const bool *skip)
{
    size_t n = 0;
    for (size_t j = 0; j < memctl_core_slots_used(c); j++) {
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
        if (s->ep.victim)
            g->flags |= MEMCTL_GCAND_BUSY;
        if (g->current == 0)
            g->flags |= MEMCTL_GCAND_EMPTY;
        c->gcand_slot[n++] = (int32_t)j;
    }
    size_t k;
    return memctl_victim_pick_group(c->gcands, n, &k) == 0 ? c->gcand_slot[k] : -1;
}

void memctl_core_host_shadow_kernel_kill(MemctlCore *c)
{
    host_shadow_settle(c, memctl_now_usec(), true, false);
}

bool memctl_core_host_tick(MemctlCore *c, MemctlHostVerdict *ret_kill)
{
    uint64_t expirations;
    (void)!read(c->host_tfd, &expirations, sizeof(expirations));
    if (!c->host_armed)
        return false;
    MemctlHostSample x;
    if (host_sample(c, &x) < 0)
        return false;
    if (c->host_victim >= 0) {
        /* A victim's memory is still being released: wait for it, don't guess. */
        c->host_last = x;
        return false;
    }
    MemctlHostVerdict v = memctl_host_decide(&c->host_last, &x, &c->cfg.host, &c->host_progress, c->page_size,
                                             &c->host_state, &c->host_fig);
    c->host_last = x;
    if (c->host_state.progress.stalled > c->host_stall_peak)
        c->host_stall_peak = c->host_state.progress.stalled;
    host_shadow_settle(c, x.t_usec, x.oom_kill > c->host_shadow_oom, host_recovered(c, x.available, x.total));
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
        return false;
    }
    if (!memctl_host_verdict_is_kill(v) || c->host_shadow.active)
        return false; /* a dry run's verdict is being watched: the same kill, not recorded again */
    *ret_kill = v;
    return true;
}

bool memctl_core_host_armed(const MemctlCore *c)
{
    return atomic_load(&((MemctlCore *)c)->host_armed);
}
