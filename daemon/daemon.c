/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "basic/memlock.h"
#include "basic/size.h"
#include "daemon/bus/bus.h"
#include "daemon/config.h"
#include "daemon/core/api.h"
#include "daemon/error.h"
#include "daemon/group/cgroup.h"
#include "daemon/group/group.h"
#include "daemon/manager.h"
#include "daemon/metrics/http.h"
#include "daemon/reclaimer.h"
#include "daemon/reserve/boost.h"
#include "daemon/reserve/critical.h"
#include "daemon/reserve/reserve.h"
#include "include/memctl/memctl.h"

struct MemctlDaemon {
    char *root, *state_file;
    MemctlCore *core;
    MemctlReserve *reserve;
    MemctlGroups *groups;
    MemctlManager *m;
    MemctlCritical *critical;
    MemctlBoost *boost;
    MemctlConfig *config;
    MemctlReclaimer *reclaimer;
    MemctlBus *bus;
    MemctlHttp *http;
    GMainLoop *loop;
    guint sources[8];
    size_t n_sources;
    bool delegated, created;
    guint adopted;
    bool ready;    /* set up whole: its end drains, saves and says so */
    bool realtime; /* the core thread started at SCHED_RR */
    bool onfault;  /* memory is locked as it is touched (MCL_ONFAULT), not all of it at once */
};

/* ---- the main loop's sources ------------------------------------------------------------------ */

/* SIGHUP: the policy files again (and the managed root rescanned), like ReloadPolicy(). */
static gboolean on_reload(gpointer data)
{
    MemctlDaemon *d = data;
    sd_notify(0, "RELOADING=1");
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    (void)memctl_manager_reload(d->m, changes, &err); /* it logs what changed, or why nothing did */
    sd_notify(0, "READY=1");
    return G_SOURCE_CONTINUE;
}

static gboolean on_core_events(gint fd, GIOCondition cond, gpointer data)
{
    MemctlDaemon *d = data;
    memctl_manager_drain(d->m);
    /* The core drops to SCHED_OTHER for each reap and raises itself again after (daemon/core/kill.c). */
    if (d->realtime && !memctl_core_realtime(d->core)) {
        d->realtime = false;
        g_warning("the core thread could not take back its real-time priority after a kill (SCHED_RR 1): "
                  "it may be late under CPU contention");
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_quit(gpointer data)
{
    MemctlDaemon *d = data;
    g_message("stopping; groups stay as they are");
    sd_notify(0, "STOPPING=1");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

/* Test hook (--test-hooks): SIGUSR2 blocks the GLib side for 20 s, to prove that the core detects,
 * decides and kills without it. */
static gboolean on_block_main_loop(gpointer data)
{
    g_message("test hook: blocking the main loop for 20 s");
    g_usleep(20 * G_USEC_PER_SEC);
    g_message("test hook: main loop unblocked");
    return G_SOURCE_CONTINUE;
}

/* Test hook (--test-hooks): SIGUSR1 wedges the core thread, to prove that the watchdog starves. */
static gboolean on_wedge_core(gpointer data)
{
    g_message("test hook: wedging the core thread");
    memctl_core_test_wedge(((MemctlDaemon *)data)->core);
    return G_SOURCE_CONTINUE;
}

/* The watchdog is fed only when the core thread moved since the last check: a wedged core is a
 * dead daemon even if the main loop still runs. */
static gboolean on_watchdog(gpointer data)
{
    MemctlManager *m = ((MemctlDaemon *)data)->m;
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

/* ---- memctld's own process -------------------------------------------------------------------- */

/* The core holds 9 fds per group and the GLib side 5 (status, metrics), plus the bus, leases and HTTP
 * clients. */
#define FDS_PER_GROUP 15
#define FDS_BASE 1024

/* Returns true when memory is locked as it is touched (MCL_ONFAULT). */
static bool harden_self(size_t max_groups)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "-1000", 5) < 0)
        g_warning("cannot set oom_score_adj to -1000: %s", g_strerror(errno));
    if (fd >= 0)
        close(fd);
    /* Locked as touched (basic/memlock.h): what the core needs is touched already, its code now. */
    int r = memctl_memlock_all();
    if (r < 0)
        g_warning("mlockall failed (%s): memctld may be paged out under pressure", g_strerror(-r));
    else if (r > 0)
        g_message("mlockall: no MCL_ONFAULT on this kernel, everything mapped is locked");
    bool onfault = r == 0;
    uint64_t code = 0;
    if (r >= 0 && (r = memctl_memlock_code(&code)) < 0)
        g_warning("cannot lock the core's code (%s): a kill may wait for it to be read back", g_strerror(-r));
    else if (r >= 0)
        g_debug("locked %" G_GUINT64_FORMAT " KiB of code (memctld, libc, the loader)", code / 1024);
    /* Room for one fd set per group: the soft limit up to the hard one, and the hard one up to what
     * --max-groups needs when we may raise it (root: CAP_SYS_RESOURCE). */
    struct rlimit rl;
    rlim_t need = (rlim_t)max_groups * FDS_PER_GROUP + FDS_BASE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return onfault;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        struct rlimit more = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &more) == 0)
            return onfault;
        g_warning("RLIMIT_NOFILE is %llu, --max-groups %zu needs %llu: groups beyond about %llu will fail "
                  "(raise LimitNOFILE)",
                  (unsigned long long)rl.rlim_max, max_groups, (unsigned long long)need,
                  (unsigned long long)((rl.rlim_max - MIN(rl.rlim_max, FDS_BASE)) / FDS_PER_GROUP));
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    return onfault;
}

/* memory.min on our own leaf: what we use now (all of it locked) plus a margin. */
static void protect_self(const char *mount, const char *root)
{
    g_autofree char *self_leaf = g_build_filename(root, MEMCTL_SELF_LEAF, NULL);
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

static int root_error(GError **error, int r, const char *mount, const char *root)
{
    switch (r) {
    case -EMEDIUMTYPE:
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED,
                                "%s is not a cgroup2 mount: memctl needs the unified hierarchy "
                                "(boot with systemd.unified_cgroup_hierarchy=1)",
                                mount);
    case -EXDEV:
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "--root %s is not below the cgroup2 mount %s",
                                root, mount);
    case -EINVAL:
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED,
                                "--root %s: give an absolute path without '.', '..' or a trailing '/'", root);
    case -EOPNOTSUPP:
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED,
                                "the memory controller is not available in %s: enable it in its parent's "
                                "cgroup.subtree_control, or give a delegated --root",
                                root);
    default:
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "cannot use %s as the managed root: %s", root,
                                g_strerror(-r));
    }
}

/*
 * No --root and none in the policy: the cgroup systemd delegated to us (Delegate=yes: systemd's
 * docs/CGROUP_DELEGATION.md, "use the cgroup you are started in"). Started by systemd without
 * delegation: an error, since creating cgroups in systemd's own tree is what that document forbids.
 * Otherwise the default root.
 */
static int default_root(MemctlDaemon *d, const MemctlOptions *o, GError **error)
{
    g_autofree char *self = NULL;
    if (memctl_cgroup_self(o->mount, o->proc_root, &self) >= 0 &&
        memctl_cgroup_delegated_root(o->mount, self, MEMCTL_SELF_LEAF, &d->root) >= 0) {
        d->delegated = true;
        return 0;
    }
    if (getenv("INVOCATION_ID"))
        return memctl_error_set(error, -ENXIO, MEMCTL_ERROR_FAILED,
                                "started by systemd in %s, which is not delegated to memctld: set "
                                "Delegate=yes in the unit, or give --root",
                                self ? self : "a cgroup that /proc/self/cgroup does not name");
    d->root = g_strdup(MEMCTL_DEFAULT_ROOT);
    return 0;
}

/* ---- set-up ----------------------------------------------------------------------------------- */

/* The managed root: chosen, checked, made ours (memctld moved into its own leaf). */
static int own_root(MemctlDaemon *d, const MemctlOptions *o, GError **error)
{
    int r = o->root ? (d->root = g_strdup(o->root), 0) : default_root(d, o, error);
    if (r < 0)
        return r;
    if ((r = memctl_cgroup_check_root(o->mount, d->root)) < 0)
        return root_error(error, r, o->mount, d->root);
    if ((r = memctl_cgroup_init()) < 0)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "libcgroup initialisation failed: %s",
                                g_strerror(-r));
    if ((r = memctl_cgroup_prepare_root(o->mount, d->root, MEMCTL_SELF_LEAF, &d->created)) < 0)
        return root_error(error, r, o->mount, d->root);
    return 0;
}

static int start_core(MemctlDaemon *d, const MemctlOptions *o, const MemctlPolicy *policy, GError **error)
{
    MemctlCoreConfig cfg;
    memctl_core_config_default(&cfg);
    cfg.cgroup_mount = o->mount;
    cfg.proc_root = o->proc_root;
    cfg.max_groups = (size_t)o->max_groups;
    cfg.max_procs = (size_t)o->max_procs;
    cfg.events_ring = (size_t)o->events_ring;
    cfg.progress.window_usec = (uint64_t)o->window_ms * 1000;
    cfg.progress.stuck_windows = (uint32_t)o->stuck_windows;
    cfg.progress.progress_floor = policy->progress_floor;
    cfg.progress.stall_budget_pct = policy->budget.stall_budget_pct;
    cfg.progress.stall_windows = policy->budget.stall_windows;
    cfg.host = policy->host;
    int r = memctl_core_new(&cfg, &d->core);
    if (r < 0)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "cannot set up the core: %s%s", g_strerror(-r),
                                r == -ENOENT || r == -EOPNOTSUPP ? " (is PSI enabled? /proc/pressure/memory)"
                                                                 : "");
    uint64_t window = memctl_core_host_psi_window(d->core);
    g_message("host guard armed by /proc/pressure/memory: some %" G_GUINT64_FORMAT
              " ms in a %" G_GUINT64_FORMAT " ms window%s",
              cfg.host_psi_stall_usec / 1000, window / 1000,
              window > cfg.host_psi_window_usec ? " (the least this kernel allows: Linux 6.5 allows less)"
                                                : "");
    d->onfault = harden_self(cfg.max_groups);
    r = memctl_core_start(d->core);
    d->realtime = r == 0;
    if (r == -EPERM || r == -EINVAL) {
        g_warning("cannot give the core thread real-time priority (SCHED_RR 1): %s; it may be late "
                  "under CPU contention",
                  g_strerror(-r));
        r = 0;
    }
    if (r < 0)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "cannot start the core thread: %s",
                                g_strerror(-r));
    return 0;
}

/* The groups: those already there adopted, the policy's applied, the state file's and --group's made. */
static int set_up_groups(MemctlDaemon *d, const MemctlOptions *o, MemctlPolicy *policy, GError **error)
{
    g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func(g_free);
    if (memctl_groups_adopt_all(d->groups, skipped, error) < 0) {
        g_prefix_error(error, "adopting existing groups: ");
        return -EIO;
    }
    for (guint i = 0; i < skipped->len; i++)
        g_warning("not adopted (nor anything below it): %s", (char *)skipped->pdata[i]);
    g_autoptr(GList) adopted = memctl_groups_list(d->groups);
    for (GList *l = adopted; l; l = l->next)
        if (((MemctlGroup *)l->data)->thawed)
            g_warning("%s: thawed: memctld stopped while the group was frozen for its pre-kill hooks",
                      ((MemctlGroup *)l->data)->name);
    d->adopted = memctl_groups_count(d->groups);
    d->config =
            memctl_config_new(o->config, o->config_given, o->config_dir, o->state_file, d->groups, d->core);
    memctl_config_set_critical(d->config, d->critical);
    memctl_config_set_kill_totals(d->config, &d->m->totals);
    memctl_config_force_dry_run(d->config, o->dry_run);
    d->reclaimer = memctl_reclaimer_new(d->groups, d->core, d->critical, o->proc_root);
    d->m->reclaimer = d->reclaimer;
    memctl_config_set_reclaimer(d->config, d->reclaimer);
    d->m->config = d->config;
    int r = memctl_config_apply(d->config, policy, NULL, error);
    if (r < 0)
        return r;
    if (memctl_core_dry_run(d->core))
        g_message("dry run: memctld records the kills it would make and makes none (KillGroup still kills)");
    g_autoptr(GError) err = NULL;
    if (memctl_config_restore_state(d->config, &err) < 0)
        g_warning("state file: %s", err->message); /* what could be restored is; the rest is named */
    for (guint i = 0; i < o->group_names->len; i++) {
        const char *name = o->group_names->pdata[i];
        if (!memctl_groups_create(d->groups, name, &g_array_index(o->group_limits, MemctlLimits, i), error)) {
            g_prefix_error(error, "--group %s: ", name);
            return -EINVAL;
        }
    }
    memctl_boost_resume(d->boost);
    memctl_config_publish_all(d->config);
    memctl_config_watch_groups(d->config);
    memctl_reclaimer_update(d->reclaimer);
    g_clear_error(&err);
    if (memctl_config_save_state(d->config, &err) < 0)
        g_warning("cannot write the state file %s: %s", o->state_file, err->message);
    return 0;
}

/* The API: the bus, and /metrics. */
static int serve(MemctlDaemon *d, const MemctlOptions *o, GError **error)
{
    int r;
    if (!o->no_bus && (r = memctl_bus_new(d->m, o->bus_address, &o->auth, &d->bus, error)) < 0) {
        g_prefix_error(error, "cannot serve %s on %s: ", MEMCTL_BUS_NAME,
                       o->bus_address ? o->bus_address : "the system bus");
        return r;
    }
    if (!o->metrics_address[0])
        return 0;
    g_autoptr(GError) err = NULL;
    r = memctl_http_new(o->metrics_address, render_metrics, d->m, &d->http, &err);
    if (r < 0 && o->metrics_explicit) {
        g_prefix_error(&err, "--metrics-address: ");
        g_propagate_error(error, g_steal_pointer(&err));
        return r;
    }
    if (r < 0) {
        g_warning("metrics: %s; /metrics is off (memctl metrics still works)", err->message);
        return 0;
    }
    d->m->metrics_url = g_strdup(memctl_http_url(d->http));
    g_message("metrics: serving %s", d->m->metrics_url);
    return 0;
}

int memctl_daemon_new(const MemctlOptions *o, MemctlPolicy *policy, MemctlDaemon **ret, GError **error)
{
    /* Before the core's preallocations and the threads' stacks: none of them in huge pages. */
    int r = memctl_memlock_no_thp();
    if (r < 0)
        g_warning("cannot turn transparent huge pages off for memctld (%s): its locked memory may grow "
                  "by 2 MiB steps",
                  g_strerror(-r));
    g_autoptr(MemctlDaemon) d = g_new0(MemctlDaemon, 1);
    d->state_file = g_strdup(o->state_file);
    if (o->admin_group_missing)
        g_message("admin group '%s' does not exist: only root may change things", o->admin_group);
    if ((r = own_root(d, o, error)) < 0 || (r = start_core(d, o, policy, error)) < 0)
        return r;
    /* The reserve is faulted in by this process, so it is charged to our own leaf (protected below). */
    if ((r = memctl_reserve_new(o->reserve_bytes, &d->reserve)) < 0)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED,
                                "--reserve: cannot preallocate %" G_GUINT64_FORMAT " bytes: %s",
                                o->reserve_bytes, g_strerror(-r));
    d->groups = memctl_groups_new(o->mount, d->root, o->proc_root, d->core);
    d->m = memctl_manager_new(d->core, d->groups, o->mount, d->root, o->proc_root);
    d->critical = memctl_critical_new(d->reserve, d->groups, d->core, o->mount, o->proc_root);
    d->boost = memctl_boost_new(d->critical, d->groups, o->proc_root, &policy->host, report_boost, NULL);
    d->m->reserve = d->reserve;
    d->m->critical = d->critical;
    d->m->boost = d->boost;
    if ((r = set_up_groups(d, o, policy, error)) < 0)
        return r;
    protect_self(o->mount, d->root);
    if (o->kill_log && !(d->m->kill_log = fopen(o->kill_log, "ae")))
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "cannot open --kill-log %s: %s",
                                o->kill_log, g_strerror(errno));
    if ((r = serve(d, o, error)) < 0)
        return r;

    d->loop = g_main_loop_new(NULL, FALSE);
    d->sources[d->n_sources++] = g_unix_fd_add(memctl_core_event_fd(d->core), G_IO_IN, on_core_events, d);
    d->sources[d->n_sources++] = g_unix_signal_add(SIGTERM, on_quit, d);
    d->sources[d->n_sources++] = g_unix_signal_add(SIGINT, on_quit, d);
    d->sources[d->n_sources++] = g_unix_signal_add(SIGHUP, on_reload, d);
    if (o->test_hooks) {
        d->sources[d->n_sources++] = g_unix_signal_add(SIGUSR2, on_block_main_loop, d);
        d->sources[d->n_sources++] = g_unix_signal_add(SIGUSR1, on_wedge_core, d);
    }
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0)
        d->sources[d->n_sources++] = g_timeout_add((guint)(wd_usec / 2000), on_watchdog, d);
    /* What start-up alone touched of the libraries the core does not run (GLib's, libsystemd's,
     * json-c's, libmicrohttpd's and the TLS stack it loads for nothing: memctld serves plain HTTP on
     * loopback), locked as it was touched, is dropped; the GLib side locks again what it touches
     * from now on (docs/ARCHITECTURE.md, "Memory"). */
    if (d->onfault) {
        uint64_t trimmed = memctl_memlock_trim();
        g_debug("dropped %" G_GUINT64_FORMAT " KiB of library code touched at start-up", trimmed / 1024);
    }
    /* And what start-up freed in the heap (adoption's and the policy's parsing): locked, so
     * malloc_trim() alone could give back only the top (basic/memlock.h). */
    d->m->heap_trim = d->onfault;
    if (!d->onfault || memctl_memlock_trim_heap() < 0)
        malloc_trim(0);
    d->ready = true;
    *ret = g_steal_pointer(&d);
    return 0;
}

void memctl_daemon_run(MemctlDaemon *d)
{
    char rsz[MEMCTL_SIZE_FORMAT_MAX];
    g_message("memctld %s: managing %s (%s), %u group(s) (%u adopted), reserve %s, core armed",
              MEMCTL_VERSION, d->root,
              d->delegated ? "delegated by systemd"
              : d->created ? "created"
                           : "existing",
              memctl_groups_count(d->groups), d->adopted,
              memctl_size_format(memctl_reserve_total(d->reserve), rsz));
    sd_notify(0, "READY=1\nSTATUS=managing groups");
    g_main_loop_run(d->loop);
}

void memctl_daemon_free(MemctlDaemon *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_sources; i++)
        g_source_remove(d->sources[i]);
    if (d->core)
        memctl_core_stop(d->core);
    if (d->ready) {
        memctl_manager_drain(d->m); /* whatever the core said last */
        g_autoptr(GError) err = NULL;
        if (memctl_config_save_state(d->config, &err) < 0)
            g_warning("cannot write the state file %s: %s", d->state_file, err->message);
        g_message("stopped after %" G_GUINT64_FORMAT " kill(s); %" G_GUINT64_FORMAT
                  " kernel OOM kill(s) seen",
                  d->m->totals.memctld, d->m->totals.kernel);
    }
    if (d->m)
        g_hash_table_remove_all(d->m->manual); /* answers callers still waiting, while the bus is up */
    if (d->groups)
        memctl_groups_cancel_removals(d->groups);
    g_clear_pointer(&d->loop, g_main_loop_unref);
    g_clear_pointer(&d->http, memctl_http_free);
    g_clear_pointer(&d->bus, memctl_bus_free);
    if (d->m) {
        d->m->config = NULL;
        d->m->boost = NULL;
        d->m->critical = NULL;
        d->m->reserve = NULL;
        d->m->reclaimer = NULL;
    }
    g_clear_pointer(&d->config, memctl_config_free);
    g_clear_pointer(&d->reclaimer, memctl_reclaimer_free); /* after the step being written */
    g_clear_pointer(&d->boost, memctl_boost_free);
    g_clear_pointer(&d->critical, memctl_critical_free);
    g_clear_pointer(&d->m, memctl_manager_free);
    g_clear_pointer(&d->groups, memctl_groups_free);
    g_clear_pointer(&d->reserve, memctl_reserve_free);
    g_clear_pointer(&d->core, memctl_core_free);
    g_free(d->root);
    g_free(d->state_file);
    g_free(d);
}
