/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What libmemctl's files share (libmemctl.c: the connection, groups, kills, status, signals;
 * libmemctl-reserve.c: critical clients and the reserve). Not installed. */

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "include/memctl/client.h"

struct MemctlClient {
    sd_bus *bus;
    sd_bus_error error;
    sd_bus_slot *killed_slot, *alert_slot, *would_kill_slot;
    MemctlKilledFn killed;
    MemctlAlertFn alert;
    MemctlWouldKillFn would_kill;
    void *userdata;
};

static inline void bus_message_unrefp(sd_bus_message **m)
{
    if (*m)
        sd_bus_message_unref(*m);
}
#define _cleanup_msg_ __attribute__((cleanup(bus_message_unrefp)))

/* Not part of the library's ABI. */
#define MEMCTL_HIDDEN __attribute__((visibility("hidden")))

/* Starts a method call on the manager object (and forgets the last error). */
MEMCTL_HIDDEN int memctl_client_new_call(MemctlClient *c, const char *method, sd_bus_message **ret);
/* Sends m; on failure keeps the error in c and returns the mapped -errno. */
MEMCTL_HIDDEN int memctl_client_call(MemctlClient *c, sd_bus_message *m, sd_bus_message **ret_reply);
/* Grows *array by one zeroed element of `size` bytes; the new element, or NULL (array untouched). */
MEMCTL_HIDDEN void *memctl_array_append(void **array, size_t *n, size_t size);
