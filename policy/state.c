/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/json.h"
#include "policy/name.h"
#include "basic/str.h"

#define STATE_CRITICAL_MAX 4096
#define STATE_KILLS_MAX 65536 /* groups with counters: memctld manages at most 65,536 */

void memctl_state_init(MemctlState *s)
{
    memset(s, 0, sizeof(*s));
    memctl_policy_init(&s->groups);
}

void memctl_state_clear(MemctlState *s)
{
    memctl_policy_clear(&s->groups);
    free(s->critical);
    free(s->kills);
    for (size_t i = 0; i < s->n_problems; i++)
        free(s->problems[i]);
    free(s->problems);
    memctl_state_init(s);
}

__attribute__((format(printf, 2, 3))) static int problem(MemctlState *s, const char *fmt, ...)
{
    char **p = realloc(s->problems, (s->n_problems + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    s->problems = p;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&p[s->n_problems], fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    s->n_problems++;
    return 0;
}

static int fail(MemctlPolicyError *e, const char *file, const char *path, const char *msg)
{
    if (e) {
        memctl_str_copy(e->file, sizeof(e->file), file);
        memctl_str_copy(e->path, sizeof(e->path), path);
        memctl_str_copy(e->message, sizeof(e->message), msg);
    }
    return -EINVAL;
}

static int sort_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The groups, each checked alone (a policy of that one group); the valid ones go into s->groups in
 * one document. Parents sort before their children. */
static int parse_groups(MemctlState *s, const char *file, json_object *groups)
{
    if (!json_object_is_type(groups, json_type_object))
        return problem(s, "groups: expected an object");
    size_t n = (size_t)json_object_object_length(groups), k = 0;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return -ENOMEM;
    json_object_object_foreach(groups, key, val)
    {
        (void)val;
        names[k++] = key;
    }
    qsort(names, k, sizeof(*names), sort_names);
    _cleanup_json_ json_object *valid = json_object_new_object();
    int r = valid ? 0 : -ENOMEM;
    for (size_t i = 0; i < k && r == 0; i++) {
        json_object *g = json_object_object_get(groups, names[i]);
        _cleanup_json_ json_object *one = json_object_new_object(), *inner = json_object_new_object();
        if (!one || !inner) {
            r = -ENOMEM;
            break;
        }
        json_object_object_add(inner, names[i], json_object_get(g));
        json_object_object_add(one, "groups", json_object_get(inner));
        _cleanup_policy_ MemctlPolicy alone;
        memctl_policy_init(&alone);
        MemctlPolicyError pe;
        int pr = memctl_policy_add(&alone, file, json_object_to_json_string(one), &pe);
        if (pr == 0)
            pr = memctl_policy_check(&alone, &pe);
        if (pr == -ENOMEM)
            r = pr;
        else if (pr < 0)
            r = problem(s, "%s: %s", pe.path, pe.message);
        else
            json_object_object_add(valid, names[i], json_object_get(g));
    }
    free(names);
    if (r < 0 || json_object_object_length(valid) == 0)
        return r;
    _cleanup_json_ json_object *doc = json_object_new_object();
    if (!doc)
        return -ENOMEM;
    json_object_object_add(doc, "groups", json_object_get(valid));
    MemctlPolicyError pe;
    r = memctl_policy_add(&s->groups, file, json_object_to_json_string(doc), &pe);
    return r == -ENOMEM ? r : r < 0 ? problem(s, "%s: %s", pe.path, pe.message) : 0;
}

/* A non-negative integer that fits max: true with *ret. */
static bool get_count(json_object *o, const char *key, uint64_t max, uint64_t *ret)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    int64_t x = json_object_get_int64(v);
    uint64_t u = json_object_get_uint64(v);
    if (x < 0 || u > max)
        return false;
    *ret = u;
    return true;
}

static int parse_critical(MemctlState *s, json_object *crit)
{
    if (!json_object_is_type(crit, json_type_array))
        return problem(s, "critical: expected an array");
    size_t n = json_object_array_length(crit);
    if (n > STATE_CRITICAL_MAX)
        return problem(s, "critical: %zu entries, at most %d", n, STATE_CRITICAL_MAX);
    s->critical = calloc(n ? n : 1, sizeof(*s->critical));
    if (!s->critical)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(crit, i), *g = NULL;
        MemctlStateCritical c = {0};
        bool is_group = json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "group", &g);
        int r = 0;
        if (!json_object_is_type(o, json_type_object) || !get_count(o, "bytes", UINT64_MAX - 1, &c.bytes))
            r = problem(s, "critical[%zu]: needs \"bytes\" (an integer) and \"group\" or \"pid\"", i);
        else if (is_group) {
            const char *name = json_object_is_type(g, json_type_string) ? json_object_get_string(g) : NULL;
            int nr = name ? memctl_group_name_check(name) : -EINVAL;
            if (nr < 0)
                r = problem(s, "critical[%zu].group: not a group name%s%s", i, name ? ": " : "",
                            name ? memctl_group_name_problem(nr) : "");
            else {
                memctl_str_copy(c.group, sizeof(c.group), name);
                s->critical[s->n_critical++] = c;
            }
        } else {
            uint64_t pid = 0;
            if (!get_count(o, "pid", INT32_MAX, &pid) || pid == 0 ||
                !get_count(o, "start_time", UINT64_MAX, &c.start_time))
                r = problem(s,
                            "critical[%zu]: a process registration needs \"pid\" (1-%d) and \"start_time\"",
                            i, INT32_MAX);
            else {
                c.pid = (int32_t)pid;
                s->critical[s->n_critical++] = c;
            }
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* {"memctld": N, "kernel": N}, either count optional: false if anything else is there. */
static bool get_kill_counts(json_object *o, uint64_t *ret_memctld, uint64_t *ret_kernel)
{
    if (!json_object_is_type(o, json_type_object))
        return false;
    uint64_t m = 0, k = 0;
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        bool known = strcmp(key, "memctld") == 0  ? get_count(o, key, UINT64_MAX - 1, &m)
                     : strcmp(key, "kernel") == 0 ? get_count(o, key, UINT64_MAX - 1, &k)
                                                  : false;
        if (!known)
            return false;
    }
    *ret_memctld = m;
    *ret_kernel = k;
    return true;
}

static int parse_kills(MemctlState *s, json_object *kills)
{
    if (!json_object_is_type(kills, json_type_object))
        return problem(s, "kills: expected an object");
    json_object *groups = NULL;
    json_object_object_foreach(kills, key, val)
    {
        int r = 0;
        if (strcmp(key, "memctld") == 0 || strcmp(key, "kernel") == 0) {
            if (!get_count(kills, key, UINT64_MAX - 1,
                           strcmp(key, "memctld") == 0 ? &s->kills_memctld : &s->kills_kernel))
                r = problem(s, "kills.%s: expected a non-negative integer", key);
        } else if (strcmp(key, "groups") == 0) {
            groups = val;
        } else {
            r = problem(s, "kills.%s: unknown key (left out)", key);
        }
        if (r < 0)
            return r;
    }
    if (!groups)
        return 0;
    if (!json_object_is_type(groups, json_type_object))
        return problem(s, "kills.groups: expected an object");
    size_t n = (size_t)json_object_object_length(groups);
    if (n > STATE_KILLS_MAX)
        return problem(s, "kills.groups: %zu groups, at most %d", n, STATE_KILLS_MAX);
    s->kills = calloc(n ? n : 1, sizeof(*s->kills));
    if (!s->kills)
        return -ENOMEM;
    json_object_object_foreach(groups, name, counts)
    {
        int nr = memctl_group_name_check(name), r = 0;
        MemctlStateKills k = {0};
        if (nr < 0)
            r = problem(s, "kills.groups: not a group name: %s", memctl_group_name_problem(nr));
        else if (!get_kill_counts(counts, &k.memctld, &k.kernel))
            r = problem(s, "kills.groups.%s: expected {\"memctld\": N, \"kernel\": N}", name);
        else {
            memctl_str_copy(k.group, sizeof(k.group), name);
            s->kills[s->n_kills++] = k;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int memctl_state_parse(const char *file, const char *text, size_t len, MemctlState *ret,
                       MemctlPolicyError *ret_error)
{
    _cleanup_json_ json_object *root = NULL;
    MemctlJsonProblem jp;
    int r = memctl_json_parse(text, len, &root, &jp);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        char msg[sizeof(jp.message) + 32];
        snprintf(msg, sizeof(msg), "line %d: %s", jp.line, jp.message);
        return fail(ret_error, file, jp.path, msg);
    }
    json_object *v;
    if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "version", &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 1)
        return fail(ret_error, file, "", "not a memctl state file of version 1");
    json_object_object_foreach(root, key, val)
    {
        (void)val;
        if (strcmp(key, "version") != 0 && strcmp(key, "groups") != 0 && strcmp(key, "critical") != 0 &&
            strcmp(key, "kills") != 0 && (r = problem(ret, "%s: unknown key (left out)", key)) < 0)
            return r;
    }
    if (json_object_object_get_ex(root, "groups", &v) && (r = parse_groups(ret, file, v)) < 0)
        return r;
    if (json_object_object_get_ex(root, "critical", &v) && (r = parse_critical(ret, v)) < 0)
        return r;
    if (json_object_object_get_ex(root, "kills", &v) && (r = parse_kills(ret, v)) < 0)
        return r;
    return 0;
}
