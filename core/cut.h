/* cut.h: the cut expression language (docs/cuts.md), compiled once per menu and evaluated on the
 * selected events of a batch, a block of events at a time (never interpreted per event). */
#ifndef NGT_CUT_H
#define NGT_CUT_H

#include "ngt.h"

typedef struct cut_program cut_program;

/* Parses and type-checks expr against schema s (input and derived columns); the result must be
 * boolean. Errors name the position ("col 12") and the problem. */
cut_program *cut_compile(const ngt_schema *s, const char *expr, ngt_error *err);
void cut_free(cut_program *c);
/* Column indices the expression reads (count columns of collections included). Returns how many
 * there are; writes at most max of them. */
int cut_columns(const cut_program *c, int *cols, int max);
/* Bytes of scratch cut_eval needs for up to max_events selected events. */
size_t cut_scratch_size(const cut_program *c, int max_events);
/* For i < n: pass[i] = value of the expression on event sel[i] of b (1 or 0). scratch holds
 * cut_scratch_size bytes, 64-byte aligned. No allocation. Returns NGT_OK. */
int cut_eval(const cut_program *c, ngt_batch *b, const uint32_t *sel, int n, uint8_t *pass,
             void *scratch);
/* The expression as parsed, fully parenthesised (for ngt inspect and error messages). */
const char *cut_text(const cut_program *c);

#endif
