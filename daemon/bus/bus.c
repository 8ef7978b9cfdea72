/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.memctl.Manager1: the manager object, method dispatch and authorization, signals. */
#include "daemon/bus/bus.h"
#include "daemon/hook.h"

#include <errno.h>
#include <string.h>

#include "daemon/bus/internal.h"
#include "daemon/group/cgroup.h"
#include "daemon/reserve/critical.h"
#include "daemon/error.h"
#include "daemon/memctl-dbus.h"
#include "daemon/record.h"
#include "daemon/bus/settings.h"
#include "include/memctl/memctl.h"
#include "policy/name.h"
#include "basic/size.h"

typedef void (*Handler)(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);

/* Every name argument is checked the same way, before any lookup. */
static MemctlGroup *lookup(MemctlBus *b, GDBusMethodInvocation *inv, const char *name)
{
    int r = memctl_group_name_check(name);
    if (r < 0) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "name: '%s' is not a group name (%s)", name,
                                              memctl_group_name_problem(r));
        return NULL;
    }
    MemctlGroup *grp = memctl_groups_lookup(b->m->groups, name); /* the cgroup as it is now */
    if (!grp)
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'",
                                              name);
    return grp;
}

static void reply_path(GDBusMethodInvocation *inv, const char *name)
{
    g_autofree char *path = memctl_bus_group_path(name);
    g_dbus_method_invocation_return_value(inv, g_variant_new("(o)", path));
}

static void m_create_group(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name;
    g_autoptr(GVariant) dict = NULL;
    g_variant_get(params, "(&s@a{sv})", &name, &dict);
    MemctlLimits l;
    g_autofree char *slice = NULL;
    g_autoptr(GError) err = NULL;
    if (memctl_settings_from_variant(dict, &l, &slice, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    MemctlGroup *grp = memctl_groups_create(b->m->groups, name, l.set ? &l : NULL, &err);
    if (!grp) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    if (slice)
        (void)memctl_groups_set_slice(b->m->groups, name, slice);
    g_message("group %s: created or updated by %s", name, g_dbus_method_invocation_get_sender(inv));
    memctl_bus_group_export(b, grp);
    reply_path(inv, name);
}

static void reply_removed(GDBusMethodInvocation *inv, const MemctlGroupFinal *fin, uint64_t kills)
{
    GVariantBuilder f;
    g_variant_builder_init(&f, G_VARIANT_TYPE("a{st}"));
    if (fin->peak)
        g_variant_builder_add(&f, "{st}", "peak", fin->peak);
    g_variant_builder_add(&f, "{st}", "oom", fin->oom);
    g_variant_builder_add(&f, "{st}", "oom_kill", fin->oom_kill);
    g_variant_builder_add(&f, "{st}", "high", fin->high);
    g_variant_builder_add(&f, "{st}", "max", fin->max);
    g_variant_builder_add(&f, "{st}", "kills", kills);
    g_dbus_method_invocation_return_value(inv, g_variant_new("(a{st})", &f));
}

static void removed(MemctlBus *b, GDBusMethodInvocation *inv, const char *name, const MemctlGroupFinal *fin,
                    uint64_t kills)
{
    g_message("group %s: removed (peak %" G_GUINT64_FORMAT ", oom_kill %" G_GUINT64_FORMAT ")", name,
              fin->peak, fin->oom_kill);
    memctl_bus_group_unexport(b, name);
    reply_removed(inv, fin, kills);
}

typedef struct {
    MemctlBus *b;
    GDBusMethodInvocation *inv;
    char *name;
    uint64_t kills;
} Removing;

static void on_removed_killing(int r, const MemctlGroupFinal *fin, const GError *error, void *data)
{
    Removing *rm = data;
    if (r < 0)
        g_dbus_method_invocation_return_gerror(rm->inv, error);
    else
        removed(rm->b, rm->inv, rm->name, fin, rm->kills);
    g_object_unref(rm->inv);
    g_free(rm->name);
    g_free(rm);
}

static void m_remove_group(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name;
    guint64 flags;
    g_variant_get(params, "(&st)", &name, &flags);
    MemctlGroup *grp = lookup(b, inv, name);
    if (!grp)
        return;
    if (flags & ~(guint64)MEMCTL_REMOVE_KILL) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "flags: unknown bits 0x%" G_GINT64_MODIFIER "x",
                                              flags & ~(guint64)MEMCTL_REMOVE_KILL);
        return;
    }
    if (b->m->critical && memctl_critical_group_is_critical(b->m->critical, name)) {
        g_dbus_method_invocation_return_error(
                inv, MEMCTL_ERROR, MEMCTL_ERROR_BUSY,
                "group '%s' is a registered critical client: unregister it first", name);
        return;
    }
    g_autoptr(GError) err = NULL;
    if ((flags & MEMCTL_REMOVE_KILL) && memctl_cgroup_is_populated(grp->path)) {
        int32_t pid = b->m->critical ? memctl_critical_pid_within(b->m->critical, grp) : 0;
        if (pid) {
            g_dbus_method_invocation_return_error(
                    inv, MEMCTL_ERROR, MEMCTL_ERROR_BUSY,
                    "%s: pid %d in it is a registered critical client: unregister it first", name, (int)pid);
            return;
        }
        Removing *rm = g_new0(Removing, 1);
        rm->b = b;
        rm->inv = g_object_ref(inv);
        rm->name = g_strdup(name);
        rm->kills = grp->kills;
        if (memctl_groups_remove_killing(b->m->groups, name, on_removed_killing, rm, &err) < 0) {
            g_dbus_method_invocation_return_gerror(inv, err);
            g_object_unref(rm->inv);
            g_free(rm->name);
            g_free(rm);
        }
        return; /* answered by on_removed_killing, once the group is empty */
    }
    uint64_t kills = grp->kills;
    g_autofree char *gname = g_strdup(name);
    MemctlGroupFinal fin;
    if (memctl_groups_remove(b->m->groups, gname, &fin, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    removed(b, inv, gname, &fin, kills);
}

static void m_set_limits(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name;
    g_autoptr(GVariant) dict = NULL;
    g_variant_get(params, "(&s@a{sv})", &name, &dict);
    MemctlGroup *grp = lookup(b, inv, name);
    if (!grp)
        return;
    if (g_variant_n_children(dict) == 0) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "limits: give at least one key");
        return;
    }
    MemctlLimits l;
    g_autofree char *slice = NULL;
    g_autoptr(GError) err = NULL;
    if (memctl_settings_from_variant(dict, &l, &slice, &err) < 0 ||
        memctl_groups_set_limits(b->m->groups, name, &l, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    if (slice)
        (void)memctl_groups_set_slice(b->m->groups, name, slice);
    memctl_bus_group_counters_changed(b, grp);
    g_dbus_method_invocation_return_value(inv, NULL);
}

static void m_attach(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name;
    g_autoptr(GVariant) pids = NULL;
    g_variant_get(params, "(&s@au)", &name, &pids);
    if (!lookup(b, inv, name))
        return;
    gsize n = 0;
    const guint32 *p = g_variant_get_fixed_array(pids, &n, sizeof(guint32));
    g_autoptr(GError) err = NULL;
    if (memctl_groups_attach(b->m->groups, name, p, n, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    g_dbus_method_invocation_return_value(inv, NULL);
}

static void m_get_group(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name;
    g_variant_get(params, "(&s)", &name);
    if (lookup(b, inv, name))
        reply_path(inv, name);
}

static void m_list_groups(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    GVariantBuilder a;
    g_variant_builder_init(&a, G_VARIANT_TYPE("a(sostttttd)"));
    g_autoptr(GList) all = memctl_groups_list(b->m->groups);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        uint64_t cur = 0;
        (void)memctl_groups_read_u64(b->m->groups, grp, MEMCTL_GROUP_FILE_CURRENT, &cur);
        uint32_t some = 0, full = 0;
        (void)memctl_groups_read_pressure(b->m->groups, grp, &some, &full);
        const MemctlFileValues *v = &grp->applied;
        g_autofree char *path = memctl_bus_group_path(grp->name);
        g_variant_builder_add(&a, "(sostttttd)", grp->name, path, grp->path, cur,
                              memctl_file_values_get(v, MEMCTL_FILE_MIN, 0),
                              memctl_file_values_get(v, MEMCTL_FILE_HIGH, MEMCTL_SIZE_MAX),
                              memctl_file_values_get(v, MEMCTL_FILE_MAX, MEMCTL_SIZE_MAX), grp->kills,
                              full / 100.0);
    }
    g_dbus_method_invocation_return_value(inv, g_variant_new("(a(sostttttd))", &a));
}

static void m_list_working_sets(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    GVariantBuilder a;
    g_variant_builder_init(&a, G_VARIANT_TYPE("a(stbtt)"));
    g_autoptr(GList) all = memctl_groups_list(b->m->groups);
    for (GList *l = all; l; l = l->next) {
        const MemctlGroup *grp = l->data;
        const MemctlProactive *p = grp->proactive;
        if (p)
            g_variant_builder_add(&a, "(stbtt)", grp->name, p->workingset, p->known,
                                  memctl_proactive_suggest(p), p->reclaimed);
    }
    g_dbus_method_invocation_return_value(inv, g_variant_new("(a(stbtt))", &a));
}

static void m_kill_group(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name, *reason;
    guint64 flags;
    g_variant_get(params, "(&s&st)", &name, &reason, &flags);
    if (!lookup(b, inv, name))
        return;
    if (flags > 1) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "flags: unknown bits 0x%" G_GINT64_MODIFIER "x",
                                              (guint64)(flags & ~(guint64)1));
        return;
    }
    g_autoptr(GError) err = NULL;
    /* The invocation completes when the core reports the kill (memctl_manager_drain). */
    if (memctl_manager_kill(b->m, name, reason, flags == 0, inv, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
}

static void m_prekill_done(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *name;
    g_variant_get(params, "(&s)", &name);
    MemctlGroup *grp = lookup(b, inv, name);
    if (!grp)
        return;
    if (memctl_hooks_done(b->m->hooks, grp->slot) < 0) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "%s: no kill is waiting for pre-kill hooks", name);
        return;
    }
    g_dbus_method_invocation_return_value(inv, NULL);
}

static GVariant *kill_dict(const MemctlKillEntry *k)
{
    const MemctlCoreEvent *e = &k->e;
    GVariantBuilder d;
    g_variant_builder_init(&d, G_VARIANT_TYPE("a{sv}"));
    gboolean kernel = e->type == MEMCTL_EVENT_KERNEL_OOM;
#define ADD(key, v) g_variant_builder_add(&d, "{sv}", key, v)
    ADD("seq", g_variant_new_uint64(k->seq));
    ADD("time_usec", g_variant_new_uint64(e->t_event_usec));
    ADD("group", g_variant_new_string(e->group));
    ADD("pid", g_variant_new_uint32(kernel ? 0 : (guint32)e->pid));
    char comm[MEMCTL_STR_ESCAPED_COMM_MAX];
    ADD("comm", g_variant_new_string(kernel ? "" : memctl_record_comm(e, comm)));
    ADD("reason", g_variant_new_string(e->reason));
    ADD("by", g_variant_new_string(kernel ? "kernel" : "memctld"));
    ADD("group_kill", g_variant_new_boolean(e->group_kill));
    ADD("livelock", g_variant_new_boolean(e->livelock));
    ADD("processes", g_variant_new_uint32(e->npids));
    ADD("bytes_freed", g_variant_new_uint64(e->bytes_freed));
    ADD("latency_usec", g_variant_new_uint64(e->event_to_signal_usec));
    ADD("freed_usec", g_variant_new_uint64(e->signal_to_freed_usec));
    ADD("reap_usec", g_variant_new_uint64(e->reap_usec));
    ADD("prekill_usec", g_variant_new_uint64(e->prekill_usec));
    ADD("current", g_variant_new_uint64(e->current));
    ADD("high", g_variant_new_uint64(e->high));
    ADD("max", g_variant_new_uint64(e->max));
    if (k->message)
        ADD("message", g_variant_new_string(k->message));
    ADD("dry_run", g_variant_new_boolean(e->dry_run));
    if (e->dry_run) {
        ADD("outcome", g_variant_new_string(e->outcome));
        ADD("host", g_variant_new_boolean(e->host));
    }
#undef ADD
    return g_variant_builder_end(&d);
}

static void m_list_kills(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    guint64 since;
    g_variant_get(params, "(t)", &since);
    g_autoptr(GPtrArray) ks = memctl_history_since(b->m->history, since);
    GVariantBuilder a;
    g_variant_builder_init(&a, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < ks->len; i++)
        g_variant_builder_add_value(&a, kill_dict(ks->pdata[i]));
    g_dbus_method_invocation_return_value(
            inv, g_variant_new("(aa{sv}t)", &a, memctl_history_last_seq(b->m->history)));
}

static void m_get_status(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    g_dbus_method_invocation_return_value(inv, g_variant_new("(@a{sv})", memctl_manager_status(b->m)));
}

static void m_get_metrics(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *format;
    g_variant_get(params, "(&s)", &format);
    MemctlExpoFormat f;
    if (!memctl_expo_format_from_string(format, &f)) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "format: '%s' is not \"prometheus\", \"openmetrics\" or \"\"",
                                              g_utf8_validate(format, -1, NULL) ? format : "(not UTF-8)");
        return;
    }
    g_autoptr(GString) text = memctl_manager_metrics(b->m, f);
    g_dbus_method_invocation_return_value(inv, g_variant_new("(ss)", text->str, memctl_expo_content_type(f)));
}

static void m_reload(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    if (memctl_manager_reload(b->m, changes, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    g_ptr_array_add(changes, NULL);
    g_dbus_method_invocation_return_value(inv, g_variant_new("(^as)", (char **)changes->pdata));
}

static const struct {
    const char *method;
    const char *action; /* polkit action suffix for mutating methods; NULL: open to all */
    Handler fn;
    gboolean admin_only; /* root or the admin group, never polkit */
} methods[] = {
        {"CreateGroup", "create-group", m_create_group, FALSE},
        {"RemoveGroup", "remove-group", m_remove_group, FALSE},
        {"SetLimits", "set-limits", m_set_limits, FALSE},
        {"AttachProcesses", "attach-processes", m_attach, FALSE},
        {"GetGroup", NULL, m_get_group, FALSE},
        {"ListGroups", NULL, m_list_groups, FALSE},
        {"ListWorkingSets", NULL, m_list_working_sets, FALSE},
        {"KillGroup", "kill-group", m_kill_group, FALSE},
        {"PreKillDone", "kill-group", m_prekill_done, FALSE}, /* brings a kill forward */
        {"ListKills", NULL, m_list_kills, FALSE},
        {"GetStatus", NULL, m_get_status, FALSE},
        {"GetMetrics", NULL, m_get_metrics, FALSE},
        {"ReloadPolicy", "reload-policy", m_reload, FALSE},
        {"RegisterCritical", "register-critical", memctl_bus_m_register_critical, TRUE},
        /* only what daemon.critical_claims allows: as open as CreateGroup (bus-reserve.c checks) */
        {"ClaimCritical", "create-group", memctl_bus_m_claim_critical, FALSE},
        {"UnregisterCritical", "register-critical", memctl_bus_m_unregister_critical, TRUE},
        {"ListCritical", NULL, memctl_bus_m_list_critical, FALSE},
        /* Open to every caller: only a registered critical client gets a lease, and only its holder
         * may release one (bus-reserve.c checks). */
        {"AcquireReserve", NULL, memctl_bus_m_acquire_reserve, FALSE},
        {"ReleaseReserve", NULL, memctl_bus_m_release_reserve, FALSE},
};

typedef struct {
    MemctlBus *b;
    GDBusMethodInvocation *inv;
    Handler fn;
} Pending;

static void on_authorized(GObject *src, GAsyncResult *res, gpointer user_data)
{
    Pending *p = user_data;
    g_autoptr(GError) err = NULL;
    if (memctl_auth_check_finish(res, &err))
        p->fn(p->b, p->inv, g_dbus_method_invocation_get_parameters(p->inv));
    else {
        g_message("refused %s from %s: %s", g_dbus_method_invocation_get_method_name(p->inv),
                  g_dbus_method_invocation_get_sender(p->inv), err->message);
        g_dbus_method_invocation_return_gerror(p->inv, err);
    }
    g_object_unref(p->inv);
    g_free(p);
}

static void method_call(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                        const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer user_data)
{
    MemctlBus *b = user_data;
    memctl_manager_settle_heap(b->m); /* a reply over 10,000 groups is megabytes, freed once sent */
    for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
        if (strcmp(method, methods[i].method) != 0)
            continue;
        if (!methods[i].action) {
            methods[i].fn(b, inv, params);
            return;
        }
        Pending *p = g_new0(Pending, 1);
        p->b = b;
        p->inv = g_object_ref(inv);
        p->fn = methods[i].fn;
        MemctlAuthConfig auth = b->auth;
        if (methods[i].admin_only)
            auth.polkit = FALSE;
        memctl_auth_check_async(&auth, inv, methods[i].action, on_authorized, p);
        return;
    }
    g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD, "no method %s",
                                          method);
}

static GVariant *get_property(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                              const char *prop, GError **error, gpointer user_data)
{
    MemctlBus *b = user_data;
    if (strcmp(prop, "Version") == 0)
        return g_variant_new_string(MEMCTL_VERSION);
    if (strcmp(prop, "ManagedRoot") == 0)
        return g_variant_new_string(b->m->root);
    g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", prop);
    return NULL;
}

static const GDBusInterfaceVTable manager_vtable = {.method_call = method_call, .get_property = get_property};

void memctl_bus_emit_killed(MemctlBus *b, const MemctlKillEntry *k)
{
    gboolean kernel = k->e.type == MEMCTL_EVENT_KERNEL_OOM;
    char comm[MEMCTL_STR_ESCAPED_COMM_MAX];
    g_dbus_connection_emit_signal(b->conn, NULL, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE, "Killed",
                                  g_variant_new("(susstt)", k->e.group, kernel ? 0u : (guint32)k->e.pid,
                                                kernel ? "" : memctl_record_comm(&k->e, comm), k->e.reason,
                                                k->e.bytes_freed, k->e.event_to_signal_usec),
                                  NULL);
}

void memctl_bus_emit_would_kill(MemctlBus *b, const MemctlKillEntry *k)
{
    char comm[MEMCTL_STR_ESCAPED_COMM_MAX];
    g_dbus_connection_emit_signal(b->conn, NULL, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE, "WouldKill",
                                  g_variant_new("(sussts)", k->e.group, (guint32)k->e.pid,
                                                memctl_record_comm(&k->e, comm), k->e.reason, k->seq,
                                                k->e.outcome),
                                  NULL);
}

void memctl_bus_emit_prekill(MemctlBus *b, const MemctlCoreEvent *e)
{
    char comm[MEMCTL_STR_ESCAPED_COMM_MAX];
    g_dbus_connection_emit_signal(b->conn, NULL, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE, "PreKill",
                                  g_variant_new("(susst)", e->group, (guint32)e->pid,
                                                memctl_record_comm(e, comm), e->reason,
                                                e->t_event_usec + e->prekill_usec),
                                  NULL);
}

void memctl_bus_emit_pressure(MemctlBus *b, const char *group, const char *level)
{
    g_dbus_connection_emit_signal(b->conn, NULL, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE,
                                  "PressureAlert", g_variant_new("(ss)", group, level), NULL);
}

/* The manager's listener: what it drains and reloads, on the bus. */
static void on_pressure(const char *group, const char *level, void *data)
{
    memctl_bus_emit_pressure(data, group, level);
}

static void on_killed(const MemctlKillEntry *k, const MemctlGroup *grp, void *data)
{
    memctl_bus_emit_killed(data, k);
    if (grp)
        memctl_bus_group_counters_changed(data, grp);
}

static void on_rescanned(GPtrArray *removed, void *data)
{
    MemctlBus *b = data;
    for (guint i = 0; i < removed->len; i++)
        memctl_bus_group_unexport(b, removed->pdata[i]);
    g_autoptr(GList) all = memctl_groups_list(b->m->groups);
    for (GList *l = all; l; l = l->next)
        memctl_bus_group_export(b, l->data); /* new ones exported, known ones announce changes */
}

static void on_would_kill(const MemctlKillEntry *k, void *data)
{
    memctl_bus_emit_would_kill(data, k);
}

static void on_prekill(const MemctlCoreEvent *e, void *data)
{
    memctl_bus_emit_prekill(data, e);
}

static const MemctlManagerListener manager_listener = {.pressure = on_pressure,
                                                       .killed = on_killed,
                                                       .would_kill = on_would_kill,
                                                       .prekill = on_prekill,
                                                       .rescanned = on_rescanned};

static void on_closed(GDBusConnection *conn, gboolean remote, GError *err, gpointer user_data)
{
    g_warning("lost the bus connection (%s): the API is gone, the core keeps killing; restart memctld",
              err ? err->message : "closed");
}

static int take_name(MemctlBus *b, GError **error)
{
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(
            b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
            g_variant_new("(su)", MEMCTL_BUS_NAME, 4u /* DO_NOT_QUEUE */), G_VARIANT_TYPE("(u)"),
            G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
    if (!r)
        return -EACCES;
    guint32 code;
    g_variant_get(r, "(u)", &code);
    if (code != 1 /* PRIMARY_OWNER */ && code != 4 /* ALREADY_OWNER */)
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY, "another process owns %s", MEMCTL_BUS_NAME);
    return 0;
}

int memctl_bus_new(MemctlManager *m, const char *address, const MemctlAuthConfig *auth, MemctlBus **ret,
                   GError **error)
{
    g_autoptr(MemctlBus) b = g_new0(MemctlBus, 1);
    b->m = m;
    b->auth = *auth;
    memctl_bus_group_init(b);
    if (address)
        b->conn =
                g_dbus_connection_new_for_address_sync(address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                               G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, error);
    else
        b->conn = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
    if (!b->conn)
        return -ECONNREFUSED;
    g_dbus_connection_set_exit_on_close(b->conn, FALSE);
    b->closed_id = g_signal_connect(b->conn, "closed", G_CALLBACK(on_closed), b);
    b->manager_id = g_dbus_connection_register_object(b->conn, MEMCTL_MANAGER_PATH,
                                                      (GDBusInterfaceInfo *)&memctl_dbus_manager1_interface,
                                                      &manager_vtable, b, NULL, error);
    if (!b->manager_id)
        return -EEXIST;
    int r = memctl_bus_group_register(b, error);
    if (r < 0)
        return r;
    g_autoptr(GList) all = memctl_groups_list(m->groups);
    for (GList *l = all; l; l = l->next)
        memctl_bus_group_export(b, l->data);
    r = take_name(b, error);
    if (r < 0)
        return r;
    memctl_manager_set_listener(m, &manager_listener, b);
    *ret = g_steal_pointer(&b);
    return 0;
}

void memctl_bus_free(MemctlBus *b)
{
    if (!b)
        return;
    if (b->m->listener_data == b)
        memctl_manager_set_listener(b->m, NULL, NULL);
    if (b->conn) {
        memctl_bus_group_fini(b);
        if (b->manager_id)
            g_dbus_connection_unregister_object(b->conn, b->manager_id);
        if (b->closed_id)
            g_signal_handler_disconnect(b->conn, b->closed_id);
        g_dbus_connection_flush_sync(b->conn, NULL, NULL);
        g_object_unref(b->conn);
    } else {
        g_hash_table_destroy(b->objects);
    }
    g_free(b);
}
