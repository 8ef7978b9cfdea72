/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's OCI state and config.json (client/oci-spec.h): parsed, checked and translated. */
#include "client/oci-spec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/json.h"
#include "basic/size.h"

int memctl_oci_spec_problem(MemctlOciSpec *h, const char *fmt, ...)
{
    if (!h->problem) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&h->problem, fmt, ap) < 0)
            h->problem = NULL;
        va_end(ap);
    }
    return -EINVAL;
}

void memctl_oci_spec_clear(MemctlOciSpec *h)
{
    free(h->problem);
    json_object_put(h->state);
    json_object_put(h->config);
    *h = (MemctlOciSpec){0};
}

static json_object *parse_json(const char *text, size_t len, const char *what, MemctlOciSpec *h)
{
    json_object *o = NULL;
    MemctlJsonProblem jp;
    int r = memctl_json_parse(text, len, &o, &jp);
    if (r < 0) {
        if (r == -ENOMEM)
            memctl_oci_spec_problem(h, "%s: out of memory", what);
        else
            memctl_oci_spec_problem(h, "%s: %s%sline %d: %s", what, jp.path, jp.path[0] ? ": " : "", jp.line,
                                    jp.message);
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object)) {
        memctl_oci_spec_problem(h, "%s: expected an object", what);
        json_object_put(o);
        return NULL;
    }
    return o;
}

static const char *get_string(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
}

const char *memctl_oci_spec_annotation(const MemctlOciSpec *h, const char *key)
{
    json_object *sa = NULL;
    const char *v = NULL;
    if (h->state && json_object_object_get_ex(h->state, "annotations", &sa) &&
        json_object_is_type(sa, json_type_object))
        v = get_string(sa, key);
    return v ? v : get_string(h->annotations, key);
}

int memctl_oci_spec_state(MemctlOciSpec *h, const char *text, size_t len)
{
    h->state = parse_json(text, len, "the state on stdin", h);
    if (!h->state)
        return -EINVAL;
    h->id = get_string(h->state, "id");
    h->status = get_string(h->state, "status");
    h->bundle = get_string(h->state, "bundle");
    if (!h->id || !*h->id)
        return memctl_oci_spec_problem(h, "the state on stdin: \"id\" is missing");
    if (!h->status)
        return memctl_oci_spec_problem(h, "container %s: state.status is missing", h->id);
    json_object *pid;
    h->pid = json_object_object_get_ex(h->state, "pid", &pid) && json_object_is_type(pid, json_type_int)
                     ? json_object_get_int64(pid)
                     : 0;
    if (!h->bundle || h->bundle[0] != '/')
        return memctl_oci_spec_problem(h, "container %s: state.bundle is not an absolute path", h->id);
    return 0;
}

int memctl_oci_spec_config(MemctlOciSpec *h, const char *text, size_t len, const char *what)
{
    h->config = parse_json(text, len, what, h);
    if (!h->config)
        return -EINVAL;
    json_object *a;
    if (json_object_object_get_ex(h->config, "annotations", &a) && json_object_is_type(a, json_type_object))
        h->annotations = a;
    const char *req = memctl_oci_spec_annotation(h, "org.memctl.required");
    h->required = req && strcmp(req, "true") == 0;
    return 0;
}

json_object *memctl_oci_spec_config_at(const MemctlOciSpec *h, const char *const *keys)
{
    json_object *o = h->config;
    for (; o && *keys; keys++)
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, *keys, &o))
            return NULL;
    return o;
}

static int add(MemctlOciSettings *s, const char *key, const char *value)
{
    if (s->n == sizeof(s->s) / sizeof(s->s[0]))
        return -E2BIG;
    s->s[s->n++] = (MemctlSetting){key, value};
    return 0;
}

static int add_u64(MemctlOciSettings *s, const char *key, uint64_t v)
{
    if (s->n == sizeof(s->s) / sizeof(s->s[0]))
        return -E2BIG;
    snprintf(s->buf[s->n], sizeof(s->buf[s->n]), "%" PRIu64, v);
    return add(s, key, s->buf[s->n]);
}

/* An int64 member of linux.resources.memory: 1 and *ret if present, 0 if absent. */
static int mem_value(MemctlOciSpec *h, const char *key, int64_t *ret)
{
    json_object *v =
            memctl_oci_spec_config_at(h, (const char *[]){"linux", "resources", "memory", key, NULL});
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return memctl_oci_spec_problem(h, "container %s: linux.resources.memory.%s: expected an integer",
                                       h->id, key);
    *ret = json_object_get_int64(v);
    return 1;
}

int memctl_oci_spec_settings(MemctlOciSpec *h, MemctlOciSettings *s)
{
    int64_t limit = -1, reservation = -1, swap = 0;
    int has_limit = mem_value(h, "limit", &limit), has_res = mem_value(h, "reservation", &reservation),
        has_swap = mem_value(h, "swap", &swap);
    if (has_limit < 0 || has_res < 0 || has_swap < 0)
        return -EINVAL;
    if (has_limit && limit == 0)
        return memctl_oci_spec_problem(h, "container %s: linux.resources.memory.limit: 0 is no memory at all",
                                       h->id);
    if (has_limit && limit > 0 && add_u64(s, "limit", (uint64_t)limit) < 0)
        return -E2BIG;
    if (has_res && reservation < -1)
        return memctl_oci_spec_problem(
                h, "container %s: linux.resources.memory.reservation: %" PRId64 " is negative", h->id,
                reservation);
    if (has_res && reservation >= 0 && add_u64(s, "low", (uint64_t)reservation) < 0)
        return -E2BIG;
    if (has_swap && swap == -1) {
        if (add(s, "swap_max", "max") < 0)
            return -E2BIG;
    } else if (has_swap && swap != 0) {
        if (!(has_limit && limit > 0) || swap < limit)
            return memctl_oci_spec_problem(h,
                                           "container %s: linux.resources.memory.swap (%" PRId64
                                           ", memory + swap) needs a "
                                           "limit at most as large",
                                           h->id, swap);
        if (add_u64(s, "swap_max", (uint64_t)(swap - limit)) < 0)
            return -E2BIG;
    }
    json_object *u = memctl_oci_spec_config_at(h, (const char *[]){"linux", "resources", "unified", NULL});
    if (u) {
        if (!json_object_is_type(u, json_type_object))
            return memctl_oci_spec_problem(h, "container %s: linux.resources.unified: expected an object",
                                           h->id);
        json_object_object_foreach(u, key, val)
        {
            if (strncmp(key, "memory.", 7) != 0)
                continue; /* other controllers are the runtime's */
            if (!json_object_is_type(val, json_type_string))
                return memctl_oci_spec_problem(
                        h, "container %s: linux.resources.unified.%s: expected a string", h->id, key);
            if (add(s, key, json_object_get_string(val)) < 0)
                return memctl_oci_spec_problem(
                        h, "container %s: linux.resources.unified: too many memory files", h->id);
        }
    }
    /* annotations passed on as keys: memctld checks their values (SetLimits) and names the key */
    static const char *const passed[][2] = {
            {"org.memctl.priority", "priority"},
            {"org.memctl.prekill-timeout", "prekill_timeout"},
            {"org.memctl.reclaim", "reclaim"},
            {"org.memctl.reclaim-pressure", "reclaim_pressure"},
    };
    for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++) {
        const char *v = memctl_oci_spec_annotation(h, passed[i][0]);
        if (v && add(s, passed[i][1], v) < 0)
            return -E2BIG;
    }
    const char *og = memctl_oci_spec_annotation(h, "org.memctl.oom-group"),
               *slice = memctl_oci_spec_annotation(h, "org.memctl.slice");
    if (og) {
        if (strcmp(og, "true") != 0 && strcmp(og, "false") != 0)
            return memctl_oci_spec_problem(
                    h, "container %s: annotation org.memctl.oom-group: '%s' is not true or false", h->id, og);
        if (add(s, "oom_group", og) < 0)
            return -E2BIG;
    }
    if (slice && add(s, "slice", slice) < 0)
        return -E2BIG;
    const char *crit = memctl_oci_spec_annotation(h, "org.memctl.critical"),
               *res = memctl_oci_spec_annotation(h, "org.memctl.reserve");
    if (crit && strcmp(crit, "true") != 0 && strcmp(crit, "false") != 0)
        return memctl_oci_spec_problem(
                h, "container %s: annotation org.memctl.critical: '%s' is not true or false", h->id, crit);
    if (res && (memctl_size_parse(res, &s->reserve) < 0 || s->reserve == MEMCTL_SIZE_MAX))
        return memctl_oci_spec_problem(h, "container %s: annotation org.memctl.reserve: '%s' is not a size",
                                       h->id, res);
    s->critical = crit && strcmp(crit, "true") == 0;
    return 0;
}
