/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/group/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <libcgroup.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fd-util.h"
#include "basic/size.h"
#include "kernel/cgpath.h"
#include "kernel/sample.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static void cgroup_freep(struct cgroup **cg)
{
    if (*cg)
        cgroup_free(cg);
}
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))

/* libcgroup's ECG* codes to -errno. */
static int cg_errno(int r)
{
    if (r == 0)
        return 0;
    if (r == ECGOTHER || r == ECGROUPVALUENOTEXIST || r == ECGROUPNOTALLOWED) {
        int e = cgroup_get_last_errno();
        return e > 0 ? -e : -EIO;
    }
    if (r == ECGROUPNOTEXIST)
        return -ENOENT;
    if (r == ECGINVAL)
        return -EINVAL;
    int e = cgroup_get_last_errno();
    return e > 0 ? -e : -EIO;
}

int memctl_cgroup_init(void)
{
    static bool done;
    if (done)
        return 0;
    int r = cgroup_init();
    if (r != 0)
        return cg_errno(r);
    done = true;
    return 0;
}

/* The path relative to the mount, as libcgroup names cgroups. */
static const char *relative(const char *mount, const char *path)
{
    size_t ml = strlen(mount);
    if (strncmp(path, mount, ml) != 0 || (path[ml] != '/' && path[ml] != '\0'))
        return NULL;
    path += ml;
    while (*path == '/')
        path++;
    return path;
}

int memctl_cgroup_check_root(const char *mount, const char *root)
{
    struct statfs sfs;
    struct stat st;
    if (stat(mount, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (statfs(mount, &sfs) < 0)
        return -errno;
    if (sfs.f_type != CGROUP2_SUPER_MAGIC)
        return -EMEDIUMTYPE;
    if (!root || root[0] != '/' || strstr(root, "//") || strstr(root, "/./") || strstr(root, "/../") ||
        g_str_has_suffix(root, "/.") || g_str_has_suffix(root, "/..") || g_str_has_suffix(root, "/"))
        return -EINVAL;
    const char *rel = relative(mount, root);
    if (!rel || !*rel)
        return -EXDEV;
    return 0;
}

static int write_file(const char *dir, const char *file, const char *value, int flags)
{
    g_autofree char *p = g_build_filename(dir, file, NULL);
    _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | flags);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    return n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
}

static bool has_controller(const char *dir, const char *file, const char *name)
{
    g_autofree char *p = g_build_filename(dir, file, NULL);
    g_autofree char *s = NULL;
    if (!g_file_get_contents(p, &s, NULL, NULL))
        return false;
    g_auto(GStrv) words = g_strsplit_set(g_strstrip(s), " ", -1);
    return g_strv_contains((const char *const *)words, name);
}

int memctl_cgroup_prepare_root(const char *mount, const char *root, const char *leaf, bool *ret_created)
{
    int r = memctl_cgroup_check_root(mount, root);
    if (r < 0)
        return r;
    bool created = false;
    if (mkdir(root, 0755) == 0)
        created = true;
    else if (errno != EEXIST)
        return -errno;
    if (!has_controller(root, "cgroup.controllers", "memory"))
        return -EOPNOTSUPP;

    g_autofree char *self = g_build_filename(root, leaf, NULL);
    if (mkdir(self, 0755) < 0 && errno != EEXIST)
        return -errno;
    char pid[24];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    if ((r = write_file(self, "cgroup.procs", pid, 0)) < 0)
        return r;
    if (!has_controller(root, "cgroup.subtree_control", "memory") &&
        (r = write_file(root, "cgroup.subtree_control", "+memory", 0)) < 0)
        return r;
    if (ret_created)
        *ret_created = created;
    return 0;
}

static int new_memory_cgroup(const char *mount, const char *path, struct cgroup **ret_cg,
                             struct cgroup_controller **ret_ctrl)
{
    const char *rel = relative(mount, path);
    if (!rel || !*rel)
        return -EXDEV;
    struct cgroup *cg = cgroup_new_cgroup(rel);
    if (!cg)
        return -ENOMEM;
    struct cgroup_controller *ctrl = cgroup_add_controller(cg, "memory");
    if (!ctrl) {
        cgroup_free(&cg);
        return -ENOMEM;
    }
    *ret_cg = cg;
    *ret_ctrl = ctrl;
    return 0;
}

int memctl_cgroup_create(const char *mount, const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return -EEXIST;
    _cleanup_cgroup_ struct cgroup *cg = NULL;
    struct cgroup_controller *ctrl;
    int r = new_memory_cgroup(mount, path, &cg, &ctrl);
    if (r < 0)
        return r;
    return cg_errno(cgroup_create_cgroup(cg, 0));
}

/*
 * memory.high and memory.max reclaim (and memory.max OOM-kills) in the writer's context when the
 * new limit is below the usage. Kernels newer than 6.1 skip that when the file is opened with
 * O_NONBLOCK and leave the work to the group's own allocators; older kernels ignore the flag. systemd
 * opens every cgroup attribute that way for the same reason. libcgroup has no way to pass the flag,
 * so these two files are written here, inside the checked subtree.
 */
static bool reclaims_on_write(const char *file)
{
    return strcmp(file, "memory.high") == 0 || strcmp(file, "memory.max") == 0;
}

int memctl_cgroup_set(const char *mount, const char *path, const char *file, const char *value)
{
    if (reclaims_on_write(file)) {
        const char *rel = relative(mount, path);
        if (!rel || !*rel)
            return -EXDEV;
        return write_file(path, file, value, O_NONBLOCK);
    }
    _cleanup_cgroup_ struct cgroup *cg = NULL;
    struct cgroup_controller *ctrl;
    int r = new_memory_cgroup(mount, path, &cg, &ctrl);
    if (r < 0)
        return r;
    /* A fresh struct with this one value: libcgroup writes every value a struct holds. */
    if ((r = cgroup_add_value_string(ctrl, file, value)) != 0)
        return cg_errno(r);
    return cg_errno(cgroup_modify_cgroup(cg));
}

int memctl_cgroup_get_u64(const char *path, const char *file, uint64_t *ret)
{
    /* One open and one read into the stack: adoption reads six of these for every group. */
    char p[PATH_MAX];
    if (snprintf(p, sizeof(p), "%s/%s", path, file) >= (int)sizeof(p))
        return -ENAMETOOLONG;
    return memctl_cgroup_get_u64_at(AT_FDCWD, p, ret);
}

int memctl_cgroup_get_u64_at(int dirfd, const char *file, uint64_t *ret)
{
    _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ENOENT : -EIO;
    return memctl_sample_read_u64(fd, ret);
}

int memctl_cgroup_descendants(const char *path, uint64_t *ret)
{
    char p[PATH_MAX], buf[256];
    if (snprintf(p, sizeof(p), "%s/cgroup.stat", path) >= (int)sizeof(p))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = memctl_sample_read(fd, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    return memctl_sample_key(buf, "nr_descendants", ret);
}

GPtrArray *memctl_cgroup_subdirs(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d)
        return NULL;
    fd = -1; /* the DIR owns it */
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        struct stat st;
        if (e->d_type == DT_DIR ||
            (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISDIR(st.st_mode)))
            g_ptr_array_add(names, g_strdup(e->d_name));
    }
    closedir(d);
    return names;
}

int memctl_cgroup_attach(const char *mount, const char *path, pid_t pid)
{
    _cleanup_cgroup_ struct cgroup *cg = NULL;
    struct cgroup_controller *ctrl;
    int r = new_memory_cgroup(mount, path, &cg, &ctrl);
    if (r < 0)
        return r;
    return cg_errno(cgroup_attach_task_pid(cg, pid));
}

int memctl_cgroup_delete(const char *mount, const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return -ENOENT;
    _cleanup_cgroup_ struct cgroup *cg = NULL;
    struct cgroup_controller *ctrl;
    int r = new_memory_cgroup(mount, path, &cg, &ctrl);
    if (r < 0)
        return r;
    /* ignore_migration=0: fail rather than move tasks somewhere we do not own. */
    r = cg_errno(cgroup_delete_cgroup(cg, 0));
    if (r == 0 && g_file_test(path, G_FILE_TEST_IS_DIR))
        r = rmdir(path) < 0 ? -errno : 0;
    return r;
}

bool memctl_cgroup_is_populated(const char *path)
{
    g_autofree char *events = g_build_filename(path, "cgroup.events", NULL);
    g_autofree char *text = NULL;
    return g_file_get_contents(events, &text, NULL, NULL) && strstr(text, "populated 1") != NULL;
}

static char *mark_name(const char *name)
{
    return g_strconcat("user.", name, NULL);
}

int memctl_cgroup_set_mark(const char *path, const char *name, uint64_t value)
{
    g_autofree char *attr = mark_name(name);
    char v[24];
    int n = g_snprintf(v, sizeof(v), "%" G_GUINT64_FORMAT, value);
    return setxattr(path, attr, v, (size_t)n, 0) < 0 ? -errno : 0;
}

int memctl_cgroup_get_mark_at(int dirfd, const char *name, uint64_t *ret)
{
    g_autofree char *attr = mark_name(name);
    char v[24];
    ssize_t n = fgetxattr(dirfd, attr, v, sizeof(v) - 1);
    if (n < 0)
        return -errno;
    v[n] = '\0';
    char *end = NULL;
    errno = 0;
    guint64 x = g_ascii_strtoull(v, &end, 10);
    if (n == 0 || errno || *end || !g_ascii_isdigit(v[0]))
        return -EINVAL;
    *ret = x;
    return 0;
}

int memctl_cgroup_clear_mark(const char *path, const char *name)
{
    g_autofree char *attr = mark_name(name);
    return removexattr(path, attr) < 0 && errno != ENODATA ? -errno : 0;
}

static bool xattr_is_one(const char *path, const char *name)
{
    char v[8];
    ssize_t n = getxattr(path, name, v, sizeof(v));
    return n == 1 && v[0] == '1';
}

bool memctl_cgroup_is_delegated(const char *path)
{
    return xattr_is_one(path, "trusted.delegate") || xattr_is_one(path, "user.delegate");
}

int memctl_cgroup_parse_membership(const char *text, char **ret_path)
{
    const char *p;
    size_t len;
    int r = memctl_cgpath_membership(text, &p, &len);
    if (r < 0)
        return r;
    *ret_path = g_strndup(p, len);
    return 0;
}

int memctl_cgroup_self(const char *mount, const char *proc_root, char **ret_path)
{
    g_autofree char *file = g_build_filename(proc_root, "self", "cgroup", NULL);
    g_autofree char *text = NULL, *rel = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(file, &text, NULL, &err))
        return err->domain == G_FILE_ERROR && err->code == G_FILE_ERROR_NOENT ? -ENOENT : -EIO;
    int r = memctl_cgroup_parse_membership(text, &rel);
    if (r < 0)
        return r;
    *ret_path = strcmp(rel, "/") == 0 ? g_strdup(mount) : g_build_filename(mount, rel, NULL);
    return 0;
}

int memctl_cgroup_delegated_root(const char *mount, const char *self, const char *leaf, char **ret_root)
{
    if (!g_str_has_prefix(self, mount) || strlen(self) <= strlen(mount))
        return -ENXIO;
    g_autofree char *base = g_path_get_basename(self);
    g_autofree char *parent = g_path_get_dirname(self);
    if (strcmp(base, leaf) == 0 && strlen(parent) > strlen(mount) && memctl_cgroup_is_delegated(parent)) {
        *ret_root = g_steal_pointer(&parent);
        return 0;
    }
    if (!memctl_cgroup_is_delegated(self))
        return -ENXIO;
    *ret_root = g_strdup(self);
    return 0;
}
