/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/error.h"

G_DEFINE_QUARK(memctl - error - quark, memctl_error)
