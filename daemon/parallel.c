/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/parallel.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#define PARALLEL_THREADS_MAX 16
#define PARALLEL_STACK (256 * 1024) /* the callers' prepare needs a few KiB (ASan: more) */

typedef struct {
    size_t n, next; /* next: the next item to prepare, claimed under lock */
    bool *ready;
    void (*prepare)(size_t k, void *data);
    void *data;
    GMutex lock;
    GCond cond;
} Parallel;

/* Prepares the next unclaimed item; false when none is left. */
static bool parallel_step(Parallel *p)
{
    g_mutex_lock(&p->lock);
    size_t k = p->next < p->n ? p->next++ : p->n;
    g_mutex_unlock(&p->lock);
    if (k == p->n)
        return false;
    p->prepare(k, p->data);
    g_mutex_lock(&p->lock);
    p->ready[k] = true;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->lock);
    return true;
}

static void *parallel_worker(void *data)
{
    while (parallel_step(data))
        ;
    return NULL;
}

void memctl_parallel_run(size_t n, unsigned max_threads, size_t min_per_thread,
                         void (*prepare)(size_t k, void *data), void (*enter)(size_t k, void *data),
                         void *data)
{
    Parallel p = {.n = n, .ready = g_new0(bool, MAX(n, 1)), .prepare = prepare, .data = data};
    g_mutex_init(&p.lock);
    g_cond_init(&p.cond);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = MIN(MIN((size_t)max_threads, (size_t)MAX(cpus, 1)), PARALLEL_THREADS_MAX);
    if (min_per_thread > 0)
        want = MIN(want, n / min_per_thread);
    pthread_t threads[PARALLEL_THREADS_MAX];
    size_t started = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PARALLEL_STACK);
    while (started + 1 < want && pthread_create(&threads[started], &attr, parallel_worker, &p) == 0)
        started++;
    pthread_attr_destroy(&attr);

    for (size_t k = 0; k < n; k++) {
        g_mutex_lock(&p.lock);
        while (!p.ready[k]) {
            if (p.next < p.n) { /* the next to enter is not ready: prepare another meanwhile */
                g_mutex_unlock(&p.lock);
                (void)parallel_step(&p);
                g_mutex_lock(&p.lock);
            } else {
                g_cond_wait(&p.cond, &p.lock);
            }
        }
        g_mutex_unlock(&p.lock);
        if (enter)
            enter(k, data);
    }
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    g_cond_clear(&p.cond);
    g_mutex_clear(&p.lock);
    g_free(p.ready);
}
