/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libmemctl: org.memctl.Manager1 over sd-bus. See include/memctl/client.h. */
#include "include/memctl/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "basic/cleanup.h"
#include "client/libmemctl-internal.h"
#include "include/memctl/memctl.h"

static const sd_bus_error_map memctl_errors[] = {
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, ENOENT),
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_INVALID_ARGUMENT, EINVAL),
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_ACCESS_DENIED, EACCES),
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_BUSY, EBUSY),
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_RESERVE_EXHAUSTED, ENOSPC),
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_INVALID_POLICY, EBADMSG),
        SD_BUS_ERROR_MAP(MEMCTL_DBUS_ERROR_FAILED, EIO),
        SD_BUS_ERROR_MAP_END,
};

int memctl_client_open(const char *address, MemctlClient **ret)
{
    static bool mapped;
    if (!mapped) {
        (void)sd_bus_error_add_map(memctl_errors);
        mapped = true;
    }
    MemctlClient *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int r;
    if (address) {
        r = sd_bus_new(&c->bus);
        if (r >= 0)
            r = sd_bus_set_address(c->bus, address);
        if (r >= 0)
            r = sd_bus_set_bus_client(c->bus, 1);
        if (r >= 0)
            r = sd_bus_start(c->bus);
    } else {
        r = sd_bus_open_system(&c->bus);
    }
    if (r < 0) {
        memctl_client_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

void memctl_client_free(MemctlClient *c)
{
    if (!c)
        return;
    sd_bus_slot_unref(c->killed_slot);
    sd_bus_slot_unref(c->alert_slot);
    sd_bus_slot_unref(c->would_kill_slot);
    sd_bus_error_free(&c->error);
    sd_bus_flush_close_unref(c->bus);
    free(c);
}

sd_bus *memctl_client_bus(MemctlClient *c)
{
    return c->bus;
}

const char *memctl_client_error_name(const MemctlClient *c)
{
    return c->error.name;
}

const char *memctl_client_error_message(const MemctlClient *c)
{
    return c->error.message ? c->error.message : "";
}

int memctl_client_new_call(MemctlClient *c, const char *method, sd_bus_message **ret)
{
    sd_bus_error_free(&c->error);
    return sd_bus_message_new_method_call(c->bus, ret, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH,
                                          MEMCTL_MANAGER_INTERFACE, method);
}

int memctl_client_call(MemctlClient *c, sd_bus_message *m, sd_bus_message **ret_reply)
{
    int r = sd_bus_call(c->bus, m, 0, &c->error, ret_reply);
    if (r < 0 && !sd_bus_error_is_set(&c->error))
        (void)sd_bus_error_set_errno(&c->error, r);
    return r;
}

int memctl_client_get_metrics(MemctlClient *c, const char *format, char **ret_text, char **ret_content_type)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "GetMetrics", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "s", format ? format : "");
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    if (r < 0)
        return r;
    const char *text, *type;
    r = sd_bus_message_read(reply, "ss", &text, &type);
    if (r < 0)
        return r;
    char *t = strdup(text), *ct = ret_content_type ? strdup(type) : NULL;
    if (!t || (ret_content_type && !ct)) {
        free(t);
        free(ct);
        return -ENOMEM;
    }
    *ret_text = t;
    if (ret_content_type)
        *ret_content_type = ct;
    return 0;
}

/* ---- reading dictionaries into structs -------------------------------------------------- */

typedef struct {
    const char *key;
    char type; /* s t u b d */
    size_t offset;
} Field;

static int read_value(sd_bus_message *m, char type, void *dst)
{
    int r;
    switch (type) {
    case 's': {
        const char *s;
        r = sd_bus_message_read_basic(m, 's', &s);
        if (r < 0)
            return r;
        char *copy = strdup(s);
        if (!copy)
            return -ENOMEM;
        free(*(char **)dst);
        *(char **)dst = copy;
        return 0;
    }
    case 'b': {
        int b;
        r = sd_bus_message_read_basic(m, 'b', &b);
        if (r >= 0)
            *(bool *)dst = b;
        return r;
    }
    default:
        return sd_bus_message_read_basic(m, type, dst);
    }
}

/* Reads an a{sv} into the struct at base by the field table; unknown keys and types are skipped. */
static int read_dict(sd_bus_message *m, const Field *fields, size_t nfields, void *base)
{
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *key, *contents;
        char type;
        r = sd_bus_message_read_basic(m, 's', &key);
        if (r >= 0)
            r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
            return r;
        const Field *f = NULL;
        for (size_t i = 0; i < nfields && !f; i++)
            if (strcmp(fields[i].key, key) == 0 && contents[0] == fields[i].type && !contents[1])
                f = &fields[i];
        if (f) {
            r = sd_bus_message_enter_container(m, 'v', contents);
            if (r >= 0)
                r = read_value(m, f->type, (char *)base + f->offset);
            if (r >= 0)
                r = sd_bus_message_exit_container(m);
        } else {
            r = sd_bus_message_skip(m, "v");
        }
        if (r < 0)
            return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

#define FIELD(T, key, type, member)    \
    {                                  \
        key, type, offsetof(T, member) \
    }

static const Field group_fields[] = {
        FIELD(MemctlGroupInfo, "Name", 's', name),
        FIELD(MemctlGroupInfo, "CgroupPath", 's', cgroup_path),
        FIELD(MemctlGroupInfo, "MemoryCurrent", 't', current),
        FIELD(MemctlGroupInfo, "MemoryPeak", 't', peak),
        FIELD(MemctlGroupInfo, "MemoryMin", 't', min),
        FIELD(MemctlGroupInfo, "MemoryLow", 't', low),
        FIELD(MemctlGroupInfo, "MemoryHigh", 't', high),
        FIELD(MemctlGroupInfo, "MemoryMax", 't', max),
        FIELD(MemctlGroupInfo, "SwapMax", 't', swap_max),
        FIELD(MemctlGroupInfo, "OOMGroup", 'b', oom_group),
        FIELD(MemctlGroupInfo, "Priority", 'u', priority),
        FIELD(MemctlGroupInfo, "Kills", 't', kills),
        FIELD(MemctlGroupInfo, "KernelOOMKills", 't', kernel_oom_kills),
        FIELD(MemctlGroupInfo, "PressureSome", 'd', pressure_some),
        FIELD(MemctlGroupInfo, "PressureFull", 'd', pressure_full),
        FIELD(MemctlGroupInfo, "Critical", 'b', critical),
        FIELD(MemctlGroupInfo, "Slice", 's', slice),
        FIELD(MemctlGroupInfo, "Reclaim", 's', reclaim),
        FIELD(MemctlGroupInfo, "WorkingSet", 't', workingset),
        FIELD(MemctlGroupInfo, "WorkingSetMeasured", 'b', workingset_measured),
        FIELD(MemctlGroupInfo, "SuggestedLimit", 't', suggested_limit),
        FIELD(MemctlGroupInfo, "ReclaimedBytes", 't', reclaimed),
        FIELD(MemctlGroupInfo, "ReclaimStallUsec", 't', reclaim_stall_usec),
};

static const Field kill_fields[] = {
        FIELD(MemctlKill, "seq", 't', seq),
        FIELD(MemctlKill, "time_usec", 't', time_usec),
        FIELD(MemctlKill, "group", 's', group),
        FIELD(MemctlKill, "pid", 'u', pid),
        FIELD(MemctlKill, "comm", 's', comm),
        FIELD(MemctlKill, "reason", 's', reason),
        FIELD(MemctlKill, "by", 's', by),
        FIELD(MemctlKill, "message", 's', message),
        FIELD(MemctlKill, "group_kill", 'b', group_kill),
        FIELD(MemctlKill, "livelock", 'b', livelock),
        FIELD(MemctlKill, "processes", 'u', processes),
        FIELD(MemctlKill, "bytes_freed", 't', bytes_freed),
        FIELD(MemctlKill, "latency_usec", 't', latency_usec),
        FIELD(MemctlKill, "freed_usec", 't', freed_usec),
        FIELD(MemctlKill, "reap_usec", 't', reap_usec),
        FIELD(MemctlKill, "current", 't', current),
        FIELD(MemctlKill, "high", 't', high),
        FIELD(MemctlKill, "max", 't', max),
        FIELD(MemctlKill, "dry_run", 'b', dry_run),
        FIELD(MemctlKill, "host", 'b', host),
        FIELD(MemctlKill, "outcome", 's', outcome),
};

static const Field status_fields[] = {
        FIELD(MemctlStatus, "version", 's', version),
        FIELD(MemctlStatus, "root", 's', root),
        FIELD(MemctlStatus, "groups", 'u', groups),
        FIELD(MemctlStatus, "kills", 't', kills),
        FIELD(MemctlStatus, "kernel_oom_kills", 't', kernel_oom_kills),
        FIELD(MemctlStatus, "events_dropped", 't', events_dropped),
        FIELD(MemctlStatus, "uptime_usec", 't', uptime_usec),
        FIELD(MemctlStatus, "memory_total", 't', memory_total),
        FIELD(MemctlStatus, "memory_available", 't', memory_available),
        FIELD(MemctlStatus, "pressure_some", 'd', pressure_some),
        FIELD(MemctlStatus, "pressure_full", 'd', pressure_full),
        FIELD(MemctlStatus, "core_alive", 'b', core_alive),
        FIELD(MemctlStatus, "swap_total", 't', swap_total),
        FIELD(MemctlStatus, "swap_free", 't', swap_free),
        FIELD(MemctlStatus, "metrics_url", 's', metrics_url),
        FIELD(MemctlStatus, "reserve_total", 't', reserve_total),
        FIELD(MemctlStatus, "reserve_registered", 't', reserve_registered),
        FIELD(MemctlStatus, "reserve_leased", 't', reserve_leased),
        FIELD(MemctlStatus, "reserve_free", 't', reserve_free),
        FIELD(MemctlStatus, "reserve_resident", 't', reserve_resident),
        FIELD(MemctlStatus, "reserve_lent", 't', reserve_lent),
        FIELD(MemctlStatus, "critical_clients", 'u', critical_clients),
        FIELD(MemctlStatus, "dry_run", 'b', dry_run),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

void memctl_group_info_clear(MemctlGroupInfo *g)
{
    free(g->name);
    free(g->object_path);
    free(g->cgroup_path);
    free(g->slice);
    free(g->reclaim);
    memset(g, 0, sizeof(*g));
}

void memctl_group_info_free_array(MemctlGroupInfo *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++)
        memctl_group_info_clear(&g[i]);
    free(g);
}

void memctl_kill_free_array(MemctlKill *k, size_t n)
{
    for (size_t i = 0; k && i < n; i++) {
        free(k[i].group);
        free(k[i].comm);
        free(k[i].reason);
        free(k[i].by);
        free(k[i].message);
        free(k[i].outcome);
    }
    free(k);
}

void memctl_status_clear(MemctlStatus *s)
{
    free(s->version);
    free(s->root);
    free(s->metrics_url);
    memset(s, 0, sizeof(*s));
}

int memctl_client_get_group(MemctlClient *c, const char *name, MemctlGroupInfo *ret)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL, *props = NULL;
    int r = memctl_client_new_call(c, "GetGroup", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "s", name);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    const char *path = NULL;
    if (r >= 0)
        r = sd_bus_message_read(reply, "o", &path);
    if (r >= 0)
        r = sd_bus_call_method(c->bus, MEMCTL_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               &c->error, &props, "s", MEMCTL_GROUP_INTERFACE);
    MemctlGroupInfo g = {0};
    if (r >= 0)
        r = read_dict(props, group_fields, N(group_fields), &g);
    if (r >= 0 && !(g.object_path = strdup(path)))
        r = -ENOMEM;
    if (r < 0) {
        memctl_group_info_clear(&g);
        return r;
    }
    *ret = g;
    return 0;
}

/* Grows *array by one zeroed element of `size` bytes and returns it, or NULL (array untouched). */
void *memctl_array_append(void **array, size_t *n, size_t size)
{
    void *grown = realloc(*array, (*n + 1) * size);
    if (!grown)
        return NULL;
    *array = grown;
    void *slot = (char *)grown + *n * size;
    memset(slot, 0, size);
    (*n)++;
    return slot;
}

/* One row of ListGroups into g (strings copied): > 0, 0 at the end, or -errno. */
static int group_row(sd_bus_message *reply, MemctlGroupInfo *g)
{
    const char *name, *obj, *cg;
    int r = sd_bus_message_read(reply, "(sostttttd)", &name, &obj, &cg, &g->current, &g->min, &g->high,
                                &g->max, &g->kills, &g->pressure_full);
    if (r <= 0)
        return r;
    g->name = strdup(name);
    g->object_path = strdup(obj);
    g->cgroup_path = strdup(cg);
    return g->name && g->object_path && g->cgroup_path ? 1 : -ENOMEM;
}

/* One row of ListWorkingSets into g. */
static int working_set_row(sd_bus_message *reply, MemctlGroupInfo *g)
{
    const char *name;
    int measured;
    int r = sd_bus_message_read(reply, "(stbtt)", &name, &g->workingset, &measured, &g->suggested_limit,
                                &g->reclaimed);
    if (r <= 0)
        return r;
    g->workingset_measured = measured;
    g->name = strdup(name);
    return g->name ? 1 : -ENOMEM;
}

/* Calls a method that returns an array of `row_type` rows, each read into a MemctlGroupInfo. */
static int list_group_rows(MemctlClient *c, const char *method, const char *row_type,
                           int (*row)(sd_bus_message *reply, MemctlGroupInfo *g), MemctlGroupInfo **ret,
                           size_t *ret_n)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, method, &m);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    if (r >= 0)
        r = sd_bus_message_enter_container(reply, 'a', row_type);
    MemctlGroupInfo *out = NULL;
    size_t n = 0;
    while (r >= 0) {
        MemctlGroupInfo g = {0};
        r = row(reply, &g);
        if (r == 0)
            break;
        MemctlGroupInfo *slot = memctl_array_append((void **)&out, &n, sizeof(*out));
        if (!slot) {
            memctl_group_info_clear(&g);
            r = -ENOMEM;
            break;
        }
        *slot = g; /* kept even when a copy failed: freed with the rest */
    }
    if (r < 0) {
        memctl_group_info_free_array(out, n);
        return r;
    }
    *ret = out;
    *ret_n = n;
    return (int)n;
}

int memctl_client_list_groups(MemctlClient *c, MemctlGroupInfo **ret, size_t *ret_n)
{
    return list_group_rows(c, "ListGroups", "(sostttttd)", group_row, ret, ret_n);
}

int memctl_client_list_working_sets(MemctlClient *c, MemctlGroupInfo **ret, size_t *ret_n)
{
    return list_group_rows(c, "ListWorkingSets", "(stbtt)", working_set_row, ret, ret_n);
}

int memctl_client_list_kills(MemctlClient *c, uint64_t since, MemctlKill **ret, size_t *ret_n,
                             uint64_t *ret_last)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "ListKills", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "t", since);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    if (r >= 0)
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
    MemctlKill *out = NULL;
    size_t n = 0;
    while (r >= 0) {
        r = sd_bus_message_at_end(reply, false);
        if (r != 0)
            break;
        MemctlKill *slot = memctl_array_append((void **)&out, &n, sizeof(*out));
        r = slot ? read_dict(reply, kill_fields, N(kill_fields), slot) : -ENOMEM;
    }
    uint64_t last = 0;
    if (r >= 0)
        r = sd_bus_message_exit_container(reply);
    if (r >= 0)
        r = sd_bus_message_read(reply, "t", &last);
    if (r < 0) {
        memctl_kill_free_array(out, n);
        return r;
    }
    *ret = out;
    *ret_n = n;
    if (ret_last)
        *ret_last = last;
    return (int)n;
}

int memctl_client_get_status(MemctlClient *c, MemctlStatus *ret)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "GetStatus", &m);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    MemctlStatus s = {0};
    if (r >= 0)
        r = read_dict(reply, status_fields, N(status_fields), &s);
    if (r < 0) {
        memctl_status_clear(&s);
        return r;
    }
    *ret = s;
    return 0;
}

/* ---- critical clients and the reserve ----------------------------------------------------- */

/* ---- signals ---------------------------------------------------------------------------- */

static int on_killed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    MemctlClient *c = userdata;
    const char *group, *comm, *reason;
    uint32_t pid;
    uint64_t freed, latency;
    if (c->killed && sd_bus_message_read(m, "susstt", &group, &pid, &comm, &reason, &freed, &latency) >= 0)
        c->killed(group, pid, comm, reason, freed, latency, c->userdata);
    return 0;
}

static int on_alert(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    MemctlClient *c = userdata;
    const char *group, *level;
    if (c->alert && sd_bus_message_read(m, "ss", &group, &level) >= 0)
        c->alert(group, level, c->userdata);
    return 0;
}

static int on_would_kill(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    MemctlClient *c = userdata;
    const char *group, *comm, *reason, *outcome;
    uint32_t pid;
    uint64_t seq;
    if (c->would_kill && sd_bus_message_read(m, "sussts", &group, &pid, &comm, &reason, &seq, &outcome) >= 0)
        c->would_kill(group, pid, comm, reason, seq, outcome, c->userdata);
    return 0;
}

int memctl_client_subscribe_dry_run(MemctlClient *c, MemctlWouldKillFn would_kill)
{
    sd_bus_error_free(&c->error);
    c->would_kill = would_kill;
    if (!would_kill || c->would_kill_slot)
        return 0;
    int r = sd_bus_match_signal(c->bus, &c->would_kill_slot, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH,
                                MEMCTL_MANAGER_INTERFACE, "WouldKill", on_would_kill, c);
    return r < 0 ? r : 0;
}

int memctl_client_subscribe(MemctlClient *c, MemctlKilledFn killed, MemctlAlertFn alert, void *userdata)
{
    sd_bus_error_free(&c->error);
    c->killed = killed;
    c->alert = alert;
    c->userdata = userdata;
    int r = 0;
    if (killed && !c->killed_slot)
        r = sd_bus_match_signal(c->bus, &c->killed_slot, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH,
                                MEMCTL_MANAGER_INTERFACE, "Killed", on_killed, c);
    if (r >= 0 && alert && !c->alert_slot)
        r = sd_bus_match_signal(c->bus, &c->alert_slot, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH,
                                MEMCTL_MANAGER_INTERFACE, "PressureAlert", on_alert, c);
    return r < 0 ? r : 0;
}

int memctl_client_wait(MemctlClient *c, uint64_t timeout_usec)
{
    for (;;) {
        int r = sd_bus_process(c->bus, NULL);
        if (r < 0)
            return r;
        if (r > 0)
            return 1;
        r = sd_bus_wait(c->bus, timeout_usec);
        if (r <= 0)
            return r; /* 0: timeout; -EINTR: a signal, the caller decides */
    }
}
