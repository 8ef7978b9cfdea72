/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/proc.h"

#include <errno.h>
#include <string.h>

#include "basic/str.h"

/* A decimal number at *p (advanced past it): 0, -EINVAL without a digit, -ERANGE on overflow. */
static int parse_number(const char **p, uint64_t *ret)
{
    uint64_t v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *p = s;
    *ret = v;
    return 0;
}

int memctl_proc_status_u64(const char *text, const char *key, uint64_t *ret)
{
    /* "Name:" comes first and is the only line a process chooses: lines are matched from their
     * start, and a name cannot hold a newline in status (the kernel escapes it as "\n"). */
    const char *p = memctl_str_line_value(text, key, ':');
    if (!p)
        return -ENOENT;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t v;
    int r = parse_number(&p, &v);
    if (r < 0)
        return r == -ERANGE ? -EINVAL : r;
    *ret = v;
    return 0;
}

int memctl_proc_stat(const char *text, uint64_t *ret_flags, uint64_t *ret_start_time)
{
    /* "pid (comm) state ppid ...": comm may hold ") " itself, so the fields start after the last ')'. */
    const char *p = strrchr(text, ')');
    if (!p || p[1] != ' ')
        return -EINVAL;
    p += 2;
    uint64_t flags = 0, start = 0;
    /* field 3 is the state (one letter), then fields 4.. are numbers (some may be negative) */
    for (int field = 3; field <= 22; field++) {
        const char *end = strchr(p, ' ');
        if (!end && field < 22)
            return -EINVAL;
        if (field == 9 || field == 22) {
            const char *q = p;
            uint64_t v;
            if (parse_number(&q, &v) < 0 || (*q != ' ' && *q != '\0' && *q != '\n'))
                return -EINVAL;
            if (field == 9)
                flags = v;
            else
                start = v;
        }
        if (!end)
            break;
        p = end + 1;
    }
    *ret_flags = flags;
    *ret_start_time = start;
    return 0;
}

int memctl_proc_fdinfo_pid(const char *text, int32_t *ret_pid)
{
    const char *p = memctl_str_line_value(text, "Pid", ':');
    if (!p)
        return -ENOENT;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '-')
        return -ESRCH;
    uint64_t v;
    if (parse_number(&p, &v) < 0 || v == 0 || v > INT32_MAX)
        return -EINVAL;
    *ret_pid = (int32_t)v;
    return 0;
}
