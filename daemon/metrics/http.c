/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/metrics/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/error.h"

/*
 * Limits for clients: a scraper needs one connection and a few hundred bytes of request. The idle
 * timeout alone can be stretched by a client that sends a byte now and then, so every request also
 * has a deadline from the moment its connection opened (or its previous request ended): longer than
 * any scraper waits for an answer (Prometheus' scrape_timeout defaults to 10 s), after which the
 * connection is shut down whatever state it is in.
 */
#define HTTP_CONNECTION_LIMIT 64
#define HTTP_PER_IP_LIMIT 8
#define HTTP_TIMEOUT_SEC 10
#define HTTP_REQUEST_DEADLINE_USEC (15 * G_USEC_PER_SEC)
#define HTTP_REQUEST_MEMORY (16u * 1024)

typedef struct {
    struct MHD_Connection *c;
    gint64 t_start; /* monotonic: the connection opened, or its last request ended */
    bool shut;
} HttpClient;

struct MemctlHttp {
    struct MHD_Daemon *d;
    guint fd_id, timeout_id, deadline_id;
    MemctlHttpRender render;
    void *data;
    char *url;
    GHashTable *clients; /* struct MHD_Connection* -> HttpClient* (owned) */
};

int memctl_http_parse_address(const char *address, void *ret_sockaddr, size_t size, char **ret_error)
{
    const char *colon = strrchr(address, ':');
    bool v6 = address[0] == '[';
    char *end = NULL;
    long port = colon && colon[1] >= '0' && colon[1] <= '9' ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == address || colon[1] == '\0' || !end || *end || port < 0 || port > 65535 ||
        (v6 && colon[-1] != ']')) {
        *ret_error =
                g_strdup_printf("'%s' is not ADDRESS:PORT (port 0-65535; IPv6 as [ADDRESS]:PORT)", address);
        return -EINVAL;
    }
    g_autofree char *host = v6 ? g_strndup(address + 1, (gsize)(colon - address - 2))
                               : g_strndup(address, (gsize)(colon - address));
    if (v6) {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        if (size < sizeof(sa) || inet_pton(AF_INET6, host, &sa.sin6_addr) != 1) {
            *ret_error = g_strdup_printf("'%s' is not an IPv6 address", host);
            return -EINVAL;
        }
        memcpy(ret_sockaddr, &sa, sizeof(sa));
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (size < sizeof(sa) || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
            *ret_error = g_strdup_printf("'%s' is not an IPv4 address (IPv6 goes in brackets)", host);
            return -EINVAL;
        }
        memcpy(ret_sockaddr, &sa, sizeof(sa));
    }
    return 0;
}

static enum MHD_Result http_reply(struct MHD_Connection *c, unsigned int status, const char *type, char *body,
                                  size_t len, bool owned)
{
    struct MHD_Response *r = owned ? MHD_create_response_from_buffer_with_free_callback(len, body, g_free)
                                   : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            g_free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    MemctlHttp *h = cls;
    static char not_found[] = "not found: memctld serves /metrics\n";
    static char not_allowed[] = "method not allowed: GET or HEAD\n";
    static char index_text[] = "memctld: Prometheus metrics at /metrics\n";
    static const char text[] = "text/plain; charset=utf-8";
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, not_allowed, sizeof(not_allowed) - 1, false);
    if (*upload_data_size) { /* a GET with a body: ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/") == 0)
        return http_reply(c, MHD_HTTP_OK, text, index_text, sizeof(index_text) - 1, false);
    if (strcmp(url, "/metrics") != 0)
        return http_reply(c, MHD_HTTP_NOT_FOUND, text, not_found, sizeof(not_found) - 1, false);
    MemctlExpoFormat f =
            memctl_expo_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
    GString *body = h->render(f, h->data);
    size_t len = body->len;
    return http_reply(c, MHD_HTTP_OK, memctl_expo_content_type(f), g_string_free(body, FALSE), len, true);
}

static void http_reschedule(MemctlHttp *h);

static gboolean http_on_timeout(gpointer data)
{
    MemctlHttp *h = data;
    h->timeout_id = 0;
    MHD_run(h->d);
    http_reschedule(h);
    return G_SOURCE_REMOVE;
}

/* MHD's idle timeouts (and work it left pending) need a timer only while connections exist. */
static void http_reschedule(MemctlHttp *h)
{
    if (h->timeout_id)
        g_source_remove(h->timeout_id);
    h->timeout_id = 0;
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(h->d, &ms) == MHD_YES)
        h->timeout_id = g_timeout_add((guint)MIN(ms, (MHD_UNSIGNED_LONG_LONG)G_MAXUINT), http_on_timeout, h);
}

static gboolean http_on_ready(gint fd, GIOCondition cond, gpointer data)
{
    MemctlHttp *h = data;
    MHD_run(h->d);
    http_reschedule(h);
    return G_SOURCE_CONTINUE;
}

/* Shuts down the connections past their request's deadline (MHD then closes them); runs only while
 * connections exist. */
static gboolean http_on_deadline(gpointer data)
{
    MemctlHttp *h = data;
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, h->clients);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        HttpClient *cl = v;
        if (cl->shut || now - cl->t_start < HTTP_REQUEST_DEADLINE_USEC)
            continue;
        const union MHD_ConnectionInfo *fd =
                MHD_get_connection_info(cl->c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (fd)
            (void)shutdown(fd->connect_fd, SHUT_RDWR);
        cl->shut = true;
    }
    if (g_hash_table_size(h->clients) > 0)
        return G_SOURCE_CONTINUE;
    h->deadline_id = 0;
    return G_SOURCE_REMOVE;
}

static void http_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                               enum MHD_ConnectionNotificationCode toe)
{
    MemctlHttp *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        g_hash_table_remove(h->clients, c);
        return;
    }
    HttpClient *cl = g_new0(HttpClient, 1);
    cl->c = c;
    cl->t_start = g_get_monotonic_time();
    g_hash_table_replace(h->clients, c, cl);
    if (!h->deadline_id)
        h->deadline_id = g_timeout_add_seconds(1, http_on_deadline, h);
}

static void http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    MemctlHttp *h = cls;
    HttpClient *cl = g_hash_table_lookup(h->clients, c);
    if (cl)
        cl->t_start = g_get_monotonic_time(); /* a kept-alive connection: the next request's deadline */
}

static void http_no_log(void *cls, const char *fmt, va_list ap)
{
    /* Client errors (bad requests, timeouts) are the client's business; memctld does not log them. */
}

int memctl_http_new(const char *address, MemctlHttpRender render, void *data, MemctlHttp **ret,
                    GError **error)
{
    struct sockaddr_storage ss;
    g_autofree char *why = NULL;
    if (memctl_http_parse_address(address, &ss, sizeof(ss), &why) < 0) {
        return memctl_error_set(error, -EINVAL, MEMCTL_ERROR_INVALID_ARGUMENT, "%s", why);
    }
    bool v6 = ss.ss_family == AF_INET6;
    g_autofree MemctlHttp *h = g_new0(MemctlHttp, 1);
    h->render = render;
    h->data = data;
    h->clients = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    errno = 0;
    h->d = MHD_start_daemon(MHD_USE_EPOLL | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, http_access, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned int)HTTP_CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned int)HTTP_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)HTTP_TIMEOUT_SEC, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)HTTP_REQUEST_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, h,
                            MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, h, MHD_OPTION_EXTERNAL_LOGGER,
                            http_no_log, NULL, MHD_OPTION_END);
    if (!h->d) {
        g_hash_table_destroy(h->clients);
        int e = errno ? errno : EADDRINUSE;
        return memctl_error_set(error, -e, MEMCTL_ERROR_FAILED, "cannot listen on %s: %s", address,
                                g_strerror(e));
    }
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (!ep) {
        MHD_stop_daemon(h->d);
        g_hash_table_destroy(h->clients);
        return memctl_error_set(error, -EOPNOTSUPP, MEMCTL_ERROR_FAILED,
                                "libmicrohttpd has no epoll support");
    }
    g_autofree char *host = g_strndup(address, (gsize)(strrchr(address, ':') - address));
    h->url = g_strdup_printf("http://%s:%u/metrics", host, port ? port->port : 0);
    h->fd_id = g_unix_fd_add(ep->epoll_fd, G_IO_IN, http_on_ready, h);
    *ret = g_steal_pointer(&h);
    return 0;
}

void memctl_http_free(MemctlHttp *h)
{
    if (!h)
        return;
    if (h->fd_id)
        g_source_remove(h->fd_id);
    if (h->timeout_id)
        g_source_remove(h->timeout_id);
    if (h->deadline_id)
        g_source_remove(h->deadline_id);
    MHD_stop_daemon(h->d); /* closes every connection: the table empties */
    g_hash_table_destroy(h->clients);
    g_free(h->url);
    g_free(h);
}

const char *memctl_http_url(const MemctlHttp *h)
{
    return h->url;
}
