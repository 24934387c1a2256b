/* fuzz_onnx.c: libFuzzer target over the ONNX reader: any bytes must give a graph or an error
 * with a message, never a crash, a leak or an out-of-bounds access. */
#include "onnx/onnx_ir.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngt_error err = {0};
    onnx_graph *g = onnx_read_buffer(data, size, &err);
    if (!g) {
        if (err.code >= 0 || err.msg[0] == 0)
            abort(); /* a refusal must say why */
        return 0;
    }
    /* an accepted graph is consistent: every index in range, every output batched */
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= g->n_tensors)
                abort();
    for (int i = 0; i < g->n_outputs; i++)
        if (!onnx_tensor_batched(&g->tensors[g->outputs[i]]))
            abort();
    onnx_graph_free(g);
    return 0;
}
