/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The removal of a group (daemon/group/group.h): final counters, the kill of what is left (waited for
 * without blocking the main loop), the cgroup deleted, and the core and the tables letting go. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "daemon/group/cgroup.h"
#include "daemon/error.h"
#include "basic/fd-util.h"
#include "daemon/group/group-internal.h"
#include "daemon/group/group.h"
#include "kernel/sample.h"

/* How long RemoveGroup with the kill flag waits for the group's processes to exit. */
#define REMOVE_KILL_TIMEOUT_MS 5000

/* The group's cgroup is gone: the core lets go of it, and so do the tables (grp is freed). */
static void forget(MemctlGroups *g, MemctlGroup *grp, const MemctlGroupFinal *fin,
                   MemctlGroupFinal *ret_final)
{
    if (ret_final)
        *ret_final = *fin;
    memctl_groups_drop(g, grp);
    memctl_groups_notify(g);
}

/* Checks that name can be removed at all: it exists, has no child groups, is not being removed.
 * 0 with *ret, or -ENOENT / -EBUSY with *error. */
static int removable(MemctlGroups *g, const char *name, MemctlGroup **ret, GError **error)
{
    MemctlGroup *grp = memctl_groups_get(g, name);
    if (!grp)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", name);
    const char *child = memctl_groups_has_children(g, name);
    if (child)
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY, "%s: remove its child group '%s' first",
                                name, child);
    if (grp->removal)
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY, "%s: a removal is in progress", name);
    *ret = grp;
    return 0;
}

/* The counters read before anything goes (containerd loses OOM reports otherwise). */
static MemctlGroupFinal read_final(const MemctlGroup *grp)
{
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
    return fin;
}

/* Deletes the (empty) cgroup and lets go of the group. */
static int delete_and_forget(MemctlGroups *g, MemctlGroup *grp, const MemctlGroupFinal *fin,
                             MemctlGroupFinal *ret_final, GError **error)
{
    int r = memctl_cgroup_delete(g->mount, grp->path);
    if (r < 0)
        return memctl_error_set(error, r, r == -EBUSY ? MEMCTL_ERROR_BUSY : MEMCTL_ERROR_FAILED,
                                "%s: cannot delete %s: %s", grp->name, grp->path, g_strerror(-r));
    /* Only now does the core let go: a failed removal leaves the group fully managed. */
    forget(g, grp, fin, ret_final);
    return 0;
}

int memctl_groups_remove(MemctlGroups *g, const char *name, MemctlGroupFinal *ret_final, GError **error)
{
    MemctlGroup *grp = NULL;
    int r = removable(g, name, &grp, error);
    if (r < 0)
        return r;

    /* Already deleted by someone else (crun deletes a container's cgroup before its poststop hook
     * runs): the counters are the last memory.events the core read; memory.peak is gone with it. */
    if (!g_file_test(grp->path, G_FILE_TEST_IS_DIR)) {
        MemctlCoreEvents ce = {0};
        (void)memctl_core_group_events(g->core, grp->slot, &ce);
        MemctlGroupFinal gone = {.oom = ce.oom, .oom_kill = ce.oom_kill, .high = ce.high, .max = ce.max};
        forget(g, grp, &gone, ret_final);
        return 0;
    }
    if (memctl_cgroup_is_populated(grp->path))
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY,
                                "%s: the group still has processes; remove it with the kill flag", name);
    MemctlGroupFinal fin = read_final(grp);
    return delete_and_forget(g, grp, &fin, ret_final, error);
}

/* ---- removal with the kill flag ----------------------------------------------------------------- */

struct MemctlRemoval {
    MemctlGroups *g;
    char *name;
    MemctlGroupFinal fin;
    int ifd;
    guint io, timeout;
    MemctlGroupsRemoved done;
    void *data;
};

static void removal_free(MemctlRemoval *rm)
{
    if (rm->io)
        g_source_remove(rm->io);
    if (rm->timeout)
        g_source_remove(rm->timeout);
    memctl_closep(&rm->ifd);
    g_free(rm->name);
    g_free(rm);
}

/* Ends a removal: the group forgets it, the caller hears the outcome, rm is freed. */
static void removal_end(MemctlRemoval *rm, int r, const GError *error)
{
    MemctlGroup *grp = memctl_groups_get(rm->g, rm->name);
    if (grp && grp->removal == rm)
        grp->removal = NULL;
    g_ptr_array_remove(rm->g->removals, rm);
    rm->done(r, r == 0 ? &rm->fin : NULL, error, rm->data);
    removal_free(rm);
}

/* True once the group's processes are gone (or the group itself). */
static bool removal_ready(MemctlRemoval *rm)
{
    MemctlGroup *grp = memctl_groups_get(rm->g, rm->name);
    return !grp || !g_file_test(grp->path, G_FILE_TEST_IS_DIR) || !memctl_cgroup_is_populated(grp->path);
}

/* The group is empty: the cgroup is deleted and the removal ends (rm is freed). */
static void removal_finish(MemctlRemoval *rm)
{
    MemctlGroup *grp = memctl_groups_get(rm->g, rm->name);
    g_autoptr(GError) err = NULL;
    int r = 0;
    if (grp) {
        grp->removal = NULL;
        if (g_file_test(grp->path, G_FILE_TEST_IS_DIR))
            r = delete_and_forget(rm->g, grp, &rm->fin, NULL, &err);
        else
            forget(rm->g, grp, &rm->fin, NULL);
    }
    removal_end(rm, r, err);
}

static gboolean on_removal_event(gint fd, GIOCondition cond, gpointer data)
{
    MemctlRemoval *rm = data;
    char buf[512];
    (void)!read(fd, buf, sizeof(buf));
    if (!removal_ready(rm))
        return G_SOURCE_CONTINUE;
    rm->io = 0; /* this source ends with the callback */
    removal_finish(rm);
    return G_SOURCE_REMOVE;
}

static gboolean on_removal_timeout(gpointer data)
{
    MemctlRemoval *rm = data;
    rm->timeout = 0; /* this source ends with the callback */
    if (removal_ready(rm)) {
        removal_finish(rm);
        return G_SOURCE_REMOVE;
    }
    g_autoptr(GError) err = g_error_new(MEMCTL_ERROR, MEMCTL_ERROR_BUSY,
                                        "%s: processes did not exit within %d s of cgroup.kill; the group "
                                        "stays managed",
                                        rm->name, REMOVE_KILL_TIMEOUT_MS / 1000);
    removal_end(rm, -EBUSY, err);
    return G_SOURCE_REMOVE;
}

int memctl_groups_remove_killing(MemctlGroups *g, const char *name, MemctlGroupsRemoved done, void *data,
                                 GError **error)
{
    MemctlGroup *grp = NULL;
    int r = removable(g, name, &grp, error);
    if (r < 0)
        return r;
    if (memctl_groups_holds_self(g, grp))
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY,
                                "%s: memctld itself is in the group; it does not kill itself", name);
    g_autofree char *events = g_build_filename(grp->path, "cgroup.events", NULL);
    _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0 || inotify_add_watch(ifd, events, IN_MODIFY) < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "%s: cannot watch cgroup.events: %s",
                                name, g_strerror(errno));
    MemctlGroupFinal fin = read_final(grp);
    /* cgroup.kill is written in place: g_file_set_contents() would try a temp file and rename. */
    g_autofree char *kill_path = g_build_filename(grp->path, "cgroup.kill", NULL);
    _cleanup_close_ int kfd = open(kill_path, O_WRONLY | O_CLOEXEC);
    if (kfd < 0 || write(kfd, "1", 1) != 1)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "%s: cannot write cgroup.kill: %s", name,
                                g_strerror(errno));
    MemctlRemoval *rm = g_new0(MemctlRemoval, 1);
    rm->g = g;
    rm->name = g_strdup(name);
    rm->fin = fin;
    rm->ifd = memctl_fd_steal(&ifd);
    rm->done = done;
    rm->data = data;
    rm->io = g_unix_fd_add(rm->ifd, G_IO_IN, on_removal_event, rm);
    /* Already empty (the kill was quick, or there was nothing left): the end comes from the main loop
     * all the same, so that the caller hears from `done` only after this returns. */
    rm->timeout = g_timeout_add(memctl_cgroup_is_populated(grp->path) ? REMOVE_KILL_TIMEOUT_MS : 0,
                                on_removal_timeout, rm);
    grp->removal = rm;
    g_ptr_array_add(g->removals, rm);
    return 0;
}

void memctl_groups_cancel_removals(MemctlGroups *g)
{
    while (g->removals->len > 0) {
        MemctlRemoval *rm = g->removals->pdata[g->removals->len - 1];
        g_autoptr(GError) err = g_error_new(MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                            "%s: memctld stopped before the removal ended", rm->name);
        removal_end(rm, -ECANCELED, err);
    }
}
