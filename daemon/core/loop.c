/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core thread: one epoll loop over preallocated state, from memctl_core_start() (api.c) to
 * memctl_core_stop(). It waits for the kernel (the host PSI trigger, each group's memory.events.local
 * and cgroup.events polled through the fds the slot holds, victims' pidfds, its timers) and for the
 * main thread's commands, and hands each to slot.c (a group's episode), kill.c (victims) or host.c
 * (the host guard). It never allocates, never logs and never blocks on anything but epoll_wait():
 * README.md in this folder says why and how.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/core/internal.h"
#include "daemon/core/ring.h"
#include "kernel/sample.h"

static void handle_commands(MemctlCore *c)
{
    memctl_ring_ack(c->cmds);
    int32_t word;
    while (memctl_ring_pop(c->cmds, &word)) {
        if (word == CMD_CORE) {
            uint32_t bits = atomic_exchange(&c->pending, 0);
            /* Test hook: a core that stops answering, as a deadlocked one would (stop still ends it). */
            while ((bits & CMD_WEDGE) && !atomic_load(&c->stop))
                usleep(100 * 1000);
            continue; /* CMD_PING: the loop went round, and the heartbeat moved */
        }
        if (word >= 0 && (size_t)word < c->cfg.max_groups)
            memctl_core_slot_commands(c, (size_t)word);
    }
}

/* A change in slot idx's memory.events.local (K_EVENTS) or cgroup.events (K_CGEVENTS). */
static void handle_group_file(MemctlCore *c, uint32_t kind, size_t idx)
{
    if (idx >= memctl_core_slots_used(c) || atomic_load(&c->slots[idx].state) != SLOT_ACTIVE)
        return; /* removed since (its files out of the set), in the same batch */
    if (kind == K_EVENTS)
        memctl_core_slot_events_changed(c, idx);
    else
        memctl_core_slot_cgevents_changed(c, idx);
}

static void handle_tick(MemctlCore *c)
{
    uint64_t expirations;
    (void)!read(c->tfd, &expirations, sizeof(expirations));
    bool any = false;
    uint64_t now = memctl_now_usec();
    for (size_t i = 0, n = memctl_core_slots_used(c); i < n; i++) {
        if (atomic_load(&c->slots[i].state) != SLOT_ACTIVE)
            continue;
        memctl_core_slot_tick(c, i, now);
        any |= memctl_episode_needs_timer(&c->slots[i].ep) || c->slots[i].pk.active;
    }
    if (!any)
        memctl_core_window_timer(c, false); /* nothing is over high: no timer runs while nothing happens */
}

static void handle_host_pressure(MemctlCore *c)
{
    for (size_t i = 0, n = memctl_core_slots_used(c); i < n; i++)
        if (atomic_load(&c->slots[i].state) == SLOT_ACTIVE)
            memctl_core_slot_check(c, i, MEMCTL_EPISODE_PRESSURE);
    if (memctl_core_host_pressure(c))
        memctl_core_host_kill(c, MEMCTL_HOST_EXHAUSTED);
}

/* ---- the thread -------------------------------------------------------------------------- */

static void prefault_stack(void)
{
    volatile char pad[CORE_STACK_SIZE / 2];
    for (size_t i = 0; i < sizeof(pad); i += 4096)
        pad[i] = 0;
}

void *memctl_core_main(void *arg)
{
    MemctlCore *c = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    prefault_stack();

    struct epoll_event evs[CORE_EPOLL_BATCH];
    while (!atomic_load(&c->stop)) {
        atomic_fetch_add(&c->heartbeat, 1);
        /* kill records and released slots the events ring had no room for: offered again every
         * 100 ms until taken */
        int n = epoll_wait(c->epfd, evs, CORE_EPOLL_BATCH, c->events_unsent ? 100 : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            memctl_core_emit_error(c, -1, "epoll_wait", -errno);
            break;
        }
        for (int k = 0; k < n; k++) {
            uint32_t kind = (uint32_t)(evs[k].data.u64 >> 32);
            size_t idx = (size_t)(evs[k].data.u64 & 0xffffffffu);
            switch (kind) {
            case K_CMD:
                handle_commands(c);
                break;
            case K_EVENTS:
            case K_CGEVENTS:
                handle_group_file(c, kind, idx);
                break;
            case K_TIMER:
                handle_tick(c);
                break;
            case K_PIDFD:
                if (idx < c->cfg.max_groups && c->slots[idx].ep.victim)
                    memctl_core_victim_finish(c, idx, true);
                break;
            case K_HOST_PSI:
                handle_host_pressure(c);
                break;
            case K_HOST_WATCH:
                if (memctl_core_host_watch(c))
                    memctl_core_host_kill(c, MEMCTL_HOST_EXHAUSTED);
                break;
            case K_HOST_TIMER: {
                MemctlHostVerdict v;
                if (memctl_core_host_tick(c, &v))
                    memctl_core_host_kill(c, v);
                break;
            }
            default:
                break;
            }
        }
        if (c->events_unsent)
            memctl_core_send_unsent(c);
    }
    return NULL;
}
