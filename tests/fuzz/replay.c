/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replays a fuzz target's corpus and regression inputs through its entry point, without libFuzzer,
 * in every build (suite unit): an input that once crashed stays a test. Arguments are files or
 * directories; prints TAP, one line per input.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int n;

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("not ok %d %s: cannot open\n", ++n, path);
        return;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) {
        printf("not ok %d %s: out of memory\n", ++n, path);
        return;
    }
    LLVMFuzzerTestOneInput(buf, len); /* a crash ends the run: the test fails */
    free(buf);
    printf("ok %d %s\n", ++n, path);
    fflush(stdout);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0)
            continue; /* a target without regressions yet */
        if (!S_ISDIR(st.st_mode)) {
            replay_file(argv[i]);
            continue;
        }
        struct dirent **e;
        int k = scandir(argv[i], &e, NULL, by_name);
        for (int j = 0; j < k; j++) {
            if (e[j]->d_name[0] != '.') {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", argv[i], e[j]->d_name);
                replay_file(path);
            }
            free(e[j]);
        }
        free(e);
    }
    printf("1..%d\n", n);
    return n > 0 ? 0 : 1;
}
