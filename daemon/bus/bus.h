/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "daemon/bus/auth.h"
#include "daemon/group/group.h"
#include "daemon/history.h"
#include "daemon/manager.h"

/*
 * org.memctl.Manager1 on the bus: the manager object, one org.memctl.Group1 object per group, the
 * signals, and the authorization of mutating calls. The interface descriptions are generated at
 * build time from dbus/org.memctl.Manager1.xml. Top-level code: it logs refused calls.
 */

typedef struct MemctlBus MemctlBus;

/*
 * Connects to address (NULL: the system bus, which honours DBUS_SYSTEM_BUS_ADDRESS), exports the
 * objects and takes the name org.memctl.Manager1. Fails when another process owns it.
 */
int memctl_bus_new(MemctlManager *m, const char *address, const MemctlAuthConfig *auth, MemctlBus **ret,
                   GError **error);
void memctl_bus_free(MemctlBus *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlBus, memctl_bus_free)

void memctl_bus_emit_killed(MemctlBus *b, const MemctlKillEntry *k);
void memctl_bus_emit_prekill(MemctlBus *b, const MemctlCoreEvent *e);
void memctl_bus_emit_would_kill(MemctlBus *b, const MemctlKillEntry *k);
void memctl_bus_emit_pressure(MemctlBus *b, const char *group, const char *level);

/* Group objects (bus-group.c). */
void memctl_bus_group_export(MemctlBus *b, const MemctlGroup *grp);
/* Unexports the object and sends GroupRemoved. */
void memctl_bus_group_unexport(MemctlBus *b, const char *name);
/* Sends PropertiesChanged for what differs from what the object last announced. */
void memctl_bus_group_counters_changed(MemctlBus *b, const MemctlGroup *grp);
/* The object path of a group; free with g_free(). */
char *memctl_bus_group_path(const char *name);
