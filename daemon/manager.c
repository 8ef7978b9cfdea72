/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/manager.h"

#include <errno.h>
#include <json-c/json.h>
#include <malloc.h>
#include <string.h>

#include "basic/memlock.h"
#include "daemon/config.h"
#include "daemon/group/cgroup.h"
#include "daemon/reserve/boost.h"
#include "daemon/reserve/critical.h"
#include "daemon/error.h"
#include "daemon/hook.h"
#include "kernel/host-sample.h"
#include "daemon/metrics/metrics.h"
#include "daemon/reclaimer.h"
#include "daemon/record.h"
#include "daemon/reserve/reserve.h"
#include "kernel/sample.h"

#define HISTORY_CAPACITY 1024

/* A manual kill waits this long for the victim's record before its caller is told it is late. */
#define MANUAL_KILL_TIMEOUT_SECONDS 10

typedef struct {
    MemctlManager *m;
    int slot;
    uint32_t req; /* memctl_core_kill_group()'s request */
    char *reason;
    GDBusMethodInvocation *invocation; /* owned; NULL when no caller waits */
    guint timeout;
} ManualKill;

static void manual_reply(ManualKill *k, int result, const char *group)
{
    if (!k->invocation)
        return;
    if (result == 0)
        g_dbus_method_invocation_return_value(k->invocation, NULL);
    else if (result == -EINPROGRESS)
        g_dbus_method_invocation_return_error(
                k->invocation, MEMCTL_ERROR, MEMCTL_ERROR_BUSY,
                "%s: a victim is still dying (SIGKILL pending): its memory is on "
                "the way back; nothing else was killed",
                group);
    else if (result == -ESRCH)
        g_dbus_method_invocation_return_error(k->invocation, MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                              "%s: no eligible victim: every process in it is critical, "
                                              "protected (oom_score_adj -1000) or memctld",
                                              group);
    else
        g_dbus_method_invocation_return_error(k->invocation, MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                              "%s: the kill failed: %s", group, g_strerror(-result));
    k->invocation = NULL;
}

static void manual_free(ManualKill *k)
{
    if (k->timeout)
        g_source_remove(k->timeout);
    g_free(k->reason);
    if (k->invocation)
        g_dbus_method_invocation_return_error(k->invocation, MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                              "memctld stopped before the kill completed");
    g_free(k);
}

/* The victim got SIGKILL but has not been released (stuck in the kernel, say): the caller hears so
 * instead of waiting on; the record follows in ListKills when the core has it. */
static gboolean on_manual_timeout(gpointer data)
{
    ManualKill *k = data;
    k->timeout = 0;
    if (k->invocation) {
        g_dbus_method_invocation_return_error(k->invocation, MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                              "no kill record %d s after the request: the victim may be "
                                              "stuck in the kernel (ListKills has its record once released)",
                                              MANUAL_KILL_TIMEOUT_SECONDS);
        k->invocation = NULL;
    }
    g_hash_table_remove(k->m->manual, GINT_TO_POINTER(k->slot));
    return G_SOURCE_REMOVE;
}

MemctlManager *memctl_manager_new(MemctlCore *core, MemctlGroups *groups, const char *mount, const char *root,
                                  const char *proc)
{
    MemctlManager *m = g_new0(MemctlManager, 1);
    m->core = core;
    m->groups = groups;
    m->history = memctl_history_new(HISTORY_CAPACITY);
    m->metrics = memctl_metrics_new();
    m->mount = g_strdup(mount);
    m->root = g_strdup(root);
    m->proc = g_strdup(proc);
    m->started_usec = g_get_monotonic_time();
    m->manual = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)manual_free);
    m->core_alive = TRUE;
    m->hooks = memctl_hooks_new(core, root);
    return m;
}

void memctl_manager_set_listener(MemctlManager *m, const MemctlManagerListener *l, void *data)
{
    m->listener = l ? *l : (MemctlManagerListener){0};
    m->listener_data = data;
}

/* Free bytes in the heap worth a trim: a scrape of 1,000 groups frees about a megabyte. */
#define HEAP_TRIM_MIN (1u << 20)

#define HEAP_TRIM_QUIET 3

static gboolean on_settle_heap(gpointer data)
{
    MemctlManager *m = data;
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks >= HEAP_TRIM_MIN) {
        int r = memctl_memlock_trim_heap();
        if (r < 0)
            g_debug("heap trim: %s", g_strerror(-r));
        else
            g_debug("heap trim: %zu KiB were free", mi.fordblks / 1024);
    }
    if (++m->heap_quiet < HEAP_TRIM_QUIET)
        return G_SOURCE_CONTINUE;
    m->heap_source = 0;
    return G_SOURCE_REMOVE;
}

void memctl_manager_settle_heap(MemctlManager *m)
{
    if (!m->heap_trim)
        return;
    m->heap_quiet = 0;
    if (!m->heap_source)
        m->heap_source = g_timeout_add_seconds(1, on_settle_heap, m);
}

void memctl_manager_free(MemctlManager *m)
{
    if (!m)
        return;
    if (m->heap_source)
        g_source_remove(m->heap_source);
    g_hash_table_destroy(m->manual);
    memctl_hooks_free(m->hooks);
    memctl_history_free(m->history);
    memctl_metrics_free(m->metrics);
    g_free(m->metrics_url);
    if (m->kill_log)
        fclose(m->kill_log);
    g_free(m->mount);
    g_free(m->root);
    g_free(m->proc);
    g_free(m);
}

static void write_kill_log(MemctlManager *m, const MemctlCoreEvent *e, const MemctlKillEntry *k)
{
    if (!m->kill_log)
        return;
    _cleanup_json_ json_object *o = memctl_record_to_json(e);
    if (k) {
        json_object_object_add(o, "seq", json_object_new_uint64(k->seq));
        if (k->message)
            json_object_object_add(o, "message", json_object_new_string(k->message));
    }
    fprintf(m->kill_log, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    fflush(m->kill_log);
}

/* The caller's reason for the record of a manual kill it waits for (to free), or NULL. */
static char *manual_message(MemctlManager *m, const MemctlCoreEvent *e)
{
    ManualKill *k = g_hash_table_lookup(m->manual, GINT_TO_POINTER(e->slot));
    if (!k || e->type != MEMCTL_EVENT_KILL || strcmp(e->reason, "manual") != 0)
        return NULL;
    return g_strdup(k->reason);
}

/* Answers the KillGroup calls whose request the core finished. Their records were pushed before the
 * outcome was published: drain_events() has taken them, or takes them when called again. */
static bool manual_collect_done(MemctlManager *m, GPtrArray *done)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, m->manual);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        ManualKill *k = v;
        int result;
        if (memctl_core_kill_result(m->core, k->slot, k->req, &result) == 1)
            g_ptr_array_add(done, k);
    }
    return done->len > 0;
}

static void manual_finish(MemctlManager *m, GPtrArray *done)
{
    for (guint i = 0; i < done->len; i++) {
        ManualKill *k = done->pdata[i];
        int result = 0;
        (void)memctl_core_kill_result(m->core, k->slot, k->req, &result);
        MemctlGroup *grp = memctl_groups_by_slot(m->groups, k->slot);
        manual_reply(k, result, grp ? grp->name : "?");
        g_hash_table_remove(m->manual, GINT_TO_POINTER(k->slot));
    }
}

static void drain_events(MemctlManager *m);

void memctl_manager_drain(MemctlManager *m)
{
    memctl_core_ack_events(m->core);
    drain_events(m);
    g_autoptr(GPtrArray) done = g_ptr_array_new();
    if (manual_collect_done(m, done)) {
        drain_events(m); /* their records, if they came after the first pass */
        manual_finish(m, done);
    }
}

/* A dry run's record, or its outcome: history, log, kill log, metrics, listener; no kill counted. */
static void drain_dry_run(MemctlManager *m, const MemctlCoreEvent *e, const char *line)
{
    g_message("%s", line);
    memctl_metrics_record(m->metrics, e);
    if (e->type == MEMCTL_EVENT_KILL) {
        const MemctlKillEntry *k = memctl_history_add(m->history, e, NULL);
        write_kill_log(m, e, k);
        if (m->listener.would_kill)
            m->listener.would_kill(k, m->listener_data);
        return;
    }
    const MemctlKillEntry *k = memctl_history_settle(m->history, e);
    write_kill_log(m, e, k); /* "seq" names the record it settles */
    if (k && m->listener.would_kill)
        m->listener.would_kill(k, m->listener_data);
}

/* A kill verdict waits for the group's pre-kill hooks: the bus says so, the policy's executable runs. */
static void drain_prekill(MemctlManager *m, const MemctlCoreEvent *e, MemctlGroup *grp, const char *line)
{
    g_message("%s", line);
    write_kill_log(m, e, NULL);
    const MemctlGroupPolicy *gp =
            m->config ? memctl_policy_group(memctl_config_policy(m->config), e->group) : NULL;
    g_autoptr(GError) err = NULL;
    if (memctl_hooks_begin(m->hooks, e, gp ? gp->prekill_exec : NULL, grp ? grp->path : "", &err) < 0)
        g_warning("%s: %s (the wait goes on to its deadline)", e->group, err->message);
    if (m->listener.prekill)
        m->listener.prekill(e, m->listener_data);
}

static void drain_events(MemctlManager *m)
{
    MemctlCoreEvent e;
    while (memctl_core_next_event(m->core, &e)) {
        if (e.type == MEMCTL_EVENT_GROUP_RELEASED)
            continue;
        MemctlGroup *grp = memctl_groups_by_slot(m->groups, e.slot);
        g_autofree char *line = memctl_record_describe(&e);
        if (e.type == MEMCTL_EVENT_PRESSURE) {
            if (e.host)
                g_message("%s", line); /* once per episode: the guard armed, and disarmed */
            else
                g_debug("%s", line);
            if (m->boost && e.host)
                (strcmp(e.reason, "calm") == 0 ? memctl_boost_host_calm : memctl_boost_host_armed)(m->boost);
            else if (m->boost && strcmp(e.reason, "high") == 0)
                memctl_boost_group_high(m->boost, e.group);
            if (m->listener.pressure)
                m->listener.pressure(e.group, e.reason, m->listener_data);
            continue;
        }
        if (e.type == MEMCTL_EVENT_PREKILL) {
            drain_prekill(m, &e, grp, line);
            continue;
        }
        if (e.type == MEMCTL_EVENT_KILL)
            memctl_hooks_end(m->hooks, e.slot); /* its wait is over: a hook still running goes */
        if (e.type == MEMCTL_EVENT_OUTCOME || (e.type == MEMCTL_EVENT_KILL && e.dry_run)) {
            drain_dry_run(m, &e, line);
            continue;
        }
        g_autofree char *message = manual_message(m, &e);
        if (e.type == MEMCTL_EVENT_ERROR) {
            g_warning("%s", line);
            write_kill_log(m, &e, NULL);
            continue;
        }
        if (e.type == MEMCTL_EVENT_KILL) {
            m->totals.memctld++;
            if (grp)
                grp->kills++;
            if (message)
                g_message("%s (requested: %s)", line, message[0] ? message : "no reason given");
            else
                g_message("%s", line);
        } else if (e.type == MEMCTL_EVENT_KERNEL_OOM) {
            m->totals.kernel += e.npids;
            if (grp)
                grp->kernel_oom_kills += e.npids;
            g_warning("%s", line);
        }
        if (m->config) /* the counters are kept in the state file */
            memctl_config_counted(m->config);
        memctl_metrics_record(m->metrics, &e);
        const MemctlKillEntry *k = memctl_history_add(m->history, &e, message);
        write_kill_log(m, &e, k);
        if (m->listener.killed)
            m->listener.killed(k, grp, m->listener_data);
    }
}

int memctl_manager_kill(MemctlManager *m, const char *name, const char *reason, gboolean whole_group,
                        GDBusMethodInvocation *invocation, GError **error)
{
    MemctlGroup *grp = memctl_groups_lookup(m->groups, name);
    if (!grp)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name);
    if (strlen(reason) > 200 || !g_utf8_validate(reason, -1, NULL))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "reason: at most 200 bytes of text");
    for (const char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                    "reason: control characters are not allowed");
    if (g_hash_table_contains(m->manual, GINT_TO_POINTER(grp->slot)))
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY, "%s: a requested kill is in progress",
                                name);
    if (!memctl_cgroup_is_populated(grp->path))
        return memctl_error_set(error, -ESRCH, MEMCTL_ERROR_FAILED, "%s: the group has no processes", name);
    if (++m->next_kill_req == 0)
        m->next_kill_req = 1;
    int r = memctl_core_kill_group(m->core, grp->slot, whole_group, m->next_kill_req);
    if (r < 0)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "%s: the core refused the kill: %s", name,
                                g_strerror(-r));
    ManualKill *k = g_new0(ManualKill, 1);
    k->m = m;
    k->slot = grp->slot;
    k->req = m->next_kill_req;
    k->reason = g_strdup(reason);
    k->invocation = invocation;
    k->timeout = g_timeout_add_seconds(MANUAL_KILL_TIMEOUT_SECONDS, on_manual_timeout, k);
    g_hash_table_insert(m->manual, GINT_TO_POINTER(grp->slot), k);
    return 0;
}

static void add(GVariantBuilder *b, const char *k, GVariant *v)
{
    g_variant_builder_add(b, "{sv}", k, v);
}

/* The reserve's figures; false when there is no reserve. */
static bool reserve_figures(MemctlManager *m, MemctlReserveFigures *ret)
{
    if (!m->reserve || !m->critical)
        return false;
    *ret = (MemctlReserveFigures){
            .total = memctl_reserve_total(m->reserve),
            .registered = memctl_critical_registered_bytes(m->critical),
            .leased = memctl_critical_leased_bytes(m->critical),
            .free = memctl_reserve_free_bytes(m->reserve),
            .resident = memctl_critical_resident_bytes(m->critical),
            .lent = m->boost ? memctl_boost_lent_bytes(m->boost) : 0,
    };
    return true;
}

GString *memctl_manager_metrics(MemctlManager *m, MemctlExpoFormat format)
{
    gint64 t0 = g_get_monotonic_time();
    MemctlMetricsSnapshot snap = {
            .groups = m->groups,
            .proc = m->proc,
            .uptime_usec = (uint64_t)(t0 - m->started_usec),
            .core_alive = m->core_alive,
            .dry_run = memctl_core_dry_run(m->core),
            .events_dropped = memctl_core_events_dropped(m->core),
    };
    snap.has_reserve = reserve_figures(m, &snap.reserve);
    if (m->reclaimer) {
        MemctlReclaimerStats rs;
        memctl_reclaimer_stats(m->reclaimer, &rs);
        snap.reclaim_steps = rs.steps;
        snap.reclaim_usec = rs.busy_usec;
    }
    GString *text = memctl_metrics_render(m->metrics, &snap, format);
    memctl_metrics_count_scrape(m->metrics, (uint64_t)(g_get_monotonic_time() - t0));
    memctl_manager_settle_heap(m); /* the text and the samples are freed once it is sent */
    return text;
}

GVariant *memctl_manager_status(MemctlManager *m)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    add(&b, "version", g_variant_new_string(MEMCTL_VERSION));
    add(&b, "root", g_variant_new_string(m->root));
    add(&b, "groups", g_variant_new_uint32(memctl_groups_count(m->groups)));
    add(&b, "kills", g_variant_new_uint64(m->totals.memctld));
    add(&b, "kernel_oom_kills", g_variant_new_uint64(m->totals.kernel));
    add(&b, "events_dropped", g_variant_new_uint64(memctl_core_events_dropped(m->core)));
    add(&b, "uptime_usec", g_variant_new_uint64((uint64_t)(g_get_monotonic_time() - m->started_usec)));
    MemctlHostMemory mem = {0};
    (void)memctl_host_memory_read(m->proc, &mem);
    add(&b, "memory_total", g_variant_new_uint64(mem.total));
    add(&b, "memory_available", g_variant_new_uint64(mem.available));
    add(&b, "swap_total", g_variant_new_uint64(mem.swap_total));
    add(&b, "swap_free", g_variant_new_uint64(mem.swap_free));
    uint32_t some = 0, full = 0;
    g_autofree char *psi = g_build_filename(m->proc, "pressure", "memory", NULL);
    (void)memctl_sample_pressure_file(psi, &some, &full);
    add(&b, "pressure_some", g_variant_new_double(some / 100.0));
    add(&b, "pressure_full", g_variant_new_double(full / 100.0));
    add(&b, "core_alive", g_variant_new_boolean(m->core_alive));
    add(&b, "dry_run", g_variant_new_boolean(memctl_core_dry_run(m->core)));
    add(&b, "metrics_url", g_variant_new_string(m->metrics_url ? m->metrics_url : ""));
    MemctlReserveFigures res;
    if (reserve_figures(m, &res)) {
        add(&b, "reserve_total", g_variant_new_uint64(res.total));
        add(&b, "reserve_registered", g_variant_new_uint64(res.registered));
        add(&b, "reserve_leased", g_variant_new_uint64(res.leased));
        add(&b, "reserve_free", g_variant_new_uint64(res.free));
        add(&b, "reserve_resident", g_variant_new_uint64(res.resident));
        add(&b, "reserve_lent", g_variant_new_uint64(res.lent));
        add(&b, "critical_clients", g_variant_new_uint32(memctl_critical_list(m->critical)->len));
    }
    return g_variant_builder_end(&b);
}

int memctl_manager_reload(MemctlManager *m, GPtrArray *ret_changes, GError **error)
{
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) scan_err = NULL;
    int r = memctl_groups_rescan(m->groups, added, removed, skipped, &scan_err);
    for (guint i = 0; i < added->len; i++)
        g_ptr_array_add(ret_changes, g_strdup_printf("adopted %s", (char *)added->pdata[i]));
    for (guint i = 0; i < removed->len; i++)
        g_ptr_array_add(ret_changes, g_strdup_printf("gone %s", (char *)removed->pdata[i]));
    for (guint i = 0; i < skipped->len; i++)
        g_ptr_array_add(ret_changes, g_strdup_printf("not adopted: %s", (char *)skipped->pdata[i]));
    if (r < 0)
        g_propagate_error(error, g_steal_pointer(&scan_err));
    else if (m->config)
        r = memctl_config_reload(m->config, ret_changes, error);
    if (m->listener.rescanned)
        m->listener.rescanned(removed, m->listener_data);
    if (r < 0) {
        g_warning("reload failed, the running policy stays: %s", (*error)->message);
        return r;
    }
    g_message("reload: %u change(s)", ret_changes->len);
    for (guint i = 0; i < ret_changes->len; i++)
        g_message("reload: %s", (char *)ret_changes->pdata[i]);
    return 0;
}
