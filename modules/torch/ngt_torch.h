/* ngt_torch.h: the torch module's public tool API (modules/torch, docs/torch.md), installed beside
 * ngt.h: no macros in declarations. The backend itself is "torch" in every registry. */
#ifndef NGT_TORCH_H
#define NGT_TORCH_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is libngt's public API (the rest of the library is hidden). */
#pragma GCC visibility push(default)

/* Process-wide counts since start: model runs, and the output tensors AOTInductor allocated for
 * them (ngt copies each into the batch's columns and frees it; ngt itself allocates nothing per
 * call). */
typedef struct ngt_torch_counters {
    uint64_t runs;           /* successful AOTInductor runs */
    uint64_t errors;         /* runs that failed */
    uint64_t output_tensors; /* output tensors the model allocated */
    uint64_t output_bytes;   /* their bytes */
} ngt_torch_counters;
void ngt_torch_counters_get(ngt_torch_counters *c); /* thread-safe */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
