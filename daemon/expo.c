/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/expo.h"

#include <math.h>
#include <string.h>

void memctl_expo_init(MemctlExpo *x, MemctlExpoFormat format, GString *out)
{
    memset(x, 0, sizeof(*x));
    x->out = out;
    x->format = format;
}

static bool expo_openmetrics(const MemctlExpo *x)
{
    return x->format == MEMCTL_EXPO_OPENMETRICS;
}

/* HELP text: \ and newline escaped (and " in OpenMetrics). */
static void expo_append_help(MemctlExpo *x, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            g_string_append(x->out, "\\\\");
        else if (*s == '\n')
            g_string_append(x->out, "\\n");
        else if (*s == '"' && expo_openmetrics(x))
            g_string_append(x->out, "\\\"");
        else
            g_string_append_c(x->out, *s);
    }
}

static const char *expo_type_name(const MemctlExpo *x, MemctlExpoType t)
{
    switch (t) {
    case MEMCTL_EXPO_COUNTER:
        return "counter";
    case MEMCTL_EXPO_HISTOGRAM:
        return "histogram";
    case MEMCTL_EXPO_INFO:
        return expo_openmetrics(x) ? "info" : "gauge";
    default:
        return "gauge";
    }
}

/* The suffix a sample name carries for the family's type. */
static const char *expo_sample_suffix(const MemctlExpo *x)
{
    switch (x->type) {
    case MEMCTL_EXPO_COUNTER:
        return "_total";
    case MEMCTL_EXPO_INFO:
        return "_info";
    default:
        return "";
    }
}

void memctl_expo_family(MemctlExpo *x, const char *name, MemctlExpoType type, const char *help)
{
    g_strlcpy(x->family, name, sizeof(x->family));
    x->type = type;
    /* 0.0.4 names the family after its samples; OpenMetrics after the base name. */
    const char *fam_suffix = expo_openmetrics(x) ? "" : expo_sample_suffix(x);
    g_string_append_printf(x->out, "# HELP %s%s ", name, fam_suffix);
    expo_append_help(x, help);
    g_string_append_printf(x->out, "\n# TYPE %s%s %s\n", name, fam_suffix, expo_type_name(x, type));
    if (expo_openmetrics(x)) {
        const char *unit = g_str_has_suffix(name, "_bytes")     ? "bytes"
                           : g_str_has_suffix(name, "_seconds") ? "seconds"
                                                                : NULL;
        if (unit)
            g_string_append_printf(x->out, "# UNIT %s %s\n", name, unit);
    }
}

static void expo_append_labels(MemctlExpo *x, const char *const *labels, const char *extra_key,
                               const char *extra_value)
{
    bool any = (labels && labels[0]) || extra_key;
    if (!any)
        return;
    g_string_append_c(x->out, '{');
    bool first = true;
    for (const char *const *l = labels; l && l[0] && l[1]; l += 2) {
        g_string_append_printf(x->out, "%s%s=\"", first ? "" : ",", l[0]);
        for (const char *s = l[1]; *s; s++) {
            if (*s == '\\')
                g_string_append(x->out, "\\\\");
            else if (*s == '"')
                g_string_append(x->out, "\\\"");
            else if (*s == '\n')
                g_string_append(x->out, "\\n");
            else
                g_string_append_c(x->out, *s);
        }
        g_string_append_c(x->out, '"');
        first = false;
    }
    if (extra_key)
        g_string_append_printf(x->out, "%s%s=\"%s\"", first ? "" : ",", extra_key, extra_value);
    g_string_append_c(x->out, '}');
}

/* The shortest of %.15g and %.17g that reads back as v: "0.0025", not "0.0025000000000000001". */
static const char *expo_format_double(char *buf, size_t size, double v)
{
    g_ascii_formatd(buf, (gint)size, "%.15g", v);
    if (g_ascii_strtod(buf, NULL) != v)
        g_ascii_formatd(buf, (gint)size, "%.17g", v);
    return buf;
}

static void expo_append_double(GString *out, double v)
{
    if (isinf(v))
        g_string_append(out, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        g_string_append(out, "NaN");
    else {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(out, expo_format_double(buf, sizeof(buf), v));
    }
}

static void expo_sample_start(MemctlExpo *x, const char *suffix, const char *const *labels,
                              const char *extra_key, const char *extra_value)
{
    g_string_append(x->out, x->family);
    g_string_append(x->out, suffix);
    expo_append_labels(x, labels, extra_key, extra_value);
    g_string_append_c(x->out, ' ');
}

void memctl_expo_u64(MemctlExpo *x, const char *const *labels, uint64_t value)
{
    expo_sample_start(x, expo_sample_suffix(x), labels, NULL, NULL);
    if (value == UINT64_MAX)
        g_string_append(x->out, "+Inf\n");
    else
        g_string_append_printf(x->out, "%" G_GUINT64_FORMAT "\n", value);
}

void memctl_expo_double(MemctlExpo *x, const char *const *labels, double value)
{
    expo_sample_start(x, expo_sample_suffix(x), labels, NULL, NULL);
    expo_append_double(x->out, value);
    g_string_append_c(x->out, '\n');
}

void memctl_expo_histogram(MemctlExpo *x, const char *const *labels, const double *bounds,
                           const uint64_t *counts, size_t n, double sum)
{
    uint64_t cumulative = 0;
    char le[G_ASCII_DTOSTR_BUF_SIZE];
    for (size_t i = 0; i <= n; i++) {
        cumulative += counts[i];
        if (i < n)
            expo_format_double(le, sizeof(le), bounds[i]);
        /* OpenMetrics wants canonical floats: "1.0", not "1" */
        if (i < n && expo_openmetrics(x) && !strpbrk(le, ".eE"))
            g_strlcat(le, ".0", sizeof(le));
        expo_sample_start(x, "_bucket", labels, "le", i < n ? le : "+Inf");
        g_string_append_printf(x->out, "%" G_GUINT64_FORMAT "\n", cumulative);
    }
    expo_sample_start(x, "_count", labels, NULL, NULL);
    g_string_append_printf(x->out, "%" G_GUINT64_FORMAT "\n", cumulative);
    expo_sample_start(x, "_sum", labels, NULL, NULL);
    expo_append_double(x->out, sum);
    g_string_append_c(x->out, '\n');
}

void memctl_expo_finish(MemctlExpo *x)
{
    if (expo_openmetrics(x))
        g_string_append(x->out, "# EOF\n");
}

const char *memctl_expo_content_type(MemctlExpoFormat format)
{
    return format == MEMCTL_EXPO_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                             : "text/plain; version=0.0.4; charset=utf-8";
}

MemctlExpoFormat memctl_expo_negotiate(const char *accept)
{
    /* Prometheus asks "application/openmetrics-text;version=1.0.0,...;q=0.75,text/plain;version=0.0.4;q=0.5":
     * OpenMetrics 1.0 whenever it is acceptable at all, unless refused with q=0. */
    if (!accept)
        return MEMCTL_EXPO_PROMETHEUS;
    g_auto(GStrv) ranges = g_strsplit(accept, ",", -1);
    for (char **r = ranges; *r; r++) {
        g_auto(GStrv) params = g_strsplit(*r, ";", -1);
        if (strcmp(g_strstrip(params[0]), "application/openmetrics-text") != 0)
            continue;
        bool v1 = true, refused = false;
        for (char **p = params + 1; *p; p++) {
            char *kv = g_strstrip(*p);
            if (g_str_has_prefix(kv, "version="))
                v1 = g_str_has_prefix(kv + 8, "1.0");
            else if (g_str_has_prefix(kv, "q="))
                refused = g_ascii_strtod(kv + 2, NULL) <= 0;
        }
        if (v1 && !refused)
            return MEMCTL_EXPO_OPENMETRICS;
    }
    return MEMCTL_EXPO_PROMETHEUS;
}

bool memctl_expo_format_from_string(const char *s, MemctlExpoFormat *ret)
{
    if (!s[0] || strcmp(s, "prometheus") == 0)
        *ret = MEMCTL_EXPO_PROMETHEUS;
    else if (strcmp(s, "openmetrics") == 0)
        *ret = MEMCTL_EXPO_OPENMETRICS;
    else
        return false;
    return true;
}
