// bench_torch_cpp.cpp: the peer of bench/torch's shim measurement: the same .pt2 called from C++
// through torch's own AOTIModelPackageLoader (built against the wheel's headers), input made
// with from_blob over a buffer once per call, output copied out, as ngt's shim does.
// The shim's overhead is measured in this one process: rounds of the C++ loader and of ngt's torch
// backend (libngt, the C ABI) on the same package alternate, and the medians are compared.
// Prints "time cpp MODEL BATCH S", "time shim MODEL BATCH S" (medians of 21 rounds; shim_min, cpp_min: the fastest round).
// Usage: bench_torch_cpp PT2 MODEL BUDGET_S BATCH...
#include "ngt.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        std::fprintf(stderr, "usage: bench_torch_cpp PT2 MODEL BUDGET_S BATCH...\n");
        return 2;
    }
    at::set_num_threads(1);
    torch::inductor::AOTIModelPackageLoader loader(argv[1]);
    double budget = std::atof(argv[3]);
    bool fad = std::strcmp(argv[2], "fad") == 0;
    std::vector<int64_t> ev = fad ? std::vector<int64_t>{77} : std::vector<int64_t>{1, 216};
    std::vector<int64_t> ov = fad ? std::vector<int64_t>{76} : std::vector<int64_t>{1, 216};
    int64_t in_row = fad ? 77 : 216, out_row = fad ? 76 : 216;
    std::vector<float> x(1024 * in_row), y(1024 * out_row);
    ngt_registry *reg = ngt_registry_new(nullptr); // the backend through libngt's public API
    const ngt_backend *be = ngt_registry_backend(reg, "torch");
    void *model = nullptr;
    ngt_error lerr{};
    if (be->load(argv[1], "threads=1", &model, &lerr)) {
        std::fprintf(stderr, "bench_torch_cpp: %s\n", lerr.msg);
        return 1;
    }
    for (size_t i = 0; i < x.size(); i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    for (int a = 4; a < argc; a++) {
        int64_t n = std::atoi(argv[a]);
        std::vector<int64_t> shape{n};
        shape.insert(shape.end(), ev.begin(), ev.end());
        auto call = [&] {
            std::vector<at::Tensor> in{at::from_blob(x.data(), shape, at::kFloat)};
            std::vector<at::Tensor> out = loader.run(in);
            std::memcpy(y.data(), out[0].data_ptr(), (size_t)(n * out_row) * sizeof(float));
        };
        ngt_error err{};
        const void *in[1] = {x.data()};
        void *out[1] = {y.data()};
        auto shim = [&] {
            if (be->infer(model, nullptr, in, out, (int)n, &err)) {
                std::fprintf(stderr, "bench_torch_cpp: %s\n", err.msg);
                std::exit(1);
            }
        };
        auto round = [&](auto &&f) {
            long c = 0;
            double t0 = now(), t;
            do {
                f();
                c++;
                t = now() - t0;
            } while (t < budget / 21);
            return t / (double)c;
        };
        for (int i = 0; i < 20; i++) {
            call();
            shim();
        }
        std::vector<double> tc, ts;
        for (int r = 0; r < 21; r++) {
            tc.push_back(round(call));
            ts.push_back(round(shim));
        }
        std::sort(tc.begin(), tc.end());
        std::sort(ts.begin(), ts.end());
        double best = tc[10];
        std::printf("time shim %s %lld %.9g\n", argv[2], (long long)n, ts[10]);
        std::printf("time shim_min %s %lld %.9g\n", argv[2], (long long)n, ts[0]);
        std::printf("time cpp_min %s %lld %.9g\n", argv[2], (long long)n, tc[0]);
        std::printf("time cpp %s %lld %.9g\n", argv[2], (long long)n, best);
        std::fflush(stdout);
    }
    (void)ov;
    be->unload(model);
    ngt_registry_free(reg);
    return 0;
}
