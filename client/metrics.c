/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memctl metrics: the exposition over D-Bus, to stdout or as node_exporter's textfile. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"

/* DIR/memctl.prom written whole or not at all: a temporary file in DIR, fsync, rename (the textfile
 * collector reads only *.prom, so it never sees a half-written file). */
static int metrics_write_textfile(const char *dir, const char *text)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    char tmp[4096], final[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/memctl.prom.%d", dir, (int)getpid()) >= sizeof(tmp) ||
        (size_t)snprintf(final, sizeof(final), "%s/memctl.prom", dir) >= sizeof(final))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text), off = 0;
    int r = 0;
    while (off < len && r == 0) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno != EINTR)
            r = -errno;
        else if (n > 0)
            off += (size_t)n;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, final) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    return r;
}

int verb_metrics(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    char *text = NULL;
    int r = memctl_client_get_metrics(c, a->openmetrics ? "openmetrics" : "prometheus", &text, NULL);
    if (r < 0)
        return cli_fail(c, r, "metrics");
    if (a->textfile_dir) {
        r = metrics_write_textfile(a->textfile_dir, text);
        free(text);
        if (r < 0) {
            fprintf(stderr, "memctl: metrics: --textfile-dir %s: %s\n", a->textfile_dir, strerror(-r));
            return r == -ENOENT || r == -ENOTDIR ? CLI_EXIT_INVALID : CLI_EXIT_FAILURE;
        }
        return 0;
    }
    fputs(text, stdout);
    free(text);
    return fflush(stdout) == 0 ? 0 : CLI_EXIT_FAILURE;
}
