/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/bus/settings.h"

#include <errno.h>

#include "daemon/error.h"
#include "policy/name.h"
#include "basic/size.h"

/* The memory.* files a runtime may pass in "unified", and the key each one sets. */
static const struct {
    const char *file;
    MemctlKey key;
} unified_files[] = {
        {"memory.min", MEMCTL_KEY_MIN},           {"memory.low", MEMCTL_KEY_LOW},
        {"memory.high", MEMCTL_KEY_HIGH},         {"memory.max", MEMCTL_KEY_MAX},
        {"memory.swap.max", MEMCTL_KEY_SWAP_MAX}, {"memory.oom.group", MEMCTL_KEY_OOM_GROUP},
};

/* label names the argument: "limits key 'max'", "unified 'memory.max'". */
static int set_error(GError **error, int r, const char *label)
{
    return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT, "%s%s", label,
                            r == -ENOENT   ? ": unknown key"
                            : r == -ERANGE ? ": value out of range"
                            : r == -EINVAL ? ": malformed value"
                                           : "");
}

static int set_text(MemctlLimits *l, const char *label, const char *key, const char *text, GError **error)
{
    if (memctl_limits_has(l, (MemctlKey)memctl_key_from_name(key)))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "%s: '%s' is given twice (directly and in 'unified')", label, key);
    int r = memctl_limits_set(l, key, text);
    return r < 0 ? set_error(error, r, label) : 0;
}

static int set_one(MemctlLimits *l, const char *key, GVariant *v, GError **error)
{
    g_autofree char *label = g_strdup_printf("limits key '%s'", key);
    if (memctl_key_from_name(key) < 0)
        return set_error(error, -ENOENT, label);
    char buf[32];
    const char *text = NULL;
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
        text = g_variant_get_string(v, NULL);
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64) && g_variant_get_uint64(v) == MEMCTL_SIZE_MAX)
        text = "max"; /* the contract: UINT64_MAX means max, as the Group1 properties read */
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64))
        text = (g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, g_variant_get_uint64(v)), buf);
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32))
        text = (g_snprintf(buf, sizeof(buf), "%u", g_variant_get_uint32(v)), buf);
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT64) && g_variant_get_int64(v) >= 0)
        text = (g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, g_variant_get_int64(v)), buf);
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) && g_variant_get_int32(v) >= 0)
        text = (g_snprintf(buf, sizeof(buf), "%d", g_variant_get_int32(v)), buf);
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN))
        text = g_variant_get_boolean(v) ? "true" : "false";
    if (!text)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "limits key '%s': unsupported value type '%s' (give s, t, u or b)", key,
                                g_variant_get_type_string(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) && memctl_key_from_name(key) != MEMCTL_KEY_OOM_GROUP)
        return set_error(error, -EINVAL, label);
    return set_text(l, label, key, text, error);
}

static int set_unified(MemctlLimits *l, GVariant *v, GError **error)
{
    if (!g_variant_is_of_type(v, G_VARIANT_TYPE("a{ss}")))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "limits key 'unified': expected a{ss}, got '%s'",
                                g_variant_get_type_string(v));
    GVariantIter it;
    const char *file, *value;
    g_variant_iter_init(&it, v);
    while (g_variant_iter_next(&it, "{&s&s}", &file, &value)) {
        size_t i = 0;
        while (i < G_N_ELEMENTS(unified_files) && g_strcmp0(unified_files[i].file, file) != 0)
            i++;
        if (i == G_N_ELEMENTS(unified_files))
            return memctl_error_set(
                    error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                    "unified '%s': not a file memctl manages (memory.min, memory.low, memory.high, "
                    "memory.max, memory.swap.max, memory.oom.group)",
                    file);
        g_autofree char *label = g_strdup_printf("unified '%s'", file);
        g_autofree char *stripped = g_strstrip(g_strdup(value));
        if (set_text(l, label, memctl_key_name(unified_files[i].key), stripped, error) < 0)
            return -EINVAL;
    }
    return 0;
}

static int set_slice(GVariant *v, char **slice, GError **error)
{
    if (!g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "limits key 'slice': expected s, got '%s'", g_variant_get_type_string(v));
    const char *s = g_variant_get_string(v, NULL);
    int r = memctl_slice_name_check(s);
    if (r < 0)
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT,
                                "limits key 'slice': '%s' is not a systemd-style name (%s)", s,
                                memctl_slice_name_problem(r));
    g_free(*slice);
    *slice = g_strdup(s);
    return 0;
}

int memctl_settings_from_variant(GVariant *dict, MemctlLimits *ret, char **ret_slice, GError **error)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_autofree char *slice = NULL;
    GVariantIter it;
    const char *key;
    GVariant *raw;
    g_variant_iter_init(&it, dict);
    while (g_variant_iter_next(&it, "{&sv}", &key, &raw)) {
        g_autoptr(GVariant) v = raw;
        int r = g_strcmp0(key, "unified") == 0 ? set_unified(&l, v, error)
                : g_strcmp0(key, "slice") == 0 ? set_slice(v, &slice, error)
                                               : set_one(&l, key, v, error);
        if (r < 0)
            return r;
    }
    *ret = l;
    *ret_slice = g_steal_pointer(&slice);
    return 0;
}
