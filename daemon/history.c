/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/history.h"

#include <string.h>

#include "basic/str.h"

struct MemctlHistory {
    GQueue entries; /* MemctlKillEntry*, oldest at the head */
    guint capacity;
    uint64_t last_seq;
};

static void entry_free(MemctlKillEntry *k)
{
    g_free(k->message);
    g_free(k);
}

MemctlHistory *memctl_history_new(guint capacity)
{
    MemctlHistory *h = g_new0(MemctlHistory, 1);
    g_queue_init(&h->entries);
    h->capacity = MAX(capacity, 1u);
    return h;
}

void memctl_history_free(MemctlHistory *h)
{
    if (!h)
        return;
    g_queue_clear_full(&h->entries, (GDestroyNotify)entry_free);
    g_free(h);
}

const MemctlKillEntry *memctl_history_add(MemctlHistory *h, const MemctlCoreEvent *e, const char *message)
{
    while (h->entries.length >= h->capacity)
        entry_free(g_queue_pop_head(&h->entries));
    MemctlKillEntry *k = g_new0(MemctlKillEntry, 1);
    k->seq = ++h->last_seq;
    k->e = *e;
    k->message = g_strdup(message);
    g_queue_push_tail(&h->entries, k);
    return k;
}

const MemctlKillEntry *memctl_history_settle(MemctlHistory *h, const MemctlCoreEvent *outcome)
{
    for (GList *l = h->entries.tail; l; l = l->prev) {
        MemctlKillEntry *k = l->data;
        if (!k->e.dry_run || k->e.host != outcome->host || strcmp(k->e.group, outcome->group) != 0)
            continue;
        if (strcmp(k->e.outcome, "pending") != 0)
            return NULL; /* its newest is settled: this outcome's record aged out */
        memctl_str_copy(k->e.outcome, sizeof(k->e.outcome), outcome->outcome);
        return k;
    }
    return NULL;
}

GPtrArray *memctl_history_since(MemctlHistory *h, uint64_t since)
{
    GPtrArray *out = g_ptr_array_new();
    for (GList *l = h->entries.head; l; l = l->next) {
        MemctlKillEntry *k = l->data;
        if (k->seq > since)
            g_ptr_array_add(out, k);
    }
    return out;
}

uint64_t memctl_history_last_seq(const MemctlHistory *h)
{
    return h->last_seq;
}
