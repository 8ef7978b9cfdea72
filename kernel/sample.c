/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/sample.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/size.h"
#include "basic/str.h"

ssize_t memctl_sample_read(int fd, char *buf, size_t size)
{
    if (size == 0)
        return -EINVAL;
    ssize_t n = pread(fd, buf, size - 1, 0);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return n;
}

int memctl_sample_read_u64(int fd, uint64_t *ret)
{
    char buf[32];
    ssize_t n = memctl_sample_read(fd, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    return memctl_size_parse_kernel(buf, ret);
}

static uint64_t parse_decimal(const char **p)
{
    uint64_t v = 0;
    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    return v;
}

int memctl_sample_key(const char *text, const char *key, uint64_t *ret)
{
    const char *p = memctl_str_line_value(text, key, ' ');
    if (!p)
        return -ENOENT;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    *ret = parse_decimal(&p);
    return 0;
}

int memctl_sample_reclaim_stat(const char *text, MemctlReclaimInput *ret)
{
    static const char *const keys[] = {"inactive_file", "active_file", "file_mapped",
                                       "inactive_anon", "active_anon", "slab_reclaimable"};
    uint64_t v[sizeof(keys) / sizeof(keys[0])];
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        if (memctl_sample_key(text, keys[k], &v[k]) < 0)
            return -ENOENT;
    *ret = (MemctlReclaimInput){.inactive_file = v[0],
                                .active_file = v[1],
                                .file_mapped = v[2],
                                .inactive_anon = v[3],
                                .active_anon = v[4],
                                .slab_reclaimable = v[5]};
    return 0;
}

int memctl_sample_used(const char *text, uint64_t *ret)
{
    static const char *const keys[] = {"anon", "file", "kernel", "sock"};
    uint64_t sum = 0, v;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        if (memctl_sample_key(text, keys[k], &v) < 0)
            return -ENOENT;
        sum = memctl_size_add(sum, v);
    }
    if (memctl_sample_key(text, "zswap", &v) == 0) /* Linux 5.19+, with zswap */
        sum = memctl_size_add(sum, v);
    *ret = sum;
    return 0;
}

int memctl_sample_refaults(const char *text, uint64_t *ret_pages)
{
    uint64_t anon, file;
    if (memctl_sample_key(text, "workingset_refault_anon", &anon) == 0 &&
        memctl_sample_key(text, "workingset_refault_file", &file) == 0) {
        *ret_pages = anon + file;
        return 0;
    }
    return memctl_sample_key(text, "workingset_refault", ret_pages); /* before Linux 5.9 */
}

static int pressure_line(const char *line, uint64_t *ret_total, uint32_t *ret_avg10_centi)
{
    const char *a = strstr(line, "avg10=");
    const char *t = strstr(line, "total=");
    const char *nl = strchr(line, '\n');
    if (!a || !t || (nl && (a > nl || t > nl)))
        return -EINVAL;
    a += 6;
    uint64_t whole = parse_decimal(&a), frac = 0;
    if (*a == '.') {
        a++;
        frac = parse_decimal(&a);
    }
    t += 6;
    *ret_total = parse_decimal(&t);
    if (ret_avg10_centi)
        *ret_avg10_centi = (uint32_t)(whole * 100 + frac);
    return 0;
}

int memctl_sample_pressure(const char *text, uint64_t *ret_some_total, uint64_t *ret_full_total,
                           uint32_t *ret_full_avg10_centi)
{
    const char *some = strncmp(text, "some ", 5) == 0 ? text : NULL;
    const char *full = strstr(text, "\nfull ");
    if (!some || !full)
        return -EINVAL;
    uint64_t s, f;
    uint32_t favg;
    if (pressure_line(some, &s, NULL) < 0 || pressure_line(full + 1, &f, &favg) < 0)
        return -EINVAL;
    *ret_some_total = s;
    *ret_full_total = f;
    if (ret_full_avg10_centi)
        *ret_full_avg10_centi = favg;
    return 0;
}

int memctl_sample_pressure_avg10(const char *text, uint32_t *ret_some_centi, uint32_t *ret_full_centi)
{
    const char *full = strstr(text, "\nfull ");
    uint64_t t;
    uint32_t s, f;
    if (strncmp(text, "some ", 5) != 0 || !full || pressure_line(text, &t, &s) < 0 ||
        pressure_line(full + 1, &t, &f) < 0)
        return -EINVAL;
    *ret_some_centi = s;
    *ret_full_centi = f;
    return 0;
}

ssize_t memctl_sample_read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = memctl_sample_read(fd, buf, size);
    close(fd);
    return n;
}

int memctl_sample_pressure_file(const char *path, uint32_t *ret_some_centi, uint32_t *ret_full_centi)
{
    char buf[256];
    ssize_t n = memctl_sample_read_file(path, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    return memctl_sample_pressure_avg10(buf, ret_some_centi, ret_full_centi);
}

size_t memctl_sample_pids(const char *text, int32_t *pids, size_t max)
{
    size_t n = 0;
    const char *p = text;
    while (*p && n < max) {
        if (*p >= '0' && *p <= '9') {
            uint64_t v = parse_decimal(&p);
            if (v > 0 && v <= INT32_MAX)
                pids[n++] = (int32_t)v;
        } else {
            p++;
        }
    }
    return n;
}

static int read_at(int dirfd, const char *name, char *buf, size_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return e == ESRCH ? -ESRCH : -e;
    buf[n] = '\0';
    return 0;
}

/* The value of the line that starts with key ("\nRssAnon:"), after the Name line: a process chooses
 * its name (prctl), so a field is never looked for in it. NULL without such a line. */
static const char *status_field(const char *status, const char *key)
{
    const char *body = strchr(status, '\n');
    const char *p = body ? strstr(body, key) : NULL;
    return p ? p + strlen(key) : NULL;
}

static uint64_t status_kib(const char *status, const char *key)
{
    const char *p = status_field(status, key);
    if (!p)
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    return parse_decimal(&p) * 1024;
}

/* True if the signal mask after `key` ("SigPnd:", "ShdPnd:") has SIGKILL pending. */
static bool status_sigkill_pending(const char *status, const char *key)
{
    const char *p = status_field(status, key);
    if (!p)
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *end = p;
    while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
        end++;
    /* SIGKILL is signal 9: bit 8, in the last three hex digits of the mask. */
    if (end - p < 3)
        return false;
    char d = end[-3];
    unsigned v = d <= '9' ? (unsigned)(d - '0') : (unsigned)(d - 'a' + 10);
    return v & 1u;
}

int memctl_sample_proc_path(char *buf, size_t size, const char *proc_root, int32_t pid, const char *leaf)
{
    size_t rl = strlen(proc_root), ll = leaf ? strlen(leaf) + 1 : 0;
    char digits[12];
    int nd = 0;
    for (uint32_t v = (uint32_t)pid; v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    if (rl + 1 + (size_t)nd + ll + 1 > size)
        return -ENAMETOOLONG;
    memcpy(buf, proc_root, rl);
    buf[rl++] = '/';
    while (nd)
        buf[rl++] = digits[--nd];
    if (leaf) {
        buf[rl++] = '/';
        memcpy(buf + rl, leaf, ll - 1);
        rl += ll - 1;
    }
    buf[rl] = '\0';
    return 0;
}

int memctl_sample_process(const char *proc_root, int32_t pid, char *scratch, size_t scratch_size,
                          MemctlCandidate *ret)
{
    char path[64];
    if (scratch_size < 128 || memctl_sample_proc_path(path, sizeof(path), proc_root, pid, NULL) < 0)
        return -EINVAL;

    int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return errno == ENOENT ? -ESRCH : -errno;

    MemctlCandidate c = {.pid = pid};
    int r = read_at(dirfd, "oom_score_adj", scratch, scratch_size);
    if (r == 0) {
        const char *p = scratch;
        bool neg = *p == '-';
        if (neg)
            p++;
        int64_t v = (int64_t)parse_decimal(&p);
        c.oom_score_adj = (int16_t)(neg ? -v : v);
        r = read_at(dirfd, "status", scratch, scratch_size);
    }
    close(dirfd);
    if (r < 0)
        return r;

    /* "Name:" is the first line; the kernel writes the name with '\\' and newline escaped ("\\\\", "\\n"),
     * every other byte as it is: the raw name is taken back (memctl_str_escape() shows it). */
    const char *name = strncmp(scratch, "Name:", 5) == 0 ? scratch + 5 : NULL;
    if (name) {
        while (*name == '\t' || *name == ' ')
            name++;
        size_t i = 0;
        for (const char *q = name; *q && *q != '\n' && i < MEMCTL_COMM_MAX - 1; q++) {
            if (q[0] == '\\' && (q[1] == '\\' || q[1] == 'n'))
                c.comm[i++] = *++q == 'n' ? '\n' : '\\';
            else
                c.comm[i++] = *q;
        }
        c.comm[i] = '\0';
    }
    /* A zombie or kernel thread has no VmRSS: nothing to free by killing it. */
    if (!status_field(scratch, "\nVmRSS:"))
        c.flags |= MEMCTL_CAND_GONE;
    /* Killed already (by us or anyone) but not yet gone, e.g. stuck in the kernel: not a victim again. */
    if (status_sigkill_pending(scratch, "\nShdPnd:") || status_sigkill_pending(scratch, "\nSigPnd:"))
        c.flags |= MEMCTL_CAND_DYING;
    c.anon_bytes = status_kib(scratch, "\nRssAnon:");
    c.swap_bytes = status_kib(scratch, "\nVmSwap:");
    *ret = c;
    return 0;
}

uint64_t memctl_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t memctl_realtime_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
