/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/reclaimer.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd-util.h"
#include "daemon/reserve/critical.h"
#include "kernel/host-sample.h"
#include "kernel/sample.h"
#include "policy/reclaim.h"

/* One memory.reclaim write, made on the worker thread. */
typedef struct {
    char *name;
    uint64_t id;    /* the cgroup's: a group made again under the name is another one */
    int fd_reclaim; /* opened on the main thread, in the group's directory */
    int fd_current;
    uint64_t bytes;
    /* the worker's answer */
    uint64_t freed;
    int error; /* 0, or the write's -errno (-EAGAIN: the kernel took less than asked) */
    uint64_t usec;
} Step;

struct MemctlReclaimer {
    MemctlGroups *groups; /* borrowed */
    MemctlCore *core;     /* borrowed */
    MemctlCritical *critical;
    char *proc;
    uint32_t interval_ms;
    uint64_t page_size; /* memory.stat counts refaults in pages */
    guint timer;
    guint check; /* the idle source that looks at the groups after changes (0: none pending) */
    /* the worker: batches in, done batches out, the eventfd wakes the main loop */
    GThread *thread;
    GAsyncQueue *in, *out;
    int done_fd;
    guint done_source;
    bool running; /* a batch is with the worker: no sample until it is back */
    MemctlReclaimerStats stats;
    bool said_unsupported;
};

static void step_free(Step *s)
{
    memctl_fd_close(&s->fd_reclaim);
    memctl_fd_close(&s->fd_current);
    g_free(s->name);
    g_free(s);
}

/* A batch is a GPtrArray of Step* (it frees them); this one is the worker's last. */
static char stop_batch;
#define STOP ((gpointer)&stop_batch)

/* ---- the worker thread ------------------------------------------------------------------------ */

static void step_write(Step *s)
{
    uint64_t before = 0, after = 0;
    (void)memctl_sample_read_u64(s->fd_current, &before);
    char text[32];
    int n = snprintf(text, sizeof(text), "%" PRIu64, s->bytes);
    uint64_t t0 = memctl_now_usec();
    s->error = write(s->fd_reclaim, text, (size_t)n) < 0 ? -errno : 0;
    s->usec = memctl_now_usec() - t0;
    if (memctl_sample_read_u64(s->fd_current, &after) == 0 && before > after)
        s->freed = before - after;
}

static gpointer worker(gpointer data)
{
    MemctlReclaimer *r = data;
    for (;;) {
        gpointer popped = g_async_queue_pop(r->in);
        if (popped == STOP)
            return NULL;
        GPtrArray *b = popped;
        for (guint i = 0; i < b->len; i++) {
            Step *s = b->pdata[i];
            if (memctl_core_host_armed(r->core))
                s->error = -ECANCELED; /* the host ran short since the sample: no more steps */
            else
                step_write(s);
        }
        g_async_queue_push(r->out, b);
        uint64_t one = 1;
        (void)!write(r->done_fd, &one, sizeof(one));
    }
}

/* ---- back on the main thread ------------------------------------------------------------------ */

static void take_back(MemctlReclaimer *r, GPtrArray *b)
{
    for (guint i = 0; i < b->len; i++) {
        Step *s = b->pdata[i];
        if (s->error == -ECANCELED)
            continue;
        r->stats.steps++;
        r->stats.busy_usec += s->usec;
        if (s->error == -EINVAL || s->error == -EOPNOTSUPP) { /* no such file would not have opened */
            r->stats.unsupported = true;
            continue;
        }
        if (s->error < 0 && s->error != -EAGAIN && s->error != -EBUSY)
            g_warning("%s: memory.reclaim of %" PRIu64 " bytes: %s", s->name, s->bytes,
                      g_strerror(-s->error));
        MemctlGroup *grp = memctl_groups_get(r->groups, s->name);
        if (grp && grp->id == s->id && grp->proactive)
            memctl_proactive_reclaimed(grp->proactive, s->freed);
        g_debug("%s: reclaimed %" PRIu64 " of %" PRIu64 " bytes asked in %" PRIu64 " us", s->name, s->freed,
                s->bytes, s->usec);
    }
}

static gboolean on_done(gint fd, GIOCondition cond, gpointer data)
{
    MemctlReclaimer *r = data;
    uint64_t n;
    (void)!read(fd, &n, sizeof(n));
    GPtrArray *b;
    while ((b = g_async_queue_try_pop(r->out))) {
        take_back(r, b);
        g_ptr_array_unref(b);
        r->running = false;
    }
    return G_SOURCE_CONTINUE;
}

static int start_worker(MemctlReclaimer *r)
{
    if (r->thread)
        return 0;
    r->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->done_fd < 0)
        return -errno;
    r->in = g_async_queue_new();
    r->out = g_async_queue_new();
    r->done_source = g_unix_fd_add(r->done_fd, G_IO_IN, on_done, r);
    r->thread = g_thread_new("memctld-reclaim", worker, r);
    return 0;
}

/* ---- sampling --------------------------------------------------------------------------------- */

/* A registered critical group, or one below it: reclaim never costs it a stall. */
static bool under_critical(MemctlReclaimer *r, const char *name)
{
    if (!r->critical)
        return false;
    g_autofree char *n = g_strdup(name);
    for (;;) {
        if (memctl_critical_group_is_critical(r->critical, n))
            return true;
        char *slash = strrchr(n, '/');
        if (!slash)
            return false;
        *slash = '\0';
    }
}

static int sample(MemctlReclaimer *r, MemctlGroup *grp, uint64_t host_swap_free, MemctlProactiveSample *ret)
{
    char buf[8192];
    MemctlProactiveSample x = {.t_usec = memctl_now_usec()};
    int k = memctl_groups_read_u64(r->groups, grp, MEMCTL_GROUP_FILE_CURRENT, &x.current);
    if (k < 0)
        return k;
    uint64_t full;
    if (memctl_groups_read(r->groups, grp, MEMCTL_GROUP_FILE_PRESSURE, buf, sizeof(buf)) < 0 ||
        memctl_sample_pressure(buf, &x.some_usec, &full, NULL) < 0)
        return -EIO;
    MemctlReclaimInput in;
    if (memctl_groups_read(r->groups, grp, MEMCTL_GROUP_FILE_STAT, buf, sizeof(buf)) < 0 ||
        memctl_sample_reclaim_stat(buf, &in) < 0)
        return -EIO;
    uint64_t pages;
    if (memctl_sample_refaults(buf, &pages) == 0) /* else 0, always: the refault rule never fires */
        x.refaulted = pages * r->page_size;
    (void)memctl_groups_read_u64(r->groups, grp, MEMCTL_GROUP_FILE_SWAP, &in.swap_current);
    in.swap_max = memctl_file_values_get(&grp->applied, MEMCTL_FILE_SWAP_MAX, UINT64_MAX);
    in.host_swap_free = host_swap_free;
    x.could_free = memctl_reclaim_could_free(&in);
    *ret = x;
    return 0;
}

/* The step for one group, or NULL; its controller sampled whatever the answer. */
static Step *plan(MemctlReclaimer *r, MemctlGroup *grp, bool host_armed, uint64_t host_swap_free)
{
    if (!grp->proactive) {
        grp->proactive = g_new(MemctlProactive, 1);
        memctl_proactive_init(grp->proactive);
    }
    MemctlProactiveSample x;
    if (sample(r, grp, host_swap_free, &x) < 0)
        return NULL; /* the group is going: its removal follows */
    uint64_t floor = grp->limits.reclaim_floor;
    uint64_t min = memctl_file_values_get(&grp->applied, MEMCTL_FILE_MIN, 0);
    uint64_t low = memctl_file_values_get(&grp->applied, MEMCTL_FILE_LOW, 0);
    floor = MAX(floor, MAX(min, low));
    uint64_t high = memctl_group_enforced(grp, MEMCTL_FILE_HIGH);
    MemctlProactiveConfig cfg = {
            .target_ppm = grp->limits.reclaim_pressure_ppm,
            .floor = floor,
            .hold = host_armed || x.current >= high || under_critical(r, grp->name),
    };
    uint64_t bytes = memctl_proactive_next(grp->proactive, &cfg, &x);
    if (bytes == 0 || r->stats.unsupported)
        return NULL;
    Step *s = g_new0(Step, 1);
    s->name = g_strdup(grp->name);
    s->id = grp->id;
    s->bytes = bytes;
    s->fd_reclaim = memctl_groups_open_file(r->groups, grp, "memory.reclaim", O_WRONLY);
    s->fd_current = memctl_groups_open_file(r->groups, grp, "memory.current", O_RDONLY);
    if (s->fd_reclaim == -ENOENT && s->fd_current >= 0)
        r->stats.unsupported = true; /* before Linux 5.19 */
    if (s->fd_reclaim < 0 || s->fd_current < 0) {
        step_free(s);
        return NULL;
    }
    return s;
}

static gboolean on_tick(gpointer data)
{
    MemctlReclaimer *r = data;
    if (r->running)
        return G_SOURCE_CONTINUE; /* the last steps are still being written: this interval is theirs */
    r->stats.intervals++;
    MemctlHostMemory host = {0};
    (void)memctl_host_memory_read(r->proc, &host);
    bool armed = memctl_core_host_armed(r->core);
    g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
    g_autoptr(GList) all = memctl_groups_list(r->groups);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (!grp->limits.reclaim_auto)
            continue;
        Step *s = plan(r, grp, armed, host.swap_free);
        if (s)
            g_ptr_array_add(steps, s);
    }
    if (r->stats.unsupported && !r->said_unsupported) {
        g_warning("this kernel has no memory.reclaim (Linux 5.19): proactive reclaim writes nothing; "
                  "the working set is still estimated");
        r->said_unsupported = true;
    }
    if (steps->len == 0 || start_worker(r) < 0)
        return G_SOURCE_CONTINUE;
    r->running = true;
    g_async_queue_push(r->in, g_steal_pointer(&steps));
    return G_SOURCE_CONTINUE;
}

/* ---- the timer -------------------------------------------------------------------------------- */

static bool any_auto(MemctlReclaimer *r)
{
    bool any = false;
    g_autoptr(GList) all = memctl_groups_list(r->groups);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (grp->limits.reclaim_auto)
            any = true;
        else
            g_clear_pointer(&grp->proactive, g_free); /* reclaim went off: what it knew goes */
    }
    return any;
}

static void check_now(MemctlReclaimer *r)
{
    bool any = any_auto(r);
    if (any && !r->timer)
        r->timer = g_timeout_add(r->interval_ms, on_tick, r);
    else if (!any && r->timer)
        g_clear_handle_id(&r->timer, g_source_remove);
}

static gboolean on_check(gpointer data)
{
    MemctlReclaimer *r = data;
    r->check = 0;
    check_now(r);
    return G_SOURCE_REMOVE;
}

/* Once the main loop is idle: any number of changes until then cost one look at the groups. */
void memctl_reclaimer_update(MemctlReclaimer *r)
{
    if (!r->check)
        r->check = g_idle_add(on_check, r);
}

void memctl_reclaimer_set_interval(MemctlReclaimer *r, uint32_t ms)
{
    if (ms == r->interval_ms)
        return;
    r->interval_ms = ms;
    g_clear_handle_id(&r->timer, g_source_remove);
    check_now(r);
}

MemctlReclaimer *memctl_reclaimer_new(MemctlGroups *groups, MemctlCore *core, MemctlCritical *critical,
                                      const char *proc)
{
    MemctlReclaimer *r = g_new0(MemctlReclaimer, 1);
    r->groups = groups;
    r->core = core;
    r->critical = critical;
    r->proc = g_strdup(proc);
    r->interval_ms = MEMCTL_RECLAIM_INTERVAL_DEFAULT_MS;
    long page = sysconf(_SC_PAGESIZE);
    r->page_size = page > 0 ? (uint64_t)page : 4096;
    r->done_fd = -1;
    return r;
}

void memctl_reclaimer_free(MemctlReclaimer *r)
{
    if (!r)
        return;
    g_clear_handle_id(&r->timer, g_source_remove);
    g_clear_handle_id(&r->check, g_source_remove);
    if (r->thread) {
        g_async_queue_push(r->in, STOP);
        g_thread_join(r->thread); /* after the step being written, if any */
        GPtrArray *b;
        while ((b = g_async_queue_try_pop(r->out)))
            g_ptr_array_unref(b);
        g_clear_handle_id(&r->done_source, g_source_remove);
        g_async_queue_unref(r->in);
        g_async_queue_unref(r->out);
    }
    memctl_fd_close(&r->done_fd);
    g_free(r->proc);
    g_free(r);
}

void memctl_reclaimer_stats(const MemctlReclaimer *r, MemctlReclaimerStats *ret)
{
    *ret = r->stats;
}
