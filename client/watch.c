/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memctl's live verbs: kills [--follow] and top. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/table.h"

static volatile sig_atomic_t interrupted;
static bool follow_json; /* kills --follow --json: one object per line */

static void on_signal(int sig)
{
    interrupted = 1;
}

static uint64_t realtime_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static json_object *kill_json(const MemctlKill *k)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "seq", json_object_new_uint64(k->seq));
    json_object_object_add(o, "time_usec", json_object_new_uint64(k->time_usec));
    json_object_object_add(o, "group", json_object_new_string(k->group ? k->group : ""));
    json_object_object_add(o, "pid", json_object_new_uint64(k->pid));
    json_object_object_add(o, "comm", json_object_new_string(k->comm ? k->comm : ""));
    json_object_object_add(o, "reason", json_object_new_string(k->reason ? k->reason : ""));
    json_object_object_add(o, "by", json_object_new_string(k->by ? k->by : ""));
    if (k->message)
        json_object_object_add(o, "message", json_object_new_string(k->message));
    json_object_object_add(o, "group_kill", json_object_new_boolean(k->group_kill));
    json_object_object_add(o, "livelock", json_object_new_boolean(k->livelock));
    json_object_object_add(o, "processes", json_object_new_uint64(k->processes));
    json_object_object_add(o, "bytes_freed", json_object_new_uint64(k->bytes_freed));
    json_object_object_add(o, "latency_usec", json_object_new_uint64(k->latency_usec));
    json_object_object_add(o, "freed_usec", json_object_new_uint64(k->freed_usec));
    json_object_object_add(o, "reap_usec", json_object_new_uint64(k->reap_usec));
    json_object_object_add(o, "current", cli_json_size(k->current));
    json_object_object_add(o, "high", cli_json_size(k->high));
    json_object_object_add(o, "max", cli_json_size(k->max));
    if (k->dry_run) {
        json_object_object_add(o, "dry_run", json_object_new_boolean(true));
        json_object_object_add(o, "host", json_object_new_boolean(k->host));
        json_object_object_add(o, "outcome", json_object_new_string(k->outcome ? k->outcome : ""));
    }
    return o;
}

static void kill_row(const MemctlKill *k, const char **row, char (*buf)[32])
{
    time_t t = (time_t)(k->time_usec / 1000000u);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf[0], sizeof(buf[0]), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf[1], sizeof(buf[1]), "%" PRIu32, k->pid);
    cli_size(k->bytes_freed, buf[2]);
    snprintf(buf[3], sizeof(buf[3]), "%.1fms", k->latency_usec / 1000.0);
    snprintf(buf[4], sizeof(buf[4]), "%" PRIu64, k->seq);
    row[0] = buf[4];
    row[1] = buf[0];
    row[2] = k->group;
    row[3] = k->pid ? buf[1] : NULL;
    row[4] = k->comm && k->comm[0] ? k->comm : NULL;
    row[5] = k->reason;
    row[6] = k->dry_run ? "dry-run" : k->by;
    row[7] = k->pid && !k->dry_run ? buf[2] : NULL; /* a dry run freed nothing */
    row[8] = k->pid ? buf[3] : NULL;
    row[9] = k->dry_run ? k->outcome : NULL;
}

/* OUTCOME: a dry run's (the kill it would have made): what followed without it */
#define KILL_COLS 10
static const char *const kill_cols[KILL_COLS] = {">SEQ",   "TIME", "GROUP",  ">PID",     "COMM",
                                                 "REASON", "BY",   ">FREED", ">LATENCY", "OUTCOME"};

/* Prints the records after *last and moves *last on. */
static int print_kills(MemctlClient *c, const CliArgs *a, uint64_t *last, bool legend)
{
    MemctlKill *k = NULL;
    size_t n = 0;
    int r = memctl_client_list_kills(c, *last, &k, &n, last);
    if (r < 0)
        return r;
    if (a->json && a->follow) {
        for (size_t i = 0; i < n; i++) {
            json_object *o = kill_json(&k[i]);
            json_object_object_add(o, "received_usec", json_object_new_uint64(realtime_usec()));
            cli_print_json(o);
        }
    } else if (a->json) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(arr, kill_json(&k[i]));
        cli_print_json(arr);
    } else {
        _cleanup_table_ Table *t = table_new(kill_cols, KILL_COLS);
        for (size_t i = 0; t && i < n; i++) {
            const char *row[KILL_COLS];
            char buf[5][32];
            kill_row(&k[i], row, buf);
            (void)table_add_row(t, row);
        }
        if (t && (n || legend))
            table_print(t, stdout, legend);
        if (!a->follow && a->legend)
            printf("\n%zu kill(s) listed.\n", n);
        fflush(stdout);
    }
    memctl_kill_free_array(k, n);
    return 0;
}

static void on_killed(const char *group, uint32_t pid, const char *comm, const char *reason, uint64_t freed,
                      uint64_t latency, void *userdata)
{
    *(bool *)userdata = true;
}

/* A dry run's record is listed when it comes (pending); its outcome, under the same seq, only
 * comes as this signal: one line of its own. */
static void on_would_kill(const char *group, uint32_t pid, const char *comm, const char *reason, uint64_t seq,
                          const char *outcome, void *userdata)
{
    *(bool *)userdata = true;
    if (strcmp(outcome, "pending") == 0)
        return;
    if (follow_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "seq", json_object_new_uint64(seq));
        json_object_object_add(o, "group", json_object_new_string(group));
        json_object_object_add(o, "dry_run", json_object_new_boolean(true));
        json_object_object_add(o, "outcome", json_object_new_string(outcome));
        json_object_object_add(o, "received_usec", json_object_new_uint64(realtime_usec()));
        cli_print_json(o);
    } else {
        printf("%" PRIu64 ": %s: dry run outcome: %s\n", seq, group, outcome);
        fflush(stdout);
    }
}

int verb_kills(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    uint64_t last = a->since;
    if (!a->follow) {
        int r = print_kills(c, a, &last, a->legend);
        return r < 0 ? cli_fail(c, r, "kills") : 0;
    }
    /* Subscribe first, then catch up: nothing falls between the two. */
    bool pending = false;
    follow_json = a->json;
    int r = memctl_client_subscribe(c, on_killed, NULL, &pending);
    if (r >= 0)
        r = memctl_client_subscribe_dry_run(c, on_would_kill);
    if (r < 0)
        return cli_fail(c, r, "kills --follow");
    if (a->since == 0) {
        MemctlKill *k = NULL;
        size_t n = 0;
        if ((r = memctl_client_list_kills(c, UINT64_MAX, &k, &n, &last)) < 0)
            return cli_fail(c, r, "kills --follow");
        memctl_kill_free_array(k, n);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool legend = a->legend && !a->json;
    if ((r = print_kills(c, a, &last, legend)) < 0)
        return cli_fail(c, r, "kills --follow");
    while (!interrupted) {
        r = memctl_client_wait(c, UINT64_MAX);
        if (r == -EINTR || interrupted)
            break;
        if (r < 0)
            return cli_fail(c, r, "kills --follow");
        if (pending) {
            pending = false;
            if ((r = print_kills(c, a, &last, false)) < 0)
                return cli_fail(c, r, "kills --follow");
        }
    }
    return 0;
}

static int by_current(const void *x, const void *y)
{
    const MemctlGroupInfo *a = x, *b = y;
    return a->current < b->current ? 1 : a->current > b->current ? -1 : strcmp(a->name, b->name);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const MemctlGroupInfo *)x)->name, ((const MemctlGroupInfo *)y)->name);
}

/* The working set next to the usage: "-" without proactive reclaim, "<=" before it was measured. */
static const char *wset_text(const MemctlGroupInfo *ws, size_t n_ws, const char *name, char buf[static 24])
{
    MemctlGroupInfo key = {.name = (char *)name};
    const MemctlGroupInfo *w = ws ? bsearch(&key, ws, n_ws, sizeof(*ws), by_name) : NULL;
    if (!w || w->workingset == 0)
        return "-";
    char size[16];
    snprintf(buf, 24, "%s%s", w->workingset_measured ? "" : "<=", cli_size(w->workingset, size));
    return buf;
}

static int top_frame(MemctlClient *c, const CliArgs *a, bool clear)
{
    MemctlStatus s = {0};
    int r = memctl_client_get_status(c, &s);
    if (r < 0)
        return r;
    MemctlGroupInfo *g = NULL;
    size_t n = 0;
    if ((r = memctl_client_list_groups(c, &g, &n)) < 0) {
        memctl_status_clear(&s);
        return r;
    }
    qsort(g, n, sizeof(*g), by_current);
    MemctlGroupInfo *ws = NULL; /* sorted by name */
    size_t n_ws = 0;
    if (memctl_client_list_working_sets(c, &ws, &n_ws) < 0)
        ws = NULL, n_ws = 0; /* an older memctld: no column to fill */
    if (a->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "memory_available", json_object_new_uint64(s.memory_available));
        json_object_object_add(o, "memory_total", json_object_new_uint64(s.memory_total));
        json_object_object_add(o, "pressure_some", cli_json_percent(s.pressure_some));
        json_object_object_add(o, "pressure_full", cli_json_percent(s.pressure_full));
        json_object_object_add(o, "kills", json_object_new_uint64(s.kills));
        json_object_object_add(o, "groups", cli_groups_json(g, n));
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n_ws; i++) {
            json_object *w = json_object_new_object();
            json_object_object_add(w, "group", json_object_new_string(ws[i].name));
            json_object_object_add(w, "working_set", json_object_new_uint64(ws[i].workingset));
            json_object_object_add(w, "measured", json_object_new_boolean(ws[i].workingset_measured));
            json_object_object_add(w, "suggested_limit", json_object_new_uint64(ws[i].suggested_limit));
            json_object_object_add(w, "reclaimed", json_object_new_uint64(ws[i].reclaimed));
            json_object_array_add(arr, w);
        }
        json_object_object_add(o, "working_sets", arr);
        cli_print_json(o);
    } else {
        char b1[16], b2[16];
        if (clear)
            fputs("\033[H\033[2J", stdout);
        printf("memctl top - %s available of %s, pressure some %.2f%% full %.2f%%, %" PRIu64 " kill(s)\n\n",
               cli_size(s.memory_available, b1), cli_size(s.memory_total, b2), s.pressure_some,
               s.pressure_full, s.kills);
        static const char *const cols[] = {"GROUP", ">CURRENT", ">WSET",     ">HIGH",
                                           ">MAX",  ">USE%",    ">PSI-FULL", ">KILLS"};
        _cleanup_table_ Table *t = table_new(cols, 8);
        for (size_t i = 0; t && i < n; i++) {
            char cur[16], wset[24], high[16], max[16], use[16], psi[16], kills[24];
            uint64_t lim = g[i].max != UINT64_MAX ? g[i].max : g[i].high;
            if (lim != UINT64_MAX && lim)
                snprintf(use, sizeof(use), "%.0f%%", 100.0 * (double)g[i].current / (double)lim);
            else
                snprintf(use, sizeof(use), "-");
            snprintf(psi, sizeof(psi), "%.2f%%", g[i].pressure_full);
            snprintf(kills, sizeof(kills), "%" PRIu64, g[i].kills);
            const char *row[] = {g[i].name,
                                 cli_size(g[i].current, cur),
                                 wset_text(ws, n_ws, g[i].name, wset),
                                 cli_size(g[i].high, high),
                                 cli_size(g[i].max, max),
                                 use,
                                 psi,
                                 kills};
            (void)table_add_row(t, row);
        }
        if (t)
            table_print(t, stdout, a->legend);
        fflush(stdout);
    }
    memctl_group_info_free_array(g, n);
    memctl_group_info_free_array(ws, n_ws);
    memctl_status_clear(&s);
    return 0;
}

int verb_top(MemctlClient *c, const CliArgs *a, int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool clear = !a->json && isatty(STDOUT_FILENO);
    for (long i = 0; !interrupted && (a->iterations == 0 || i < a->iterations); i++) {
        if (i > 0) {
            struct timespec ts = {.tv_sec = (time_t)a->delay,
                                  .tv_nsec = (long)((a->delay - (double)(time_t)a->delay) * 1e9)};
            if (nanosleep(&ts, NULL) < 0 && interrupted)
                break;
            if (!clear && !a->json)
                putchar('\n');
        }
        int r = top_frame(c, a, clear);
        if (r < 0)
            return cli_fail(c, r, "top");
    }
    return 0;
}
