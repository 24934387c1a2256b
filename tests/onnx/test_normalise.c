/* test_normalise.c: each node is read by its operator's version at the model's opset and comes
 * out in one canonical form (Softmax axis, Reshape allowzero, Squeeze/Unsqueeze axes, Clip bounds,
 * auto_pad, ceil_mode, CastLike, Flatten, Dropout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "mb.h"

static const int64_t D3[3] = {0, 3, 4};

/* One-node model over x [N,3,4] (or dims) at opset; returns the graph (asserted non-NULL when
 * ok is set). */
static onnx_graph *build(mb *b, ngt_error *err, int ok)
{
    mb_output(b, "y");
    onnx_graph *g = mb_read(b, err);
    if (ok && !g)
        fail_msg("read failed: %s", err->msg);
    return g;
}

static const onnx_tensor *out(const onnx_graph *g)
{
    return &g->tensors[g->outputs[0]];
}

static void softmax_case(int opset, int64_t axis, int64_t span)
{
    mb *b = mb_new(opset);
    mb_input(b, "x", MB_F32, 3, D3);
    mb_node(b, "Softmax", "sm", "x", "y");
    ngt_error err = {0};
    onnx_graph *g = build(b, &err, 1);
    assert_int_equal(onnx_attr_int(&g->nodes[0], "axis", -1), axis);
    assert_int_equal(onnx_attr_int(&g->nodes[0], "span", -1), span);
    onnx_graph_free(g);
    mb_free(b);
}

static void test_softmax(void **state)
{
    (void)state;
    softmax_case(11, 1, 2); /* before 13: default axis 1, coerced to 2D: axes 1..2 together */
    softmax_case(12, 1, 2);
    softmax_case(13, 2, 1); /* since 13: default axis -1, one axis */
    softmax_case(24, 2, 1);
}

static onnx_graph *reshape(int opset, int allowzero, ngt_error *err)
{
    mb *b = mb_new(opset);
    int64_t one[1] = {2}, shape[2] = {0, -1};
    mb_input(b, "x", MB_F32, 3, D3);
    mb_init_i(b, "s", 1, one, shape);
    Onnx__NodeProto *n = mb_node(b, "Reshape", "rs", "x,s", "y");
    if (allowzero)
        mb_attr_i(b, n, "allowzero", 1);
    onnx_graph *g = build(b, err, 0);
    mb_free(b);
    return g;
}

static void test_reshape_allowzero(void **state)
{
    (void)state;
    ngt_error err = {0};
    onnx_graph *g = reshape(13, 1, &err); /* allowzero does not exist before 14: 0 copies */
    assert_non_null(g);
    assert_int_equal(g->nodes[0].op, ONNX_OP_RESHAPE);
    assert_int_equal(g->nodes[0].n_in, 1);
    assert_int_equal(out(g)->rank, 2);
    assert_int_equal(out(g)->shape[0], ONNX_BATCH);
    assert_int_equal(out(g)->shape[1], 12);
    onnx_graph_free(g);
    g = reshape(14, 0, &err);
    assert_non_null(g);
    assert_int_equal(out(g)->shape[1], 12);
    onnx_graph_free(g);
    g = reshape(14, 1, &err); /* a real 0: no events dimension left */
    assert_null(g);
    assert_non_null(strstr(err.msg, "'rs' (Reshape)"));
}

static onnx_graph *squeeze(const char *op, int opset, int as_input, ngt_error *err)
{
    mb *b = mb_new(opset);
    int64_t dims[3] = {0, 1, 4}, one[1] = {1}, axes[1] = {-2}, uaxes[1] = {1};
    int sq = strcmp(op, "Squeeze") == 0;
    mb_input(b, "x", MB_F32, 3, sq ? dims : D3);
    mb_init_i(b, "a", 1, one, sq ? axes : uaxes);
    Onnx__NodeProto *n = mb_node(b, op, "s", as_input ? "x,a" : "x", "y");
    if (!as_input)
        mb_attr_ints(b, n, "axes", 1, sq ? axes : uaxes);
    onnx_graph *g = build(b, err, 0);
    mb_free(b);
    return g;
}

static void test_squeeze_unsqueeze(void **state)
{
    (void)state;
    ngt_error err = {0};
    onnx_graph *g = squeeze("Squeeze", 11, 0, &err); /* axes attribute before 13 */
    assert_non_null(g);
    assert_int_equal(out(g)->rank, 2);
    assert_int_equal(out(g)->shape[1], 4);
    assert_int_equal(g->nodes[0].op, ONNX_OP_RESHAPE);
    onnx_graph_free(g);
    g = squeeze("Squeeze", 13, 1, &err); /* axes input since 13 */
    assert_non_null(g);
    assert_int_equal(out(g)->rank, 2);
    onnx_graph_free(g);
    assert_null(squeeze("Squeeze", 11, 1, &err)); /* an axes input at opset 11 is wrong */
    assert_non_null(strstr(err.msg, "attribute"));
    g = squeeze("Unsqueeze", 11, 0, &err);
    assert_non_null(g);
    assert_int_equal(out(g)->rank, 4);
    assert_int_equal(out(g)->shape[1], 1);
    assert_int_equal(out(g)->shape[2], 3);
    onnx_graph_free(g);
    g = squeeze("Unsqueeze", 18, 1, &err);
    assert_non_null(g);
    assert_int_equal(out(g)->shape[1], 1);
    onnx_graph_free(g);
}

static void test_clip(void **state)
{
    (void)state;
    mb *b = mb_new(11);
    int64_t none[1] = {0};
    float lo = -0.5f;
    mb_input(b, "x", MB_F32, 3, D3);
    mb_init_f(b, "lo", 0, none, &lo);
    mb_node(b, "Clip", "c", "x,lo,", "y");
    ngt_error err = {0};
    onnx_graph *g = build(b, &err, 1);
    assert_int_equal(g->nodes[0].n_in, 1);
    assert_true(onnx_attr_float(&g->nodes[0], "min", 0) == -0.5f);
    assert_true(isinf(onnx_attr_float(&g->nodes[0], "max", 0)));
    onnx_graph_free(g);
    mb_free(b);
}

static void conv_case(const char *auto_pad, int64_t before, int64_t after)
{
    mb *b = mb_new(17);
    int64_t xd[3] = {0, 1, 10}, wd[3] = {2, 1, 4};
    float w[8] = {0};
    mb_input(b, "x", MB_F32, 3, xd);
    mb_init_f(b, "w", 3, wd, w);
    Onnx__NodeProto *n = mb_node(b, "Conv", "cv", "x,w", "y");
    mb_attr_s(b, n, "auto_pad", auto_pad);
    ngt_error err = {0};
    onnx_graph *g = build(b, &err, 1);
    const int64_t *pads, *k;
    assert_int_equal(onnx_attr_ints(&g->nodes[0], "pads", &pads), 2);
    assert_int_equal(pads[0], before);
    assert_int_equal(pads[1], after);
    assert_int_equal(onnx_attr_ints(&g->nodes[0], "kernel_shape", &k), 1);
    assert_int_equal(k[0], 4);
    assert_null(onnx_attr_find(&g->nodes[0], "auto_pad"));
    assert_int_equal(out(g)->shape[1], 2);
    assert_int_equal(out(g)->shape[2], strcmp(auto_pad, "VALID") ? 10 : 7);
    onnx_graph_free(g);
    mb_free(b);
}

static void test_conv_auto_pad(void **state)
{
    (void)state;
    conv_case("SAME_UPPER", 1, 2);
    conv_case("SAME_LOWER", 2, 1);
    conv_case("VALID", 0, 0);
}

static int64_t pool_width(int ceil_mode, int64_t stride)
{
    mb *b = mb_new(17);
    int64_t xd[4] = {0, 2, 5, 5}, k[2] = {2, 2}, s[2] = {stride, stride};
    mb_input(b, "x", MB_F32, 4, xd);
    Onnx__NodeProto *n = mb_node(b, "MaxPool", "mp", "x", "y");
    mb_attr_ints(b, n, "kernel_shape", 2, k);
    mb_attr_ints(b, n, "strides", 2, s);
    mb_attr_i(b, n, "ceil_mode", ceil_mode);
    ngt_error err = {0};
    onnx_graph *g = build(b, &err, 1);
    int64_t w = out(g)->shape[3];
    assert_int_equal(out(g)->shape[1], 2);
    onnx_graph_free(g);
    mb_free(b);
    return w;
}

static void test_pool_ceil(void **state)
{
    (void)state;
    assert_int_equal(pool_width(0, 2), 2);
    assert_int_equal(pool_width(1, 2), 3);
    assert_int_equal(pool_width(1, 1), 4);
}

static void test_castlike_flatten_dropout(void **state)
{
    (void)state;
    mb *b = mb_new(15);
    int64_t one[1] = {1}, v[1] = {7};
    mb_input(b, "x", MB_F32, 3, D3);
    mb_init_i(b, "like", 1, one, v);
    mb_node(b, "Dropout", "dr", "x", "d");
    mb_node(b, "Flatten", "fl", "d", "f");
    mb_node(b, "CastLike", "cl", "f,like", "y");
    ngt_error err = {0};
    onnx_graph *g = build(b, &err, 1);
    assert_int_equal(g->nodes[0].op, ONNX_OP_IDENTITY);
    assert_int_equal(g->nodes[1].op, ONNX_OP_RESHAPE);
    assert_int_equal(g->nodes[2].op, ONNX_OP_CAST);
    assert_int_equal(g->nodes[2].n_in, 1);
    assert_int_equal(onnx_attr_int(&g->nodes[2], "to", -1), NGT_I64);
    assert_int_equal(out(g)->dtype, NGT_I64);
    assert_int_equal(out(g)->rank, 2);
    assert_int_equal(out(g)->shape[1], 12);
    onnx_graph_free(g);
    mb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_reshape_allowzero),
        cmocka_unit_test(test_squeeze_unsqueeze),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_conv_auto_pad),
        cmocka_unit_test(test_pool_ceil),
        cmocka_unit_test(test_castlike_flatten_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
