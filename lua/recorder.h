/* recorder.h: a runner sink that keeps processed events for `ngt run --output`: per stream the
 * accepted events' columns, and for every event its decisions (and, asked, its input columns).
 * Runs on the workers in C (no Lua there); the CLI reads the buffers after draining. */
#ifndef NGT_RECORDER_H
#define NGT_RECORDER_H

#include "ngt.h"

typedef struct ngt_recorder ngt_recorder;

/* Records the menu schema's input columns plus ngt.decision, ngt.streams and ngt.status, and the
 * derived columns named in derived (comma-separated, may be NULL: model outputs, Lua producers'
 * columns; an unknown or non-derived name is an error naming it). */
ngt_recorder *ngt_recorder_new(const ngt_menu *m, int record_input, const char *derived,
                               ngt_error *err);
void ngt_recorder_sink(void *user, ngt_batch *b); /* an ngt_sink_fn */
int ngt_recorder_ncolumns(const ngt_recorder *r);
int ngt_recorder_column(const ngt_recorder *r, int k); /* menu schema index of recorded column k */
/* Events kept for stream s (0..nstreams-1), or for every event (s = nstreams). */
uint64_t ngt_recorder_events(const ngt_recorder *r, int s);
/* Rows of recorded column k for stream s (NULL when not kept); [events][row bytes]. */
const void *ngt_recorder_data(const ngt_recorder *r, int s, int k);
/* Every event's provenance: [events][n_models] hashes of the model versions that decided it
 * (ngt_menu_model_name order); NULL when the menu has no models or no event was recorded. */
const uint64_t *ngt_recorder_models(const ngt_recorder *r, int *n_models);
int ngt_recorder_failed(const ngt_recorder *r); /* an allocation failed: output incomplete */
void ngt_recorder_free(ngt_recorder *r);

#endif
