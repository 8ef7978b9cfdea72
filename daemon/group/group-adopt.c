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
#include "daemon/parallel.h"
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

/* A cgroup found below the root, made ready to be managed: its identity, its values, its boost and
 * the core's files, all read through one fd of its directory. Touches nothing shared: adoption
 * prepares many at once on several threads. */
typedef struct {
    char *path, *name;
    MemctlGroup *grp; /* NULL when it cannot be managed: `why` says */
    MemctlCoreGroupFiles files;
    char *why;
} Found;

/* A cgroup memctld froze for a pre-kill wait and never thawed (it stopped in the middle): it carries
 * the mark, set before the freeze. Thawed, the mark cleared; true if it was. A cgroup frozen without
 * the mark (a runtime's pause) is not memctld's to thaw. */
static bool thaw_interrupted(int dirfd, const char *path)
{
    uint64_t v;
    if (memctl_cgroup_get_mark_at(dirfd, MEMCTL_PREKILL_MARK, &v) < 0)
        return false;
    _cleanup_close_ int fd = openat(dirfd, "cgroup.freeze", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1)
        return false; /* the mark stays: the next adoption tries again */
    (void)memctl_cgroup_clear_mark(path, MEMCTL_PREKILL_MARK);
    return true;
}

static void found_prepare(Found *f)
{
    _cleanup_close_ int dirfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        f->why = g_strdup_printf("%s: cannot open %s: %s", f->name, f->path, g_strerror(errno));
        return;
    }
    MemctlGroup *grp = g_new0(MemctlGroup, 1);
    grp->name = g_strdup(f->name);
    grp->path = g_strdup(f->path);
    grp->id = memctl_group_cgroup_id_at(dirfd); /* before its values: they belong to this cgroup */
    grp->adopted = true;
    grp->thawed = thaw_interrupted(dirfd, f->path);
    memctl_group_read_back_at(dirfd, &grp->limits, &grp->applied);
    memctl_group_adopt_boost(grp, dirfd);
    int r = memctl_core_group_files_open(dirfd, &f->files);
    if (r < 0) {
        f->why = g_strdup_printf("%s: cannot watch the group: %s", f->name, g_strerror(-r));
        memctl_group_free(grp);
        return;
    }
    f->grp = grp;
}

/* On the main thread: the prepared group handed to the core and entered in the tables, or its name
 * and why not to `skipped`. Returns whether it is managed now. */
static bool found_enter(MemctlGroups *g, Found *f, GPtrArray *skipped)
{
    if (!f->grp) {
        g_ptr_array_add(skipped, g_steal_pointer(&f->why));
        return false;
    }
    g_autoptr(GError) e = NULL;
    if (memctl_groups_add(g, f->grp, &f->files, &e) < 0) {
        g_ptr_array_add(skipped, g_strdup(e->message));
        memctl_group_free(g_steal_pointer(&f->grp));
        return false;
    }
    f->grp = NULL;
    return true;
}

static void found_clear(Found *f)
{
    g_free(f->path);
    g_free(f->name);
    g_free(f->why);
    if (f->grp) {
        memctl_core_group_files_close(&f->files);
        memctl_group_free(f->grp);
    }
}

static void adopt_children(MemctlGroups *g, const char *path, const char *name, GPtrArray *skipped);

/* Adopts the cgroup at path as `name`, then its children. One that cannot be watched is not adopted,
 * nor is anything below it: its name and why go to `skipped`. */
static void adopt_dir(MemctlGroups *g, const char *path, const char *name, GPtrArray *skipped)
{
    if (memctl_group_name_check(name) < 0)
        return;                        /* not ours to manage: a name memctl would not have made */
    if (!memctl_groups_get(g, name)) { /* a rescan walks known groups too */
        Found f = {.path = g_strdup(path), .name = g_strdup(name)};
        found_prepare(&f);
        bool entered = found_enter(g, &f, skipped);
        found_clear(&f);
        if (!entered)
            return;
    }
    adopt_children(g, path, name, skipped);
}

static void adopt_children(MemctlGroups *g, const char *path, const char *name, GPtrArray *skipped)
{
    g_autoptr(GPtrArray) subdirs = memctl_cgroup_subdirs(path);
    for (guint k = 0; subdirs && k < subdirs->len; k++) {
        const char *e = subdirs->pdata[k];
        g_autofree char *sub = g_build_filename(path, e, NULL);
        g_autofree char *subname = g_strconcat(name, "/", e, NULL);
        adopt_dir(g, sub, subname, skipped);
    }
}

/*
 * The groups directly below the root are prepared on as many threads as there are CPUs, up to four
 * (in the VM, opening a group's files is 90 % of its adoption, all of it in the kernel, and it scales
 * with the CPUs), and entered on the main thread in the order listed as each is ready: the core
 * watches the first groups while the last are being opened.
 */
#define ADOPT_THREADS 4
#define ADOPT_PER_THREAD 32 /* fewer groups a thread: not worth one */

typedef struct {
    MemctlGroups *g;
    Found *found;
    bool flat;
    GPtrArray *skipped;
} Adoption;

static void adoption_prepare(size_t k, void *data)
{
    found_prepare(&((Adoption *)data)->found[k]);
}

static void adoption_enter(size_t k, void *data)
{
    Adoption *a = data;
    if (found_enter(a->g, &a->found[k], a->skipped) && !a->flat)
        adopt_children(a->g, a->found[k].path, a->found[k].name, a->skipped);
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
    g_autofree Found *found = g_new0(Found, subdirs->len);
    guint n = 0;
    for (guint k = 0; k < subdirs->len; k++) {
        const char *e = subdirs->pdata[k];
        /* our own leaf, the service manager's hidden ones (systemd's ".control"), and names memctl
         * would not have made: not ours to manage */
        if (strcmp(e, MEMCTL_SELF_LEAF) == 0 || e[0] == '.' || memctl_group_name_check(e) < 0)
            continue;
        g_autofree char *sub = g_build_filename(g->root, e, NULL);
        if (memctl_groups_get(g, e)) { /* a rescan: known, but something new may be below it */
            if (!flat)
                adopt_children(g, sub, e, ret_skipped);
            continue;
        }
        found[n++] = (Found){.path = g_steal_pointer(&sub), .name = g_strdup(e)};
    }
    Adoption a = {.g = g, .found = found, .flat = flat, .skipped = ret_skipped};
    memctl_core_hold_adds(g->core, true);
    memctl_parallel_run(n, ADOPT_THREADS, ADOPT_PER_THREAD, adoption_prepare, adoption_enter, &a);
    memctl_core_hold_adds(g->core, false);
    for (guint k = 0; k < n; k++)
        found_clear(&found[k]);
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
    adopt_dir(g, path, name, skipped);
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
