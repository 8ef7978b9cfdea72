/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/memlock.h"

#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "basic/cleanup.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

int memctl_memlock_no_thp(void)
{
    return prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int memctl_memlock_all(void)
{
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0)
        return 0;
    if (errno != EINVAL)
        return -errno;
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 1 : -errno;
}

typedef struct {
    uint64_t page, bytes;
    int error;
} LockCtx;

/* The objects whose code the core runs: the program ("" in the loader's list), libc, the loader. */
static bool core_object(const char *name)
{
    if (!name || !*name)
        return true;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "ld-linux", 8) == 0 ||
           strncmp(base, "ld64.so", 7) == 0;
}

static int lock_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    LockCtx *ctx = data;
    if (!core_object(info->dlpi_name))
        return 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        uintptr_t start = (uintptr_t)(info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(ctx->page - 1);
        uintptr_t end = (uintptr_t)(info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
        if (mlock((void *)start, end - start) < 0) {
            ctx->error = -errno;
            return 1;
        }
        ctx->bytes += end - start;
    }
    return 0;
}

int memctl_memlock_code(uint64_t *ret_bytes)
{
    LockCtx ctx = {.page = (uint64_t)sysconf(_SC_PAGESIZE)};
    dl_iterate_phdr(lock_object, &ctx);
    if (ctx.error < 0)
        return ctx.error;
    if (ret_bytes)
        *ret_bytes = ctx.bytes;
    return 0;
}

typedef struct {
    uint64_t page, bytes;
} TrimCtx;

#define TRIM_RANGES_MAX 32

static int trim_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    TrimCtx *ctx = data;
    if (core_object(info->dlpi_name))
        return 0;
    /* The ranges first, all of them: the program headers lie in the object's first page, which the
     * first range drops, and reading them again would fault it (and its neighbours) back in. */
    uintptr_t ranges[TRIM_RANGES_MAX][2];
    size_t n = 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum && n < TRIM_RANGES_MAX; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        /* Never written (no PF_W: not the relocated data, nor RELRO, which lies in the writable
         * segment): its pages are the file's own, and a later access reads them back unchanged. */
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0 || (ph->p_flags & PF_W))
            continue;
        uintptr_t start = (uintptr_t)(info->dlpi_addr + ph->p_vaddr);
        uintptr_t end = start + ph->p_memsz;
        /* whole pages only: a page shared with a neighbouring segment stays */
        start = (start + ctx->page - 1) & ~(uintptr_t)(ctx->page - 1);
        end &= ~(uintptr_t)(ctx->page - 1);
        if (end > start) {
            ranges[n][0] = start;
            ranges[n][1] = end;
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        void *start = (void *)ranges[i][0];
        size_t len = ranges[i][1] - ranges[i][0];
        if (munlock(start, len) < 0)
            continue;
        if (madvise(start, len, MADV_DONTNEED) == 0)
            ctx->bytes += len;
        /* locked again page by page as it is used: nothing is faulted in here */
        (void)mlock2(start, len, MLOCK_ONFAULT);
    }
    return 0;
}

uint64_t memctl_memlock_trim(void)
{
    TrimCtx ctx = {.page = (uint64_t)sysconf(_SC_PAGESIZE)};
    dl_iterate_phdr(trim_object, &ctx);
    return ctx.bytes;
}

/* The main heap's start ("[heap]" in /proc/self/maps), or 0. */
static uintptr_t heap_start(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return 0;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            return lo;
    }
    return 0;
}

int memctl_memlock_trim_heap(void)
{
    uintptr_t start = heap_start();
    uintptr_t end = (uintptr_t)sbrk(0);
    if (start == 0 || end <= start)
        return -ENOENT;
    if (munlock((void *)start, end - start) < 0)
        return -errno;
    malloc_trim(0);
    /* again as touched, up to the break as it is now (the trim may have lowered it, another thread
     * raised it): the pages still in use are there, and stay */
    end = (uintptr_t)sbrk(0);
    if (end > start && mlock2((void *)start, end - start, MLOCK_ONFAULT) < 0)
        return -errno;
    return 0;
}

void memctl_prefault(void *p, size_t n)
{
    volatile char *b = p;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t o = 0; o < n; o += page)
        b[o] = b[o]; /* a write: a read alone would map the shared zero page */
    if (n > 0)
        b[n - 1] = b[n - 1];
}
