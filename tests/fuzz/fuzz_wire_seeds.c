/* fuzz_wire_seeds.c: writes well-formed wire messages (input and output, a few sizes, an end of
 * stream) in fuzz_wire's framing into the directory given: the seed corpus of fuzz_wire. */
#include "../wire/wire_menu.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

static void put_frame(FILE *f, const void *p, size_t n)
{
    uint8_t len[2] = {(uint8_t)n, (uint8_t)(n >> 8)};
    fwrite(len, 1, 2, f);
    fwrite(p, 1, n, f);
}

static void seed(const char *dir, const wire_layout *l, ngt_batch *b, int n, uint32_t flags)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed_%s_%d_%u", dir, l->output ? "out" : "in", n, flags);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "fuzz_wire_seeds: cannot write %s\n", path);
        return;
    }
    uint8_t kind = (uint8_t)l->output;
    fwrite(&kind, 1, 1, f);
    wire_msg h = {0};
    h.flags = flags;
    h.count = (uint32_t)n;
    h.first_seq = 10;
    uint8_t hdr[256];
    wire_put_header(hdr, l, &h, b);
    put_frame(f, hdr, wire_header_size(l));
    for (int k = 0; k < l->n_cols; k++)
        put_frame(f, ngt_batch_column(b, l->cols[k]), (size_t)n * l->row[k]);
    if (l->output) {
        put_frame(f, ngt_batch_event_ids(b), (size_t)n * 8);
        put_frame(f, ngt_batch_column(b, l->col_decision), (size_t)n * l->row_decision);
        put_frame(f, ngt_batch_column(b, l->col_streams), (size_t)n * 8);
        put_frame(f, ngt_batch_column(b, l->col_status), (size_t)n);
        ngt_provenance p = {0};
        p.n_models = 1;
        strcpy(p.models[0].name, "m");
        uint8_t prov[WIRE_PROV_FIXED + WIRE_PROV_MODEL];
        wire_put_prov(prov, &p, "physics");
        put_frame(f, prov, sizeof prov);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_wire_seeds DIR\n");
        return 2;
    }
    ngt_schema *s;
    ngt_registry *r;
    ngt_menu *m = wm_menu(&s, &r);
    ngt_error err;
    wire_layout lin, lout;
    if (wire_layout_init(&lin, s, 0, &err) || wire_layout_init(&lout, ngt_menu_schema(m), 1, &err))
        return 1;
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 16, &err);
    int32_t *cnt = ngt_batch_column_by_name(b, "jet.n");
    for (int i = 0; i < 16; i++)
        cnt[i] = i % 5;
    const int sizes[3] = {0, 1, 7};
    for (int k = 0; k < 3; k++) {
        seed(argv[1], &lin, b, sizes[k], 0);
        seed(argv[1], &lout, b, sizes[k], 0);
    }
    seed(argv[1], &lin, b, 2, WIRE_F_END);
    wire_layout_free(&lin);
    wire_layout_free(&lout);
    ngt_batch_free(b);
    ngt_menu_free(m);
    ngt_registry_free(r);
    ngt_schema_free(s);
    return 0;
}
