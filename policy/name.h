/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Group names: '/'-separated components of [A-Za-z0-9_.:@-], none empty, "." or "..", none starting
 * with a controller's file prefix ("memory.", "cgroup.", ...), at most MEMCTL_GROUP_DEPTH_MAX deep and
 * MEMCTL_GROUP_NAME_MAX long; the top-level name of memctld's own leaf is reserved.
 * Returns 0, or -EINVAL (bad character or component), -ENAMETOOLONG, -EPERM (reserved).
 */
int memctl_group_name_check(const char *name);
