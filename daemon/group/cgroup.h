/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The cold path on the cgroup tree, inside the managed root only: checks, create, set values,
 * attach, delete. Mutations go through libcgroup; they may allocate and block, so only the GLib
 * side calls them. Paths are absolute cgroup directories below the cgroup2 mount.
 */

/* Initialises libcgroup once. Returns 0 or -errno. */
int memctl_cgroup_init(void);

/*
 * Checks that `mount` is a cgroup2 mount and `root` a path below it with no "." or ".." parts.
 * Returns 0, -ENOTDIR (not a directory), -EMEDIUMTYPE (not cgroup2), -EXDEV (root not below mount),
 * -EINVAL (malformed root).
 */
int memctl_cgroup_check_root(const char *mount, const char *root);

/*
 * Creates root if missing, moves this process into <root>/<leaf> (cgroup v2 has no processes in
 * inner nodes) and enables +memory for root's children. -EOPNOTSUPP when the memory controller is
 * not available in root (its parent does not delegate it); *ret_created says whether root was new.
 */
int memctl_cgroup_prepare_root(const char *mount, const char *root, const char *leaf, bool *ret_created);

/* Creates <root>/<name> (parents too, with +memory enabled on the way); 0, or -EEXIST if it was there. */
int memctl_cgroup_create(const char *mount, const char *path);

/*
 * Writes value to <path>/<file>: through libcgroup, except memory.high and memory.max, which are
 * written with O_NONBLOCK so that newer kernels do not reclaim in memctld's context. Returns 0 or
 * -errno (the kernel's error).
 */
int memctl_cgroup_set(const char *mount, const char *path, const char *file, const char *value);

/* Reads a single-value memory.* file ("max" is UINT64_MAX). */
int memctl_cgroup_get_u64(const char *path, const char *file, uint64_t *ret);
/* The same, for a file of the directory open as dirfd. */
int memctl_cgroup_get_u64_at(int dirfd, const char *file, uint64_t *ret);
/* cgroup.stat's nr_descendants: the live cgroups below path, at any depth. */
int memctl_cgroup_descendants(const char *path, uint64_t *ret);
/* The names of path's subdirectories (its child cgroups), from the directory entries' types without
 * a stat of each of the files beside them; NULL when path cannot be listed. */
GPtrArray *memctl_cgroup_subdirs(const char *path);

/* Moves pid into path. */
int memctl_cgroup_attach(const char *mount, const char *path, pid_t pid);

/* Removes the (empty) cgroup at path. -EBUSY while it has processes or children. */
int memctl_cgroup_delete(const char *mount, const char *path);

/* True while the cgroup at path (or a descendant) has processes: "populated 1" in cgroup.events. */
bool memctl_cgroup_is_populated(const char *path);

/*
 * Marks kept on the cgroup itself as a user.* extended attribute (kernfs keeps them in memory since
 * Linux 5.7), so that they outlive a crash of memctld and go with the cgroup: `name` without the
 * "user." prefix, the value a number. set: 0 or -errno (-EOPNOTSUPP on older kernels); get (through
 * an fd of the cgroup's directory): 0, or
 * -ENODATA when the mark is absent, -EINVAL when it is not a number (ret untouched on failure);
 * clear: 0 also when it was absent.
 */
int memctl_cgroup_set_mark(const char *path, const char *name, uint64_t value);
int memctl_cgroup_get_mark_at(int dirfd, const char *name, uint64_t *ret);
int memctl_cgroup_clear_mark(const char *path, const char *name);

/* True if path carries systemd's delegation mark: trusted.delegate, or user.delegate (systemd 251+,
 * readable without CAP_SYS_ADMIN), set to "1". */
bool memctl_cgroup_is_delegated(const char *path);

/*
 * The cgroup2 path in the text of /proc/<pid>/cgroup (its "0::" line), relative to the cgroup2
 * mount ("/system.slice/memctld.service"). -ENOENT without a cgroup2 line (cgroup v1 only),
 * -EINVAL if the path is not absolute or has "." or ".." parts (or " (deleted)").
 */
int memctl_cgroup_parse_membership(const char *text, char **ret_path);

/* The absolute path of the cgroup this process is in, from <proc_root>/self/cgroup. */
int memctl_cgroup_self(const char *mount, const char *proc_root, char **ret_path);

/*
 * The managed root systemd delegated to a process in cgroup `self` (systemd's
 * docs/CGROUP_DELEGATION.md): `self`, or its parent if the process already moved into
 * <parent>/<leaf>, when that cgroup carries the delegation mark. -ENXIO when it does not (or
 * `self` is the mount itself: the root cgroup is never delegated).
 */
int memctl_cgroup_delegated_root(const char *mount, const char *self, const char *leaf, char **ret_root);
