/* bench_cuts.h: the plain-C peers of bench_cuts (bench_cuts_plain.c, -O3 -march=native): each cut
 * kind as the loop one would write by hand over the same columns (12-slot collections with
 * counts), values compared and summed in double as the cut language does. */
#ifndef BENCH_CUTS_H
#define BENCH_CUTS_H

#include <stdint.h>

enum { BC_MAX = 12 };

typedef struct bc_cols {
    const float *met;
    const int32_t *njet;
    const float *jpt, *jeta, *jphi;
    const int32_t *nmu;
    const float *mpt, *meta, *mphi;
} bc_cols;

/* met > x */
void plain_met(const bc_cols *c, int n, double x, uint8_t *pass);
/* count(jet, pt > x and abs(eta) < 2.4) >= k */
void plain_jet_count_eta(const bc_cols *c, int n, double x, int k, uint8_t *pass);
/* count(jet, pt > x) >= k */
void plain_jet_count(const bc_cols *c, int n, double x, int k, uint8_t *pass);
/* count(mu, pt > x) >= k */
void plain_mu_count(const bc_cols *c, int n, double x, int k, uint8_t *pass);
/* ht(jet, pt > 30) > x */
void plain_ht(const bc_cols *c, int n, double x, uint8_t *pass);
/* mass(jet, 0, 1) > x */
void plain_mass(const bc_cols *c, int n, double x, uint8_t *pass);
/* prescale: keeps event ids whose hash is 0 mod f */
void plain_prescale(const uint64_t *ids, int n, uint32_t f, uint8_t *pass);

#endif
