/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memctl's one-shot verbs: status, list, show, create, set, attach, remove, kill, reload. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/table.h"
#include "basic/size.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static void add(json_object *o, const char *k, json_object *v)
{
    json_object_object_add(o, k, v);
}

/* A usage bar against the group's limit: "[#######.............]  35%". */
static void status_bar(uint64_t used, uint64_t limit, char buf[static 32])
{
    enum { W = 20 };
    double frac = limit && limit != MEMCTL_SIZE_MAX ? (double)used / (double)limit : 0;
    int fill = (int)(MIN(frac, 1.0) * W + 0.5);
    buf[0] = '[';
    for (int i = 0; i < W; i++)
        buf[1 + i] = i < fill ? '#' : '.';
    snprintf(buf + 1 + W, 32 - 1 - W, "] %3.0f%%", frac * 100);
}

static void status_groups(const MemctlGroupInfo *g, size_t n, uint64_t host_total)
{
    if (n == 0) {
        printf("\nNo groups.\n");
        return;
    }
    static const char *const cols[] = {"GROUP", ">CURRENT", ">LIMIT", "USAGE", ">PSI-FULL", ">KILLS"};
    _cleanup_table_ Table *t = table_new(cols, 6);
    for (size_t i = 0; t && i < n; i++) {
        uint64_t limit = g[i].max != MEMCTL_SIZE_MAX    ? g[i].max
                         : g[i].high != MEMCTL_SIZE_MAX ? g[i].high
                                                        : 0;
        char cur[16], lim[16], bar[32], psi[16], kills[24];
        status_bar(g[i].current, limit ? limit : host_total, bar);
        snprintf(psi, sizeof(psi), "%.2f%%", g[i].pressure_full);
        snprintf(kills, sizeof(kills), "%" PRIu64, g[i].kills);
        const char *row[] = {
                g[i].name, cli_size(g[i].current, cur), limit ? cli_size(limit, lim) : "host", bar, psi,
                kills};
        if (table_add_row(t, row) < 0)
            break;
    }
    if (t) {
        printf("\n");
        table_print(t, stdout, true);
    }
}

int verb_status(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    _cleanup_status_ MemctlStatus s = {0};
    int r = memctl_client_get_status(c, &s);
    if (r < 0)
        return cli_fail(c, r, "status");
    MemctlGroupInfo *g = NULL;
    size_t n = 0;
    r = memctl_client_list_groups(c, &g, &n);
    if (r < 0)
        return cli_fail(c, r, "status");
    if (a->json) {
        json_object *o = json_object_new_object();
        add(o, "version", json_object_new_string(s.version ? s.version : ""));
        add(o, "root", json_object_new_string(s.root ? s.root : ""));
        add(o, "groups", json_object_new_uint64(s.groups));
        add(o, "kills", json_object_new_uint64(s.kills));
        add(o, "kernel_oom_kills", json_object_new_uint64(s.kernel_oom_kills));
        add(o, "events_dropped", json_object_new_uint64(s.events_dropped));
        add(o, "uptime_usec", json_object_new_uint64(s.uptime_usec));
        add(o, "memory_total", json_object_new_uint64(s.memory_total));
        add(o, "memory_available", json_object_new_uint64(s.memory_available));
        add(o, "swap_total", json_object_new_uint64(s.swap_total));
        add(o, "swap_free", json_object_new_uint64(s.swap_free));
        add(o, "pressure_some", cli_json_percent(s.pressure_some));
        add(o, "pressure_full", cli_json_percent(s.pressure_full));
        add(o, "core_alive", json_object_new_boolean(s.core_alive));
        add(o, "dry_run", json_object_new_boolean(s.dry_run));
        add(o, "metrics_url", json_object_new_string(s.metrics_url ? s.metrics_url : ""));
        add(o, "reserve_total", json_object_new_uint64(s.reserve_total));
        add(o, "reserve_registered", json_object_new_uint64(s.reserve_registered));
        add(o, "reserve_leased", json_object_new_uint64(s.reserve_leased));
        add(o, "reserve_lent", json_object_new_uint64(s.reserve_lent));
        add(o, "critical_clients", json_object_new_uint64(s.critical_clients));
        add(o, "group_list", cli_groups_json(g, n));
        memctl_group_info_free_array(g, n);
        cli_print_json(o);
        return 0;
    }
    char b1[16], b2[16], b3[16];
    uint64_t up = s.uptime_usec / 1000000;
    printf("memctld %s, managing %s, up %" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s\n",
           s.version ? s.version : "?", s.root ? s.root : "?", up / 3600, up / 60 % 60, up % 60);
    printf("        Core: %s%s\n", s.core_alive ? "alive" : "NOT ANSWERING",
           s.dry_run ? ", DRY RUN: records the kills it would make, makes none" : "");
    printf("       Kills: %" PRIu64 " by memctld, %" PRIu64 " by the kernel's OOM killer\n", s.kills,
           s.kernel_oom_kills);
    printf("     Reserve: %s, %s registered by %u critical client(s), %s leased\n",
           cli_size(s.reserve_total, b1), cli_size(s.reserve_registered, b2), s.critical_clients,
           cli_size(s.reserve_leased, b3));
    printf("     Metrics: %s\n",
           s.metrics_url && s.metrics_url[0] ? s.metrics_url : "HTTP off (memctl metrics)");
    if (s.events_dropped)
        printf("      Events: %" PRIu64 " dropped (the main loop fell behind)\n", s.events_dropped);
    char bar[32];
    status_bar(s.memory_total - MIN(s.memory_available, s.memory_total), s.memory_total, bar);
    printf("\n  Host memory: %s used, %s available of %s\n", bar, cli_size(s.memory_available, b1),
           cli_size(s.memory_total, b2));
    if (s.swap_total) {
        status_bar(s.swap_total - MIN(s.swap_free, s.swap_total), s.swap_total, bar);
        printf("         Swap: %s used, %s free of %s\n", bar, cli_size(s.swap_free, b1),
               cli_size(s.swap_total, b2));
    } else
        printf("         Swap: none\n");
    printf("     Pressure: some %.2f%%, full %.2f%% (avg10)\n", s.pressure_some, s.pressure_full);
    status_groups(g, n, s.memory_total);
    memctl_group_info_free_array(g, n);
    return 0;
}

json_object *cli_groups_json(const MemctlGroupInfo *g, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        add(o, "name", json_object_new_string(g[i].name));
        add(o, "object_path", json_object_new_string(g[i].object_path));
        add(o, "cgroup", json_object_new_string(g[i].cgroup_path));
        add(o, "current", cli_json_size(g[i].current));
        add(o, "min", cli_json_size(g[i].min));
        add(o, "high", cli_json_size(g[i].high));
        add(o, "max", cli_json_size(g[i].max));
        add(o, "kills", json_object_new_uint64(g[i].kills));
        add(o, "pressure_full", cli_json_percent(g[i].pressure_full));
        json_object_array_add(arr, o);
    }
    return arr;
}

int verb_list(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    MemctlGroupInfo *g = NULL;
    size_t n = 0;
    int r = memctl_client_list_groups(c, &g, &n);
    if (r < 0)
        return cli_fail(c, r, "list");
    if (a->json) {
        cli_print_json(cli_groups_json(g, n));
        memctl_group_info_free_array(g, n);
        return 0;
    }
    static const char *const cols[] = {"GROUP", ">CURRENT", ">MIN", ">HIGH", ">MAX", ">KILLS", ">PSI-FULL"};
    _cleanup_table_ Table *t = table_new(cols, 7);
    for (size_t i = 0; t && i < n; i++) {
        char cur[16], min[16], high[16], max[16], kills[24], psi[16];
        snprintf(kills, sizeof(kills), "%" PRIu64, g[i].kills);
        snprintf(psi, sizeof(psi), "%.2f%%", g[i].pressure_full);
        const char *row[] = {g[i].name,
                             cli_size(g[i].current, cur),
                             cli_size(g[i].min, min),
                             cli_size(g[i].high, high),
                             cli_size(g[i].max, max),
                             kills,
                             psi};
        if (table_add_row(t, row) < 0)
            break;
    }
    memctl_group_info_free_array(g, n);
    if (!t)
        return cli_fail(NULL, -ENOMEM, "list");
    table_print(t, stdout, a->legend);
    if (a->legend)
        printf("\n%zu group(s) listed.\n", table_rows(t));
    return 0;
}

int verb_show(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    _cleanup_group_info_ MemctlGroupInfo g = {0};
    int r = memctl_client_get_group(c, argv[0], &g);
    if (r < 0)
        return cli_fail(c, r, argv[0]);
    const struct {
        const char *name;
        uint64_t v;
    } sizes[] = {{"MemoryCurrent", g.current}, {"MemoryPeak", g.peak}, {"MemoryMin", g.min},
                 {"MemoryLow", g.low},         {"MemoryHigh", g.high}, {"MemoryMax", g.max},
                 {"SwapMax", g.swap_max}};
    if (a->json) {
        json_object *o = json_object_new_object();
        add(o, "Name", json_object_new_string(g.name ? g.name : ""));
        add(o, "ObjectPath", json_object_new_string(g.object_path));
        add(o, "CgroupPath", json_object_new_string(g.cgroup_path ? g.cgroup_path : ""));
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            add(o, sizes[i].name, cli_json_size(sizes[i].v));
        add(o, "OOMGroup", json_object_new_boolean(g.oom_group));
        add(o, "Priority", json_object_new_uint64(g.priority));
        add(o, "Kills", json_object_new_uint64(g.kills));
        add(o, "KernelOOMKills", json_object_new_uint64(g.kernel_oom_kills));
        add(o, "PressureSome", cli_json_percent(g.pressure_some));
        add(o, "PressureFull", cli_json_percent(g.pressure_full));
        add(o, "Critical", json_object_new_boolean(g.critical));
        add(o, "Slice", json_object_new_string(g.slice ? g.slice : ""));
        add(o, "Reclaim", json_object_new_string(g.reclaim ? g.reclaim : "off"));
        add(o, "WorkingSet", json_object_new_uint64(g.workingset));
        add(o, "WorkingSetMeasured", json_object_new_boolean(g.workingset_measured));
        add(o, "SuggestedLimit", json_object_new_uint64(g.suggested_limit));
        add(o, "ReclaimedBytes", json_object_new_uint64(g.reclaimed));
        add(o, "ReclaimStallUsec", json_object_new_uint64(g.reclaim_stall_usec));
        cli_print_json(o);
        return 0;
    }
    printf("Name=%s\nObjectPath=%s\nCgroupPath=%s\n", g.name, g.object_path, g.cgroup_path);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char b[16];
        printf("%s=%s\n", sizes[i].name, cli_size(sizes[i].v, b));
    }
    printf("OOMGroup=%s\nPriority=%u\nKills=%" PRIu64 "\nKernelOOMKills=%" PRIu64
           "\nPressureSome=%.2f\nPressureFull=%.2f\nCritical=%s\nSlice=%s\n",
           g.oom_group ? "yes" : "no", g.priority, g.kills, g.kernel_oom_kills, g.pressure_some,
           g.pressure_full, g.critical ? "yes" : "no", g.slice ? g.slice : "");
    char ws[16], sl[16], rb[16];
    printf("Reclaim=%s\nWorkingSet=%s\nWorkingSetMeasured=%s\nSuggestedLimit=%s\nReclaimedBytes=%s\n"
           "ReclaimStallUsec=%" PRIu64 "\n",
           g.reclaim ? g.reclaim : "off", cli_size(g.workingset, ws), g.workingset_measured ? "yes" : "no",
           cli_size(g.suggested_limit, sl), cli_size(g.reclaimed, rb), g.reclaim_stall_usec);
    return 0;
}

/* A limit for the group from its working set (proactive reclaim must be on), with what it came from. */
int verb_suggest(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    _cleanup_group_info_ MemctlGroupInfo g = {0};
    int r = memctl_client_get_group(c, argv[0], &g);
    if (r < 0)
        return cli_fail(c, r, argv[0]);
    if (g.suggested_limit == 0) {
        fprintf(stderr,
                "memctl: %s: no working set known: proactive reclaim is %s (memctl set %s reclaim=auto, then "
                "wait a few intervals)\n",
                argv[0], g.reclaim && strcmp(g.reclaim, "auto") == 0 ? "on but has not sampled yet" : "off",
                argv[0]);
        return CLI_EXIT_FAILURE;
    }
    if (a->json) {
        json_object *o = json_object_new_object();
        add(o, "group", json_object_new_string(argv[0]));
        add(o, "limit", json_object_new_uint64(g.suggested_limit));
        add(o, "working_set", json_object_new_uint64(g.workingset));
        add(o, "measured", json_object_new_boolean(g.workingset_measured));
        add(o, "current", cli_json_size(g.current));
        add(o, "peak", cli_json_size(g.peak));
        add(o, "reclaimed", json_object_new_uint64(g.reclaimed));
        add(o, "reclaim_stall_usec", json_object_new_uint64(g.reclaim_stall_usec));
        cli_print_json(o);
        return 0;
    }
    char lim[16], ws[16], cur[16], peak[16], rec[16];
    printf("%s: limit=%s\n", argv[0], cli_size(g.suggested_limit, lim));
    printf("  working set %s (%s), plus 25%% headroom (at least 16M)\n", cli_size(g.workingset, ws),
           g.workingset_measured
                   ? "measured: the usage at which reclaim's stall reached reclaim_pressure or its "
                     "pages came back"
                   : "an upper bound: reclaim has not yet cost the group its stall target");
    printf("  now %s, peak %s; reclaimed %s at a stall of %.3f s\n", cli_size(g.current, cur),
           cli_size(g.peak, peak), cli_size(g.reclaimed, rec), g.reclaim_stall_usec / 1e6);
    printf("  to apply: memctl set %s limit=%s\n", argv[0], lim);
    return 0;
}

/* KEY=VALUE arguments after the group, added to the options' settings. */
static int parse_settings(const CliArgs *a, int argc, char **argv, MemctlSetting *out, size_t *ret_n)
{
    size_t n = a->n_settings;
    memcpy(out, a->settings, n * sizeof(*out));
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            fprintf(stderr, "memctl: '%s': expected KEY=VALUE (e.g. limit=512M)\n", argv[i]);
            return CLI_EXIT_INVALID;
        }
        if (n == 96) {
            fprintf(stderr, "memctl: too many settings\n");
            return CLI_EXIT_INVALID;
        }
        *eq = '\0';
        out[n++] = (MemctlSetting){argv[i], eq + 1};
    }
    *ret_n = n;
    return 0;
}

/* create and set: the same settings, a different call. */
static int apply_settings(MemctlClient *c, const CliArgs *a, int argc, char **argv, bool create)
{
    MemctlSetting s[96];
    size_t n;
    int r = parse_settings(a, argc - 1, argv + 1, s, &n);
    if (r != 0)
        return r;
    char *path = NULL;
    r = create ? memctl_client_create_group(c, argv[0], s, n, &path)
               : memctl_client_set_limits(c, argv[0], s, n);
    if (r < 0)
        return cli_fail(c, r, argv[0]);
    if (create && a->json) {
        json_object *o = json_object_new_object();
        add(o, "name", json_object_new_string(argv[0]));
        add(o, "object_path", json_object_new_string(path));
        cli_print_json(o);
    }
    free(path);
    return 0;
}

int verb_create(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    return apply_settings(c, a, argc, argv, true);
}

int verb_set(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    return apply_settings(c, a, argc, argv, false);
}

int verb_attach(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    uint32_t *pids = calloc((size_t)argc, sizeof(uint32_t));
    if (!pids)
        return cli_fail(NULL, -ENOMEM, "attach");
    for (int i = 1; i < argc; i++) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(argv[i], &end, 10);
        if (errno || *end || !argv[i][0] || argv[i][0] == '-' || v == 0 || v > INT32_MAX) {
            fprintf(stderr, "memctl: '%s' is not a process id\n", argv[i]);
            free(pids);
            return CLI_EXIT_INVALID;
        }
        pids[i - 1] = (uint32_t)v;
    }
    int r = memctl_client_attach(c, argv[0], pids, (size_t)argc - 1);
    free(pids);
    return r < 0 ? cli_fail(c, r, argv[0]) : 0;
}

int verb_remove(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    MemctlFinal f;
    int r = memctl_client_remove_group(c, argv[0], a->kill ? MEMCTL_CLIENT_REMOVE_KILL : 0, &f);
    if (r < 0)
        return cli_fail(c, r, argv[0]);
    if (a->json) {
        json_object *o = json_object_new_object();
        add(o, "name", json_object_new_string(argv[0]));
        add(o, "peak", json_object_new_uint64(f.peak));
        add(o, "oom", json_object_new_uint64(f.oom));
        add(o, "oom_kill", json_object_new_uint64(f.oom_kill));
        add(o, "high", json_object_new_uint64(f.high));
        add(o, "max", json_object_new_uint64(f.max));
        add(o, "kills", json_object_new_uint64(f.kills));
        cli_print_json(o);
    } else {
        char b[16];
        printf("Removed %s: peak %s, memctld kills %" PRIu64 ", kernel OOM kills %" PRIu64
               ", times over high %" PRIu64 ", at max %" PRIu64 ".\n",
               argv[0], cli_size(f.peak, b), f.kills, f.oom_kill, f.high, f.max);
    }
    return 0;
}

int verb_kill(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    int r = memctl_client_kill_group(c, argv[0], a->reason ? a->reason : "memctl kill",
                                     a->one ? MEMCTL_CLIENT_KILL_ONE : 0);
    return r < 0 ? cli_fail(c, r, argv[0]) : 0;
}

static void strv_freep(char ***v)
{
    memctl_strv_free(*v);
}

int verb_reload(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    __attribute__((cleanup(strv_freep))) char **changes = NULL;
    int r = memctl_client_reload(c, &changes);
    if (r < 0)
        return cli_fail(c, r, "reload");
    if (a->json) {
        json_object *arr = json_object_new_array();
        for (char **p = changes; p && *p; p++)
            json_object_array_add(arr, json_object_new_string(*p));
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
        json_object_put(arr);
    } else if (!changes || !changes[0]) {
        printf("nothing changed\n");
    } else {
        for (char **p = changes; *p; p++)
            printf("%s\n", *p);
    }
    return 0;
}
