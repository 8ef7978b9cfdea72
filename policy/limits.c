/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/limits.h"

#include <errno.h>
#include <string.h>

#include "basic/size.h"

static const char *const key_names[_MEMCTL_KEY_COUNT] = {
        [MEMCTL_KEY_MIN] = "min",
        [MEMCTL_KEY_LOW] = "low",
        [MEMCTL_KEY_HIGH] = "high",
        [MEMCTL_KEY_MAX] = "max",
        [MEMCTL_KEY_SWAP_MAX] = "swap_max",
        [MEMCTL_KEY_LIMIT] = "limit",
        [MEMCTL_KEY_HEADROOM] = "headroom",
        [MEMCTL_KEY_OOM_GROUP] = "oom_group",
        [MEMCTL_KEY_PRIORITY] = "priority",
        [MEMCTL_KEY_PREKILL_TIMEOUT] = "prekill_timeout",
        [MEMCTL_KEY_RECLAIM] = "reclaim",
        [MEMCTL_KEY_RECLAIM_PRESSURE] = "reclaim_pressure",
        [MEMCTL_KEY_RECLAIM_FLOOR] = "reclaim_floor",
};

static const char *const file_names[_MEMCTL_FILE_COUNT] = {
        [MEMCTL_FILE_MIN] = "memory.min",           [MEMCTL_FILE_LOW] = "memory.low",
        [MEMCTL_FILE_HIGH] = "memory.high",         [MEMCTL_FILE_MAX] = "memory.max",
        [MEMCTL_FILE_SWAP_MAX] = "memory.swap.max", [MEMCTL_FILE_OOM_GROUP] = "memory.oom.group",
};

const char *memctl_key_name(MemctlKey k)
{
    return (unsigned)k < _MEMCTL_KEY_COUNT ? key_names[k] : NULL;
}

int memctl_key_from_name(const char *name)
{
    for (int k = 0; k < _MEMCTL_KEY_COUNT; k++)
        if (strcmp(name, key_names[k]) == 0)
            return k;
    return -ENOENT;
}

const char *memctl_file_name(MemctlFile f)
{
    return (unsigned)f < _MEMCTL_FILE_COUNT ? file_names[f] : NULL;
}

uint64_t memctl_file_value_as_kernel(MemctlFile f, uint64_t v, uint64_t page_size)
{
    if (f == MEMCTL_FILE_OOM_GROUP)
        return v != 0;
    if (v == MEMCTL_SIZE_MAX || page_size == 0)
        return v;
    return v / page_size * page_size;
}

bool memctl_file_values_equal(const MemctlFileValues *a, const MemctlFileValues *b)
{
    if (a->set != b->set)
        return false;
    for (int f = 0; f < _MEMCTL_FILE_COUNT; f++)
        if ((a->set & (1u << f)) && a->value[f] != b->value[f])
            return false;
    return true;
}

void memctl_limits_init(MemctlLimits *l)
{
    memset(l, 0, sizeof(*l));
    l->priority = MEMCTL_PRIORITY_DEFAULT;
    l->reclaim_pressure_ppm = MEMCTL_RECLAIM_PRESSURE_DEFAULT_PPM;
}

static int parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_priority(const char *s, uint32_t *ret)
{
    uint32_t v = 0;
    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (uint32_t)(*s - '0');
        if (v > MEMCTL_PRIORITY_MAX)
            return -ERANGE;
    }
    if (v < MEMCTL_PRIORITY_MIN)
        return -ERANGE;
    *ret = v;
    return 0;
}

/* A pre-kill timeout: milliseconds, with "ms" or "s" (a whole number of either), at most
 * MEMCTL_PREKILL_TIMEOUT_MAX_MS. */
static int parse_timeout_ms(const char *s, uint32_t *ret)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > MEMCTL_PREKILL_TIMEOUT_MAX_MS)
            return -ERANGE;
    }
    if (p == s)
        return -EINVAL;
    if (strcmp(p, "s") == 0)
        v *= 1000;
    else if (*p && strcmp(p, "ms") != 0)
        return -EINVAL;
    if (v > MEMCTL_PREKILL_TIMEOUT_MAX_MS)
        return -ERANGE;
    *ret = (uint32_t)v;
    return 0;
}

/* A stall share: "0.1%" (at most three decimals), "1ms" (of stall a second: whole milliseconds) or
 * a bare number of microseconds a second; in parts per million, within the bounds. */
static int parse_pressure_ppm(const char *s, uint32_t *ret)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > MEMCTL_RECLAIM_PRESSURE_MAX_PPM)
            return -ERANGE;
    }
    if (p == s)
        return -EINVAL;
    if (*p == '.' || *p == '%') { /* a percentage: 1% is 10,000 ppm */
        uint64_t frac = 0;
        int digits = 0;
        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                if (digits < 3)
                    frac = frac * 10 + (uint64_t)(*p - '0');
                else if (*p != '0')
                    return -EINVAL; /* finer than 0.001% */
            if (digits == 0)
                return -EINVAL;
        }
        if (strcmp(p, "%") != 0)
            return -EINVAL;
        for (; digits < 3; digits++)
            frac *= 10;
        v = v * 10000 + frac * 10;
    } else if (strcmp(p, "ms") == 0)
        v *= 1000;
    else if (*p)
        return -EINVAL;
    if (v < MEMCTL_RECLAIM_PRESSURE_MIN_PPM || v > MEMCTL_RECLAIM_PRESSURE_MAX_PPM)
        return -ERANGE;
    *ret = (uint32_t)v;
    return 0;
}

/* The byte-valued field of key k, or NULL for the others. */
static uint64_t *size_field(MemctlLimits *l, MemctlKey k)
{
    switch (k) {
    case MEMCTL_KEY_MIN:
        return &l->min;
    case MEMCTL_KEY_LOW:
        return &l->low;
    case MEMCTL_KEY_HIGH:
        return &l->high;
    case MEMCTL_KEY_MAX:
        return &l->max;
    case MEMCTL_KEY_SWAP_MAX:
        return &l->swap_max;
    case MEMCTL_KEY_LIMIT:
        return &l->limit;
    case MEMCTL_KEY_HEADROOM:
        return &l->headroom;
    case MEMCTL_KEY_RECLAIM_FLOOR:
        return &l->reclaim_floor;
    default:
        return NULL;
    }
}

int memctl_limits_set(MemctlLimits *l, const char *key, const char *value)
{
    int k = memctl_key_from_name(key);
    if (k < 0)
        return k;
    int r;
    switch ((MemctlKey)k) {
    case MEMCTL_KEY_OOM_GROUP: {
        bool b;
        r = parse_bool(value, &b);
        if (r < 0)
            return r;
        l->oom_group = b;
        break;
    }
    case MEMCTL_KEY_PRIORITY: {
        uint32_t p;
        r = parse_priority(value, &p);
        if (r < 0)
            return r;
        l->priority = p;
        break;
    }
    case MEMCTL_KEY_PREKILL_TIMEOUT: {
        uint32_t ms;
        r = parse_timeout_ms(value, &ms);
        if (r < 0)
            return r;
        l->prekill_timeout_ms = ms;
        break;
    }
    case MEMCTL_KEY_RECLAIM:
        if (strcmp(value, "auto") == 0)
            l->reclaim_auto = true;
        else if (strcmp(value, "off") == 0)
            l->reclaim_auto = false;
        else
            return -EINVAL;
        break;
    case MEMCTL_KEY_RECLAIM_PRESSURE: {
        uint32_t ppm;
        r = parse_pressure_ppm(value, &ppm);
        if (r < 0)
            return r;
        l->reclaim_pressure_ppm = ppm;
        break;
    }
    default: {
        uint64_t v;
        r = memctl_size_parse(value, &v);
        if (r < 0)
            return r;
        /* "max" makes no sense for a limit, a headroom or a floor: say "unset" by not giving it. */
        if (v == MEMCTL_SIZE_MAX &&
            (k == MEMCTL_KEY_LIMIT || k == MEMCTL_KEY_HEADROOM || k == MEMCTL_KEY_RECLAIM_FLOOR))
            return -ERANGE;
        if (v == 0 && k == MEMCTL_KEY_LIMIT)
            return -ERANGE;
        *size_field(l, (MemctlKey)k) = v;
        break;
    }
    }
    l->set |= 1u << k;
    return 0;
}

int memctl_limits_parse_list(const char *spec, MemctlLimits *ret, const char **ret_bad_key,
                             size_t *ret_bad_len)
{
    MemctlLimits l = *ret;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char key[32], value[64];
        size_t klen = eq ? (size_t)(eq - p) : len;
        int r = -EINVAL;
        if (eq && klen > 0 && klen < sizeof(key) && len - klen - 1 < sizeof(value)) {
            memcpy(key, p, klen);
            key[klen] = '\0';
            memcpy(value, eq + 1, len - klen - 1);
            value[len - klen - 1] = '\0';
            r = memctl_limits_set(&l, key, value);
        }
        if (r < 0) {
            if (ret_bad_key)
                *ret_bad_key = p;
            if (ret_bad_len)
                *ret_bad_len = klen;
            return r;
        }
        p += len;
        if (*p == ',') {
            p++;
            if (!*p)
                return -EINVAL; /* trailing comma */
        }
    }
    *ret = l;
    return 0;
}

uint64_t memctl_limits_get(const MemctlLimits *l, MemctlKey k)
{
    if (k == MEMCTL_KEY_OOM_GROUP)
        return l->oom_group;
    if (k == MEMCTL_KEY_PRIORITY)
        return l->priority;
    if (k == MEMCTL_KEY_PREKILL_TIMEOUT)
        return l->prekill_timeout_ms;
    if (k == MEMCTL_KEY_RECLAIM)
        return l->reclaim_auto;
    if (k == MEMCTL_KEY_RECLAIM_PRESSURE)
        return l->reclaim_pressure_ppm;
    const uint64_t *v = size_field((MemctlLimits *)l, k);
    return v ? *v : 0;
}

void memctl_limits_put(MemctlLimits *l, MemctlKey k, uint64_t v)
{
    uint64_t *dst = size_field(l, k);
    if (dst)
        *dst = v;
    else if (k == MEMCTL_KEY_OOM_GROUP)
        l->oom_group = v != 0;
    else if (k == MEMCTL_KEY_PRIORITY)
        l->priority = (uint32_t)v;
    else if (k == MEMCTL_KEY_PREKILL_TIMEOUT)
        l->prekill_timeout_ms =
                v > MEMCTL_PREKILL_TIMEOUT_MAX_MS ? MEMCTL_PREKILL_TIMEOUT_MAX_MS : (uint32_t)v;
    else if (k == MEMCTL_KEY_RECLAIM)
        l->reclaim_auto = v != 0;
    else if (k == MEMCTL_KEY_RECLAIM_PRESSURE)
        l->reclaim_pressure_ppm = v < MEMCTL_RECLAIM_PRESSURE_MIN_PPM   ? MEMCTL_RECLAIM_PRESSURE_MIN_PPM
                                  : v > MEMCTL_RECLAIM_PRESSURE_MAX_PPM ? MEMCTL_RECLAIM_PRESSURE_MAX_PPM
                                                                        : (uint32_t)v;
    else
        return;
    l->set |= 1u << k;
}

void memctl_limits_merge(MemctlLimits *base, const MemctlLimits *update)
{
    for (int k = 0; k < _MEMCTL_KEY_COUNT; k++)
        if (memctl_limits_has(update, (MemctlKey)k))
            memctl_limits_put(base, (MemctlKey)k, memctl_limits_get(update, (MemctlKey)k));
}

uint64_t memctl_limits_default_headroom(uint64_t limit)
{
    uint64_t h = limit / 20;
    return h < MEMCTL_HEADROOM_CAP ? h : MEMCTL_HEADROOM_CAP;
}

static int fail(MemctlKey k, MemctlKey *ret_bad_key)
{
    if (ret_bad_key)
        *ret_bad_key = k;
    return -EINVAL;
}

int memctl_limits_resolve(const MemctlLimits *l, MemctlFileValues *ret, MemctlKey *ret_bad_key)
{
    MemctlFileValues v = {0};
    bool has_limit = memctl_limits_has(l, MEMCTL_KEY_LIMIT);

    if (has_limit && memctl_limits_has(l, MEMCTL_KEY_MAX))
        return fail(MEMCTL_KEY_MAX, ret_bad_key); /* limit sets max; give one of them */
    if (memctl_limits_has(l, MEMCTL_KEY_HEADROOM) && !has_limit)
        return fail(MEMCTL_KEY_HEADROOM, ret_bad_key);

    if (memctl_limits_has(l, MEMCTL_KEY_MIN)) {
        v.set |= 1u << MEMCTL_FILE_MIN;
        v.value[MEMCTL_FILE_MIN] = l->min;
    }
    if (memctl_limits_has(l, MEMCTL_KEY_LOW)) {
        v.set |= 1u << MEMCTL_FILE_LOW;
        v.value[MEMCTL_FILE_LOW] = l->low;
    }
    if (memctl_limits_has(l, MEMCTL_KEY_MAX)) {
        v.set |= 1u << MEMCTL_FILE_MAX;
        v.value[MEMCTL_FILE_MAX] = l->max;
    }
    if (memctl_limits_has(l, MEMCTL_KEY_HIGH)) {
        v.set |= 1u << MEMCTL_FILE_HIGH;
        v.value[MEMCTL_FILE_HIGH] = l->high;
    }
    if (has_limit) {
        uint64_t headroom = memctl_limits_has(l, MEMCTL_KEY_HEADROOM)
                                    ? l->headroom
                                    : memctl_limits_default_headroom(l->limit);
        if (headroom >= l->limit)
            return fail(MEMCTL_KEY_HEADROOM, ret_bad_key);
        v.set |= 1u << MEMCTL_FILE_MAX;
        v.value[MEMCTL_FILE_MAX] = l->limit;
        if (!memctl_limits_has(l, MEMCTL_KEY_HIGH)) {
            v.set |= 1u << MEMCTL_FILE_HIGH;
            v.value[MEMCTL_FILE_HIGH] = l->limit - headroom;
        } else if (l->high > l->limit) {
            return fail(MEMCTL_KEY_HIGH, ret_bad_key);
        }
    }
    if (memctl_limits_has(l, MEMCTL_KEY_SWAP_MAX)) {
        v.set |= 1u << MEMCTL_FILE_SWAP_MAX;
        v.value[MEMCTL_FILE_SWAP_MAX] = l->swap_max;
    }
    if (memctl_limits_has(l, MEMCTL_KEY_OOM_GROUP)) {
        v.set |= 1u << MEMCTL_FILE_OOM_GROUP;
        v.value[MEMCTL_FILE_OOM_GROUP] = l->oom_group ? 1 : 0;
    }

    /* min <= low <= high <= max, over the values that are set; blame the larger-side key's
     * partner that the caller gave, so the message names what to change. */
    static const struct {
        MemctlFile lo, hi;
        MemctlKey blame;
    } order[] = {
            {MEMCTL_FILE_MIN, MEMCTL_FILE_LOW, MEMCTL_KEY_MIN},
            {MEMCTL_FILE_MIN, MEMCTL_FILE_HIGH, MEMCTL_KEY_MIN},
            {MEMCTL_FILE_MIN, MEMCTL_FILE_MAX, MEMCTL_KEY_MIN},
            {MEMCTL_FILE_LOW, MEMCTL_FILE_HIGH, MEMCTL_KEY_LOW},
            {MEMCTL_FILE_LOW, MEMCTL_FILE_MAX, MEMCTL_KEY_LOW},
            {MEMCTL_FILE_HIGH, MEMCTL_FILE_MAX, MEMCTL_KEY_HIGH},
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        uint32_t need = (1u << order[i].lo) | (1u << order[i].hi);
        /* A low of 0 is no best-effort protection at all, not a bound on min: a group read back
         * from the kernel (low 0) may still get a hard minimum (a critical registration's). */
        if (order[i].hi == MEMCTL_FILE_LOW && v.value[MEMCTL_FILE_LOW] == 0)
            continue;
        if ((v.set & need) == need && v.value[order[i].lo] > v.value[order[i].hi])
            return fail(order[i].blame, ret_bad_key);
    }

    *ret = v;
    return 0;
}

int memctl_limits_check_children_min(uint64_t parent_min, const uint64_t *child_min, size_t n)
{
    if (parent_min == MEMCTL_SIZE_MAX)
        return 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (child_min[i] > UINT64_MAX - sum)
            return -ERANGE;
        sum += child_min[i];
    }
    return sum <= parent_min ? 0 : -ERANGE;
}
