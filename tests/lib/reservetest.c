/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/reservetest.h"

#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void reserve_client_start(ReserveClient *c, ApiTest *t, const char *cgroup, uint64_t bytes,
                          const char *const *extra)
{
    memset(c, 0, sizeof(*c));
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, daemontest_binary("tests/lib/reserve-client"));
    g_ptr_array_add(argv, g_strdup("--cgroup"));
    g_ptr_array_add(argv, g_strdup(cgroup));
    g_ptr_array_add(argv, g_strdup("--bytes"));
    g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT, bytes));
    for (const char *const *a = extra; a && *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "DBUS_SYSTEM_BUS_ADDRESS", t->bus.address, TRUE);
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &c->pid, &c->in, &c->out, &c->err, &err));
    g_assert_no_error(err);
    g_unix_set_fd_nonblocking(c->err, TRUE, NULL);
}

/* The next stdout line that starts with prefix (others are skipped), or NULL after timeout_ms. */
char *reserve_client_line(ReserveClient *c, const char *prefix, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *nl;
        while ((nl = memchr(c->buf, '\n', c->len))) {
            *nl = '\0';
            char *line = g_strdup(c->buf);
            size_t used = (size_t)(nl - c->buf) + 1;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            if (g_str_has_prefix(line, prefix))
                return line;
            g_free(line);
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return NULL;
        struct pollfd p = {.fd = c->out, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t n = read(c->out, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (n <= 0)
            return NULL;
        c->len += (size_t)n;
    }
}

char *reserve_client_stderr(ReserveClient *c)
{
    char buf[4096];
    ssize_t n = read(c->err, buf, sizeof(buf) - 1);
    return g_strndup(buf, n > 0 ? (gsize)n : 0);
}

void reserve_client_go(ReserveClient *c)
{
    reserve_client_send(c, "go");
}

void reserve_client_send(ReserveClient *c, const char *command)
{
    g_autofree char *line = g_strconcat(command, "\n", NULL);
    g_assert_cmpint(write(c->in, line, strlen(line)), ==, (gssize)strlen(line));
}

char *reserve_client_ask(ReserveClient *c, const char *command, const char *answer, int timeout_ms)
{
    reserve_client_send(c, command);
    char *line = reserve_client_line(c, answer, timeout_ms);
    if (!line) {
        g_autofree char *e = reserve_client_stderr(c);
        g_error("reserve-client: no '%s' after '%s': %s", answer, command, e);
    }
    return line;
}

int reserve_client_wait(ReserveClient *c, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        int status;
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            close(c->in);
            close(c->out);
            close(c->err);
            c->pid = 0;
            return status;
        }
        if (g_get_monotonic_time() >= deadline)
            return -1;
        g_usleep(10 * 1000);
    }
}

int reserve_client_kill(ReserveClient *c)
{
    kill(c->pid, SIGKILL);
    return reserve_client_wait(c, 10000);
}
