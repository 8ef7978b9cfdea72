/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The removal of a group (daemon/group.h): final counters, the kill of what is left, the cgroup
 * deleted, and the core and the tables letting go. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "daemon/cgroup.h"
#include "daemon/error.h"
#include "daemon/group-internal.h"
#include "daemon/group.h"
#include "daemon/sample.h"

static bool wait_unpopulated(const char *path, int timeout_ms)
{
    g_autofree char *events = g_build_filename(path, "cgroup.events", NULL);
    int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd >= 0)
        inotify_add_watch(ifd, events, IN_MODIFY);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool empty = false;
    for (;;) {
        if (!memctl_cgroup_is_populated(path)) {
            empty = true;
            break;
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            break;
        struct pollfd p = {.fd = ifd, .events = POLLIN};
        if (ifd < 0 || poll(&p, 1, (int)MIN(left, 100)) > 0) {
            char buf[512];
            if (ifd >= 0)
                (void)!read(ifd, buf, sizeof(buf));
        }
    }
    if (ifd >= 0)
        close(ifd);
    return empty;
}

/* The group's cgroup is gone: the core lets go of it, and so do the tables (grp is freed). */
static void forget(MemctlGroups *g, MemctlGroup *grp, const MemctlGroupFinal *fin,
                   MemctlGroupFinal *ret_final)
{
    (void)memctl_core_remove_group(g->core, grp->slot);
    if (ret_final)
        *ret_final = *fin;
    g_hash_table_remove(g->by_slot, GINT_TO_POINTER(grp->slot));
    g_hash_table_remove(g->by_name, grp->name);
    memctl_groups_notify(g);
}

int memctl_groups_remove(MemctlGroups *g, const char *name, uint32_t flags, MemctlGroupFinal *ret_final,
                         GError **error)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name), -ENOENT;
    const char *child = memctl_groups_has_children(g, name);
    if (child)
        return g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_BUSY, "%s: remove its child group '%s' first",
                           name, child),
               -EBUSY;

    /* Already deleted by someone else (crun deletes a container's cgroup before its poststop hook
     * runs): the counters are the last memory.events the core read; memory.peak is gone with it. */
    if (!g_file_test(grp->path, G_FILE_TEST_IS_DIR)) {
        MemctlCoreEvents ce = {0};
        (void)memctl_core_group_events(g->core, grp->slot, &ce);
        MemctlGroupFinal gone = {.oom = ce.oom, .oom_kill = ce.oom_kill, .high = ce.high, .max = ce.max};
        forget(g, grp, &gone, ret_final);
        return 0;
    }

    /* Read the final counters before anything goes (containerd loses OOM reports otherwise). */
    MemctlGroupFinal fin = {0};
    (void)memctl_cgroup_get_u64(grp->path, "memory.peak", &fin.peak);
    g_autofree char *ev_path = g_build_filename(grp->path, "memory.events", NULL);
    g_autofree char *ev = NULL;
    if (g_file_get_contents(ev_path, &ev, NULL, NULL)) {
        (void)memctl_sample_key(ev, "oom", &fin.oom);
        (void)memctl_sample_key(ev, "oom_kill", &fin.oom_kill);
        (void)memctl_sample_key(ev, "high", &fin.high);
        (void)memctl_sample_key(ev, "max", &fin.max);
    }

    bool populated = memctl_cgroup_is_populated(grp->path);
    if (populated && !(flags & MEMCTL_REMOVE_KILL))
        return g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_BUSY,
                           "%s: the group still has processes; remove it with the kill flag", name),
               -EBUSY;

    if (populated) {
        /* cgroup.kill is written in place: g_file_set_contents() would try a temp file and rename. */
        g_autofree char *kill_path = g_build_filename(grp->path, "cgroup.kill", NULL);
        int kfd = open(kill_path, O_WRONLY | O_CLOEXEC);
        int kr = kfd < 0 || write(kfd, "1", 1) != 1 ? -errno : 0;
        if (kfd >= 0)
            close(kfd);
        if (kr < 0)
            return g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_FAILED, "%s: cannot write cgroup.kill: %s",
                               name, g_strerror(-kr)),
                   kr;
        if (!wait_unpopulated(grp->path, 5000))
            return g_set_error(error, MEMCTL_ERROR, MEMCTL_ERROR_BUSY,
                               "%s: processes did not exit within 5 s of cgroup.kill", name),
                   -EBUSY;
    }
    int r = memctl_cgroup_delete(g->mount, grp->path);
    if (r < 0)
        return g_set_error(error, MEMCTL_ERROR, r == -EBUSY ? MEMCTL_ERROR_BUSY : MEMCTL_ERROR_FAILED,
                           "%s: cannot delete %s: %s", name, grp->path, g_strerror(-r)),
               r;
    /* Only now does the core let go: a failed removal leaves the group fully managed. */
    forget(g, grp, &fin, ret_final);
    return 0;
}
