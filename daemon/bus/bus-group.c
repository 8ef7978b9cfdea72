/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.memctl.Group1: an object per managed group, properties read when asked. The objects are one
 * GDBus subtree below MEMCTL_GROUP_PATH_PREFIX, dispatched by name: registering each as an object of
 * its own cost GDBus about 600 bytes a group in tables of its own (6 MiB at 10,000 groups, and the
 * time to build them at start-up). What is kept per group is what its last PropertiesChanged said.
 */
#include <errno.h>
#include <string.h>

#include "daemon/bus/internal.h"
#include "daemon/reserve/critical.h"
#include "daemon/memctl-dbus.h"
#include "include/memctl/memctl.h"
#include "policy/name.h"
#include "basic/size.h"

typedef struct {
    MemctlBus *b;
    char *name;
    /* what the last PropertiesChanged (or the export) announced */
    MemctlFileValues applied;
    uint32_t priority;
    uint64_t kills, kernel_oom_kills;
    gboolean critical;
    char *slice;
} GroupObject;

static void object_free(GroupObject *o)
{
    g_free(o->slice);
    g_free(o->name);
    g_free(o);
}

char *memctl_bus_group_path(const char *name)
{
    size_t size = strlen(name) * 3 + 2;
    g_autofree char *esc = g_malloc(size);
    if (memctl_group_name_escape(name, esc, size) < 0)
        return NULL;
    return g_strconcat(MEMCTL_GROUP_PATH_PREFIX, esc, NULL);
}

static uint32_t priority_of(const MemctlGroup *grp)
{
    return memctl_limits_has(&grp->limits, MEMCTL_KEY_PRIORITY) ? grp->limits.priority
                                                                : MEMCTL_PRIORITY_DEFAULT;
}

static gboolean is_critical(MemctlBus *b, const char *name)
{
    return b->m->critical && memctl_critical_group_is_critical(b->m->critical, name);
}

/* One of the group's counters (memory.current, memory.peak) through the fds the group keeps;
 * "max" when it cannot be read. */
static uint64_t read_u64(MemctlBus *b, MemctlGroup *grp, MemctlGroupFile f)
{
    uint64_t v;
    return memctl_groups_read_u64(b->m->groups, grp, f, &v) == 0 ? v : MEMCTL_SIZE_MAX;
}

static void read_pressure(MemctlBus *b, MemctlGroup *grp, double *ret_some, double *ret_full)
{
    uint32_t some = 0, full = 0;
    (void)memctl_groups_read_pressure(b->m->groups, grp, &some, &full);
    *ret_some = some / 100.0;
    *ret_full = full / 100.0;
}

/* A limit property's value (NULL for the others). */
static GVariant *limit_property(const char *prop, const MemctlFileValues *v, uint32_t priority,
                                uint64_t kills, uint64_t kernel_kills)
{
    static const struct {
        const char *name;
        MemctlFile f;
        uint64_t dflt;
    } sizes[] = {{"MemoryMin", MEMCTL_FILE_MIN, 0},
                 {"MemoryLow", MEMCTL_FILE_LOW, 0},
                 {"MemoryHigh", MEMCTL_FILE_HIGH, MEMCTL_SIZE_MAX},
                 {"MemoryMax", MEMCTL_FILE_MAX, MEMCTL_SIZE_MAX},
                 {"SwapMax", MEMCTL_FILE_SWAP_MAX, MEMCTL_SIZE_MAX}};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
        if (strcmp(prop, sizes[i].name) == 0)
            return g_variant_new_uint64(memctl_file_values_get(v, sizes[i].f, sizes[i].dflt));
    if (strcmp(prop, "OOMGroup") == 0)
        return g_variant_new_boolean(memctl_file_values_get(v, MEMCTL_FILE_OOM_GROUP, 0) != 0);
    if (strcmp(prop, "Priority") == 0)
        return g_variant_new_uint32(priority);
    if (strcmp(prop, "Kills") == 0)
        return g_variant_new_uint64(kills);
    if (strcmp(prop, "KernelOOMKills") == 0)
        return g_variant_new_uint64(kernel_kills);
    return NULL;
}

/* A proactive reclaim property's value (NULL for the others). */
static GVariant *reclaim_property(const char *prop, const MemctlGroup *grp)
{
    const MemctlProactive *p = grp->proactive;
    if (strcmp(prop, "Reclaim") == 0)
        return g_variant_new_string(grp->limits.reclaim_auto ? "auto" : "off");
    if (strcmp(prop, "WorkingSet") == 0)
        return g_variant_new_uint64(p ? p->workingset : 0);
    if (strcmp(prop, "WorkingSetMeasured") == 0)
        return g_variant_new_boolean(p && p->known);
    if (strcmp(prop, "SuggestedLimit") == 0)
        return g_variant_new_uint64(p ? memctl_proactive_suggest(p) : 0);
    if (strcmp(prop, "ReclaimedBytes") == 0)
        return g_variant_new_uint64(p ? p->reclaimed : 0);
    if (strcmp(prop, "ReclaimStallUsec") == 0)
        return g_variant_new_uint64(p ? p->stall_usec : 0);
    return NULL;
}

static GVariant *get_property(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                              const char *prop, GError **error, gpointer user_data)
{
    GroupObject *o = user_data;
    MemctlGroup *grp = memctl_groups_get(o->b->m->groups, o->name);
    if (!grp) {
        g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT, "group '%s' is gone", o->name);
        return NULL;
    }
    GVariant *v = limit_property(prop, &grp->applied, priority_of(grp), grp->kills, grp->kernel_oom_kills);
    if (!v)
        v = reclaim_property(prop, grp);
    if (v)
        return v;
    if (strcmp(prop, "Name") == 0)
        return g_variant_new_string(grp->name);
    if (strcmp(prop, "CgroupPath") == 0)
        return g_variant_new_string(grp->path);
    if (strcmp(prop, "MemoryCurrent") == 0 || strcmp(prop, "MemoryPeak") == 0)
        return g_variant_new_uint64(
                read_u64(o->b, grp, prop[6] == 'C' ? MEMCTL_GROUP_FILE_CURRENT : MEMCTL_GROUP_FILE_PEAK));
    if (strcmp(prop, "PressureSome") == 0 || strcmp(prop, "PressureFull") == 0) {
        double some, full;
        read_pressure(o->b, grp, &some, &full);
        return g_variant_new_double(prop[8] == 'S' ? some : full);
    }
    if (strcmp(prop, "Critical") == 0)
        return g_variant_new_boolean(is_critical(o->b, grp->name));
    if (strcmp(prop, "Slice") == 0)
        return g_variant_new_string(grp->slice ? grp->slice : "");
    g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", prop);
    return NULL;
}

static const GDBusInterfaceVTable group_vtable = {.get_property = get_property};

static void remember(GroupObject *o, const MemctlGroup *grp)
{
    o->applied = grp->applied;
    o->priority = priority_of(grp);
    o->kills = grp->kills;
    o->kernel_oom_kills = grp->kernel_oom_kills;
    o->critical = is_critical(o->b, grp->name);
    g_free(o->slice);
    o->slice = g_strdup(grp->slice);
}

void memctl_bus_group_export(MemctlBus *b, const MemctlGroup *grp)
{
    if (g_hash_table_contains(b->objects, grp->name)) {
        memctl_bus_group_counters_changed(b, grp);
        return;
    }
    GroupObject *o = g_new0(GroupObject, 1);
    o->b = b;
    o->name = g_strdup(grp->name);
    remember(o, grp);
    g_hash_table_insert(b->objects, o->name, o);
}

void memctl_bus_group_unexport(MemctlBus *b, const char *name)
{
    GroupObject *o = g_hash_table_lookup(b->objects, name);
    if (!o)
        return;
    g_autofree char *path = memctl_bus_group_path(o->name);
    g_dbus_connection_emit_signal(b->conn, NULL, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE,
                                  "GroupRemoved", g_variant_new("(so)", o->name, path), NULL);
    g_hash_table_remove(b->objects, name);
}

void memctl_bus_group_counters_changed(MemctlBus *b, const MemctlGroup *grp)
{
    GroupObject *o = g_hash_table_lookup(b->objects, grp->name);
    if (!o)
        return;
    static const char *const props[] = {"MemoryMin", "MemoryLow", "MemoryHigh", "MemoryMax",     "SwapMax",
                                        "OOMGroup",  "Priority",  "Kills",      "KernelOOMKills"};
    GVariantBuilder changed;
    g_variant_builder_init(&changed, G_VARIANT_TYPE("a{sv}"));
    gboolean any = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(props); i++) {
        g_autoptr(GVariant) was = g_variant_ref_sink(
                limit_property(props[i], &o->applied, o->priority, o->kills, o->kernel_oom_kills));
        g_autoptr(GVariant) now = g_variant_ref_sink(
                limit_property(props[i], &grp->applied, priority_of(grp), grp->kills, grp->kernel_oom_kills));
        if (!g_variant_equal(was, now)) {
            g_variant_builder_add(&changed, "{sv}", props[i], now);
            any = TRUE;
        }
    }
    gboolean critical = is_critical(b, grp->name);
    if (critical != o->critical) {
        g_variant_builder_add(&changed, "{sv}", "Critical", g_variant_new_boolean(critical));
        any = TRUE;
    }
    if (g_strcmp0(o->slice, grp->slice) != 0) {
        g_variant_builder_add(&changed, "{sv}", "Slice", g_variant_new_string(grp->slice ? grp->slice : ""));
        any = TRUE;
    }
    remember(o, grp);
    if (!any) {
        g_variant_builder_clear(&changed);
        return;
    }
    g_autofree char *path = memctl_bus_group_path(o->name);
    g_dbus_connection_emit_signal(b->conn, NULL, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                  g_variant_new("(sa{sv}as)", MEMCTL_GROUP_INTERFACE, &changed, NULL), NULL);
}

void memctl_bus_groups_changed(MemctlBus *b)
{
    g_autoptr(GList) all = memctl_groups_list(b->m->groups);
    for (GList *l = all; l; l = l->next)
        memctl_bus_group_counters_changed(b, l->data);
}

/* The group exported at a subtree node (an escaped name), or NULL. */
static GroupObject *object_at(MemctlBus *b, const char *node)
{
    char name[MEMCTL_GROUP_NAME_MAX + 1];
    if (!node || memctl_group_name_unescape(node, name, sizeof(name)) < 0)
        return NULL;
    return g_hash_table_lookup(b->objects, name);
}

/* The subtree's children, for introspection of its root only (calls do not enumerate). */
static char **subtree_enumerate(GDBusConnection *conn, const char *sender, const char *path, gpointer data)
{
    MemctlBus *b = data;
    GPtrArray *nodes = g_ptr_array_new_full(g_hash_table_size(b->objects) + 1, NULL);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, b->objects);
    char node[MEMCTL_GROUP_NAME_MAX * 3 + 1]; /* every escape fits (policy/name.h) */
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (memctl_group_name_escape(key, node, sizeof(node)) >= 0)
            g_ptr_array_add(nodes, g_strdup(node));
    g_ptr_array_add(nodes, NULL);
    return (char **)g_ptr_array_free(nodes, FALSE);
}

static GDBusInterfaceInfo **subtree_introspect(GDBusConnection *conn, const char *sender, const char *path,
                                               const char *node, gpointer data)
{
    if (node && !object_at(data, node))
        return NULL; /* no such object */
    GDBusInterfaceInfo **ifaces = g_new0(GDBusInterfaceInfo *, 2);
    if (node)
        ifaces[0] = g_dbus_interface_info_ref((GDBusInterfaceInfo *)&memctl_dbus_group1_interface);
    return ifaces;
}

static const GDBusInterfaceVTable *subtree_dispatch(GDBusConnection *conn, const char *sender,
                                                    const char *path, const char *iface, const char *node,
                                                    gpointer *ret_data, gpointer data)
{
    GroupObject *o = object_at(data, node);
    if (!o || g_strcmp0(iface, MEMCTL_GROUP_INTERFACE) != 0)
        return NULL;
    *ret_data = o;
    return &group_vtable;
}

static const GDBusSubtreeVTable subtree_vtable = {
        .enumerate = subtree_enumerate, .introspect = subtree_introspect, .dispatch = subtree_dispatch};

void memctl_bus_group_init(MemctlBus *b)
{
    b->objects = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)object_free);
}

int memctl_bus_group_register(MemctlBus *b, GError **error)
{
    g_autofree char *root = g_strndup(MEMCTL_GROUP_PATH_PREFIX, strlen(MEMCTL_GROUP_PATH_PREFIX) - 1);
    b->subtree_id = g_dbus_connection_register_subtree(b->conn, root, &subtree_vtable,
                                                       G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES, b,
                                                       NULL, error);
    return b->subtree_id ? 0 : -EEXIST;
}

void memctl_bus_group_fini(MemctlBus *b)
{
    if (b->subtree_id)
        g_dbus_connection_unregister_subtree(b->conn, b->subtree_id);
    g_hash_table_destroy(b->objects);
}
