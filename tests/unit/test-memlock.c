/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * basic/memlock.c: what stays resident. After memctl_memlock_trim(), the code a library ran before
 * is gone from this process's pages and what it runs after is locked again as it is touched, while
 * the objects the core runs (the program, libc, the loader) keep every page locked. After
 * memctl_memlock_trim_heap(), the heap's free pages are gone and its pages in use locked.
 *
 * Reads /proc/self/smaps with libc alone between the trim and the measure: a GLib call there would
 * bring GLib's pages back before they are counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/memlock.h"

typedef struct {
    unsigned long rss_kb, locked_kb;
} Use;
/* Rss counts the relocated read-only data (RELRO) too: private copies, written by the loader, that
 * no trim may drop. The file's own pages are Rss less Anonymous. */

static char smaps[1u << 20];

/* Rss and Locked of the mappings whose name contains `object`; with read_only, only its read-only
 * mappings (code, constants), and only the file's own pages (Rss less Anonymous). libc only: open,
 * read, strstr, sscanf. */
static Use mapping_use(const char *object, bool read_only)
{
    Use u = {0, 0};
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    size_t n = 0;
    ssize_t k;
    while (n < sizeof(smaps) - 1 && (k = read(fd, smaps + n, sizeof(smaps) - 1 - n)) > 0)
        n += (size_t)k;
    close(fd);
    g_assert_cmpuint(n, <, sizeof(smaps) - 1);
    smaps[n] = '\0';
    bool in = false;
    for (char *line = smaps, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned long lo, hi;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) == 3 && off > 0) {
            in = strstr(line + off, object) && (!read_only || perms[1] != 'w');
            continue;
        }
        unsigned long v;
        if (in && sscanf(line, "Rss: %lu kB", &v) == 1)
            u.rss_kb += v;
        else if (in && read_only && sscanf(line, "Anonymous: %lu kB", &v) == 1)
            u.rss_kb -= v;
        else if (in && sscanf(line, "Locked: %lu kB", &v) == 1)
            u.locked_kb += v;
    }
    return u;
}

static Use read_only_use(const char *object)
{
    return mapping_use(object, true);
}

/* Runs a fair amount of GLib: its code pages are touched and, under MCL_ONFAULT, locked. */
static void use_glib(void)
{
    g_autoptr(GHashTable) h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < 200; i++)
        g_hash_table_insert(h, g_strdup_printf("key-%d-%s", i, g_strrstr("a/b/c", "/")), NULL);
    g_autoptr(GString) s = g_string_new(NULL);
    g_string_append_printf(s, "%.3f %s", 1.5, g_ascii_strup("abc", -1));
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_data(kf, "[a]\nb=1\n", (gsize)-1, 0, NULL));
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_parsed("{'a': <1>, 'b': <'x'>}"));
    g_autofree char *p = g_variant_print(v, TRUE);
    g_assert_nonnull(p);
}

static void test_trim(void)
{
    if (memctl_memlock_all() != 0) {
        g_test_skip("no mlockall(MCL_ONFAULT) here (not root, or RLIMIT_MEMLOCK): nothing to trim");
        return;
    }
    g_assert_cmpint(memctl_memlock_code(NULL), ==, 0);
    use_glib();
    Use glib_before = read_only_use("libglib-2.0.so");
    Use libc_before = read_only_use("/libc.so");
    g_assert_cmpuint(glib_before.rss_kb, >=, 64);
    g_assert_cmpuint(glib_before.locked_kb, >, 0);

    uint64_t dropped = memctl_memlock_trim();
    Use glib_trimmed = read_only_use("libglib-2.0.so");
    Use libc_trimmed = read_only_use("/libc.so");

    g_assert_cmpuint(dropped, >=, (uint64_t)glib_before.rss_kb * 1024);
    /* nothing of GLib's code ran between the trim and the count: what is left is at most the last
     * page of each of its three read-only segments, which the trim keeps (whole pages only) */
    g_assert_cmpuint(glib_trimmed.rss_kb, <=, 3 * (unsigned long)sysconf(_SC_PAGESIZE) / 1024);
    /* the core's code is untouched: libc stays resident and locked whole */
    g_assert_cmpuint(libc_trimmed.rss_kb, ==, libc_before.rss_kb);
    g_assert_cmpuint(libc_trimmed.locked_kb, >, 0);

    /* what runs after the trim comes back, and is locked again */
    use_glib();
    Use glib_after = read_only_use("libglib-2.0.so");
    g_assert_cmpuint(glib_after.rss_kb, >, 0);
    g_assert_cmpuint(glib_after.locked_kb, >, 0);
    munlockall();
}

/* Rss and Locked of the main heap. */
static Use heap_use(void)
{
    return mapping_use("[heap]", false);
}

/* A burst of small allocations freed in the heap's middle stays resident and locked until the heap
 * is trimmed; after it, what is still in use is locked again. */
static void test_trim_heap(void)
{
    if (memctl_memlock_all() != 0) {
        g_test_skip("no mlockall(MCL_ONFAULT) here (not root, or RLIMIT_MEMLOCK): nothing to trim");
        return;
    }
    enum { N = 16384, SIZE = 1024 }; /* 16 MiB in small blocks: the heap, not mmap */
    void **blocks = g_new(void *, N);
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(SIZE);
        memset(blocks[i], 1, SIZE);
    }
    void *pin = malloc(SIZE); /* above them all: the heap's top cannot shrink past it */
    memset(pin, 1, SIZE);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    Use before = heap_use();
    g_assert_cmpuint(before.rss_kb, >=, 16 * 1024);

    g_assert_cmpint(memctl_memlock_trim_heap(), ==, 0);
    Use after = heap_use();
    g_assert_cmpuint(after.rss_kb, <, 4 * 1024);
    g_assert_cmpuint(after.locked_kb, >, 0); /* what is in use: locked again */

    /* and the heap works, its new pages locked as touched */
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(SIZE);
        memset(blocks[i], 2, SIZE);
    }
    Use again = heap_use();
    g_assert_cmpuint(again.locked_kb, >=, 16 * 1024);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    free(pin);
    g_free(blocks);
    munlockall();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memlock/trim", test_trim);
    g_test_add_func("/memlock/trim-heap", test_trim_heap);
    return g_test_run();
}
