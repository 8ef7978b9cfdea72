/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-in-group: what a container runtime does with libmemctl, as a complete program to copy from.
 *
 *   run-in-group GROUP LIMIT COMMAND [ARG]...
 *
 * Creates the memctl group GROUP with a memory limit (memctld throttles it near the limit and kills
 * in place of the kernel's ENOMEM or OOM kill), starts COMMAND stopped on a pipe until it has been
 * moved into the group, follows memctld's Killed signal for the group while COMMAND runs, then
 * removes the group after reading its final counters. Exits with COMMAND's status (128 + signal
 * if it was killed), and says on stderr when memctld killed it and why.
 *
 * Build: cc run-in-group.c $(pkg-config --cflags --libs libmemctl) (in this tree: build/client/run-in-group;
 * tests/integration/test-client.c runs it against a real memctld).
 */
#include <errno.h>
#include <inttypes.h>
#include <memctl/client.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    const char *group;
    pid_t pid;
    bool killed;
    char reason[64];
} Container;

/* memctld's Killed signal: any group's kills arrive; keep this container's. */
static void on_killed(const char *group, uint32_t pid, const char *comm, const char *reason,
                      uint64_t bytes_freed, uint64_t latency_usec, void *userdata)
{
    Container *ct = userdata;
    if (strcmp(group, ct->group) != 0)
        return;
    ct->killed = true;
    snprintf(ct->reason, sizeof(ct->reason), "%s", reason);
    fprintf(stderr,
            "run-in-group: memctld killed %" PRIu32 " (%s) in %s: %s, %" PRIu64 " bytes freed in %.1f ms\n",
            pid, comm, group, reason, bytes_freed, latency_usec / 1000.0);
}

static int fail(MemctlClient *c, const char *what, int r)
{
    fprintf(stderr, "run-in-group: %s: %s%s%s\n", what, strerror(-r),
            c && *memctl_client_error_message(c) ? ": " : "", c ? memctl_client_error_message(c) : "");
    return 125;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: run-in-group GROUP LIMIT COMMAND [ARG]...\n");
        return 2;
    }
    Container ct = {.group = argv[1]};
    MemctlClient *c = NULL;
    int r = memctl_client_open(NULL, &c); /* the system bus ($DBUS_SYSTEM_BUS_ADDRESS) */
    if (r < 0)
        return fail(NULL, "connecting to memctld", r);

    /* 1. The group, idempotently, with its limit: memory.max = LIMIT, memory.high a little below. */
    MemctlSetting settings[] = {{"limit", argv[2]}, {"oom_group", "false"}};
    r = memctl_client_create_group(c, ct.group, settings, 2, NULL);
    if (r < 0) {
        int st = fail(c, "creating the group", r);
        memctl_client_free(c);
        return st;
    }
    /* 2. Kills are signals: subscribe before the payload can be killed. */
    r = memctl_client_subscribe(c, on_killed, NULL, &ct);
    if (r < 0)
        goto fail_group;

    /* 3. The payload, held on a pipe until it is in the group (as a runtime holds its init). */
    int go[2];
    if (pipe(go) < 0) {
        r = -errno;
        goto fail_group;
    }
    ct.pid = fork();
    if (ct.pid < 0) {
        r = -errno;
        goto fail_group;
    }
    if (ct.pid == 0) {
        char b;
        close(go[1]);
        if (read(go[0], &b, 1) != 1)
            _exit(125);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    close(go[0]);
    uint32_t pid = (uint32_t)ct.pid;
    r = memctl_client_attach(c, ct.group, &pid, 1);
    if (r < 0) {
        kill(ct.pid, SIGKILL);
        waitpid(ct.pid, NULL, 0);
        goto fail_group;
    }
    if (write(go[1], "g", 1) != 1)
        kill(ct.pid, SIGKILL);
    close(go[1]);

    /* 4. Run: dispatch memctld's signals while waiting for the payload. */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(ct.pid, &status, WNOHANG);
        if (w == ct.pid)
            break;
        r = memctl_client_wait(c, 100 * 1000);
        if (r < 0 && r != -EINTR) {
            fail(c, "waiting for memctld's signals", r);
            waitpid(ct.pid, &status, 0);
            break;
        }
    }
    /* The Killed signal is sent once the victim's memory is back: it may follow the exit. */
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !ct.killed)
        (void)memctl_client_wait(c, 1000 * 1000);

    /* 5. Remove the group; its final counters come back with it. */
    MemctlFinal final;
    r = memctl_client_remove_group(c, ct.group, MEMCTL_CLIENT_REMOVE_KILL, &final);
    if (r < 0)
        fail(c, "removing the group", r);
    else
        fprintf(stderr,
                "run-in-group: %s removed: peak %" PRIu64 " bytes, memory.high hit %" PRIu64
                " times, kernel OOM kills %" PRIu64 ", memctld kills %" PRIu64 "\n",
                ct.group, final.peak, final.high, final.oom_kill, final.kills);
    memctl_client_free(c);
    if (ct.killed)
        fprintf(stderr, "run-in-group: %s was killed by memctld (%s)\n", argv[3], ct.reason);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

fail_group:;
    int st = fail(c, "starting the payload", r);
    (void)memctl_client_remove_group(c, ct.group, MEMCTL_CLIENT_REMOVE_KILL, NULL);
    memctl_client_free(c);
    return st;
}
