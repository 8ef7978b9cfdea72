/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memctld: the memctl daemon. This file is the top level: options, start-up (own the root, move into
 * the leaf, lock memory), the GLib main loop that drains the core's events into the log and the kill
 * log, the systemd notifications, and shutdown. It is the only place that logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <glib-unix.h>
#include <glib.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/bus/bus.h"
#include "daemon/group/cgroup.h"
#include "daemon/config.h"
#include "daemon/core/api.h"
#include "daemon/reserve/boost.h"
#include "daemon/reserve/critical.h"
#include "daemon/error.h"
#include "daemon/group/group.h"
#include "daemon/metrics/http.h"
#include "daemon/manager.h"
#include "daemon/reserve/reserve.h"
#include "include/memctl/memctl.h"
#include "kernel/host-sample.h"
#include "basic/size.h"

typedef struct {
    MemctlManager *m;
    GMainLoop *loop;
} Daemon;

/* SIGHUP: the policy files again (and the managed root rescanned), like ReloadPolicy(). */
static gboolean on_reload(gpointer user_data)
{
    MemctlManager *m = ((Daemon *)user_data)->m;
    sd_notify(0, "RELOADING=1");
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    (void)memctl_manager_reload(m, changes, &err); /* it logs what changed, or why nothing did */
    sd_notify(0, "READY=1");
    return G_SOURCE_CONTINUE;
}

static int check_config(char **files, const char *config, const char *config_dir)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_autoptr(GError) err = NULL;
    int r = files && files[0] ? memctl_config_read_files(files, &p, &err)
                              : memctl_config_read(config, false, config_dir, &p, &err);
    if (r < 0) {
        g_printerr("memctld: %s\n", err->message);
        return 1;
    }
    g_print("memctld: policy OK: %zu file(s), %zu group(s)\n", p.n_files, p.n_groups);
    return 0;
}

static GString *render_metrics(MemctlExpoFormat format, void *data)
{
    return memctl_manager_metrics(data, format);
}

static void report_boost(bool warning, const char *message, void *data)
{
    if (warning)
        g_warning("%s", message);
    else
        g_message("%s", message);
}

static gboolean on_core_events(gint fd, GIOCondition cond, gpointer user_data)
{
    memctl_manager_drain(((Daemon *)user_data)->m);
    return G_SOURCE_CONTINUE;
}

static gboolean on_quit(gpointer user_data)
{
    Daemon *d = user_data;
    g_message("stopping; groups stay as they are");
    sd_notify(0, "STOPPING=1");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

/* Test hook (--test-hooks): SIGUSR2 blocks the GLib side for 20 s, to prove that the core detects,
 * decides and kills without it. */
static gboolean on_block_main_loop(gpointer user_data)
{
    g_message("test hook: blocking the main loop for 20 s");
    g_usleep(20 * G_USEC_PER_SEC);
    g_message("test hook: main loop unblocked");
    return G_SOURCE_CONTINUE;
}

/* Test hook (--test-hooks): SIGUSR1 wedges the core thread, to prove that the watchdog starves. */
static gboolean on_wedge_core(gpointer user_data)
{
    MemctlManager *m = ((Daemon *)user_data)->m;
    g_message("test hook: wedging the core thread");
    memctl_core_test_wedge(m->core);
    return G_SOURCE_CONTINUE;
}

/* The watchdog is fed only when the core thread moved since the last check: a wedged core is a
 * dead daemon even if the main loop still runs. */
static gboolean on_watchdog(gpointer user_data)
{
    MemctlManager *m = ((Daemon *)user_data)->m;
    uint64_t hb = memctl_core_heartbeat(m->core);
    m->core_alive = hb != m->last_heartbeat;
    if (m->core_alive)
        sd_notify(0, "WATCHDOG=1");
    else
        g_warning("core thread did not answer the last watchdog ping; not feeding the watchdog");
    m->last_heartbeat = hb;
    memctl_core_ping(m->core);
    return G_SOURCE_CONTINUE;
}

/* The core holds 9 fds per group and the GLib side 5 (status, metrics), plus the bus, leases and HTTP
 * clients. */
#define FDS_PER_GROUP 15
#define FDS_BASE 1024

static void harden_self(size_t max_groups)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "-1000", 5) < 0)
        g_warning("cannot set oom_score_adj to -1000: %s", g_strerror(errno));
    if (fd >= 0)
        close(fd);
    if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        g_warning("mlockall failed (%s): memctld may be paged out under pressure", g_strerror(errno));
    /* Room for one fd set per group: the soft limit up to the hard one, and the hard one up to what
     * --max-groups needs when we may raise it (root: CAP_SYS_RESOURCE). */
    struct rlimit rl;
    rlim_t need = (rlim_t)max_groups * FDS_PER_GROUP + FDS_BASE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        struct rlimit more = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &more) == 0)
            return;
        g_warning("RLIMIT_NOFILE is %llu, --max-groups %zu needs %llu: groups beyond about %llu will fail "
                  "(raise LimitNOFILE)",
                  (unsigned long long)rl.rlim_max, max_groups, (unsigned long long)need,
                  (unsigned long long)((rl.rlim_max - MIN(rl.rlim_max, FDS_BASE)) / FDS_PER_GROUP));
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* memory.min on our own leaf: what we use now (all of it locked) plus a margin. */
static void protect_self(const char *mount, const char *self_leaf)
{
    uint64_t cur = 0;
    if (memctl_cgroup_get_u64(self_leaf, "memory.current", &cur) < 0)
        return;
    uint64_t min = cur + cur / 4 + (16u << 20);
    char buf[24];
    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, min);
    int r = memctl_cgroup_set(mount, self_leaf, "memory.min", buf);
    if (r < 0)
        g_warning("cannot protect memctld's leaf with memory.min: %s", g_strerror(-r));
}

static char *root_error(int r, const char *mount, const char *root)
{
    switch (r) {
    case -EMEDIUMTYPE:
        return g_strdup_printf("%s is not a cgroup2 mount: memctl needs the unified hierarchy "
                               "(boot with systemd.unified_cgroup_hierarchy=1)",
                               mount);
    case -EXDEV:
        return g_strdup_printf("--root %s is not below the cgroup2 mount %s", root, mount);
    case -EINVAL:
        return g_strdup_printf("--root %s: give an absolute path without '.', '..' or a trailing '/'", root);
    case -EOPNOTSUPP:
        return g_strdup_printf("the memory controller is not available in %s: enable it in its parent's "
                               "cgroup.subtree_control, or give a delegated --root",
                               root);
    default:
        return g_strdup_printf("cannot use %s as the managed root: %s", root, g_strerror(-r));
    }
}

/*
 * No --root and none in the policy: the cgroup systemd delegated to us (Delegate=yes: systemd's
 * docs/CGROUP_DELEGATION.md, "use the cgroup you are started in"). Started by systemd without
 * delegation: an error, since creating cgroups in systemd's own tree is what that document forbids.
 * Otherwise the default root. Returns 1 for a delegated root, 0 for the default, -ENXIO.
 */
static int default_root(const char *mount, const char *proc_root, char **ret_root, char **ret_error)
{
    g_autofree char *self = NULL;
    if (memctl_cgroup_self(mount, proc_root, &self) >= 0 &&
        memctl_cgroup_delegated_root(mount, self, MEMCTL_SELF_LEAF, ret_root) >= 0)
        return 1;
    if (getenv("INVOCATION_ID")) {
        *ret_error = g_strdup_printf("started by systemd in %s, which is not delegated to memctld: set "
                                     "Delegate=yes in the unit, or give --root",
                                     self ? self : "a cgroup that /proc/self/cgroup does not name");
        return -ENXIO;
    }
    *ret_root = g_strdup(MEMCTL_DEFAULT_ROOT);
    return 0;
}

int main(int argc, char **argv)
{
    g_autofree char *root = NULL, *mount = NULL, *proc_root = NULL, *kill_log = NULL, *bus_address = NULL;
    g_autofree char *admin_group = NULL, *reserve_spec = NULL;
    g_autofree char *config = NULL, *config_dir = NULL, *state_file = NULL, *metrics_address = NULL;
    gboolean no_bus = FALSE, no_polkit = FALSE, check = FALSE;
    g_auto(GStrv) group_specs = NULL;
    gint max_groups = 1024, max_procs = 4096, window_ms = -1, stuck_windows = -1;
    gboolean test_hooks = FALSE, version = FALSE;
    GOptionEntry entries[] = {
            {"root", 0, 0, G_OPTION_ARG_FILENAME, &root,
             "Managed cgroup (default: the delegated cgroup memctld runs in, else " MEMCTL_DEFAULT_ROOT ")",
             "PATH"},
            {"cgroup-mount", 0, 0, G_OPTION_ARG_FILENAME, &mount, "cgroup2 mount (default /sys/fs/cgroup)",
             "PATH"},
            {"proc", 0, 0, G_OPTION_ARG_FILENAME, &proc_root, "procfs mount (default /proc)", "PATH"},
            {"group", 'g', 0, G_OPTION_ARG_STRING_ARRAY, &group_specs,
             "Create or update a group: NAME[:key=value,...] (keys: min low high max swap_max limit headroom "
             "oom_group priority)",
             "SPEC"},
            {"kill-log", 0, 0, G_OPTION_ARG_FILENAME, &kill_log, "Append kill records as JSON lines to FILE",
             "FILE"},
            {"max-groups", 0, 0, G_OPTION_ARG_INT, &max_groups, "Groups the core is sized for (1-65536)",
             "N"},
            {"max-procs", 0, 0, G_OPTION_ARG_INT, &max_procs, "Processes one decision can rank (1-1048576)",
             "N"},
            {"window-ms", 0, 0, G_OPTION_ARG_INT, &window_ms, "Decision window while over high (5-10000)",
             "MS"},
            {"stuck-windows", 0, 0, G_OPTION_ARG_INT, &stuck_windows,
             "Windows without progress before a kill (1-1000)", "N"},
            {"bus-address", 0, 0, G_OPTION_ARG_STRING, &bus_address,
             "D-Bus address to serve the API on (default: the system bus)", "ADDRESS"},
            {"no-bus", 0, 0, G_OPTION_ARG_NONE, &no_bus, "Run without the D-Bus API (the core still kills)",
             NULL},
            {"admin-group", 0, 0, G_OPTION_ARG_STRING, &admin_group,
             "Unix group whose members may change things over D-Bus (default memctl; '' for root only)",
             "GROUP"},
            {"no-polkit", 0, 0, G_OPTION_ARG_NONE, &no_polkit, "Never ask polkit", NULL},
            {"reserve", 0, 0, G_OPTION_ARG_STRING, &reserve_spec,
             "Memory preallocated for critical clients' leases (default 0; at most half of RAM)", "SIZE"},
            {"config", 0, 0, G_OPTION_ARG_FILENAME, &config,
             "Policy file (default " MEMCTL_CONFIG_FILE ", optional)", "FILE"},
            {"config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir,
             "Drop-in policy directory, *.json in name order (default " MEMCTL_CONFIG_DIR ")", "DIR"},
            {"state-file", 0, 0, G_OPTION_ARG_FILENAME, &state_file,
             "Where groups created over D-Bus are kept across restarts (default " MEMCTL_STATE_FILE
             "; '' for none)",
             "FILE"},
            {"metrics-address", 0, 0, G_OPTION_ARG_STRING, &metrics_address,
             "Serve Prometheus /metrics on ADDRESS:PORT or [ADDRESS]:PORT (port 0: any free port; '' off; "
             "default " MEMCTL_METRICS_DEFAULT_ADDRESS ", or daemon.metrics_address)",
             "ADDRESS"},
            {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
             "Validate the policy files given as arguments (default: --config and --config-dir) and exit",
             NULL},
            {"test-hooks", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &test_hooks, "Enable test hooks",
             NULL},
            {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
            {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the memctl cgroup v2 memory manager");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("memctld: %s\n", err->message);
        return 2;
    }
    if (version) {
        g_print("memctld %s\n", MEMCTL_VERSION);
        return 0;
    }
    bool config_given = config != NULL; /* then it must exist; --config='' reads none */
    if (!config)
        config = g_strdup(MEMCTL_CONFIG_FILE);
    else if (!config[0])
        g_clear_pointer(&config, g_free);
    if (!config_dir)
        config_dir = g_strdup(MEMCTL_CONFIG_DIR);
    if (check)
        return check_config(argv + 1, config, config_dir);
    if (argc > 1) {
        g_printerr("memctld: unexpected argument '%s'\n", argv[1]);
        return 2;
    }

    /* The policy files first: the command line overrides what they say about the daemon. */
    _cleanup_policy_ MemctlPolicy policy;
    memctl_policy_init(&policy);
    {
        g_autoptr(GError) perr = NULL;
        if (memctl_config_read(config, config_given, config_dir, &policy, &perr) < 0) {
            g_printerr("memctld: %s\n", perr->message);
            return 1;
        }
    }
    if (!root && (policy.set & MEMCTL_DAEMON_ROOT))
        root = g_strdup(policy.root);
    if (!kill_log && (policy.set & MEMCTL_DAEMON_KILL_LOG) && policy.kill_log[0])
        kill_log = g_strdup(policy.kill_log);
    if (!state_file)
        state_file =
                g_strdup((policy.set & MEMCTL_DAEMON_STATE_FILE) ? policy.state_file : MEMCTL_STATE_FILE);
    /* An address given (command line or policy) must work; the default one may be taken, and then
     * memctld runs without HTTP rather than not at all. */
    bool metrics_explicit = metrics_address || (policy.set & MEMCTL_DAEMON_METRICS);
    if (!metrics_address)
        metrics_address = g_strdup((policy.set & MEMCTL_DAEMON_METRICS) ? policy.metrics_address
                                                                        : MEMCTL_METRICS_DEFAULT_ADDRESS);
    if (metrics_address && metrics_address[0]) {
        struct sockaddr_storage ss;
        g_autofree char *why = NULL;
        if (memctl_http_parse_address(metrics_address, &ss, sizeof(ss), &why) < 0) {
            g_printerr("memctld: --metrics-address: %s\n", why);
            return 2;
        }
    }
    if (window_ms < 0)
        window_ms = (gint)policy.window_ms;
    if (stuck_windows < 0)
        stuck_windows = (gint)policy.stuck_windows;

    struct {
        const char *name;
        gint v, lo, hi;
    } ranges[] = {{"--max-groups", max_groups, 1, 65536},
                  {"--max-procs", max_procs, 1, 1 << 20},
                  {"--window-ms", window_ms, 5, 10000},
                  {"--stuck-windows", stuck_windows, 1, 1000}};
    for (size_t i = 0; i < G_N_ELEMENTS(ranges); i++)
        if (ranges[i].v < ranges[i].lo || ranges[i].v > ranges[i].hi) {
            g_printerr("memctld: %s must be between %d and %d, got %d\n", ranges[i].name, ranges[i].lo,
                       ranges[i].hi, ranges[i].v);
            return 2;
        }

    /* Parse every --group before touching anything: a bad one changes nothing. */
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) limits = g_array_new(FALSE, TRUE, sizeof(MemctlLimits));
    for (char **s = group_specs; s && *s; s++) {
        const char *colon = strchr(*s, ':');
        g_ptr_array_add(names, colon ? g_strndup(*s, (gsize)(colon - *s)) : g_strdup(*s));
        MemctlLimits l;
        memctl_limits_init(&l);
        const char *bad = NULL;
        size_t bad_len = 0;
        int r = colon ? memctl_limits_parse_list(colon + 1, &l, &bad, &bad_len) : 0;
        if (r < 0) {
            g_printerr("memctld: --group %s: %s key '%.*s'\n", *s,
                       r == -ENOENT   ? "unknown"
                       : r == -ERANGE ? "out-of-range value for"
                                      : "malformed value for",
                       (int)bad_len, bad ? bad : "");
            return 2;
        }
        g_array_append_val(limits, l);
    }

    MemctlAuthConfig auth = {.admin_gid = (gid_t)-1, .polkit = !no_polkit};
    if (!admin_group)
        admin_group = g_strdup("memctl");
    if (admin_group[0]) {
        struct group *gr = getgrnam(admin_group);
        if (gr)
            auth.admin_gid = gr->gr_gid;
        else
            g_message("admin group '%s' does not exist: only root may change things", admin_group);
    }
    if (no_bus && bus_address) {
        g_printerr("memctld: --no-bus and --bus-address exclude each other\n");
        return 2;
    }

    if (!proc_root)
        proc_root = g_strdup("/proc");
    uint64_t reserve_bytes = policy.set & MEMCTL_DAEMON_RESERVE ? policy.reserve : 0;
    if (!reserve_spec && reserve_bytes) {
        MemctlHostMemory mem = {0};
        (void)memctl_host_memory_read(proc_root, &mem);
        uint64_t ram = mem.total;
        if (ram && reserve_bytes > ram / 2) {
            char b[16], h[16];
            g_printerr("memctld: %s: daemon.reserve: %s is more than half of the host's memory (%s)\n",
                       config, memctl_size_format(reserve_bytes, b), memctl_size_format(ram, h));
            return 1;
        }
    }
    if (reserve_spec) {
        MemctlHostMemory mem = {0};
        (void)memctl_host_memory_read(proc_root, &mem);
        uint64_t ram = mem.total;
        if (memctl_size_parse(reserve_spec, &reserve_bytes) < 0 || reserve_bytes == MEMCTL_SIZE_MAX) {
            g_printerr("memctld: --reserve: '%s' is not a size (bytes, or with K, M, G, T)\n", reserve_spec);
            return 2;
        }
        if (ram && reserve_bytes > ram / 2) {
            char b[16], h[16];
            g_printerr("memctld: --reserve: %s is more than half of the host's memory (%s)\n",
                       memctl_size_format(reserve_bytes, b), memctl_size_format(ram, h));
            return 2;
        }
    }
    if (!mount)
        mount = g_strdup("/sys/fs/cgroup");
    bool delegated = false;
    if (!root) {
        g_autofree char *why = NULL;
        int r = default_root(mount, proc_root, &root, &why);
        if (r < 0) {
            g_printerr("memctld: %s\n", why);
            return 1;
        }
        delegated = r > 0;
    }

    int r = memctl_cgroup_check_root(mount, root);
    if (r < 0) {
        g_autofree char *msg = root_error(r, mount, root);
        g_printerr("memctld: %s\n", msg);
        return 1;
    }
    r = memctl_cgroup_init();
    if (r < 0) {
        g_printerr("memctld: libcgroup initialisation failed: %s\n", g_strerror(-r));
        return 1;
    }
    bool created = false;
    r = memctl_cgroup_prepare_root(mount, root, MEMCTL_SELF_LEAF, &created);
    if (r < 0) {
        g_autofree char *msg = root_error(r, mount, root);
        g_printerr("memctld: %s\n", msg);
        return 1;
    }
    g_autofree char *self_leaf = g_build_filename(root, MEMCTL_SELF_LEAF, NULL);

    MemctlCoreConfig cfg;
    memctl_core_config_default(&cfg);
    cfg.cgroup_mount = mount;
    cfg.proc_root = proc_root;
    cfg.max_groups = (size_t)max_groups;
    cfg.max_procs = (size_t)max_procs;
    cfg.progress.window_usec = (uint64_t)window_ms * 1000;
    cfg.progress.stuck_windows = (uint32_t)stuck_windows;
    cfg.progress.progress_floor = policy.progress_floor;
    cfg.progress.stall_budget_pct = policy.budget.stall_budget_pct;
    cfg.progress.stall_windows = policy.budget.stall_windows;
    cfg.host = policy.host;

    Daemon d = {0};
    _cleanup_core_ MemctlCore *core = NULL;
    r = memctl_core_new(&cfg, &core);
    if (r < 0) {
        g_printerr("memctld: cannot set up the core: %s%s\n", g_strerror(-r),
                   r == -ENOENT || r == -EOPNOTSUPP ? " (is PSI enabled? /proc/pressure/memory)" : "");
        return 1;
    }
    harden_self((size_t)max_groups);
    r = memctl_core_start(core);
    if (r == -EPERM || r == -EINVAL) {
        g_warning("cannot give the core thread real-time priority (SCHED_RR 1): %s; it may be late "
                  "under CPU contention",
                  g_strerror(-r));
        r = 0;
    }
    if (r < 0) {
        g_printerr("memctld: cannot start the core thread: %s\n", g_strerror(-r));
        return 1;
    }

    /* The reserve is faulted in by this process, so it is charged to our own leaf (protected below). */
    g_autoptr(MemctlReserve) reserve = NULL;
    r = memctl_reserve_new(reserve_bytes, &reserve);
    if (r < 0) {
        g_printerr("memctld: --reserve: cannot preallocate %" G_GUINT64_FORMAT " bytes: %s\n", reserve_bytes,
                   g_strerror(-r));
        return 1;
    }
    g_autoptr(MemctlGroups) groups = memctl_groups_new(mount, root, proc_root, core);
    g_autoptr(MemctlManager) m = memctl_manager_new(core, groups, mount, root, proc_root);
    g_autoptr(MemctlCritical) critical = memctl_critical_new(reserve, groups, core, mount, proc_root);
    g_autoptr(MemctlBoost) boost =
            memctl_boost_new(critical, groups, proc_root, &cfg.host, report_boost, NULL);
    d.m = m;
    m->reserve = reserve;
    m->critical = critical;
    m->boost = boost;
    g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func(g_free);
    if (memctl_groups_adopt_all(groups, skipped, &err) < 0) {
        g_printerr("memctld: adopting existing groups: %s\n", err->message);
        return 1;
    }
    for (guint i = 0; i < skipped->len; i++)
        g_warning("not adopted (nor anything below it): %s", (char *)skipped->pdata[i]);
    guint adopted = memctl_groups_count(groups);
    g_autoptr(MemctlConfig) conf =
            memctl_config_new(config, config_given, config_dir, state_file, groups, core);
    memctl_config_set_critical(conf, critical);
    m->config = conf;
    if (memctl_config_apply(conf, &policy, NULL, &err) < 0) {
        g_printerr("memctld: %s\n", err->message);
        return 1;
    }
    if (memctl_config_restore_state(conf, &err) < 0) {
        g_warning("state file: %s", err->message); /* what could be restored is; the rest is named */
        g_clear_error(&err);
    }
    for (guint i = 0; i < names->len; i++) {
        if (!memctl_groups_create(groups, names->pdata[i], &g_array_index(limits, MemctlLimits, i), &err)) {
            g_printerr("memctld: --group %s: %s\n", (char *)names->pdata[i], err->message);
            return 1;
        }
    }
    memctl_boost_resume(boost);
    memctl_config_publish_all(conf);
    memctl_config_watch_groups(conf);
    if (memctl_config_save_state(conf, &err) < 0) {
        g_warning("cannot write the state file %s: %s", state_file, err->message);
        g_clear_error(&err);
    }
    protect_self(mount, self_leaf);

    if (kill_log) {
        m->kill_log = fopen(kill_log, "ae");
        if (!m->kill_log) {
            g_printerr("memctld: cannot open --kill-log %s: %s\n", kill_log, g_strerror(errno));
            return 1;
        }
    }

    g_autoptr(MemctlBus) bus = NULL;
    if (!no_bus) {
        r = memctl_bus_new(m, bus_address, &auth, &bus, &err);
        if (r < 0) {
            g_printerr("memctld: cannot serve %s on %s: %s\n", MEMCTL_BUS_NAME,
                       bus_address ? bus_address : "the system bus", err->message);
            return 1;
        }
    }

    g_autoptr(MemctlHttp) http = NULL;
    if (metrics_address && metrics_address[0]) {
        r = memctl_http_new(metrics_address, render_metrics, m, &http, &err);
        if (r < 0 && metrics_explicit) {
            g_printerr("memctld: --metrics-address: %s\n", err->message);
            return 1;
        }
        if (r < 0) {
            g_warning("metrics: %s; /metrics is off (memctl metrics still works)", err->message);
            g_clear_error(&err);
        } else {
            m->metrics_url = g_strdup(memctl_http_url(http));
            g_message("metrics: serving %s", m->metrics_url);
        }
    }

    d.loop = g_main_loop_new(NULL, FALSE);
    g_unix_fd_add(memctl_core_event_fd(core), G_IO_IN, on_core_events, &d);
    g_unix_signal_add(SIGTERM, on_quit, &d);
    g_unix_signal_add(SIGINT, on_quit, &d);
    g_unix_signal_add(SIGHUP, on_reload, &d);
    if (test_hooks) {
        g_unix_signal_add(SIGUSR2, on_block_main_loop, &d);
        g_unix_signal_add(SIGUSR1, on_wedge_core, &d);
    }
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0)
        g_timeout_add((guint)(wd_usec / 2000), on_watchdog, &d);

    char rsz[16];
    g_message("memctld %s: managing %s (%s), %u group(s) (%u adopted), reserve %s, core armed",
              MEMCTL_VERSION, root,
              delegated ? "delegated by systemd"
              : created ? "created"
                        : "existing",
              memctl_groups_count(groups), adopted, memctl_size_format(memctl_reserve_total(reserve), rsz));
    sd_notify(0, "READY=1\nSTATUS=managing groups");
    g_main_loop_run(d.loop);

    memctl_core_stop(core);
    memctl_manager_drain(m); /* whatever the core said last */
    if (memctl_config_save_state(conf, &err) < 0) {
        g_warning("cannot write the state file %s: %s", state_file, err->message);
        g_clear_error(&err);
    }
    g_main_loop_unref(d.loop);
    g_message("stopped after %" G_GUINT64_FORMAT " kill(s); %" G_GUINT64_FORMAT " kernel OOM kill(s) seen",
              m->kills, m->kernel_kills);
    g_hash_table_remove_all(m->manual); /* answers callers still waiting, while the bus is up */
    memctl_groups_cancel_removals(groups);
    m->config = NULL;
    m->boost = NULL;
    m->critical = NULL;
    m->reserve = NULL;
    return 0;
}
