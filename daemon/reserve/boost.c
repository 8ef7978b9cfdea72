/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/reserve/boost.h"

#include <errno.h>
#include <stdarg.h>

#include "kernel/host-sample.h"
#include "daemon/reserve/reserve.h"
#include "basic/size.h"

#define BOOST_CHECK_MS 100
#define BOOST_RETRY_SECONDS 1

struct MemctlBoost {
    MemctlCritical *critical; /* borrowed */
    MemctlGroups *groups;     /* borrowed */
    char *meminfo;
    MemctlHostConfig host;
    gboolean armed; /* the host guard is armed */
    guint check;    /* the check while armed, or 0 */
    guint retry;    /* the take-back timer while calm, or 0 */
    MemctlBoostReport report;
    void *data;
};

MemctlBoost *memctl_boost_new(MemctlCritical *critical, MemctlGroups *groups, const char *proc,
                              const MemctlHostConfig *host, MemctlBoostReport report, void *data)
{
    MemctlBoost *b = g_new0(MemctlBoost, 1);
    b->critical = critical;
    b->groups = groups;
    b->meminfo = g_build_filename(proc, "meminfo", NULL);
    b->host = *host;
    b->report = report;
    b->data = data;
    return b;
}

static void clear_source(guint *id)
{
    if (*id)
        g_source_remove(*id);
    *id = 0;
}

G_GNUC_PRINTF(3, 4) static void say(MemctlBoost *b, bool warning, const char *fmt, ...)
{
    if (!b->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    b->report(warning, m, b->data);
}

void memctl_boost_free(MemctlBoost *b)
{
    if (!b)
        return;
    clear_source(&b->check);
    clear_source(&b->retry);
    g_free(b->meminfo);
    g_free(b);
}

/* The group's own limit: the lower of memory.high and memory.max (MEMCTL_SIZE_MAX: none). */
static uint64_t own_limit(const MemctlGroup *grp)
{
    uint64_t high = memctl_file_values_get(&grp->applied, MEMCTL_FILE_HIGH, MEMCTL_SIZE_MAX);
    uint64_t max = memctl_file_values_get(&grp->applied, MEMCTL_FILE_MAX, MEMCTL_SIZE_MAX);
    return high < max ? high : max;
}

static bool at_limit(MemctlBoost *b, MemctlGroup *grp)
{
    uint64_t limit = own_limit(grp);
    if (limit == MEMCTL_SIZE_MAX)
        return false;
    uint64_t cur;
    return memctl_groups_read_u64(b->groups, grp, MEMCTL_GROUP_FILE_CURRENT, &cur) == 0 &&
           cur + limit / 32 >= limit;
}

/* A group registration (of `group`, or any if NULL) with a reserve that is resident and neither
 * leased nor lent (a renewal still waiting for memory has nothing to lend). */
static bool boostable(const MemctlRegistration *reg, const char *group)
{
    return reg->group && reg->size && !reg->lease && !reg->lent && !reg->renewing &&
           (!group || g_str_equal(reg->group, group));
}

/* Boosts reg (boostable) if its group is at its limit. */
static void boost_one(MemctlBoost *b, MemctlRegistration *reg)
{
    MemctlGroup *grp = memctl_groups_get(b->groups, reg->group);
    if (!grp || grp->boost || !at_limit(b, grp))
        return;
    char s[MEMCTL_SIZE_FORMAT_MAX];
    /* The memory first: freed before the group may use it, so that it exists. */
    int r = memctl_reserve_lend(&reg->mem);
    if (r < 0) {
        say(b, true, "%s: cannot lend the reserve for a boost: %s", reg->group, g_strerror(-r));
        return;
    }
    reg->lent = true;
    g_autoptr(GError) err = NULL;
    r = memctl_groups_boost(b->groups, reg->group, reg->size, &err);
    if (r < 0) {
        say(b, true, "%s: no boost: %s", reg->group, err->message);
        if (memctl_reserve_refill(&reg->mem) == 0)
            reg->lent = false;
        return;
    }
    say(b, false, "%s: at its limit under host pressure: boosted %s above it, on the reserve", reg->group,
        memctl_size_format(reg->size, s));
    if (r > 0)
        say(b, true,
            "%s: the boost is not marked on the cgroup (no user xattrs on cgroupfs before Linux 5.7): "
            "if memctld stops before taking it back, it stays",
            reg->group);
}

/* Under host pressure: the guard armed and MemAvailable below its threshold. */
static bool host_short(MemctlBoost *b)
{
    if (!b->armed)
        return false;
    g_autofree char *text = NULL;
    MemctlHostSample s = {0};
    if (!g_file_get_contents(b->meminfo, &text, NULL, NULL) || memctl_host_sample_meminfo(text, &s) < 0)
        return false;
    return s.available < memctl_host_available_min(&b->host, s.total);
}

/* Boosts the registrations of `group` (NULL: all) that are at their limit, if the host is short. */
static void boost_all(MemctlBoost *b, const char *group)
{
    GPtrArray *regs = memctl_critical_list(b->critical);
    int short_of_memory = -1; /* meminfo is read once, and only if some registration could be boosted */
    for (guint i = 0; i < regs->len; i++) {
        MemctlRegistration *reg = regs->pdata[i];
        if (!boostable(reg, group))
            continue;
        if (short_of_memory < 0)
            short_of_memory = host_short(b);
        if (!short_of_memory)
            return;
        boost_one(b, reg);
    }
}

static gboolean on_check(gpointer user_data)
{
    boost_all(user_data, NULL);
    return G_SOURCE_CONTINUE;
}

void memctl_boost_host_armed(MemctlBoost *b)
{
    b->armed = TRUE;
    clear_source(&b->retry);
    boost_all(b, NULL);
    if (!b->check && memctl_critical_list(b->critical)->len > 0)
        b->check = g_timeout_add(BOOST_CHECK_MS, on_check, b);
}

void memctl_boost_group_high(MemctlBoost *b, const char *group)
{
    boost_all(b, group);
}

/* Takes back what it can; true while something is still lent. */
static bool take_back(MemctlBoost *b)
{
    bool pending = false;
    char s[MEMCTL_SIZE_FORMAT_MAX];
    /* the limits first, then the reserve: lent pages come back once the group is off them */
    g_autoptr(GList) all = memctl_groups_list(b->groups);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (!grp->boost)
            continue;
        uint64_t boost = grp->boost;
        g_autoptr(GError) err = NULL;
        int r = memctl_groups_unboost(b->groups, grp->name, &err);
        if (r == -EBUSY) {
            pending = true; /* still above its own limits: next time */
            continue;
        }
        if (r < 0) {
            say(b, true, "%s: cannot put its limits back: %s", grp->name, err->message);
            pending = true;
            continue;
        }
        say(b, false, "%s: host calm and back under its limits: boost of %s taken back", grp->name,
            memctl_size_format(boost, s));
    }
    GPtrArray *regs = memctl_critical_list(b->critical);
    for (guint i = 0; i < regs->len; i++) {
        MemctlRegistration *reg = regs->pdata[i];
        if (!reg->lent)
            continue;
        MemctlGroup *grp = memctl_groups_get(b->groups, reg->group);
        if ((grp && grp->boost) || memctl_reserve_refill(&reg->mem) < 0) {
            pending = true; /* the group still runs on it, or the host has not got it to give yet */
            continue;
        }
        reg->lent = false;
    }
    return pending;
}

static gboolean on_retry(gpointer user_data)
{
    MemctlBoost *b = user_data;
    if (take_back(b))
        return G_SOURCE_CONTINUE;
    b->retry = 0;
    return G_SOURCE_REMOVE;
}

void memctl_boost_host_calm(MemctlBoost *b)
{
    b->armed = FALSE;
    clear_source(&b->check);
    if (take_back(b) && !b->retry)
        b->retry = g_timeout_add_seconds(BOOST_RETRY_SECONDS, on_retry, b);
}

void memctl_boost_resume(MemctlBoost *b)
{
    bool boosted = false;
    GPtrArray *regs = memctl_critical_list(b->critical);
    for (guint i = 0; i < regs->len; i++) {
        MemctlRegistration *reg = regs->pdata[i];
        MemctlGroup *grp = reg->group ? memctl_groups_get(b->groups, reg->group) : NULL;
        if (!grp || !grp->boost || !reg->size || reg->lease || reg->lent)
            continue;
        /* the group holds that memory now: the pool gives up as much, as when the boost began */
        if (memctl_reserve_lend(&reg->mem) == 0)
            reg->lent = true;
    }
    g_autoptr(GList) all = memctl_groups_list(b->groups);
    char s[MEMCTL_SIZE_FORMAT_MAX];
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (!grp->boost)
            continue;
        boosted = true;
        say(b, false,
            "%s: still boosted %s above its own limits from before the restart: taken back once "
            "the host is calm and the group under them",
            grp->name, memctl_size_format(grp->boost, s));
    }
    if (boosted && !b->armed && !b->retry)
        b->retry = g_timeout_add_seconds(BOOST_RETRY_SECONDS, on_retry, b);
}

uint64_t memctl_boost_lent_bytes(MemctlBoost *b)
{
    uint64_t n = 0;
    GPtrArray *regs = memctl_critical_list(b->critical);
    for (guint i = 0; i < regs->len; i++) {
        MemctlRegistration *reg = regs->pdata[i];
        n += reg->lent ? reg->size : 0;
    }
    return n;
}
