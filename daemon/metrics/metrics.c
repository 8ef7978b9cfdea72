/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/metrics/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "daemon/group/group.h"
#include "daemon/parallel.h"
#include "include/memctl/memctl.h"
#include "kernel/host-sample.h"
#include "kernel/sample.h"

/* Kill latency buckets, seconds: from a millisecond (a fast kill on hardware) to 10 s (a livelock). */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};
#define N_BOUNDS G_N_ELEMENTS(latency_bounds)

typedef enum { STAGE_SIGNAL, STAGE_FREED, STAGE_EXIT, _STAGE_COUNT } Stage;
static const char *const stage_names[_STAGE_COUNT] = {"signal", "freed", "exit"};

typedef struct {
    uint64_t counts[N_BOUNDS + 1];
    double sum;
} Histogram;

#define N_EVENTS 6
static const char *const event_keys[N_EVENTS] = {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"};

/* A group's memory.events as a scrape last read it, kept while the kernel says the file did not
 * change since (metrics_events_prepare()). */
typedef struct {
    uint64_t id;   /* the cgroup's id: the table's key */
    uint64_t seen; /* the last rendering that listed the group (MemctlMetrics.renders) */
    bool valid;    /* read and parsed */
    uint8_t have;  /* bit k: event_keys[k] was in the file */
    uint64_t v[N_EVENTS];
} EventCounts;

struct MemctlMetrics {
    /* counters by group and a second label: "group\037value" -> uint64_t* */
    GHashTable *kills;       /* memctld's kills: reason */
    GHashTable *dry_kills;   /* a dry run's records: reason */
    GHashTable *dry_outcome; /* their outcomes: outcome */
    GHashTable *events;      /* cgroup id -> EventCounts (the key is its id field) */
    uint64_t renders;        /* group renderings so far: EventCounts.seen */
    Histogram latency[_STAGE_COUNT];
    uint64_t scrapes, scrape_usec;
};

MemctlMetrics *memctl_metrics_new(void)
{
    MemctlMetrics *mx = g_new0(MemctlMetrics, 1);
    mx->kills = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    mx->dry_kills = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    mx->dry_outcome = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    mx->events = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    return mx;
}

void memctl_metrics_free(MemctlMetrics *mx)
{
    if (!mx)
        return;
    g_hash_table_destroy(mx->kills);
    g_hash_table_destroy(mx->dry_kills);
    g_hash_table_destroy(mx->dry_outcome);
    g_hash_table_destroy(mx->events);
    g_free(mx);
}

static void metrics_observe(Histogram *h, double seconds)
{
    size_t i = 0;
    while (i < N_BOUNDS && seconds > latency_bounds[i])
        i++;
    h->counts[i]++;
    h->sum += seconds;
}

static void counter_bump(GHashTable *t, const char *group, const char *value)
{
    char *key = g_strdup_printf("%s\037%s", group, value);
    uint64_t *n = g_hash_table_lookup(t, key);
    if (n) {
        g_free(key);
        (*n)++;
    } else {
        n = g_new(uint64_t, 1);
        *n = 1;
        g_hash_table_insert(t, key, n);
    }
}

void memctl_metrics_record(MemctlMetrics *mx, const MemctlCoreEvent *e)
{
    if (e->type == MEMCTL_EVENT_OUTCOME) {
        counter_bump(mx->dry_outcome, e->group, e->outcome);
        return;
    }
    if (e->type != MEMCTL_EVENT_KILL)
        return;
    if (e->dry_run) {
        counter_bump(mx->dry_kills, e->group, e->reason);
        return;
    }
    counter_bump(mx->kills, e->group, e->reason);
    metrics_observe(&mx->latency[STAGE_SIGNAL], e->event_to_signal_usec / 1e6);
    metrics_observe(&mx->latency[STAGE_FREED], (e->event_to_signal_usec + e->signal_to_freed_usec) / 1e6);
    metrics_observe(&mx->latency[STAGE_EXIT], (e->event_to_signal_usec + e->signal_to_exit_usec) / 1e6);
}

void memctl_metrics_count_scrape(MemctlMetrics *mx, uint64_t render_usec)
{
    mx->scrapes++;
    mx->scrape_usec += render_usec;
}

/* A small file of a directory, read into buf (NUL-terminated). */
static int metrics_read(const char *dir, const char *file, char *buf, size_t size)
{
    char path[4096];
    if ((size_t)g_snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = memctl_sample_read(fd, buf, size);
    return n < 0 ? (int)n : 0;
}

/* What one scrape reads of a group, once, before the families are written. */
typedef struct {
    MemctlGroup *g;
    EventCounts *ev; /* the group's memory.events: read again if ev_stale */
    bool ev_stale;
    bool ok; /* the cgroup could be read */
    uint64_t current, peak, swap;
    bool has_peak;
    uint64_t some_usec, full_usec;
    bool has_pressure;
} GroupSample;

/* memory.events is the one file a scrape reads whose changes the kernel announces: once an open file
 * of it has been read, poll() on that file says POLLPRI when the counters changed again
 * (kernfs_notify(); cgroup_file_notify() spaces them 10 ms apart, in whole jiffies: 12 ms at HZ=250). One
 * poll() over every group's fd tells which groups' counters changed since the last scrape; only those are
 * read again, the others are served as parsed then. Main thread, before the groups are sampled. */
static void metrics_events_prepare(MemctlMetrics *mx, MemctlGroups *groups, GroupSample *gs, guint n)
{
    uint64_t scrape = ++mx->renders;
    g_autofree struct pollfd *p = g_new0(struct pollfd, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        EventCounts *e = g_hash_table_lookup(mx->events, &gs[i].g->id);
        if (!e) {
            e = g_new0(EventCounts, 1);
            e->id = gs[i].g->id;
            g_hash_table_insert(mx->events, &e->id, e);
        }
        e->seen = scrape;
        gs[i].ev = e;
        int fd = e->valid ? memctl_groups_file_fd(groups, gs[i].g, MEMCTL_GROUP_FILE_EVENTS) : -1;
        p[i] = (struct pollfd){.fd = fd, .events = POLLPRI}; /* fd -1: not polled, read */
    }
    bool polled = poll(p, n, 0) >= 0;
    for (guint i = 0; i < n; i++)
        gs[i].ev_stale = !polled || p[i].fd < 0 || (p[i].revents & (POLLPRI | POLLERR | POLLNVAL));
    /* groups that are gone */
    GHashTableIter it;
    EventCounts *e;
    g_hash_table_iter_init(&it, mx->events);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
        if (e->seen != scrape)
            g_hash_table_iter_remove(&it);
}

/* Any thread: reads memory.events into the group's own EventCounts. */
static void metrics_read_events(MemctlGroups *groups, MemctlGroup *g, EventCounts *e)
{
    char text[512];
    e->valid = memctl_groups_read(groups, g, MEMCTL_GROUP_FILE_EVENTS, text, sizeof(text)) >= 0;
    e->have = 0;
    for (size_t k = 0; e->valid && k < N_EVENTS; k++)
        if (memctl_sample_key(text, event_keys[k], &e->v[k]) == 0)
            e->have |= (uint8_t)(1u << k);
}

/* swap: the host may have swap in use (no swap device: every group's swap.current is 0, unread) */
static void metrics_sample_group(MemctlGroups *groups, bool swap, GroupSample *s)
{
    MemctlGroup *g = s->g;
    EventCounts *ev = s->ev;
    bool stale = s->ev_stale;
    memset(s, 0, sizeof(*s));
    s->g = g;
    s->ev = ev;
    s->ok = memctl_groups_read_u64(groups, g, MEMCTL_GROUP_FILE_CURRENT, &s->current) == 0;
    s->has_peak = memctl_groups_read_u64(groups, g, MEMCTL_GROUP_FILE_PEAK, &s->peak) == 0;
    if (swap)
        (void)memctl_groups_read_u64(groups, g, MEMCTL_GROUP_FILE_SWAP, &s->swap);
    if (stale)
        metrics_read_events(groups, g, ev);
    char psi[256];
    uint32_t avg = 0;
    s->has_pressure = memctl_groups_read(groups, g, MEMCTL_GROUP_FILE_PRESSURE, psi, sizeof(psi)) >= 0 &&
                      memctl_sample_pressure(psi, &s->some_usec, &s->full_usec, &avg) == 0;
}

#define METRICS_THREADS 4
#define METRICS_PER_THREAD 64 /* fewer groups a thread: not worth one */

typedef struct {
    MemctlGroups *groups;
    GroupSample *gs; /* .g set: the group each samples */
    bool swap;
} Sampling;

/* Any thread: reads only the group's own files (its fds are its own). */
static void metrics_sample_prepare(size_t k, void *data)
{
    Sampling *s = data;
    metrics_sample_group(s->groups, s->swap, &s->gs[k]);
}

typedef uint64_t (*GroupValue)(const GroupSample *s);
static uint64_t v_current(const GroupSample *s)
{
    return s->current;
}
static uint64_t v_swap(const GroupSample *s)
{
    return s->swap;
}
static uint64_t v_min(const GroupSample *s)
{
    return memctl_file_values_get(&s->g->applied, MEMCTL_FILE_MIN, 0);
}
static uint64_t v_low(const GroupSample *s)
{
    return memctl_file_values_get(&s->g->applied, MEMCTL_FILE_LOW, 0);
}
static uint64_t v_high(const GroupSample *s)
{
    return memctl_file_values_get(&s->g->applied, MEMCTL_FILE_HIGH, UINT64_MAX);
}
static uint64_t v_max(const GroupSample *s)
{
    return memctl_file_values_get(&s->g->applied, MEMCTL_FILE_MAX, UINT64_MAX);
}
static uint64_t v_swap_max(const GroupSample *s)
{
    return memctl_file_values_get(&s->g->applied, MEMCTL_FILE_SWAP_MAX, UINT64_MAX);
}
static uint64_t v_kernel_kills(const GroupSample *s)
{
    return s->g->kernel_oom_kills;
}

/* Proactive reclaim's series: only groups with reclaim=auto have them. */
static void render_proactive(MemctlExpo *x, GroupSample *gs, guint n)
{
    static const char *const families[][2] = {
            {"memctl_group_workingset_bytes",
             "The group's working set: the usage at which its reclaim_pressure target just holds, or "
             "a step's memory comes back (an upper bound until then)."},
            {"memctl_group_reclaimed_bytes", "Bytes proactive reclaim took from the group."},
            {"memctl_group_reclaim_stall_seconds",
             "The group's memory stall (some) in the intervals that followed a proactive reclaim step: "
             "what reclaim cost it, at most."},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(families); k++) {
        memctl_expo_family(x, families[k][0], k == 0 ? MEMCTL_EXPO_GAUGE : MEMCTL_EXPO_COUNTER,
                           families[k][1]);
        for (guint i = 0; i < n; i++) {
            const MemctlProactive *p = gs[i].g->proactive;
            const char *const labels[] = {"group", gs[i].g->name, NULL};
            if (!p)
                continue;
            if (k == 2)
                memctl_expo_usec(x, labels, p->stall_usec);
            else
                memctl_expo_u64(x, labels, k == 0 ? p->workingset : p->reclaimed);
        }
    }
}

/* A counter family by group and one more label from table t; series of groups that are gone are
 * dropped. */
static void render_counters(MemctlExpo *x, MemctlGroups *groups, GHashTable *t, const char *name,
                            const char *label, const char *help)
{
    memctl_expo_family(x, name, MEMCTL_EXPO_COUNTER, help);
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(t), (GCompareFunc)strcmp);
    for (GList *l = keys; l; l = l->next) {
        const char *key = l->data;
        const char *sep = strchr(key, '\037');
        g_autofree char *group = g_strndup(key, (gsize)(sep - key));
        if (!memctl_groups_get(groups, group)) {
            g_hash_table_remove(t, key);
            continue;
        }
        const uint64_t *v = g_hash_table_lookup(t, key);
        memctl_expo_u64(x, (const char *[]){"group", group, label, sep + 1, NULL}, *v);
    }
}

static void metrics_group_family(MemctlExpo *x, GroupSample *gs, guint n, const char *name,
                                 MemctlExpoType type, const char *help, GroupValue fn)
{
    memctl_expo_family(x, name, type, help);
    for (guint i = 0; i < n; i++)
        if (gs[i].ok)
            memctl_expo_u64(x, (const char *[]){"group", gs[i].g->name, NULL}, fn(&gs[i]));
}

static void metrics_render_groups(MemctlMetrics *mx, const MemctlMetricsSnapshot *snap, bool swap,
                                  MemctlExpo *x)
{
    g_autoptr(GList) list = memctl_groups_list(snap->groups);
    guint n = g_list_length(list);
    g_autofree GroupSample *gs = g_new(GroupSample, MAX(n, 1));
    guint i = 0;
    for (GList *l = list; l; l = l->next)
        gs[i++].g = l->data;
    /* four reads a group at most, all in the kernel: on the CPUs there are */
    metrics_events_prepare(mx, snap->groups, gs, n);
    Sampling sampling = {.groups = snap->groups, .gs = gs, .swap = swap};
    memctl_parallel_run(n, METRICS_THREADS, METRICS_PER_THREAD, metrics_sample_prepare, NULL, &sampling);

    static const struct {
        const char *name, *help;
        GroupValue fn;
    } gauges[] = {
            {"memctl_group_memory_current_bytes", "Memory charged to the group (memory.current).", v_current},
            {"memctl_group_swap_current_bytes", "Swap used by the group (memory.swap.current).", v_swap},
            {"memctl_group_memory_min_bytes", "memory.min as written by memctld (hard protection).", v_min},
            {"memctl_group_memory_low_bytes", "memory.low as written by memctld (best-effort protection).",
             v_low},
            {"memctl_group_memory_high_bytes",
             "memory.high as written by memctld (throttle point; +Inf: none).", v_high},
            {"memctl_group_memory_max_bytes",
             "memory.max as written by memctld (the kernel's backstop; +Inf: none).", v_max},
            {"memctl_group_swap_max_bytes", "memory.swap.max as written by memctld (+Inf: none).",
             v_swap_max},
    };
    /* Metadata as the Prometheus idiom has it: join with
     * `* on(group) group_left(slice) memctl_group_info` to see the names systemd users know. */
    memctl_expo_family(x, "memctl_group_info", MEMCTL_EXPO_GAUGE,
                       "1 for every managed group; slice: its systemd-style display name (\"\" if none).");
    for (i = 0; i < n; i++)
        memctl_expo_u64(
                x,
                (const char *[]){"group", gs[i].g->name, "slice", gs[i].g->slice ? gs[i].g->slice : "", NULL},
                1);
    for (size_t k = 0; k < G_N_ELEMENTS(gauges); k++)
        metrics_group_family(x, gs, n, gauges[k].name, MEMCTL_EXPO_GAUGE, gauges[k].help, gauges[k].fn);
    memctl_expo_family(x, "memctl_group_memory_peak_bytes", MEMCTL_EXPO_GAUGE,
                       "Highest memory.current since the group was created (memory.peak).");
    for (i = 0; i < n; i++)
        if (gs[i].ok && gs[i].has_peak)
            memctl_expo_u64(x, (const char *[]){"group", gs[i].g->name, NULL}, gs[i].peak);

    memctl_expo_family(x, "memctl_group_memory_events", MEMCTL_EXPO_COUNTER,
                       "The group's memory.events counters (hierarchical), by event.");
    for (i = 0; i < n; i++)
        for (size_t k = 0; gs[i].ok && gs[i].ev->valid && k < N_EVENTS; k++)
            if (gs[i].ev->have & (1u << k))
                memctl_expo_u64(x, (const char *[]){"group", gs[i].g->name, "event", event_keys[k], NULL},
                                gs[i].ev->v[k]);
    memctl_expo_family(x, "memctl_group_pressure_stall_seconds", MEMCTL_EXPO_COUNTER,
                       "Time the group's tasks stalled on memory (memory.pressure totals): some = at least "
                       "one task, full = all non-idle tasks at once.");
    for (i = 0; i < n; i++)
        if (gs[i].ok && gs[i].has_pressure) {
            memctl_expo_usec(x, (const char *[]){"group", gs[i].g->name, "kind", "some", NULL},
                             gs[i].some_usec);
            memctl_expo_usec(x, (const char *[]){"group", gs[i].g->name, "kind", "full", NULL},
                             gs[i].full_usec);
        }
    metrics_group_family(x, gs, n, "memctl_kernel_oom_kills", MEMCTL_EXPO_COUNTER,
                         "Processes the kernel's OOM killer killed in the group while memctld watched.",
                         v_kernel_kills);
    render_proactive(x, gs, n);

    render_counters(x, snap->groups, mx->kills, "memctl_kills", "reason",
                    "Kills by memctld, by group and reason (a whole-group kill counts once).");
    render_counters(x, snap->groups, mx->dry_kills, "memctl_dry_run_kills", "reason",
                    "Kills a dry run recorded and did not make, by group and reason.");
    render_counters(
            x, snap->groups, mx->dry_outcome, "memctl_dry_run_outcomes", "outcome",
            "What followed a dry run's kill record, by group: kernel-killed, recovered, still-stuck.");
}

/* Returns false when the host has no swap at all (SwapTotal 0): no group can have swapped. */
static bool metrics_render_host(const MemctlMetricsSnapshot *snap, MemctlExpo *x)
{
    MemctlHostMemory mem;
    bool swap = true;
    if (memctl_host_memory_read(snap->proc, &mem) == 0) {
        swap = mem.swap_total > 0;
        const struct {
            const char *name, *help;
            uint64_t v;
        } host[] = {
                {"memctl_host_memory_total_bytes", "MemTotal of the host.", mem.total},
                {"memctl_host_memory_available_bytes", "MemAvailable of the host.", mem.available},
                {"memctl_host_swap_total_bytes", "SwapTotal of the host.", mem.swap_total},
                {"memctl_host_swap_free_bytes", "SwapFree of the host.", mem.swap_free},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(host); i++) {
            memctl_expo_family(x, host[i].name, MEMCTL_EXPO_GAUGE, host[i].help);
            memctl_expo_u64(x, NULL, host[i].v);
        }
    }
    char dir[4096], psi[256];
    g_snprintf(dir, sizeof(dir), "%s/pressure", snap->proc);
    uint64_t some = 0, full = 0;
    uint32_t avg = 0;
    if (metrics_read(dir, "memory", psi, sizeof(psi)) == 0 &&
        memctl_sample_pressure(psi, &some, &full, &avg) == 0) {
        memctl_expo_family(x, "memctl_host_pressure_stall_seconds", MEMCTL_EXPO_COUNTER,
                           "Time tasks stalled on memory host-wide (/proc/pressure/memory totals).");
        memctl_expo_usec(x, (const char *[]){"kind", "some", NULL}, some);
        memctl_expo_usec(x, (const char *[]){"kind", "full", NULL}, full);
    }
    return swap;
}

static void metrics_render_daemon(MemctlMetrics *mx, const MemctlMetricsSnapshot *snap, MemctlExpo *x)
{
    memctl_expo_family(x, "memctl_build", MEMCTL_EXPO_INFO, "memctld's version.");
    memctl_expo_u64(x, (const char *[]){"version", MEMCTL_VERSION, NULL}, 1);
    memctl_expo_family(x, "memctl_daemon_uptime_seconds", MEMCTL_EXPO_GAUGE, "Time since memctld started.");
    memctl_expo_double(x, NULL, snap->uptime_usec / 1e6);
    char dir[4096], statm[128];
    g_snprintf(dir, sizeof(dir), "%s/self", snap->proc);
    if (metrics_read(dir, "statm", statm, sizeof(statm)) == 0) {
        uint64_t size = 0, resident = 0;
        if (sscanf(statm, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &size, &resident) == 2) {
            memctl_expo_family(x, "memctl_daemon_resident_memory_bytes", MEMCTL_EXPO_GAUGE,
                               "memctld's resident set (all of it locked), the reserve included.");
            memctl_expo_u64(x, NULL, resident * (uint64_t)sysconf(_SC_PAGESIZE));
        }
    }
    memctl_expo_family(x, "memctl_core_alive", MEMCTL_EXPO_GAUGE,
                       "1 while the core thread answers the watchdog's pings.");
    memctl_expo_u64(x, NULL, snap->core_alive ? 1 : 0);
    memctl_expo_family(x, "memctl_core_events_dropped", MEMCTL_EXPO_COUNTER,
                       "Core notices lost because the main loop fell behind (kills still happened, and "
                       "their records are kept until there is room).");
    memctl_expo_u64(x, NULL, snap->events_dropped);
    memctl_expo_family(x, "memctl_dry_run", MEMCTL_EXPO_GAUGE,
                       "1 while memctld runs dry: it records the kills it would make and makes none.");
    memctl_expo_u64(x, NULL, snap->dry_run ? 1 : 0);
    memctl_expo_family(x, "memctl_reclaim_steps", MEMCTL_EXPO_COUNTER,
                       "memory.reclaim writes made by proactive reclaim (all groups).");
    memctl_expo_u64(x, NULL, snap->reclaim_steps);
    memctl_expo_family(x, "memctl_reclaim_seconds", MEMCTL_EXPO_COUNTER,
                       "Time proactive reclaim's worker thread spent in memory.reclaim writes: its cost.");
    memctl_expo_usec(x, NULL, snap->reclaim_usec);
    memctl_expo_family(x, "memctl_groups", MEMCTL_EXPO_GAUGE, "Groups memctld manages.");
    memctl_expo_u64(x, NULL, memctl_groups_count(snap->groups));
    memctl_expo_family(x, "memctl_scrapes", MEMCTL_EXPO_COUNTER,
                       "Metric expositions rendered (HTTP and D-Bus).");
    memctl_expo_u64(x, NULL, mx->scrapes);
    memctl_expo_family(x, "memctl_scrape_render_seconds", MEMCTL_EXPO_COUNTER,
                       "Time spent rendering expositions, this one excluded.");
    memctl_expo_double(x, NULL, mx->scrape_usec / 1e6);

    if (snap->has_reserve) {
        const struct {
            const char *name, *help;
            uint64_t v;
        } res[] = {
                {"memctl_reserve_size_bytes", "The preallocated reserve.", snap->reserve.total},
                {"memctl_reserve_registered_bytes", "Reserve promised to registered critical clients.",
                 snap->reserve.registered},
                {"memctl_reserve_leased_bytes", "Reserve held by clients as leases now.",
                 snap->reserve.leased},
                {"memctl_reserve_free_bytes", "Reserve not carved into leases.", snap->reserve.free},
                {"memctl_reserve_lent_bytes",
                 "Registered reserve lent to critical groups as boosts under host pressure.",
                 snap->reserve.lent},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(res); i++) {
            memctl_expo_family(x, res[i].name, MEMCTL_EXPO_GAUGE, res[i].help);
            memctl_expo_u64(x, NULL, res[i].v);
        }
    }
}

GString *memctl_metrics_render(MemctlMetrics *mx, const MemctlMetricsSnapshot *snap, MemctlExpoFormat format)
{
    GString *out = g_string_sized_new(4096 + 2048 * memctl_groups_count(snap->groups));
    MemctlExpo x;
    memctl_expo_init(&x, format, out);
    metrics_render_daemon(mx, snap, &x);
    bool swap = metrics_render_host(snap, &x);
    metrics_render_groups(mx, snap, swap, &x);
    memctl_expo_family(
            &x, "memctl_kill_latency_seconds", MEMCTL_EXPO_HISTOGRAM,
            "Time from the event that decided a kill (crossing memory.high, the host guard arming, "
            "a request) to SIGKILL (stage signal), to the victim's memory being freed (freed), and to "
            "its exit (exit).");
    for (int s = 0; s < _STAGE_COUNT; s++)
        memctl_expo_histogram(&x, (const char *[]){"stage", stage_names[s], NULL}, latency_bounds,
                              mx->latency[s].counts, N_BOUNDS, mx->latency[s].sum);
    memctl_expo_finish(&x);
    return out;
}
