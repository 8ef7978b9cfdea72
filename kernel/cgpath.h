/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The cgroup v2 path of a process in the text of /proc/<pid>/cgroup: the "0::" line (on a hybrid
 * host the v1 controllers' lines come first), e.g. "/system.slice/memctld.service". Returns 0 with
 * *ret_path pointing into text and *ret_len its length (no NUL of its own); -ENOENT without a "0::"
 * line; -EINVAL when the path is not absolute, has a "." or ".." component, or is the kernel's
 * "(deleted)" for a removed cgroup. ret_* untouched on failure. Pure: the daemon and the OCI hook
 * (client/oci.c) share it.
 */
int memctl_cgpath_membership(const char *text, const char **ret_path, size_t *ret_len);

/* True if the cgroup path [path, path + len) is `base` ("/memctl.slice/web") or below it. */
bool memctl_cgpath_within(const char *path, size_t len, const char *base);
