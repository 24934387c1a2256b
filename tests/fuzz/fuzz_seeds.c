/* fuzz_seeds.c: writes small ONNX models (one per operator family, several opsets) into the
 * directory given, as the seed corpus of fuzz_onnx_reader. */
#include "mb.h"

#include <stdio.h>

static const int64_t D3[3] = {0, 2, 8};

static void save(mb *b, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed_%s.onnx", dir, name);
    if (mb_write(b, path))
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
    mb_free(b);
}

static mb *start(int opset)
{
    mb *b = mb_new(opset);
    mb_input(b, "x", MB_F32, 3, D3);
    mb_output(b, "y");
    return b;
}

static void mlp(const char *dir)
{
    mb *b = start(13);
    int64_t wd[2] = {8, 4}, bd[1] = {4}, sd[1] = {2}, shape[2] = {0, -1};
    float w[32] = {0}, bias[4] = {0};
    mb_init_f(b, "w", 2, wd, w);
    mb_init_f(b, "b", 1, bd, bias);
    mb_init_i(b, "s", 1, sd, shape);
    mb_node(b, "MatMul", "mm", "x,w", "m");
    mb_node(b, "Add", "add", "m,b", "a");
    mb_node(b, "Relu", "r", "a", "r0");
    mb_node(b, "Reshape", "rs", "r0,s", "f");
    Onnx__NodeProto *s = mb_node(b, "Softmax", "sm", "f", "y");
    mb_attr_i(b, s, "axis", -1);
    save(b, dir, "mlp");
}

static void conv(const char *dir, int opset)
{
    mb *b = start(opset);
    int64_t wd[3] = {3, 2, 3}, k[1] = {2};
    float w[18] = {0};
    mb_init_f(b, "w", 3, wd, w);
    Onnx__NodeProto *c = mb_node(b, "Conv", "cv", "x,w", "c");
    mb_attr_s(b, c, "auto_pad", "SAME_UPPER");
    Onnx__NodeProto *p = mb_node(b, "MaxPool", "mp", "c", "p");
    mb_attr_ints(b, p, "kernel_shape", 1, k);
    mb_attr_i(b, p, "ceil_mode", 1);
    mb_node(b, "Flatten", "fl", "p", "y");
    save(b, dir, opset < 13 ? "conv_o11" : "conv_o17");
}

static void shapes(const char *dir)
{
    mb *b = start(18);
    int64_t one[1] = {1}, two[1] = {2}, ax[1] = {2}, st[1] = {1}, en[1] = {7}, idx[2] = {0, -1};
    mb_init_i(b, "ax", 1, one, ax);
    mb_init_i(b, "st", 1, one, st);
    mb_init_i(b, "en", 1, one, en);
    mb_init_i(b, "idx", 1, two, idx);
    mb_node(b, "Slice", "sl", "x,st,en,ax", "s");
    Onnx__NodeProto *g = mb_node(b, "Gather", "ga", "s,idx", "g");
    mb_attr_i(b, g, "axis", 2);
    mb_node(b, "Unsqueeze", "us", "g,ax", "u");
    Onnx__NodeProto *c = mb_node(b, "Concat", "cat", "u,u", "y");
    mb_attr_i(b, c, "axis", 1);
    save(b, dir, "shapes");
}

static void misc(const char *dir)
{
    mb *b = start(11);
    int64_t none[1] = {0};
    float lo = 0.1f;
    mb_init_f(b, "lo", 0, none, &lo);
    mb_node(b, "Clip", "cl", "x,lo", "c");
    Onnx__NodeProto *t = mb_node(b, "Cast", "ca", "c", "i");
    mb_attr_i(b, t, "to", 7);
    t = mb_node(b, "Cast", "cb", "i", "f");
    mb_attr_i(b, t, "to", 1);
    mb_node(b, "Sqrt", "sq", "f", "q");
    int64_t perm[3] = {0, 2, 1};
    t = mb_node(b, "Transpose", "tr", "q", "y");
    mb_attr_ints(b, t, "perm", 3, perm);
    save(b, dir, "misc");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_onnx_seeds DIR\n");
        return 2;
    }
    mlp(argv[1]);
    conv(argv[1], 11);
    conv(argv[1], 17);
    shapes(argv[1]);
    misc(argv[1]);
    return 0;
}
