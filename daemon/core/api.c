/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's API to the main thread: everything that may allocate or block happens here, before the
 * core thread sees it. The core's state is allocated once (memctl_core_new()), the host guard's
 * files are opened, group slots are prepared (files opened, PSI trigger armed) and handed over
 * through the command ring, the policy is published into a slot's atomics, and events are drained.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "basic/memlock.h"
#include "basic/size.h"
#include "daemon/core/internal.h"
#include "kernel/host-sample.h"
#include "kernel/sample.h"
#include "policy/limits.h"

void memctl_core_config_default(MemctlCoreConfig *c)
{
    memset(c, 0, sizeof(*c));
    c->cgroup_mount = "/sys/fs/cgroup";
    c->proc_root = "/proc";
    c->max_groups = 1024;
    c->max_procs = 4096;
    c->events_ring = 1024;
    memctl_progress_config_default(&c->progress);
    memctl_host_config_default(&c->host);
    /* 5 ms of stall in 100 ms: the kernel checks a trigger about ten times a window, so it fires
     * within ~10 ms of the stall instead of ~50 ms with 500 ms, the least Linux allowed before 6.5 */
    c->host_psi_stall_usec = 5 * 1000;
    c->host_psi_window_usec = 100 * 1000;
}

/* The files of MemctlCoreGroupFiles in order, and where a slot keeps each. */
static const struct {
    const char *name;
    int flags;
    bool optional; /* may be absent: memory.swap.current, without swap accounting */
    size_t offset; /* of the slot's fd */
} group_files[MEMCTL_CORE_GROUP_FILES] = {
        {"memory.events.local", O_RDONLY, false, offsetof(Slot, fd_events)},
        {"memory.current", O_RDONLY, false, offsetof(Slot, fd_current)},
        {"memory.stat", O_RDONLY, false, offsetof(Slot, fd_stat)},
        {"memory.pressure", O_RDONLY, false, offsetof(Slot, fd_pressure)},
        {"cgroup.procs", O_RDONLY, false, offsetof(Slot, fd_procs)},
        {"cgroup.kill", O_WRONLY, false, offsetof(Slot, fd_kill)},
        {"memory.swap.current", O_RDONLY, true, offsetof(Slot, fd_swap)},
        {"cgroup.events", O_RDONLY, false, offsetof(Slot, fd_cgevents)},
};

static int *slot_fd(Slot *s, size_t k)
{
    return (int *)((char *)s + group_files[k].offset);
}

static void slot_close(Slot *s)
{
    for (size_t k = 0; k < MEMCTL_CORE_GROUP_FILES; k++)
        memctl_fd_close(slot_fd(s, k));
    memctl_fd_close(&s->v.pidfd);
    memctl_fd_close(&s->pk.pidfd);
}

/* SLOT_FREE defaults (no fds) over whatever the slot held: for one never used (calloc's zeros, whose
 * fds would read as 0, stdin or whatever took its number), or after slot_close(). */
static void slot_init(Slot *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t k = 0; k < MEMCTL_CORE_GROUP_FILES; k++)
        *slot_fd(s, k) = -1;
    s->v.pidfd = -1;
    s->pk.pidfd = -1;
    s->parent = -1;
}

/* Closes a slot's fds and returns it to SLOT_FREE defaults. */
static void slot_reset(Slot *s)
{
    slot_close(s);
    slot_init(s);
}

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

/* A timerfd of the core's, in its epoll set as `kind`: the fd, or -errno. */
static int timer_new(MemctlCore *c, uint32_t kind)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = memctl_core_epoll_add(c, fd, EPOLLIN, kind, 0);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

/* The host guard's files and buffers (it runs on the core thread: host.c). */
static int host_setup(MemctlCore *c)
{
    c->host_victim = -1;
    memctl_host_progress_config(&c->cfg.host, &c->cfg.progress, &c->host_progress);
    if ((c->host_tfd = timer_new(c, K_HOST_TIMER)) < 0)
        return c->host_tfd;
    if ((c->host_watch_tfd = timer_new(c, K_HOST_WATCH)) < 0)
        return c->host_watch_tfd;
    /* the watch's first glance, soon after start (then at the period policy/host.c gives) */
    struct itimerspec first = {.it_value = {.tv_nsec = 10 * 1000 * 1000}};
    if (c->cfg.host.enabled && timerfd_settime(c->host_watch_tfd, 0, &first, NULL) < 0)
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
    memctl_prefault(c->host_buf, c->host_buf_size);
    memctl_prefault(c->gcands, c->cfg.max_groups * sizeof(*c->gcands));
    memctl_prefault(c->gcand_slot, c->cfg.max_groups * sizeof(*c->gcand_slot));
    memctl_prefault(c->gskip, c->cfg.max_groups * sizeof(*c->gskip));
    c->fd_swaps = open_proc(c, "swaps"); /* no swap support: no zram to account for */
    memctl_core_host_zram_rescan(c);
    return 0;
}

static void host_teardown(MemctlCore *c)
{
    int *fds[] = {&c->host_tfd,  &c->host_watch_tfd,   &c->fd_zoneinfo, &c->fd_meminfo,
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

#define PSI_WINDOW_MIN_BEFORE_6_5 (500 * 1000)

/* A PSI trigger "some <stall> <window>" on the pressure file at path: its fd, or -errno. */
static int open_trigger(const char *path, uint64_t stall_usec, uint64_t window_usec)
{
    char spec[64];
    snprintf(spec, sizeof(spec), "some %llu %llu", (unsigned long long)stall_usec,
             (unsigned long long)window_usec);
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, spec, strlen(spec) + 1) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int memctl_core_new(const MemctlCoreConfig *cfg, MemctlCore **ret)
{
    if (!cfg || cfg->max_groups == 0 || cfg->max_groups > 65536 || cfg->max_procs == 0 ||
        cfg->max_procs > (1u << 20) || cfg->events_ring < 16 || cfg->events_ring > 65536 ||
        cfg->progress.window_usec < 1000 || strlen(cfg->cgroup_mount) >= CORE_PATH_MAX ||
        strlen(cfg->proc_root) + 24 >= 64 || (cfg->sys_root && strlen(cfg->sys_root) + 40 >= 64))
        return -EINVAL;

    MemctlCore *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->epfd = c->tfd = c->host_psi_fd = -1;
    c->host_tfd = c->host_watch_tfd = c->fd_zoneinfo = c->fd_meminfo = c->fd_vmstat = c->fd_host_pressure =
            c->fd_swaps = -1;
    for (size_t i = 0; i < MEMCTL_HOST_ZRAM_MAX; i++)
        c->fd_zram[i] = -1;
    c->host_victim = -1;
    c->cfg = *cfg;
    snprintf(c->mount, sizeof(c->mount), "%s", cfg->cgroup_mount);
    c->mount_len = strlen(c->mount);
    snprintf(c->proc_root, sizeof(c->proc_root), "%s", cfg->proc_root);
    snprintf(c->sys_root, sizeof(c->sys_root), "%s", cfg->sys_root ? cfg->sys_root : "/sys");
    c->cfg.cgroup_mount = c->mount;
    c->cfg.proc_root = c->proc_root;
    c->cfg.sys_root = c->sys_root;
    c->self_pid = (int32_t)getpid();
    c->page_size = (uint64_t)sysconf(_SC_PAGESIZE);

    int r = -ENOMEM;
    c->slots = calloc(cfg->max_groups, sizeof(Slot));
    c->lists = calloc(cfg->max_groups, sizeof(SlotLists));
    c->cands = calloc(cfg->max_procs, sizeof(MemctlCandidate));
    c->cand_slot = calloc(cfg->max_procs, sizeof(int32_t));
    c->pids = calloc(cfg->max_procs, sizeof(int32_t));
    c->pidfds = calloc(cfg->max_procs, sizeof(int));
    c->buf_size = cfg->max_procs * 12 > CORE_STAT_BUF ? cfg->max_procs * 12 : CORE_STAT_BUF;
    c->buf = calloc(1, c->buf_size);
    if (!c->slots || !c->lists || !c->cands || !c->cand_slot || !c->pids || !c->pidfds || !c->buf)
        goto fail;
    /* Everything the core thread uses is there before it runs (each slot: when first used). */
    memctl_prefault(c->cands, cfg->max_procs * sizeof(MemctlCandidate));
    memctl_prefault(c->cand_slot, cfg->max_procs * sizeof(int32_t));
    memctl_prefault(c->pids, cfg->max_procs * sizeof(int32_t));
    memctl_prefault(c->pidfds, cfg->max_procs * sizeof(int));
    memctl_prefault(c->buf, c->buf_size);
    /* The slots are not: each is written when first used (memctl_core_add_group(), before the core
     * hears of it), and none past the last used is ever read. calloc's zeros are SLOT_FREE. */

    if ((r = memctl_ring_new(sizeof(int32_t), cfg->max_groups + 1, &c->cmds)) < 0 ||
        (r = memctl_ring_new(sizeof(MemctlCoreEvent), cfg->events_ring, &c->events)) < 0)
        goto fail;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->epfd < 0 || c->tfd < 0) {
        r = -errno;
        goto fail;
    }
    if ((r = memctl_core_epoll_add(c, memctl_ring_fd(c->cmds), EPOLLIN, K_CMD, 0)) < 0 ||
        (r = memctl_core_epoll_add(c, c->tfd, EPOLLIN, K_TIMER, 0)) < 0)
        goto fail;

    if ((r = host_setup(c)) < 0)
        goto fail;

    /* Host pressure: look at every group, and arm the host guard, when the whole machine stalls. */
    char path[96];
    snprintf(path, sizeof(path), "%s/pressure/memory", c->proc_root);
    c->host_psi_window_usec = cfg->host_psi_window_usec;
    c->host_psi_fd = open_trigger(path, cfg->host_psi_stall_usec, c->host_psi_window_usec);
    if (c->host_psi_fd == -EINVAL && c->host_psi_window_usec < PSI_WINDOW_MIN_BEFORE_6_5) {
        c->host_psi_window_usec = PSI_WINDOW_MIN_BEFORE_6_5; /* the kernel's least before 6.5 */
        c->host_psi_fd = open_trigger(path, cfg->host_psi_stall_usec, c->host_psi_window_usec);
    }
    if (c->host_psi_fd < 0) {
        r = c->host_psi_fd;
        goto fail;
    }
    if ((r = memctl_core_epoll_add(c, c->host_psi_fd, EPOLLPRI, K_HOST_PSI, 0)) < 0)
        goto fail;

    *ret = c;
    return 0;
fail:
    memctl_core_free(c);
    return r;
}

uint64_t memctl_core_host_psi_window(const MemctlCore *c)
{
    return c->host_psi_window_usec;
}

int memctl_core_start(MemctlCore *c)
{
    if (c->running)
        return -EALREADY;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, CORE_STACK_SIZE);
    atomic_store(&c->stop, false);
    int r = pthread_create(&c->thread, &attr, memctl_core_main, c);
    pthread_attr_destroy(&attr);
    if (r != 0)
        return -r;
    pthread_setname_np(c->thread, "memctl-core");
    c->running = true;
    /* The core sleeps until an event and then must run at once, ahead of the allocators it is about
     * to stop (a hog spinning in reclaim on every CPU): the lowest real-time priority. Best effort:
     * without CAP_SYS_NICE it stays SCHED_OTHER (the caller reports it). */
    struct sched_param sp = {.sched_priority = 1};
    r = pthread_setschedparam(c->thread, SCHED_RR, &sp);
    atomic_store(&c->realtime, r == 0);
    return -r;
}

/* Sets command bits on a slot's word (or the core's, CMD_CORE) and queues the word if it had none:
 * it is then in the ring once, and the ring has room for every word at once. */
static void push_command(MemctlCore *c, int32_t slot, uint32_t bits)
{
    _Atomic uint32_t *word = slot == CMD_CORE ? &c->pending : &c->slots[slot].pending;
    if (atomic_fetch_or(word, bits) == 0) {
        bool quiet = bits == CMD_ADD && c->holding_adds && ++c->adds_held < CORE_ADD_BATCH;
        bool queued = quiet ? memctl_ring_push_quiet(c->cmds, &slot) : memctl_ring_push(c->cmds, &slot);
        assert(queued); /* one entry per word: cannot be full */
        (void)queued;
        if (!quiet)
            c->adds_held = 0; /* the core woke for those too */
    }
}

void memctl_core_hold_adds(MemctlCore *c, bool hold)
{
    if (!hold && c->adds_held > 0)
        memctl_ring_kick(c->cmds);
    c->adds_held = 0;
    c->holding_adds = hold;
}

void memctl_core_stop(MemctlCore *c)
{
    if (!c->running)
        return;
    atomic_store(&c->stop, true);
    push_command(c, CMD_CORE, CMD_PING);
    pthread_join(c->thread, NULL);
    c->running = false;
}

void memctl_core_free(MemctlCore *c)
{
    if (!c)
        return;
    memctl_core_stop(c);
    if (c->slots)
        for (size_t i = 0; i < memctl_core_slots_used(c); i++)
            slot_reset(&c->slots[i]);
    host_teardown(c);
    int fds[] = {c->epfd, c->tfd, c->host_psi_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    memctl_ring_free(c->cmds);
    memctl_ring_free(c->events);
    free(c->slots);
    free(c->lists);
    free(c->cands);
    free(c->cand_slot);
    free(c->pids);
    free(c->pidfds);
    free(c->buf);
    free(c);
}

static void slot_set_limits(Slot *s, const MemctlCoreLimits *l)
{
    atomic_store(&s->high, l->high);
    atomic_store(&s->max, l->max);
    atomic_store(&s->swap_max, l->swap_max);
    atomic_store(&s->oom_group, l->oom_group);
    atomic_store(&s->prekill_usec, l->prekill_usec);
}

void memctl_core_group_files_close(MemctlCoreGroupFiles *files)
{
    for (size_t k = 0; k < MEMCTL_CORE_GROUP_FILES; k++)
        memctl_fd_close(&files->fd[k]);
}

int memctl_core_group_files_open(int dirfd, MemctlCoreGroupFiles *ret)
{
    MemctlCoreGroupFiles f;
    for (size_t k = 0; k < MEMCTL_CORE_GROUP_FILES; k++)
        f.fd[k] = -1;
    for (size_t k = 0; k < MEMCTL_CORE_GROUP_FILES; k++) {
        f.fd[k] = openat(dirfd, group_files[k].name, group_files[k].flags | O_CLOEXEC);
        if (f.fd[k] < 0 && !(group_files[k].optional && errno == ENOENT)) {
            int r = -errno;
            memctl_core_group_files_close(&f);
            return r;
        }
    }
    *ret = f;
    return 0;
}

int memctl_core_add_group(MemctlCore *c, const char *name, const char *path, MemctlCoreGroupFiles *files,
                          int parent_slot, const MemctlCoreLimits *limits)
{
    size_t ml = c->mount_len, nl = strlen(name), pl = strlen(path);
    /* the name is the end of the path ("<root>/<name>"): the slot keeps the path alone */
    if (nl == 0 || nl > MEMCTL_GROUP_NAME_MAX || pl >= CORE_PATH_MAX - 32 || pl <= ml + nl ||
        strncmp(path, c->mount, ml) != 0 || path[ml] != '/' || path[pl - nl - 1] != '/' ||
        strcmp(path + pl - nl, name) != 0 || (parent_slot >= 0 && (size_t)parent_slot >= c->cfg.max_groups)) {
        memctl_core_group_files_close(files);
        return -EINVAL;
    }
    /* The lowest free slot: every one below free_hint is in use, and past the used ones all are free. */
    size_t i, used = memctl_core_slots_used(c);
    for (i = c->free_hint; i < used; i++)
        if (atomic_load(&c->slots[i].state) == SLOT_FREE)
            break;
    if (i == c->cfg.max_groups) {
        memctl_core_group_files_close(files);
        return -ENOSPC;
    }

    Slot *s = &c->slots[i];
    if (i == used) {
        slot_init(s);                        /* never used: nothing of its is open */
        atomic_store(&c->n_slots, used + 1); /* written before the core may look at it */
    } else {
        slot_reset(s);
    }
    c->free_hint = i + 1;
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->name = s->path + pl - nl;
    s->parent = parent_slot;
    for (size_t k = 0; k < MEMCTL_CORE_GROUP_FILES; k++) {
        *slot_fd(s, k) = files->fd[k];
        files->fd[k] = -1;
    }
    slot_set_limits(s, limits);
    atomic_store(&s->priority, MEMCTL_PRIORITY_DEFAULT); /* until the GLib side publishes the policy */
    atomic_store(&s->state, SLOT_PREPARED);
    push_command(c, (int32_t)i, CMD_ADD);
    return (int)i;
}

static int check_slot(MemctlCore *c, int slot)
{
    if (slot < 0 || (size_t)slot >= c->cfg.max_groups)
        return -EINVAL;
    int st = atomic_load(&c->slots[slot].state);
    return st == SLOT_PREPARED || st == SLOT_ACTIVE ? 0 : -ENOENT;
}

int memctl_core_dup_file(MemctlCore *c, int slot, MemctlCoreFile f, int *ret_fd)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    const Slot *s = &c->slots[slot];
    int fd = f == MEMCTL_CORE_FILE_CURRENT    ? s->fd_current
             : f == MEMCTL_CORE_FILE_PRESSURE ? s->fd_pressure
             : f == MEMCTL_CORE_FILE_SWAP     ? s->fd_swap
                                              : -1;
    if (fd < 0)
        return -ENOENT;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0)
        return -errno;
    *ret_fd = nfd;
    return 0;
}

int memctl_core_update_group(MemctlCore *c, int slot, const MemctlCoreLimits *limits)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    slot_set_limits(&c->slots[slot], limits);
    push_command(c, slot, CMD_UPDATE);
    return 0;
}

int memctl_core_set_policy(MemctlCore *c, int slot, const MemctlCorePolicy *p)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    if (p->priority < MEMCTL_PRIORITY_MIN || p->priority > MEMCTL_PRIORITY_MAX ||
        p->prefer.n_comm > MEMCTL_CORE_LIST_MAX || p->prefer.n_slot > MEMCTL_CORE_LIST_MAX ||
        p->avoid.n_comm > MEMCTL_CORE_LIST_MAX || p->avoid.n_slot > MEMCTL_CORE_LIST_MAX)
        return -EINVAL;
    Slot *s = &c->slots[slot];
    atomic_store(&s->priority, p->priority);
    atomic_store(&s->prot_min, p->min);
    atomic_store(&s->prot_low, p->low);
    atomic_store(&s->stall_budget_pct, p->stall_budget_pct);
    atomic_store(&s->stall_windows, p->stall_windows);
    bool none =
            p->prefer.n_comm == 0 && p->prefer.n_slot == 0 && p->avoid.n_comm == 0 && p->avoid.n_slot == 0;
    if (none && !atomic_load(&s->has_lists))
        return 0; /* nothing to say, and the lists' page stays untouched */
    /* seqlock: odd while writing; the core copies the lists and retries if the count moved */
    SlotLists *l = &c->lists[slot];
    atomic_fetch_add_explicit(&s->lists_seq, 1, memory_order_acq_rel);
    atomic_thread_fence(memory_order_release);
    memcpy(&l->prefer, &p->prefer, sizeof(l->prefer));
    memcpy(&l->avoid, &p->avoid, sizeof(l->avoid));
    atomic_fetch_add_explicit(&s->lists_seq, 1, memory_order_release);
    atomic_store_explicit(&s->has_lists, true, memory_order_release);
    return 0;
}

int memctl_core_set_critical(MemctlCore *c, int slot, bool critical)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    atomic_store(&c->slots[slot].critical, critical);
    return 0;
}

int memctl_core_set_critical_pid(MemctlCore *c, int32_t pid, bool critical)
{
    if (pid <= 0)
        return -EINVAL;
    for (size_t i = 0; i < MEMCTL_CORE_CRITICAL_PIDS; i++) {
        if (critical) {
            int32_t none = 0;
            if (atomic_load(&c->critical_pids[i]) == pid ||
                atomic_compare_exchange_strong(&c->critical_pids[i], &none, pid))
                return 0;
        } else if (atomic_load(&c->critical_pids[i]) == pid) {
            atomic_store(&c->critical_pids[i], 0);
            return 0;
        }
    }
    return critical ? -ENOSPC : -ENOENT;
}

int memctl_core_remove_group(MemctlCore *c, int slot)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    push_command(c, slot, CMD_REMOVE);
    return 0;
}

int memctl_core_prekill_done(MemctlCore *c, int slot)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    push_command(c, slot, CMD_PREKILL_DONE);
    return 0;
}

int memctl_core_kill_group(MemctlCore *c, int slot, bool group, uint32_t req)
{
    int r = check_slot(c, slot);
    if (r < 0)
        return r;
    if (req == 0)
        return -EINVAL;
    atomic_store_explicit(&c->slots[slot].manual_req, req, memory_order_release);
    push_command(c, slot, group ? CMD_KILL_GROUP : CMD_KILL);
    return 0;
}

int memctl_core_kill_result(MemctlCore *c, int slot, uint32_t req, int *ret_result)
{
    if (slot < 0 || (size_t)slot >= c->cfg.max_groups)
        return -EINVAL;
    Slot *s = &c->slots[slot];
    if (atomic_load_explicit(&s->manual_done_req, memory_order_acquire) != req)
        return 0;
    *ret_result = atomic_load_explicit(&s->manual_result, memory_order_relaxed);
    return 1;
}

int memctl_core_event_fd(const MemctlCore *c)
{
    return memctl_ring_fd(c->events);
}

bool memctl_core_next_event(MemctlCore *c, MemctlCoreEvent *ret)
{
    if (!memctl_ring_pop(c->events, ret))
        return false;
    if (ret->type == MEMCTL_EVENT_GROUP_RELEASED && ret->slot >= 0 && (size_t)ret->slot < c->cfg.max_groups) {
        Slot *s = &c->slots[ret->slot];
        slot_reset(s);
        atomic_store(&s->state, SLOT_FREE);
        if ((size_t)ret->slot < c->free_hint)
            c->free_hint = (size_t)ret->slot;
    }
    return true;
}

void memctl_core_ack_events(MemctlCore *c)
{
    memctl_ring_ack(c->events);
}

uint64_t memctl_core_events_dropped(const MemctlCore *c)
{
    return memctl_ring_dropped(c->events);
}

bool memctl_core_realtime(const MemctlCore *c)
{
    return atomic_load(&((MemctlCore *)c)->realtime);
}

void memctl_core_set_dry_run(MemctlCore *c, bool on)
{
    atomic_store(&c->dry_run, on);
}

bool memctl_core_dry_run(const MemctlCore *c)
{
    return atomic_load(&((MemctlCore *)c)->dry_run);
}

uint64_t memctl_core_heartbeat(const MemctlCore *c)
{
    return atomic_load(&((MemctlCore *)c)->heartbeat);
}

void memctl_core_ping(MemctlCore *c)
{
    push_command(c, CMD_CORE, CMD_PING);
}

int memctl_core_group_events(MemctlCore *c, int slot, MemctlCoreEvents *ret)
{
    if (slot < 0 || (size_t)slot >= c->cfg.max_groups)
        return -EINVAL;
    Slot *s = &c->slots[slot];
    *ret = (MemctlCoreEvents){
            .oom = atomic_load(&s->last_events[0]),
            .oom_kill = atomic_load(&s->last_events[1]),
            .high = atomic_load(&s->last_events[2]),
            .max = atomic_load(&s->last_events[3]),
    };
    return 0;
}

void memctl_core_test_wedge(MemctlCore *c)
{
    push_command(c, CMD_CORE, CMD_WEDGE);
}
