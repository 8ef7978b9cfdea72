/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/policy-file.h"
#include "policy/policy-field.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "policy/json.h"
#include "policy/name.h"
#include "basic/size.h"
#include "basic/str.h"

/* The state of one document's parse: where it goes, and where we are for errors. */
typedef struct {
    MemctlFieldDoc f;
    MemctlPolicy *p;
    uint8_t file;
} Doc;

/* daemon.critical_claims: an array of patterns (replaced whole by a later document). */
static int parse_claims(const Doc *d, json_object *a, MemctlPolicy *p)
{
    const char *items[MEMCTL_POLICY_CLAIMS_MAX];
    char paths[MEMCTL_POLICY_CLAIMS_MAX][sizeof(d->f.err->path)];
    size_t n;
    if (memctl_field_strings(&d->f, "daemon.critical_claims", a, MEMCTL_POLICY_CLAIMS_MAX, items, paths, &n) <
        0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const char *s = items[i], *pi = paths[i];
        if (!*s || strlen(s) >= MEMCTL_POLICY_PATTERN_MAX)
            return memctl_field_fail(&d->f, pi,
                                     "expected a pattern (a string of 1-%d characters) such as \"pods/db-*\"",
                                     MEMCTL_POLICY_PATTERN_MAX - 1);
        for (const char *c = s; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return memctl_field_fail(&d->f, pi, "control characters are not allowed");
        memctl_str_copy(p->claims[i], MEMCTL_POLICY_PATTERN_MAX, s);
    }
    p->n_claims = n;
    return 0;
}

static int parse_daemon(const Doc *d, json_object *o)
{
    static const char *const keys[] = {
            "root",      "reserve",       "metrics_address", "state_file", "kill_log",
            "window_ms", "stuck_windows", "critical_claims", "dry_run",    "reclaim_interval_ms",
            NULL};
    if (memctl_field_want_object(&d->f, "daemon", o) < 0 ||
        memctl_field_check_keys(&d->f, "daemon", o, keys) < 0)
        return -EINVAL;
    MemctlPolicy *p = d->p;
    json_object *v;
    if (json_object_object_get_ex(o, "root", &v)) {
        if (memctl_field_path(&d->f, "daemon.root", v, false, p->root, sizeof(p->root)) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_ROOT;
    }
    if (json_object_object_get_ex(o, "reserve", &v)) {
        if (memctl_field_size(&d->f, "daemon.reserve", v, false, &p->reserve) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_RESERVE;
    }
    if (json_object_object_get_ex(o, "metrics_address", &v)) {
        if (memctl_field_address(&d->f, "daemon.metrics_address", v, p->metrics_address,
                                 sizeof(p->metrics_address)) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_METRICS;
    }
    if (json_object_object_get_ex(o, "state_file", &v)) {
        if (memctl_field_path(&d->f, "daemon.state_file", v, false, p->state_file, sizeof(p->state_file)) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_STATE_FILE;
    }
    if (json_object_object_get_ex(o, "kill_log", &v)) {
        if (memctl_field_path(&d->f, "daemon.kill_log", v, true, p->kill_log, sizeof(p->kill_log)) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_KILL_LOG;
    }
    if (json_object_object_get_ex(o, "window_ms", &v)) {
        if (memctl_field_uint(&d->f, "daemon.window_ms", v, 5, 10000, &p->window_ms) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_WINDOW;
    }
    if (json_object_object_get_ex(o, "stuck_windows", &v)) {
        if (memctl_field_uint(&d->f, "daemon.stuck_windows", v, 1, 1000, &p->stuck_windows) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_STUCK;
    }
    if (json_object_object_get_ex(o, "dry_run", &v)) {
        if (memctl_field_bool(&d->f, "daemon.dry_run", v, &p->dry_run) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_DRY_RUN;
    }
    if (json_object_object_get_ex(o, "reclaim_interval_ms", &v)) {
        if (memctl_field_uint(&d->f, "daemon.reclaim_interval_ms", v, 500, 60000, &p->reclaim_interval_ms) <
            0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_RECLAIM_INTERVAL;
    }
    if (json_object_object_get_ex(o, "critical_claims", &v)) {
        if (parse_claims(d, v, p) < 0)
            return -EINVAL;
        p->set |= MEMCTL_DAEMON_CLAIMS;
    }
    return 0;
}

static int parse_budget(const Doc *d, const char *base, json_object *o, MemctlBudget *b)
{
    char path[sizeof(d->f.err->path)];
    json_object *v;
    if (json_object_object_get_ex(o, "stall_budget_pct", &v)) {
        memctl_field_join(path, sizeof(path), base, "stall_budget_pct");
        if (memctl_field_uint(&d->f, path, v, 1, 100, &b->stall_budget_pct) < 0)
            return -EINVAL;
    }
    if (json_object_object_get_ex(o, "stall_windows", &v)) {
        memctl_field_join(path, sizeof(path), base, "stall_windows");
        if (memctl_field_uint(&d->f, path, v, 1, 100000, &b->stall_windows) < 0)
            return -EINVAL;
    }
    return 0;
}

static int parse_defaults(const Doc *d, json_object *o)
{
    static const char *const keys[] = {"priority", "progress_floor", "stall_budget_pct", "stall_windows",
                                       NULL};
    if (memctl_field_want_object(&d->f, "defaults", o) < 0 ||
        memctl_field_check_keys(&d->f, "defaults", o, keys) < 0)
        return -EINVAL;
    json_object *v;
    if (json_object_object_get_ex(o, "priority", &v) &&
        memctl_field_uint(&d->f, "defaults.priority", v, MEMCTL_PRIORITY_MIN, MEMCTL_PRIORITY_MAX,
                          &d->p->priority) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(o, "progress_floor", &v)) {
        uint64_t b;
        if (memctl_field_size(&d->f, "defaults.progress_floor", v, false, &b) < 0)
            return -EINVAL;
        if (b == 0 || b > (1ull << 30))
            return memctl_field_fail(&d->f, "defaults.progress_floor", "must be between 1 byte and 1G");
        d->p->progress_floor = b;
    }
    return parse_budget(d, "defaults", o, &d->p->budget);
}

static int parse_host(const Doc *d, json_object *o)
{
    static const char *const keys[] = {"enabled",   "available_min", "watermark_windows",
                                       "window_ms", "stall_seconds", NULL};
    if (memctl_field_want_object(&d->f, "host", o) < 0 || memctl_field_check_keys(&d->f, "host", o, keys) < 0)
        return -EINVAL;
    MemctlHostConfig *h = &d->p->host;
    json_object *v;
    if (json_object_object_get_ex(o, "enabled", &v) &&
        memctl_field_bool(&d->f, "host.enabled", v, &h->enabled) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(o, "available_min", &v)) {
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        size_t n = s ? strlen(s) : 0;
        if (n > 1 && s[n - 1] == '%') {
            char *end = NULL;
            long pct = s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : 0;
            if (end != s + n - 1 || pct < 1 || pct > 50)
                return memctl_field_fail(&d->f, "host.available_min",
                                         "'%s': a percentage of MemTotal must be 1%%-50%%", s);
            h->available_min = 0;
            h->available_min_pct = (uint32_t)pct;
        } else {
            uint64_t b;
            if (memctl_field_size(&d->f, "host.available_min", v, false, &b) < 0)
                return -EINVAL;
            if (b == 0)
                return memctl_field_fail(&d->f, "host.available_min",
                                         "must not be 0 (turn the guard off with host.enabled)");
            h->available_min = b;
        }
    }
    if (json_object_object_get_ex(o, "watermark_windows", &v) &&
        memctl_field_uint(&d->f, "host.watermark_windows", v, 0, 1000, &h->watermark_windows) < 0)
        return -EINVAL;
    uint32_t ms;
    if (json_object_object_get_ex(o, "window_ms", &v)) {
        if (memctl_field_uint(&d->f, "host.window_ms", v, 2, 1000, &ms) < 0)
            return -EINVAL;
        h->window_usec = (uint64_t)ms * 1000;
    }
    uint32_t sec;
    if (json_object_object_get_ex(o, "stall_seconds", &v)) {
        if (memctl_field_uint(&d->f, "host.stall_seconds", v, 0, 3600, &sec) < 0)
            return -EINVAL;
        h->stall_usec = (uint64_t)sec * 1000 * 1000;
    }
    return 0;
}

static int parse_list(const Doc *d, const char *path, json_object *o, MemctlMatchList *ret)
{
    static const char *const keys[] = {"comm", "cgroup", NULL};
    if (memctl_field_want_object(&d->f, path, o) < 0 || memctl_field_check_keys(&d->f, path, o, keys) < 0)
        return -EINVAL;
    MemctlMatchList l = {0};
    for (int which = 0; which < 2; which++) {
        const char *key = which == 0 ? "comm" : "cgroup";
        char p[sizeof(d->f.err->path)];
        memctl_field_join(p, sizeof(p), path, key);
        json_object *a;
        if (!json_object_object_get_ex(o, key, &a))
            continue;
        const char *items[MEMCTL_POLICY_LIST_MAX];
        char paths[MEMCTL_POLICY_LIST_MAX][sizeof(d->f.err->path)];
        size_t n;
        if (memctl_field_strings(&d->f, p, a, MEMCTL_POLICY_LIST_MAX, items, paths, &n) < 0)
            return -EINVAL;
        for (size_t i = 0; i < n; i++) {
            const char *s = items[i], *pi = paths[i];
            if (which == 0) {
                if (!*s || strlen(s) >= MEMCTL_COMM_MAX || strchr(s, '/'))
                    return memctl_field_fail(&d->f, pi,
                                             "'%s' is not a process name (1-%d characters, no '/')", s,
                                             MEMCTL_COMM_MAX - 1);
                memctl_str_copy(l.comm[l.n_comm++], MEMCTL_COMM_MAX, s);
            } else {
                int r = memctl_group_name_check(s);
                if (r < 0)
                    return memctl_field_fail(&d->f, pi, "'%s' is not a group name: %s", s,
                                             memctl_group_name_problem(r));
                memctl_str_copy(l.cgroup[l.n_cgroup++], MEMCTL_GROUP_NAME_MAX + 1, s);
            }
        }
    }
    *ret = l;
    return 0;
}

/* A key that takes a whole number or a string with a unit ("2s", "0.1%"), as the text
 * memctl_limits_set() parses; false when it is neither (or too long a string). */
static bool number_or_string(json_object *v, char *buf, size_t size)
{
    if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
        return snprintf(buf, size, "%" PRId64, json_object_get_int64(v)) < (int)size;
    if (json_object_is_type(v, json_type_string) && strlen(json_object_get_string(v)) < size)
        return snprintf(buf, size, "%s", json_object_get_string(v)) >= 0;
    return false;
}

/* groups.NAME.prekill_timeout (milliseconds, or "2s", "500ms") and prekill_exec (an absolute path). */
static int parse_prekill(const Doc *d, const char *base, json_object *o, MemctlGroupPolicy *g)
{
    char path[sizeof(d->f.err->path)];
    json_object *v;
    if (json_object_object_get_ex(o, "prekill_timeout", &v)) {
        memctl_field_join(path, sizeof(path), base, "prekill_timeout");
        char text[32];
        if (!number_or_string(v, text, sizeof(text)))
            return memctl_field_fail(&d->f, path,
                                     "expected milliseconds, or a string such as \"2s\" or \"500ms\"");
        int r = memctl_limits_set(&g->limits, "prekill_timeout", text);
        if (r < 0)
            return memctl_field_fail(&d->f, path, "'%s' %s", text,
                                     r == -ERANGE ? "is out of range (at most 10 s)"
                                                  : "is not a duration (milliseconds, \"ms\" or \"s\")");
        g->origin[MEMCTL_KEY_PREKILL_TIMEOUT] = d->file;
    }
    if (json_object_object_get_ex(o, "prekill_exec", &v)) {
        memctl_field_join(path, sizeof(path), base, "prekill_exec");
        if (memctl_field_path(&d->f, path, v, true, g->prekill_exec, sizeof(g->prekill_exec)) < 0)
            return -EINVAL;
    }
    return 0;
}

/* groups.NAME.reclaim ("auto" or "off") and reclaim_pressure (microseconds of stall a second, or a
 * string: "0.1%", "1ms"); reclaim_floor is a size, read with the limits. */
static int parse_reclaim(const Doc *d, const char *base, json_object *o, MemctlGroupPolicy *g)
{
    char path[sizeof(d->f.err->path)];
    json_object *v;
    if (json_object_object_get_ex(o, "reclaim", &v)) {
        memctl_field_join(path, sizeof(path), base, "reclaim");
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (memctl_limits_set(&g->limits, "reclaim", s) < 0)
            return memctl_field_fail(&d->f, path, "expected \"auto\" (proactive reclaim) or \"off\"");
        g->origin[MEMCTL_KEY_RECLAIM] = d->file;
    }
    if (json_object_object_get_ex(o, "reclaim_pressure", &v)) {
        memctl_field_join(path, sizeof(path), base, "reclaim_pressure");
        char text[32];
        if (!number_or_string(v, text, sizeof(text)))
            return memctl_field_fail(&d->f, path,
                                     "expected microseconds of stall a second, or a string such as "
                                     "\"0.1%%\" or \"1ms\"");
        int r = memctl_limits_set(&g->limits, "reclaim_pressure", text);
        if (r < 0)
            return memctl_field_fail(&d->f, path, "'%s' %s", text,
                                     r == -ERANGE
                                             ? "is out of range (0.001%-10%)"
                                             : "is not a stall share (\"0.1%\", \"1ms\" or microseconds)");
        g->origin[MEMCTL_KEY_RECLAIM_PRESSURE] = d->file;
    }
    return 0;
}

static const char *const limit_keys[] = {"min",   "low",      "high",          "max", "swap_max",
                                         "limit", "headroom", "reclaim_floor", NULL};

static int parse_group(const Doc *d, const char *name, json_object *o, MemctlGroupPolicy *g)
{
    static const char *const keys[] = {"min",
                                       "low",
                                       "high",
                                       "max",
                                       "swap_max",
                                       "limit",
                                       "headroom",
                                       "oom_group",
                                       "kill_mode",
                                       "priority",
                                       "prefer",
                                       "avoid",
                                       "stall_budget_pct",
                                       "stall_windows",
                                       "slice",
                                       "prekill_timeout",
                                       "prekill_exec",
                                       "reclaim",
                                       "reclaim_pressure",
                                       "reclaim_floor",
                                       NULL};
    char base[sizeof(d->f.err->path)], path[sizeof(d->f.err->path)];
    snprintf(base, sizeof(base), "groups.%s", name);
    if (memctl_field_want_object(&d->f, base, o) < 0 || memctl_field_check_keys(&d->f, base, o, keys) < 0)
        return -EINVAL;
    json_object *v;
    for (const char *const *k = limit_keys; *k; k++) {
        if (!json_object_object_get_ex(o, *k, &v))
            continue;
        memctl_field_join(path, sizeof(path), base, *k);
        char text[64];
        if (memctl_field_size_text(&d->f, path, v, text, sizeof(text)) < 0)
            return -EINVAL;
        int r = memctl_limits_set(&g->limits, *k, text);
        if (r < 0)
            return memctl_field_fail(&d->f, path, "'%s' %s", text,
                                     r == -ERANGE ? "is out of range"
                                                  : "is not a size (bytes, K, M, G, T or \"max\")");
        g->origin[memctl_key_from_name(*k)] = d->file;
    }
    json_object *og = NULL, *km = NULL;
    json_object_object_get_ex(o, "oom_group", &og);
    json_object_object_get_ex(o, "kill_mode", &km);
    if (og && km)
        return memctl_field_fail(&d->f, base, "give kill_mode or oom_group, not both");
    if (og) {
        memctl_field_join(path, sizeof(path), base, "oom_group");
        if (memctl_field_bool(&d->f, path, og, &g->limits.oom_group) < 0)
            return -EINVAL;
    } else if (km) {
        memctl_field_join(path, sizeof(path), base, "kill_mode");
        const char *s = json_object_is_type(km, json_type_string) ? json_object_get_string(km) : "";
        if (strcmp(s, "process") != 0 && strcmp(s, "group") != 0)
            return memctl_field_fail(
                    &d->f, path,
                    "expected \"process\" (one victim at a time) or \"group\" (the whole group)");
        g->limits.oom_group = strcmp(s, "group") == 0;
    }
    if (og || km) {
        g->limits.set |= 1u << MEMCTL_KEY_OOM_GROUP;
        g->origin[MEMCTL_KEY_OOM_GROUP] = d->file;
    }
    if (json_object_object_get_ex(o, "priority", &v)) {
        memctl_field_join(path, sizeof(path), base, "priority");
        if (memctl_field_uint(&d->f, path, v, MEMCTL_PRIORITY_MIN, MEMCTL_PRIORITY_MAX, &g->limits.priority) <
            0)
            return -EINVAL;
        g->limits.set |= 1u << MEMCTL_KEY_PRIORITY;
        g->origin[MEMCTL_KEY_PRIORITY] = d->file;
    }
    if (json_object_object_get_ex(o, "prefer", &v)) {
        memctl_field_join(path, sizeof(path), base, "prefer");
        if (parse_list(d, path, v, &g->prefer) < 0)
            return -EINVAL;
    }
    if (json_object_object_get_ex(o, "avoid", &v)) {
        memctl_field_join(path, sizeof(path), base, "avoid");
        if (parse_list(d, path, v, &g->avoid) < 0)
            return -EINVAL;
    }
    if (parse_budget(d, base, o, &g->budget) < 0)
        return -EINVAL;
    if (parse_prekill(d, base, o, g) < 0 || parse_reclaim(d, base, o, g) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(o, "slice", &v)) {
        memctl_field_join(path, sizeof(path), base, "slice");
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        if (!s)
            return memctl_field_fail(&d->f, path, "expected a string such as \"machines.slice/web.scope\"");
        int r = memctl_slice_name_check(s);
        if (r < 0)
            return memctl_field_fail(&d->f, path, "'%s' is not a systemd-style name: %s", s,
                                     memctl_slice_name_problem(r));
        snprintf(g->slice, sizeof(g->slice), "%s", s);
    }
    g->origin_any = d->file;
    return 0;
}

/* Where name is, or would go, in the sorted array g of n groups; *ret_found says which. */
static size_t group_index(const MemctlGroupPolicy *g, size_t n, const char *name, bool *ret_found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g[mid].name, name);
        if (c == 0) {
            *ret_found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret_found = false;
    return lo;
}

static MemctlGroupPolicy *find_group(MemctlGroupPolicy *g, size_t n, const char *name)
{
    bool found;
    size_t i = group_index(g, n, name, &found);
    return found ? &g[i] : NULL;
}

static int parse_groups(const Doc *d, json_object *o)
{
    if (memctl_field_want_object(&d->f, "groups", o) < 0)
        return -EINVAL;
    MemctlPolicy *p = d->p;
    json_object_object_foreach(o, name, val)
    {
        char path[sizeof(d->f.err->path)];
        snprintf(path, sizeof(path), "groups.%s", name);
        int r = memctl_group_name_check(name);
        if (r < 0)
            return memctl_field_fail(&d->f, path, "'%s' is not a group name: %s", name,
                                     memctl_group_name_problem(r));
        bool found;
        size_t i = group_index(p->groups, p->n_groups, name, &found);
        if (!found) { /* inserted in place: the array stays sorted */
            if (p->n_groups >= MEMCTL_POLICY_GROUPS_MAX)
                return memctl_field_fail(&d->f, path, "more than %d groups", MEMCTL_POLICY_GROUPS_MAX);
            MemctlGroupPolicy *ng = realloc(p->groups, (p->n_groups + 1) * sizeof(*ng));
            if (!ng)
                return -ENOMEM;
            p->groups = ng;
            memmove(&ng[i + 1], &ng[i], (p->n_groups - i) * sizeof(*ng));
            p->n_groups++;
            memset(&ng[i], 0, sizeof(ng[i]));
            memctl_str_copy(ng[i].name, sizeof(ng[i].name), name);
            memctl_limits_init(&ng[i].limits);
        }
        /* Parsed in place: on an error the caller throws this whole copy of the policy away. */
        if (parse_group(d, name, val, &p->groups[i]) < 0)
            return -EINVAL;
    }
    return 0;
}

void memctl_policy_init(MemctlPolicy *p)
{
    memset(p, 0, sizeof(*p));
    p->window_ms = 50;
    p->stuck_windows = 2;
    p->priority = MEMCTL_PRIORITY_DEFAULT;
    MemctlProgressConfig pc;
    memctl_progress_config_default(&pc);
    p->progress_floor = pc.progress_floor;
    p->budget.stall_budget_pct = pc.stall_budget_pct;
    p->budget.stall_windows = pc.stall_windows;
    memctl_host_config_default(&p->host);
}

void memctl_policy_clear(MemctlPolicy *p)
{
    free(p->groups);
    for (size_t i = 0; i < p->n_files; i++)
        free(p->files[i]);
    memctl_policy_init(p);
}

int memctl_policy_add(MemctlPolicy *p, const char *file, const char *text, MemctlPolicyError *ret_error)
{
    MemctlPolicy tmp = *p;
    Doc d = {.f = {.label = file, .err = ret_error}, .p = &tmp, .file = (uint8_t)p->n_files};
    if (p->n_files >= MEMCTL_POLICY_FILES_MAX)
        return memctl_field_fail(&d.f, "", "more than %d policy files", MEMCTL_POLICY_FILES_MAX);

    _cleanup_free_ char *name = strdup(file);
    _cleanup_free_ MemctlGroupPolicy *groups = NULL;
    if (!name)
        return -ENOMEM;
    if (p->n_groups > 0) {
        groups = malloc(p->n_groups * sizeof(*groups));
        if (!groups)
            return -ENOMEM;
        memcpy(groups, p->groups, p->n_groups * sizeof(*groups));
    }
    tmp.groups = groups;

    _cleanup_json_ json_object *root = NULL;
    MemctlJsonProblem jp;
    int jr = memctl_json_parse(text, strlen(text), &root, &jp);
    if (jr == -ENOMEM)
        return jr;
    if (jr < 0)
        return jp.line ? memctl_field_fail(&d.f, jp.path, "line %d: %s", jp.line, jp.message)
                       : memctl_field_fail(&d.f, jp.path, "%s", jp.message);
    if (memctl_field_want_object(&d.f, "", root) < 0)
        return -EINVAL;
    static const char *const keys[] = {"$schema", "daemon", "defaults", "host", "groups", NULL};
    if (memctl_field_check_keys(&d.f, "", root, keys) < 0)
        return -EINVAL;
    json_object *v;
    if (json_object_object_get_ex(root, "daemon", &v) && parse_daemon(&d, v) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(root, "defaults", &v) && parse_defaults(&d, v) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(root, "host", &v) && parse_host(&d, v) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(root, "groups", &v)) {
        int r = parse_groups(&d, v);
        groups = tmp.groups; /* realloc may have moved it */
        if (r < 0)
            return r;
    }
    /* Success: commit. */
    tmp.files[tmp.n_files++] = name;
    name = NULL;
    free(p->groups);
    groups = NULL;
    *p = tmp;
    return 0;
}

static const char *origin(const MemctlPolicy *p, uint8_t i)
{
    return i < p->n_files ? p->files[i] : "?";
}

static int check_fail(const MemctlPolicy *p, MemctlPolicyError *e, uint8_t file, const char *group,
                      const char *key, const char *msg)
{
    if (e) {
        memctl_str_copy(e->file, sizeof(e->file), origin(p, file));
        snprintf(e->path, sizeof(e->path), "groups.%s%s%s", group, key ? "." : "", key ? key : "");
        memctl_str_copy(e->message, sizeof(e->message), msg);
    }
    return -EINVAL;
}

static const char *resolve_problem(const MemctlLimits *l, MemctlKey k)
{
    bool limit = memctl_limits_has(l, MEMCTL_KEY_LIMIT);
    if (k == MEMCTL_KEY_MAX && limit)
        return "limit and max exclude each other (limit sets max)";
    if (k == MEMCTL_KEY_HEADROOM)
        return "headroom needs limit and must be below it";
    if (k == MEMCTL_KEY_HIGH && limit && l->high > l->limit)
        return "high must not exceed limit";
    return "must keep min <= low <= high <= max";
}

int memctl_policy_check(const MemctlPolicy *p, MemctlPolicyError *ret_error)
{
    for (size_t i = 0; i < p->n_groups; i++) {
        const MemctlGroupPolicy *g = &p->groups[i];
        MemctlFileValues fv;
        MemctlKey bad = MEMCTL_KEY_MIN;
        if (memctl_limits_resolve(&g->limits, &fv, &bad) < 0)
            return check_fail(p, ret_error, g->origin[bad], g->name, memctl_key_name(bad),
                              resolve_problem(&g->limits, bad));
        for (int which = 0; which < 2; which++) {
            const MemctlMatchList *l = which == 0 ? &g->prefer : &g->avoid;
            for (uint32_t k = 0; k < l->n_cgroup; k++) {
                char full[2 * MEMCTL_GROUP_NAME_MAX + 2];
                snprintf(full, sizeof(full), "%s/%s", g->name, l->cgroup[k]);
                if (memctl_group_name_check(full) < 0) {
                    char msg[256];
                    MEMCTL_FIELD_TRUNC_OK(snprintf(msg, sizeof(msg),
                                                   "cgroup '%s': '%s' is not a valid group name",
                                                   l->cgroup[k], full));
                    return check_fail(p, ret_error, g->origin_any, g->name, which == 0 ? "prefer" : "avoid",
                                      msg);
                }
            }
        }
        /* A declared parent's min must hold its declared children's. */
        if (!memctl_limits_has(&g->limits, MEMCTL_KEY_MIN) || g->limits.min == 0)
            continue;
        uint64_t sum = 0;
        size_t len = strlen(g->name);
        for (size_t j = 0; j < p->n_groups; j++) {
            const MemctlGroupPolicy *c = &p->groups[j];
            if (strncmp(c->name, g->name, len) != 0 || c->name[len] != '/' || strchr(c->name + len + 1, '/'))
                continue;
            if (memctl_limits_has(&c->limits, MEMCTL_KEY_MIN)) {
                uint64_t m = c->limits.min;
                if (memctl_limits_check_children_min(g->limits.min, (uint64_t[]){sum, m}, 2) < 0)
                    return check_fail(p, ret_error, c->origin[MEMCTL_KEY_MIN], c->name, "min",
                                      "the children's min add up to more than the parent's min");
                sum += m;
            }
        }
    }
    return 0;
}

const MemctlGroupPolicy *memctl_policy_group(const MemctlPolicy *p, const char *name)
{
    return find_group(p->groups, p->n_groups, name);
}

bool memctl_policy_claim_allowed(const MemctlPolicy *p, const char *group, const char *slice)
{
    for (size_t i = 0; i < p->n_claims; i++)
        if (fnmatch(p->claims[i], group, FNM_PATHNAME) == 0 ||
            (slice && *slice && fnmatch(p->claims[i], slice, FNM_PATHNAME) == 0))
            return true;
    return false;
}

bool memctl_group_policy_same_extras(const MemctlGroupPolicy *a, const MemctlGroupPolicy *b)
{
    return memcmp(&a->prefer, &b->prefer, sizeof(a->prefer)) == 0 &&
           memcmp(&a->avoid, &b->avoid, sizeof(a->avoid)) == 0 &&
           memcmp(&a->budget, &b->budget, sizeof(a->budget)) == 0 &&
           strcmp(a->prekill_exec, b->prekill_exec) == 0;
}
