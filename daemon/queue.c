#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/queue.h"
#include "daemon/error.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int wl_queue_init(struct wl_queue *q, size_t capacity)
{
    pthread_condattr_t attr;

    q->items = calloc(capacity, sizeof(*q->items));
    if (q->items == NULL)
        return WL_ENOMEM;
    q->capacity = capacity;
    q->head = 0;
    q->count = 0;
    q->closed = 0;
    pthread_mutex_init(&q->lock, NULL);
    /* Timed waits use the monotonic clock, so clock changes do not matter. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    return 0;
}

void wl_queue_destroy(struct wl_queue *q)
{
    free(q->items);
    q->items = NULL;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

static void append(struct wl_queue *q, void *item)
{
    q->items[(q->head + q->count) % q->capacity] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty);
}

int wl_queue_push(struct wl_queue *q, void *item)
{
    int r = 0;

    pthread_mutex_lock(&q->lock);
    while (q->count == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed)
        r = WL_EBUSY;
    else
        append(q, item);
    pthread_mutex_unlock(&q->lock);
    return r;
}

int wl_queue_try_push(struct wl_queue *q, void *item)
{
    int r = 0;

    pthread_mutex_lock(&q->lock);
    if (q->closed)
        r = WL_EBUSY;
    else if (q->count == q->capacity)
        r = WL_EAGAIN;
    else
        append(q, item);
    pthread_mutex_unlock(&q->lock);
    return r;
}

int wl_queue_pop(struct wl_queue *q, void **item, int timeout_ms)
{
    struct timespec deadline;
    int r = 0;

    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->not_empty, &q->lock);
        } else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) ==
                   ETIMEDOUT) {
            break;
        }
    }
    if (q->count > 0) {
        *item = q->items[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_cond_signal(&q->not_full);
    } else {
        r = q->closed ? WL_EBUSY : WL_EAGAIN;
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

void wl_queue_close(struct wl_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t wl_queue_length(struct wl_queue *q)
{
    size_t n;

    pthread_mutex_lock(&q->lock);
    n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}
