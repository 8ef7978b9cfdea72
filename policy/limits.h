/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A group's memory settings as a person, a policy file or a D-Bus caller gives them (keys "min",
 * "low", "high", "max", "swap_max", "limit", "headroom", "oom_group", "priority",
 * "prekill_timeout", "reclaim", "reclaim_pressure", "reclaim_floor"), and their resolution into the memory.*
 * values the daemon writes.
 *
 * `limit` is the user-facing knob: memory.max = limit (the kernel's backstop) and memory.high =
 * limit - headroom, so that allocators are throttled in reclaim, never failed, and memctld decides
 * before the kernel must. headroom defaults to min(5% of limit, 64 MiB).
 */

typedef enum {
    MEMCTL_KEY_MIN,
    MEMCTL_KEY_LOW,
    MEMCTL_KEY_HIGH,
    MEMCTL_KEY_MAX,
    MEMCTL_KEY_SWAP_MAX,
    MEMCTL_KEY_LIMIT,
    MEMCTL_KEY_HEADROOM,
    MEMCTL_KEY_OOM_GROUP,
    MEMCTL_KEY_PRIORITY,
    MEMCTL_KEY_PREKILL_TIMEOUT,
    MEMCTL_KEY_RECLAIM,
    MEMCTL_KEY_RECLAIM_PRESSURE,
    MEMCTL_KEY_RECLAIM_FLOOR,
    _MEMCTL_KEY_COUNT,
} MemctlKey;

#define MEMCTL_PRIORITY_MIN 1
#define MEMCTL_PRIORITY_MAX 100
#define MEMCTL_PRIORITY_DEFAULT 50
#define MEMCTL_HEADROOM_CAP (64ull << 20)
/* Freeze, then decide (docs/POLICY.md): how long a kill verdict may wait for the group's pre-kill
 * hooks, the group frozen meanwhile; 0: no wait. Milliseconds. */
#define MEMCTL_PREKILL_TIMEOUT_MAX_MS 10000
/* Proactive reclaim (docs/POLICY.md): the share of wall time the group's tasks may stall ("some"
 * in its memory.pressure) for it, in parts per million, i.e. microseconds a second. The default,
 * 0.1% (1 ms/s), is senpai's 10 ms per 6 s interval rounded down. */
#define MEMCTL_RECLAIM_PRESSURE_DEFAULT_PPM 1000
#define MEMCTL_RECLAIM_PRESSURE_MIN_PPM 10     /* 0.001%: below it PSI's own noise decides */
#define MEMCTL_RECLAIM_PRESSURE_MAX_PPM 100000 /* 10% */

typedef struct {
    uint32_t set; /* bit (1 << MemctlKey) for every key given */
    uint64_t min, low, high, max, swap_max, limit, headroom;
    bool oom_group;
    uint32_t priority;             /* 1 (first to kill across groups) .. 100 (last) */
    uint32_t prekill_timeout_ms;   /* 0 .. MEMCTL_PREKILL_TIMEOUT_MAX_MS */
    bool reclaim_auto;             /* "reclaim": "auto" (true) or "off" */
    uint32_t reclaim_pressure_ppm; /* MEMCTL_RECLAIM_PRESSURE_MIN_PPM .. _MAX_PPM */
    uint64_t reclaim_floor;        /* bytes proactive reclaim never takes the group below */
} MemctlLimits;

/* The memory.* values to write, each flagged when memctld manages it. */
typedef enum {
    MEMCTL_FILE_MIN,
    MEMCTL_FILE_LOW,
    MEMCTL_FILE_HIGH,
    MEMCTL_FILE_MAX,
    MEMCTL_FILE_SWAP_MAX,
    MEMCTL_FILE_OOM_GROUP,
    _MEMCTL_FILE_COUNT,
} MemctlFile;

typedef struct {
    uint32_t set; /* bit (1 << MemctlFile) */
    uint64_t value[_MEMCTL_FILE_COUNT];
} MemctlFileValues;

const char *memctl_key_name(MemctlKey k);
/* Returns the key for a name, or -ENOENT. */
int memctl_key_from_name(const char *name);
/* The kernel file of f: "memory.min", ..., "memory.oom.group". */
const char *memctl_file_name(MemctlFile f);

static inline bool memctl_limits_has(const MemctlLimits *l, MemctlKey k)
{
    return l->set & (1u << k);
}

/* The value written for f, or dflt when memctld does not manage that file. */
static inline uint64_t memctl_file_values_get(const MemctlFileValues *v, MemctlFile f, uint64_t dflt)
{
    return (v->set & (1u << f)) ? v->value[f] : dflt;
}

/* What the kernel holds after v is written to file f: memory.min/low/high/max and swap.max are kept
 * in pages (rounded down), "max" stays max, oom.group is 0 or 1. */
uint64_t memctl_file_value_as_kernel(MemctlFile f, uint64_t v, uint64_t page_size);

/* True if a and b manage the same files with the same values. */
bool memctl_file_values_equal(const MemctlFileValues *a, const MemctlFileValues *b);

void memctl_limits_init(MemctlLimits *l);

/*
 * Sets one key from its text value ("512M", "max", "true", "10"; prekill_timeout: "2s", "500ms", or
 * milliseconds; reclaim: "auto" or "off"; reclaim_pressure: "0.1%" (up to three decimals), "1ms"
 * (of stall a second) or microseconds a second). On failure *l is untouched and
 * the return is -ENOENT (unknown key), -EINVAL (malformed) or -ERANGE (out of range).
 */
int memctl_limits_set(MemctlLimits *l, const char *key, const char *value);

/*
 * Parses "key=value[,key=value...]" (the memctld --group syntax after the name) into *ret.
 * On failure *ret is untouched and *ret_bad_key (if given) points at the offending key inside spec,
 * with its length in *ret_bad_len.
 */
int memctl_limits_parse_list(const char *spec, MemctlLimits *ret, const char **ret_bad_key,
                             size_t *ret_bad_len);

/* The value of key k, given or not: bytes for the sizes, 0/1 for oom_group and reclaim, the
 * priority, milliseconds for prekill_timeout, parts per million for reclaim_pressure. */
uint64_t memctl_limits_get(const MemctlLimits *l, MemctlKey k);

/* Gives key k the value v (as memctl_limits_get returns it), unparsed and unchecked: for values
 * that come from valid settings or the kernel's defaults. */
void memctl_limits_put(MemctlLimits *l, MemctlKey k, uint64_t v);

/* Overlays every key set in `update` onto `base` (SetLimits semantics). */
void memctl_limits_merge(MemctlLimits *base, const MemctlLimits *update);

/*
 * Checks the settings and resolves them into file values. Rules: limit and max are exclusive;
 * with limit, an explicit high must not exceed it; headroom needs limit and must be below it;
 * min <= low <= high <= max where set. On failure returns -EINVAL and names the key at fault.
 */
int memctl_limits_resolve(const MemctlLimits *l, MemctlFileValues *ret, MemctlKey *ret_bad_key);

/* The default headroom for a limit: min(5% of limit, 64 MiB). */
uint64_t memctl_limits_default_headroom(uint64_t limit);

/*
 * The parent's memory.min must hold the sum of its children's: returns 0 if
 * sum(child_min) <= parent_min (a parent_min of "max" holds anything), -ERANGE otherwise or when the
 * sum overflows.
 */
int memctl_limits_check_children_min(uint64_t parent_min, const uint64_t *child_min, size_t n);
