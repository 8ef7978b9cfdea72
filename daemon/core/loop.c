/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/core/ring.h"
#include "kernel/sample.h"
#include "kernel/cgpath.h"
#include "basic/size.h"
#include "basic/str.h"

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void slot_close(Slot *s)
{
    int *fds[] = {&s->fd_events, &s->fd_current, &s->fd_stat, &s->fd_pressure, &s->fd_trigger,
                  &s->fd_procs,  &s->fd_kill,    &s->fd_swap, &s->fd_cgevents};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        close_fd(fds[i]);
    close_fd(&s->v.pidfd);
}

void memctl_core_slot_reset(Slot *s)
{
    slot_close(s);
    memset(s, 0, sizeof(*s));
    s->fd_events = s->fd_current = s->fd_stat = s->fd_pressure = s->fd_trigger = -1;
    s->fd_procs = s->fd_kill = s->fd_swap = s->fd_cgevents = s->v.pidfd = -1;
    s->wd_events = s->wd_cgevents = -1;
    s->parent = -1;
}

/* ---- events out -------------------------------------------------------------------------- */

void memctl_core_emit_error(MemctlCore *c, int slot, const char *what, int err)
{
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_ERROR, .slot = slot, .error = err};
    if (slot >= 0)
        memctl_str_copy(e.group, sizeof(e.group), c->slots[slot].name);
    memctl_str_copy(e.what, sizeof(e.what), what);
    e.t_event_usec = memctl_realtime_usec();
    memctl_ring_push(c->events, &e);
}

/* Tells the KillGroup request `req` how its kill went (0, or -errno). */
static void manual_done(Slot *s, uint32_t req, int result)
{
    atomic_store_explicit(&s->manual_result, result, memory_order_relaxed);
    atomic_store_explicit(&s->manual_done_req, req, memory_order_release);
}

/* ---- timer ------------------------------------------------------------------------------- */

int memctl_core_timer_period(int tfd, uint64_t period_usec)
{
    struct itimerspec its = {0};
    its.it_interval.tv_sec = (time_t)(period_usec / 1000000);
    its.it_interval.tv_nsec = (long)(period_usec % 1000000) * 1000;
    its.it_value = its.it_interval;
    return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void timer_set(MemctlCore *c, bool on)
{
    if (c->timer_armed != on && memctl_core_timer_period(c->tfd, on ? c->cfg.progress.window_usec : 0) == 0)
        c->timer_armed = on;
}

/* ---- sampling ---------------------------------------------------------------------------- */

int memctl_core_slot_sample(MemctlCore *c, Slot *s, MemctlProgressSample *ret)
{
    MemctlProgressSample x = {.t_usec = memctl_now_usec(), .high = atomic_load(&s->high)};
    int r = memctl_sample_read_u64(s->fd_current, &x.current);
    if (r < 0)
        return r;
    if (memctl_sample_read(s->fd_stat, c->buf, c->buf_size) > 0) {
        (void)memctl_sample_key(c->buf, "pgsteal", &x.pgsteal);
        (void)memctl_sample_key(c->buf, "pgscan", &x.pgscan);
        uint64_t ra = 0, rf = 0;
        (void)memctl_sample_key(c->buf, "workingset_refault_anon", &ra);
        (void)memctl_sample_key(c->buf, "workingset_refault_file", &rf);
        x.refault = ra + rf;
    }
    if (s->fd_swap >= 0)
        (void)memctl_sample_read_u64(s->fd_swap, &x.swap_current);
    uint64_t some;
    if (memctl_sample_read(s->fd_pressure, c->buf, c->buf_size) > 0)
        (void)memctl_sample_pressure(c->buf, &some, &x.full_total_usec, &s->full_avg10);
    *ret = x;
    return 0;
}

static bool slot_in_subtree(const MemctlCore *c, size_t j, size_t root)
{
    for (int k = (int)j; k >= 0; k = c->slots[k].parent)
        if ((size_t)k == root)
            return true;
    return false;
}

bool memctl_core_slot_is_critical(const MemctlCore *c, size_t j)
{
    for (int k = (int)j; k >= 0; k = c->slots[k].parent)
        if (atomic_load(&c->slots[k].critical))
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
static void read_lists(Slot *s, MemctlCoreMatch *ret_prefer, MemctlCoreMatch *ret_avoid)
{
    for (int tries = 0; tries < 64; tries++) {
        uint32_t seq = atomic_load_explicit(&s->lists_seq, memory_order_acquire);
        if (seq & 1)
            continue;
        memcpy(ret_prefer, &s->prefer, sizeof(*ret_prefer));
        memcpy(ret_avoid, &s->avoid, sizeof(*ret_avoid));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->lists_seq, memory_order_relaxed) == seq)
            return;
    }
    memset(ret_prefer, 0, sizeof(*ret_prefer)); /* a writer that never finishes: no preferences */
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
    read_lists(&c->slots[i], &prefer, &avoid);
    for (size_t j = 0; j < c->cfg.max_groups && n < c->cfg.max_procs; j++) {
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
    const char *rel = c->slots[j].relpath;
    return subtree ? memctl_cgpath_within(p, len, rel) : len == strlen(rel) && memcmp(p, rel, len) == 0;
}

/* True if pid (held by pidfd already) is still a member of slot j's cgroup (pid reuse). */
static bool still_member(MemctlCore *c, int32_t pid, size_t j)
{
    return pid_in_slot(c, pid, j, false);
}

/* ---- killing ----------------------------------------------------------------------------- */

static void victim_begin(MemctlCore *c, size_t i, const char *reason, bool livelock)
{
    Slot *s = &c->slots[i];
    MemctlCoreEvent *e = &s->v.rec;
    memset(e, 0, sizeof(*e));
    e->type = MEMCTL_EVENT_KILL;
    e->slot = (int32_t)i;
    memctl_str_copy(e->group, sizeof(e->group), s->name);
    memctl_str_copy(e->reason, sizeof(e->reason), reason);
    e->livelock = livelock;
    e->t_event_usec = s->t_over_rt ? s->t_over_rt : memctl_realtime_usec();
    e->current = s->last.current;
    e->high = atomic_load(&s->high);
    e->max = atomic_load(&s->max);
    e->full_avg10_centi = s->full_avg10;
    e->figures = s->fig;
    s->v.current_before = s->last.current;
    s->v.manual_req = s->manual_next;
}

static void victim_finish(MemctlCore *c, size_t i, bool exited)
{
    Slot *s = &c->slots[i];
    Victim *v = &s->v;
    uint64_t now = memctl_now_usec();
    uint64_t cur = 0;
    if (memctl_sample_read_u64(s->fd_current, &cur) == 0 && cur < v->current_before &&
        v->current_before - cur > v->rec.bytes_freed)
        v->rec.bytes_freed = v->current_before - cur;
    if (exited)
        v->rec.signal_to_exit_usec = now - v->t_signal;
    memctl_ring_push(c->events, &v->rec);
    if (v->manual_req)
        manual_done(s, v->manual_req, 0);
    v->manual_req = 0;
    if (v->pidfd >= 0) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, v->pidfd, NULL);
        close_fd(&v->pidfd);
    }
    v->active = false;
    if (c->host_victim == (int32_t)i)
        memctl_core_host_victim_done(c);
    bool released = v->released;
    v->released = false;
    if (!exited || released)
        return; /* escalation or teardown: the episode goes on; released: it ended when the group
                 * came back under high, and another may have begun since */
    /* The victim is gone and its memory back: decide afresh from what the group looks like now. */
    s->pst = (MemctlProgressState){0};
    s->t_over_rt = s->t_over_mono = 0;
    s->sampling = false;
    s->max_hit = false;
}

static void mrelease(int pidfd)
{
    /* Reaps the address space now, in our context, instead of after the victim's exit path or the
     * kernel oom_reaper's delay. EAGAIN: partial, try again; ESRCH: already gone. */
    for (int tries = 0; tries < 8; tries++)
        if (syscall(SYS_process_mrelease, pidfd, 0) == 0 || errno != EAGAIN)
            break;
}

/* True if one of the n candidates is being killed already (by the kernel's OOM killer, say): its
 * memory is on its way back, and killing someone else now would be collateral (seed 000). */
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
    uint64_t scale = atomic_load(&s->max) != MEMCTL_SIZE_MAX ? atomic_load(&s->max) : s->last.current;
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
        v->active = true;
        v->group_kill = false;
        v->rec.pid = cand->pid;
        v->rec.npids = 1;
        memcpy(v->rec.comm, cand->comm, sizeof(v->rec.comm));
        v->rec.event_to_signal_usec = s->t_over_mono ? t0 - s->t_over_mono : 0;
        /* The next victim needs fresh evidence: a whole decision's worth of windows, measured
         * after this kill, in which nothing (not even this victim's release) made progress. */
        s->pst = (MemctlProgressState){0};
        mrelease(pidfd);
        v->rec.signal_to_freed_usec = memctl_now_usec() - t0;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)K_PIDFD << 32) | i};
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0)
            victim_finish(c, i, false);
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
    v->active = true;
    v->group_kill = pidfd < 0;
    v->rec.group_kill = true;
    v->rec.pid = c->cands[biggest].pid;
    v->rec.npids = (uint32_t)killed;
    memcpy(v->rec.comm, c->cands[biggest].comm, sizeof(v->rec.comm));
    v->rec.event_to_signal_usec = s->t_over_mono ? t0 - s->t_over_mono : 0;
    v->rec.signal_to_freed_usec = memctl_now_usec() - t0;
    s->pst = (MemctlProgressState){0};
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)K_PIDFD << 32) | i};
    if (pidfd >= 0 && epoll_ctl(c->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0)
        victim_finish(c, i, false);
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
 * SIGKILL through its pidfd; the record waits for the largest of them. */
static int kill_all_but_spared(MemctlCore *c, size_t i, const char *reason, size_t n)
{
    size_t biggest = n, killed = 0;
    int biggest_fd = -1;
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
        mrelease(fd);
        killed++;
        if (biggest == n || c->cands[k].anon_bytes > c->cands[biggest].anon_bytes) {
            if (biggest_fd >= 0)
                close(biggest_fd);
            biggest = k;
            biggest_fd = fd;
        } else {
            close(fd);
        }
    }
    if (killed == 0)
        return any_dying(c, n) ? -EINPROGRESS : -ESRCH;
    /* done when the largest has exited: the spared ones keep the group populated */
    group_victim_started(c, i, t0, biggest, killed, biggest_fd);
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
    for (size_t k = 0; k < nfd; k++) {
        if (r == 0)
            mrelease(c->pidfds[k]);
        close(c->pidfds[k]);
    }
    if (r < 0)
        return r;
    group_victim_started(c, i, t0, biggest, n, -1); /* done at "populated 0" in cgroup.events */
    return 0;
}

int memctl_core_slot_kill(MemctlCore *c, size_t i, const char *reason, bool force_group)
{
    Slot *s = &c->slots[i];
    bool livelock = false;
    if (s->v.active) {
        /* The previous victim has neither exited nor given its memory back, and a whole decision
         * window measured since its kill shows no progress: a livelock. Its record goes out as it
         * stands (not exited) and the next victim's record says why it was needed. A victim whose
         * group came back under high gave its memory back: the new episode is no livelock. */
        livelock = !s->v.released;
        victim_finish(c, i, false);
    }
    return (force_group || atomic_load(&s->oom_group)) ? kill_all(c, i, reason)
                                                       : kill_one(c, i, reason, livelock);
}

static void slot_kill(MemctlCore *c, size_t i, const char *reason, bool force_group)
{
    Slot *s = &c->slots[i];
    int r = memctl_core_slot_kill(c, i, reason, force_group);
    if (r == 0)
        s->no_victim_said = false;
    if (r == -ESRCH) {
        /* Everything in it is critical, protected or memctld: that stays so at every decision of
         * the episode (a critical group over high without progress), so it is said once. */
        if (!s->no_victim_said)
            memctl_core_emit_error(c, (int)i, "no eligible victim", r);
        s->no_victim_said = true;
    } else if (r < 0 && r != -EINPROGRESS)
        memctl_core_emit_error(c, (int)i, "kill failed", r);
}

/* ---- decisions --------------------------------------------------------------------------- */

/* Tells the GLib side that a group is under pressure, at most once a second per level. */
static void slot_alert(MemctlCore *c, size_t i, int level)
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
    e.current = s->last.current;
    memctl_ring_push(c->events, &e);
}

static void slot_check(MemctlCore *c, size_t i, int cause)
{
    Slot *s = &c->slots[i];
    uint64_t high = atomic_load(&s->high);
    if (high == MEMCTL_SIZE_MAX)
        return; /* memctld does not decide for groups without a high threshold */

    if (!s->sampling) {
        if (s->v.active && !s->v.released)
            return; /* a victim is being released: wait for it, don't guess */
        MemctlProgressSample x;
        if (memctl_core_slot_sample(c, s, &x) < 0 || x.current <= high)
            return;
        s->sampling = true;
        s->t_over_rt = memctl_realtime_usec();
        s->t_over_mono = x.t_usec;
        s->last = x;
        s->pst = (MemctlProgressState){0};
        s->max_hit = false;
        timer_set(c, true);
        slot_alert(c, i, 0);
        return;
    }
    if (cause != CAUSE_TICK && !s->max_hit)
        return; /* sampling already: decide on the window's edges only */

    MemctlProgressSample x;
    if (memctl_core_slot_sample(c, s, &x) < 0)
        return;
    MemctlProgressConfig pc = c->cfg.progress;
    uint32_t budget = atomic_load(&s->stall_budget_pct), windows = atomic_load(&s->stall_windows);
    if (budget)
        pc.stall_budget_pct = budget;
    if (windows)
        pc.stall_windows = windows;
    s->verdict = memctl_progress_decide(&s->last, &x, &pc, c->page_size, &s->pst, &s->fig);
    s->last = x;
    if (s->verdict == MEMCTL_VERDICT_CALM) {
        /* Back under high. A victim that has still not exited released what the group needed: the
         * episode is over. Its record waits for its exit (what it freed is counted then), at most
         * CORE_RELEASED_WAIT_USEC: one stuck in the kernel, its address space reaped, may never exit. */
        if (s->v.active && !s->v.released) {
            s->v.released = true;
            s->v.t_released = x.t_usec;
        }
        s->sampling = false;
        s->t_over_rt = s->t_over_mono = 0;
        s->no_victim_said = false;
        return;
    }
    const char *reason = memctl_verdict_name(s->verdict);
    bool kill = memctl_verdict_is_kill(s->verdict);
    if (!kill && s->max_hit && s->verdict == MEMCTL_VERDICT_WAIT) {
        /* The group reached memory.max without progress: the kernel is about to fail or kill. */
        kill = true;
        reason = "max";
    }
    s->max_hit = false;
    if (kill)
        slot_kill(c, i, reason, false);
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

static void slot_events_changed(MemctlCore *c, size_t i)
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
        memctl_ring_push(c->events, &e);
        s->seen_oom_kill = oom_kill;
    }
    if (max > s->seen_max) {
        s->seen_max = max;
        if (s->sampling)
            s->max_hit = true;
    }
    slot_check(c, i, CAUSE_EVENT);
}

static void slot_cgevents_changed(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    if (!s->v.active || !s->v.group_kill)
        return;
    char buf[128];
    ssize_t n = memctl_sample_read(s->fd_cgevents, buf, sizeof(buf));
    uint64_t populated = 1;
    if (n > 0 && memctl_sample_key(buf, "populated", &populated) == 0 && populated == 0)
        victim_finish(c, i, true);
}

/* ---- commands ---------------------------------------------------------------------------- */

static void slot_register(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    char p[CORE_PATH_MAX + 32];
    size_t pl = strlen(s->path);
    memcpy(p, s->path, pl);
    memcpy(p + pl, "/memory.events.local", 21);
    s->wd_events = inotify_add_watch(c->ifd, p, IN_MODIFY);
    memcpy(p + pl, "/cgroup.events", 15);
    s->wd_cgevents = inotify_add_watch(c->ifd, p, IN_MODIFY);
    if (s->wd_events < 0 || s->wd_cgevents < 0)
        memctl_core_emit_error(c, (int)i, "inotify_add_watch", -errno);
    if (s->fd_trigger >= 0) {
        struct epoll_event ev = {.events = EPOLLPRI, .data.u64 = ((uint64_t)K_TRIGGER << 32) | i};
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd_trigger, &ev) < 0)
            memctl_core_emit_error(c, (int)i, "epoll_ctl psi trigger", -errno);
    }
    if (memctl_sample_read(s->fd_events, c->buf, c->buf_size) > 0) {
        uint64_t ev[_EV_COUNT];
        slot_note_events(s, c->buf, ev);
        s->seen_oom_kill = ev[EV_OOM_KILL];
        s->seen_max = ev[EV_MAX];
    }
    atomic_store(&s->state, SLOT_ACTIVE);
    slot_check(c, i, CAUSE_EVENT); /* an adopted group may be over high already */
}

static void slot_unregister(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    if (s->wd_events >= 0)
        inotify_rm_watch(c->ifd, s->wd_events);
    if (s->wd_cgevents >= 0 && s->wd_cgevents != s->wd_events)
        inotify_rm_watch(c->ifd, s->wd_cgevents);
    s->wd_events = s->wd_cgevents = -1;
    if (s->fd_trigger >= 0)
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd_trigger, NULL);
    if (s->v.active)
        victim_finish(c, i, false);
    s->sampling = false;
    atomic_store(&s->state, SLOT_RETIRED);
    MemctlCoreEvent e = {.type = MEMCTL_EVENT_GROUP_RELEASED, .slot = (int32_t)i};
    memctl_str_copy(e.group, sizeof(e.group), s->name);
    memctl_ring_push(c->events, &e);
}

/* KillGroup: always answered, with the victim's record once it is released (victim_finish) or at
 * once with the reason there is none. */
/* KillGroup: always answered, with the victim's record once it is released (victim_finish) or at
 * once with the reason there is none. */
static void manual_kill(MemctlCore *c, size_t i, bool group)
{
    Slot *s = &c->slots[i];
    uint32_t req = atomic_load_explicit(&s->manual_req, memory_order_acquire);
    if (atomic_load(&s->state) != SLOT_ACTIVE) {
        manual_done(s, req, -ENOENT);
        return;
    }
    (void)memctl_core_slot_sample(c, s, &s->last);
    s->t_over_rt = memctl_realtime_usec();
    s->t_over_mono = memctl_now_usec();
    s->manual_next = req; /* taken by the victim chosen now (victim_begin) */
    int r = memctl_core_slot_kill(c, i, "manual", group);
    s->manual_next = 0;
    if (r == 0) {
        s->no_victim_said = false;
        return;
    }
    if (!s->v.active)
        s->v.manual_req = 0;
    memctl_core_emit_error(c, (int)i,
                           r == -ESRCH         ? "no eligible victim"
                           : r == -EINPROGRESS ? "a victim is still dying"
                                               : "kill failed",
                           r);
    manual_done(s, req, r);
}

static void handle_slot_commands(MemctlCore *c, size_t i)
{
    Slot *s = &c->slots[i];
    uint32_t bits = atomic_exchange(&s->pending, 0);
    if ((bits & CMD_ADD) && atomic_load(&s->state) == SLOT_PREPARED)
        slot_register(c, i);
    if ((bits & CMD_UPDATE) && atomic_load(&s->state) == SLOT_ACTIVE)
        slot_check(c, i, CAUSE_EVENT);
    if (bits & (CMD_KILL | CMD_KILL_GROUP))
        manual_kill(c, i, (bits & CMD_KILL_GROUP) != 0);
    if ((bits & CMD_REMOVE) && atomic_load(&s->state) == SLOT_ACTIVE)
        slot_unregister(c, i);
}

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
            handle_slot_commands(c, (size_t)word);
    }
}

static void handle_inotify(MemctlCore *c)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(c->ifd, buf, sizeof(buf));
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            for (size_t i = 0; i < c->cfg.max_groups; i++) {
                Slot *s = &c->slots[i];
                if (atomic_load(&s->state) != SLOT_ACTIVE)
                    continue;
                if (ev->wd == s->wd_events)
                    slot_events_changed(c, i);
                else if (ev->wd == s->wd_cgevents)
                    slot_cgevents_changed(c, i);
            }
            p += sizeof(*ev) + ev->len;
        }
    }
}

static void handle_tick(MemctlCore *c)
{
    uint64_t expirations;
    (void)!read(c->tfd, &expirations, sizeof(expirations));
    bool any = false;
    uint64_t now = memctl_now_usec();
    for (size_t i = 0; i < c->cfg.max_groups; i++) {
        Slot *s = &c->slots[i];
        if (atomic_load(&s->state) != SLOT_ACTIVE)
            continue;
        if (s->v.active && s->v.released && now - s->v.t_released >= CORE_RELEASED_WAIT_USEC)
            victim_finish(c, i, false); /* it did not exit: its record goes out as it stands */
        if (s->sampling)
            slot_check(c, i, CAUSE_TICK);
        any |= s->sampling || (s->v.active && s->v.released);
    }
    if (!any)
        timer_set(c, false); /* nothing is over high: no timer runs while nothing happens */
}

static void handle_host_pressure(MemctlCore *c)
{
    for (size_t i = 0; i < c->cfg.max_groups; i++)
        if (atomic_load(&c->slots[i].state) == SLOT_ACTIVE)
            slot_check(c, i, CAUSE_PRESSURE);
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
        int n = epoll_wait(c->epfd, evs, CORE_EPOLL_BATCH, -1);
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
            case K_INOTIFY:
                handle_inotify(c);
                break;
            case K_TIMER:
                handle_tick(c);
                break;
            case K_TRIGGER:
                if (idx < c->cfg.max_groups && atomic_load(&c->slots[idx].state) == SLOT_ACTIVE) {
                    slot_alert(c, idx, 1);
                    slot_check(c, idx, CAUSE_PRESSURE);
                }
                break;
            case K_PIDFD:
                if (idx < c->cfg.max_groups && c->slots[idx].v.active)
                    victim_finish(c, idx, true);
                break;
            case K_HOST_PSI:
                handle_host_pressure(c);
                memctl_core_host_pressure(c);
                break;
            case K_HOST_TIMER:
                memctl_core_host_tick(c);
                break;
            default:
                break;
            }
        }
    }
    return NULL;
}
