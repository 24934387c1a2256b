/* test_read.c: the reader on the canonical models and on small built models: tensors, shapes
 * with the events dimension, constants, attributes and node order come out as the file says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "mb.h"

static const onnx_tensor *tensor(const onnx_graph *g, const char *name)
{
    int k = onnx_find_tensor(g, name);
    assert_true(k >= 0);
    return &g->tensors[k];
}

static void test_fad(void **state)
{
    (void)state;
    ngt_error err = {0};
    onnx_graph *g = onnx_read_file("models/fad.onnx", &err);
    if (!g && err.code == NGT_EIO)
        skip(); /* the canonical models are not generated yet */
    assert_non_null(g);
    assert_int_equal(g->opset, 17);
    assert_int_equal(g->n_inputs, 1);
    const onnx_tensor *in = &g->tensors[g->inputs[0]];
    assert_string_equal(in->name, "input");
    assert_int_equal(in->rank, 2);
    assert_int_equal(in->shape[0], ONNX_BATCH);
    assert_int_equal(in->shape[1], 77);
    assert_int_equal(g->n_nodes, 7);
    static const onnx_op ops[] = {ONNX_OP_GEMM, ONNX_OP_RELU, ONNX_OP_GEMM, ONNX_OP_RELU,
                                  ONNX_OP_GEMM, ONNX_OP_RELU, ONNX_OP_GEMM};
    for (int i = 0; i < 7; i++)
        assert_int_equal(g->nodes[i].op, ops[i]);
    const onnx_tensor *w = tensor(g, "fc1.weight");
    assert_int_equal(w->kind, ONNX_T_CONST);
    assert_int_equal(w->dtype, NGT_F32);
    assert_int_equal(w->rank, 2);
    assert_int_equal(w->shape[0], 32);
    assert_int_equal(w->shape[1], 77);
    assert_int_equal(w->bytes, 32 * 77 * 4);
    assert_int_equal(onnx_attr_int(&g->nodes[0], "transB", 0), 1);
    assert_true(onnx_attr_float(&g->nodes[0], "alpha", 0) == 1.0f);
    const onnx_tensor *fc1 = tensor(g, "fc1");
    assert_int_equal(fc1->shape[0], ONNX_BATCH);
    assert_int_equal(fc1->shape[1], 32);
    assert_int_equal(g->n_outputs, 1);
    const onnx_tensor *out = &g->tensors[g->outputs[0]];
    assert_int_equal(out->rank, 2);
    assert_int_equal(out->shape[1], 76);
    assert_int_equal(onnx_tensor_elems(out), 76);
    onnx_graph_free(g);
}

static void test_mdt(void **state)
{
    (void)state;
    ngt_error err = {0};
    onnx_graph *g = onnx_read_file("models/mdt.onnx", &err);
    if (!g && err.code == NGT_EIO)
        skip();
    assert_non_null(g);
    const onnx_node *c1 = &g->nodes[0];
    assert_int_equal(c1->op, ONNX_OP_CONV);
    const int64_t *pads;
    assert_int_equal(onnx_attr_ints(c1, "pads", &pads), 2);
    assert_int_equal(pads[0], 11); /* 'same' with kernel 24: 11 before, 12 after */
    assert_int_equal(pads[1], 12);
    const onnx_tensor *y = tensor(g, "conv1");
    assert_int_equal(y->rank, 3);
    assert_int_equal(y->shape[1], 12);
    assert_int_equal(y->shape[2], 216);
    assert_int_equal(g->nodes[g->n_nodes - 1].op, ONNX_OP_SIGMOID);
    onnx_graph_free(g);
}

/* Constant nodes become constants; the IR keeps the node order and the optional inputs. */
static void test_constant_and_order(void **state)
{
    (void)state;
    mb *b = mb_new(13);
    int64_t d[2] = {0, 3}, cd[1] = {3};
    float cv[3] = {1, 2, 3};
    mb_input(b, "x", MB_F32, 2, d);
    Onnx__NodeProto *c = mb_node(b, "Constant", "k", "", "kv");
    mb_attr_t(b, c, "value", 1, cd, cv);
    mb_node(b, "Add", "add", "x,kv", "s");
    mb_node(b, "Relu", "", "s", "y");
    mb_output(b, "y");
    ngt_error err = {0};
    onnx_graph *g = mb_read(b, &err);
    assert_non_null(g);
    assert_int_equal(g->n_nodes, 2);
    assert_string_equal(g->nodes[0].name, "add");
    assert_string_equal(g->nodes[1].name, "#2"); /* unnamed: its index in the file */
    const onnx_tensor *k = tensor(g, "kv");
    assert_int_equal(k->kind, ONNX_T_CONST);
    assert_true(((float *)k->data)[2] == 3.0f);
    assert_int_equal(tensor(g, "s")->producer, 0);
    assert_int_equal(tensor(g, "y")->producer, 1);
    onnx_graph_free(g);
    mb_free(b);
}

/* Shape inference through broadcasting, MatMul, Transpose, Concat, Gather and Slice. */
static void test_shapes(void **state)
{
    (void)state;
    mb *b = mb_new(17);
    int64_t d[3] = {0, 4, 6}, wd[2] = {6, 5}, idx[2] = {-1, 0}, id[1] = {2};
    int64_t st[1] = {-1}, en[1] = {-100}, ax[1] = {2}, sp[1] = {-2}, one[1] = {1};
    float w[30] = {0};
    mb_input(b, "x", MB_F32, 3, d);
    mb_init_f(b, "w", 2, wd, w);
    mb_init_i(b, "idx", 1, id, idx);
    mb_init_i(b, "st", 1, one, st);
    mb_init_i(b, "en", 1, one, en);
    mb_init_i(b, "ax", 1, one, ax);
    mb_init_i(b, "sp", 1, one, sp);
    mb_node(b, "MatMul", "mm", "x,w", "m");                       /* [N,4,5] */
    Onnx__NodeProto *t = mb_node(b, "Transpose", "tr", "m", "t"); /* [N,5,4] */
    int64_t perm[3] = {0, 2, 1};
    mb_attr_ints(b, t, "perm", 3, perm);
    Onnx__NodeProto *c = mb_node(b, "Concat", "cat", "t,t", "c"); /* [N,5,8] */
    mb_attr_i(b, c, "axis", -1);
    Onnx__NodeProto *ga = mb_node(b, "Gather", "ga", "c,idx", "g"); /* [N,5,2] */
    mb_attr_i(b, ga, "axis", 2);
    mb_node(b, "Slice", "sl", "c,st,en,ax,sp", "s"); /* [N,5,4]: 7,5,3,1 */
    mb_output(b, "g");
    mb_output(b, "s");
    ngt_error err = {0};
    onnx_graph *g = mb_read(b, &err);
    assert_non_null(g);
    const onnx_tensor *m = tensor(g, "m"), *tt = tensor(g, "t"), *cc = tensor(g, "c");
    assert_int_equal(m->shape[1], 4);
    assert_int_equal(m->shape[2], 5);
    assert_int_equal(tt->shape[1], 5);
    assert_int_equal(tt->shape[2], 4);
    assert_int_equal(cc->shape[2], 8);
    assert_int_equal(onnx_attr_int(&g->nodes[2], "axis", -9), 2);
    assert_int_equal(tensor(g, "g")->shape[2], 2);
    const onnx_tensor *s = tensor(g, "s");
    assert_int_equal(s->shape[0], ONNX_BATCH);
    assert_int_equal(s->shape[2], 4);
    const int64_t *starts, *steps;
    assert_int_equal(onnx_attr_ints(&g->nodes[4], "starts", &starts), 3);
    assert_int_equal(onnx_attr_ints(&g->nodes[4], "steps", &steps), 3);
    assert_int_equal(starts[2], 7);
    assert_int_equal(steps[2], -2);
    assert_int_equal(g->nodes[4].n_in, 1);
    onnx_graph_free(g);
    mb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fad),
        cmocka_unit_test(test_mdt),
        cmocka_unit_test(test_constant_and_order),
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
