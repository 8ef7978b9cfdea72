/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/cgpath.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* True if [p, p + len) is "." or "..". */
static bool is_dots(const char *p, size_t len)
{
    return (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.');
}

static bool path_ok(const char *p, size_t len)
{
    static const char deleted[] = " (deleted)";
    const size_t dl = sizeof(deleted) - 1;
    if (len == 0 || p[0] != '/')
        return false;
    if (len >= dl && memcmp(p + len - dl, deleted, dl) == 0)
        return false;
    for (size_t i = 1; i <= len;) {
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        if (is_dots(p + i, j - i))
            return false;
        i = j + 1;
    }
    return true;
}

int memctl_cgpath_membership(const char *text, const char **ret_path, size_t *ret_len)
{
    for (const char *l = text; l && *l;) {
        const char *end = strchr(l, '\n');
        if (!end)
            end = l + strlen(l);
        if (strncmp(l, "0::", 3) == 0) {
            const char *p = l + 3;
            size_t len = (size_t)(end - p);
            if (!path_ok(p, len))
                return -EINVAL;
            *ret_path = p;
            *ret_len = len;
            return 0;
        }
        l = *end ? end + 1 : end;
    }
    return -ENOENT;
}

bool memctl_cgpath_within(const char *path, size_t len, const char *base)
{
    size_t bl = strlen(base);
    return len >= bl && memcmp(path, base, bl) == 0 && (len == bl || path[bl] == '/');
}
