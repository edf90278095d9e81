/*
 * Bounded multi-producer, multi-consumer queue of pointers, for handing
 * messages between threads. The queue never owns or frees its items.
 */
#ifndef WL_QUEUE_H
#define WL_QUEUE_H

#include <pthread.h>
#include <stddef.h>

struct wl_queue {
    void **items;
    size_t capacity;
    size_t head; /* index of the oldest item */
    size_t count;
    int closed;
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
};

/* Returns 0 or WL_ENOMEM. capacity must be at least 1. */
int wl_queue_init(struct wl_queue *q, size_t capacity);
/* Frees the queue's storage; the queue must be empty or its items freed. */
void wl_queue_destroy(struct wl_queue *q);

/* Appends item, waiting for room. Returns 0, or WL_EBUSY once closed. */
int wl_queue_push(struct wl_queue *q, void *item);
/* Appends item if there is room. Returns 0, WL_EAGAIN or WL_EBUSY. */
int wl_queue_try_push(struct wl_queue *q, void *item);

/*
 * Removes the oldest item into *item, waiting at most timeout_ms (-1 waits
 * forever). Returns 0, WL_EAGAIN on timeout, or WL_EBUSY when the queue is
 * closed and empty, which means the consumer should stop.
 */
int wl_queue_pop(struct wl_queue *q, void **item, int timeout_ms);

/* Wakes every waiter; pushes fail from now on, pops drain what is left. */
void wl_queue_close(struct wl_queue *q);

/* Returns the number of items now queued (a snapshot). */
size_t wl_queue_length(struct wl_queue *q);

#endif
