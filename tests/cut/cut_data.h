/* cut_data.h: the schema and the seeded random batch the cut tests evaluate expressions on, and a
 * tiny .npy writer for handing the same columns to the NumPy oracle. */
#ifndef CUT_DATA_H
#define CUT_DATA_H

#include "ngt.h"

enum { CD_JET_MAX = 12, CD_MU_MAX = 4 };

/* Event columns of every dtype (scalars and arrays), batch scalars run (u32) and calib (f64),
 * collections jet{pt eta phi btag charge} (max 12) and mu{pt eta phi m} (max 4). */
ngt_schema *cd_schema(void);
/* A batch of n events filled from seed: random values plus edge values (thresholds hit exactly,
 * zeros, extremes of the integer types), object counts from -1 to max + 1, and a NaN or an
 * infinity in one kinematic field of about one object in 40. */
ngt_batch *cd_batch(const ngt_schema *s, int n, uint64_t seed);
/* Writes an array as .npy (version 1.0); returns 0 or -1. */
int cd_npy_write(const char *path, ngt_dtype t, int rank, const int64_t *shape, const void *data);

#endif
