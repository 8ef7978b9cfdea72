/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libmemctl: the calls that change things (groups made, limits set, processes moved, groups removed
 * or killed, the policy reloaded). See include/memctl/client.h. */
#include "include/memctl/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "client/libmemctl-internal.h"

static int append_settings(sd_bus_message *m, const MemctlSetting *s, size_t n)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    size_t unified = 0;
    for (size_t i = 0; r >= 0 && i < n; i++) {
        if (strncmp(s[i].key, "memory.", 7) == 0) {
            unified++;
            continue;
        }
        r = sd_bus_message_append(m, "{sv}", s[i].key, "s", s[i].value);
    }
    if (r >= 0 && unified) {
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append(m, "s", "unified");
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'v', "a{ss}");
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && i < n; i++)
            if (strncmp(s[i].key, "memory.", 7) == 0)
                r = sd_bus_message_append(m, "{ss}", s[i].key, s[i].value);
        for (int k = 0; r >= 0 && k < 3; k++)
            r = sd_bus_message_close_container(m);
    }
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    return r;
}

int memctl_client_create_group(MemctlClient *c, const char *name, const MemctlSetting *settings, size_t n,
                               char **ret_object_path)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "CreateGroup", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "s", name);
    if (r >= 0)
        r = append_settings(m, settings, n);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    const char *path = NULL;
    if (r >= 0)
        r = sd_bus_message_read(reply, "o", &path);
    if (r < 0)
        return r;
    if (ret_object_path) {
        char *p = strdup(path);
        if (!p)
            return -ENOMEM;
        *ret_object_path = p;
    }
    return 0;
}

int memctl_client_set_limits(MemctlClient *c, const char *name, const MemctlSetting *settings, size_t n)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "SetLimits", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "s", name);
    if (r >= 0)
        r = append_settings(m, settings, n);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}

int memctl_client_attach(MemctlClient *c, const char *name, const uint32_t *pids, size_t n)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "AttachProcesses", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "s", name);
    if (r >= 0)
        r = sd_bus_message_append_array(m, 'u', pids, n * sizeof(uint32_t));
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}

int memctl_client_remove_group(MemctlClient *c, const char *name, uint64_t flags, MemctlFinal *ret_final)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "RemoveGroup", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "st", name, flags);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    MemctlFinal f = {0};
    if (r >= 0)
        r = sd_bus_message_enter_container(reply, 'a', "{st}");
    while (r >= 0) {
        const char *k;
        uint64_t v;
        r = sd_bus_message_read(reply, "{st}", &k, &v);
        if (r <= 0)
            break;
        uint64_t *slot = strcmp(k, "peak") == 0       ? &f.peak
                         : strcmp(k, "oom") == 0      ? &f.oom
                         : strcmp(k, "oom_kill") == 0 ? &f.oom_kill
                         : strcmp(k, "high") == 0     ? &f.high
                         : strcmp(k, "max") == 0      ? &f.max
                         : strcmp(k, "kills") == 0    ? &f.kills
                                                      : NULL;
        if (slot)
            *slot = v;
    }
    if (r < 0)
        return r;
    if (ret_final)
        *ret_final = f;
    return 0;
}

int memctl_client_kill_group(MemctlClient *c, const char *name, const char *reason, uint64_t flags)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "KillGroup", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "sst", name, reason ? reason : "", flags);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}

void memctl_strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

int memctl_client_reload(MemctlClient *c, char ***ret_changes)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "ReloadPolicy", &m);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    if (r < 0)
        return r;
    char **changes = NULL;
    r = sd_bus_message_read_strv(reply, &changes);
    if (r < 0)
        return r;
    if (ret_changes)
        *ret_changes = changes;
    else
        memctl_strv_free(changes);
    return 0;
}
