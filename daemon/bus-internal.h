/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by bus.c (the manager object) and bus-group.c (group objects). */

#include "daemon/bus.h"

struct MemctlBus {
    MemctlManager *m; /* borrowed */
    GDBusConnection *conn;
    MemctlAuthConfig auth;
    guint manager_id;
    GHashTable *objects; /* group name -> GroupObject* */
    gulong closed_id;
};

void memctl_bus_group_init(MemctlBus *b);
void memctl_bus_group_fini(MemctlBus *b);
