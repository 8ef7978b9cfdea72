/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/group/group.h"
#include "daemon/group/group-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/group/cgroup.h"
#include "daemon/error.h"
#include "kernel/sample.h"
#include "include/memctl/memctl.h"
#include "policy/name.h"
#include "kernel/proc.h"
#include "basic/size.h"

void memctl_groups_notify(MemctlGroups *g)
{
    if (g->listener)
        g->listener(g->listener_data);
}

void memctl_groups_set_listener(MemctlGroups *g, MemctlGroupsListener fn, void *data)
{
    g->listener = fn;
    g->listener_data = data;
}

void memctl_groups_set_added_hook(MemctlGroups *g, MemctlGroupsAdded fn, void *data)
{
    g->added = fn;
    g->added_data = data;
}

/* The cgroup's identity: its directory's inode number (kernfs gives every cgroup a new one), or 0
 * when it is gone. */
static uint64_t cgroup_id(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? (uint64_t)st.st_ino : 0;
}

void memctl_groups_drop(MemctlGroups *g, MemctlGroup *grp)
{
    (void)memctl_core_remove_group(g->core, grp->slot);
    g_hash_table_remove(g->by_slot, GINT_TO_POINTER(grp->slot));
    g_hash_table_remove(g->by_name, grp->name);
}

static void group_free(MemctlGroup *grp)
{
    if (!grp)
        return;
    for (int i = 0; i < _MEMCTL_GROUP_FILE_COUNT; i++)
        if (grp->read_fd1[i])
            close(grp->read_fd1[i] - 1);
    g_free(grp->name);
    g_free(grp->path);
    g_free(grp->slice);
    g_free(grp);
}

ssize_t memctl_group_read(MemctlGroup *grp, MemctlGroupFile f, char *buf, size_t size)
{
    static const char *const files[_MEMCTL_GROUP_FILE_COUNT] = {
            "memory.current", "memory.peak", "memory.swap.current", "memory.events", "memory.pressure"};
    if (!grp->read_fd1[f]) {
        g_autofree char *path = g_build_filename(grp->path, files[f], NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        grp->read_fd1[f] = fd + 1;
    }
    return memctl_sample_read(grp->read_fd1[f] - 1, buf, size);
}

MemctlGroups *memctl_groups_new(const char *mount, const char *root, const char *proc, MemctlCore *core)
{
    MemctlGroups *g = g_new0(MemctlGroups, 1);
    g->mount = g_strdup(mount);
    g->proc = g_strdup(proc);
    g->root = g_strdup(root);
    g->core = core;
    g->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)group_free);
    g->by_slot = g_hash_table_new(g_direct_hash, g_direct_equal);
    g->removals = g_ptr_array_new();
    return g;
}

void memctl_groups_free(MemctlGroups *g)
{
    if (!g)
        return;
    memctl_groups_cancel_removals(g);
    g_ptr_array_unref(g->removals);
    g_hash_table_destroy(g->by_slot);
    g_hash_table_destroy(g->by_name);
    g_free(g->mount);
    g_free(g->root);
    g_free(g->proc);
    g_free(g);
}

MemctlGroup *memctl_groups_get(MemctlGroups *g, const char *name)
{
    return g_hash_table_lookup(g->by_name, name);
}

MemctlGroup *memctl_groups_by_slot(MemctlGroups *g, int slot)
{
    return g_hash_table_lookup(g->by_slot, GINT_TO_POINTER(slot));
}

static gint by_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(((const MemctlGroup *)a)->name, ((const MemctlGroup *)b)->name);
}

guint memctl_groups_count(MemctlGroups *g)
{
    return g_hash_table_size(g->by_name);
}

GList *memctl_groups_list(MemctlGroups *g)
{
    return g_list_sort(g_hash_table_get_values(g->by_name), by_name_cmp);
}

/* The managed parent group of name ("a/b" -> "a"), or NULL for a top-level group. */
static MemctlGroup *parent_of(MemctlGroups *g, const char *name)
{
    const char *slash = strrchr(name, '/');
    if (!slash)
        return NULL;
    g_autofree char *parent = g_strndup(name, (gsize)(slash - name));
    return memctl_groups_get(g, parent);
}

const char *memctl_group_file_value(MemctlFile f, uint64_t v, char buf[static 24])
{
    if (f == MEMCTL_FILE_OOM_GROUP)
        return v ? "1" : "0";
    if (v == MEMCTL_SIZE_MAX)
        return "max";
    g_snprintf(buf, 24, "%" G_GUINT64_FORMAT, v);
    return buf;
}

uint64_t memctl_group_boosted(MemctlFile f, uint64_t v, uint64_t boost)
{
    if ((f != MEMCTL_FILE_HIGH && f != MEMCTL_FILE_MAX) || v == MEMCTL_SIZE_MAX)
        return v;
    return v > MEMCTL_SIZE_MAX - 1 - boost ? MEMCTL_SIZE_MAX - 1 : v + boost;
}

static MemctlKey key_for_file(const MemctlLimits *l, MemctlFile f)
{
    switch (f) {
    case MEMCTL_FILE_MIN:
        return MEMCTL_KEY_MIN;
    case MEMCTL_FILE_LOW:
        return MEMCTL_KEY_LOW;
    case MEMCTL_FILE_HIGH:
        return memctl_limits_has(l, MEMCTL_KEY_HIGH) ? MEMCTL_KEY_HIGH : MEMCTL_KEY_LIMIT;
    case MEMCTL_FILE_MAX:
        return memctl_limits_has(l, MEMCTL_KEY_MAX) ? MEMCTL_KEY_MAX : MEMCTL_KEY_LIMIT;
    case MEMCTL_FILE_SWAP_MAX:
        return MEMCTL_KEY_SWAP_MAX;
    default:
        return MEMCTL_KEY_OOM_GROUP;
    }
}

/* The memory.min of parent's direct child groups, leaving out `skip` (may be NULL). */
static GArray *children_mins(MemctlGroups *g, const char *parent, const char *skip)
{
    GArray *mins = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    size_t plen = strlen(parent);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->by_name);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const MemctlGroup *s = v;
        if ((skip && strcmp(s->name, skip) == 0) || strncmp(s->name, parent, plen) != 0 ||
            s->name[plen] != '/' || strchr(s->name + plen + 1, '/'))
            continue;
        if (s->applied.set & (1u << MEMCTL_FILE_MIN))
            g_array_append_val(mins, s->applied.value[MEMCTL_FILE_MIN]);
    }
    return mins;
}

/*
 * The children's min must fit the parent's, checked from both sides of a change to name's min.
 * A parent without protection of its own (min 0) does not cap its children: their min then applies
 * in full to reclaim aimed at the parent, which is how a sibling is shielded. With a parent min, the
 * kernel would spread an overcommitted sum proportionally: refuse that.
 */
static int check_min_fits(MemctlGroups *g, const char *name, uint64_t own, GError **error)
{
    const MemctlGroup *parent = parent_of(g, name);
    if (parent && (parent->applied.set & (1u << MEMCTL_FILE_MIN)) &&
        parent->applied.value[MEMCTL_FILE_MIN] != 0) {
        g_autoptr(GArray) mins = children_mins(g, parent->name, name);
        g_array_append_val(mins, own);
        if (memctl_limits_check_children_min(parent->applied.value[MEMCTL_FILE_MIN],
                                             (uint64_t *)(void *)mins->data, mins->len) < 0)
            return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                    "%s: 'min' and its siblings' min exceed the parent group's min", name);
    }
    if (own != 0 && memctl_groups_get(g, name)) {
        g_autoptr(GArray) mins = children_mins(g, name, NULL);
        if (memctl_limits_check_children_min(own, (uint64_t *)(void *)mins->data, mins->len) < 0)
            return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                    "%s: 'min' is below the sum of its children's min", name);
    }
    return 0;
}

/* Writes one setting (high and max with the boost on top). 0 or -errno. */
static int write_value(MemctlGroups *g, const char *path, MemctlFile f, uint64_t v, uint64_t boost)
{
    char buf[24];
    return memctl_cgroup_set(g->mount, path, memctl_file_name(f),
                             memctl_group_file_value(f, memctl_group_boosted(f, v, boost), buf));
}

/* A roll back: every file that `written` holds with another value than `have` gets have's again
 * (last first). Files have does not know (a new cgroup) stay: the caller deletes the cgroup. */
static void put_back(MemctlGroups *g, const char *path, const MemctlFileValues *written,
                     const MemctlFileValues *have, uint64_t boost)
{
    for (int f = _MEMCTL_FILE_COUNT; f-- > 0;)
        if (have && (have->set & written->set & (1u << f)) && have->value[f] != written->value[f])
            (void)write_value(g, path, (MemctlFile)f, have->value[f], boost);
}

/*
 * Validates `want` for the group at path (existing or not), and writes every file whose value
 * differs from `have`; on a kernel error rolls back what this call wrote. Nothing is written when
 * validation fails. On success *ret_applied holds what is now written.
 */
static int apply_limits(MemctlGroups *g, const char *name, const char *path, const MemctlLimits *want,
                        const MemctlFileValues *have, uint64_t boost, MemctlFileValues *ret_applied,
                        GError **error)
{
    MemctlFileValues v;
    MemctlKey bad = _MEMCTL_KEY_COUNT;
    if (memctl_limits_resolve(want, &v, &bad) < 0)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT, "%s: invalid value for '%s'",
                                name, memctl_key_name(bad));

    if ((v.set & (1u << MEMCTL_FILE_MIN)) && check_min_fits(g, name, v.value[MEMCTL_FILE_MIN], error) < 0)
        return -EINVAL;

    /* Like runc's checkBeforeUpdate: a hard limit below the current usage would make the kernel
     * reclaim and OOM-kill in our own context. Refuse it. */
    if ((v.set & (1u << MEMCTL_FILE_MAX)) && have && (have->set & (1u << MEMCTL_FILE_MAX)) &&
        v.value[MEMCTL_FILE_MAX] < have->value[MEMCTL_FILE_MAX]) {
        uint64_t cur = 0;
        if (memctl_cgroup_get_u64(path, "memory.current", &cur) == 0 &&
            memctl_group_boosted(MEMCTL_FILE_MAX, v.value[MEMCTL_FILE_MAX], boost) <= cur)
            return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY,
                                    "%s: '%s' is not above the current usage (%" G_GUINT64_FORMAT " bytes)",
                                    name, memctl_key_name(key_for_file(want, MEMCTL_FILE_MAX)), cur);
    }

    MemctlFileValues written = have ? *have : (MemctlFileValues){0};
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    for (int f = 0; f < _MEMCTL_FILE_COUNT; f++) {
        if (!(v.set & (1u << f)))
            continue;
        /* what the kernel will hold (sizes in whole pages): that is what is compared and kept, so
         * that a value read back from the kernel is never taken for a change */
        v.value[f] = memctl_file_value_as_kernel((MemctlFile)f, v.value[f], page);
        if (have && (have->set & (1u << f)) && have->value[f] == v.value[f])
            continue; /* no limit is rewritten that did not change */
        int r = write_value(g, path, (MemctlFile)f, v.value[f], boost);
        if (r < 0) {
            put_back(g, path, &written, have, boost);
            return memctl_error_set(error, r,
                                    r == -EINVAL || r == -ERANGE ? MEMCTL_ERROR_INVALID_ARGUMENT
                                                                 : MEMCTL_ERROR_FAILED,
                                    "%s: the kernel refused '%s' for %s: %s", name,
                                    memctl_key_name(key_for_file(want, (MemctlFile)f)),
                                    memctl_file_name((MemctlFile)f), g_strerror(-r));
        }
        written.set |= 1u << f;
        written.value[f] = v.value[f];
    }
    *ret_applied = written;
    return 0;
}

uint64_t memctl_group_enforced(const MemctlGroup *grp, MemctlFile f)
{
    return memctl_group_boosted(f, memctl_file_values_get(&grp->applied, f, MEMCTL_SIZE_MAX), grp->boost);
}

void memctl_groups_update_core(MemctlGroups *g, MemctlGroup *grp)
{
    (void)memctl_core_update_group(g->core, grp->slot, memctl_group_enforced(grp, MEMCTL_FILE_HIGH),
                                   memctl_group_enforced(grp, MEMCTL_FILE_MAX),
                                   memctl_file_values_get(&grp->applied, MEMCTL_FILE_OOM_GROUP, 0) != 0);
}

/*
 * Hands a new group to the core and then enters it in the tables. When the core cannot watch it (all
 * --max-groups slots in use, a cgroup without memory.* files) the group is in no table: nothing can
 * act on a slot that is not its own. grp is the caller's until this succeeds.
 */
static int group_add(MemctlGroups *g, MemctlGroup *grp, GError **error)
{
    MemctlGroup *parent = parent_of(g, grp->name);
    int slot = memctl_core_add_group(g->core, grp->name, grp->path, parent ? parent->slot : -1,
                                     memctl_group_enforced(grp, MEMCTL_FILE_HIGH),
                                     memctl_group_enforced(grp, MEMCTL_FILE_MAX),
                                     memctl_file_values_get(&grp->applied, MEMCTL_FILE_OOM_GROUP, 0) != 0);
    if (slot < 0)
        return memctl_error_set(error, slot, slot == -ENOSPC ? MEMCTL_ERROR_BUSY : MEMCTL_ERROR_FAILED,
                                "%s: cannot watch the group: %s", grp->name,
                                slot == -ENOSPC ? "all group slots are in use (--max-groups)"
                                                : g_strerror(-slot));
    grp->slot = slot;
    if (!grp->id)
        grp->id = cgroup_id(grp->path);
    g_hash_table_insert(g->by_name, grp->name, grp);
    g_hash_table_insert(g->by_slot, GINT_TO_POINTER(slot), grp);
    if (g->added)
        g->added(grp, g->added_data);
    memctl_groups_notify(g);
    return 0;
}

void memctl_group_limits_from_values(const MemctlFileValues *v, MemctlLimits *ret)
{
    static const MemctlKey keys[_MEMCTL_FILE_COUNT] = {
            [MEMCTL_FILE_MIN] = MEMCTL_KEY_MIN,           [MEMCTL_FILE_LOW] = MEMCTL_KEY_LOW,
            [MEMCTL_FILE_HIGH] = MEMCTL_KEY_HIGH,         [MEMCTL_FILE_MAX] = MEMCTL_KEY_MAX,
            [MEMCTL_FILE_SWAP_MAX] = MEMCTL_KEY_SWAP_MAX, [MEMCTL_FILE_OOM_GROUP] = MEMCTL_KEY_OOM_GROUP,
    };
    memctl_limits_init(ret);
    for (int f = 0; f < _MEMCTL_FILE_COUNT; f++) {
        if (!(v->set & (1u << f)))
            continue;
        char buf[24];
        (void)memctl_limits_set(ret, memctl_key_name(keys[f]),
                                memctl_group_file_value((MemctlFile)f, v->value[f], buf));
    }
}

/* The memory.* values of the cgroup at path, and the settings they make. */
static void read_back(const char *path, MemctlLimits *ret_limits, MemctlFileValues *ret_applied)
{
    *ret_applied = (MemctlFileValues){0};
    for (int f = 0; f < _MEMCTL_FILE_COUNT; f++) {
        uint64_t v;
        if (memctl_cgroup_get_u64(path, memctl_file_name((MemctlFile)f), &v) < 0)
            continue; /* memory.swap.max is absent without swap accounting */
        ret_applied->set |= 1u << f;
        ret_applied->value[f] = v;
    }
    memctl_group_limits_from_values(ret_applied, ret_limits);
}

/* Adopts the cgroup at path as `name`, then its children. One that cannot be watched is not adopted,
 * nor is anything below it: its name and why go to `skipped`. */
static void adopt_dir(MemctlGroups *g, const char *path, const char *name, GPtrArray *skipped)
{
    if (memctl_group_name_check(name) < 0)
        return;                        /* not ours to manage: a name memctl would not have made */
    if (!memctl_groups_get(g, name)) { /* a rescan walks known groups too */
        MemctlGroup *grp = g_new0(MemctlGroup, 1);
        grp->name = g_strdup(name);
        grp->path = g_strdup(path);
        grp->id = cgroup_id(path); /* before its values: they belong to this cgroup */
        grp->adopted = true;
        read_back(path, &grp->limits, &grp->applied);
        memctl_group_adopt_boost(grp);
        g_autoptr(GError) e = NULL;
        if (group_add(g, grp, &e) < 0) {
            g_ptr_array_add(skipped, g_strdup(e->message));
            group_free(grp);
            return;
        }
    }

    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *sub = g_build_filename(path, e, NULL);
        if (!g_file_test(sub, G_FILE_TEST_IS_DIR))
            continue;
        g_autofree char *subname = g_strconcat(name, "/", e, NULL);
        adopt_dir(g, sub, subname, skipped);
    }
}

int memctl_groups_adopt_all(MemctlGroups *g, GPtrArray *ret_skipped, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(g->root, 0, NULL);
    if (!d)
        return memctl_error_set(error, -EIO, MEMCTL_ERROR_FAILED, "cannot list %s", g->root);
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *sub = g_build_filename(g->root, e, NULL);
        /* our own leaf, and the service manager's hidden ones (systemd's ".control") */
        if (strcmp(e, MEMCTL_SELF_LEAF) == 0 || e[0] == '.' || !g_file_test(sub, G_FILE_TEST_IS_DIR))
            continue;
        adopt_dir(g, sub, e, ret_skipped);
    }
    return 0;
}

MemctlGroup *memctl_groups_lookup(MemctlGroups *g, const char *name)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp || grp->removal)
        return grp;
    uint64_t id = cgroup_id(grp->path);
    if (id == 0 || id == grp->id)
        return grp; /* gone (its last counters are kept for RemoveGroup), or itself */
    /* Made again under the name: another cgroup. Its children in the table went with the old one. */
    g_autofree char *path = g_strdup(grp->path);
    g_autofree char *prefix = g_strconcat(name, "/", NULL);
    g_autoptr(GList) all = memctl_groups_list(g);
    for (GList *l = g_list_last(all); l; l = l->prev) {
        MemctlGroup *old = l->data;
        if (old == grp || g_str_has_prefix(old->name, prefix))
            memctl_groups_drop(g, old);
    }
    g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func(g_free);
    adopt_dir(g, path, name, skipped);
    memctl_groups_notify(g);
    return memctl_groups_get(g, name);
}

MemctlGroup *memctl_groups_create(MemctlGroups *g, const char *name, const MemctlLimits *limits,
                                  GError **error)
{
    int r = memctl_group_name_check(name);
    if (r < 0) {
        g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT, "invalid group name '%s': %s", name,
                    memctl_group_name_problem(r));
        return NULL;
    }
    MemctlGroup *grp = memctl_groups_lookup(g, name);
    if (grp && !grp->removal && !cgroup_id(grp->path)) {
        /* its cgroup was deleted behind memctld's back: the group is made anew */
        memctl_groups_drop(g, grp);
        memctl_groups_notify(g);
        grp = NULL;
    }
    if (grp) {
        if (limits && memctl_groups_set_limits(g, name, limits, error) < 0)
            return NULL;
        return grp;
    }
    const char *slash = strrchr(name, '/');
    if (slash) {
        g_autofree char *pname = g_strndup(name, (gsize)(slash - name));
        if (!memctl_groups_get(g, pname)) {
            g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_NO_SUCH_GROUP,
                        "parent group '%s' of '%s' does not exist; create it first", pname, name);
            return NULL;
        }
    }

    MemctlLimits want;
    memctl_limits_init(&want);
    if (limits)
        memctl_limits_merge(&want, limits);
    /* Validate before anything exists, so a rejected create leaves nothing behind. */
    MemctlFileValues probe;
    MemctlKey bad;
    if (memctl_limits_resolve(&want, &probe, &bad) < 0) {
        g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT, "%s: invalid value for '%s'", name,
                    memctl_key_name(bad));
        return NULL;
    }

    g_autofree char *path = g_build_filename(g->root, name, NULL);
    r = memctl_cgroup_create(g->mount, path);
    if (r < 0 && r != -EEXIST) {
        g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_FAILED, "%s: cannot create %s: %s", name, path,
                    g_strerror(-r));
        return NULL;
    }
    uint64_t id = cgroup_id(path);
    MemctlLimits have_limits;
    MemctlFileValues have;
    read_back(path, &have_limits, &have);
    MemctlFileValues applied;
    if (apply_limits(g, name, path, &want, &have, 0, &applied, error) < 0) {
        if (r != -EEXIST)
            (void)memctl_cgroup_delete(g->mount, path);
        return NULL;
    }
    grp = g_new0(MemctlGroup, 1);
    grp->name = g_strdup(name);
    grp->path = g_strdup(path);
    grp->id = id;
    grp->limits = want;
    grp->applied = applied;
    if (group_add(g, grp, error) < 0) {
        /* not managed after all: the cgroup goes (or, one that was there, gets its values back) */
        if (r != -EEXIST)
            (void)memctl_cgroup_delete(g->mount, path);
        else
            put_back(g, path, &applied, &have, 0);
        group_free(grp);
        return NULL;
    }
    return grp;
}

int memctl_groups_set_slice(MemctlGroups *g, const char *name, const char *slice)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return -ENOENT;
    if (slice && !*slice)
        slice = NULL;
    if (g_strcmp0(grp->slice, slice) == 0)
        return 0;
    g_free(grp->slice);
    grp->slice = g_strdup(slice);
    memctl_groups_notify(g);
    return 1;
}

int memctl_groups_set_limits(MemctlGroups *g, const char *name, const MemctlLimits *update, GError **error)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name);
    MemctlLimits want = grp->limits;
    /* An explicit max replaces the limit, and a limit replaces an adopted max, instead of clashing. */
    if (memctl_limits_has(update, MEMCTL_KEY_LIMIT))
        want.set &= ~(1u << MEMCTL_KEY_MAX);
    if (memctl_limits_has(update, MEMCTL_KEY_MAX))
        want.set &= ~((1u << MEMCTL_KEY_LIMIT) | (1u << MEMCTL_KEY_HEADROOM));
    if (memctl_limits_has(update, MEMCTL_KEY_LIMIT) && !memctl_limits_has(update, MEMCTL_KEY_HIGH))
        want.set &= ~(1u << MEMCTL_KEY_HIGH); /* high follows the new limit */
    memctl_limits_merge(&want, update);
    MemctlFileValues applied;
    int r = apply_limits(g, name, grp->path, &want, &grp->applied, grp->boost, &applied, error);
    if (r < 0)
        return r;
    grp->limits = want;
    grp->applied = applied;
    memctl_groups_update_core(g, grp);
    memctl_groups_notify(g);
    return 0;
}

bool memctl_groups_holds_self(MemctlGroups *g, const MemctlGroup *grp)
{
    g_autofree char *self = NULL;
    if (memctl_cgroup_self(g->mount, g->proc, &self) < 0)
        return false;
    size_t len = strlen(grp->path);
    return strncmp(self, grp->path, len) == 0 && (self[len] == '\0' || self[len] == '/');
}

const char *memctl_groups_has_children(MemctlGroups *g, const char *name)
{
    size_t len = strlen(name);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, g->by_name);
    while (g_hash_table_iter_next(&it, &k, NULL))
        if (strncmp(k, name, len) == 0 && ((const char *)k)[len] == '/')
            return k;
    return NULL;
}

/*
 * Whether pid may be moved into a group: 0, or -errno with *ret_why. Refused: no such process, PID 1,
 * a kernel thread, and memctld itself, by any of its thread ids (writing a thread's id to
 * cgroup.procs moves its whole process: memctld would land in a group it may kill).
 */
static int attach_refusal(MemctlGroups *g, uint32_t pid, const char **ret_why)
{
    g_autofree char *status_path = g_strdup_printf("%s/%u/status", g->proc, pid);
    g_autofree char *stat_path = g_strdup_printf("%s/%u/stat", g->proc, pid);
    g_autofree char *status = NULL, *stat = NULL;
    uint64_t tgid = 0, flags = 0, start = 0;
    if (pid == 0 || pid > INT32_MAX || !g_file_get_contents(status_path, &status, NULL, NULL) ||
        !g_file_get_contents(stat_path, &stat, NULL, NULL) ||
        memctl_proc_status_u64(status, "Tgid", &tgid) < 0 || memctl_proc_stat(stat, &flags, &start) < 0)
        return *ret_why = "is no process", -ESRCH;
    if (pid == 1 || tgid == 1)
        return *ret_why = "is the init process (PID 1)", -EPERM;
    if (flags & MEMCTL_PF_KTHREAD)
        return *ret_why = "is a kernel thread", -EPERM;
    if (tgid == (uint64_t)getpid())
        return *ret_why = "is memctld itself (one of its threads)", -EPERM;
    return 0;
}

int memctl_groups_attach(MemctlGroups *g, const char *name, const uint32_t *pids, size_t n, GError **error)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name);
    if (n == 0 || n > MEMCTL_ATTACH_MAX)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "pids: give 1 to %u process ids, not %zu", MEMCTL_ATTACH_MAX, n);
    if (memctl_groups_has_children(g, name))
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY,
                                "%s: has child groups; processes live in leaves only", name);
    /* Check every pid before moving any. */
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        int r = attach_refusal(g, pids[i], &why);
        if (r < 0)
            return memctl_error_set(error, r, MEMCTL_ERROR_INVALID_ARGUMENT, "pids[%zu]: %u %s", i, pids[i],
                                    why);
    }
    for (size_t i = 0; i < n; i++) {
        int r = memctl_cgroup_attach(g->mount, grp->path, (pid_t)pids[i]);
        if (r < 0)
            return memctl_error_set(error, r,
                                    r == -ESRCH ? MEMCTL_ERROR_INVALID_ARGUMENT : MEMCTL_ERROR_FAILED,
                                    "pids[%zu]: cannot move %u into %s: %s (%zu moved before it)", i, pids[i],
                                    name, g_strerror(-r), i);
    }
    return 0;
}

int memctl_groups_rescan(MemctlGroups *g, GPtrArray *ret_added, GPtrArray *ret_removed,
                         GPtrArray *ret_skipped, GError **error)
{
    /* Groups whose cgroup is gone: deepest first, so that children go before their parents. */
    g_autoptr(GList) all = memctl_groups_list(g);
    all = g_list_reverse(all);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (grp->removal || cgroup_id(grp->path) == grp->id)
            continue;
        /* gone, or made again under the name (then adopted below as the new cgroup it is) */
        g_ptr_array_add(ret_removed, g_strdup(grp->name));
        memctl_groups_drop(g, grp);
    }
    /* Limits read back for the groups that stay. */
    g_list_free(g_steal_pointer(&all));
    all = memctl_groups_list(g);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        MemctlLimits have_limits;
        MemctlFileValues have;
        read_back(grp->path, &have_limits, &have);
        /* A boosted group's files carry the boost: its own settings are what is under it (values
         * that cannot carry it were rewritten behind memctld's back and are taken as they are). */
        if (grp->boost && memctl_group_values_unboost(&have, grp->boost))
            memctl_group_limits_from_values(&have, &have_limits);
        if (memctl_file_values_equal(&have, &grp->applied))
            continue;
        grp->applied = have;
        grp->limits = have_limits;
        memctl_groups_update_core(g, grp);
    }
    /* New cgroups below the root. */
    guint before = memctl_groups_count(g);
    g_autoptr(GHashTable) known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (GList *l = all; l; l = l->next)
        g_hash_table_add(known, g_strdup(((MemctlGroup *)l->data)->name));
    int r = memctl_groups_adopt_all(g, ret_skipped, error);
    if (memctl_groups_count(g) != before) {
        g_autoptr(GList) now = memctl_groups_list(g);
        for (GList *l = now; l; l = l->next)
            if (!g_hash_table_contains(known, ((MemctlGroup *)l->data)->name))
                g_ptr_array_add(ret_added, g_strdup(((MemctlGroup *)l->data)->name));
    }
    memctl_groups_notify(g);
    return r;
}
