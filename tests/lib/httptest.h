/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal HTTP/1.1 client over loopback, for the metrics tests and benchmarks. */

#include <glib.h>
#include <stdbool.h>

typedef struct {
    int status; /* 0: no HTTP answer (refused, closed, timed out) */
    char *headers, *body;
} Reply;

/* A TCP connection to 127.0.0.1:port, or -errno. */
int http_connect(int port);
/* The same from the loopback address `source` ("127.0.0.2": every 127/8 address is this host's), so
 * that a test can be several clients; NULL: any. */
int http_connect_from(int port, const char *source);
bool http_send_all(int fd, const char *buf, size_t len);
/* Reads until the peer closes or timeout_ms pass; returns what came (maybe empty). */
GString *http_recv_all(int fd, int timeout_ms);
/* Sends a raw request (it should ask "Connection: close") and parses the answer. */
Reply http_raw(int port, const char *request, size_t len, int timeout_ms);
/* GET path, with an Accept header if accept is not NULL. */
Reply http_get(int port, const char *path, const char *accept);
void http_reply_clear(Reply *r);
/* True if the reply's headers hold `line` ("Allow: GET, HEAD"), compared without case. */
bool http_reply_has_header(const Reply *r, const char *line);
/* In a Prometheus exposition: the value of the first sample line that starts with `prefix` (labels
 * included; "name " for a series without labels), or -1. */
double http_sample_value(const char *text, const char *prefix);
