/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Victims, on the core thread: who is a candidate (the processes of a group's subtree, with what the
 * policy says of each), the kill itself (one process by pidfd, or the whole group by cgroup.kill,
 * or all but those that must be spared), its memory reaped at once (process_mrelease), and the
 * victim's record, which goes to the GLib side when the victim is done: exited, or ended without
 * exiting. The host guard's kill (host.c decides, this kills) descends to the group ranked first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "basic/size.h"
#include "basic/str.h"
#include "daemon/core/internal.h"
#include "daemon/core/ring.h"
#include "kernel/cgpath.h"
#include "kernel/sample.h"

static bool slot_in_subtree(const MemctlCore *c, size_t j, size_t root)
{
    for (int k = (int)j; k >= 0; k = c->slots[k].parent)
        if ((size_t)k == root)
            return true;
    return false;
}

static bool pid_is_critical(MemctlCore *c, int32_t pid)
{
    for (size_t i = 0; i < MEMCTL_CORE_CRITICAL_PIDS; i++)
        if (atomic_load(&c->critical_pids[i]) == pid)
            return true;
    return false;
}

/* A consistent copy of slot i's prefer/avoid lists (seqlock: the GLib side may be writing). */
static void read_lists(MemctlCore *c, size_t i, MemctlCoreMatch *ret_prefer, MemctlCoreMatch *ret_avoid)
{
    Slot *s = &c->slots[i];
    const SlotLists *l = &c->lists[i];
    for (int tries = 0; tries < 64 && atomic_load_explicit(&s->has_lists, memory_order_acquire); tries++) {
        uint32_t seq = atomic_load_explicit(&s->lists_seq, memory_order_acquire);
        if (seq & 1)
            continue;
        memcpy(ret_prefer, &l->prefer, sizeof(*ret_prefer));
        memcpy(ret_avoid, &l->avoid, sizeof(*ret_avoid));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->lists_seq, memory_order_relaxed) == seq)
            return;
    }
    memset(ret_prefer, 0, sizeof(*ret_prefer)); /* none, or a writer that never finishes: no preferences */
    memset(ret_avoid, 0, sizeof(*ret_avoid));
}

static bool list_matches(const MemctlCore *c, const MemctlCoreMatch *l, const MemctlCandidate *cand, size_t j)
{
    for (uint32_t k = 0; k < l->n_comm && k < MEMCTL_CORE_LIST_MAX; k++)
        if (strncmp(cand->comm, l->comm[k], MEMCTL_COMM_MAX) == 0)
            return true;
    for (uint32_t k = 0; k < l->n_slot && k < MEMCTL_CORE_LIST_MAX; k++)
        if (l->slot[k] >= 0 && (size_t)l->slot[k] < c->cfg.max_groups &&
            slot_in_subtree(c, j, (size_t)l->slot[k]))
            return true;
    return false;
}

/* Fills c->cands with the processes of slot i and its descendants; returns the count. The
 * prefer/avoid lists of slot i apply to all of them. */
static size_t collect_candidates(MemctlCore *c, size_t i)
{
    size_t n = 0;
    MemctlCoreMatch prefer, avoid;
    read_lists(c, i, &prefer, &avoid);
    for (size_t j = 0; j < memctl_core_slots_used(c) && n < c->cfg.max_procs; j++) {
        Slot *s = &c->slots[j];
        if (atomic_load(&s->state) != SLOT_ACTIVE || !slot_in_subtree(c, j, i))
            continue;
        if (memctl_sample_read(s->fd_procs, c->buf, c->buf_size) < 0)
            continue;
        size_t np = memctl_sample_pids(c->buf, c->pids, c->cfg.max_procs - n);
        for (size_t k = 0; k < np; k++) {
            MemctlCandidate *cand = &c->cands[n];
            if (memctl_sample_process(c->proc_root, c->pids[k], c->buf, c->buf_size, cand) < 0)
                continue;
            if (cand->pid == c->self_pid)
                cand->flags |= MEMCTL_CAND_SELF;
            if (memctl_core_slot_is_critical(c, j) || pid_is_critical(c, cand->pid))
                cand->flags |= MEMCTL_CAND_CRITICAL;
            if (list_matches(c, &prefer, cand, j))
                cand->flags |= MEMCTL_CAND_PREFER;
            else if (list_matches(c, &avoid, cand, j))
                cand->flags |= MEMCTL_CAND_AVOID;
            c->cand_slot[n] = (int32_t)j;
            n++;
        }
    }
    return n;
}

/* True if pid is in slot j's cgroup (subtree: or one below it), by /proc/<pid>/cgroup. */
static bool pid_in_slot(MemctlCore *c, int32_t pid, size_t j, bool subtree)
{
    char path[80];
    if (memctl_sample_proc_path(path, sizeof(path), c->proc_root, pid, "cgroup") < 0)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, c->buf, c->buf_size - 1);
    close(fd);
    if (n <= 3)
        return false;
    c->buf[n] = '\0';
    const char *p;
    size_t len;
    if (memctl_cgpath_membership(c->buf, &p, &len) < 0)
        return false;
    const char *rel = c->slots[j].path + c->mount_len;
    return subtree ? memctl_cgpath_within(p, len, rel) : len == strlen(rel) && memcmp(p, rel, len) == 0;
}

/* True if pid (held by pidfd already) is still a member of slot j's cgroup (pid reuse). */
static bool still_member(MemctlCore *c, int32_t pid, size_t j)
{
    return pid_in_slot(c, pid, j, false);
}

/* ---- victims ----------------------------------------------------------------------------- */

static void victim_begin(MemctlCore *c, size_t i, const char *reason, bool livelock)
{
    Slot *s = &c->slots[i];
    MemctlCoreEvent *e = &s->v.rec;
    (void)memctl_core_record_resend(c, s, true); /* the last kill's record, if still kept */
    memset(e, 0, sizeof(*e));
    e->type = MEMCTL_EVENT_KILL;
    e->slot = (int32_t)i;
    memctl_str_copy(e->group, sizeof(e->group), s->name);
    memctl_str_copy(e->reason, sizeof(e->reason), reason);
    e->livelock = livelock;
    e->t_event_usec = s->ep.t_over_rt ? s->ep.t_over_rt : memctl_realtime_usec();
    e->current = s->ep.last.current;
    e->charged_ahead = s->ep.last.ahead;
    e->high = atomic_load(&s->high);
    e->max = atomic_load(&s->max);
    e->full_avg10_centi = s->full_avg10;
    e->figures = s->ep.figures;
    s->v.current_before = s->ep.last.current;
    s->v.manual_req = s->manual_next;
    if (c->host_deciding) {
        e->host = true;
        e->host_available = c->host_fig.available;
        e->host_zone_free = c->host_fig.zone_free;
        e->host_zone_min = c->host_fig.zone_min;
    }
}

/* A KillGroup request is answered once its record is in the ring (the GLib side takes the record,
 * then the outcome: memctl_manager_drain()). */
static void victim_recorded(Slot *s)
{
    if (s->record_unsent || !s->v.manual_req)
        return;
    memctl_core_manual_done(s, s->v.manual_req, 0);
    s->v.manual_req = 0;
}

bool memctl_core_record_resend(MemctlCore *c, Slot *s, bool force)
{
    if (!s->record_unsent)
        return true;
    if (force)
        (void)memctl_ring_push(c->events, &s->v.rec); /* now or never: a drop is counted */
    else if (!memctl_ring_offer(c->events, &s->v.rec))
        return false;
    s->record_unsent = false;
    c->events_unsent--;
    victim_recorded(s);
    return true;
}

/* Every record is kept: a full ring leaves the slot's record here, offered again until taken
 * (memctl_core_send_unsent()); only this slot's next record could overwrite it. */
static void record_offer(MemctlCore *c, Slot *s)
{
    if (!s->record_unsent && !memctl_ring_offer(c->events, &s->v.rec)) {
        s->record_unsent = true;
        c->events_unsent++;
    }
}

void memctl_core_victim_finish(MemctlCore *c, size_t i, bool exited)
{
    Slot *s = &c->slots[i];
    Victim *v = &s->v;
    uint64_t now = memctl_now_usec();
    uint64_t cur = 0;
    if (memctl_sample_read_u64(s->fd_current, &cur) == 0 && cur < v->current_before &&
        v->current_before - cur > v->rec.bytes_freed)
        v->rec.bytes_freed = v->current_before - cur;
    /* The victim's exit comes after its memory is torn down (the last thread's exit_mm() before its
     * pidfd is readable): freed by then, even when the reap returned first because the exit path
     * had taken the address space over. */
    if (exited) {
        v->rec.signal_to_exit_usec = now - v->t_signal;
        if (v->rec.signal_to_freed_usec < v->rec.signal_to_exit_usec)
            v->rec.signal_to_freed_usec = v->rec.signal_to_exit_usec;
    }
    record_offer(c, s);
    victim_recorded(s);
    if (v->pidfd >= 0) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, v->pidfd, NULL);
        memctl_fd_close(&v->pidfd);
    }
    if (c->host_victim == (int32_t)i)
        memctl_core_host_victim_done(c);
    memctl_episode_victim_done(&s->ep, exited);
}

/*
 * Reaps the victims' address spaces (n pidfds, in one stretch) now, in our context, instead of after its exit
 * path or the kernel oom_reaper's delay; when it returns, the memory is back (WHY.md §1). EAGAIN: partial,
 * try again; ESRCH: already gone.
 *
 * At SCHED_OTHER, not the core's real-time priority: the reap is the victim's own exit work done
 * early, tens to hundreds of milliseconds of a CPU for a large victim, and at SCHED_RR it took that
 * CPU from every other task on the host for the whole time. On two vCPUs a bystander stalled 63 ms
 * (p50) that way against 11 ms at SCHED_OTHER, which is what earlyoom, which does not reap, gave in
 * the same run (docs/BENCHMARKS.md, host guard). The kernel's oom_reaper is a normal kernel thread
 * too. The decision and the signal stay real-time; the priority is raised again after the reaps.
 * Returns how long they took.
 */
static uint64_t reap(MemctlCore *c, const int *pidfds, size_t n)
{
    if (n == 0)
        return 0;
    bool rt = atomic_load(&c->realtime);
    if (rt) {
        struct sched_param other = {.sched_priority = 0};
        (void)pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
    }
    uint64_t t = memctl_now_usec();
    for (size_t k = 0; k < n; k++)
        for (int tries = 0; tries < 8; tries++)
            if (syscall(SYS_process_mrelease, pidfds[k], 0) == 0 || errno != EAGAIN)
                break;
    t = memctl_now_usec() - t;
    if (rt) {
        struct sched_param sp = {.sched_priority = 1};
        if (pthread_setschedparam(pthread_self(), SCHED_RR, &sp) != 0)
            atomic_store(&c->realtime, false); /* the daemon says so (memctl_core_realtime()) */
    }
    return t;
}

/* True if one of the n candidates is being killed already (by the kernel's OOM killer, say): its
 * memory is on its way back, and killing someone else now would be collateral (docs/WHY.md). */
static bool any_dying(const MemctlCore *c, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (c->cands[k].flags & MEMCTL_CAND_DYING)
            return true;
    return false;
}

static int kill_one(MemctlCore *c, size_t i, const char *reason, bool livelock)
{
    Slot *s = &c->slots[i];
    size_t n = collect_candidates(c, i);
    uint64_t scale = atomic_load(&s->max) != MEMCTL_SIZE_MAX ? atomic_load(&s->max) : s->ep.last.current;
    for (int attempt = 0; attempt < 4; attempt++) {
        size_t k;
        if (memctl_victim_pick(c->cands, n, scale, &k) < 0)
            return any_dying(c, n) ? -EINPROGRESS : -ESRCH;
        MemctlCandidate *cand = &c->cands[k];
        int pidfd = (int)syscall(SYS_pidfd_open, cand->pid, 0);
        if (pidfd < 0 || !still_member(c, cand->pid, (size_t)c->cand_slot[k])) {
            if (pidfd >= 0)
                close(pidfd);
            cand->flags |= MEMCTL_CAND_GONE;
            continue;
        }
        victim_begin(c, i, reason, livelock);
        uint64_t t0 = memctl_now_usec();
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0) {
            int e = -errno;
            close(pidfd);
            if (e == -ESRCH) {
                cand->flags |= MEMCTL_CAND_GONE;
                continue;
            }
            return e;
        }
        Victim *v = &s->v;
        v->t_signal = t0;
        v->pidfd = pidfd;
        v->group_kill = false;
        v->rec.pid = cand->pid;
        v->rec.npids = 1;
        memcpy(v->rec.comm, cand->comm, sizeof(v->rec.comm));
        v->rec.event_to_signal_usec = s->ep.t_over_mono ? t0 - s->ep.t_over_mono : 0;
        /* The next victim needs fresh evidence: a whole decision's worth of windows, measured
         * after this kill, in which nothing (not even this victim's release) made progress. */
        memctl_episode_victim_started(&s->ep);
        v->rec.reap_usec = reap(c, &pidfd, 1);
        v->rec.signal_to_freed_usec = memctl_now_usec() - t0;
        if (memctl_core_epoll_add(c, pidfd, EPOLLIN, K_PIDFD, i) < 0)
            memctl_core_victim_finish(c, i, false);
        return 0;
    }
    return -ESRCH;
}

/*
 * A whole-group kill signalled at t0 is under way: `killed` processes, the record named after the
 * largest candidate. It is done when the group is empty (pidfd -1: cgroup.events says populated 0)
 * or, with a pidfd (some were spared and keep it populated), when that process has exited.
 */
static void group_victim_started(MemctlCore *c, size_t i, uint64_t t0, size_t biggest, size_t killed,
                                 int pidfd)
{
    Slot *s = &c->slots[i];
    Victim *v = &s->v;
    v->t_signal = t0;
    v->pidfd = pidfd;
    v->group_kill = pidfd < 0;
    v->rec.group_kill = true;
    v->rec.pid = c->cands[biggest].pid;
    v->rec.npids = (uint32_t)killed;
    memcpy(v->rec.comm, c->cands[biggest].comm, sizeof(v->rec.comm));
    v->rec.event_to_signal_usec = s->ep.t_over_mono ? t0 - s->ep.t_over_mono : 0;
    v->rec.signal_to_freed_usec = memctl_now_usec() - t0;
    memctl_episode_victim_started(&s->ep);
    if (pidfd >= 0 && memctl_core_epoll_add(c, pidfd, EPOLLIN, K_PIDFD, i) < 0)
        memctl_core_victim_finish(c, i, false);
}

/*
 * True if a kill of slot i's whole subtree must spare someone in it (memctl_victim_spared(): a
 * critical client, memctld, oom_score_adj -1000) among its n candidates; memctld and the registered
 * critical processes are also looked for directly, and a subtree with more processes than could be
 * read (max_procs) may hide such a process: cgroup.kill is never written over any of them.
 */
static bool subtree_has_spared(MemctlCore *c, size_t i, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (memctl_victim_spared(&c->cands[k]))
            return true;
    if (n >= c->cfg.max_procs || pid_in_slot(c, c->self_pid, i, true))
        return true;
    for (size_t k = 0; k < MEMCTL_CORE_CRITICAL_PIDS; k++) {
        int32_t pid = atomic_load(&c->critical_pids[k]);
        if (pid > 0 && pid_in_slot(c, pid, i, true))
            return true;
    }
    return false;
}

/* Opens a pidfd on candidate k if it is still in its cgroup (not a recycled pid); -1 otherwise. */
static int candidate_pidfd(MemctlCore *c, size_t k)
{
    int fd = (int)syscall(SYS_pidfd_open, c->cands[k].pid, 0);
    if (fd >= 0 && !still_member(c, c->cands[k].pid, (size_t)c->cand_slot[k])) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A whole-group kill of a subtree where someone must be spared: every other eligible process gets
 * SIGKILL through its pidfd, all of them before any reap (the reaps are the slow part, and a process
 * still running meanwhile keeps allocating); the record waits for the largest of them. */
static int kill_all_but_spared(MemctlCore *c, size_t i, const char *reason, size_t n)
{
    size_t biggest = n, biggest_at = 0, killed = 0; /* biggest_at: its pidfd's place in c->pidfds */
    uint64_t t0 = 0;
    for (size_t k = 0; k < n; k++) {
        if (!memctl_victim_eligible(&c->cands[k]))
            continue;
        int fd = candidate_pidfd(c, k);
        if (fd < 0)
            continue;
        if (killed == 0) {
            victim_begin(c, i, reason, false);
            t0 = memctl_now_usec();
        }
        if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0) {
            close(fd);
            continue;
        }
        if (biggest == n || c->cands[k].anon_bytes > c->cands[biggest].anon_bytes) {
            biggest = k;
            biggest_at = killed;
        }
        c->pidfds[killed++] = fd; /* killed <= n <= max_procs, the array's size */
    }
    if (killed == 0)
        return any_dying(c, n) ? -EINPROGRESS : -ESRCH;
    uint64_t reap_usec = reap(c, c->pidfds, killed);
    for (size_t k = 0; k < killed; k++)
        if (k != biggest_at)
            close(c->pidfds[k]);
    /* done when the largest has exited: the spared ones keep the group populated */
    group_victim_started(c, i, t0, biggest, killed, c->pidfds[biggest_at]);
    c->slots[i].v.rec.reap_usec = reap_usec;
    return 0;
}

static int kill_all(MemctlCore *c, size_t i, const char *reason)
{
    Slot *s = &c->slots[i];
    size_t n = collect_candidates(c, i);
    if (subtree_has_spared(c, i, n))
        return kill_all_but_spared(c, i, reason, n);
    size_t nfd = 0;
    size_t biggest = n;
    for (size_t k = 0; k < n; k++) {
        int fd = (int)syscall(SYS_pidfd_open, c->cands[k].pid, 0);
        if (fd >= 0)
            c->pidfds[nfd++] = fd;
        if (biggest == n || c->cands[k].anon_bytes > c->cands[biggest].anon_bytes)
            biggest = k;
    }
    if (n == 0 || biggest == n)
        return -ESRCH;
    victim_begin(c, i, reason, false);
    uint64_t t0 = memctl_now_usec();
    int r = 0;
    if (pwrite(s->fd_kill, "1", 1, 0) < 0)
        r = -errno;
    uint64_t reap_usec = r == 0 ? reap(c, c->pidfds, nfd) : 0;
    for (size_t k = 0; k < nfd; k++)
        close(c->pidfds[k]);
    if (r < 0)
        return r;
    group_victim_started(c, i, t0, biggest, n, -1); /* done at "populated 0" in cgroup.events */
    s->v.rec.reap_usec = reap_usec;
    return 0;
}

int memctl_core_choose_victim(MemctlCore *c, size_t i, bool whole, size_t *ret_k, size_t *ret_count)
{
    Slot *s = &c->slots[i];
    size_t n = collect_candidates(c, i), k = n, eligible = 0;
    if (whole) {
        for (size_t j = 0; j < n; j++) {
            if (!memctl_victim_eligible(&c->cands[j]))
                continue;
            eligible++;
            if (k == n || c->cands[j].anon_bytes > c->cands[k].anon_bytes)
                k = j;
        }
        if (eligible > 0 && !subtree_has_spared(c, i, n))
            eligible = n; /* cgroup.kill: every process */
    } else {
        uint64_t scale = atomic_load(&s->max) != MEMCTL_SIZE_MAX ? atomic_load(&s->max) : s->ep.last.current;
        eligible = memctl_victim_pick(c->cands, n, scale, &k) == 0 ? 1 : 0;
    }
    if (eligible == 0)
        return any_dying(c, n) ? -EINPROGRESS : -ESRCH;
    *ret_k = k;
    *ret_count = eligible;
    return 0;
}

/*
 * A dry run's kill: the same candidates and the same choice (the largest eligible process, or for a
 * whole-group kill every eligible one, named after the largest), recorded and sent, nobody
 * signalled. Returns CORE_KILL_RECORDED, or -ESRCH / -EINPROGRESS as a kill would.
 */
static int dry_kill(MemctlCore *c, size_t i, const char *reason, bool whole, bool livelock)
{
    Slot *s = &c->slots[i];
    size_t k, eligible;
    int r = memctl_core_choose_victim(c, i, whole, &k, &eligible);
    if (r < 0)
        return r;
    victim_begin(c, i, reason, livelock);
    MemctlCoreEvent *e = &s->v.rec;
    e->dry_run = true;
    memcpy(e->outcome, "pending", sizeof("pending"));
    e->group_kill = whole;
    e->pid = c->cands[k].pid;
    e->npids = (uint32_t)eligible;
    memcpy(e->comm, c->cands[k].comm, sizeof(e->comm));
    e->event_to_signal_usec = s->ep.t_over_mono ? memctl_now_usec() - s->ep.t_over_mono : 0;
    record_offer(c, s);
    return CORE_KILL_RECORDED;
}

int memctl_core_slot_kill(MemctlCore *c, size_t i, const char *reason, bool force_group)
{
    Slot *s = &c->slots[i];
    bool livelock = false;
    if (s->ep.victim) {
        /* The previous victim has neither exited nor given its memory back, and a whole decision
         * window measured since its kill shows no progress: a livelock. Its record goes out as it
         * stands (not exited) and the next victim's record says why it was needed. A victim whose
         * group came back under high gave its memory back: the new episode is no livelock. */
        livelock = memctl_episode_escalates(&s->ep);
        memctl_core_victim_finish(c, i, false);
    }
    bool whole = force_group || atomic_load(&s->oom_group);
    if (s->manual_next == 0 && atomic_load(&c->dry_run))
        return dry_kill(c, i, reason, whole, livelock);
    return whole ? kill_all(c, i, reason) : kill_one(c, i, reason, livelock);
}

/* ---- the host guard's kill ---------------------------------------------------------------- */

void memctl_core_host_kill(MemctlCore *c, MemctlHostVerdict verdict)
{
    /* whatever happens, the next decision needs fresh evidence (the stall seen in this episode stands) */
    c->host_state = (MemctlHostState){.stall_seen = c->host_state.stall_seen};
    bool *skip = c->gskip; /* groups found without an eligible victim during this decision */
    memset(skip, 0, memctl_core_slots_used(c) * sizeof(*skip));
    for (int attempt = 0; attempt < 8; attempt++) {
        int i = memctl_core_host_pick(c, -1, skip);
        if (i < 0)
            break;
        for (int child; (child = memctl_core_host_pick(c, i, skip)) >= 0;)
            i = child;
        Slot *s = &c->slots[i];
        MemctlProgressSample x;
        bool sampled = memctl_core_slot_sample(c, s, NULL, &x) == 0;
        memctl_episode_set_origin(&s->ep, sampled ? &x : NULL, c->host_t_rt, c->host_t_mono,
                                  &c->host_fig.progress);
        /* the record's host figures are set before a dry run's record is offered */
        c->host_deciding = true;
        int r = memctl_core_slot_kill(c, (size_t)i, memctl_host_verdict_name(verdict), false);
        c->host_deciding = false;
        if (r >= 0) {
            c->host_no_victim_said = false;
            if (r > 0) { /* a dry run recorded it: watch the host without the kill */
                memctl_shadow_start(&c->host_shadow, memctl_now_usec());
                c->host_shadow_oom = c->host_last.oom_kill;
                c->host_shadow_slot = i;
                /* The kernel's OOM killer got there first in this episode (the arming sample may
                 * already count its kill in vmstat, so that nothing moves after): confirmed. */
                if (c->t_kernel_kill && c->t_kernel_kill + CORE_HOST_FIRST_USEC >= c->host_t_armed)
                    memctl_core_host_shadow_kernel_kill(c);
            } else if (s->ep.victim) {
                c->host_victim = i;
            }
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
