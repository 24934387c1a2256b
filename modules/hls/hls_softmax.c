/* hls_softmax.c: hls4ml's softmax ('stable' and 'latency', nnet_activation.h): exp and 1/x tables
 * indexed by the top bits of a fixed-point pattern, an adder tree in accum_t, res = e * inv. */
#include "hls/hls_model.h"

#include <math.h>
#include <stdlib.h>

static int ceil_log2u(int n)
{
    int k = 0;
    while ((1 << k) < n)
        k++;
    return k;
}

/* softmax_real_val_from_idx: the value of t whose top n bits are i (the rest zero). */
static float idx_value(const hls_type *t, int n, int i)
{
    int64_t raw = (int64_t)i << (t->w - n);
    if (t->sign && (raw >> (t->w - 1)) & 1)
        raw -= (int64_t)1 << t->w;
    return (float)hls_to_double(raw, t);
}

/* softmax_idx_from_real_val: the top n bits of the w-bit pattern of raw. */
static inline int idx_of(const hls_type *t, int64_t raw, int n)
{
    uint64_t u = (uint64_t)raw & (t->w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << t->w) - 1));
    return (int)(u >> (t->w - n)) & ((1 << n) - 1);
}

int hls_softmax_tables(hls_layer *l, ngt_error *err)
{
    const hls_type *et = &l->norm; /* exp index: inp_norm_t ('stable') or the input type */
    int ne = ceil_log2u(l->table_size), ni = ceil_log2u(l->inv_size);
    if ((1 << ne) != l->table_size || (1 << ni) != l->inv_size)
        return seterr(err, NGT_EINVAL,
                      "layer '%s': softmax table sizes must be powers of two (%d, %d)", l->name,
                      l->table_size, l->inv_size);
    if (ne > et->w || ni > l->inv_inp.w || et->w > 63 || l->inv_inp.w > 63)
        return seterr(err, NGT_EINVAL,
                      "layer '%s': softmax tables of %d and %d entries need more index bits "
                      "than the %d-bit input and %d-bit inv_inp_t have",
                      l->name, l->table_size, l->inv_size, et->w, l->inv_inp.w);
    l->table = malloc(sizeof *l->table * (size_t)l->table_size);
    l->table2 = malloc(sizeof *l->table2 * (size_t)l->inv_size);
    if (!l->table || !l->table2)
        return seterr(err, NGT_ENOMEM, "layer '%s': out of memory", l->name);
    for (int i = 0; i < l->table_size; i++) { /* init_exp_table (negative for 'stable') */
        float x = idx_value(et, ne, i) * 1.0f;
        if (l->impl == HLS_SOFTMAX_STABLE)
            x = -x;
        l->table[i] = (int64_t)hls_from_double((double)expf(x), &l->exp_t, NULL);
    }
    for (int i = 0; i < l->inv_size; i++) { /* init_invert_table */
        float x = idx_value(&l->inv_inp, ni, i);
        l->table2[i] = (int64_t)hls_from_double((double)(1 / x), &l->inv_t, NULL);
    }
    l->exp_bits = ne;
    l->inv_bits = ni;
    return NGT_OK;
}

/* reduce<accum_t, n, Op_add>: a balanced tree (left part the largest power of two below n), each
 * sum assigned to accum_t. */
static int64_t tree(const hls_layer *l, const int64_t *e, int n, int *fl)
{
    if (n == 1)
        return e[0];
    int left = 1;
    while (left * 2 <= n - 1)
        left *= 2;
    if (n == 2)
        left = 1;
    int64_t a = tree(l, e, left, fl), b = tree(l, e + left, n - left, fl);
    int fa = hls_frac(&l->acc);
    return (int64_t)hls_quant((hls_i128)a + b, fa, &l->acc, fl);
}

void hls_softmax_event(const hls_layer *l, const hls_type *xt, const int64_t *x, int64_t *e,
                       int64_t *y, int64_t *st)
{
    int n = (int)l->size, fl = 0, *flp = st ? &fl : NULL;
    int fe = hls_frac(&l->exp_t), fa = hls_frac(&l->acc);
    if (l->impl == HLS_SOFTMAX_STABLE) {
        int64_t mx = x[0];
        for (int i = 1; i < n; i++)
            mx = x[i] > mx ? x[i] : mx;
        for (int i = 0; i < n; i++) {
            int64_t d = (int64_t)hls_quant((hls_i128)mx - x[i], hls_frac(xt), &l->norm, NULL);
            e[i] = (int64_t)hls_quant(l->table[idx_of(&l->norm, d, l->exp_bits)], fe, &l->acc, flp);
        }
    } else {
        for (int i = 0; i < n; i++)
            e[i] =
                (int64_t)hls_quant(l->table[idx_of(&l->norm, x[i], l->exp_bits)], fe, &l->acc, flp);
    }
    int64_t sum = tree(l, e, n, flp);
    int64_t s = (int64_t)hls_quant(sum, fa, &l->inv_inp, flp);
    int64_t inv = l->table2[idx_of(&l->inv_inp, s, l->inv_bits)];
    int fp = fa + hls_frac(&l->inv_t);
    for (int i = 0; i < n; i++) {
        int f2 = 0;
        y[i] = (int64_t)hls_quant((hls_i128)e[i] * inv, fp, &l->res, st ? &f2 : NULL);
        if (st) {
            st[0] += (f2 & HLS_F_OVERFLOW) != 0;
            st[1] += (f2 & HLS_F_ROUNDED) != 0;
            st[2] = y[i] < st[2] ? y[i] : st[2];
            st[3] = y[i] > st[3] ? y[i] : st[3];
        }
    }
    if (st && (fl & HLS_F_OVERFLOW))
        st[4]++;
}
