/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/host-sample.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/sample.h"

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A decimal number at p (after spaces); false if there is none. */
static bool number(const char *p, uint64_t *ret)
{
    p = skip_spaces(p);
    if (*p < '0' || *p > '9')
        return false;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    *ret = v;
    return true;
}

/* If line (after its indentation) is "<word> <number>", stores the number. */
static bool field(const char *line, const char *word, uint64_t *ret)
{
    size_t n = strlen(word);
    return strncmp(line, word, n) == 0 && (line[n] == ' ' || line[n] == '\t') && number(line + n, ret);
}

int memctl_host_sample_zoneinfo(const char *text, MemctlHostSample *s)
{
    MemctlZone zones[MEMCTL_HOST_ZONES_MAX];
    int n = -1;
    for (const char *l = text; l && *l;) {
        const char *p = skip_spaces(l);
        if (strncmp(l, "Node ", 5) == 0) {
            n++;
            if (n < MEMCTL_HOST_ZONES_MAX)
                memset(&zones[n], 0, sizeof(zones[n]));
        } else if (n >= 0 && n < MEMCTL_HOST_ZONES_MAX) {
            MemctlZone *z = &zones[n];
            if (strncmp(p, "pages free", 10) == 0)
                (void)number(p + 10, &z->free);
            else if (!field(p, "min", &z->min) && !field(p, "low", &z->low) && !field(p, "high", &z->high))
                (void)field(p, "managed", &z->managed);
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    if (n < 0)
        return -EINVAL;
    uint32_t count = (uint32_t)(n + 1 > MEMCTL_HOST_ZONES_MAX ? MEMCTL_HOST_ZONES_MAX : n + 1);
    memcpy(s->zones, zones, count * sizeof(zones[0]));
    s->n_zones = count;
    return 0;
}

/* "Key:   123 kB" -> bytes */
static bool meminfo_key(const char *text, const char *key, uint64_t *ret)
{
    size_t n = strlen(key);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, key, n) == 0 && l[n] == ':') {
            uint64_t kb;
            if (!number(l + n + 1, &kb))
                return false;
            *ret = kb * 1024;
            return true;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return false;
}

int memctl_host_sample_meminfo(const char *text, MemctlHostSample *s)
{
    uint64_t total, avail, st = 0, sf = 0;
    if (!meminfo_key(text, "MemTotal", &total) || !meminfo_key(text, "MemAvailable", &avail))
        return -EINVAL;
    (void)meminfo_key(text, "SwapTotal", &st);
    (void)meminfo_key(text, "SwapFree", &sf);
    s->total = total;
    s->available = avail;
    s->swap_total = st;
    s->swap_free = sf > st ? st : sf;
    return 0;
}

int memctl_host_sample_vmstat(const char *text, MemctlHostSample *s)
{
    uint64_t steal = 0, scan = 0, refault = 0, refault_anon = 0, swapin = 0, oom_kill = 0, v;
    bool split_refaults = false, any = false;
    for (const char *l = text; l && *l;) {
        if (strncmp(l, "pgsteal_", 8) == 0 &&
            (field(l, "pgsteal_kswapd", &v) || field(l, "pgsteal_direct", &v) ||
             field(l, "pgsteal_khugepaged", &v))) {
            steal += v;
            any = true;
        } else if (strncmp(l, "pgscan_", 7) == 0 &&
                   (field(l, "pgscan_kswapd", &v) || field(l, "pgscan_direct", &v) ||
                    field(l, "pgscan_khugepaged", &v))) {
            scan += v;
        } else if (field(l, "workingset_refault_anon", &v)) {
            refault = split_refaults ? refault + v : v;
            refault_anon = v;
            split_refaults = true;
        } else if (field(l, "workingset_refault_file", &v)) {
            refault = split_refaults ? refault + v : v;
            split_refaults = true;
        } else if (field(l, "pswpin", &v)) {
            swapin = v;
        } else if (field(l, "oom_kill", &v)) {
            oom_kill = v;
        } else if (!split_refaults && field(l, "workingset_refault", &v)) {
            refault = v;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    if (!any)
        return -EINVAL;
    s->pgsteal = steal;
    s->pgscan = scan;
    s->refault = refault;
    s->refault_anon = refault_anon;
    s->swapin = swapin;
    s->oom_kill = oom_kill;
    return 0;
}

uint32_t memctl_host_sample_zram_devices(const char *text, uint32_t *ret_numbers, uint32_t max,
                                         uint32_t *ret_swaps)
{
    uint32_t n = 0, swaps = 0;
    for (const char *l = text; l && *l;) {
        uint64_t v;
        if (*l == '/')
            swaps++;
        if (n < max && strncmp(l, "/dev/zram", 9) == 0 && l[9] >= '0' && l[9] <= '9' && number(l + 9, &v) &&
            v <= UINT32_MAX) {
            const char *p = l + 9;
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p == ' ' || *p == '\t')
                ret_numbers[n++] = (uint32_t)v;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    if (ret_swaps)
        *ret_swaps = swaps;
    return n;
}

int memctl_host_sample_zram(const char *text, uint64_t *ret_orig, uint64_t *ret_used)
{
    const char *p = text;
    uint64_t v[3] = {0};
    for (int field = 0; field < 3; field++) {
        p = skip_spaces(p);
        if (!number(p, &v[field]))
            return -EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    *ret_orig = v[0];
    *ret_used = v[2];
    return 0;
}

int memctl_host_memory_read(const char *proc_root, MemctlHostMemory *ret)
{
    char path[256], text[8192]; /* the four fields are in meminfo's first lines */
    if (snprintf(path, sizeof(path), "%s/meminfo", proc_root) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    ssize_t n = memctl_sample_read_file(path, text, sizeof(text));
    if (n < 0)
        return (int)n;
    MemctlHostSample s = {0};
    if (memctl_host_sample_meminfo(text, &s) < 0 || s.total == 0)
        return -EBADMSG;
    *ret = (MemctlHostMemory){
            .total = s.total, .available = s.available, .swap_total = s.swap_total, .swap_free = s.swap_free};
    return 0;
}
