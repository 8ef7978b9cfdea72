/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The group table: every group memctld manages, by name and by core slot, with what each holds
 * (its settings, what is written, its boost) and the files read for status; the values its memory.*
 * files take; processes moved in. Limits are applied by group-limits.c, cgroups found by
 * group-adopt.c, boosts by group-boost.c and removals by group-remove.c, all on this table.
 */
#include "daemon/group/group.h"
#include "daemon/group/group-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "basic/size.h"
#include "daemon/error.h"
#include "daemon/group/cgroup.h"
#include "include/memctl/memctl.h"
#include "kernel/proc.h"
#include "kernel/sample.h"

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
uint64_t memctl_group_cgroup_id(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? (uint64_t)st.st_ino : 0;
}

uint64_t memctl_group_cgroup_id_at(int dirfd)
{
    struct stat st;
    return fstat(dirfd, &st) == 0 && S_ISDIR(st.st_mode) ? (uint64_t)st.st_ino : 0;
}

int memctl_groups_open_file(MemctlGroups *g, const MemctlGroup *grp, const char *file, int flags)
{
    _cleanup_close_ int dirfd = open(grp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    if (memctl_group_cgroup_id_at(dirfd) != grp->id)
        return -ESTALE;
    int fd = openat(dirfd, file, flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

void memctl_groups_drop(MemctlGroups *g, MemctlGroup *grp)
{
    (void)memctl_core_remove_group(g->core, grp->slot);
    g_hash_table_remove(g->by_slot, GINT_TO_POINTER(grp->slot));
    g_hash_table_remove(g->by_name, grp->name);
}

void memctl_group_free(MemctlGroup *grp)
{
    if (!grp)
        return;
    for (int i = 0; i < _MEMCTL_GROUP_FILE_COUNT; i++)
        if (grp->read_fd1[i])
            close(grp->read_fd1[i] - 1);
    g_free(grp->name);
    g_free(grp->path);
    g_free(grp->slice);
    g_free(grp->proactive);
    g_free(grp);
}

int memctl_groups_file_fd(MemctlGroups *g, MemctlGroup *grp, MemctlGroupFile f)
{
    static const char *const files[_MEMCTL_GROUP_FILE_COUNT] = {"memory.current",      "memory.peak",
                                                                "memory.swap.current", "memory.events",
                                                                "memory.pressure",     "memory.stat"};
    /* the files the core keeps open too: the same open file, not a second one */
    static const int core_file[_MEMCTL_GROUP_FILE_COUNT] = {
            [MEMCTL_GROUP_FILE_CURRENT] = MEMCTL_CORE_FILE_CURRENT + 1,
            [MEMCTL_GROUP_FILE_SWAP] = MEMCTL_CORE_FILE_SWAP + 1,
            [MEMCTL_GROUP_FILE_PRESSURE] = MEMCTL_CORE_FILE_PRESSURE + 1,
    };
    if (!grp->read_fd1[f]) {
        int fd = -1, r = -ENOENT;
        if (core_file[f])
            r = memctl_core_dup_file(g->core, grp->slot, (MemctlCoreFile)(core_file[f] - 1), &fd);
        if (r < 0) {
            g_autofree char *path = g_build_filename(grp->path, files[f], NULL);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return -errno;
        }
        grp->read_fd1[f] = fd + 1;
    }
    return grp->read_fd1[f] - 1;
}

ssize_t memctl_groups_read(MemctlGroups *g, MemctlGroup *grp, MemctlGroupFile f, char *buf, size_t size)
{
    int fd = memctl_groups_file_fd(g, grp, f);
    return fd < 0 ? fd : memctl_sample_read(fd, buf, size);
}

int memctl_groups_read_u64(MemctlGroups *g, MemctlGroup *grp, MemctlGroupFile f, uint64_t *ret)
{
    char buf[32];
    ssize_t n = memctl_groups_read(g, grp, f, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    return memctl_size_parse_kernel(buf, ret);
}

int memctl_groups_read_pressure(MemctlGroups *g, MemctlGroup *grp, uint32_t *ret_some_centi,
                                uint32_t *ret_full_centi)
{
    char buf[256];
    ssize_t n = memctl_groups_read(g, grp, MEMCTL_GROUP_FILE_PRESSURE, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    return memctl_sample_pressure_avg10(buf, ret_some_centi, ret_full_centi);
}

MemctlGroups *memctl_groups_new(const char *mount, const char *root, const char *proc, MemctlCore *core)
{
    MemctlGroups *g = g_new0(MemctlGroups, 1);
    g->mount = g_strdup(mount);
    g->proc = g_strdup(proc);
    g->root = g_strdup(root);
    g->core = core;
    g->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)memctl_group_free);
    g->by_slot = g_hash_table_new(g_direct_hash, g_direct_equal);
    g->removals = g_ptr_array_new();
    return g;
}

void memctl_groups_free(MemctlGroups *g)
{
    if (!g)
        return;
    g_warn_if_fail(g->removals->len == 0); /* the caller cancels them first */
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
MemctlGroup *memctl_groups_parent_of(MemctlGroups *g, const char *name)
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

uint64_t memctl_group_enforced(const MemctlGroup *grp, MemctlFile f)
{
    return memctl_group_boosted(f, memctl_file_values_get(&grp->applied, f, MEMCTL_SIZE_MAX), grp->boost);
}

/* What the core decides with: the limits in force (with a boost on top) and what else it needs. */
static MemctlCoreLimits core_limits(const MemctlGroup *grp)
{
    return (MemctlCoreLimits){
            .high = memctl_group_enforced(grp, MEMCTL_FILE_HIGH),
            .max = memctl_group_enforced(grp, MEMCTL_FILE_MAX),
            .swap_max = memctl_file_values_get(&grp->applied, MEMCTL_FILE_SWAP_MAX, UINT64_MAX),
            .oom_group = memctl_file_values_get(&grp->applied, MEMCTL_FILE_OOM_GROUP, 0) != 0,
            .prekill_usec = (uint64_t)grp->limits.prekill_timeout_ms * 1000,
    };
}

void memctl_groups_update_core(MemctlGroups *g, MemctlGroup *grp)
{
    MemctlCoreLimits l = core_limits(grp);
    (void)memctl_core_update_group(g->core, grp->slot, &l);
}

/*
 * Hands a new group to the core and then enters it in the tables. When the core cannot watch it (all
 * --max-groups slots in use, a cgroup without memory.* files) the group is in no table: nothing can
 * act on a slot that is not its own. grp is the caller's until this succeeds.
 */
int memctl_groups_add(MemctlGroups *g, MemctlGroup *grp, MemctlCoreGroupFiles *files, GError **error)
{
    MemctlCoreGroupFiles own;
    if (!files) {
        _cleanup_close_ int dirfd = open(grp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dirfd < 0 ? -errno : memctl_core_group_files_open(dirfd, &own);
        if (r < 0)
            return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "%s: cannot open the group's files: %s",
                                    grp->name, g_strerror(-r));
        files = &own;
    }
    MemctlGroup *parent = memctl_groups_parent_of(g, grp->name);
    MemctlCoreLimits l = core_limits(grp);
    int slot = memctl_core_add_group(g->core, grp->name, grp->path, files, parent ? parent->slot : -1, &l);
    if (slot < 0)
        return memctl_error_set(error, slot, slot == -ENOSPC ? MEMCTL_ERROR_BUSY : MEMCTL_ERROR_FAILED,
                                "%s: cannot watch the group: %s", grp->name,
                                slot == -ENOSPC ? "all group slots are in use (--max-groups)"
                                                : g_strerror(-slot));
    grp->slot = slot;
    if (!grp->id)
        grp->id = memctl_group_cgroup_id(grp->path);
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
