/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/error.h"

#include <errno.h>
#include <stdarg.h>

#include <gio/gio.h>

#include "include/memctl/memctl.h"

/* Registered with GDBus, so that g_dbus_method_invocation_return_gerror() sends the names of the
 * contract (dbus/org.memctl.Manager1.xml). */
static const GDBusErrorEntry entries[] = {
        {MEMCTL_ERROR_FAILED, MEMCTL_DBUS_ERROR_FAILED},
        {MEMCTL_ERROR_INVALID_ARGUMENT, MEMCTL_DBUS_ERROR_INVALID_ARGUMENT},
        {MEMCTL_ERROR_NO_SUCH_GROUP, MEMCTL_DBUS_ERROR_NO_SUCH_GROUP},
        {MEMCTL_ERROR_BUSY, MEMCTL_DBUS_ERROR_BUSY},
        {MEMCTL_ERROR_ACCESS_DENIED, MEMCTL_DBUS_ERROR_ACCESS_DENIED},
        {MEMCTL_ERROR_RESERVE_EXHAUSTED, MEMCTL_DBUS_ERROR_RESERVE_EXHAUSTED},
        {MEMCTL_ERROR_INVALID_POLICY, MEMCTL_DBUS_ERROR_INVALID_POLICY},
};

GQuark memctl_error_quark(void)
{
    static gsize quark = 0;
    g_dbus_error_register_error_domain("memctl-error-quark", &quark, entries, G_N_ELEMENTS(entries));
    return (GQuark)quark;
}

int memctl_error_set(GError **error, int r, MemctlError code, const char *format, ...)
{
    if (error) {
        va_list ap;
        va_start(ap, format);
        g_propagate_error(error, g_error_new_valist(MEMCTL_ERROR, (gint)code, format, ap));
        va_end(ap);
    }
    return r;
}

int memctl_error_set_policy(GError **error, const MemctlPolicyError *e)
{
    char buf[1024];
    return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_POLICY, "%s",
                            memctl_policy_error_format(e, buf, sizeof(buf)));
}
