/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/daemontest.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"

char *daemontest_binary(const char *rel)
{
    const char *b = g_getenv("MEMCTL_BUILD_ROOT");
    if (!b)
        g_error("MEMCTL_BUILD_ROOT is not set (run the test through meson)");
    return g_build_filename(b, rel, NULL);
}

/* Policy files and the state file are the test's own unless it gives them: never /etc or /var. The
 * metrics endpoint is off unless the test gives an address or a policy file. */
static GPtrArray *build_argv(const char *root, const char *kill_log, const char *tmpdir,
                             const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    /* MEMCTL_MEMCTLD: another memctld (a benchmark's baseline: an older build) */
    const char *other = g_getenv("MEMCTL_MEMCTLD");
    g_ptr_array_add(argv, other && *other ? g_strdup(other) : daemontest_binary("daemon/memctld"));
    g_ptr_array_add(argv, g_strdup_printf("--root=%s", root));
    if (kill_log)
        g_ptr_array_add(argv, g_strdup_printf("--kill-log=%s", kill_log));
    bool bus = false, config = false, config_dir = false, state = false, metrics = false;
    for (const char *const *a = args; a && *a; a++) {
        g_ptr_array_add(argv, g_strdup(*a));
        bus |= g_str_has_prefix(*a, "--bus-address");
        config |= g_str_has_prefix(*a, "--config=") || strcmp(*a, "--check-config") == 0;
        config_dir |= g_str_has_prefix(*a, "--config-dir=");
        state |= g_str_has_prefix(*a, "--state-file=");
        metrics |=
                g_str_has_prefix(*a, "--metrics-address") || (g_str_has_prefix(*a, "--config=") && (*a)[9]);
    }
    if (!metrics) /* off unless the test asks (or its policy file decides) */
        g_ptr_array_add(argv, g_strdup("--metrics-address="));
    if (!config)
        g_ptr_array_add(argv, g_strdup("--config="));
    if (!config_dir)
        g_ptr_array_add(argv, g_strdup_printf("--config-dir=%s/policy.d", tmpdir ? tmpdir : "/nonexistent"));
    if (!state)
        g_ptr_array_add(argv, tmpdir ? g_strdup_printf("--state-file=%s/state.json", tmpdir)
                                     : g_strdup("--state-file="));
    if (!bus) /* the core's tests run without a bus; the API's tests give theirs */
        g_ptr_array_add(argv, g_strdup("--no-bus"));
    g_ptr_array_add(argv, NULL);
    return argv;
}

void daemontest_start(DaemonTest *t, const char *root, const char *const *args)
{
    memset(t, 0, sizeof(*t));
    g_autoptr(GError) err = NULL;
    t->tmpdir = g_dir_make_tmp("memctl-test-XXXXXX", &err);
    g_assert_no_error(err);
    t->root = g_strdup(root);
    t->kill_log = g_build_filename(t->tmpdir, "kills.json", NULL);
    g_autofree char *sock_path = g_build_filename(t->tmpdir, "notify", NULL);

    int sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(sfd, >=, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
    g_assert_no_errno(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)));

    g_autoptr(GPtrArray) argv = build_argv(root, t->kill_log, t->tmpdir, args);
    g_auto(GStrv) envp = g_get_environ();
    envp = g_environ_setenv(envp, "NOTIFY_SOCKET", sock_path, TRUE);
    /* The daemon runs as in production: its warnings (a kernel OOM kill, say) are reports, not
     * test failures, so the test harness's G_DEBUG=fatal-warnings is not passed on. */
    envp = g_environ_unsetenv(envp, "G_DEBUG");
    /* Output to a file: an unread pipe would fill up and block memctld's main loop. */
    t->log = g_build_filename(t->tmpdir, "memctld.log", NULL);
    int logfd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    g_assert_cmpint(logfd, >=, 0);
    g_assert_true(g_spawn_async_with_fds(NULL, (char **)argv->pdata, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                         NULL, &t->pid, -1, logfd, logfd, &err));
    g_assert_no_error(err);
    close(logfd);

    /* READY=1 within 30 s, or $MEMCTL_TEST_READY_SEC (bench/scale: thousands of groups to adopt) */
    const char *rs = g_getenv("MEMCTL_TEST_READY_SEC");
    gint64 ready_sec = rs ? (gint64)g_ascii_strtoull(rs, NULL, 10) : 0;
    ready_sec = ready_sec > 0 ? ready_sec : 30;
    gint64 deadline = g_get_monotonic_time() + ready_sec * G_USEC_PER_SEC;
    for (;;) {
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            g_autofree char *out = NULL;
            g_file_get_contents(t->log, &out, NULL, NULL);
            g_error("memctld sent no READY=1 within %" G_GINT64_FORMAT " s; it said: %s", ready_sec,
                    out ? out : "");
        }
        char buf[512];
        ssize_t n = recv(sfd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            if (strstr(buf, "READY=1"))
                break;
        }
    }
    close(sfd);
}

int daemontest_run_fail(const char *root, const char *const *args, char **ret_stderr)
{
    g_autoptr(GPtrArray) argv = build_argv(root, NULL, NULL, args);
    g_autoptr(GError) err = NULL;
    int status = 0;
    g_autofree char *out = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               ret_stderr, &status, &err));
    g_assert_no_error(err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int daemontest_metrics_port(DaemonTest *t)
{
    static const char said[] = "metrics: serving http://127.0.0.1:";
    for (int i = 0; i < 100; i++) {
        g_autofree char *log = NULL;
        g_file_get_contents(t->log, &log, NULL, NULL);
        const char *p = log ? strstr(log, said) : NULL;
        if (p)
            return atoi(p + strlen(said));
        g_usleep(50 * 1000);
    }
    g_error("memctld did not say where it serves /metrics");
}

static void cleanup(DaemonTest *t);

void daemontest_stop(DaemonTest *t)
{
    kill(t->pid, SIGTERM);
    int status = 0;
    g_assert_cmpint(waitpid(t->pid, &status, 0), ==, t->pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *out = NULL;
        g_file_get_contents(t->log, &out, NULL, NULL);
        g_error("memctld did not exit cleanly (status %d): %s", status, out ? out : "");
    }
    cleanup(t);
}

char *daemontest_crash(DaemonTest *t)
{
    kill(t->pid, SIGKILL);
    int status = 0;
    g_assert_cmpint(waitpid(t->pid, &status, 0), ==, t->pid);
    g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char *out = NULL;
    g_file_get_contents(t->log, &out, NULL, NULL);
    cleanup(t);
    return out;
}

static void cleanup(DaemonTest *t)
{
    unlink(t->log);
    g_clear_pointer(&t->log, g_free);
    g_spawn_close_pid(t->pid);
    unlink(t->kill_log);
    g_autofree char *sock = g_build_filename(t->tmpdir, "notify", NULL);
    unlink(sock);
    rmdir(t->tmpdir);
    g_clear_pointer(&t->root, g_free);
    g_clear_pointer(&t->kill_log, g_free);
    g_clear_pointer(&t->tmpdir, g_free);
}

/* The lines of text that end in a newline: the piece after the last one is unfinished, or "". */
static GStrv whole_lines(const char *text)
{
    GStrv lines = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(lines); /* 0 for "" */
    if (n > 0) {
        g_free(lines[n - 1]);
        lines[n - 1] = NULL;
    }
    return lines;
}

char *daemontest_find_record(const char *text, const char *n1, const char *n2)
{
    g_auto(GStrv) lines = whole_lines(text);
    for (char **l = lines; *l; l++)
        if (**l && strstr(*l, n1) && (!n2 || strstr(*l, n2)))
            return g_strdup(*l);
    return NULL;
}

guint daemontest_count_lines(const char *text, const char *needle)
{
    guint n = 0;
    g_auto(GStrv) lines = whole_lines(text);
    for (char **l = lines; *l; l++)
        n += **l && strstr(*l, needle) ? 1 : 0;
    return n;
}

char *daemontest_wait_record(DaemonTest *t, int timeout_ms, const char *needle1, const char *needle2)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    do {
        g_autofree char *s = NULL;
        if (g_file_get_contents(t->kill_log, &s, NULL, NULL)) {
            char *line = daemontest_find_record(s, needle1, needle2);
            if (line)
                return line;
        }
        g_usleep(20 * 1000);
    } while (g_get_monotonic_time() < deadline);
    return NULL;
}

guint daemontest_count_records(DaemonTest *t, const char *needle)
{
    g_autofree char *s = NULL;
    return g_file_get_contents(t->kill_log, &s, NULL, NULL) ? daemontest_count_lines(s, needle) : 0;
}

/* Polls count(t, needle) until it reaches n or timeout_ms passes; returns the last count. */
static guint wait_until(guint (*count)(DaemonTest *, const char *), DaemonTest *t, const char *needle,
                        guint n, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    guint got;
    while ((got = count(t, needle)) < n && g_get_monotonic_time() < deadline)
        g_usleep(20 * 1000);
    return got;
}

guint daemontest_wait_count(DaemonTest *t, const char *needle, guint n, int timeout_ms)
{
    return wait_until(daemontest_count_records, t, needle, n, timeout_ms);
}

guint daemontest_count_log(DaemonTest *t, const char *needle)
{
    g_autofree char *log = NULL;
    if (!g_file_get_contents(t->log, &log, NULL, NULL))
        return 0;
    guint n = 0;
    for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

guint daemontest_wait_log(DaemonTest *t, const char *needle, guint n, int timeout_ms)
{
    return wait_until(daemontest_count_log, t, needle, n, timeout_ms);
}

void hog_start(Hog *h, const char *const *args)
{
    workload_start(h, "tests/lib/memhog", args);
}

void workload_start(Hog *h, const char *binary, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, daemontest_binary(binary));
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &h->pid, NULL, &h->out_fd, &h->err_fd, &err));
    g_assert_no_error(err);
    g_unix_set_fd_nonblocking(h->err_fd, TRUE, NULL);
    char buf[64] = {0};
    size_t got = 0;
    while (got < sizeof(buf) - 1 && !strchr(buf, '\n')) {
        struct pollfd p = {.fd = h->out_fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            g_error("%s did not become ready", binary);
        ssize_t n = read(h->out_fd, buf + got, 1); /* byte by byte: later lines stay for hog_wait_line */
        if (n <= 0) {
            g_autofree char *e = hog_stderr(h);
            g_error("%s exited before it was ready: %s", binary, e);
        }
        got += (size_t)n;
    }
    g_assert_true(g_str_has_prefix(buf, "ready"));
}

bool hog_wait_line(Hog *h, const char *prefix, int timeout_ms)
{
    g_autofree char *line = hog_read_line(h, prefix, timeout_ms);
    return line != NULL;
}

char *hog_read_line(Hog *h, const char *prefix, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    char line[256];
    size_t got = 0;
    while (g_get_monotonic_time() < deadline) {
        struct pollfd p = {.fd = h->out_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        char ch;
        if (read(h->out_fd, &ch, 1) != 1)
            return NULL;
        if (ch != '\n') {
            if (got < sizeof(line) - 1)
                line[got++] = ch;
            continue;
        }
        line[got] = '\0';
        if (g_str_has_prefix(line, prefix))
            return g_strdup(line);
        got = 0;
    }
    return NULL;
}

int hog_wait(Hog *h, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        int status;
        pid_t r = waitpid(h->pid, &status, WNOHANG);
        if (r == h->pid) {
            close(h->out_fd);
            h->pid = 0;
            return status;
        }
        if (g_get_monotonic_time() >= deadline)
            return -1;
        g_usleep(5 * 1000);
    }
}

char *hog_stderr(Hog *h)
{
    GString *s = g_string_new(NULL);
    char buf[1024];
    ssize_t n;
    while ((n = read(h->err_fd, buf, sizeof(buf))) > 0)
        g_string_append_len(s, buf, n);
    return g_string_free(s, FALSE);
}

bool hog_alive(Hog *h)
{
    return h->pid > 0 && kill(h->pid, 0) == 0 && hog_wait(h, 0) == -1;
}

int hog_kill(Hog *h)
{
    if (h->pid <= 0)
        return 0;
    kill(h->pid, SIGKILL);
    int status = hog_wait(h, 10000);
    g_assert_cmpint(status, !=, -1);
    return status;
}
