/* genc_prelude.h: the runtime part of every C file genc emits (embedded as text by CMake): vector
 * macros of the target ISA and the generic kernels, each computing every event alone, in order. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GENC_FN static __attribute__((unused))
#define GENC_R 8 /* largest rank */

/* GMAX(a, b) and GMIN(a, b) give a when either is NaN (vmaxps returns its second operand then):
 * a fused Relu or Clip keeps a NaN input NaN, as ONNX Runtime does, at no cost. */

#if GENC_TARGET == 2
#include <immintrin.h>
#define GW 16
typedef __m512 gv;
#define GLOAD(p) _mm512_loadu_ps(p)
#define GSET1(x) _mm512_set1_ps(x)
#define GFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define GSTORE(p, v) _mm512_storeu_ps(p, v)
#define GSTOREN(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1u), v)
#define GMAX(a, b) _mm512_max_ps(b, a)
#define GMIN(a, b) _mm512_min_ps(b, a)
#define GLEAKY(v, al)                                                                              \
    _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, GSET1(al))
#elif GENC_TARGET == 1
#include <immintrin.h>
#define GW 8
typedef __m256 gv;
#define GLOAD(p) _mm256_loadu_ps(p)
#define GSET1(x) _mm256_set1_ps(x)
#define GFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define GSTORE(p, v) _mm256_storeu_ps(p, v)
#define GSTOREN(p, v, n)                                                                           \
    _mm256_maskstore_ps(                                                                           \
        p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), v)
#define GMAX(a, b) _mm256_max_ps(b, a)
#define GMIN(a, b) _mm256_min_ps(b, a)
#define GLEAKY(v, al)                                                                              \
    _mm256_blendv_ps(v, _mm256_mul_ps(v, GSET1(al)),                                               \
                     _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ))
#else
#define GW 1
typedef float gv;
#define GLOAD(p) (*(p))
#define GSET1(x) (x)
#define GFMA(a, b, c) ((a) * (b) + (c))
#define GSTORE(p, v) (*(p) = (v))
#define GSTOREN(p, v, n) (*(p) = (v))
#define GMAX(a, b) ((b) > (a) ? (b) : (a))
#define GMIN(a, b) ((b) < (a) ? (b) : (a))
#define GLEAKY(v, al) ((v) < 0 ? (v) * (al) : (v))
#endif

/* Operator codes of the generic kernels (the emitter uses the same numbers). */
enum {
    GO_RELU = 0,
    GO_LEAKY,
    GO_ELU,
    GO_SIGMOID,
    GO_TANH,
    GO_EXP,
    GO_LOG,
    GO_SQRT,
    GO_ROUND,
    GO_CLIP,
    GO_CAST,
    GO_COPY,
    GO_ADD,
    GO_SUB,
    GO_MUL,
    GO_DIV
};
/* Element types (ngt_dtype's numbering). */
enum { GT_F32 = 0, GT_F64, GT_I8, GT_I16, GT_I32, GT_I64, GT_U8, GT_U16, GT_U32, GT_U64, GT_BOOL };

/* A shape with the events dimension (-1) set to ne; returns the element count. */
GENC_FN long long gdims(const long long *s, int r, int ne, long long *d)
{
    long long e = 1;
    for (int k = 0; k < r; k++) {
        d[k] = s[k] < 0 ? ne : s[k];
        e *= d[k];
    }
    return e;
}

/* Strides of shape s (rank r) aligned right against an output of rank orank (0 on broadcast). */
GENC_FN void gbstrides(const long long *s, int r, const long long *os, int orank, long long *st)
{
    long long k = 1;
    for (int d = orank - 1; d >= 0; d--) {
        int di = d - (orank - r);
        st[d] = (di >= 0 && s[di] == os[d] && s[di] != 1) ? k : 0;
        if (di >= 0)
            k *= s[di];
    }
}

GENC_FN void gstrides(const long long *s, int r, long long *st)
{
    long long k = 1;
    for (int d = r - 1; d >= 0; d--) {
        st[d] = k;
        k *= s[d];
    }
}

GENC_FN float gcast_int(float v, int to)
{
    static const double lo[] = {0, 0, -128.0, -32768.0, -2147483648.0, -9.2233720368547758e18, 0,
                                0, 0, 0,      0};
    static const double hi[] = {0,
                                0,
                                127.0,
                                32767.0,
                                2147483647.0,
                                9.2233720368547758e18,
                                255.0,
                                65535.0,
                                4294967295.0,
                                1.8446744073709552e19,
                                1};
    if (to == GT_BOOL)
        return v != 0.0f ? 1.0f : 0.0f;
    if (to == GT_F32 || to == GT_F64)
        return v;
    if (isnan(v))
        return 0.0f;
    double t = trunc((double)v);
    return (float)(t < lo[to] ? lo[to] : t > hi[to] ? hi[to] : t);
}

GENC_FN void gunary(int op, const float *x, float *y, long long n, float alpha, float lo, float hi,
                    int to)
{
    for (long long i = 0; i < n; i++) {
        float v = x[i];
        switch (op) {
        case GO_RELU:
            v = v < 0 ? 0 : v;
            break;
        case GO_LEAKY:
            v = v >= 0 ? v : alpha * v;
            break;
        case GO_ELU:
            v = v >= 0 ? v : alpha * (expf(v) - 1.0f);
            break;
        case GO_SIGMOID:
            v = 1.0f / (1.0f + expf(-v));
            break;
        case GO_TANH:
            v = tanhf(v);
            break;
        case GO_EXP:
            v = expf(v);
            break;
        case GO_LOG:
            v = logf(v);
            break;
        case GO_SQRT:
            v = sqrtf(v);
            break;
        case GO_ROUND:
            v = nearbyintf(v);
            break;
        case GO_CLIP:
            v = v < lo ? lo : v > hi ? hi : v;
            break;
        case GO_CAST:
            v = gcast_int(v, to);
            break;
        default:
            break;
        }
        y[i] = v;
    }
}

GENC_FN float gbinop(int op, float a, float b, int integer)
{
    switch (op) {
    case GO_ADD:
        return a + b;
    case GO_SUB:
        return a - b;
    case GO_MUL:
        return a * b;
    default:
        return integer ? (b != 0.0f ? truncf(a / b) : 0.0f) : a / b;
    }
}

GENC_FN void gbinary(int op, int integer, const float *a, const long long *as, int ar,
                     const float *b, const long long *bs, int br, float *y, const long long *ys,
                     int yr, int ne)
{
    long long os[GENC_R], ad[GENC_R], bd[GENC_R], sa[GENC_R], sb[GENC_R], idx[GENC_R] = {0};
    long long e = gdims(ys, yr, ne, os);
    gdims(as, ar, ne, ad);
    gdims(bs, br, ne, bd);
    gbstrides(ad, ar, os, yr, sa);
    gbstrides(bd, br, os, yr, sb);
    long long inner = yr ? os[yr - 1] : 1, ia = yr ? sa[yr - 1] : 0, ib = yr ? sb[yr - 1] : 0;
    for (long long i = 0; i < e; i += inner) {
        long long oa = 0, ob = 0;
        for (int d = 0; d < yr - 1; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        for (long long j = 0; j < inner; j++)
            y[i + j] = gbinop(op, a[oa + j * ia], b[ob + j * ib], integer);
        for (int d = yr - 2; d >= 0 && ++idx[d] == os[d]; d--)
            idx[d] = 0;
    }
}

GENC_FN void gsoftmax(const float *x, float *y, const long long *s, int r, int axis, int span,
                      int ne)
{
    long long d[GENC_R], outer = 1, len = 1, inner = 1;
    gdims(s, r, ne, d);
    for (int k = 0; k < r; k++)
        *(k < axis ? &outer : k < axis + span ? &len : &inner) *= d[k];
    for (long long o = 0; o < outer; o++)
        for (long long i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i, mx = xp[0], sum = 0.0f;
            for (long long k = 1; k < len; k++)
                mx = xp[k * inner] > mx ? xp[k * inner] : mx;
            for (long long k = 0; k < len; k++) {
                yp[k * inner] = expf(xp[k * inner] - mx);
                sum += yp[k * inner];
            }
            for (long long k = 0; k < len; k++)
                yp[k * inner] /= sum;
        }
}

/* y = x * k[c] + s[c] over [n][C][inner] (BatchNormalization not folded into a layer). */
GENC_FN void gaffine(const float *x, float *y, const float *k, const float *s, long long C,
                     long long inner, int ne)
{
    for (long long n = 0; n < ne; n++)
        for (long long c = 0; c < C; c++)
            for (long long i = 0; i < inner; i++) {
                long long o = (n * C + c) * inner + i;
                y[o] = x[o] * k[c] + s[c];
            }
}

GENC_FN void gmatmul1(const float *a, const float *b, float *y, long long M, long long K,
                      long long N, int ta, int tb)
{
    for (long long i = 0; i < M; i++)
        for (long long j = 0; j < N; j++) {
            float acc = 0.0f;
            for (long long k = 0; k < K; k++)
                acc += (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
            y[i * N + j] = acc;
        }
}

/* Gemm in general: y = alpha * a . b + beta * c (c broadcast to [M][N], may be NULL). */
GENC_FN void ggemm(const float *a, const long long *as, const float *b, const long long *bs,
                   const float *c, const long long *cs, int cr, float *y, const long long *ys,
                   int ta, int tb, float alpha, float beta, int ne)
{
    long long ad[2], yd[2], cd[2], st[2] = {0, 0};
    gdims(as, 2, ne, ad);
    gdims(ys, 2, ne, yd);
    (void)bs;
    gmatmul1(a, b, y, yd[0], ta ? ad[0] : ad[1], yd[1], ta, tb);
    if (c) {
        gdims(cs, cr, ne, cd);
        gbstrides(cd, cr, yd, 2, st);
    }
    for (long long i = 0; i < yd[0]; i++)
        for (long long j = 0; j < yd[1]; j++)
            y[i * yd[1] + j] =
                alpha * y[i * yd[1] + j] + (c ? beta * c[i * st[0] + j * st[1]] : 0.0f);
}

GENC_FN void gmatmul(const float *a, const long long *as, int ar, const float *b,
                     const long long *bs, int br, float *y, const long long *ys, int yr, int ne)
{
    long long ad[GENC_R], bd[GENC_R], yd[GENC_R];
    gdims(as, ar, ne, ad);
    gdims(bs, br, ne, bd);
    gdims(ys, yr, ne, yd);
    long long M = ar >= 2 ? ad[ar - 2] : 1, K = ad[ar - 1], N = br >= 2 ? bd[br - 1] : 1;
    int sr = yr - (ar >= 2) - (br >= 2), asr = ar > 2 ? ar - 2 : 0, bsr = br > 2 ? br - 2 : 0;
    long long sa[GENC_R] = {0}, sb[GENC_R] = {0}, idx[GENC_R] = {0}, stacks = 1;
    gbstrides(ad, asr, yd, sr, sa);
    gbstrides(bd, bsr, yd, sr, sb);
    for (int d = 0; d < sr; d++)
        stacks *= yd[d];
    for (long long s = 0; s < stacks; s++) {
        long long oa = 0, ob = 0;
        for (int d = 0; d < sr; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        gmatmul1(a + oa * M * K, b + ob * K * N, y + s * M * N, M, K, N, 0, 0);
        for (int d = sr - 1; d >= 0 && ++idx[d] == yd[d]; d--)
            idx[d] = 0;
    }
}

/* Geometry of a convolution or pooling over [n][c][h][w] (1D: h == 1):
 * g[] = c h w m oh ow kh kw sh sw dh dw ph pw peh pew group */
GENC_FN void gconv(const float *x, const float *w, const float *b, float *y, const long long *g,
                   int ne)
{
    long long C = g[0], H = g[1], W = g[2], M = g[3], OH = g[4], OW = g[5], KH = g[6], KW = g[7];
    long long cg = C / g[16], mg = M / g[16];
    for (long long n = 0; n < ne; n++)
        for (long long m = 0; m < M; m++) {
            const float *wm = w + m * cg * KH * KW, *xg = x + (n * C + (m / mg) * cg) * H * W;
            for (long long oh = 0; oh < OH; oh++)
                for (long long ow = 0; ow < OW; ow++) {
                    float acc = b ? b[m] : 0.0f;
                    for (long long ci = 0; ci < cg; ci++)
                        for (long long kh = 0; kh < KH; kh++) {
                            long long ih = oh * g[8] - g[12] + kh * g[10];
                            if (ih < 0 || ih >= H)
                                continue;
                            for (long long kw = 0; kw < KW; kw++) {
                                long long iw = ow * g[9] - g[13] + kw * g[11];
                                if (iw >= 0 && iw < W)
                                    acc +=
                                        xg[(ci * H + ih) * W + iw] * wm[(ci * KH + kh) * KW + kw];
                            }
                        }
                    y[((n * M + m) * OH + oh) * OW + ow] = acc;
                }
        }
}

GENC_FN void gpool(const float *x, float *y, const long long *g, int avg, int incl, int ne)
{
    long long C = g[0], H = g[1], W = g[2], OH = g[4], OW = g[5];
    for (long long p = 0; p < ne * C; p++)
        for (long long oh = 0; oh < OH; oh++)
            for (long long ow = 0; ow < OW; ow++) {
                const float *xp = x + p * H * W;
                float mx = -INFINITY, sum = 0.0f;
                long long cnt = 0, hs = oh * g[8] - g[12], ws = ow * g[9] - g[13];
                for (long long kh = 0; kh < g[6]; kh++) {
                    long long ih = hs + kh * g[10];
                    if (ih < 0 || ih >= H)
                        continue;
                    for (long long kw = 0; kw < g[7]; kw++) {
                        long long iw = ws + kw * g[11];
                        if (iw < 0 || iw >= W)
                            continue;
                        float v = xp[ih * W + iw];
                        mx = v > mx || v != v ? v : mx;
                        sum += v;
                        cnt++;
                    }
                }
                if (avg && incl) {
                    long long he = hs + (g[6] - 1) * g[10] + 1, we = ws + (g[7] - 1) * g[11] + 1;
                    he = he < H + g[14] ? he : H + g[14];
                    we = we < W + g[15] ? we : W + g[15];
                    cnt = (he - hs) * (we - ws);
                }
                y[(p * OH + oh) * OW + ow] = avg ? (cnt ? sum / (float)cnt : 0.0f) : mx;
            }
}

GENC_FN void gtranspose(const float *x, float *y, const long long *xs, const long long *ys,
                        const long long *perm, int r, int ne)
{
    long long xd[GENC_R], yd[GENC_R], xst[GENC_R], src[GENC_R], idx[GENC_R] = {0};
    gdims(xs, r, ne, xd);
    long long e = gdims(ys, r, ne, yd);
    gstrides(xd, r, xst);
    for (int d = 0; d < r; d++)
        src[d] = xst[perm[d]];
    for (long long i = 0; i < e; i++) {
        long long o = 0;
        for (int d = 0; d < r; d++)
            o += idx[d] * src[d];
        y[i] = x[o];
        for (int d = r - 1; d >= 0 && ++idx[d] == yd[d]; d--)
            idx[d] = 0;
    }
}

/* One input of a Concat: its chunk of each outer slice goes at offset `at` of the output's. */
GENC_FN void gconcat1(const float *x, float *y, long long outer, long long chunk, long long ochunk,
                      long long at)
{
    for (long long o = 0; o < outer; o++)
        memcpy(y + o * ochunk + at, x + o * chunk, (size_t)chunk * sizeof(float));
}

GENC_FN void gslice(const float *x, float *y, const long long *xs, const long long *ys,
                    const long long *starts, const long long *steps, int r, int ne)
{
    long long xd[GENC_R], yd[GENC_R], xst[GENC_R], idx[GENC_R] = {0};
    gdims(xs, r, ne, xd);
    long long e = gdims(ys, r, ne, yd);
    gstrides(xd, r, xst);
    for (long long i = 0; i < e; i++) {
        long long o = 0;
        for (int d = 0; d < r; d++)
            o += (starts[d] + idx[d] * steps[d]) * xst[d];
        y[i] = x[o];
        for (int d = r - 1; d >= 0 && ++idx[d] == yd[d]; d--)
            idx[d] = 0;
    }
}

/* Returns 1 when an index is out of range. */
GENC_FN int ggather(const float *x, const float *ind, float *y, long long outer, long long dim,
                    long long inner, long long ni)
{
    for (long long o = 0; o < outer; o++)
        for (long long i = 0; i < ni; i++) {
            long long k = (long long)ind[i];
            k = k < 0 ? k + dim : k;
            if (k < 0 || k >= dim)
                return 1;
            memcpy(y + (o * ni + i) * inner, x + (o * dim + k) * inner,
                   (size_t)inner * sizeof(float));
        }
    return 0;
}

GENC_FN float gget(const void *p, int t, size_t i)
{
    switch (t) {
    case GT_F32:
        return ((const float *)p)[i];
    case GT_F64:
        return (float)((const double *)p)[i];
    case GT_I8:
        return ((const int8_t *)p)[i];
    case GT_I16:
        return ((const int16_t *)p)[i];
    case GT_I32:
        return (float)((const int32_t *)p)[i];
    case GT_I64:
        return (float)((const int64_t *)p)[i];
    case GT_U8:
    case GT_BOOL:
        return ((const uint8_t *)p)[i];
    case GT_U16:
        return ((const uint16_t *)p)[i];
    case GT_U32:
        return (float)((const uint32_t *)p)[i];
    default:
        return (float)((const uint64_t *)p)[i];
    }
}

GENC_FN void gput(void *p, int t, size_t i, float v)
{
    switch (t) {
    case GT_F32:
        ((float *)p)[i] = v;
        break;
    case GT_F64:
        ((double *)p)[i] = v;
        break;
    case GT_I8:
        ((int8_t *)p)[i] = (int8_t)v;
        break;
    case GT_I16:
        ((int16_t *)p)[i] = (int16_t)v;
        break;
    case GT_I32:
        ((int32_t *)p)[i] = (int32_t)v;
        break;
    case GT_I64:
        ((int64_t *)p)[i] = (int64_t)v;
        break;
    case GT_U8:
    case GT_BOOL:
        ((uint8_t *)p)[i] = (uint8_t)v;
        break;
    case GT_U16:
        ((uint16_t *)p)[i] = (uint16_t)v;
        break;
    case GT_U32:
        ((uint32_t *)p)[i] = (uint32_t)v;
        break;
    default:
        ((uint64_t *)p)[i] = (uint64_t)v;
        break;
    }
}

/* An input tile into the arena as float: ne events of e elements, zero up to tile events. */
GENC_FN void gstage(const void *src, int t, size_t first, long long e, int ne, int tile, float *dst)
{
    if (t == GT_F32)
        memcpy(dst, (const float *)src + first, sizeof(float) * (size_t)(e * ne));
    else
        for (long long i = 0; i < e * ne; i++)
            dst[i] = gget(src, t, first + (size_t)i);
    memset(dst + e * ne, 0, sizeof(float) * (size_t)(e * (tile - ne)));
}

GENC_FN void gunstage(const float *src, int t, void *dst, size_t first, long long count)
{
    if (t == GT_F32)
        memcpy((float *)dst + first, src, sizeof(float) * (size_t)count);
    else
        for (long long i = 0; i < count; i++)
            gput(dst, t, first + (size_t)i, src[i]);
}
