/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Groups found rather than made: the cgroups below memctld's root at start (adopted with the values
 * their files hold, and the boost their mark says), a group made again under its name behind
 * memctld's back, and Rescan.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "basic/fd-util.h"
#include "basic/size.h"
#include "daemon/error.h"
#include "daemon/group/cgroup.h"
#include "daemon/group/group-internal.h"
#include "daemon/group/group.h"
#include "include/memctl/memctl.h"
#include "policy/name.h"

/* The memory.* values of the cgroup at path, and the settings they make. */
void memctl_group_read_back(const char *path, MemctlLimits *ret_limits, MemctlFileValues *ret_applied)
{
    _cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    memctl_group_read_back_at(dirfd, ret_limits, ret_applied);
}

void memctl_group_read_back_at(int dirfd, MemctlLimits *ret_limits, MemctlFileValues *ret_applied)
{
    *ret_applied = (MemctlFileValues){0};
    for (int f = 0; f < _MEMCTL_FILE_COUNT && dirfd >= 0; f++) {
        uint64_t v;
        if (memctl_cgroup_get_u64_at(dirfd, memctl_file_name((MemctlFile)f), &v) < 0)
            continue; /* memory.swap.max is absent without swap accounting */
        ret_applied->set |= 1u << f;
        ret_applied->value[f] = v;
    }
    memctl_group_limits_from_values(ret_applied, ret_limits);
}

/* Adopts the cgroup at path as `name`, then its children (unless `leaf`: it is known to have none).
 * One that cannot be watched is not adopted, nor is anything below it: its name and why go to
 * `skipped`. */
static void adopt_dir(MemctlGroups *g, const char *path, const char *name, bool leaf, GPtrArray *skipped)
{
    if (memctl_group_name_check(name) < 0)
        return;                        /* not ours to manage: a name memctl would not have made */
    if (!memctl_groups_get(g, name)) { /* a rescan walks known groups too */
        /* one fd of the directory for its identity, its values, its mark and the core's files */
        _cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
            g_ptr_array_add(skipped,
                            g_strdup_printf("%s: cannot open %s: %s", name, path, g_strerror(errno)));
            return;
        }
        MemctlGroup *grp = g_new0(MemctlGroup, 1);
        grp->name = g_strdup(name);
        grp->path = g_strdup(path);
        grp->id = memctl_group_cgroup_id_at(dirfd); /* before its values: they belong to this cgroup */
        grp->adopted = true;
        memctl_group_read_back_at(dirfd, &grp->limits, &grp->applied);
        memctl_group_adopt_boost(grp, dirfd);
        g_autoptr(GError) e = NULL;
        if (memctl_groups_add(g, grp, dirfd, &e) < 0) {
            g_ptr_array_add(skipped, g_strdup(e->message));
            memctl_group_free(grp);
            return;
        }
    }

    if (leaf)
        return;
    g_autoptr(GPtrArray) subdirs = memctl_cgroup_subdirs(path);
    for (guint k = 0; subdirs && k < subdirs->len; k++) {
        const char *e = subdirs->pdata[k];
        g_autofree char *sub = g_build_filename(path, e, NULL);
        g_autofree char *subname = g_strconcat(name, "/", e, NULL);
        adopt_dir(g, sub, subname, false, skipped);
    }
}

int memctl_groups_adopt_all(MemctlGroups *g, GPtrArray *ret_skipped, GError **error)
{
    /* Before the listing: a cgroup made in between is listed and then looked into. */
    uint64_t below = UINT64_MAX;
    (void)memctl_cgroup_descendants(g->root, &below);
    g_autoptr(GPtrArray) subdirs = memctl_cgroup_subdirs(g->root);
    if (!subdirs)
        return memctl_error_set(error, -EIO, MEMCTL_ERROR_FAILED, "cannot list %s", g->root);
    /* As many cgroups below the root as in it: none has children, and none is listed (on a host
     * with 10,000 containers, 10,000 listings of thirty-odd files each saved). */
    bool flat = below == subdirs->len;
    for (guint k = 0; k < subdirs->len; k++) {
        const char *e = subdirs->pdata[k];
        /* our own leaf, and the service manager's hidden ones (systemd's ".control") */
        if (strcmp(e, MEMCTL_SELF_LEAF) == 0 || e[0] == '.')
            continue;
        g_autofree char *sub = g_build_filename(g->root, e, NULL);
        adopt_dir(g, sub, e, flat, ret_skipped);
    }
    return 0;
}

MemctlGroup *memctl_groups_lookup(MemctlGroups *g, const char *name)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp || grp->removal)
        return grp;
    uint64_t id = memctl_group_cgroup_id(grp->path);
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
    adopt_dir(g, path, name, false, skipped);
    memctl_groups_notify(g);
    return memctl_groups_get(g, name);
}

int memctl_groups_rescan(MemctlGroups *g, GPtrArray *ret_added, GPtrArray *ret_removed,
                         GPtrArray *ret_skipped, GError **error)
{
    /* Groups whose cgroup is gone: deepest first, so that children go before their parents. */
    g_autoptr(GList) all = memctl_groups_list(g);
    all = g_list_reverse(all);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (grp->removal || memctl_group_cgroup_id(grp->path) == grp->id)
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
        memctl_group_read_back(grp->path, &have_limits, &have);
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
