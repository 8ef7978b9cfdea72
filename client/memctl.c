/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memctl: the admin command line of memctld, over org.memctl.Manager1 (through libmemctl).
 * This file: options, verb dispatch, errors and exit codes. The verbs are in verbs.c and watch.c.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "include/memctl/memctl.h"
#include "basic/size.h"

static const struct {
    const char *name;
    CliVerb fn;
    int min_args, max_args; /* after the verb */
    unsigned options;       /* the verb-specific options it takes (OPT_* bits) */
} verbs[] = {
        {"status", verb_status, 0, 0, 0},
        {"list", verb_list, 0, 0, 0},
        {"show", verb_show, 1, 1, 0},
        {"suggest", verb_suggest, 1, 1, 0},
        {"create", verb_create, 1, 64, 1u << 0},
        {"set", verb_set, 2, 64, 0},
        {"attach", verb_attach, 2, 65537, 0},
        {"remove", verb_remove, 1, 1, 1u << 1},
        {"kill", verb_kill, 1, 1, 1u << 2},
        {"kills", verb_kills, 0, 0, 1u << 3},
        {"top", verb_top, 0, 0, 1u << 4},
        {"reload", verb_reload, 0, 0, 0},
        {"reserve", verb_reserve, 0, 3, 1u << 5},
        {"metrics", verb_metrics, 0, 0, 1u << 6},
};

enum {
    OPT_CREATE = 1u << 0,  /* --limit --min --low --high --max --swap-max --headroom --priority --oom-group */
    OPT_REMOVE = 1u << 1,  /* --kill */
    OPT_KILL = 1u << 2,    /* --reason --one */
    OPT_KILLS = 1u << 3,   /* --follow --since */
    OPT_TOP = 1u << 4,     /* --iterations --delay */
    OPT_RESERVE = 1u << 5, /* --pid */
    OPT_METRICS = 1u << 6, /* --openmetrics --textfile-dir */
};

static void help(void)
{
    printf("memctl [OPTIONS...] COMMAND ...\n\n"
           "Query and control memctld, the cgroup v2 memory manager.\n\n"
           "Commands:\n"
           "  status                       Show the daemon's state and the host's memory\n"
           "  list                         List the managed groups with usage and pressure\n"
           "  show GROUP                   Show every property of a group\n"
           "  suggest GROUP                Suggest a limit from the group's working set (reclaim=auto)\n"
           "  create GROUP [KEY=VALUE...]  Create a group (idempotent) with limits\n"
           "  set GROUP KEY=VALUE...       Change a group's limits, all or nothing\n"
           "  attach GROUP PID...          Move processes into a group\n"
           "  remove GROUP                 Remove an empty group (--kill: kill what is left)\n"
           "  kill GROUP                   Kill the group now (--one: only the policy's victim)\n"
           "  kills                        List recent kills (--follow: stream them live)\n"
           "  top                          Live view of the groups by usage and pressure\n"
           "  reload                       Re-read the managed root and every group's limits\n"
           "  reserve [list]               Show the reserve and the critical clients\n"
           "  reserve register GROUP SIZE  Make a group (or --pid=PID) critical with SIZE of the reserve\n"
           "  reserve unregister GROUP     End a registration (or --pid=PID)\n"
           "  metrics                      Print the Prometheus metrics (--textfile-dir: write "
           "memctl.prom)\n"
           "  oci-hook [STAGE]             OCI runtime hook: the container's cgroup becomes a group\n\n"
           "Keys: limit min low high max swap_max headroom oom_group priority slice prekill_timeout\n"
           "reclaim reclaim_pressure reclaim_floor, or raw files\n"
           "memory.min memory.low memory.high memory.max memory.swap.max memory.oom.group.\n"
           "Sizes take K, M, G, T suffixes (powers of 1024) or \"max\".\n\n"
           "Options:\n"
           "  -h --help            Show this help\n"
           "     --version         Show the version\n"
           "     --json            Print JSON (one document; one line per event with --follow)\n"
           "     --no-legend       Leave out table headers and footers\n"
           "     --bus-address=ADDR  Talk to memctld on this D-Bus address (default: system bus)\n"
           "  create: --limit=SIZE --min=SIZE --low=SIZE --high=SIZE --max=SIZE --swap-max=SIZE\n"
           "          --headroom=SIZE --priority=1..100 --oom-group\n"
           "  remove: --kill       kill: --reason=TEXT --one\n"
           "  kills:  --follow --since=SEQ       top: -n --iterations=N  -d --delay=SECONDS\n"
           "  reserve: --pid=PID       metrics: --openmetrics --textfile-dir=DIR\n\n"
           "Exit status: 0 success, 1 failure, 2 invalid arguments, 4 no such group.\n"
           "See memctl(1) and org.memctl.Manager1(5).\n");
}

int cli_fail(MemctlClient *c, int r, const char *what)
{
    const char *name = c ? memctl_client_error_name(c) : NULL;
    const char *msg = c ? memctl_client_error_message(c) : "";
    if (name && (strcmp(name, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
                 strcmp(name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0))
        fprintf(stderr, "memctl: %s: memctld is not running (no owner of %s)\n", what, MEMCTL_BUS_NAME);
    else if (msg[0])
        fprintf(stderr, "memctl: %s: %s\n", what, msg);
    else
        fprintf(stderr, "memctl: %s: %s\n", what, strerror(-r));
    if (name && strcmp(name, MEMCTL_DBUS_ERROR_NO_SUCH_GROUP) == 0)
        return CLI_EXIT_NO_SUCH_GROUP;
    if (name && (strcmp(name, MEMCTL_DBUS_ERROR_INVALID_ARGUMENT) == 0 ||
                 strcmp(name, "org.freedesktop.DBus.Error.InvalidArgs") == 0))
        return CLI_EXIT_INVALID;
    return CLI_EXIT_FAILURE;
}

void cli_print_json(json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    fflush(stdout);
    json_object_put(o);
}

const char *cli_size(uint64_t bytes, char buf[static 16])
{
    return memctl_size_format(bytes, buf);
}

json_object *cli_json_size(uint64_t bytes)
{
    return bytes == MEMCTL_SIZE_MAX ? NULL : json_object_new_uint64(bytes);
}

json_object *cli_json_percent(double pct)
{
    char text[32];
    snprintf(text, sizeof(text), "%.2f", pct);
    return json_object_new_double_s(pct, text);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("memctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'memctl --help'.\n", stderr);
    return CLI_EXIT_INVALID;
}

static int add_setting(CliArgs *a, const char *key, const char *value)
{
    if (a->n_settings == sizeof(a->settings) / sizeof(a->settings[0]))
        return usage_error("too many settings (at most 32)");
    a->settings[a->n_settings++] = (MemctlSetting){key, value};
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        A_VERSION = 0x100,
        A_JSON,
        A_NO_LEGEND,
        A_BUS,
        A_LIMIT,
        A_MIN,
        A_LOW,
        A_HIGH,
        A_MAX,
        A_SWAP,
        A_HEADROOM,
        A_PRIORITY,
        A_OOM_GROUP,
        A_KILL,
        A_REASON,
        A_ONE,
        A_FOLLOW,
        A_SINCE,
        A_PID,
        A_OPENMETRICS,
        A_TEXTFILE
    };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, A_VERSION},
            {"json", no_argument, NULL, A_JSON},
            {"no-legend", no_argument, NULL, A_NO_LEGEND},
            {"bus-address", required_argument, NULL, A_BUS},
            {"limit", required_argument, NULL, A_LIMIT},
            {"min", required_argument, NULL, A_MIN},
            {"low", required_argument, NULL, A_LOW},
            {"high", required_argument, NULL, A_HIGH},
            {"max", required_argument, NULL, A_MAX},
            {"swap-max", required_argument, NULL, A_SWAP},
            {"headroom", required_argument, NULL, A_HEADROOM},
            {"priority", required_argument, NULL, A_PRIORITY},
            {"oom-group", no_argument, NULL, A_OOM_GROUP},
            {"kill", no_argument, NULL, A_KILL},
            {"reason", required_argument, NULL, A_REASON},
            {"one", no_argument, NULL, A_ONE},
            {"follow", no_argument, NULL, A_FOLLOW},
            {"since", required_argument, NULL, A_SINCE},
            {"iterations", required_argument, NULL, 'n'},
            {"delay", required_argument, NULL, 'd'},
            {"pid", required_argument, NULL, A_PID},
            {"openmetrics", no_argument, NULL, A_OPENMETRICS},
            {"textfile-dir", required_argument, NULL, A_TEXTFILE},
            {NULL, 0, NULL, 0},
    };
    static const char *const keys[] = {
            [A_LIMIT - A_LIMIT] = "limit",       [A_MIN - A_LIMIT] = "min",
            [A_LOW - A_LIMIT] = "low",           [A_HIGH - A_LIMIT] = "high",
            [A_MAX - A_LIMIT] = "max",           [A_SWAP - A_LIMIT] = "swap_max",
            [A_HEADROOM - A_LIMIT] = "headroom", [A_PRIORITY - A_LIMIT] = "priority"};
    setlocale(LC_ALL, "");
    CliArgs a = {.legend = true, .delay = 1.0};
    const char *address = NULL;
    unsigned used = 0;
    int opt, r;
    while ((opt = getopt_long(argc, argv, "hn:d:", options, NULL)) >= 0) {
        char *end;
        switch (opt) {
        case 'h':
            help();
            return 0;
        case A_VERSION:
            printf("memctl %s\n", MEMCTL_VERSION);
            return 0;
        case A_JSON:
            a.json = true;
            break;
        case A_NO_LEGEND:
            a.legend = false;
            break;
        case A_BUS:
            address = optarg;
            break;
        case A_LIMIT:
        case A_MIN:
        case A_LOW:
        case A_HIGH:
        case A_MAX:
        case A_SWAP:
        case A_HEADROOM:
        case A_PRIORITY:
            used |= OPT_CREATE;
            if ((r = add_setting(&a, keys[opt - A_LIMIT], optarg)) != 0)
                return r;
            break;
        case A_OOM_GROUP:
            used |= OPT_CREATE;
            if ((r = add_setting(&a, "oom_group", "true")) != 0)
                return r;
            break;
        case A_KILL:
            used |= OPT_REMOVE;
            a.kill = true;
            break;
        case A_REASON:
            used |= OPT_KILL;
            a.reason = optarg;
            break;
        case A_ONE:
            used |= OPT_KILL;
            a.one = true;
            break;
        case A_FOLLOW:
            used |= OPT_KILLS;
            a.follow = true;
            break;
        case A_SINCE:
            used |= OPT_KILLS;
            errno = 0;
            a.since = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || !optarg[0])
                return usage_error("--since: '%s' is not a sequence number", optarg);
            break;
        case A_PID: {
            used |= OPT_RESERVE;
            errno = 0;
            unsigned long long pid = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || !optarg[0] || pid == 0 || pid > INT32_MAX)
                return usage_error("--pid: '%s' is not a pid", optarg);
            a.pid = (uint32_t)pid;
            break;
        }
        case A_OPENMETRICS:
            used |= OPT_METRICS;
            a.openmetrics = true;
            break;
        case A_TEXTFILE:
            used |= OPT_METRICS;
            if (!optarg[0])
                return usage_error("--textfile-dir: give a directory");
            a.textfile_dir = optarg;
            break;
        case 'n':
            used |= OPT_TOP;
            errno = 0;
            a.iterations = strtol(optarg, &end, 10);
            if (errno || *end || a.iterations < 0 || !optarg[0])
                return usage_error("--iterations: '%s' is not a count", optarg);
            break;
        case 'd':
            used |= OPT_TOP;
            errno = 0;
            a.delay = strtod(optarg, &end);
            if (errno || *end || !(a.delay >= 0.1 && a.delay <= 3600))
                return usage_error("--delay: '%s' is not between 0.1 and 3600 seconds", optarg);
            break;
        default:
            return CLI_EXIT_INVALID;
        }
    }
    const char *verb = optind < argc ? argv[optind] : "list";
    int nargs = optind < argc ? argc - optind - 1 : 0;
    char **args = argv + optind + (optind < argc ? 1 : 0);
    if (strcmp(verb, "oci-hook") == 0) {
        if (used || a.json || nargs > 1)
            return usage_error("'oci-hook' takes at most a STAGE and no options but --bus-address");
        return cli_oci_hook(address, nargs, args);
    }
    size_t v = 0;
    while (v < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verbs[v].name, verb) != 0)
        v++;
    if (v == sizeof(verbs) / sizeof(verbs[0]))
        return usage_error("unknown command '%s'", verb);
    if (used & ~verbs[v].options)
        return usage_error("an option given does not apply to '%s'", verb);
    if (nargs < verbs[v].min_args || nargs > verbs[v].max_args)
        return usage_error("'%s': %s arguments", verb, nargs < verbs[v].min_args ? "missing" : "too many");

    MemctlClient *c = NULL;
    r = memctl_client_open(address, &c);
    if (r < 0) {
        fprintf(stderr, "memctl: cannot connect to %s: %s\n", address ? address : "the system bus",
                strerror(-r));
        return CLI_EXIT_FAILURE;
    }
    r = verbs[v].fn(c, &a, nargs, args);
    memctl_client_free(c);
    return r;
}
