/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memctl oci-hook [STAGE]: an OCI runtime hook (crun, runc, podman's hooks.d). The runtime writes
 * the container's state JSON on stdin; the bundle's config.json says the rest.
 *
 *   createRuntime, createContainer, poststart: the container's cgroup (linux.cgroupsPath, else
 *     /proc/<pid>/cgroup), which must be below memctld's managed root, becomes a memctl group
 *     (CreateGroup is idempotent and adopts the directory the runtime made) with
 *     linux.resources.memory translated: limit -> limit (memory.max, memory.high a little below),
 *     reservation -> low, swap (memory + swap) -> swap_max = swap - limit; linux.resources.unified
 *     memory.* files passed through; annotations org.memctl.priority (1-100), org.memctl.oom-group
 *     (true/false), org.memctl.slice, org.memctl.prekill-timeout ("2s": a kill waits for pre-kill
 *     hooks, the group frozen), org.memctl.reclaim ("auto": proactive reclaim) and
 *     org.memctl.reclaim-pressure ("0.1%"), org.memctl.critical=true (ClaimCritical, with
 *     org.memctl.reserve of the reserve, default none: granted only to the groups the policy's
 *     daemon.critical_claims names, since a pod's author writes the annotations).
 *   poststop: the group's registration ends and the group is removed; its final counters (read by
 *     memctld before the removal) are printed on stderr. A group found through the pid is noted
 *     under $MEMCTL_OCI_RUN_DIR (/run/memctl/oci) from create to poststop, when the pid is gone.
 *
 * STAGE defaults to what the state's "status" says (creating, created, running: create; stopped:
 * remove). A problem is printed on stderr and never blocks the container (exit 0), unless the
 * annotation org.memctl.required=true says memctl must manage it (exit 1: the runtime fails it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "client/cli.h"
#include "client/oci-spec.h"
#include "include/memctl/memctl.h"
#include "kernel/cgpath.h"
#include "policy/name.h"

#define OCI_JSON_MAX (4u << 20)
#define CGROUP_MOUNT "/sys/fs/cgroup"

static char *read_all(FILE *f, size_t *ret_len)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            if (cap >= OCI_JSON_MAX) {
                free(buf);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    if (buf) {
        buf[len] = '\0';
        *ret_len = len;
    }
    return buf;
}

/* The cgroup v2 path of pid (relative to the mount, "/..."), or NULL. */
static char *pid_cgroup(int64_t pid)
{
    char file[64];
    snprintf(file, sizeof(file), "/proc/%" PRId64 "/cgroup", pid);
    FILE *f = fopen(file, "re");
    if (!f)
        return NULL;
    size_t len;
    _cleanup_free_ char *text = read_all(f, &len);
    fclose(f);
    const char *p;
    if (!text || memctl_cgpath_membership(text, &p, &len) < 0)
        return NULL;
    return strndup(p, len);
}

/*
 * Containers whose cgroup came from /proc/<pid>/cgroup: at poststop the process is gone, so the
 * hook keeps the group's name in $MEMCTL_OCI_RUN_DIR (default /run/memctl/oci, a tmpfs: nothing
 * outlives a reboot, like the cgroups) under the container's id, from create to poststop.
 */
static const char *run_dir(void)
{
    const char *d = getenv("MEMCTL_OCI_RUN_DIR");
    return d && d[0] == '/' ? d : "/run/memctl/oci";
}

/* An id usable as a file name: [A-Za-z0-9_.+-], 1 to 255 bytes, not starting with '.'. */
static bool id_is_file_name(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 255 || id[0] == '.')
        return false;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

static int mkdir_parents(const char *dir)
{
    _cleanup_free_ char *p = strdup(dir);
    if (!p)
        return -ENOMEM;
    for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return -errno;
        if (!s)
            return 0;
        *s = '/';
    }
}

static int record_path(const MemctlOciSpec *h, char **ret)
{
    if (!id_is_file_name(h->id))
        return -EINVAL;
    return asprintf(ret, "%s/%s", run_dir(), h->id) < 0 ? -ENOMEM : 0;
}

static int remember(const MemctlOciSpec *h, const char *name)
{
    _cleanup_free_ char *path = NULL, *tmp = NULL;
    int r = record_path(h, &path);
    if (r < 0 || (r = mkdir_parents(run_dir())) < 0)
        return r;
    if (asprintf(&tmp, "%s.tmp", path) < 0)
        return -ENOMEM;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    bool ok = fputs(name, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        r = -errno;
        (void)unlink(tmp);
        return r ? r : -EIO;
    }
    return 0;
}

/* The group remembered for the container, or NULL. */
static char *recall(const MemctlOciSpec *h)
{
    _cleanup_free_ char *path = NULL;
    if (record_path(h, &path) < 0)
        return NULL;
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    size_t len;
    char *name = read_all(f, &len);
    fclose(f);
    if (name && memctl_group_name_check(name) < 0) {
        free(name);
        return NULL;
    }
    return name;
}

static void forget(const MemctlOciSpec *h)
{
    _cleanup_free_ char *path = NULL;
    if (record_path(h, &path) == 0)
        (void)unlink(path);
}

/* The state on stdin and the bundle's config.json. */
static int hook_load(MemctlOciSpec *h, FILE *in)
{
    size_t len = 0;
    _cleanup_free_ char *text = read_all(in, &len);
    if (!text)
        return memctl_oci_spec_problem(h, "the state on stdin: unreadable or larger than 4 MiB");
    int r = memctl_oci_spec_state(h, text, len);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/config.json", h->bundle) < 0)
        return -ENOMEM;
    FILE *f = fopen(path, "re");
    if (!f)
        return memctl_oci_spec_problem(h, "container %s: cannot read %s: %s", h->id, path, strerror(errno));
    _cleanup_free_ char *ctext = read_all(f, &len);
    fclose(f);
    if (!ctext)
        return memctl_oci_spec_problem(h, "container %s: %s: unreadable or larger than 4 MiB", h->id, path);
    return memctl_oci_spec_config(h, ctext, len, path);
}

/* The group: the container's cgroup relative to memctld's root. */
static int hook_group(MemctlOciSpec *h, MemctlClient *c, bool creating, char **ret_name)
{
    _cleanup_free_ char *cg = NULL;
    json_object *p = memctl_oci_spec_config_at(h, (const char *[]){"linux", "cgroupsPath", NULL});
    const char *cgpath = p && json_object_is_type(p, json_type_string) ? json_object_get_string(p) : NULL;
    if (cgpath && cgpath[0] == '/') {
        cg = strdup(cgpath);
    } else if (creating && h->pid > 0) {
        cg = pid_cgroup(h->pid);
        h->group_from_pid = cg != NULL;
    } else if (!creating && (*ret_name = recall(h))) {
        return 0;
    }
    if (!cg)
        return memctl_oci_spec_problem(
                h,
                "container %s: no cgroup path (linux.cgroupsPath must be an absolute path for "
                "memctl: \"slice:prefix:name\" systemd paths are not supported)",
                h->id);
    _cleanup_status_ MemctlStatus st = {0};
    int r = memctl_client_get_status(c, &st);
    if (r < 0)
        return memctl_oci_spec_problem(h, "container %s: memctld: %s", h->id,
                                       *memctl_client_error_message(c) ? memctl_client_error_message(c)
                                                                       : strerror(-r));
    size_t ml = strlen(CGROUP_MOUNT);
    const char *root = st.root && strncmp(st.root, CGROUP_MOUNT, ml) == 0 ? st.root + ml : NULL;
    size_t rl = root ? strlen(root) : 0;
    if (!root || strncmp(cg, root, rl) != 0 || cg[rl] != '/' || !cg[rl + 1])
        return memctl_oci_spec_problem(
                h,
                "container %s: its cgroup %s is outside memctld's managed root %s: give "
                "linux.cgroupsPath below it",
                h->id, cg, st.root ? st.root : "(unknown)");
    const char *name = cg + rl + 1;
    r = memctl_group_name_check(name);
    if (r < 0)
        return memctl_oci_spec_problem(
                h, "container %s: linux.cgroupsPath: '%s' is not a memctl group name (%s)", h->id, name,
                memctl_group_name_problem(r));
    *ret_name = strdup(name);
    return *ret_name ? 0 : -ENOMEM;
}

static int hook_create(MemctlOciSpec *h, MemctlClient *c)
{
    MemctlOciSettings s = {.n = 0};
    if (memctl_oci_spec_settings(h, &s) < 0)
        return -EINVAL;
    _cleanup_free_ char *name = NULL;
    if (hook_group(h, c, true, &name) < 0)
        return -EINVAL;
    int r = memctl_client_create_group(c, name, s.s, s.n, NULL);
    if (r < 0)
        return memctl_oci_spec_problem(h, "container %s: group %s: %s", h->id, name,
                                       memctl_client_error_message(c));
    /* A pod's author writes its annotations: memctld grants the claim only where its policy's
     * daemon.critical_claims names the group or its slice. */
    if (s.critical) {
        r = memctl_client_claim_critical(c, name, s.reserve);
        if (r < 0 && r != -EBUSY)
            return memctl_oci_spec_problem(h, "container %s: group %s: claiming critical status: %s", h->id,
                                           name, memctl_client_error_message(c));
    }
    fprintf(stderr, "memctl oci-hook: container %s is memctl group %s (%zu setting(s)%s)\n", h->id, name, s.n,
            s.critical ? ", critical" : "");
    if (h->group_from_pid && (r = remember(h, name)) < 0)
        fprintf(stderr,
                "memctl oci-hook: container %s: cannot note its group in %s (%s): poststop will not "
                "find it; give linux.cgroupsPath\n",
                h->id, run_dir(), strerror(-r));
    return 0;
}

static int hook_remove(MemctlOciSpec *h, MemctlClient *c)
{
    _cleanup_free_ char *name = NULL;
    if (hook_group(h, c, false, &name) < 0)
        return -EINVAL;
    /* A critical group cannot be removed while registered; no registration is not a problem. */
    (void)memctl_client_unregister_critical(c, name, 0);
    MemctlFinal f;
    int r = memctl_client_remove_group(c, name, MEMCTL_CLIENT_REMOVE_KILL, &f);
    if (r == -ENOENT || r == 0)
        forget(h);
    if (r == -ENOENT) {
        fprintf(stderr, "memctl oci-hook: container %s: group %s was already gone\n", h->id, name);
        return 0;
    }
    if (r < 0)
        return memctl_oci_spec_problem(h, "container %s: removing group %s: %s", h->id, name,
                                       memctl_client_error_message(c));
    char peak[48] = ""; /* absent when the runtime deleted the cgroup first */
    if (f.peak)
        snprintf(peak, sizeof(peak), "peak %" PRIu64 ", ", f.peak);
    fprintf(stderr,
            "memctl oci-hook: container %s: group %s removed: %shigh %" PRIu64 ", max %" PRIu64
            ", oom %" PRIu64 ", kernel OOM kills %" PRIu64 ", memctld kills %" PRIu64 "\n",
            h->id, name, peak, f.high, f.max, f.oom, f.oom_kill, f.kills);
    return 0;
}

int cli_oci_hook(const char *address, int argc, char **argv)
{
    static const char *const create_stages[] = {"createRuntime", "createContainer", "poststart", "prestart"};
    MemctlOciSpec h = {0};
    int r = hook_load(&h, stdin);
    bool create = false, known = false;
    if (r >= 0 && argc > 0) {
        for (size_t i = 0; i < sizeof(create_stages) / sizeof(create_stages[0]); i++)
            if (strcmp(argv[0], create_stages[i]) == 0)
                create = known = true;
        if (strcmp(argv[0], "poststop") == 0)
            known = true;
        if (!known)
            r = memctl_oci_spec_problem(
                    &h, "stage '%s': expected createRuntime, createContainer, poststart or poststop",
                    argv[0]);
    } else if (r >= 0) {
        create = strcmp(h.status, "stopped") != 0;
    }
    if (r >= 0) {
        MemctlClient *c = NULL;
        r = memctl_client_open(address, &c);
        if (r < 0)
            r = memctl_oci_spec_problem(&h, "container %s: cannot connect to memctld: %s", h.id,
                                        strerror(-r));
        else
            r = create ? hook_create(&h, c) : hook_remove(&h, c);
        memctl_client_free(c);
    }
    int status = 0;
    if (r < 0) {
        fprintf(stderr, "memctl oci-hook: %s%s\n", h.problem ? h.problem : strerror(-r),
                h.required ? "" : " (org.memctl.required is not true: the container goes on without memctl)");
        status = h.required ? CLI_EXIT_FAILURE : 0;
    }
    memctl_oci_spec_clear(&h);
    return status;
}
