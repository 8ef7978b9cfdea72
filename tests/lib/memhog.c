/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memhog: a workload for the real-kernel tests and the benchmarks.
 *
 *   memhog [--cgroup DIR] [--mode anon|populate|read] [--step BYTES] [--total BYTES] [--hold]
 *          [--interval-ms N] [--oom-score-adj N] [--comm NAME]
 *
 * Moves itself into DIR (cgroup.procs) first, then grows by --step until --total ("max": forever):
 *   anon      mmap + a write to every page
 *   populate  mmap(MAP_POPULATE), then mincore() checks that every page really is resident
 *   read      mmap without populate, then read() from /dev/zero into it (kernel-side faults)
 *   shmem     a memfd grown by ftruncate and mapped MAP_SHARED: charged to the group like anon, but
 *             neither process_mrelease nor the OOM reaper can free it while the process lives
 * Every silent or loud allocation failure is reported on stderr and makes the exit status 3:
 * mmap ENOMEM, a short or failed read(), a populate that left pages out. With --hold it keeps its
 * memory after growing and rewrites a page per second (a "steady" process) until killed.
 * Prints "ready" when it is in the cgroup and "grown <bytes>" when --total is reached.
 * --block-on FILE: once grown, prints "blocking" and writes a byte to FILE (which the tests put on
 * a frozen filesystem: the process then sleeps uninterruptibly and cannot die until it is thawed).
 * --fill random: (anon) writes whole pages of pseudo-random bytes instead of one byte per page, so
 * that zram cannot compress them; --rewalk: after each step, reads a byte of every page grown so far
 * (a working set that is all in use: once it exceeds RAM + swap, the host thrashes).
 * --comm NAME: prctl(PR_SET_NAME) with NAME's bytes as they are (the kernel keeps 15 of them, valid
 * UTF-8 or not), for the tests of hostile process names.
 * Benchmark options: --mark BYTES prints "mark <CLOCK_MONOTONIC usec>" when it has grown that much;
 * --probe-ms N (with --hold) maps, touches and unmaps 64 KiB (--probe-size BYTES) every N ms instead
 * of idling, and on SIGTERM prints "worst_gap_usec <us>": the longest it was stalled between two
 * probes. --near-high BYTES (with --cgroup): once grown, tops up 64 KiB at a time until the group's
 * memory.current is within BYTES of its memory.high and prints "near-high <current> <high>": with
 * a probe larger than BYTES, the group then crosses high at every probe and falls back under it (a
 * group hovering at its threshold).
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t parse_size(const char *s)
{
    if (strcmp(s, "max") == 0)
        return UINT64_MAX;
    char *end;
    uint64_t v = strtoull(s, &end, 10);
    switch (*end) {
    case 'K':
        return v << 10;
    case 'M':
        return v << 20;
    case 'G':
        return v << 30;
    case '\0':
        return v;
    default:
        fprintf(stderr, "memhog: bad size '%s'\n", s);
        exit(2);
    }
}

static uint64_t read_file_u64(const char *dir, const char *file)
{
    char path[4096], buf[64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        fprintf(stderr, "memhog: cannot read %s\n", path);
        exit(2);
    }
    buf[n] = '\0';
    return strncmp(buf, "max", 3) == 0 ? UINT64_MAX : strtoull(buf, NULL, 10);
}

static void write_file(const char *dir, const char *file, const char *value)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        fprintf(stderr, "memhog: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
    close(fd);
}

int main(int argc, char **argv)
{
    const char *cgroup = NULL, *mode = "anon";
    uint64_t step = 1 << 20, total = UINT64_MAX;
    bool hold = false;
    long interval_ms = 0, probe_ms = 0;
    uint64_t mark = 0, probe_size = 65536, near_high = UINT64_MAX;
    const char *adj = NULL, *block_on = NULL, *fill = "byte", *comm = NULL;
    bool rewalk = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--hold") == 0 || strcmp(a, "--rewalk") == 0) {
            hold |= strcmp(a, "--hold") == 0;
            rewalk |= strcmp(a, "--rewalk") == 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "memhog: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--cgroup") == 0)
            cgroup = v;
        else if (strcmp(a, "--mode") == 0)
            mode = v;
        else if (strcmp(a, "--step") == 0)
            step = parse_size(v);
        else if (strcmp(a, "--total") == 0)
            total = parse_size(v);
        else if (strcmp(a, "--interval-ms") == 0)
            interval_ms = atol(v);
        else if (strcmp(a, "--mark") == 0)
            mark = parse_size(v);
        else if (strcmp(a, "--probe-ms") == 0)
            probe_ms = atol(v);
        else if (strcmp(a, "--probe-size") == 0)
            probe_size = parse_size(v);
        else if (strcmp(a, "--near-high") == 0)
            near_high = parse_size(v);
        else if (strcmp(a, "--oom-score-adj") == 0)
            adj = v;
        else if (strcmp(a, "--block-on") == 0)
            block_on = v;
        else if (strcmp(a, "--fill") == 0)
            fill = v;
        else if (strcmp(a, "--comm") == 0)
            comm = v;
        else {
            fprintf(stderr, "memhog: unknown option %s\n", a);
            return 2;
        }
    }
    if (strcmp(mode, "anon") && strcmp(mode, "populate") && strcmp(mode, "read") && strcmp(mode, "shmem")) {
        fprintf(stderr, "memhog: unknown mode %s\n", mode);
        return 2;
    }
    if (adj)
        write_file("/proc/self", "oom_score_adj", adj);
    if (comm && prctl(PR_SET_NAME, comm) < 0) {
        fprintf(stderr, "memhog: prctl(PR_SET_NAME): %s\n", strerror(errno));
        return 2;
    }
    if (cgroup) {
        char pid[24];
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        write_file(cgroup, "cgroup.procs", pid);
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);

    long page = sysconf(_SC_PAGESIZE);
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    unsigned char *vec = malloc(step / (uint64_t)page + 1);
    char *first = NULL;
    uint64_t grown = 0;
    int failures = 0;
    bool shmem = strcmp(mode, "shmem") == 0;
    int memfd = shmem ? memfd_create("memhog", MFD_CLOEXEC) : -1;
    if (shmem && memfd < 0) {
        fprintf(stderr, "memhog: memfd_create: %s\n", strerror(errno));
        return 2;
    }
    static struct {
        char *p;
        uint64_t n;
    } maps[65536];
    size_t nmaps = 0;
    while (grown < total) {
        uint64_t n = total - grown < step ? total - grown : step;
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | (strcmp(mode, "populate") == 0 ? MAP_POPULATE : 0);
        if (shmem && ftruncate(memfd, (off_t)(grown + n)) < 0) {
            fprintf(stderr, "memhog: ftruncate after %llu: %s\n", (unsigned long long)grown, strerror(errno));
            failures++;
            break;
        }
        char *p = shmem ? mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, (off_t)grown)
                        : mmap(NULL, n, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "memhog: mmap of %llu bytes failed after %llu: %s\n", (unsigned long long)n,
                    (unsigned long long)grown, strerror(errno));
            failures++;
            break;
        }
        if (!first)
            first = p;
        if ((strcmp(mode, "anon") == 0 || shmem) && strcmp(fill, "random") == 0) {
            static uint64_t x = 0x9e3779b97f4a7c15ull;
            for (uint64_t off = 0; off + 8 <= n; off += 8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                memcpy(p + off, &x, 8);
            }
        } else if (strcmp(mode, "anon") == 0 || shmem) {
            for (uint64_t off = 0; off < n; off += (uint64_t)page)
                p[off] = 1;
        } else if (strcmp(mode, "populate") == 0) {
            if (mincore(p, n, vec) == 0) {
                uint64_t missing = 0;
                for (uint64_t k = 0; k < n / (uint64_t)page; k++)
                    missing += !(vec[k] & 1);
                if (missing) {
                    fprintf(stderr,
                            "memhog: MAP_POPULATE left %llu of %llu pages out after %llu bytes (silent "
                            "ENOMEM)\n",
                            (unsigned long long)missing, (unsigned long long)(n / (uint64_t)page),
                            (unsigned long long)grown);
                    failures++;
                }
            }
        } else {
            ssize_t r = read(zero, p, n);
            if (r != (ssize_t)n) {
                fprintf(stderr, "memhog: read() into fresh memory returned %zd of %llu after %llu: %s\n", r,
                        (unsigned long long)n, (unsigned long long)grown, r < 0 ? strerror(errno) : "short");
                failures++;
            }
        }
        if (mark && grown < mark && grown + n >= mark) {
            printf("mark %llu\n", (unsigned long long)now_usec());
            fflush(stdout);
        }
        grown += n;
        if (rewalk && !shmem) {
            /* the whole working set in use: every page grown so far is read again (mappings are
             * contiguous only by luck, so each step's mapping is remembered) */
            if (nmaps < sizeof(maps) / sizeof(maps[0])) {
                maps[nmaps].p = p;
                maps[nmaps++].n = n;
            }
            volatile char sink = 0;
            for (size_t m = 0; m < nmaps; m++)
                for (uint64_t off = 0; off < maps[m].n; off += (uint64_t)page)
                    sink += maps[m].p[off];
            (void)sink;
        }
        if (interval_ms > 0) {
            struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    printf("grown %llu\n", (unsigned long long)grown);
    fflush(stdout);
    if (near_high != UINT64_MAX && cgroup) {
        uint64_t high = read_file_u64(cgroup, "memory.high"), cur;
        if (high == UINT64_MAX) {
            fprintf(stderr, "memhog: --near-high: the group has no memory.high\n");
            return 2;
        }
        while ((cur = read_file_u64(cgroup, "memory.current")) + near_high < high) {
            char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                fprintf(stderr, "memhog: mmap of 64 KiB failed near high: %s\n", strerror(errno));
                return 3;
            }
            for (int off = 0; off < 65536; off += (int)page)
                p[off] = 1;
        }
        printf("near-high %llu %llu\n", (unsigned long long)cur, (unsigned long long)high);
        fflush(stdout);
    }
    if (block_on) {
        printf("blocking\n");
        fflush(stdout);
        int fd = open(block_on, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "x", 1) < 0)
            fprintf(stderr, "memhog: cannot write %s: %s\n", block_on, strerror(errno));
    }
    if (hold && probe_ms > 0) {
        signal(SIGTERM, on_term);
        uint64_t last = now_usec(), worst = 0;
        while (!stop) {
            char *p = mmap(NULL, probe_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) {
                /* the probe charges its own size: merged with a neighbouring mapping it could fault
                 * in a whole 2 MiB transparent huge page */
                (void)madvise(p, probe_size, MADV_NOHUGEPAGE);
                for (uint64_t off = 0; off < probe_size; off += (uint64_t)page)
                    p[off] = 1;
                munmap(p, probe_size);
            }
            first[0]++;
            struct timespec ts = {probe_ms / 1000, (probe_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
            uint64_t t = now_usec();
            if (t - last > worst)
                worst = t - last;
            last = t;
        }
        printf("worst_gap_usec %llu\n", (unsigned long long)worst);
        fflush(stdout);
        return 0;
    }
    while (hold && first) {
        first[0]++;
        sleep(1);
    }
    return failures ? 3 : 0;
}
