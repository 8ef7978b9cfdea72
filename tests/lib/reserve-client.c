/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reserve-client: a critical client for the reserve tests, on libmemctl.
 *
 *   reserve-client --cgroup DIR --bytes SIZE [--fill-to-max] [--check-zero] [--loop-ms N] [--hold]
 *                  [--anon] [--early]
 *
 * Moves itself into DIR, prints "ready <pid>" and waits for a line on stdin (the test registers it
 * meanwhile). --fill-to-max: grows by anonymous memory until DIR's memory.current is within 1 MiB
 * of its memory.max, prints "filled <current>". Then AcquireReserve(SIZE) and prints "lease <id>
 * <size>"; maps the lease; --check-zero: prints "zero ok" or "zero BAD <offset>"; writes 0xab to the
 * whole lease a MiB at a time and prints "wrote <bytes> worst_chunk_usec <us> total_usec <us>" (total:
 * from the line on stdin, AcquireReserve and mmap included); --anon (the benchmark's baseline):
 * instead of a lease, SIZE of its own anonymous memory, mapped and written the same way; --early: the
 * lease is acquired and mapped before "ready" (as a client that keeps it for the bad day); --loop-ms: keeps
 * rewriting it for that long and prints "looped <passes> worst_chunk_usec <us>". Prints "done"; with
 * --hold it then waits to be killed. --fill-byte B writes B instead of 0xab. --commands: after "done"
 * it reads commands on stdin, one a line, keeping its mapping whatever happens to the lease:
 * "release" (ReleaseReserve, the mapping kept; "released"), "check" (every byte 0: "check ok", else
 * "check BAD <offset> <byte>"), "verify B" (every byte B: "verify ok" or "verify BAD ..."),
 * "scribble B" (writes B everywhere: "scribbled"), "quit". Any failure (an error from memctld, a
 * failed mmap) goes to stderr with exit status 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "include/memctl/client.h"

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int fail(const char *what, int e)
{
    fprintf(stderr, "reserve-client: %s: %s\n", what, strerror(e < 0 ? -e : e));
    return 3;
}

static uint64_t read_u64(const char *dir, const char *file)
{
    char path[4096], buf[64] = {0};
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    return strncmp(buf, "max", 3) == 0 ? UINT64_MAX : strtoull(buf, NULL, 10);
}

/* Writes the whole lease in 1 MiB chunks; returns the slowest chunk in microseconds. */
static uint64_t write_lease(uint8_t *p, uint64_t size, uint8_t byte)
{
    uint64_t worst = 0;
    for (uint64_t off = 0; off < size; off += 1 << 20) {
        uint64_t n = size - off < (1u << 20) ? size - off : (1u << 20);
        uint64_t t0 = now_usec();
        memset(p + off, byte, n);
        uint64_t dt = now_usec() - t0;
        if (dt > worst)
            worst = dt;
    }
    return worst;
}

/* The lease (or, anon, its own memory), mapped: 0, or the exit status after a message. */
static int get_memory(int anon, uint64_t bytes, MemctlClient **c, int *ret_fd, uint64_t *ret_size,
                      uint32_t *ret_lease, uint8_t **ret_p)
{
    uint8_t *p;
    if (anon) {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return fail("mmap of anonymous memory", errno);
        *ret_p = p;
        return 0;
    }
    int r = memctl_client_open(NULL, c);
    if (r < 0)
        return fail("cannot connect", r);
    uint32_t lease = 0;
    int fd = -1;
    uint64_t size = 0;
    r = memctl_client_acquire_reserve(*c, bytes, &fd, &size, &lease);
    if (r < 0) {
        fprintf(stderr, "reserve-client: AcquireReserve: %s (%s)\n", memctl_client_error_message(*c),
                strerror(-r));
        return 3;
    }
    printf("lease %u %llu\n", lease, (unsigned long long)size);
    fflush(stdout);
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return fail("mmap of the lease", errno);
    *ret_fd = fd;
    *ret_size = size;
    *ret_lease = lease;
    *ret_p = p;
    return 0;
}

/* "<what> ok", or "<what> BAD <offset> <byte>" at the first byte that is not `want`. */
static void report_bytes(const char *what, const uint8_t *p, uint64_t size, uint8_t want)
{
    for (uint64_t o = 0; o < size; o++)
        if (p[o] != want) {
            printf("%s BAD %llu %u\n", what, (unsigned long long)o, p[o]);
            return;
        }
    printf("%s ok\n", what);
}

/* The --commands loop: 0 at "quit" or the end of stdin, else the exit status after a message. */
static int run_commands(MemctlClient *c, uint32_t lease, uint8_t *p, uint64_t size)
{
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        unsigned byte = 0;
        if (strncmp(line, "release", 7) == 0) {
            int r = memctl_client_release_reserve(c, lease);
            if (r < 0)
                return fail("ReleaseReserve", r);
            printf("released\n");
        } else if (strncmp(line, "check", 5) == 0) {
            report_bytes("check", p, size, 0);
        } else if (sscanf(line, "verify %u", &byte) == 1) {
            report_bytes("verify", p, size, (uint8_t)byte);
        } else if (sscanf(line, "scribble %u", &byte) == 1) {
            memset(p, (int)byte, size);
            printf("scribbled\n");
        } else if (strncmp(line, "quit", 4) == 0) {
            return 0;
        } else {
            fprintf(stderr, "reserve-client: unknown command %s", line);
            return 2;
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cgroup = NULL;
    uint64_t bytes = 0;
    long loop_ms = 0;
    int fill = 0, check_zero = 0, hold = 0, anon = 0, early = 0, commands = 0;
    unsigned fill_byte = 0xab;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fill-to-max") == 0)
            fill = 1;
        else if (strcmp(argv[i], "--check-zero") == 0)
            check_zero = 1;
        else if (strcmp(argv[i], "--hold") == 0)
            hold = 1;
        else if (strcmp(argv[i], "--anon") == 0)
            anon = 1;
        else if (strcmp(argv[i], "--early") == 0)
            early = 1;
        else if (strcmp(argv[i], "--commands") == 0)
            commands = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--fill-byte") == 0)
            fill_byte = (unsigned)strtoul(argv[++i], NULL, 0) & 0xff;
        else if (i + 1 < argc && strcmp(argv[i], "--cgroup") == 0)
            cgroup = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--bytes") == 0)
            bytes = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--loop-ms") == 0)
            loop_ms = atol(argv[++i]);
        else {
            fprintf(stderr, "reserve-client: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (cgroup) {
        char path[4096], pid[24];
        snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
            return fail("cannot join the cgroup", errno);
        close(fd);
    }
    MemctlClient *c = NULL;
    int fd = -1, r;
    uint64_t size = bytes;
    uint32_t lease = 0;
    uint8_t *p = NULL;
    if (early && (r = get_memory(anon, bytes, &c, &fd, &size, &lease, &p)) != 0)
        return r;
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin))
        return fail("stdin closed before go", EPIPE);

    if (fill) {
        uint64_t max = read_u64(cgroup, "memory.max");
        uint64_t cur = read_u64(cgroup, "memory.current");
        while (max != UINT64_MAX && cur + (1u << 20) < max) {
            size_t step = 256u << 10;
            uint8_t *q = mmap(NULL, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q == MAP_FAILED)
                return fail("mmap while filling", errno);
            for (size_t o = 0; o < step; o += 4096)
                q[o] = 1;
            cur = read_u64(cgroup, "memory.current");
        }
        printf("filled %llu\n", (unsigned long long)cur);
        fflush(stdout);
    }

    uint64_t t_go = now_usec();
    if (!early && (r = get_memory(anon, bytes, &c, &fd, &size, &lease, &p)) != 0)
        return r;
    if (check_zero) {
        uint64_t bad = UINT64_MAX;
        for (uint64_t o = 0; o < size && bad == UINT64_MAX; o++)
            if (p[o])
                bad = o;
        if (bad == UINT64_MAX)
            printf("zero ok\n");
        else
            printf("zero BAD %llu\n", (unsigned long long)bad);
    }
    uint64_t worst = write_lease(p, size, (uint8_t)fill_byte);
    printf("wrote %llu worst_chunk_usec %llu total_usec %llu\n", (unsigned long long)size,
           (unsigned long long)worst, (unsigned long long)(now_usec() - t_go));
    fflush(stdout);
    if (loop_ms > 0) {
        uint64_t end = now_usec() + (uint64_t)loop_ms * 1000, passes = 0, lw = 0;
        while (now_usec() < end) {
            uint64_t w = write_lease(p, size, (uint8_t)fill_byte);
            lw = w > lw ? w : lw;
            passes++;
        }
        printf("looped %llu worst_chunk_usec %llu\n", (unsigned long long)passes, (unsigned long long)lw);
    }
    printf("done\n");
    fflush(stdout);
    if (commands && !anon && (r = run_commands(c, lease, p, size)) != 0)
        return r;
    while (hold)
        pause();
    munmap(p, size);
    if (fd >= 0)
        close(fd);
    if (c)
        memctl_client_free(c);
    return 0;
}
