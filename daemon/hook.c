/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/str.h"
#include "daemon/error.h"
#include "include/memctl/memctl.h"

/* Past its deadline, a hook is left this long before it is killed, whether a record came or not. */
#define HOOK_GRACE_MSEC 1000

typedef struct {
    MemctlHooks *h;
    int slot;
    GPid pid;     /* the executable's, 0 when none runs */
    guint watch;  /* its child watch */
    guint expiry; /* the deadline and its grace: the wait is forgotten, the hook killed */
} Wait;

struct MemctlHooks {
    MemctlCore *core;  /* borrowed */
    GHashTable *waits; /* slot -> Wait* */
    char *procs;       /* <root>/MEMCTL_HOOKS_LEAF/cgroup.procs */
};

static void reap_only(GPid pid, gint status, gpointer data)
{
    g_spawn_close_pid(pid);
}

static void wait_free(Wait *w)
{
    if (w->expiry)
        g_source_remove(w->expiry);
    if (w->watch)
        g_source_remove(w->watch);
    if (w->pid > 0) { /* its whole session: whatever it started goes with it */
        (void)kill(-w->pid, SIGKILL);
        (void)kill(w->pid, SIGKILL);
        g_child_watch_add(w->pid, reap_only, NULL); /* no zombie left behind */
    }
    g_free(w);
}

MemctlHooks *memctl_hooks_new(MemctlCore *core, const char *root)
{
    MemctlHooks *h = g_new0(MemctlHooks, 1);
    h->core = core;
    h->procs = g_build_filename(root, MEMCTL_HOOKS_LEAF, "cgroup.procs", NULL);
    h->waits = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)wait_free);
    return h;
}

void memctl_hooks_free(MemctlHooks *h)
{
    if (!h)
        return;
    g_hash_table_destroy(h->waits);
    g_autofree char *leaf = g_path_get_dirname(h->procs);
    (void)rmdir(leaf); /* if a hook made it and none is left in it */
    g_free(h->procs);
    g_free(h);
}

static void on_hook_exit(GPid pid, gint status, gpointer data)
{
    Wait *w = data;
    w->watch = 0;
    g_spawn_close_pid(pid);
    w->pid = 0;
    (void)memctl_core_prekill_done(w->h->core, w->slot); /* the hook is done: the verdict is carried out */
}

static gboolean on_expiry(gpointer data)
{
    Wait *w = data;
    w->expiry = 0;
    g_hash_table_remove(w->h->waits, GINT_TO_POINTER(w->slot));
    return G_SOURCE_REMOVE;
}

/* In the child, before exec: in the hooks' leaf, a session of its own (killed whole after its wait),
 * and the kernel's OOM killer may take it like any process (memctld itself runs at -1000). */
static void child_setup(gpointer data)
{
    const char *procs = data;
    int cg = open(procs, O_WRONLY | O_CLOEXEC);
    if (cg >= 0) { /* else it stays in memctld's leaf */
        (void)!write(cg, "0", 1);
        close(cg);
    }
    (void)setsid();
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!write(fd, "0", 1);
        close(fd);
    }
}

/* exe may be run as root: a regular executable file that only root (or memctld's user) can change. */
static int check_exe(const char *exe, GError **error)
{
    struct stat st;
    if (stat(exe, &st) < 0)
        return memctl_error_set(error, -errno, MEMCTL_ERROR_FAILED, "prekill_exec %s: %s", exe,
                                g_strerror(errno));
    if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
        return memctl_error_set(error, -EACCES, MEMCTL_ERROR_FAILED,
                                "prekill_exec %s: not an executable file", exe);
    if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return memctl_error_set(error, -EPERM, MEMCTL_ERROR_FAILED,
                                "prekill_exec %s: must be owned by root and writable by nobody else", exe);
    return 0;
}

int memctl_hooks_begin(MemctlHooks *h, const MemctlCoreEvent *e, const char *exe, const char *cgroup_path,
                       GError **error)
{
    Wait *w = g_new0(Wait, 1);
    w->h = h;
    w->slot = e->slot;
    w->expiry = g_timeout_add((guint)(e->prekill_usec / 1000) + HOOK_GRACE_MSEC, on_expiry, w);
    g_hash_table_replace(h->waits, GINT_TO_POINTER(e->slot), w);
    if (!exe || !*exe)
        return 0;
    int r = check_exe(exe, error);
    if (r < 0)
        return r;
    char comm[MEMCTL_STR_ESCAPED_COMM_MAX];
    g_auto(GStrv) env = g_get_environ();
    /* what systemd gave memctld is memctld's: a hook must not notify or feed the watchdog for it */
    static const char *const own[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC",  "WATCHDOG_PID", "LISTEN_FDS",
                                      "LISTEN_PID",    "LISTEN_FDNAMES", "INVOCATION_ID"};
    for (size_t i = 0; i < G_N_ELEMENTS(own); i++)
        env = g_environ_unsetenv(env, own[i]);
    env = g_environ_setenv(env, "MEMCTL_GROUP", e->group, TRUE);
    env = g_environ_setenv(env, "MEMCTL_CGROUP", cgroup_path, TRUE);
    g_autofree char *pid = g_strdup_printf("%d", e->pid);
    env = g_environ_setenv(env, "MEMCTL_PID", pid, TRUE);
    env = g_environ_setenv(env, "MEMCTL_COMM",
                           memctl_str_escape(e->comm, sizeof(e->comm), comm, sizeof(comm)), TRUE);
    env = g_environ_setenv(env, "MEMCTL_REASON", e->reason, TRUE);
    g_autofree char *deadline = g_strdup_printf("%" G_GUINT64_FORMAT, e->t_event_usec + e->prekill_usec);
    env = g_environ_setenv(env, "MEMCTL_DEADLINE_USEC", deadline, TRUE);
    g_autofree char *leaf = g_path_get_dirname(h->procs);
    (void)mkdir(leaf, 0755);
    char *argv[] = {(char *)exe, NULL};
    g_autoptr(GError) err = NULL;
    if (!g_spawn_async(NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL, child_setup,
                       h->procs, &w->pid, &err))
        return memctl_error_set(error, -EIO, MEMCTL_ERROR_FAILED, "prekill_exec %s: %s", exe, err->message);
    w->watch = g_child_watch_add(w->pid, on_hook_exit, w);
    return 0;
}

int memctl_hooks_done(MemctlHooks *h, int slot)
{
    if (!g_hash_table_contains(h->waits, GINT_TO_POINTER(slot)))
        return -ENOENT;
    return memctl_core_prekill_done(h->core, slot);
}

void memctl_hooks_end(MemctlHooks *h, int slot)
{
    g_hash_table_remove(h->waits, GINT_TO_POINTER(slot));
}
