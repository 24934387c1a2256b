/* machine.c: what ran: ngt's version, the CPU model and widest ISA, and OpenBLAS's kernel. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ngt_abi_version(void)
{
    return NGT_ABI_VERSION;
}
const char *ngt_version(void)
{
    return NGT_VERSION_STRING;
}

static char cpu_model[128];

static void read_cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    str_copy(cpu_model, "unknown", sizeof cpu_model);
    while (f && fgets(line, sizeof line, f)) {
        char *v = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !v)
            continue;
        v += 1 + (v[1] == ' ');
        v[strcspn(v, "\n")] = 0;
        str_copy(cpu_model, v, sizeof cpu_model);
        break;
    }
    if (f)
        fclose(f);
}

const char *ngt_cpu_model(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_cpu_model);
    return cpu_model;
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

/* The core does not link OpenBLAS (genc does, when built): the kernel's name is looked up in the
 * process at run time, so the report says "none" when no BLAS is loaded. */
const char *ngt_blas_kernel(void)
{
    char *(*corename)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    const char *k = corename ? corename() : NULL;
    return k && *k ? k : "none";
}
