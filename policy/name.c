/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/name.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "include/memctl/memctl.h"

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool name_char_ok(char ch)
{
    return is_alnum(ch) || ch == '_' || ch == '.' || ch == ':' || ch == '@' || ch == '-';
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
        if (depth == 1 && ((len == strlen(MEMCTL_SELF_LEAF) && strncmp(p, MEMCTL_SELF_LEAF, len) == 0) ||
                           (len == strlen(MEMCTL_HOOKS_LEAF) && strncmp(p, MEMCTL_HOOKS_LEAF, len) == 0)))
            return -EPERM;
        /* Hidden top-level names belong to the service manager: systemd creates ".control" in a
         * delegated cgroup for ExecReload= and the like (docs/CGROUP_DELEGATION.md). */
        if (depth == 1 && p[0] == '.')
            return -EPERM;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}

const char *memctl_group_name_problem(int error)
{
    switch (error) {
    case -EPERM:
        return "reserved for memctld itself, or (starting with '.') for the service manager";
    case -ENAMETOOLONG:
        return "too long or too deep";
    default:
        return "use '/'-separated parts of letters, digits and _.:@-, none '.' or '..'";
    }
}

int memctl_group_name_escape(const char *name, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!*name) {
        if (size < 2)
            return -ENOBUFS;
        buf[0] = '_';
        buf[1] = '\0';
        return 1;
    }
    for (const char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        size_t need = is_alnum((char)ch) ? 1 : 3;
        if (n + need + 1 > size)
            return -ENOBUFS;
        if (need == 1) {
            buf[n++] = (char)ch;
        } else {
            buf[n++] = '_';
            buf[n++] = hex[ch >> 4];
            buf[n++] = hex[ch & 15];
        }
    }
    buf[n] = '\0';
    return (int)n;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int memctl_group_name_unescape(const char *element, char *buf, size_t size)
{
    size_t n = 0;
    if (strcmp(element, "_") == 0) {
        if (size < 1)
            return -ENOBUFS;
        buf[0] = '\0';
        return 0;
    }
    for (const char *p = element; *p; p++) {
        char ch = *p;
        if (ch == '_') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return -EINVAL;
            ch = (char)(hi << 4 | lo);
            if (is_alnum(ch) || ch == '\0')
                return -EINVAL; /* not what escape would write */
            p += 2;
        } else if (!is_alnum(ch)) {
            return -EINVAL;
        }
        if (n + 2 > size)
            return -ENOBUFS;
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return (int)n;
}

int memctl_slice_name_check(const char *slice)
{
    if (!slice)
        return -EINVAL;
    size_t total = strlen(slice);
    if (total == 0)
        return 0;
    if (total > MEMCTL_SLICE_NAME_MAX)
        return -ENAMETOOLONG;
    for (const char *p = slice;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return -EINVAL;
        for (size_t i = 0; i < len; i++)
            if (!is_alnum(p[i]) && p[i] != ':' && p[i] != '_' && p[i] != '.' && p[i] != '@' && p[i] != '-' &&
                p[i] != '\\')
                return -EINVAL;
        if (!slash)
            return 0;
        p = slash + 1;
    }
}

const char *memctl_slice_name_problem(int error)
{
    return error == -ENAMETOOLONG ? "longer than 255" : "'/'-separated unit names of [A-Za-z0-9:_.@\\-]";
}
