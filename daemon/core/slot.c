/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A group's life on the core thread: its registration (watches and triggers), what its files say
 * (memory.events.local, cgroup.events, PSI), its episode over high (the decisions are
 * policy/episode.c's; this reads the samples, runs the window timer, raises the alerts and asks
 * kill.c for the victim), KillGroup requests, and its removal.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>

#include "basic/size.h"
#include "basic/str.h"
#include "daemon/core/internal.h"
#include "daemon/core/ring.h"
#include "kernel/sample.h"

/* What came of a kill the episode decided (memctl_core_slot_kill()'s, or the pre-kill wait's): a dry
 * run's record starts its shadow; a failure is reported as policy/episode.c says (the first "no
 * eligible victim" of an episode, any other failure but a victim already dying). */
static void slot_kill_done(MemctlCore *c, size_t i, int r)
{
    if (r == CORE_KILL_RECORDED) /* a dry run recorded it: watch what happens without the kill */
        memctl_episode_shadow_started(&c->slots[i].ep, memctl_now_usec());
    if (memctl_episode_kill_result(&c->slots[i].ep, r > 0 ? 0 : r))
        memctl_core_emit_error(c, (int)i, r == -ESRCH ? "no eligible victim" : "kill failed", r);
}

/* A kill the episode decided: at once, or (a group with a pre-kill wait, not in a dry run) after
 * freezing it for its hooks. */
static void slot_kill(MemctlCore *c, size_t i, const char *reason)
{
    bool wait = atomic_load(&c->slots[i].prekill_usec) > 0 && !atomic_load(&c->dry_run);
    slot_kill_done(c, i,
                   wait ? memctl_core_prekill_begin(c, i, reason)
                        : memctl_core_slot_kill(c, i, reason, false));
}

/* Settles slot i's dry-run shadow on what is known now (kernel_killed: its oom_kill just moved). */
static void slot_shadow_settle(MemctlCore *c, size_t i, bool kernel_killed)
{
    Slot *s = &c->slots[i];
    if (s->ep.shadow.active)
        memctl_core_shadow_outcome(c, i, false,
                                   memctl_episode_shadow_settle(&s->ep, memctl_now_usec(), kernel_killed));
}

/* ---- decisions --------------------------------------------------------------------------- */

/* Tells the GLib side that a group is under pressure, at most once a second per level. */
void memctl_core_slot_alert(MemctlCore *c, size_t i, int level)
{
    Slot *s = &c->slots[i];
    uint64_t now = memctl_now_usec();
    if (s->t_alert[level] && now - s->t_alert[level] < CORE_ALERT_INTERVAL_USEC)
        return;
    s->t_alert[level] = now;
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_PRESSURE, .slot = (int32_t)i};
    memctl_str_copy(e.group, sizeof(e.group), s->name);
    memctl_str_copy(e.reason, sizeof(e.reason), level == 0 ? "high" : "stall");
    e.t_event_usec = memctl_realtime_usec();
    e.high = atomic_load(&s->high);
    e.max = atomic_load(&s->max);
    e.current = s->ep.last.current;
    /* a notice: a flood of them (a host-wide crunch over thousands of groups, while the main loop
     * is busy) leaves a quarter of the ring to the events that carry state (kills, the host guard's
     * arming and calm, kernel OOM kills, releases) */
    memctl_ring_push_spare(c->events, &e, memctl_ring_capacity(c->events) / 4);
}

/* The progress settings of slot i: the core's, with the group's own stall budget if it has one. */
static MemctlProgressConfig slot_progress_config(const MemctlCore *c, Slot *s)
{
    MemctlProgressConfig pc = c->cfg.progress;
    uint32_t budget = atomic_load(&s->stall_budget_pct), windows = atomic_load(&s->stall_windows);
    if (budget)
        pc.stall_budget_pct = budget;
    if (windows)
        pc.stall_windows = windows;
    return pc;
}

void memctl_core_slot_check(MemctlCore *c, size_t i, MemctlEpisodeCause cause)
{
    Slot *s = &c->slots[i];
    if (s->pk.active)
        return; /* frozen for its pre-kill hooks: the verdict is made, the victim chosen */
    uint64_t high = atomic_load(&s->high), current;
    if (!memctl_episode_wants_sample(&s->ep, cause, high))
        return;
    MemctlProgressConfig pc = slot_progress_config(c, s);
    /* Outside the windows memory.current alone says whether the rest is worth reading: a group under
     * high has no episode to start (a host PSI event checks every group), and between windows only
     * an overage past what reclaim could ever free is news. */
    bool window = s->ep.sampling && cause == MEMCTL_EPISODE_TICK;
    if (!window && (memctl_sample_read_u64(s->fd_current, &current) < 0 ||
                    (s->ep.sampling ? !memctl_episode_event_needs_sample(&s->ep, cause, current, high, &pc)
                                    : current <= high)))
        return;
    MemctlProgressSample x;
    if (memctl_core_slot_sample(c, s, window ? NULL : &current, &x) < 0)
        return;
    const char *reason = NULL;
    bool was_sampling = s->ep.sampling;
    MemctlEpisodeAction a =
            memctl_episode_decide(&s->ep, cause, &x, memctl_realtime_usec(), &pc, c->page_size, &reason);
    /* The stall alert comes from the window's own measure (memory.pressure "full" over the window),
     * not from a PSI trigger per group: each costs a kernel thread (docs/BENCHMARKS.md, scale). */
    if (s->ep.window_stalled)
        memctl_core_slot_alert(c, i, 1);
    switch (a) {
    case MEMCTL_EPISODE_START:
        memctl_core_window_timer(c, true);
        memctl_core_slot_alert(c, i, 0);
        break;
    case MEMCTL_EPISODE_KILL:
        if (!was_sampling) { /* killed at the crossing: the episode goes on, window by window */
            memctl_core_window_timer(c, true);
            memctl_core_slot_alert(c, i, 0);
        }
        slot_kill(c, i, reason);
        break;
    case MEMCTL_EPISODE_CALM:
    case MEMCTL_EPISODE_NONE:
        break;
    }
    slot_shadow_settle(c, i, false);
}

enum { EV_OOM, EV_OOM_KILL, EV_HIGH, EV_MAX, _EV_COUNT };

/* Parses memory.events once into ret (0 for a key that is missing) and keeps the values for
 * RemoveGroup: a runtime may delete the cgroup before its poststop hook asks. */
static void slot_note_events(Slot *s, const char *text, uint64_t ret[static _EV_COUNT])
{
    static const char *const keys[_EV_COUNT] = {"oom", "oom_kill", "high", "max"};
    for (size_t k = 0; k < _EV_COUNT; k++) {
        ret[k] = 0;
        if (memctl_sample_key(text, keys[k], &ret[k]) == 0)
            atomic_store(&s->last_events[k], ret[k]);
    }
}

void memctl_core_slot_events_changed(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    if (memctl_sample_read(s->fd_events, c->buf, c->buf_size) <= 0)
        return;
    uint64_t ev[_EV_COUNT];
    slot_note_events(s, c->buf, ev);
    uint64_t oom_kill = ev[EV_OOM_KILL], max = ev[EV_MAX];
    if (oom_kill > s->seen_oom_kill) {
        MemctlCoreEvent e = {.type = MEMCTL_EVENT_KERNEL_OOM, .slot = (int32_t)i};
        memctl_str_copy(e.group, sizeof(e.group), s->name);
        memctl_str_copy(e.reason, sizeof(e.reason), "kernel");
        e.npids = (uint32_t)(oom_kill - s->seen_oom_kill);
        e.t_event_usec = memctl_realtime_usec();
        e.high = atomic_load(&s->high);
        e.max = atomic_load(&s->max);
        (void)memctl_sample_read_u64(s->fd_current, &e.current);
        if (memctl_ring_offer(c->events, &e)) /* else counted at the next change, with these */
            s->seen_oom_kill = oom_kill;
        c->t_kernel_kill = memctl_now_usec();
        slot_shadow_settle(c, i, true);
        memctl_core_host_shadow_kernel_kill(c);
    }
    if (max > s->seen_max) {
        s->seen_max = max;
        memctl_episode_max_hit(&s->ep);
    }
    memctl_core_slot_check(c, i, MEMCTL_EPISODE_EVENT);
}

void memctl_core_slot_cgevents_changed(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    if (!s->ep.victim || !s->v.group_kill)
        return;
    char buf[128];
    ssize_t n = memctl_sample_read(s->fd_cgevents, buf, sizeof(buf));
    uint64_t populated = 1;
    if (n > 0 && memctl_sample_key(buf, "populated", &populated) == 0 && populated == 0)
        memctl_core_victim_finish(c, i, true);
}

/* ---- commands ---------------------------------------------------------------------------- */

static void slot_register(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    /*
     * The kernel wakes the pollers of a cgroup file at each change (kernfs_notify(): EPOLLPRI, at
     * once, where inotify hears of it from a work item later), so the fds the slot holds are watched
     * as they are: no path looked up, no watch descriptor to map back to the slot. Edge-triggered:
     * one report per change, whether the file is read or not (cgroup.events is read only while a
     * group kill is waited for).
     */
    int r = memctl_core_epoll_add(c, s->fd_events, EPOLLPRI | EPOLLET, K_EVENTS, i);
    if (r == 0 && (r = memctl_core_epoll_add(c, s->fd_cgevents, EPOLLPRI | EPOLLET, K_CGEVENTS, i)) < 0)
        (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd_events, NULL);
    if (r < 0)
        memctl_core_emit_error(c, (int)i, "epoll_ctl", r);
    s->watched = r == 0;
    if (memctl_sample_read(s->fd_events, c->buf, c->buf_size) > 0) {
        uint64_t ev[_EV_COUNT];
        slot_note_events(s, c->buf, ev);
        s->seen_oom_kill = ev[EV_OOM_KILL];
        s->seen_max = ev[EV_MAX];
    }
    atomic_store(&s->state, SLOT_ACTIVE);
    memctl_core_slot_check(c, i, MEMCTL_EPISODE_EVENT); /* an adopted group may be over high already */
}

/* Takes the slot's files out of the epoll set: closed later (on the GLib side, when the slot is
 * reused or freed), they would otherwise still report while a forked child holds them. */
static void slot_unwatch(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    if (!s->watched)
        return;
    (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd_events, NULL);
    (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd_cgevents, NULL);
    s->watched = false;
}

/* The slot's GROUP_RELEASED event, which frees it (memctl_core_next_event()). It is never dropped:
 * a slot whose event was lost would stay retired for good, its fds open, and a removal of more groups
 * at once than the ring holds (a rescan after a runtime removed its containers) lost them. When the
 * ring is full it is offered again (memctl_core_send_unsent()). */
static bool offer_released(MemctlCore *c, size_t i)
{
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_GROUP_RELEASED, .slot = (int32_t)i};
    memctl_str_copy(e.group, sizeof(e.group), c->slots[i].name);
    return memctl_ring_offer(c->events, &e);
}

static void slot_unregister(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    slot_unwatch(c, i);
    if (s->ep.victim)
        memctl_core_victim_finish(c, i, false);
    memctl_core_prekill_cancel(c, i);
    memctl_episode_init(&s->ep);
    atomic_store(&s->state, SLOT_RETIRED);
    /* never ahead of the slot's last kill record: the slot is reused once released */
    if (s->record_unsent || !offer_released(c, i)) {
        s->release_unsent = true;
        c->events_unsent++;
    }
}

void memctl_core_send_unsent(MemctlCore *c)
{
    size_t used = memctl_core_slots_used(c);
    for (size_t i = 0; i < used && c->events_unsent > 0; i++) {
        Slot *s = &c->slots[i];
        if (!memctl_core_record_resend(c, s, false))
            return; /* still full: the next try */
        if (s->release_unsent) {
            if (!offer_released(c, i))
                return;
            s->release_unsent = false;
            c->events_unsent--;
        }
    }
}

/* KillGroup: always answered, with the victim's record once it is released
 * (memctl_core_victim_finish()) or at once with the reason there is none. */
static void manual_kill(MemctlCore *c, size_t i, bool group)
{
    Slot *s = &c->slots[i];
    uint32_t req = atomic_load_explicit(&s->manual_req, memory_order_acquire);
    if (atomic_load(&s->state) != SLOT_ACTIVE) {
        memctl_core_manual_done(s, req, -ENOENT);
        return;
    }
    MemctlProgressSample x;
    bool sampled = memctl_core_slot_sample(c, s, NULL, &x) == 0;
    memctl_episode_set_origin(&s->ep, sampled ? &x : NULL, memctl_realtime_usec(), memctl_now_usec(), NULL);
    s->manual_next = req; /* taken by the victim chosen now (victim_begin) */
    int r = memctl_core_slot_kill(c, i, "manual", group);
    s->manual_next = 0;
    memctl_core_prekill_cancel(c, i); /* the operator's kill ends a pre-kill wait: thawed */
    if (r == 0) {
        (void)memctl_episode_kill_result(&s->ep, 0);
        return;
    }
    if (!s->ep.victim)
        s->v.manual_req = 0;
    memctl_core_emit_error(c, (int)i,
                           r == -ESRCH         ? "no eligible victim"
                           : r == -EINPROGRESS ? "a victim is still dying"
                                               : "kill failed",
                           r);
    memctl_core_manual_done(s, req, r);
}

void memctl_core_slot_commands(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    uint32_t bits = atomic_exchange(&s->pending, 0);
    if ((bits & CMD_ADD) && atomic_load(&s->state) == SLOT_PREPARED)
        slot_register(c, i);
    if ((bits & CMD_UPDATE) && atomic_load(&s->state) == SLOT_ACTIVE)
        memctl_core_slot_check(c, i, MEMCTL_EPISODE_EVENT);
    if (bits & (CMD_KILL | CMD_KILL_GROUP))
        manual_kill(c, i, (bits & CMD_KILL_GROUP) != 0);
    if ((bits & CMD_PREKILL_DONE) && s->pk.active)
        slot_kill_done(c, i, memctl_core_prekill_finish(c, i));
    if ((bits & CMD_REMOVE) && atomic_load(&s->state) == SLOT_ACTIVE)
        slot_unregister(c, i);
}

/* The window's tick for slot i at `now` (CLOCK_MONOTONIC). */
void memctl_core_slot_tick(MemctlCore *c, size_t i, uint64_t now)
{
    Slot *s = &c->slots[i];
    if (s->pk.active) { /* the core's own deadline: no hook, and no starved GLib side, delays the kill */
        if (now >= s->pk.deadline)
            slot_kill_done(c, i, memctl_core_prekill_finish(c, i));
        return;
    }
    if (memctl_episode_release_expired(&s->ep, now))
        memctl_core_victim_finish(c, i, false); /* it did not exit: its record goes out as it stands */
    if (s->ep.sampling)
        memctl_core_slot_check(c, i, MEMCTL_EPISODE_TICK);
    slot_shadow_settle(c, i, false); /* its high removed meanwhile: no check decides, the watch ends */
}
