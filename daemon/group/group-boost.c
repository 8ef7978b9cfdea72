/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boost of a group (daemon/group/group.h, daemon/reserve/boost.h): its limits raised and put back, its
 * mark on the cgroup, and a boost found on a group memctld adopts. */
#include <errno.h>

#include "daemon/group/cgroup.h"
#include "daemon/error.h"
#include "daemon/group/group-internal.h"
#include "daemon/group/group.h"
#include "include/memctl/memctl.h"
#include "basic/size.h"

bool memctl_group_values_unboost(MemctlFileValues *v, uint64_t boost)
{
    static const MemctlFile raised[] = {MEMCTL_FILE_HIGH, MEMCTL_FILE_MAX};
    MemctlFileValues own = *v;
    int n = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(raised); i++) {
        uint64_t x = memctl_file_values_get(&own, raised[i], MEMCTL_SIZE_MAX);
        if (x == MEMCTL_SIZE_MAX)
            continue;
        if (x < boost || x == MEMCTL_SIZE_MAX - 1)
            return false; /* not what a boost of this size leaves */
        own.value[raised[i]] = x - boost;
        n++;
    }
    if (n == 0)
        return false;
    *v = own;
    return true;
}

void memctl_group_adopt_boost(MemctlGroup *grp, int dirfd)
{
    uint64_t boost;
    if (memctl_cgroup_get_mark_at(dirfd, MEMCTL_GROUP_BOOST_MARK, &boost) < 0 || boost == 0)
        return;
    MemctlFileValues own = grp->applied;
    if (!memctl_group_values_unboost(&own, boost)) {
        (void)memctl_cgroup_clear_mark(grp->path, MEMCTL_GROUP_BOOST_MARK);
        return;
    }
    grp->applied = own;
    memctl_group_limits_from_values(&own, &grp->limits);
    grp->boost = boost;
}

/* Writes high and max (those set) with `boost` on top, in `order`; on a kernel error puts back what
 * it wrote (with the group's current boost). */
static int write_boost(MemctlGroups *g, MemctlGroup *grp, uint64_t boost, const MemctlFile order[2],
                       GError **error)
{
    char buf[24];
    for (int k = 0; k < 2; k++) {
        MemctlFile f = order[k];
        uint64_t v = memctl_file_values_get(&grp->applied, f, MEMCTL_SIZE_MAX);
        if (v == MEMCTL_SIZE_MAX)
            continue;
        int r = memctl_cgroup_set(g->mount, grp->path, memctl_file_name(f),
                                  memctl_group_file_value(f, memctl_group_boosted(f, v, boost), buf));
        if (r < 0) {
            if (k == 1 && memctl_file_values_get(&grp->applied, order[0], MEMCTL_SIZE_MAX) != MEMCTL_SIZE_MAX)
                (void)memctl_cgroup_set(
                        g->mount, grp->path, memctl_file_name(order[0]),
                        memctl_group_file_value(order[0], memctl_group_enforced(grp, order[0]), buf));
            return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "%s: the kernel refused %s: %s", grp->name,
                                    memctl_file_name(f), g_strerror(-r));
        }
    }
    return 0;
}

int memctl_groups_boost(MemctlGroups *g, const char *name, uint64_t bytes, GError **error)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name);
    if (memctl_file_values_get(&grp->applied, MEMCTL_FILE_HIGH, MEMCTL_SIZE_MAX) == MEMCTL_SIZE_MAX &&
        memctl_file_values_get(&grp->applied, MEMCTL_FILE_MAX, MEMCTL_SIZE_MAX) == MEMCTL_SIZE_MAX)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT, "%s: has no limit to raise",
                                name);
    /* The mark first: a crash between it and the limits leaves a mark that memctl_group_adopt_boost drops. */
    int marked = memctl_cgroup_set_mark(grp->path, MEMCTL_GROUP_BOOST_MARK, bytes);
    static const MemctlFile up[2] = {MEMCTL_FILE_MAX, MEMCTL_FILE_HIGH}; /* high never above max */
    int r = write_boost(g, grp, bytes, up, error);
    if (r < 0) {
        if (marked == 0)
            (void)(grp->boost ? memctl_cgroup_set_mark(grp->path, MEMCTL_GROUP_BOOST_MARK, grp->boost)
                              : memctl_cgroup_clear_mark(grp->path, MEMCTL_GROUP_BOOST_MARK));
        return r;
    }
    grp->boost = bytes;
    memctl_groups_update_core(g, grp);
    memctl_groups_notify(g);
    return marked < 0 ? 1 : 0;
}

int memctl_groups_unboost(MemctlGroups *g, const char *name, GError **error)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name);
    if (grp->boost == 0)
        return 0;
    uint64_t high = memctl_file_values_get(&grp->applied, MEMCTL_FILE_HIGH, MEMCTL_SIZE_MAX);
    uint64_t max = memctl_file_values_get(&grp->applied, MEMCTL_FILE_MAX, MEMCTL_SIZE_MAX);
    uint64_t cur = 0;
    char c[MEMCTL_SIZE_FORMAT_MAX], l[MEMCTL_SIZE_FORMAT_MAX];
    int r = memctl_groups_read_u64(g, grp, MEMCTL_GROUP_FILE_CURRENT, &cur);
    if (r < 0)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "%s: memory.current: %s", name,
                                g_strerror(-r));
    uint64_t limit = high < max ? high : max;
    if (cur > limit)
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY, "%s: uses %s, above its own limit %s", name,
                                memctl_size_format(cur, c), memctl_size_format(limit, l));
    static const MemctlFile down[2] = {MEMCTL_FILE_HIGH, MEMCTL_FILE_MAX};
    r = write_boost(g, grp, 0, down, error);
    if (r < 0)
        return r;
    (void)memctl_cgroup_clear_mark(grp->path, MEMCTL_GROUP_BOOST_MARK);
    grp->boost = 0;
    memctl_groups_update_core(g, grp);
    memctl_groups_notify(g);
    return 0;
}
