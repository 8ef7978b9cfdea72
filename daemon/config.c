/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/config.h"

#include <errno.h>
#include <string.h>

#include "basic/size.h"
#include "daemon/disk-file.h"
#include "daemon/error.h"
#include "daemon/reclaimer.h"
#include "daemon/state-file.h"

struct MemctlConfig {
    MemctlPolicy policy; /* running */
    char *main_file, *dropin_dir, *state_file;
    bool main_required;
    MemctlGroups *groups;          /* borrowed */
    MemctlCore *core;              /* borrowed */
    MemctlCritical *critical;      /* borrowed, may be NULL */
    MemctlReclaimer *reclaimer;    /* borrowed, may be NULL */
    MemctlKillTotals *kill_totals; /* borrowed, may be NULL */
    bool dry_run_forced;           /* --dry-run: the policy cannot switch it off */
    guint save_source;
};

static int add_file(MemctlPolicy *p, const char *path, bool required, GError **error)
{
    g_autofree char *text = NULL;
    size_t len = 0;
    g_autoptr(GError) e = NULL;
    int rr = memctl_disk_read(path, MEMCTL_DISK_FILE_MAX, &text, &len, &e);
    if (rr == -ENOENT && !required)
        return 0;
    if (rr == -ENOENT)
        return memctl_error_set(error, rr, MEMCTL_ERROR_INVALID_POLICY, "%s: cannot read: %s", path,
                                g_strerror(ENOENT));
    if (rr < 0)
        return memctl_error_set(error, rr, MEMCTL_ERROR_INVALID_POLICY, "%s", e->message);
    if (memchr(text, '\0', len))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_POLICY, "%s: contains a NUL byte", path);
    MemctlPolicyError pe;
    int r = memctl_policy_add(p, path, text, &pe);
    if (r == -ENOMEM)
        return memctl_error_set(error, r, MEMCTL_ERROR_FAILED, "%s: out of memory", path);
    return r < 0 ? memctl_error_set_policy(error, &pe) : 0;
}

static int finish(MemctlPolicy *p, MemctlPolicy *ret, GError **error)
{
    MemctlPolicyError pe;
    if (memctl_policy_check(p, &pe) < 0)
        return memctl_error_set_policy(error, &pe);
    *ret = *p;
    memctl_policy_init(p); /* ownership moved to *ret */
    return 0;
}

static gint path_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int memctl_config_read(const char *main_file, bool main_required, const char *dropin_dir, MemctlPolicy *ret,
                       GError **error)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    if (main_file && add_file(&p, main_file, main_required, error) < 0)
        return -EINVAL;
    if (dropin_dir) {
        g_autoptr(GDir) d = g_dir_open(dropin_dir, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *e;
        while (d && (e = g_dir_read_name(d)))
            if (g_str_has_suffix(e, ".json") && e[0] != '.')
                g_ptr_array_add(names, g_build_filename(dropin_dir, e, NULL));
        g_ptr_array_sort(names, path_cmp);
        for (guint i = 0; i < names->len; i++)
            if (add_file(&p, names->pdata[i], true, error) < 0)
                return -EINVAL;
    }
    return finish(&p, ret, error);
}

int memctl_config_read_files(char **files, MemctlPolicy *ret, GError **error)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    for (char **f = files; f && *f; f++)
        if (add_file(&p, *f, true, error) < 0)
            return -EINVAL;
    return finish(&p, ret, error);
}

MemctlConfig *memctl_config_new(const char *main_file, bool main_required, const char *dropin_dir,
                                const char *state_file, MemctlGroups *groups, MemctlCore *core)
{
    MemctlConfig *c = g_new0(MemctlConfig, 1);
    memctl_policy_init(&c->policy);
    c->main_file = g_strdup(main_file);
    c->main_required = main_required;
    c->dropin_dir = g_strdup(dropin_dir);
    c->state_file = state_file && *state_file ? g_strdup(state_file) : NULL;
    c->groups = groups;
    c->core = core;
    return c;
}

void memctl_config_free(MemctlConfig *c)
{
    if (!c)
        return;
    if (c->save_source)
        g_source_remove(c->save_source);
    memctl_groups_set_listener(c->groups, NULL, NULL);
    memctl_policy_clear(&c->policy);
    g_free(c->main_file);
    g_free(c->dropin_dir);
    g_free(c->state_file);
    g_free(c);
}

void memctl_config_set_critical(MemctlConfig *c, MemctlCritical *critical)
{
    c->critical = critical;
}

void memctl_config_set_reclaimer(MemctlConfig *c, MemctlReclaimer *r)
{
    c->reclaimer = r;
}

void memctl_config_force_dry_run(MemctlConfig *c, bool on)
{
    c->dry_run_forced = on;
}

void memctl_config_set_kill_totals(MemctlConfig *c, MemctlKillTotals *totals)
{
    c->kill_totals = totals;
}

const MemctlPolicy *memctl_config_policy(MemctlConfig *c)
{
    return &c->policy;
}

/* ---- limits as keys ------------------------------------------------------------------------ */

/*
 * The SetLimits update that takes a group declared with `from` (NULL: nothing declared) to `to`:
 * the keys whose value changes, and for keys `to` no longer gives, the kernel's default.
 */
static void limits_diff(const MemctlLimits *from, const MemctlLimits *to, uint32_t dflt_priority,
                        MemctlLimits *ret)
{
    memctl_limits_init(ret);
    bool to_limit = memctl_limits_has(to, MEMCTL_KEY_LIMIT);
    bool recompute_high = false;
    for (int k = 0; k < _MEMCTL_KEY_COUNT; k++) {
        bool in_to = memctl_limits_has(to, (MemctlKey)k);
        bool in_from = from && memctl_limits_has(from, (MemctlKey)k);
        if (in_to) {
            if (!in_from || memctl_limits_get(from, (MemctlKey)k) != memctl_limits_get(to, (MemctlKey)k))
                memctl_limits_put(ret, (MemctlKey)k, memctl_limits_get(to, (MemctlKey)k));
            continue;
        }
        if (!in_from)
            continue;
        switch ((MemctlKey)k) {
        case MEMCTL_KEY_MIN:
        case MEMCTL_KEY_LOW:
            memctl_limits_put(ret, (MemctlKey)k, 0);
            break;
        case MEMCTL_KEY_HIGH:
            if (to_limit)
                recompute_high = true; /* high goes back to limit - headroom */
            else
                memctl_limits_put(ret, MEMCTL_KEY_HIGH, MEMCTL_SIZE_MAX);
            break;
        case MEMCTL_KEY_MAX:
            if (!to_limit) /* (a limit sets max itself) */
                memctl_limits_put(ret, MEMCTL_KEY_MAX, MEMCTL_SIZE_MAX);
            break;
        case MEMCTL_KEY_SWAP_MAX:
            memctl_limits_put(ret, MEMCTL_KEY_SWAP_MAX, MEMCTL_SIZE_MAX);
            break;
        case MEMCTL_KEY_LIMIT:
            if (!memctl_limits_has(to, MEMCTL_KEY_MAX))
                memctl_limits_put(ret, MEMCTL_KEY_MAX,
                                  MEMCTL_SIZE_MAX); /* clears the limit and its headroom */
            if (!memctl_limits_has(to, MEMCTL_KEY_HIGH))
                memctl_limits_put(ret, MEMCTL_KEY_HIGH, MEMCTL_SIZE_MAX);
            break;
        case MEMCTL_KEY_HEADROOM:
            if (to_limit) {
                memctl_limits_put(ret, MEMCTL_KEY_HEADROOM, memctl_limits_default_headroom(to->limit));
                recompute_high = true;
            }
            break;
        case MEMCTL_KEY_OOM_GROUP:
            memctl_limits_put(ret, MEMCTL_KEY_OOM_GROUP, 0);
            break;
        case MEMCTL_KEY_PRIORITY:
            memctl_limits_put(ret, MEMCTL_KEY_PRIORITY, dflt_priority);
            break;
        case MEMCTL_KEY_PREKILL_TIMEOUT:
        case MEMCTL_KEY_RECLAIM:
        case MEMCTL_KEY_RECLAIM_FLOOR:
            memctl_limits_put(ret, (MemctlKey)k, 0);
            break;
        case MEMCTL_KEY_RECLAIM_PRESSURE:
            memctl_limits_put(ret, MEMCTL_KEY_RECLAIM_PRESSURE, MEMCTL_RECLAIM_PRESSURE_DEFAULT_PPM);
            break;
        default:
            break;
        }
    }
    if (recompute_high && !memctl_limits_has(to, MEMCTL_KEY_HIGH))
        memctl_limits_put(ret, MEMCTL_KEY_LIMIT,
                          to->limit); /* SetLimits: a limit without high re-derives high */
}

static char *keys_text(const MemctlLimits *l)
{
    GString *s = g_string_new(NULL);
    for (int k = 0; k < _MEMCTL_KEY_COUNT; k++)
        if (memctl_limits_has(l, (MemctlKey)k))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", memctl_key_name((MemctlKey)k));
    return g_string_free(s, FALSE);
}

/* ---- publishing to the core ------------------------------------------------------------------ */

static void match_list(MemctlConfig *c, const char *group, const MemctlMatchList *l, MemctlCoreMatch *ret)
{
    for (uint32_t i = 0; i < l->n_comm && ret->n_comm < MEMCTL_CORE_LIST_MAX; i++)
        memcpy(ret->comm[ret->n_comm++], l->comm[i], MEMCTL_COMM_MAX);
    for (uint32_t i = 0; i < l->n_cgroup && ret->n_slot < MEMCTL_CORE_LIST_MAX; i++) {
        g_autofree char *name = g_strconcat(group, "/", l->cgroup[i], NULL);
        MemctlGroup *sub = memctl_groups_get(c->groups, name);
        if (sub) /* a group that does not exist (yet) matches nothing; published again when it does */
            ret->slot[ret->n_slot++] = sub->slot;
    }
}

static void publish(MemctlConfig *c, MemctlGroup *grp)
{
    const MemctlPolicy *pol = &c->policy;
    const MemctlGroupPolicy *d = memctl_policy_group(pol, grp->name);
    MemctlCorePolicy p;
    memset(&p, 0, sizeof(p));
    p.priority = memctl_limits_has(&grp->limits, MEMCTL_KEY_PRIORITY) ? grp->limits.priority : pol->priority;
    p.min = memctl_file_values_get(&grp->applied, MEMCTL_FILE_MIN, 0);
    p.low = memctl_file_values_get(&grp->applied, MEMCTL_FILE_LOW, 0);
    p.stall_budget_pct =
            d && d->budget.stall_budget_pct ? d->budget.stall_budget_pct : pol->budget.stall_budget_pct;
    p.stall_windows = d && d->budget.stall_windows ? d->budget.stall_windows : pol->budget.stall_windows;
    if (d) {
        match_list(c, grp->name, &d->prefer, &p.prefer);
        match_list(c, grp->name, &d->avoid, &p.avoid);
    }
    (void)memctl_core_set_policy(c->core, grp->slot, &p);
}

void memctl_config_publish_all(MemctlConfig *c)
{
    g_autoptr(GList) all = memctl_groups_list(c->groups);
    for (GList *l = all; l; l = l->next)
        publish(c, l->data);
}

/* ---- apply ------------------------------------------------------------------------------------ */

typedef struct {
    char *name;
    bool created;
    MemctlLimits prev; /* the group's settings before (when not created) */
    bool slice_set;    /* the slice changed: prev_slice was it before */
    char *prev_slice;
} Undo;

static void undo_clear(gpointer p)
{
    g_free(((Undo *)p)->name);
    g_free(((Undo *)p)->prev_slice);
}

static void rollback(MemctlConfig *c, GArray *undo)
{
    for (guint i = undo->len; i-- > 0;) {
        Undo *u = &g_array_index(undo, Undo, i);
        if (u->created) {
            (void)memctl_groups_remove(c->groups, u->name, NULL, NULL);
            continue;
        }
        MemctlGroup *grp = memctl_groups_get(c->groups, u->name);
        if (!grp)
            continue;
        if (u->slice_set) {
            (void)memctl_groups_set_slice(c->groups, u->name, u->prev_slice);
            continue;
        }
        MemctlLimits back;
        limits_diff(&grp->limits, &u->prev, MEMCTL_PRIORITY_DEFAULT, &back);
        (void)memctl_groups_set_limits(c->groups, u->name, &back, NULL);
    }
}

int memctl_config_apply(MemctlConfig *c, MemctlPolicy *next, GPtrArray *ret_changes, GError **error)
{
    g_autoptr(GArray) undo = g_array_new(FALSE, TRUE, sizeof(Undo));
    g_array_set_clear_func(undo, undo_clear);
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < next->n_groups; i++) { /* sorted: parents before their children */
        const MemctlGroupPolicy *g = &next->groups[i];
        const MemctlGroupPolicy *old = memctl_policy_group(&c->policy, g->name);
        MemctlGroup *grp = memctl_groups_get(c->groups, g->name);
        g_autoptr(GError) e = NULL;
        if (!grp) {
            if (!memctl_groups_create(c->groups, g->name, &g->limits, &e))
                goto fail;
            Undo u = {.name = g_strdup(g->name), .created = true};
            g_array_append_val(undo, u);
            g_ptr_array_add(changes, g_strdup_printf("created %s", g->name));
            (void)memctl_groups_set_slice(c->groups, g->name, g->slice);
            continue;
        }
        /* The slice a file declares (or declared and no longer does) replaces the group's. */
        if (old ? strcmp(old->slice, g->slice) != 0 : g->slice[0] != '\0') {
            Undo u = {.name = g_strdup(g->name), .slice_set = true, .prev_slice = g_strdup(grp->slice)};
            if (memctl_groups_set_slice(c->groups, g->name, g->slice) > 0) {
                g_array_append_val(undo, u);
                g_ptr_array_add(changes, g_strdup_printf("%s: slice", g->name));
            } else {
                undo_clear(&u);
            }
        }
        MemctlLimits update;
        limits_diff(old ? &old->limits : NULL, &g->limits, next->priority, &update);
        if (update.set) {
            Undo u = {.name = g_strdup(g->name), .prev = grp->limits};
            if (memctl_groups_set_limits(c->groups, g->name, &update, &e) < 0) {
                g_free(u.name);
                goto fail;
            }
            g_array_append_val(undo, u);
            g_autofree char *keys = keys_text(&update);
            g_ptr_array_add(changes, g_strdup_printf("%s: %s", g->name, keys));
        }
        if (old && !memctl_group_policy_same_extras(old, g))
            g_ptr_array_add(changes, g_strdup_printf("%s: prefer/avoid or budgets", g->name));
        continue;
    fail:
        rollback(c, undo);
        memctl_config_publish_all(c);
        return memctl_error_set(
                error, -EINVAL, MEMCTL_ERROR_INVALID_POLICY, "%s: groups.%s: %s (nothing was changed)",
                g->origin_any < next->n_files ? next->files[g->origin_any] : "?", g->name, e->message);
    }
    for (size_t i = 0; i < c->policy.n_groups; i++)
        if (!memctl_policy_group(next, c->policy.groups[i].name))
            g_ptr_array_add(changes, g_strdup_printf("%s: no longer declared (left as it is)",
                                                     c->policy.groups[i].name));
    static const struct {
        uint32_t bit;
        const char *name;
    } restart_only[] = {
            {MEMCTL_DAEMON_ROOT, "root"},
            {MEMCTL_DAEMON_RESERVE, "reserve"},
            {MEMCTL_DAEMON_METRICS, "metrics_address"},
            {MEMCTL_DAEMON_STATE_FILE, "state_file"},
            {MEMCTL_DAEMON_KILL_LOG, "kill_log"},
            {MEMCTL_DAEMON_WINDOW, "window_ms"},
            {MEMCTL_DAEMON_STUCK, "stuck_windows"},
    };
    if (c->policy.n_files > 0) /* a reload: say what waits for a restart */
        for (size_t i = 0; i < G_N_ELEMENTS(restart_only); i++)
            if ((next->set ^ c->policy.set) & restart_only[i].bit)
                g_ptr_array_add(changes, g_strdup_printf("daemon.%s: takes effect at the next start",
                                                         restart_only[i].name));
    if (c->policy.n_files > 0 && !memctl_host_config_equal(&c->policy.host, &next->host))
        g_ptr_array_add(changes, g_strdup("host: takes effect at the next start"));

    bool dry_run = c->dry_run_forced || next->dry_run;
    if (dry_run != memctl_core_dry_run(c->core)) {
        memctl_core_set_dry_run(c->core, dry_run);
        g_ptr_array_add(changes, g_strdup_printf("daemon.dry_run: %s", dry_run ? "on" : "off"));
    }

    uint32_t interval =
            next->reclaim_interval_ms ? next->reclaim_interval_ms : MEMCTL_RECLAIM_INTERVAL_DEFAULT_MS;
    uint32_t was = c->policy.reclaim_interval_ms ? c->policy.reclaim_interval_ms
                                                 : MEMCTL_RECLAIM_INTERVAL_DEFAULT_MS;
    if (c->policy.n_files > 0 && interval != was)
        g_ptr_array_add(changes, g_strdup_printf("daemon.reclaim_interval_ms: %u", interval));
    if (c->reclaimer)
        memctl_reclaimer_set_interval(c->reclaimer, interval);

    memctl_policy_clear(&c->policy);
    c->policy = *next;
    memctl_policy_init(next);
    memctl_config_publish_all(c);
    if (ret_changes)
        for (guint i = 0; i < changes->len; i++)
            g_ptr_array_add(ret_changes, g_strdup(changes->pdata[i]));
    return 0;
}

int memctl_config_reload(MemctlConfig *c, GPtrArray *ret_changes, GError **error)
{
    _cleanup_policy_ MemctlPolicy next;
    memctl_policy_init(&next);
    if (memctl_config_read(c->main_file, c->main_required, c->dropin_dir, &next, error) < 0)
        return -EINVAL;
    return memctl_config_apply(c, &next, ret_changes, error);
}

int memctl_config_save_state(MemctlConfig *c, GError **error)
{
    return c->state_file ? memctl_state_file_save(c->state_file, c->groups, c->critical, &c->policy,
                                                  c->kill_totals, error)
                         : 0;
}

static gboolean on_save(gpointer data)
{
    MemctlConfig *c = data;
    c->save_source = 0;
    g_autoptr(GError) err = NULL;
    if (memctl_config_save_state(c, &err) < 0)
        g_warning("cannot write the state file %s: %s", c->state_file, err->message);
    return G_SOURCE_REMOVE;
}

/* The state file written once the main loop is idle (once for any number of changes until then). */
static void schedule_save(MemctlConfig *c)
{
    if (c->state_file && !c->save_source)
        c->save_source = g_idle_add(on_save, c);
}

static void on_groups_changed(void *data)
{
    MemctlConfig *c = data;
    memctl_config_publish_all(c);
    if (c->reclaimer)
        memctl_reclaimer_update(c->reclaimer);
    schedule_save(c);
}

void memctl_config_changed(MemctlConfig *c)
{
    on_groups_changed(c);
}

void memctl_config_counted(MemctlConfig *c)
{
    schedule_save(c);
}

void memctl_config_watch_groups(MemctlConfig *c)
{
    memctl_groups_set_listener(c->groups, on_groups_changed, c);
}

int memctl_config_restore_state(MemctlConfig *c, GError **error)
{
    return c->state_file ? memctl_state_file_restore(c->state_file, c->groups, c->critical, &c->policy,
                                                     c->kill_totals, error)
                         : 0;
}
