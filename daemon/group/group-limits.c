/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A group's limits: checked (names, the children's min within the parent's, a max not below the
 * usage), written only where they change, and rolled back file by file when the kernel refuses one;
 * CreateGroup and SetLimits.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "basic/size.h"
#include "daemon/error.h"
#include "daemon/group/cgroup.h"
#include "daemon/group/group-internal.h"
#include "daemon/group/group.h"
#include "include/memctl/memctl.h"
#include "policy/name.h"

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
    const MemctlGroup *parent = memctl_groups_parent_of(g, name);
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
    if (grp && !grp->removal && !memctl_group_cgroup_id(grp->path)) {
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
    uint64_t id = memctl_group_cgroup_id(path);
    MemctlLimits have_limits;
    MemctlFileValues have;
    memctl_group_read_back(path, &have_limits, &have);
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
    if (memctl_groups_add(g, grp, NULL, error) < 0) {
        /* not managed after all: the cgroup goes (or, one that was there, gets its values back) */
        if (r != -EEXIST)
            (void)memctl_cgroup_delete(g->mount, path);
        else
            put_back(g, path, &applied, &have, 0);
        memctl_group_free(grp);
        return NULL;
    }
    return grp;
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
