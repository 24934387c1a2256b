/* machine.c: what ran: ngt's version, the CPU model and widest ISA, and OpenBLAS's kernel. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

int ngt_abi_version(void)
{
    return NGT_ABI_VERSION;
}
const char *ngt_version(void)
{
    return NGT_VERSION_STRING;
}

const char *ngt_cpu_model(void)
{
    static char model[128];
    static int done;
    if (!done) {
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[512];
        ngt_strlcpy(model, "unknown", sizeof model);
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    v += 1 + (v[1] == ' ');
                    v[strcspn(v, "\n")] = 0;
                    ngt_strlcpy(model, v, sizeof model);
                }
                break;
            }
        if (f)
            fclose(f);
        done = 1;
    }
    return model;
}

const char *ngt_cpu_isa(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "avx2";
    if (__builtin_cpu_supports("sse2"))
        return "sse2";
#endif
    return "generic";
}

extern char *openblas_get_corename(void);

const char *ngt_blas_kernel(void)
{
    const char *k = openblas_get_corename();
    return k && *k ? k : "none";
}
