/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by bus.c (the manager object) and bus-group.c (group objects). */

#include "daemon/bus/bus.h"

struct MemctlBus {
    MemctlManager *m; /* borrowed */
    GDBusConnection *conn;
    MemctlAuthConfig auth;
    guint manager_id;
    GHashTable *objects; /* group name -> GroupObject* (bus-group.c) */
    guint subtree_id;    /* the group objects' subtree */
    gulong closed_id;
};

void memctl_bus_group_init(MemctlBus *b);
/* Registers the group objects' subtree on b->conn: 0 or -EEXIST (error set). */
int memctl_bus_group_register(MemctlBus *b, GError **error);
/* PropertiesChanged for every group whose announced properties differ (after a registration). */
void memctl_bus_groups_changed(MemctlBus *b);

/* The reserve's methods (bus-reserve.c). */
void memctl_bus_m_register_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);
void memctl_bus_m_claim_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);
void memctl_bus_m_unregister_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);
void memctl_bus_m_acquire_reserve(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);
void memctl_bus_m_release_reserve(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);
void memctl_bus_m_list_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params);
void memctl_bus_group_fini(MemctlBus *b);
