/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memctld: the memctl daemon (memctld(8)). Options, the policy files, then memctl_daemon_new() sets
 * everything up (daemon/daemon.c), the main loop runs, and it all goes down in reverse.
 */
#include <glib.h>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/options.h"
#include "include/memctl/memctl.h"

/* --check-config: the files given, or --config and --config-dir, checked as memctld would read them. */
static int check_config(const MemctlOptions *o)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_autoptr(GError) err = NULL;
    int r = o->check_files && o->check_files[0]
                    ? memctl_config_read_files(o->check_files, &p, &err)
                    : memctl_config_read(o->config, false, o->config_dir, &p, &err);
    if (r < 0) {
        g_printerr("memctld: %s\n", err->message);
        return 1;
    }
    g_print("memctld: policy OK: %zu file(s), %zu group(s)\n", p.n_files, p.n_groups);
    return 0;
}

/* Exit status 2 for the command line's mistakes, 1 for everything else. */
static int fail(GError *err)
{
    g_printerr("memctld: %s\n", err->message);
    return err->domain == G_OPTION_ERROR ? 2 : 1;
}

int main(int argc, char **argv)
{
    MemctlOptions o;
    memctl_options_init(&o);
    g_autoptr(GError) err = NULL;
    int status = 0;
    _cleanup_policy_ MemctlPolicy policy;
    memctl_policy_init(&policy);
    if (memctl_options_parse(&o, argc, argv, &err) < 0)
        status = fail(err);
    else if (o.version)
        g_print("memctld %s\n", MEMCTL_VERSION);
    else if (o.check)
        status = check_config(&o);
    /* The policy files first: the command line overrides what they say about the daemon. */
    else if (memctl_config_read(o.config, o.config_given, o.config_dir, &policy, &err) < 0 ||
             memctl_options_settle(&o, &policy, &err) < 0)
        status = fail(err);
    else {
        g_autoptr(MemctlDaemon) d = NULL;
        if (memctl_daemon_new(&o, &policy, &d, &err) < 0)
            status = fail(err);
        else
            memctl_daemon_run(d);
    }
    memctl_options_clear(&o);
    return status;
}
