/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/metrics/expo.h"

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

/* A label value into p: \\, " and newline escaped, the runs between them copied whole. At most
 * twice its length. */
static char *expo_put_label_value(char *p, const char *s)
{
    for (;;) {
        size_t run = strcspn(s, "\\\"\n");
        memcpy(p, s, run);
        p += run;
        s += run;
        if (!*s)
            return p;
        *p++ = '\\';
        *p++ = *s == '\n' ? 'n' : *s;
        s++;
    }
}

static char *expo_put(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/*
 * One sample line: the family's name, suffix, labels (and extra_key="extra_value", unescaped: "le"
 * and a number), a space, the value already formatted, a newline. No printf and one growth of the
 * buffer per line: a scrape of 1,000 groups writes 18,000 of them.
 */
static void expo_line(MemctlExpo *x, const char *suffix, const char *const *labels, const char *extra_key,
                      const char *extra_value, const char *value)
{
    bool has_labels = labels && labels[0] && labels[1];
    size_t room = strlen(x->family) + strlen(suffix) + strlen(value) + 4; /* {, }, space, newline */
    for (const char *const *l = labels; has_labels && l[0] && l[1]; l += 2)
        room += strlen(l[0]) + 2 * strlen(l[1]) + 4; /* ,key="value" */
    if (extra_key)
        room += strlen(extra_key) + strlen(extra_value) + 4;
    size_t start = x->out->len;
    g_string_set_size(x->out, start + room);
    char *p = expo_put(x->out->str + start, x->family);
    p = expo_put(p, suffix);
    if (has_labels || extra_key) {
        *p++ = '{';
        for (const char *const *l = labels; has_labels && l[0] && l[1]; l += 2) {
            if (l != labels)
                *p++ = ',';
            p = expo_put(p, l[0]);
            *p++ = '=';
            *p++ = '"';
            p = expo_put_label_value(p, l[1]);
            *p++ = '"';
        }
        if (extra_key) {
            if (has_labels)
                *p++ = ',';
            p = expo_put(p, extra_key);
            *p++ = '=';
            *p++ = '"';
            p = expo_put(p, extra_value);
            *p++ = '"';
        }
        *p++ = '}';
    }
    *p++ = ' ';
    p = expo_put(p, value);
    *p++ = '\n';
    g_string_truncate(x->out, (gsize)(p - x->out->str));
}

/* v in decimal, at the end of buf. */
static const char *expo_u64_str(char buf[static 24], uint64_t v)
{
    char *p = buf + 23;
    *p = '\0';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    return p;
}

/* The shortest of %.15g and %.17g that reads back as v: "0.0025", not "0.0025000000000000001". */
static const char *expo_format_double(char *buf, size_t size, double v)
{
    g_ascii_formatd(buf, (gint)size, "%.15g", v);
    if (g_ascii_strtod(buf, NULL) != v)
        g_ascii_formatd(buf, (gint)size, "%.17g", v);
    return buf;
}

static const char *expo_double_str(char buf[static G_ASCII_DTOSTR_BUF_SIZE], double v)
{
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (isnan(v))
        return "NaN";
    return expo_format_double(buf, G_ASCII_DTOSTR_BUF_SIZE, v);
}

void memctl_expo_u64(MemctlExpo *x, const char *const *labels, uint64_t value)
{
    char buf[24];
    expo_line(x, expo_sample_suffix(x), labels, NULL, NULL,
              value == UINT64_MAX ? "+Inf" : expo_u64_str(buf, value));
}

void memctl_expo_usec(MemctlExpo *x, const char *const *labels, uint64_t usec)
{
    /* the seconds, then the microseconds as a fraction without its trailing zeros: "12.0345", "3" */
    char secs[24], buf[24 + 8];
    char *p = expo_put(buf, expo_u64_str(secs, usec / 1000000));
    uint64_t f = usec % 1000000;
    if (f) {
        int digits = 6;
        for (; f % 10 == 0; digits--)
            f /= 10;
        *p = '.';
        for (int k = digits; k > 0; k--, f /= 10)
            p[k] = (char)('0' + f % 10);
        p += digits + 1;
    }
    *p = '\0';
    expo_line(x, expo_sample_suffix(x), labels, NULL, NULL, buf);
}

void memctl_expo_double(MemctlExpo *x, const char *const *labels, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    expo_line(x, expo_sample_suffix(x), labels, NULL, NULL, expo_double_str(buf, value));
}

void memctl_expo_histogram(MemctlExpo *x, const char *const *labels, const double *bounds,
                           const uint64_t *counts, size_t n, double sum)
{
    uint64_t cumulative = 0;
    char le[G_ASCII_DTOSTR_BUF_SIZE], buf[24];
    for (size_t i = 0; i <= n; i++) {
        cumulative += counts[i];
        if (i < n)
            expo_format_double(le, sizeof(le), bounds[i]);
        /* OpenMetrics wants canonical floats: "1.0", not "1" */
        if (i < n && expo_openmetrics(x) && !strpbrk(le, ".eE"))
            g_strlcat(le, ".0", sizeof(le));
        expo_line(x, "_bucket", labels, "le", i < n ? le : "+Inf", expo_u64_str(buf, cumulative));
    }
    expo_line(x, "_count", labels, NULL, NULL, expo_u64_str(buf, cumulative));
    char dbl[G_ASCII_DTOSTR_BUF_SIZE];
    expo_line(x, "_sum", labels, NULL, NULL, expo_double_str(dbl, sum));
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

/* [p, end) without the spaces and tabs around it. */
static void expo_trim(const char **p, const char **end)
{
    while (*p < *end && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

static bool expo_token_is(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) == n && g_ascii_strncasecmp(p, word, n) == 0;
}

/* One media range of an Accept header, [p, end): true if it accepts OpenMetrics 1.0. */
static bool expo_range_wants_openmetrics(const char *p, const char *end)
{
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *type_end = semi ? semi : end;
    expo_trim(&p, &type_end);
    if (!expo_token_is(p, type_end, "application/openmetrics-text"))
        return false;
    bool v1 = true, refused = false;
    for (const char *q = semi; q && q < end;) {
        const char *param = q + 1;
        const char *next = memchr(param, ';', (size_t)(end - param));
        const char *param_end = next ? next : end;
        expo_trim(&param, &param_end);
        size_t len = (size_t)(param_end - param);
        if (len >= 8 && g_ascii_strncasecmp(param, "version=", 8) == 0)
            v1 = len >= 11 && strncmp(param + 8, "1.0", 3) == 0;
        else if (len >= 2 && g_ascii_strncasecmp(param, "q=", 2) == 0) {
            /* q is "0" or "0.", then up to three digits (RFC 9110): refused only when all are 0 */
            refused = true;
            for (const char *d = param + 2; d < param_end; d++)
                if (*d >= '1' && *d <= '9')
                    refused = false;
        }
        q = next;
    }
    return v1 && !refused;
}

MemctlExpoFormat memctl_expo_negotiate(const char *accept)
{
    /* Prometheus asks "application/openmetrics-text;version=1.0.0,...;q=0.75,text/plain;version=0.0.4;q=0.5":
     * OpenMetrics 1.0 whenever it is acceptable at all, unless refused with q=0. The header is a
     * client's: anything may come (empty ranges and parameters included), and nothing is allocated. */
    if (!accept)
        return MEMCTL_EXPO_PROMETHEUS;
    const char *end = accept + strlen(accept);
    for (const char *p = accept; p <= end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *range_end = comma ? comma : end;
        if (expo_range_wants_openmetrics(p, range_end))
            return MEMCTL_EXPO_OPENMETRICS;
        if (!comma)
            break;
        p = comma + 1;
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
