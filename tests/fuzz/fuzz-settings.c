/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the limits dictionary of CreateGroup and SetLimits (daemon/bus/settings.c), from an
 * a{sv} in D-Bus's serialised form as any caller on the bus can send it (GLib checks the signature;
 * everything inside is the caller's).
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon/bus/settings.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GBytes) bytes = g_bytes_new(data, size);
    g_autoptr(GVariant) v =
            g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE("a{sv}"), bytes, FALSE));
    MemctlLimits l;
    g_autofree char *slice = NULL;
    g_autoptr(GError) err = NULL;
    (void)memctl_settings_from_variant(v, &l, &slice, &err);
    return 0;
}
