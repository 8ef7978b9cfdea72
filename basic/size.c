/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/size.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int size_shift(char c)
{
    switch (c) {
    case 'K':
    case 'k':
        return 10;
    case 'M':
    case 'm':
        return 20;
    case 'G':
    case 'g':
        return 30;
    case 'T':
    case 't':
        return 40;
    default:
        return -1;
    }
}

/* Accumulates decimal digits into *v; returns the number of digits, or -ERANGE on overflow. */
static int size_digits(const char **p, uint64_t *v)
{
    int n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
        unsigned d = (unsigned)(**p - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        *v = *v * 10 + d;
    }
    return n;
}

int memctl_size_parse(const char *s, uint64_t *ret_bytes)
{
    if (!s || !ret_bytes)
        return -EINVAL;
    if (strcmp(s, "max") == 0 || strcmp(s, "infinity") == 0) {
        *ret_bytes = MEMCTL_SIZE_MAX;
        return 0;
    }

    const char *p = s;
    uint64_t whole = 0;
    int r = size_digits(&p, &whole);
    if (r < 0)
        return r;
    if (r == 0)
        return -EINVAL;

    /* Fraction: up to 9 digits kept, as parts per 10^9. */
    uint64_t frac = 0, frac_scale = 1;
    bool has_frac = false;
    if (*p == '.') {
        p++;
        has_frac = true;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++) {
            if (n < 9) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
        }
        if (n == 0)
            return -EINVAL;
    }

    int shift = 0;
    if (*p != '\0') {
        shift = size_shift(*p);
        if (shift < 0) {
            if (*p == 'B' && p[1] == '\0' && !has_frac)
                shift = 0; /* "4096B" */
            else
                return -EINVAL;
        }
        p++;
        if (shift > 0 && (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0))
            p += strlen(p);
        if (*p != '\0')
            return -EINVAL;
    }
    if (has_frac && shift == 0)
        return -EINVAL; /* fractions of a byte make no sense */

    if (shift > 0 && whole > (UINT64_MAX >> shift))
        return -ERANGE;
    uint64_t bytes = whole << shift;
    if (has_frac) {
        /* frac/frac_scale of one unit; frac < frac_scale <= 10^9 and unit <= 2^40: no overflow. */
        uint64_t add = (frac * ((uint64_t)1 << shift)) / frac_scale;
        if (bytes > UINT64_MAX - add)
            return -ERANGE;
        bytes += add;
    }
    if (bytes == MEMCTL_SIZE_MAX)
        return -ERANGE; /* reserved for "max" */
    *ret_bytes = bytes;
    return 0;
}

int memctl_size_parse_kernel(const char *s, uint64_t *ret_bytes)
{
    if (!s || !ret_bytes)
        return -EINVAL;
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '\n')
        len--;
    if (len == 3 && memcmp(s, "max", 3) == 0) {
        *ret_bytes = MEMCTL_SIZE_MAX;
        return 0;
    }
    const char *p = s;
    uint64_t v = 0;
    int r = size_digits(&p, &v);
    if (r < 0)
        return r;
    if (r == 0 || (size_t)(p - s) != len)
        return -EINVAL;
    *ret_bytes = v;
    return 0;
}

const char *memctl_size_format(uint64_t bytes, char buf[static MEMCTL_SIZE_FORMAT_MAX])
{
    static const char units[] = "KMGTPE";
    if (bytes == MEMCTL_SIZE_MAX) {
        snprintf(buf, MEMCTL_SIZE_FORMAT_MAX, "max");
        return buf;
    }
    if (bytes < 1024) {
        snprintf(buf, MEMCTL_SIZE_FORMAT_MAX, "%uB", (unsigned)bytes);
        return buf;
    }
    int i = 0;
    uint64_t unit = 1024;
    while (i < 5 && bytes / unit >= 1024) {
        unit *= 1024;
        i++;
    }
    /* One decimal, rounded down so that a value just under a limit never prints as the limit.
     * (bytes % unit) * 10 < 2^60 * 10 < 2^64: no overflow. */
    uint64_t tenths = bytes / unit * 10 + (bytes % unit) * 10 / unit;
    /* tenths / 10 < 10240, so the narrowing is exact. */
    snprintf(buf, MEMCTL_SIZE_FORMAT_MAX, "%u.%u%c", (unsigned)(tenths / 10), (unsigned)(tenths % 10),
             units[i]);
    return buf;
}
