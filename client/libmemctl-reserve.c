/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libmemctl: registered critical clients and the reserve (include/memctl/client.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "client/libmemctl-internal.h"

int memctl_client_register_critical(MemctlClient *c, const char *group, uint32_t pid, uint64_t bytes)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "RegisterCritical", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "sut", group ? group : "", pid, bytes);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}

int memctl_client_claim_critical(MemctlClient *c, const char *group, uint64_t bytes)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "ClaimCritical", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "st", group ? group : "", bytes);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}

int memctl_client_unregister_critical(MemctlClient *c, const char *group, uint32_t pid)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "UnregisterCritical", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "su", group ? group : "", pid);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}

void memctl_critical_info_free_array(MemctlCriticalInfo *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        free(a[i].group);
    free(a);
}

int memctl_client_list_critical(MemctlClient *c, MemctlCriticalInfo **ret, size_t *ret_n)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "ListCritical", &m);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    if (r >= 0)
        r = sd_bus_message_enter_container(reply, 'a', "(suttu)");
    MemctlCriticalInfo *a = NULL;
    size_t n = 0;
    while (r >= 0) {
        const char *group;
        MemctlCriticalInfo x = {0};
        r = sd_bus_message_read(reply, "(suttu)", &group, &x.pid, &x.size, &x.leased, &x.lease);
        if (r <= 0)
            break;
        MemctlCriticalInfo *slot = memctl_array_append((void **)&a, &n, sizeof(*a));
        if (!slot) {
            r = -ENOMEM;
            break;
        }
        x.group = strdup(group);
        *slot = x;
        if (!x.group)
            r = -ENOMEM;
    }
    if (r < 0) {
        memctl_critical_info_free_array(a, n);
        return r;
    }
    *ret = a;
    *ret_n = n;
    return (int)n;
}

int memctl_client_acquire_reserve(MemctlClient *c, uint64_t bytes, int *ret_fd, uint64_t *ret_size,
                                  uint32_t *ret_lease)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "AcquireReserve", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "t", bytes);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    int fd = -1;
    uint64_t size = 0;
    uint32_t lease = 0;
    if (r >= 0)
        r = sd_bus_message_read(reply, "htu", &fd, &size, &lease);
    if (r < 0)
        return r;
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* the message owns fd */
    if (own < 0)
        return -errno;
    *ret_fd = own;
    *ret_size = size;
    *ret_lease = lease;
    return 0;
}

int memctl_client_release_reserve(MemctlClient *c, uint32_t lease)
{
    _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
    int r = memctl_client_new_call(c, "ReleaseReserve", &m);
    if (r >= 0)
        r = sd_bus_message_append(m, "u", lease);
    if (r >= 0)
        r = memctl_client_call(c, m, &reply);
    return r < 0 ? r : 0;
}
