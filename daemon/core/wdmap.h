/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The core's inotify watches, by watch descriptor: each memory.events.local or cgroup.events watch
 * says which slot it belongs to, so that an event costs one lookup instead of a scan of every group
 * (10,000 groups: 10,000 compares per event). Open addressing with linear probing, sized once for a
 * load of at most a half; put, get and remove never allocate.
 */
typedef struct MemctlWdMap MemctlWdMap;

/* A table for up to `entries` watches. Returns 0 or -errno. */
int memctl_wdmap_new(size_t entries, MemctlWdMap **ret);
void memctl_wdmap_free(MemctlWdMap *m);

/* Enters wd (> 0) with value (≥ 0), replacing the value it had; -EINVAL for a bad wd or value,
 * -ENOSPC when the table holds `entries` watches already. */
int memctl_wdmap_put(MemctlWdMap *m, int32_t wd, int32_t value);
/* The value of wd, or -1. */
int32_t memctl_wdmap_get(const MemctlWdMap *m, int32_t wd);
/* Removes wd; true if it was there. */
bool memctl_wdmap_remove(MemctlWdMap *m, int32_t wd);
size_t memctl_wdmap_count(const MemctlWdMap *m);
