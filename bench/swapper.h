/* swapper.h: the model-swap thread of bench_swap and bench_zmq: swaps model "fad" (ref backend,
 * models/fad.onnx: no compile) every 100 ms until stopped, as `ngt ctl swap` does (load and
 * validate off the hot path, then publish). Header-only: each bench is one program. */
#ifndef NGT_BENCH_SWAPPER_H
#define NGT_BENCH_SWAPPER_H

#include "ngt.h"

#include <stdatomic.h>
#include <time.h>

typedef struct swapper {
    ngt_registry *reg;
    atomic_int stop;
    int swaps, failed;
} swapper;

static void *swap_main(void *arg)
{
    swapper *w = arg;
    while (!atomic_load(&w->stop)) {
        ngt_error e;
        if (ngt_registry_swap(w->reg, "fad", "ref", "models/fad.onnx", NULL, NULL, &e) < 0)
            w->failed++;
        w->swaps++;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

#endif
