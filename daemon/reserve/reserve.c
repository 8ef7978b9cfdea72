/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/reserve/reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/fd-util.h"

struct MemctlReserve {
    int fd;
    uint8_t *map;
    uint64_t total, free;
    uint64_t page;
};

static uint64_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (uint64_t)p : 4096;
}

static uint64_t round_up(uint64_t v, uint64_t page)
{
    return v > UINT64_MAX - (page - 1) ? 0 : (v + page - 1) / page * page;
}

/* Makes [off, off+len) of a shared mapping resident: a write per page allocates what a hole left. */
static void touch(uint8_t *map, uint64_t off, uint64_t len, uint64_t page)
{
    for (uint64_t o = off; o < off + len; o += page)
        ((volatile uint8_t *)map)[o] = 0;
}

static int map_locked(int fd, uint64_t size, uint8_t **ret)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    /* mlockall(MCL_FUTURE) covers this already when memctld runs hardened; say it explicitly. */
    if (mlock(p, size) < 0) {
        int e = -errno;
        munmap(p, size);
        return e;
    }
    *ret = p;
    return 0;
}

int memctl_reserve_new(uint64_t bytes, MemctlReserve **ret)
{
    uint64_t page = page_size();
    uint64_t total = round_up(bytes, page);
    if (bytes && !total)
        return -EINVAL;
    g_autoptr(MemctlReserve) r = g_new0(MemctlReserve, 1);
    r->fd = -1;
    r->page = page;
    if (total) {
        r->fd = memfd_create("memctl-reserve", MFD_CLOEXEC);
        if (r->fd < 0)
            return -errno;
        if (ftruncate(r->fd, (off_t)total) < 0)
            return -errno;
        int e = map_locked(r->fd, total, &r->map);
        if (e < 0)
            return e;
        touch(r->map, 0, total, page);
    }
    r->total = r->free = total;
    *ret = g_steal_pointer(&r);
    return 0;
}

void memctl_reserve_free(MemctlReserve *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, r->total);
    memctl_closep(&r->fd);
    g_free(r);
}

uint64_t memctl_reserve_total(const MemctlReserve *r)
{
    return r->total;
}

uint64_t memctl_reserve_free_bytes(const MemctlReserve *r)
{
    return r->free;
}

static uint64_t resident(const uint8_t *map, uint64_t size, uint64_t page)
{
    if (!map || !size)
        return 0;
    g_autofree unsigned char *vec = g_malloc(size / page);
    if (mincore((void *)map, size, vec) < 0)
        return 0;
    uint64_t n = 0;
    for (uint64_t i = 0; i < size / page; i++)
        n += vec[i] & 1;
    return n * page;
}

uint64_t memctl_reserve_resident(const MemctlReserve *r)
{
    return resident(r->map, r->total, r->page);
}

uint64_t memctl_reserve_lease_resident(const MemctlLeaseMem *mem)
{
    return mem->fd >= 0 ? resident(mem->map, mem->size, page_size()) : 0;
}

/* A new sealed memfd of size bytes, every page allocated (fallocate: a host without the memory is an
 * error, not a fault), mapped, locked and faulted in by memctld. */
static int lease_new(uint64_t size, uint64_t page, MemctlLeaseMem *ret)
{
    _cleanup_close_ int fd = memfd_create("memctl-lease", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)size) < 0)
        return -errno;
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        return -errno;
    if (fallocate(fd, 0, 0, (off_t)size) < 0)
        return -errno;
    uint8_t *map = NULL;
    int e = map_locked(fd, size, &map);
    if (e < 0)
        return e;
    touch(map, 0, size, page);
    *ret = (MemctlLeaseMem){.fd = memctl_fd_steal(&fd), .map = map, .size = size};
    return 0;
}

/* Frees a lease's pages, also those a holder still maps (punching a hole unmaps them from every
 * mapping of the file), and closes memctld's copy. A holder that kept the fd or a mapping keeps an
 * empty file that no one else will ever see: what it writes there is charged to itself. */
static void lease_drop(MemctlLeaseMem *mem)
{
    if (mem->fd < 0)
        return;
    (void)fallocate(mem->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)mem->size);
    munmap(mem->map, mem->size);
    memctl_closep(&mem->fd);
    *mem = (MemctlLeaseMem){.fd = -1};
}

int memctl_reserve_carve(MemctlReserve *r, uint64_t bytes, MemctlLeaseMem *ret)
{
    uint64_t size = round_up(bytes, r->page);
    if (!size)
        return -EINVAL;
    if (size > r->free)
        return -ENOSPC;
    MemctlLeaseMem mem;
    int e = lease_new(size, r->page, &mem);
    if (e < 0)
        return e;
    /* The lease is resident: only now let the same amount go from the pool. */
    if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(r->free - size), (off_t)size) <
        0) {
        e = -errno;
        lease_drop(&mem);
        return e;
    }
    r->free -= size;
    *ret = mem;
    return 0;
}

void memctl_reserve_give_back(MemctlReserve *r, MemctlLeaseMem *mem)
{
    if (mem->fd < 0)
        return;
    uint64_t size = mem->size;
    lease_drop(mem);
    touch(r->map, r->free, size, r->page);
    r->free += size;
}

int memctl_reserve_renew(MemctlLeaseMem *mem)
{
    if (mem->fd < 0)
        return -EBADF;
    /* The new memory first, so that what memctld holds never dips; if the host has not got it, the
     * old memory goes first and its pages serve the new file. */
    MemctlLeaseMem fresh;
    int e = lease_new(mem->size, page_size(), &fresh);
    if (e < 0) {
        (void)fallocate(mem->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)mem->size);
        e = lease_new(mem->size, page_size(), &fresh);
        if (e < 0)
            return e; /* mem stays, emptied: it must not be leased until a renewal succeeds */
    }
    lease_drop(mem);
    *mem = fresh;
    return 0;
}

int memctl_reserve_lend(MemctlLeaseMem *mem)
{
    if (mem->fd < 0)
        return -EBADF;
    if (fallocate(mem->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)mem->size) < 0)
        return -errno;
    return 0;
}

int memctl_reserve_refill(MemctlLeaseMem *mem)
{
    if (mem->fd < 0)
        return -EBADF;
    if (fallocate(mem->fd, 0, 0, (off_t)mem->size) < 0)
        return -errno;
    touch(mem->map, 0, mem->size, page_size()); /* the pages exist: these faults only map them */
    return 0;
}
