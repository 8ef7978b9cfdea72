/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "daemon/core/api.h"
#include "policy/json.h"
#include "basic/str.h"

/* Kill records and kernel OOM records as JSON objects (the kill log, --json, later D-Bus). */
json_object *memctl_record_to_json(const MemctlCoreEvent *e);

/* One human line: "web: killed 1234 (hog) no-progress, 120.0M freed, 3.1 ms after high". */
char *memctl_record_describe(const MemctlCoreEvent *e);

/* The victim's process name as memctld shows it everywhere (log, kill log, ListKills, Killed): the
 * raw name escaped (basic/str.h: a name need not be UTF-8). */
const char *memctl_record_comm(const MemctlCoreEvent *e, char buf[static MEMCTL_STR_ESCAPED_COMM_MAX]);
