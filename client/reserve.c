/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memctl reserve: critical clients and the reserve. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/cli.h"
#include "client/table.h"
#include "basic/size.h"

typedef struct {
    MemctlCriticalInfo *a;
    size_t n;
} Infos;

static void infos_clear(Infos *x)
{
    memctl_critical_info_free_array(x->a, x->n);
}

static const char *target(const MemctlCriticalInfo *x, char buf[static 24])
{
    if (x->group[0])
        return x->group;
    snprintf(buf, 24, "pid %" PRIu32, x->pid);
    return buf;
}

static int reserve_list(MemctlClient *c, const CliArgs *a)
{
    _cleanup_status_ MemctlStatus s = {0};
    __attribute__((cleanup(infos_clear))) Infos x = {0};
    int r = memctl_client_get_status(c, &s);
    if (r >= 0)
        r = memctl_client_list_critical(c, &x.a, &x.n);
    if (r < 0)
        return cli_fail(c, r, "reserve");
    if (a->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "total", json_object_new_uint64(s.reserve_total));
        json_object_object_add(o, "registered", json_object_new_uint64(s.reserve_registered));
        json_object_object_add(o, "leased", json_object_new_uint64(s.reserve_leased));
        json_object_object_add(o, "free", json_object_new_uint64(s.reserve_free));
        json_object_object_add(o, "resident", json_object_new_uint64(s.reserve_resident));
        json_object_object_add(o, "lent", json_object_new_uint64(s.reserve_lent));
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < x.n; i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "group", x.a[i].group[0] ? json_object_new_string(x.a[i].group) : NULL);
            json_object_object_add(e, "pid", x.a[i].pid ? json_object_new_uint64(x.a[i].pid) : NULL);
            json_object_object_add(e, "reserve", json_object_new_uint64(x.a[i].size));
            json_object_object_add(e, "leased", json_object_new_uint64(x.a[i].leased));
            json_object_object_add(e, "lease", x.a[i].lease ? json_object_new_uint64(x.a[i].lease) : NULL);
            json_object_array_add(arr, e);
        }
        json_object_object_add(o, "clients", arr);
        cli_print_json(o);
        return 0;
    }
    char b1[16], b2[16], b3[16], b4[16], b5[16], b6[16];
    printf("Reserve: %s, %s registered, %s leased, %s free, %s resident", cli_size(s.reserve_total, b1),
           cli_size(s.reserve_registered, b2), cli_size(s.reserve_leased, b3), cli_size(s.reserve_free, b4),
           cli_size(s.reserve_resident, b5));
    if (s.reserve_lent)
        printf(", %s lent to critical groups as boosts", cli_size(s.reserve_lent, b6));
    printf("\n");
    static const char *const cols[] = {"CLIENT", "RESERVE", "LEASED", "LEASE"};
    _cleanup_table_ Table *t = table_new(cols, 4);
    for (size_t i = 0; t && i < x.n; i++) {
        char tb[24], lease[16];
        snprintf(lease, sizeof(lease), "%" PRIu32, x.a[i].lease);
        const char *cells[] = {target(&x.a[i], tb), cli_size(x.a[i].size, b1), cli_size(x.a[i].leased, b2),
                               x.a[i].lease ? lease : "-"};
        table_add_row(t, cells);
    }
    if (!t)
        return cli_fail(c, -ENOMEM, "reserve");
    table_print(t, stdout, a->legend);
    return 0;
}

/* memctl reserve [list] | register GROUP SIZE | register --pid=PID SIZE | unregister GROUP | unregister
 * --pid=PID */
int verb_reserve(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    const char *sub = argc ? argv[0] : "list";
    int want = strcmp(sub, "register") == 0 ? 2 : strcmp(sub, "unregister") == 0 ? 1 : 0;
    if (a->pid)
        want--; /* --pid replaces the group */
    if (strcmp(sub, "list") == 0 || strcmp(sub, "register") == 0 || strcmp(sub, "unregister") == 0) {
        if (argc - (argc ? 1 : 0) != want || want < 0 || (a->pid && strcmp(sub, "list") == 0)) {
            fprintf(stderr, "memctl: reserve %s: expected %s\n", sub,
                    strcmp(sub, "register") == 0     ? "GROUP SIZE, or --pid=PID SIZE"
                    : strcmp(sub, "unregister") == 0 ? "GROUP, or --pid=PID"
                                                     : "no arguments");
            return CLI_EXIT_INVALID;
        }
    } else {
        fprintf(stderr, "memctl: reserve: unknown subcommand '%s' (list, register, unregister)\n", sub);
        return CLI_EXIT_INVALID;
    }
    if (strcmp(sub, "list") == 0)
        return reserve_list(c, a);
    const char *group = a->pid ? "" : argv[1];
    const char *what = a->pid ? "pid" : group;
    int r;
    if (strcmp(sub, "register") == 0) {
        const char *size = argv[a->pid ? 1 : 2];
        uint64_t bytes;
        if (memctl_size_parse(size, &bytes) < 0 || bytes == MEMCTL_SIZE_MAX) {
            fprintf(stderr, "memctl: reserve register: '%s' is not a size\n", size);
            return CLI_EXIT_INVALID;
        }
        r = memctl_client_register_critical(c, group, a->pid, bytes);
    } else {
        r = memctl_client_unregister_critical(c, group, a->pid);
    }
    return r < 0 ? cli_fail(c, r, what) : 0;
}
