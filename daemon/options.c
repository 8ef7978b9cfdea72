/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/options.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/size.h"
#include "daemon/config.h"
#include "daemon/error.h"
#include "daemon/metrics/http.h"
#include "include/memctl/memctl.h"
#include "kernel/host-sample.h"

void memctl_options_init(MemctlOptions *o)
{
    *o = (MemctlOptions){
            .max_groups = 1024, .max_procs = 4096, .events_ring = 1024, .window_ms = -1, .stuck_windows = -1};
    o->group_names = g_ptr_array_new_with_free_func(g_free);
    o->group_limits = g_array_new(FALSE, TRUE, sizeof(MemctlLimits));
    o->auth = (MemctlAuthConfig){.admin_gid = (gid_t)-1, .polkit = TRUE};
}

void memctl_options_clear(MemctlOptions *o)
{
    char **strings[] = {&o->root,        &o->mount,       &o->proc_root,      &o->kill_log,
                        &o->bus_address, &o->admin_group, &o->reserve_spec,   &o->config,
                        &o->config_dir,  &o->state_file,  &o->metrics_address};
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        g_clear_pointer(strings[i], g_free);
    g_clear_pointer(&o->group_specs, g_strfreev);
    g_clear_pointer(&o->check_files, g_strfreev);
    g_clear_pointer(&o->group_names, g_ptr_array_unref);
    g_clear_pointer(&o->group_limits, g_array_unref);
}

static int usage_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);
static int usage_error(GError **error, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_propagate_error(error, g_error_new_valist(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, format, ap));
    va_end(ap);
    return -EINVAL;
}

int memctl_options_parse(MemctlOptions *o, int argc, char **argv, GError **error)
{
    gboolean no_bus = FALSE, no_polkit = FALSE, check = FALSE, test_hooks = FALSE, version = FALSE,
             dry_run = FALSE;
    GOptionEntry entries[] = {
            {"root", 0, 0, G_OPTION_ARG_FILENAME, &o->root,
             "Managed cgroup (default: the delegated cgroup memctld runs in, else " MEMCTL_DEFAULT_ROOT ")",
             "PATH"},
            {"cgroup-mount", 0, 0, G_OPTION_ARG_FILENAME, &o->mount, "cgroup2 mount (default /sys/fs/cgroup)",
             "PATH"},
            {"proc", 0, 0, G_OPTION_ARG_FILENAME, &o->proc_root, "procfs mount (default /proc)", "PATH"},
            {"group", 'g', 0, G_OPTION_ARG_STRING_ARRAY, &o->group_specs,
             "Create or update a group: NAME[:key=value,...] (keys: min low high max swap_max limit headroom "
             "oom_group priority)",
             "SPEC"},
            {"kill-log", 0, 0, G_OPTION_ARG_FILENAME, &o->kill_log,
             "Append kill records as JSON lines to FILE", "FILE"},
            {"max-groups", 0, 0, G_OPTION_ARG_INT, &o->max_groups, "Groups the core is sized for (1-65536)",
             "N"},
            {"max-procs", 0, 0, G_OPTION_ARG_INT, &o->max_procs,
             "Processes one decision can rank (1-1048576)", "N"},
            {"events-ring", 0, 0, G_OPTION_ARG_INT, &o->events_ring,
             "Events the core can hand over before the main loop takes them (16-65536)", "N"},
            {"window-ms", 0, 0, G_OPTION_ARG_INT, &o->window_ms, "Decision window while over high (5-10000)",
             "MS"},
            {"stuck-windows", 0, 0, G_OPTION_ARG_INT, &o->stuck_windows,
             "Windows without progress before a kill (1-1000)", "N"},
            {"dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
             "Decide and record the kills memctld would make, make none (KillGroup still kills)", NULL},
            {"bus-address", 0, 0, G_OPTION_ARG_STRING, &o->bus_address,
             "D-Bus address to serve the API on (default: the system bus)", "ADDRESS"},
            {"no-bus", 0, 0, G_OPTION_ARG_NONE, &no_bus, "Run without the D-Bus API (the core still kills)",
             NULL},
            {"admin-group", 0, 0, G_OPTION_ARG_STRING, &o->admin_group,
             "Unix group whose members may change things over D-Bus (default memctl; '' for root only)",
             "GROUP"},
            {"no-polkit", 0, 0, G_OPTION_ARG_NONE, &no_polkit, "Never ask polkit", NULL},
            {"reserve", 0, 0, G_OPTION_ARG_STRING, &o->reserve_spec,
             "Memory preallocated for critical clients' leases (default 0; at most half of RAM)", "SIZE"},
            {"config", 0, 0, G_OPTION_ARG_FILENAME, &o->config,
             "Policy file (default " MEMCTL_CONFIG_FILE ", optional)", "FILE"},
            {"config-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->config_dir,
             "Drop-in policy directory, *.json in name order (default " MEMCTL_CONFIG_DIR ")", "DIR"},
            {"state-file", 0, 0, G_OPTION_ARG_FILENAME, &o->state_file,
             "Where groups created over D-Bus are kept across restarts (default " MEMCTL_STATE_FILE
             "; '' for none)",
             "FILE"},
            {"metrics-address", 0, 0, G_OPTION_ARG_STRING, &o->metrics_address,
             "Serve Prometheus /metrics on ADDRESS:PORT or [ADDRESS]:PORT (port 0: any free port; '' off; "
             "default " MEMCTL_METRICS_DEFAULT_ADDRESS ", or daemon.metrics_address)",
             "ADDRESS"},
            {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
             "Validate the policy files given as arguments (default: --config and --config-dir) and exit",
             NULL},
            {"test-hooks", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &test_hooks, "Enable test hooks",
             NULL},
            {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
            {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the memctl cgroup v2 memory manager");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error))
        return -EINVAL;
    o->no_bus = no_bus;
    o->dry_run = dry_run;
    o->no_polkit = no_polkit;
    o->check = check;
    o->test_hooks = test_hooks;
    o->version = version;
    o->config_given = o->config != NULL;
    if (!o->config)
        o->config = g_strdup(MEMCTL_CONFIG_FILE);
    else if (!o->config[0])
        g_clear_pointer(&o->config, g_free);
    if (!o->config_dir)
        o->config_dir = g_strdup(MEMCTL_CONFIG_DIR);
    if (o->check)
        o->check_files = g_strdupv(argv + 1);
    else if (argc > 1)
        return usage_error(error, "unexpected argument '%s'", argv[1]);
    return 0;
}

/* --group NAME[:key=value,...], every one parsed before anything is touched. */
static int parse_groups(MemctlOptions *o, GError **error)
{
    for (char **s = o->group_specs; s && *s; s++) {
        const char *colon = strchr(*s, ':');
        MemctlLimits l;
        memctl_limits_init(&l);
        const char *bad = NULL;
        size_t bad_len = 0;
        int r = colon ? memctl_limits_parse_list(colon + 1, &l, &bad, &bad_len) : 0;
        if (r < 0)
            return usage_error(error, "--group %s: %s key '%.*s'", *s,
                               r == -ENOENT   ? "unknown"
                               : r == -ERANGE ? "out-of-range value for"
                                              : "malformed value for",
                               (int)bad_len, bad ? bad : "");
        g_ptr_array_add(o->group_names, colon ? g_strndup(*s, (gsize)(colon - *s)) : g_strdup(*s));
        g_array_append_val(o->group_limits, l);
    }
    return 0;
}

/* --reserve, else daemon.reserve: at most half of the host's memory. */
static int settle_reserve(MemctlOptions *o, const MemctlPolicy *policy, GError **error)
{
    bool from_policy = !o->reserve_spec;
    o->reserve_bytes = policy->set & MEMCTL_DAEMON_RESERVE ? policy->reserve : 0;
    if (o->reserve_spec &&
        (memctl_size_parse(o->reserve_spec, &o->reserve_bytes) < 0 || o->reserve_bytes == MEMCTL_SIZE_MAX))
        return usage_error(error, "--reserve: '%s' is not a size (bytes, or with K, M, G, T)",
                           o->reserve_spec);
    if (o->reserve_bytes == 0)
        return 0;
    MemctlHostMemory mem = {0};
    (void)memctl_host_memory_read(o->proc_root, &mem);
    if (!mem.total || o->reserve_bytes <= mem.total / 2)
        return 0;
    char b[MEMCTL_SIZE_FORMAT_MAX], h[MEMCTL_SIZE_FORMAT_MAX];
    memctl_size_format(o->reserve_bytes, b);
    memctl_size_format(mem.total, h);
    if (from_policy)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_POLICY,
                                "%s: daemon.reserve: %s is more than half of the host's memory (%s)",
                                o->config ? o->config : "the policy", b, h);
    return usage_error(error, "--reserve: %s is more than half of the host's memory (%s)", b, h);
}

int memctl_options_settle(MemctlOptions *o, const MemctlPolicy *policy, GError **error)
{
    if (!o->root && (policy->set & MEMCTL_DAEMON_ROOT))
        o->root = g_strdup(policy->root);
    if (!o->kill_log && (policy->set & MEMCTL_DAEMON_KILL_LOG) && policy->kill_log[0])
        o->kill_log = g_strdup(policy->kill_log);
    if (!o->state_file)
        o->state_file =
                g_strdup((policy->set & MEMCTL_DAEMON_STATE_FILE) ? policy->state_file : MEMCTL_STATE_FILE);
    /* The default address may be taken, and then memctld runs without HTTP rather than not at all. */
    o->metrics_explicit = o->metrics_address || (policy->set & MEMCTL_DAEMON_METRICS);
    if (!o->metrics_address)
        o->metrics_address = g_strdup((policy->set & MEMCTL_DAEMON_METRICS) ? policy->metrics_address
                                                                            : MEMCTL_METRICS_DEFAULT_ADDRESS);
    if (o->metrics_address[0]) {
        struct sockaddr_storage ss;
        g_autofree char *why = NULL;
        if (memctl_http_parse_address(o->metrics_address, &ss, sizeof(ss), &why) < 0)
            return usage_error(error, "--metrics-address: %s", why);
    }
    if (o->window_ms < 0)
        o->window_ms = (int)policy->window_ms;
    if (o->stuck_windows < 0)
        o->stuck_windows = (int)policy->stuck_windows;
    const struct {
        const char *name;
        int v, lo, hi;
    } ranges[] = {{"--max-groups", o->max_groups, 1, 65536},
                  {"--max-procs", o->max_procs, 1, 1 << 20},
                  {"--events-ring", o->events_ring, 16, 65536},
                  {"--window-ms", o->window_ms, 5, 10000},
                  {"--stuck-windows", o->stuck_windows, 1, 1000}};
    for (size_t i = 0; i < G_N_ELEMENTS(ranges); i++)
        if (ranges[i].v < ranges[i].lo || ranges[i].v > ranges[i].hi)
            return usage_error(error, "%s must be between %d and %d, got %d", ranges[i].name, ranges[i].lo,
                               ranges[i].hi, ranges[i].v);
    int r = parse_groups(o, error);
    if (r < 0)
        return r;

    o->auth.polkit = !o->no_polkit;
    if (!o->admin_group)
        o->admin_group = g_strdup("memctl");
    if (o->admin_group[0]) {
        struct group *gr = getgrnam(o->admin_group);
        if (gr)
            o->auth.admin_gid = gr->gr_gid;
        else
            o->admin_group_missing = true;
    }
    if (o->no_bus && o->bus_address)
        return usage_error(error, "--no-bus and --bus-address exclude each other");
    if (!o->proc_root)
        o->proc_root = g_strdup("/proc");
    if (!o->mount)
        o->mount = g_strdup("/sys/fs/cgroup");
    return settle_reserve(o, policy, error);
}
