/* fixture.h: shared pieces of the scheduler tests: a small event schema, deterministic events,
 * batch filling, a sink that files decisions by event id, and a queue for async completions. */
#ifndef SCHED_FIXTURE_H
#define SCHED_FIXTURE_H

#include "ngt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Input columns: pt f32, eta f32 per event; tag u32 batch scalar. */
ngt_schema *fx_schema(void);
/* Deterministic events: pt in [0, 60), eta in [-3, 3). */
void fx_events(int n, float *pt, float *eta);
/* Fills b with events [first, first+n) (event id = index), tag as given. */
void fx_fill(ngt_batch *b, int first, int n, const float *pt, const float *eta, uint32_t tag);
/* Acquires, fills and submits batches of cap events until n events are in. */
void fx_feed(ngt_runner *r, int n, int cap, const float *pt, const float *eta, uint32_t tag);
/* The same for events [first, n). */
void fx_feed_from(ngt_runner *r, int first, int n, int cap, const float *pt, const float *eta,
                  uint32_t tag);
/* Asserts the menu's totals: in == n == accepted + rejected + errored; returns them. */
ngt_totals fx_totals(const ngt_menu *m, uint64_t n);

/* A sink filing each event's decision words and status by event id. */
typedef struct fx_sink {
    int words;
    uint64_t *dec;   /* [events][words] */
    uint8_t *status; /* [events] */
    int n;
    _Atomic long events, batches;
} fx_sink;
void fx_sink_init(fx_sink *s, const ngt_menu *m, int n);
void fx_sink_free(fx_sink *s);
void fx_sink_fn(void *user, ngt_batch *b);
int fx_decision(const fx_sink *s, int event, int chain);

/* Async operations started by a step, waiting for a test thread to complete them. */
typedef struct fx_req {
    ngt_async *a;
    ngt_batch *b;
    int n;
    uint32_t *sel; /* copy of the step's selection (malloc'd) */
    int op;        /* operation number within the step (when_all) */
} fx_req;
typedef struct fx_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fx_req *items;
    int cap, head, count;
    long pushed;
    int closed;
} fx_queue;
void fx_queue_init(fx_queue *q, int cap);
void fx_queue_free(fx_queue *q);
/* Starts one async operation for io and queues it. Returns 0, or -1 when none could start. */
int fx_queue_start(fx_queue *q, ngt_step_io *io, int op);
/* No more requests will come: pop returns 0 as soon as the queue is empty. */
void fx_queue_close(fx_queue *q);
/* Waits up to timeout_s for a request; returns 1 with *out filled, 0 on timeout or when closed
 * and empty. */
int fx_queue_pop(fx_queue *q, fx_req *out, double timeout_s);
long fx_queue_pushed(fx_queue *q);

/* Waits until *v >= want or timeout_s passes; returns the last value seen. */
long fx_wait_at_least(_Atomic long *v, long want, double timeout_s);
void fx_sleep_ms(int ms);

#endif
