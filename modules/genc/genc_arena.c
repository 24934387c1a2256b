/* genc_arena.c: the memory plan: every per-event tensor of a tile gets a place in one arena,
 * reusing the places of tensors no longer live (first fit by lifetime, as SOFIE's pool). */
#include "genc/genc.h"

#include <string.h>

enum { NONE = -2 };

typedef struct life {
    int def, last; /* step indices; -1: before the first (graph input), n_steps: kept to the end */
    size_t floats; /* per event */
} life;

static void lifetimes(const genc_plan *p, life *lf)
{
    const onnx_graph *g = p->g;
    for (int t = 0; t < g->n_tensors; t++)
        lf[t] = (life){NONE, NONE, 0};
    for (int i = 0; i < g->n_inputs; i++)
        lf[g->inputs[i]] = (life){-1, -1, (size_t)onnx_tensor_elems(&g->tensors[g->inputs[i]])};
    for (int s = 0; s < p->n_steps; s++) {
        const genc_step *st = &p->steps[s];
        const onnx_node *nd = &g->nodes[st->node];
        int r = p->alias[st->out];
        if (st->kind != GENC_S_ALIAS && lf[r].def == NONE)
            lf[r] = (life){s, s, (size_t)onnx_tensor_elems(&g->tensors[st->out])};
        if (st->kind == GENC_S_NODE) {
            for (int k = 0; k < nd->n_in; k++)
                if (nd->in[k] >= 0 && onnx_tensor_batched(&g->tensors[nd->in[k]]))
                    lf[p->alias[nd->in[k]]].last = s;
        } else
            lf[p->alias[st->in]].last = s;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int r = p->alias[g->outputs[i]];
        if (lf[r].def != NONE)
            lf[r].last = p->n_steps;
    }
}

static size_t region(size_t floats, int tile)
{
    return pad64(sizeof(float) * floats * (size_t)tile);
}

/* First fit: the lowest offset clear of every placed tensor whose lifetime overlaps. */
static size_t place(const genc_plan *p, const life *lf, const int *order, int placed, int t,
                    int tile)
{
    size_t off = 0, need = region(lf[t].floats, tile);
    for (int again = 1; again;) {
        again = 0;
        for (int k = 0; k < placed; k++) {
            int o = order[k];
            if (lf[o].last < lf[t].def || lf[t].last < lf[o].def)
                continue;
            size_t lo = p->offset[o], hi = lo + region(lf[o].floats, tile);
            if (off < hi && lo < off + need) {
                off = hi;
                again = 1;
            }
        }
    }
    return off;
}

static size_t layout(genc_plan *p, const life *lf, int *order, int tile)
{
    int placed = 0;
    size_t end = 0;
    for (int t = 0; t < p->g->n_tensors; t++) {
        p->offset[t] = (size_t)-1;
        if (lf[t].def == NONE)
            continue;
        p->offset[t] = place(p, lf, order, placed, t, tile);
        order[placed++] = t;
        size_t e = p->offset[t] + region(lf[t].floats, tile);
        end = e > end ? e : end;
    }
    return end;
}

/* Scratch of the vector convolutions: one event's input, padded, plus slack for whole vectors. */
static size_t conv_scratch(const genc_plan *p)
{
    size_t most = 0;
    for (int s = 0; s < p->n_steps; s++) {
        const genc_step *st = &p->steps[s];
        if (st->kind != GENC_S_CONV)
            continue;
        const onnx_node *nd = &p->g->nodes[st->node];
        const onnx_tensor *x = &p->g->tensors[st->in];
        const int64_t *pads;
        int np = onnx_attr_ints(nd, "pads", &pads), two = x->rank == 4;
        size_t H = two ? (size_t)(x->shape[2] + pads[0] + pads[np / 2]) : 1;
        size_t W = (size_t)(x->shape[x->rank - 1] + pads[np / 2 - 1] + pads[np - 1]) + 64;
        size_t b = sizeof(float) * ((size_t)x->shape[1] * H * W + 64);
        most = b > most ? b : most;
    }
    return pad64(most);
}

int genc_arena_plan(genc_plan *p, ngt_error *err)
{
    int nt = p->g->n_tensors;
    life *lf = calloc((size_t)nt + 1, sizeof *lf);
    int *order = calloc((size_t)nt + 1, sizeof *order);
    if (!lf || !order) {
        free(lf);
        free(order);
        return seterr(err, NGT_ENOMEM, "out of memory");
    }
    lifetimes(p, lf);
    size_t per_event = layout(p, lf, order, 1);
    int tile = GENC_TILE_MAX;
    while (tile > 1 && per_event * (size_t)tile > GENC_ARENA_TARGET)
        tile /= 2;
    p->tile = tile;
    p->arena = layout(p, lf, order, tile);
    p->scratch = conv_scratch(p);
    free(lf);
    free(order);
    return NGT_OK;
}
