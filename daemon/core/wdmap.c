/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/core/wdmap.h"

#include <errno.h>
#include <stdlib.h>

#include "basic/memlock.h"

typedef struct {
    int32_t wd; /* 0: empty (inotify's watch descriptors start at 1) */
    int32_t value;
} Entry;

struct MemctlWdMap {
    Entry *e;
    size_t mask; /* slots - 1: slots is a power of two, at least twice the entries */
    size_t limit, count;
};

int memctl_wdmap_new(size_t entries, MemctlWdMap **ret)
{
    if (entries == 0 || entries > (1u << 20))
        return -EINVAL;
    size_t slots = 4;
    while (slots < entries * 2)
        slots <<= 1;
    MemctlWdMap *m = calloc(1, sizeof(*m));
    Entry *e = calloc(slots, sizeof(*e));
    if (!m || !e) {
        free(m);
        free(e);
        return -ENOMEM;
    }
    memctl_prefault(e, slots * sizeof(*e)); /* the core thread must not fault on it */
    *m = (MemctlWdMap){.e = e, .mask = slots - 1, .limit = entries};
    *ret = m;
    return 0;
}

void memctl_wdmap_free(MemctlWdMap *m)
{
    if (!m)
        return;
    free(m->e);
    free(m);
}

/* Fibonacci hashing: watch descriptors are small consecutive numbers. */
static size_t home(const MemctlWdMap *m, int32_t wd)
{
    return (size_t)(((uint32_t)wd * 2654435769u) >> 8) & m->mask;
}

/* The index holding wd, or of the empty entry where it would go. */
static size_t find(const MemctlWdMap *m, int32_t wd)
{
    size_t i = home(m, wd);
    while (m->e[i].wd != 0 && m->e[i].wd != wd)
        i = (i + 1) & m->mask;
    return i;
}

int memctl_wdmap_put(MemctlWdMap *m, int32_t wd, int32_t value)
{
    if (wd <= 0 || value < 0)
        return -EINVAL;
    size_t i = find(m, wd);
    if (m->e[i].wd == 0) {
        if (m->count >= m->limit)
            return -ENOSPC;
        m->e[i].wd = wd;
        m->count++;
    }
    m->e[i].value = value;
    return 0;
}

int32_t memctl_wdmap_get(const MemctlWdMap *m, int32_t wd)
{
    if (wd <= 0)
        return -1;
    size_t i = find(m, wd);
    return m->e[i].wd == wd ? m->e[i].value : -1;
}

bool memctl_wdmap_remove(MemctlWdMap *m, int32_t wd)
{
    if (wd <= 0)
        return false;
    size_t i = find(m, wd);
    if (m->e[i].wd != wd)
        return false;
    /* Backward shift: later entries of the same run move up, so that no probe stops early. */
    for (size_t j = (i + 1) & m->mask; m->e[j].wd != 0; j = (j + 1) & m->mask) {
        size_t h = home(m, m->e[j].wd);
        /* entry j may fill the hole at i when its home is not within (i, j] cyclically */
        if (((j - h) & m->mask) >= ((j - i) & m->mask)) {
            m->e[i] = m->e[j];
            i = j;
        }
    }
    m->e[i] = (Entry){0};
    m->count--;
    return true;
}

size_t memctl_wdmap_count(const MemctlWdMap *m)
{
    return m->count;
}
