/* bench_cuts_plain.c: the plain-C peers (see bench_cuts.h), compiled -O3 -march=native. */
#include "bench_cuts.h"

#include <math.h>

static inline int clamp(int32_t n)
{
    return n < 0 ? 0 : n > BC_MAX ? BC_MAX : n;
}

void plain_met(const bc_cols *c, int n, double x, uint8_t *pass)
{
    for (int e = 0; e < n; e++)
        pass[e] = c->met[e] > x;
}

void plain_jet_count_eta(const bc_cols *c, int n, double x, int k, uint8_t *pass)
{
    for (int e = 0; e < n; e++) {
        int m = clamp(c->njet[e]), cnt = 0;
        const float *pt = c->jpt + e * BC_MAX, *eta = c->jeta + e * BC_MAX;
        for (int j = 0; j < m; j++)
            cnt += pt[j] > x && fabs((double)eta[j]) < 2.4;
        pass[e] = cnt >= k;
    }
}

static void count_of(const int32_t *num, const float *pts, int n, double x, int k, uint8_t *pass)
{
    for (int e = 0; e < n; e++) {
        int m = clamp(num[e]), cnt = 0;
        const float *pt = pts + e * BC_MAX;
        for (int j = 0; j < m; j++)
            cnt += pt[j] > x;
        pass[e] = cnt >= k;
    }
}

void plain_jet_count(const bc_cols *c, int n, double x, int k, uint8_t *pass)
{
    count_of(c->njet, c->jpt, n, x, k, pass);
}

void plain_mu_count(const bc_cols *c, int n, double x, int k, uint8_t *pass)
{
    count_of(c->nmu, c->mpt, n, x, k, pass);
}

void plain_ht(const bc_cols *c, int n, double x, uint8_t *pass)
{
    for (int e = 0; e < n; e++) {
        int m = clamp(c->njet[e]);
        const float *pt = c->jpt + e * BC_MAX;
        double ht = 0;
        for (int j = 0; j < m; j++)
            if (pt[j] > 30)
                ht += pt[j];
        pass[e] = ht > x;
    }
}

void plain_mass(const bc_cols *c, int n, double x, uint8_t *pass)
{
    for (int e = 0; e < n; e++) {
        const float *pt = c->jpt + e * BC_MAX, *eta = c->jeta + e * BC_MAX,
                    *phi = c->jphi + e * BC_MAX;
        if (clamp(c->njet[e]) < 2) {
            pass[e] = 0;
            continue;
        }
        double m2 = 2 * (double)pt[0] * pt[1] *
                    (cosh((double)eta[0] - eta[1]) - cos((double)phi[0] - phi[1]));
        pass[e] = sqrt(m2 > 0 ? m2 : 0) > x;
    }
}

void plain_prescale(const uint64_t *ids, int n, uint32_t f, uint8_t *pass)
{
    for (int e = 0; e < n; e++)
        pass[e] &= (uint8_t)(((ids[e] * 0x9e3779b97f4a7c15ULL) >> 33) % f == 0);
}
