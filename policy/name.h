/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Group names: '/'-separated components of [A-Za-z0-9_.:@-], none empty, "." or "..", none starting
 * with a controller's file prefix ("memory.", "cgroup.", ...), at most MEMCTL_GROUP_DEPTH_MAX deep and
 * MEMCTL_GROUP_NAME_MAX long; the top-level name of memctld's own leaf is reserved.
 * Returns 0, or -EINVAL (bad character or component), -ENAMETOOLONG, -EPERM (reserved).
 */
int memctl_group_name_check(const char *name);

/*
 * The systemd-style name a group is shown under ("machines.slice", "machines.slice/ctr-1.scope"):
 * '/'-separated unit names of [A-Za-z0-9:_.@\\-], none empty, "." or "..", at most
 * MEMCTL_SLICE_NAME_MAX long. A label for display and metrics only: memctld never looks it up
 * in systemd nor creates it. "" (no label) is valid. Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int memctl_slice_name_check(const char *slice);

/* What is wrong, in words, for an error of memctl_slice_name_check(). */
const char *memctl_slice_name_problem(int error);

/* What is wrong, in words, for an error of memctl_group_name_check(). */
const char *memctl_group_name_problem(int error);

/*
 * The D-Bus object path element of a group name: every byte outside [A-Za-z0-9] becomes _xx
 * (lower-case hex), as systemd escapes unit names ("tenants/a" -> "tenants_2fa"); "" becomes "_".
 * Writes a NUL-terminated string into buf; returns its length, or -ENOBUFS if it does not fit
 * (3 * strlen(name) + 1 bytes always do).
 */
int memctl_group_name_escape(const char *name, char *buf, size_t size);

/* The reverse: returns the length, -EINVAL for an element that no escape produces, -ENOBUFS. */
int memctl_group_name_unescape(const char *element, char *buf, size_t size);
