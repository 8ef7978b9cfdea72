/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service: a workload with a hot set and cold memory, for the tests and the benchmark of proactive
 * reclaim (the right-sizing of docs/POLICY.md).
 *
 *   service --cgroup DIR [--cold-file PATH] [--hot-file PATH] [--hot-anon BYTES] [--cold-anon BYTES]
 *           [--seconds N] [--warmup S] [--grow-at S --grow-anon BYTES]
 *
 * Moves itself into DIR, drops whatever page cache of the two files others hold (so that what it
 * reads is charged to DIR), then:
 *  - reads --cold-file once, whole, and never again (cold page cache);
 *  - touches --cold-anon bytes once, with pseudo-random bytes (zram cannot make them nothing), and
 *    never again (cold anonymous memory: what only swap can take);
 *  - allocates --hot-anon bytes;
 * prints "ready", and serves for --seconds: an operation reads one random 4 KiB of --hot-file
 * (pread) and writes a byte to one random page of the hot anonymous memory. At --grow-at seconds
 * the hot anonymous memory grows by --grow-anon (a working set that grows). It prints, on exit or
 * SIGTERM, "ops <n> seconds <s> p50_us <x> p99_us <y> max_us <z>": the operations' latencies, those
 * of the first --warmup seconds left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/sample.h"

#define PAGE 4096u
#define BUCKETS 200000u /* a microsecond each: latencies of 200 ms and more share the last */

static volatile sig_atomic_t stop;
static uint32_t hist[BUCKETS];

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    switch (*end) {
    case 'G':
        v <<= 10; /* fall through */
    case 'M':
        v <<= 10; /* fall through */
    case 'K':
        v <<= 10;
        break;
    case '\0':
        break;
    default:
        fprintf(stderr, "service: '%s' is not a size\n", s);
        exit(2);
    }
    return v;
}

static void join_cgroup(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) {
        fprintf(stderr, "service: cannot join %s: %s\n", dir, strerror(errno));
        exit(2);
    }
}

/* Drops the file's clean pages wherever they are charged, then returns an fd and its size. */
static int open_dropped(const char *path, off_t *ret_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "service: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    *ret_size = st.st_size;
    return fd;
}

static char *map_anon(uint64_t bytes)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "service: mmap of %llu bytes: %s\n", (unsigned long long)bytes, strerror(errno));
        exit(3);
    }
    return p;
}

static uint64_t percentile(uint64_t total, double q)
{
    uint64_t want = (uint64_t)((double)total * q), seen = 0;
    for (uint32_t i = 0; i < BUCKETS; i++) {
        seen += hist[i];
        if (seen > want)
            return i;
    }
    return BUCKETS - 1;
}

int main(int argc, char **argv)
{
    const char *cgroup = NULL, *cold_file = NULL, *hot_file = NULL;
    uint64_t hot_anon = 0, cold_anon = 0, grow_anon = 0;
    double seconds = 10, grow_at = -1, warmup = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--cgroup"))
            cgroup = v;
        else if (!strcmp(k, "--cold-file"))
            cold_file = v;
        else if (!strcmp(k, "--hot-file"))
            hot_file = v;
        else if (!strcmp(k, "--hot-anon"))
            hot_anon = parse_size(v);
        else if (!strcmp(k, "--cold-anon"))
            cold_anon = parse_size(v);
        else if (!strcmp(k, "--grow-anon"))
            grow_anon = parse_size(v);
        else if (!strcmp(k, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(k, "--warmup"))
            warmup = atof(v);
        else if (!strcmp(k, "--grow-at"))
            grow_at = atof(v);
        else {
            fprintf(stderr, "service: unknown option %s\n", k);
            return 2;
        }
    }
    if (!cgroup || !hot_file) {
        fprintf(stderr, "service: --cgroup and --hot-file are required\n");
        return 2;
    }
    join_cgroup(cgroup);
    signal(SIGTERM, on_term);
    off_t hot_size, cold_size = 0;
    int hot_fd = open_dropped(hot_file, &hot_size);
    if (hot_size < (off_t)PAGE) {
        fprintf(stderr, "service: %s is smaller than a page\n", hot_file);
        return 2;
    }
    if (cold_file) {
        int fd = open_dropped(cold_file, &cold_size);
        static char buf[1 << 20];
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
        close(fd);
    }
    if (cold_anon) {
        uint64_t *p = (uint64_t *)map_anon(cold_anon);
        for (uint64_t i = 0; i < cold_anon / sizeof(*p); i++)
            p[i] = next_rand();
    }
    uint64_t hot_pages = hot_anon / PAGE, cap = hot_anon + grow_anon;
    char *hot = cap ? map_anon(cap) : NULL;
    for (uint64_t i = 0; i < hot_pages; i++)
        hot[i * PAGE] = 1;
    /* the hot file read once whole, so that the loop starts warm */
    char page[PAGE];
    for (off_t o = 0; o + (off_t)PAGE <= hot_size; o += PAGE)
        (void)!pread(hot_fd, page, PAGE, o);
    printf("ready\n");
    fflush(stdout);

    uint64_t start = memctl_now_usec(), t0 = start, end = start + (uint64_t)(seconds * 1e6), ops = 0,
             worst = 0;
    bool grown = grow_at < 0, warm = warmup <= 0;
    uint64_t file_pages = (uint64_t)hot_size / PAGE;
    while (!stop) {
        uint64_t t = memctl_now_usec();
        if (t >= end)
            break;
        if (!warm && t - start >= (uint64_t)(warmup * 1e6)) {
            memset(hist, 0, sizeof(hist));
            ops = worst = 0;
            t0 = t;
            warm = true;
        }
        if (!grown && t - start >= (uint64_t)(grow_at * 1e6)) {
            hot_pages = cap / PAGE;
            grown = true;
        }
        (void)!pread(hot_fd, page, PAGE, (off_t)(next_rand() % file_pages * PAGE));
        if (hot_pages)
            hot[next_rand() % hot_pages * PAGE]++;
        uint64_t d = memctl_now_usec() - t;
        hist[d < BUCKETS ? d : BUCKETS - 1]++;
        if (d > worst)
            worst = d;
        ops++;
    }
    double s = (double)(memctl_now_usec() - t0) / 1e6;
    printf("ops %llu seconds %.3f p50_us %llu p99_us %llu max_us %llu\n", (unsigned long long)ops, s,
           (unsigned long long)percentile(ops, 0.5), (unsigned long long)percentile(ops, 0.99),
           (unsigned long long)worst);
    fflush(stdout);
    return 0;
}
