/* ref_linalg.c: Gemm and MatMul of the reference interpreter: plain loops over contiguous rows,
 * each output summed over k in increasing order (the same order for every event). */
#include "ref/ref.h"

/* y[M][N] = sum_k a(i,k) * b(k,j) with a row-major [M][K] (or [K][M] when ta), b [K][N] (or
 * [N][K] when tb). */
static void matmul(const float *a, const float *b, float *y, int64_t M, int64_t K, int64_t N,
                   int ta, int tb)
{
    for (int64_t i = 0; i < M; i++) {
        float *yr = y + i * N;
        for (int64_t j = 0; j < N; j++)
            yr[j] = 0.0f;
        if (tb) {
            for (int64_t j = 0; j < N; j++) {
                float acc = 0.0f;
                for (int64_t k = 0; k < K; k++)
                    acc += (ta ? a[k * M + i] : a[i * K + k]) * b[j * K + k];
                yr[j] = acc;
            }
            continue;
        }
        for (int64_t k = 0; k < K; k++) {
            float av = ta ? a[k * M + i] : a[i * K + k];
            const float *br = b + k * N;
            for (int64_t j = 0; j < N; j++)
                yr[j] += av * br[j];
        }
    }
}

int ref_gemm(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t as[2], bs[2], ys[2], cs[ONNX_MAX_RANK], st[2] = {0, 0};
    int ta = (int)onnx_attr_int(nd, "transA", 0), tb = (int)onnx_attr_int(nd, "transB", 0);
    ref_dims(c, nd->in[0], as);
    ref_dims(c, nd->in[1], bs);
    ref_dims(c, nd->out[0], ys);
    int64_t K = ta ? as[0] : as[1];
    float *y = ref_ptr(c, nd->out[0]);
    matmul(ref_ptr(c, nd->in[0]), ref_ptr(c, nd->in[1]), y, ys[0], K, ys[1], ta, tb);
    float alpha = onnx_attr_float(nd, "alpha", 1.0f), beta = onnx_attr_float(nd, "beta", 1.0f);
    const float *cv = nd->n_in > 2 && nd->in[2] >= 0 ? ref_ptr(c, nd->in[2]) : NULL;
    if (cv)
        ref_bstrides(cs, ref_dims(c, nd->in[2], cs), ys, 2, st);
    for (int64_t i = 0; i < ys[0]; i++)
        for (int64_t j = 0; j < ys[1]; j++)
            y[i * ys[1] + j] =
                alpha * y[i * ys[1] + j] + (cv ? beta * cv[i * st[0] + j * st[1]] : 0.0f);
    return NGT_OK;
}

int ref_matmul(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t as[ONNX_MAX_RANK], bs[ONNX_MAX_RANK], ys[ONNX_MAX_RANK];
    int ar = ref_dims(c, nd->in[0], as), br = ref_dims(c, nd->in[1], bs);
    int yr = ref_dims(c, nd->out[0], ys);
    int64_t M = ar >= 2 ? as[ar - 2] : 1, K = as[ar - 1], N = br >= 2 ? bs[br - 1] : 1;
    /* the stacks: leading dimensions, broadcast against the output's */
    int sr = yr - (ar >= 2) - (br >= 2), asr = ar > 2 ? ar - 2 : 0, bsr = br > 2 ? br - 2 : 0;
    int64_t sa[ONNX_MAX_RANK] = {0}, sb[ONNX_MAX_RANK] = {0}, idx[ONNX_MAX_RANK] = {0};
    ref_bstrides(as, asr, ys, sr, sa);
    ref_bstrides(bs, bsr, ys, sr, sb);
    int64_t stacks = 1;
    for (int d = 0; d < sr; d++)
        stacks *= ys[d];
    const float *a = ref_ptr(c, nd->in[0]), *b = ref_ptr(c, nd->in[1]);
    float *y = ref_ptr(c, nd->out[0]);
    for (int64_t s = 0; s < stacks; s++) {
        int64_t oa = 0, ob = 0;
        for (int d = 0; d < sr; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        matmul(a + oa * M * K, b + ob * K * N, y + s * M * N, M, K, N, 0, 0);
        for (int d = sr - 1; d >= 0 && ++idx[d] == ys[d]; d--)
            idx[d] = 0;
    }
    return NGT_OK;
}
