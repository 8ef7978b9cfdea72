/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/name.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "include/memctl/memctl.h"

static bool name_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '.' || ch == ':' || ch == '@' || ch == '-';
}

static bool component_ok(const char *p, size_t len)
{
    static const char *const prefixes[] = {"cgroup.", "memory.", "cpu.",     "cpuset.", "io.",
                                           "pids.",   "rdma.",   "hugetlb.", "misc."};
    if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char_ok(p[i]))
            return false;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i]);
        if (len >= pl && strncmp(p, prefixes[i], pl) == 0)
            return false;
    }
    return true;
}

int memctl_group_name_check(const char *name)
{
    if (!name || !*name)
        return -EINVAL;
    size_t total = strlen(name);
    if (total > MEMCTL_GROUP_NAME_MAX)
        return -ENAMETOOLONG;
    int depth = 0;
    for (const char *p = name;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!component_ok(p, len))
            return -EINVAL;
        if (++depth > MEMCTL_GROUP_DEPTH_MAX)
            return -ENAMETOOLONG;
        if (depth == 1 && !slash && strcmp(name, MEMCTL_SELF_LEAF) == 0)
            return -EPERM;
        if (depth == 1 && len == strlen(MEMCTL_SELF_LEAF) && strncmp(p, MEMCTL_SELF_LEAF, len) == 0)
            return -EPERM;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}
