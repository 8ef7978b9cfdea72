/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "daemon/metrics/expo.h"

/*
 * The /metrics endpoint: libmicrohttpd driven from the GLib main loop (its epoll fd watched like
 * any other source; no thread of its own), so a scrape renders on the main loop and never touches
 * the core. Only GET and HEAD of /metrics (and /) are served; connections are limited in number
 * (64, and 8 from one address), request size (16 KiB), idle time (10 s) and the time one request may
 * take from its connection's opening (15 s, however slowly a client sends), so slow or hostile
 * clients cost a socket each and nothing more, and one address cannot take every connection.
 */
typedef struct MemctlHttp MemctlHttp;

/* Renders the exposition in the format the scraper asked for. */
typedef GString *(*MemctlHttpRender)(MemctlExpoFormat format, void *data);

/*
 * Parses "ADDRESS:PORT" (IPv4) or "[ADDRESS]:PORT" (IPv6); port 0 binds an ephemeral port.
 * Returns 0, or -EINVAL with *ret_error saying what is wrong.
 */
int memctl_http_parse_address(const char *address, void *ret_sockaddr, size_t size, char **ret_error);

/* Listens on address; 0 or -errno with *error set. */
int memctl_http_new(const char *address, MemctlHttpRender render, void *data, MemctlHttp **ret,
                    GError **error);
void memctl_http_free(MemctlHttp *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlHttp, memctl_http_free)

/* "http://127.0.0.1:9856/metrics" with the port really bound. */
const char *memctl_http_url(const MemctlHttp *h);
