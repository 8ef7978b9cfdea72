/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/reserve/critical.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/error.h"
#include "basic/fd-util.h"
#include "kernel/sample.h"
#include "kernel/proc.h"
#include "basic/size.h"
#include "kernel/pidfd.h"

struct MemctlCritical {
    MemctlReserve *reserve; /* borrowed */
    MemctlGroups *groups;   /* borrowed */
    MemctlCore *core;       /* borrowed */
    char *mount, *proc;
    GPtrArray *regs; /* MemctlRegistration* */
    uint32_t next_lease;
    guint renew_source; /* retries renewals the host had no memory for, while any is pending */
};

/* The lease is no longer held (its holder keeps whatever fd or mapping it has). */
static void lease_forget(MemctlRegistration *reg)
{
    if (reg->holder_watch)
        g_bus_unwatch_name(reg->holder_watch);
    reg->holder_watch = 0;
    g_clear_pointer(&reg->holder, g_free);
    reg->lease = 0;
}

static gboolean on_renew_retry(gpointer user_data)
{
    MemctlCritical *c = user_data;
    bool pending = false;
    for (guint i = 0; i < c->regs->len; i++) {
        MemctlRegistration *reg = c->regs->pdata[i];
        if (reg->renewing && memctl_reserve_renew(&reg->mem) == 0)
            reg->renewing = false;
        pending |= reg->renewing;
    }
    if (pending)
        return G_SOURCE_CONTINUE;
    c->renew_source = 0;
    return G_SOURCE_REMOVE;
}

/* A holder is done: the registration's next holder gets new memory, and the old holder's fd and
 * mappings reach nothing the reserve still holds. */
static void lease_end(MemctlRegistration *reg)
{
    if (!reg->lease)
        return;
    lease_forget(reg);
    if (memctl_reserve_renew(&reg->mem) == 0)
        return;
    reg->renewing = true; /* no lease until the host gives the memory back: retried every second */
    if (!reg->owner->renew_source)
        reg->owner->renew_source = g_timeout_add_seconds(1, on_renew_retry, reg->owner);
}

static void registration_free(MemctlRegistration *reg)
{
    lease_forget(reg);
    if (reg->pid_source)
        g_source_remove(reg->pid_source);
    memctl_closep(&reg->pidfd);
    memctl_reserve_give_back(reg->owner->reserve, &reg->mem);
    g_free(reg->group);
    g_free(reg->min_group);
    g_free(reg);
}

static void on_group_added(MemctlGroup *grp, void *data);

MemctlCritical *memctl_critical_new(MemctlReserve *reserve, MemctlGroups *groups, MemctlCore *core,
                                    const char *mount, const char *proc)
{
    MemctlCritical *c = g_new0(MemctlCritical, 1);
    c->reserve = reserve;
    c->groups = groups;
    c->core = core;
    c->mount = g_strdup(mount);
    c->proc = g_strdup(proc);
    c->regs = g_ptr_array_new_with_free_func((GDestroyNotify)registration_free);
    memctl_groups_set_added_hook(groups, on_group_added, c);
    return c;
}

void memctl_critical_free(MemctlCritical *c)
{
    if (!c)
        return;
    if (c->renew_source)
        g_source_remove(c->renew_source);
    memctl_groups_set_added_hook(c->groups, NULL, NULL);
    g_ptr_array_unref(c->regs);
    g_free(c->mount);
    g_free(c->proc);
    g_free(c);
}

static MemctlRegistration *find(MemctlCritical *c, const char *group, int32_t pid)
{
    for (guint i = 0; i < c->regs->len; i++) {
        MemctlRegistration *reg = c->regs->pdata[i];
        if ((group && reg->group && strcmp(reg->group, group) == 0) || (pid && reg->pid == pid))
            return reg;
    }
    return NULL;
}

/* The cgroup of pid relative to the cgroup2 mount ("/memctl.slice/web"), or NULL. */
static char *pid_cgroup(MemctlCritical *c, int32_t pid)
{
    g_autofree char *path = g_strdup_printf("%s/%d/cgroup", c->proc, (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    char *line = strstr(text, "0::");
    if (!line)
        return NULL;
    line += 3;
    line[strcspn(line, "\n")] = '\0';
    return g_strdup(line);
}

/* True if cg (relative to the mount) is the group's cgroup or below it. */
static gboolean cgroup_within(MemctlCritical *c, const char *cg, const MemctlGroup *grp)
{
    size_t ml = strlen(c->mount);
    const char *rel = grp->path + ml;
    size_t rl = strlen(rel);
    return strncmp(cg, rel, rl) == 0 && (cg[rl] == '\0' || cg[rl] == '/');
}

/* The deepest managed group that holds pid, or NULL. */
static MemctlGroup *group_of_pid(MemctlCritical *c, int32_t pid)
{
    g_autofree char *cg = pid_cgroup(c, pid);
    if (!cg)
        return NULL;
    g_autoptr(GList) all = memctl_groups_list(c->groups);
    MemctlGroup *best = NULL;
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (cgroup_within(c, cg, grp) && (!best || strlen(grp->path) > strlen(best->path)))
            best = grp;
    }
    return best;
}

static uint64_t applied_min(const MemctlGroup *grp)
{
    return (grp->applied.set & (1u << MEMCTL_FILE_MIN)) ? grp->applied.value[MEMCTL_FILE_MIN] : 0;
}

static int set_min(MemctlCritical *c, const char *group, uint64_t min, GError **error)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    l.set = 1u << MEMCTL_KEY_MIN;
    l.min = min;
    return memctl_groups_set_limits(c->groups, group, &l, error);
}

/* A group entered the table under a registered name (its cgroup made again, say): it gets the
 * registration's core mark, and the memory.min the registration raised. */
static void on_group_added(MemctlGroup *grp, void *data)
{
    MemctlCritical *c = data;
    MemctlRegistration *reg = find(c, grp->name, 0);
    if (!reg)
        return;
    (void)memctl_core_set_critical(c->core, grp->slot, true);
    if (reg->size > applied_min(grp))
        (void)set_min(c, grp->name, reg->size, NULL);
}

static gboolean on_pid_exit(gint fd, GIOCondition cond, gpointer user_data)
{
    MemctlRegistration *reg = user_data;
    MemctlCritical *c = reg->owner;
    reg->pid_source = 0; /* the source ends with this callback */
    (void)memctl_critical_unregister(c, NULL, reg->pid, NULL);
    return G_SOURCE_REMOVE;
}

int memctl_critical_process_identity(MemctlCritical *c, int32_t pid, int pidfd, uint64_t *ret_start_time,
                                     uint32_t *ret_uid)
{
    g_autofree char *stat_path = g_strdup_printf("%s/%d/stat", c->proc, (int)pid);
    g_autofree char *status_path = g_strdup_printf("%s/%d/status", c->proc, (int)pid);
    g_autofree char *stat = NULL, *status = NULL;
    uint64_t flags, start, uid = 0;
    if (!g_file_get_contents(stat_path, &stat, NULL, NULL) || memctl_proc_stat(stat, &flags, &start) < 0 ||
        (ret_uid && (!g_file_get_contents(status_path, &status, NULL, NULL) ||
                     memctl_proc_status_u64(status, "Uid", &uid) < 0)))
        return -ESRCH;
    /* what was read is about the process the pidfd holds only if it still runs now */
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
        return -ESRCH;
    *ret_start_time = start;
    if (ret_uid)
        *ret_uid = (uint32_t)uid;
    return 0;
}

static int register_any(MemctlCritical *c, const char *group, int32_t pid, uint64_t start_time,
                        uint64_t bytes, GError **error);

int memctl_critical_register(MemctlCritical *c, const char *group, int32_t pid, uint64_t bytes,
                             GError **error)
{
    return register_any(c, group, pid, 0, bytes, error);
}

int memctl_critical_restore_process(MemctlCritical *c, int32_t pid, uint64_t start_time, uint64_t bytes,
                                    GError **error)
{
    if (pid <= 0 || start_time == 0)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "pid %d: a process registration needs a pid and a start time", (int)pid);
    return register_any(c, NULL, pid, start_time, bytes, error);
}

/* A registration (start_time: the process's that must still run, or 0 for any). */
static int register_any(MemctlCritical *c, const char *group, int32_t pid, uint64_t start_time,
                        uint64_t bytes, GError **error)
{
    if (group && !*group)
        group = NULL;
    if (!group == (pid <= 0))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "group, pid: give either a group name or a pid (> 0), not both");
    const char *what = group ? group : "";
    char pidbuf[16];
    if (!group) {
        g_snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
        what = pidbuf;
    }
    if (find(c, group, pid))
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY, "%s%s is registered already",
                                group ? "group " : "pid ", what);
    uint64_t total = memctl_reserve_total(c->reserve), avail = memctl_reserve_free_bytes(c->reserve);
    if (bytes > avail) {
        char b[16], f[16], t[16];
        return memctl_error_set(error, -ENOSPC, MEMCTL_ERROR_RESERVE_EXHAUSTED,
                                "reserve_bytes: %s asked, %s of the %s reserve left unregistered",
                                memctl_size_format(bytes, b), memctl_size_format(avail, f),
                                memctl_size_format(total, t));
    }

    g_autofree MemctlRegistration *reg = g_new0(MemctlRegistration, 1);
    reg->owner = c;
    reg->pidfd = -1;
    reg->mem.fd = -1;
    MemctlGroup *min_grp = NULL;
    int slot = -1;
    if (group) {
        min_grp = memctl_groups_lookup(c->groups, group);
        if (!min_grp)
            return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'", group);
        slot = min_grp->slot;
    } else {
        if (pid == getpid())
            return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                    "pid: %d is memctld itself", (int)pid);
        reg->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (reg->pidfd < 0 ||
            memctl_critical_process_identity(c, pid, reg->pidfd, &reg->start_time, NULL) < 0) {
            memctl_closep(&reg->pidfd);
            return memctl_error_set(error, -ESRCH, MEMCTL_ERROR_INVALID_ARGUMENT, "pid: no process %d",
                                    (int)pid);
        }
        if (start_time && reg->start_time != start_time) {
            memctl_closep(&reg->pidfd);
            return memctl_error_set(
                    error, -ESRCH, MEMCTL_ERROR_INVALID_ARGUMENT,
                    "pid %d: not the process registered before (it started at another time: that "
                    "one ended and its pid is someone else's now)",
                    (int)pid);
        }
        min_grp = group_of_pid(c, pid);
    }

    int r = bytes ? memctl_reserve_carve(c->reserve, bytes, &reg->mem) : 0;
    if (r < 0) {
        memctl_closep(&reg->pidfd);
        return memctl_error_set(error, r, r == -ENOSPC ? MEMCTL_ERROR_RESERVE_EXHAUSTED : MEMCTL_ERROR_FAILED,
                                "reserve_bytes: cannot carve a lease from the reserve: %s", g_strerror(-r));
    }
    reg->size = reg->mem.size;
    r = group ? memctl_core_set_critical(c->core, slot, true)
              : memctl_core_set_critical_pid(c->core, pid, true);
    if (r < 0) {
        memctl_reserve_give_back(c->reserve, &reg->mem);
        memctl_closep(&reg->pidfd);
        return memctl_error_set(error, r, MEMCTL_ERROR_BUSY, "the core cannot take another critical %s: %s",
                                group ? "group" : "pid", g_strerror(-r));
    }
    /* memory.min of the group up to the registered size (never lowered), validated against the
     * parent like any min. */
    if (min_grp && reg->size > applied_min(min_grp)) {
        reg->prev_min = applied_min(min_grp);
        r = set_min(c, min_grp->name, reg->size, error);
        if (r < 0) {
            if (group)
                (void)memctl_core_set_critical(c->core, slot, false);
            else
                (void)memctl_core_set_critical_pid(c->core, pid, false);
            memctl_reserve_give_back(c->reserve, &reg->mem);
            memctl_closep(&reg->pidfd);
            return r;
        }
        reg->min_group = g_strdup(min_grp->name);
    }
    reg->group = g_strdup(group);
    reg->pid = group ? 0 : pid;
    if (reg->pidfd >= 0)
        reg->pid_source = g_unix_fd_add(reg->pidfd, G_IO_IN, on_pid_exit, reg);
    g_ptr_array_add(c->regs, g_steal_pointer(&reg));
    return 0;
}

int memctl_critical_unregister(MemctlCritical *c, const char *group, int32_t pid, GError **error)
{
    if (group && !*group)
        group = NULL;
    MemctlRegistration *reg = (group || pid > 0) ? find(c, group, group ? 0 : pid) : NULL;
    if (!reg)
        return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_INVALID_ARGUMENT, "%s%s%.0d is not registered",
                                group ? "group " : "pid ", group ? group : "", group ? 0 : (int)pid);
    MemctlGroup *boosted = reg->group ? memctl_groups_get(c->groups, reg->group) : NULL;
    if (boosted && boosted->boost) {
        /* the group runs on the reserve: its own limits first, or it would be over them */
        if (memctl_groups_unboost(c->groups, reg->group, error) < 0)
            return -EBUSY;
    }
    if (reg->group) {
        MemctlGroup *grp = memctl_groups_get(c->groups, reg->group);
        if (grp)
            (void)memctl_core_set_critical(c->core, grp->slot, false);
    } else {
        (void)memctl_core_set_critical_pid(c->core, reg->pid, false);
    }
    /* min goes back to what it was, unless someone changed it since */
    if (reg->min_group) {
        MemctlGroup *grp = memctl_groups_get(c->groups, reg->min_group);
        if (grp && applied_min(grp) == reg->size)
            (void)set_min(c, grp->name, reg->prev_min, NULL);
    }
    g_ptr_array_remove(c->regs, reg);
    return 0;
}

MemctlRegistration *memctl_critical_find_for_pid(MemctlCritical *c, int32_t pid)
{
    MemctlRegistration *own = find(c, NULL, pid);
    if (own)
        return own;
    g_autofree char *cg = pid_cgroup(c, pid);
    if (!cg)
        return NULL;
    for (guint i = 0; i < c->regs->len; i++) {
        MemctlRegistration *reg = c->regs->pdata[i];
        MemctlGroup *grp = reg->group ? memctl_groups_get(c->groups, reg->group) : NULL;
        if (grp && cgroup_within(c, cg, grp))
            return reg;
    }
    return NULL;
}

static void on_holder_vanished(GDBusConnection *conn, const char *name, gpointer user_data)
{
    lease_end(user_data); /* the client exited or died: the registration gets new memory */
}

int memctl_critical_acquire(MemctlCritical *c, MemctlRegistration *reg, GDBusConnection *conn,
                            const char *holder, uint64_t bytes, int *ret_fd, uint64_t *ret_size,
                            uint32_t *ret_lease, GError **error)
{
    char b[16], s[16];
    if (bytes == 0)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT, "bytes: must be above 0");
    if (reg->size == 0)
        return memctl_error_set(error, -ENOSPC, MEMCTL_ERROR_RESERVE_EXHAUSTED,
                                "bytes: this client is registered without a reserve");
    if (bytes > reg->size)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "bytes: %s is more than the %s registered", memctl_size_format(bytes, b),
                                memctl_size_format(reg->size, s));
    if (reg->lease)
        return memctl_error_set(error, -EBUSY, MEMCTL_ERROR_BUSY,
                                "lease %u is held already (one lease per client)", reg->lease);
    if (reg->renewing)
        return memctl_error_set(
                error, -ENOSPC, MEMCTL_ERROR_RESERVE_EXHAUSTED,
                "bytes: the lease is being renewed after its previous holder and the host has "
                "not had the memory for it yet; retry");
    if (reg->lent)
        return memctl_error_set(error, -ENOSPC, MEMCTL_ERROR_RESERVE_EXHAUSTED,
                                "bytes: the reserve is lent to group %s as a boost (%s above its limits) "
                                "until host pressure is over",
                                reg->group ? reg->group : "?", memctl_size_format(reg->size, b));
    _cleanup_close_ int fd = fcntl(reg->mem.fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "cannot duplicate the lease: %s",
                                g_strerror(errno));
    if (++c->next_lease == 0)
        c->next_lease = 1;
    reg->lease = c->next_lease;
    reg->holder = g_strdup(holder);
    reg->holder_watch = g_bus_watch_name_on_connection(conn, holder, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                                       on_holder_vanished, reg, NULL);
    *ret_fd = memctl_fd_steal(&fd);
    *ret_size = reg->size;
    *ret_lease = reg->lease;
    return 0;
}

int memctl_critical_release(MemctlCritical *c, const char *holder, uint32_t lease, GError **error)
{
    for (guint i = 0; lease && i < c->regs->len; i++) {
        MemctlRegistration *reg = c->regs->pdata[i];
        if (reg->lease != lease)
            continue;
        if (holder && g_strcmp0(holder, reg->holder) != 0)
            return memctl_error_set(error, -EPERM, MEMCTL_ERROR_ACCESS_DENIED,
                                    "lease: %u is held by another connection", lease);
        lease_end(reg);
        return 0;
    }
    return memctl_error_set(error, -ENOENT, MEMCTL_ERROR_INVALID_ARGUMENT, "lease: %u is not held", lease);
}

gboolean memctl_critical_group_is_critical(MemctlCritical *c, const char *group)
{
    return find(c, group, 0) != NULL;
}

int32_t memctl_critical_pid_within(MemctlCritical *c, const MemctlGroup *grp)
{
    for (guint i = 0; i < c->regs->len; i++) {
        const MemctlRegistration *reg = c->regs->pdata[i];
        if (reg->pid <= 0)
            continue;
        g_autofree char *cg = pid_cgroup(c, reg->pid);
        if (cg && cgroup_within(c, cg, grp))
            return reg->pid;
    }
    return 0;
}

GPtrArray *memctl_critical_list(MemctlCritical *c)
{
    return c->regs;
}

uint64_t memctl_critical_registered_bytes(MemctlCritical *c)
{
    uint64_t n = 0;
    for (guint i = 0; i < c->regs->len; i++)
        n += ((MemctlRegistration *)c->regs->pdata[i])->size;
    return n;
}

uint64_t memctl_critical_leased_bytes(MemctlCritical *c)
{
    uint64_t n = 0;
    for (guint i = 0; i < c->regs->len; i++) {
        MemctlRegistration *reg = c->regs->pdata[i];
        n += reg->lease ? reg->size : 0;
    }
    return n;
}

uint64_t memctl_critical_resident_bytes(MemctlCritical *c)
{
    uint64_t n = memctl_reserve_resident(c->reserve);
    for (guint i = 0; i < c->regs->len; i++)
        n += memctl_reserve_lease_resident(&((MemctlRegistration *)c->regs->pdata[i])->mem);
    return n;
}
