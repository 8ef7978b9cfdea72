/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/record.h"

#include <string.h>

#include <glib.h>

#include "basic/size.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
    json_object_object_add(o, k, json_object_new_uint64(v));
}

json_object *memctl_record_to_json(const MemctlCoreEvent *e)
{
    json_object *o = json_object_new_object();
    const char *type = e->type == MEMCTL_EVENT_KILL         ? "kill"
                       : e->type == MEMCTL_EVENT_KERNEL_OOM ? "kernel-oom-kill"
                       : e->type == MEMCTL_EVENT_ERROR      ? "error"
                       : e->type == MEMCTL_EVENT_PRESSURE   ? "pressure"
                       : e->type == MEMCTL_EVENT_OUTCOME    ? "dry-run-outcome"
                       : e->type == MEMCTL_EVENT_PREKILL    ? "prekill"
                                                            : "released";
    json_object_object_add(o, "type", json_object_new_string(type));
    add_u64(o, "time_usec", e->t_event_usec);
    json_object_object_add(o, "group", json_object_new_string(e->group));
    if (e->dry_run) {
        json_object_object_add(o, "dry_run", json_object_new_boolean(true));
        json_object_object_add(o, "outcome", json_object_new_string(e->outcome));
        if (e->host)
            json_object_object_add(o, "host", json_object_new_boolean(true));
    }
    if (e->type == MEMCTL_EVENT_OUTCOME)
        return o;
    if (e->type == MEMCTL_EVENT_ERROR) {
        json_object_object_add(o, "what", json_object_new_string(e->what));
        json_object_object_add(o, "error", json_object_new_string(g_strerror(-e->error)));
        return o;
    }
    json_object_object_add(o, "reason", json_object_new_string(e->reason));
    if (e->type == MEMCTL_EVENT_KILL || e->type == MEMCTL_EVENT_PREKILL) {
        json_object_object_add(o, "pid", json_object_new_int(e->pid));
        char comm[MEMCTL_STR_ESCAPED_COMM_MAX];
        json_object_object_add(o, "comm", json_object_new_string(memctl_record_comm(e, comm)));
        json_object_object_add(o, "group_kill", json_object_new_boolean(e->group_kill));
        json_object_object_add(o, "livelock", json_object_new_boolean(e->livelock));
    }
    add_u64(o, "processes", e->npids);
    json_object *trig = json_object_new_object();
    add_u64(trig, "current", e->current);
    if (e->type == MEMCTL_EVENT_KILL && !e->host)
        add_u64(trig, "charged_ahead", e->charged_ahead);
    add_u64(trig, "high", e->high);
    add_u64(trig, "max", e->max);
    json_object_object_add(trig, "psi_full_avg10", json_object_new_double(e->full_avg10_centi / 100.0));
    add_u64(trig, "window_usec", e->figures.dt_usec);
    add_u64(trig, "reclaimed_bytes", e->figures.reclaimed_bytes);
    add_u64(trig, "refaulted_bytes", e->figures.refaulted_bytes);
    add_u64(trig, "swapped_bytes", e->figures.swapped_bytes);
    add_u64(trig, "freed_bytes", e->figures.freed_bytes);
    add_u64(trig, "stall_pct", e->figures.stall_pct);
    if (e->figures.reclaimable_bytes != UINT64_MAX && e->type == MEMCTL_EVENT_KILL && !e->host)
        add_u64(trig, "reclaimable_bytes", e->figures.reclaimable_bytes);
    if (e->host) {
        json_object *host = json_object_new_object();
        add_u64(host, "available_bytes", e->host_available);
        add_u64(host, "zone_free_pages", e->host_zone_free);
        add_u64(host, "zone_min_pages", e->host_zone_min);
        json_object_object_add(trig, "host", host);
    }
    json_object_object_add(o, "trigger", trig);
    if (e->type == MEMCTL_EVENT_KILL) {
        json_object *lat = json_object_new_object();
        add_u64(lat, "event_to_signal_usec", e->event_to_signal_usec);
        add_u64(lat, "signal_to_freed_usec", e->signal_to_freed_usec);
        add_u64(lat, "signal_to_exit_usec", e->signal_to_exit_usec);
        add_u64(lat, "reap_usec", e->reap_usec);
        json_object_object_add(o, "latency", lat);
        add_u64(o, "bytes_freed", e->bytes_freed);
    }
    if (e->prekill_usec) { /* the kill waited for pre-kill hooks; a prekill line: the most it waits */
        add_u64(o, "prekill_usec", e->prekill_usec);
        json_object_object_add(o, "frozen", json_object_new_boolean(e->frozen));
    }
    return o;
}

char *memctl_record_describe(const MemctlCoreEvent *e)
{
    char a[MEMCTL_SIZE_FORMAT_MAX], b[MEMCTL_SIZE_FORMAT_MAX], comm[MEMCTL_STR_ESCAPED_COMM_MAX];
    switch (e->type) {
    case MEMCTL_EVENT_KILL:
        if (e->dry_run)
            return g_strdup_printf("%s: dry run: would kill %s%d (%s), %s, %.1f ms after %s (current %s)%s",
                                   e->group, e->group_kill ? "the whole group, largest " : "", e->pid,
                                   memctl_record_comm(e, comm), e->reason, e->event_to_signal_usec / 1000.0,
                                   e->host ? "the host guard armed" : "crossing high",
                                   memctl_size_format(e->current, b),
                                   e->livelock ? "; previous victim stuck: livelock" : "");
        {
            g_autofree char *waited =
                    e->prekill_usec ? g_strdup_printf("; %.1f s of it waiting for pre-kill hooks%s",
                                                      e->prekill_usec / 1e6, e->frozen ? ", frozen" : "")
                                    : NULL;
            return g_strdup_printf(
                    "%s: killed %s%d (%s), %s, %s freed, %.1f ms after %s (current %s)%s%s", e->group,
                    e->group_kill ? "the whole group, largest " : "", e->pid, memctl_record_comm(e, comm),
                    e->reason, memctl_size_format(e->bytes_freed, a), e->event_to_signal_usec / 1000.0,
                    e->host ? "the host guard armed" : "crossing high", memctl_size_format(e->current, b),
                    e->livelock ? "; previous victim stuck: livelock" : "", waited ? waited : "");
        }
    case MEMCTL_EVENT_PREKILL:
        return g_strdup_printf("%s: %s, waiting up to %.1f s for pre-kill hooks before killing %d (%s), %s",
                               e->group,
                               e->frozen ? "frozen" : "NOT frozen (cgroup.freeze or its mark refused)",
                               e->prekill_usec / 1e6, e->pid, memctl_record_comm(e, comm), e->reason);
    case MEMCTL_EVENT_KERNEL_OOM:
        return g_strdup_printf("%s: the kernel's OOM killer killed %u process(es) (current %s)", e->group,
                               e->npids, memctl_size_format(e->current, a));
    case MEMCTL_EVENT_PRESSURE:
        if (e->host && strcmp(e->reason, "calm") == 0)
            return g_strdup_printf("host: calm, guard disarmed after %.1f s (MemAvailable %s; stall %u%% of "
                                   "the budget at most)",
                                   e->host_episode_usec / 1e6, memctl_size_format(e->host_available, a),
                                   e->host_stall_limit ? e->host_stall_peak * 100 / e->host_stall_limit : 0);
        if (e->host)
            return g_strdup_printf("host: %s, guard armed (MemAvailable %s)",
                                   strcmp(e->what, "watch") == 0 ? "short of memory" : "pressure",
                                   memctl_size_format(e->host_available, a));
        return g_strdup_printf("%s: pressure alert '%s' (current %s)", e->group, e->reason,
                               memctl_size_format(e->current, a));
    case MEMCTL_EVENT_OUTCOME:
        return g_strdup_printf(
                "%s: dry run: %s%s", e->group, e->host ? "host verdict " : "",
                strcmp(e->outcome, "kernel-killed") == 0 ? "confirmed, the kernel's OOM killer killed"
                : strcmp(e->outcome, "recovered") == 0   ? "recovered without a kill"
                                                         : "still stuck 10 s after the verdict, no kill");
    case MEMCTL_EVENT_ERROR:
        return g_strdup_printf("%s%s%s: %s", e->group, e->group[0] ? ": " : "", e->what,
                               g_strerror(-e->error));
    default:
        return g_strdup_printf("%s: released", e->group);
    }
}

const char *memctl_record_comm(const MemctlCoreEvent *e, char buf[static MEMCTL_STR_ESCAPED_COMM_MAX])
{
    return memctl_str_escape(e->comm, sizeof(e->comm), buf, MEMCTL_STR_ESCAPED_COMM_MAX);
}
