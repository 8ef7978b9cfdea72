/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/httptest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int http_connect(int port)
{
    return http_connect_from(port, NULL);
}

int http_connect_from(int port, const char *source)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    if (source) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        g_assert_cmpint(inet_pton(AF_INET, source, &src.sin_addr), ==, 1);
        g_assert_cmpint(bind(fd, (struct sockaddr *)&src, sizeof(src)), ==, 0);
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

bool http_send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads until the server closes or timeout_ms pass; returns what came (maybe empty). */
GString *http_recv_all(int fd, int timeout_ms)
{
    GString *s = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    char buf[65536];
    for (;;) {
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        g_string_append_len(s, buf, n);
    }
    return s;
}

void http_reply_clear(Reply *r)
{
    g_free(r->headers);
    g_free(r->body);
    memset(r, 0, sizeof(*r));
}

/* Sends a raw request (the connection closes after the answer) and parses the answer. */
Reply http_raw(int port, const char *request, size_t len, int timeout_ms)
{
    Reply r = {0};
    int fd = http_connect(port);
    if (fd < 0)
        return r; /* refused: status 0 */
    if (http_send_all(fd, request, len)) {
        g_autoptr(GString) s = http_recv_all(fd, timeout_ms);
        const char *end = strstr(s->str, "\r\n\r\n");
        if (g_str_has_prefix(s->str, "HTTP/1.") && end) {
            r.status = atoi(s->str + 9);
            r.headers = g_strndup(s->str, (gsize)(end - s->str));
            r.body = g_strdup(end + 4);
        }
    }
    close(fd);
    return r;
}

Reply http_get(int port, const char *path, const char *accept)
{
    g_autofree char *req =
            g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sConnection: close\r\n\r\n", path,
                            accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
    return http_raw(port, req, strlen(req), 30000);
}

bool http_reply_has_header(const Reply *r, const char *line)
{
    return r->headers && strcasestr(r->headers, line) != NULL;
}

double http_sample_value(const char *text, const char *prefix)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (g_str_has_prefix(p, prefix)) { /* a prefix that ends with the space is the whole name */
            const char *v = p + strlen(prefix);
            return g_ascii_strtod(v[-1] == ' ' ? v : strchr(v, ' ') + 1, NULL);
        }
    return -1;
}
