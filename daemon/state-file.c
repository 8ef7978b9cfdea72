/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/state-file.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "basic/size.h"
#include "daemon/disk-file.h"
#include "daemon/error.h"
#include "policy/json.h"
#include "policy/state.h"

/* ---- the state file ---------------------------------------------------------------------------- */

static json_object *limits_to_json(const MemctlLimits *l, const MemctlRegistration *raised)
{
    json_object *o = json_object_new_object();
    for (int k = 0; k < _MEMCTL_KEY_COUNT; k++) {
        if (!memctl_limits_has(l, (MemctlKey)k))
            continue;
        uint64_t v = memctl_limits_get(l, (MemctlKey)k);
        if (k == MEMCTL_KEY_MIN && raised)
            v = raised->prev_min; /* the group's own min, not the registration's */
        json_object *j = k == MEMCTL_KEY_OOM_GROUP ? json_object_new_boolean(v != 0)
                         : k == MEMCTL_KEY_RECLAIM ? json_object_new_string(v ? "auto" : "off")
                         : v == MEMCTL_SIZE_MAX && k != MEMCTL_KEY_PRIORITY ? json_object_new_string("max")
                                                                            : json_object_new_uint64(v);
        json_object_object_add(o, memctl_key_name((MemctlKey)k), j);
    }
    return o;
}

/* A value's JSON text, after `lead`. */
static void append_json(GString *out, const char *lead, json_object *o)
{
    g_string_append(out, lead);
    g_string_append(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED));
}

/*
 * Written one group at a time: each entry is made as json-c objects, appended as text and freed
 * before the next. The whole document as objects was about 1 KiB a group (13 MiB for 10,000), freed
 * into a heap memctld keeps locked, which cannot give back pages in its middle (MADV_DONTNEED fails
 * on locked pages; malloc_trim() returns only the top): the next entry reuses the last one's.
 */
int memctl_state_file_save(const char *path, MemctlGroups *groups, MemctlCritical *critical,
                           const MemctlPolicy *policy, const MemctlKillTotals *totals, GError **error)
{
    GPtrArray *regs = critical ? memctl_critical_list(critical) : NULL;
    g_autoptr(GString) out = g_string_new("{\n  \"version\": 1,\n  \"groups\": {");
    bool first = true;
    g_autoptr(GList) all = memctl_groups_list(groups);
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (memctl_policy_group(policy, grp->name))
            continue; /* the policy files declare it */
        const MemctlRegistration *raised = NULL;
        for (guint i = 0; regs && i < regs->len; i++) {
            const MemctlRegistration *r = regs->pdata[i];
            if (r->min_group && strcmp(r->min_group, grp->name) == 0)
                raised = r;
        }
        _cleanup_json_ json_object *key = json_object_new_string(grp->name);
        _cleanup_json_ json_object *o = limits_to_json(&grp->limits, raised);
        if (grp->slice)
            json_object_object_add(o, "slice", json_object_new_string(grp->slice));
        append_json(out, first ? "\n    " : ",\n    ", key);
        append_json(out, ": ", o);
        first = false;
    }
    g_string_append(out, first ? "},\n" : "\n  },\n");
    _cleanup_json_ json_object *crit = json_object_new_array();
    for (guint i = 0; regs && i < regs->len; i++) {
        const MemctlRegistration *r = regs->pdata[i];
        json_object *o = json_object_new_object();
        if (r->group) {
            json_object_object_add(o, "group", json_object_new_string(r->group));
        } else { /* the process by pid and start time: a restart finds it, and never a pid reused */
            json_object_object_add(o, "pid", json_object_new_int(r->pid));
            json_object_object_add(o, "start_time", json_object_new_uint64(r->start_time));
        }
        json_object_object_add(o, "bytes", json_object_new_uint64(r->size));
        json_object_array_add(crit, o);
    }
    append_json(out, "  \"critical\": ", crit);
    /* the kill counters: in all, and of every group that has some (the policy's groups too) */
    _cleanup_json_ json_object *kills = json_object_new_object();
    json_object *by_group = json_object_new_object();
    json_object_object_add(kills, "memctld", json_object_new_uint64(totals ? totals->memctld : 0));
    json_object_object_add(kills, "kernel", json_object_new_uint64(totals ? totals->kernel : 0));
    for (GList *l = all; l; l = l->next) {
        MemctlGroup *grp = l->data;
        if (!grp->kills && !grp->kernel_oom_kills)
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "memctld", json_object_new_uint64(grp->kills));
        json_object_object_add(o, "kernel", json_object_new_uint64(grp->kernel_oom_kills));
        json_object_object_add(by_group, grp->name, o);
    }
    json_object_object_add(kills, "groups", by_group);
    append_json(out, ",\n  \"kills\": ", kills);
    g_string_append(out, "\n}\n");
    return memctl_disk_write_atomic(path, out->str, error);
}

int memctl_state_file_restore(const char *path, MemctlGroups *groups, MemctlCritical *critical,
                              const MemctlPolicy *policy, MemctlKillTotals *totals, GError **error)
{
    g_autofree char *text = NULL;
    size_t len = 0;
    int rr = memctl_disk_read(path, MEMCTL_DISK_FILE_MAX, &text, &len, error);
    if (rr == -ENOENT)
        return 0;
    if (rr < 0)
        return rr;
    g_autofree char *bad = g_strconcat(path, ".bad", NULL);
    _cleanup_state_ MemctlState st;
    memctl_state_init(&st);
    MemctlPolicyError pe;
    int r = memctl_state_parse(path, text, len, &st, &pe);
    if (r == -ENOMEM)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "%s: out of memory", path);
    if (r < 0) {
        /* nothing could be read: the file is kept aside before the next save replaces it */
        (void)memctl_disk_write_atomic(bad, text, NULL);
        memctl_error_set_policy(error, &pe);
        g_prefix_error(error, "nothing restored (the file is kept as %s): ", bad);
        return -EINVAL;
    }

    g_autoptr(GString) problems = g_string_new(NULL);
    for (size_t i = 0; i < st.n_problems; i++)
        g_string_append_printf(problems, "%s%s", problems->len ? "; " : "", st.problems[i]);
    for (size_t i = 0; i < st.groups.n_groups; i++) { /* sorted: parents before their children */
        const MemctlGroupPolicy *g = &st.groups.groups[i];
        if (memctl_policy_group(policy, g->name))
            continue; /* the policy files own it now */
        g_autoptr(GError) ge = NULL;
        if (!memctl_groups_create(groups, g->name, &g->limits, &ge))
            g_string_append_printf(problems, "%sgroups.%s: %s", problems->len ? "; " : "", g->name,
                                   ge->message);
        else
            (void)memctl_groups_set_slice(groups, g->name, g->slice);
    }
    for (size_t i = 0; i < st.n_critical && critical; i++) {
        const MemctlStateCritical *k = &st.critical[i];
        g_autoptr(GError) ce = NULL;
        int cr = k->group[0]
                         ? memctl_critical_register(critical, k->group, 0, k->bytes, &ce)
                         : memctl_critical_restore_process(critical, k->pid, k->start_time, k->bytes, &ce);
        if (cr < 0)
            g_string_append_printf(problems, "%scritical[%zu] (%s%s%.0d): %s", problems->len ? "; " : "", i,
                                   k->group[0] ? "group " : "pid ", k->group, k->group[0] ? 0 : (int)k->pid,
                                   ce->message);
    }
    if (totals)
        *totals = (MemctlKillTotals){.memctld = st.kills_memctld, .kernel = st.kills_kernel};
    for (size_t i = 0; i < st.n_kills; i++) {
        MemctlGroup *grp = memctl_groups_get(groups, st.kills[i].group);
        if (grp) { /* a group that is gone has no counters to keep */
            grp->kills = st.kills[i].memctld;
            grp->kernel_oom_kills = st.kills[i].kernel;
        }
    }
    if (problems->len) {
        /* what could be restored is; the rest is named, and the file as it was kept aside */
        (void)memctl_disk_write_atomic(bad, text, NULL);
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_FAILED,
                                "%s: restored all but: %s (the file as it was is "
                                "kept as %s)",
                                path, problems->str, bad);
    }
    return 0;
}
