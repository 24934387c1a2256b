/* test_wire.c: wire format v1 codec: a batch encoded and parsed back is the same batch; every
 * malformed kind (truncated, wrong version, schema id, flags, frame count, column length, counts
 * above max, oversize, bad provenance) is refused with an error naming it. */
#include "testutil.h"
#include "wire.h"
#include "wire_menu.h"

#include <string.h>

typedef struct msg {
    int n;
    uint8_t *f[16];
    size_t sz[16];
} msg;

static void msg_free(msg *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->f[i]);
    m->n = 0;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Encodes events [0, n) of b as an input (or output) message. */
static void encode(const wire_layout *l, ngt_batch *b, int n, uint64_t first, msg *out)
{
    wire_msg h = {0};
    h.source = 3;
    h.epoch = 77;
    h.first_seq = first;
    h.count = (uint32_t)n;
    out->n = 0;
    size_t hs = wire_header_size(l);
    out->f[0] = malloc(hs);
    wire_put_header(out->f[0], l, &h, b);
    out->sz[out->n++] = hs;
    for (int k = 0; k < l->n_cols; k++) {
        out->f[out->n] = dup_bytes(ngt_batch_column(b, l->cols[k]), (size_t)n * l->row[k]);
        out->sz[out->n++] = (size_t)n * l->row[k];
    }
    if (l->output) {
        out->f[out->n] = dup_bytes(ngt_batch_event_ids(b), (size_t)n * 8);
        out->sz[out->n++] = (size_t)n * 8;
        const int cols[3] = {l->col_decision, l->col_streams, l->col_status};
        const size_t rows[3] = {l->row_decision, 8, 1};
        for (int k = 0; k < 3; k++) {
            out->f[out->n] = dup_bytes(ngt_batch_column(b, cols[k]), (size_t)n * rows[k]);
            out->sz[out->n++] = (size_t)n * rows[k];
        }
        ngt_provenance p = {0};
        p.menu_hash = 0x1234;
        p.n_models = 1;
        strcpy(p.models[0].name, "fad");
        p.models[0].hash = 99;
        p.models[0].serial = 2;
        strcpy(p.prescale_column, "lumi2e34");
        out->sz[out->n] = wire_prov_size(1);
        out->f[out->n] = calloc(1, out->sz[out->n]);
        wire_put_prov(out->f[out->n++], &p, "physics");
    }
}

static void fill(ngt_batch *b, int n)
{
    float *x = ngt_batch_column_by_name(b, "x"), *met = ngt_batch_column_by_name(b, "met");
    float *pt = ngt_batch_column_by_name(b, "jet.pt");
    int32_t *cnt = ngt_batch_column_by_name(b, "jet.n");
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++)
            x[3 * i + k] = (float)(i * 10 + k);
        met[i] = (float)i / (float)n;
        cnt[i] = i % 5;
        for (int k = 0; k < 4; k++)
            pt[4 * i + k] = (float)(100 * i + k);
    }
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 4242;
    ngt_batch_set_count(b, n, NULL);
}

static int parse(const wire_layout *l, msg *m, wire_msg *w, ngt_error *err)
{
    return wire_parse(l, m->n, (const void *const *)m->f, m->sz, w, err);
}

static void roundtrip(void **state)
{
    (void)state;
    ngt_schema *s;
    ngt_registry *r;
    ngt_menu *menu = wm_menu(&s, &r);
    wire_layout l;
    ngt_error err;
    assert_int_equal(wire_layout_init(&l, s, 0, &err), NGT_OK);
    assert_int_equal(l.n_cols, 5); /* x, met, jet.pt, jet.eta, jet.n */
    assert_int_equal(l.n_scalars, 1);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(menu), 32, &err);
    ngt_batch *c = ngt_batch_new(ngt_menu_schema(menu), 32, &err);
    fill(b, 20);
    msg m;
    encode(&l, b, 20, 1000, &m);
    wire_msg w;
    assert_int_equal(parse(&l, &m, &w, &err), NGT_OK);
    assert_int_equal(w.count, 20);
    assert_int_equal(w.source, 3);
    uint8_t bad[32];
    /* split in two pieces and packed after 5 other events */
    assert_int_equal(wire_copy_in(&l, &w, 0, 12, c, 5, bad, &err), 0);
    assert_int_equal(wire_copy_in(&l, &w, 12, 8, c, 17, bad, &err), 0);
    const float *x = ngt_batch_column_by_name(c, "x");
    const int32_t *cn = ngt_batch_column_by_name(c, "jet.n");
    for (int i = 0; i < 20; i++) {
        assert_true(x[3 * (i + 5) + 2] == (float)(i * 10 + 2));
        assert_int_equal(cn[i + 5], i % 5);
        assert_int_equal(ngt_batch_event_ids(c)[i + 5], (3ULL << 40) | (1000ULL + (uint64_t)i));
    }
    assert_true(wire_scalars_equal(&l, &w, b));
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 1;
    assert_false(wire_scalars_equal(&l, &w, b));
    msg_free(&m);
    wire_layout_free(&l);
    ngt_batch_free(b);
    ngt_batch_free(c);
    ngt_menu_free(menu);
    ngt_registry_free(r);
    ngt_schema_free(s);
}

static void output_roundtrip(void **state)
{
    (void)state;
    ngt_schema *s;
    ngt_registry *r;
    ngt_menu *menu = wm_menu(&s, &r);
    wire_layout l;
    ngt_error err;
    assert_int_equal(wire_layout_init(&l, ngt_menu_schema(menu), 1, &err), NGT_OK);
    assert_int_equal(l.n_frames, 1 + 5 + 5);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(menu), 16, &err);
    fill(b, 10);
    for (int i = 0; i < 10; i++) {
        ngt_batch_event_ids(b)[i] = 500 + (uint64_t)i;
        ((uint64_t *)ngt_batch_column_by_name(b, "ngt.streams"))[i] = 1;
        ((uint8_t *)ngt_batch_column_by_name(b, "ngt.status"))[i] = NGT_EVENT_ACCEPTED;
    }
    msg m;
    encode(&l, b, 10, 0, &m);
    wire_msg w;
    assert_int_equal(parse(&l, &m, &w, &err), NGT_OK);
    ngt_provenance p;
    char stream[NGT_NAME_MAX];
    assert_int_equal(wire_get_prov(w.prov, w.prov_size, &p, stream, &err), NGT_OK);
    assert_string_equal(stream, "physics");
    assert_string_equal(p.prescale_column, "lumi2e34");
    assert_int_equal(p.models[0].serial, 2);
    ngt_batch *c = ngt_batch_new(ngt_menu_schema(menu), 16, &err);
    uint8_t bad[16];
    assert_int_equal(wire_copy_in(&l, &w, 0, 10, c, 0, bad, &err), 0);
    assert_int_equal(ngt_batch_event_ids(c)[9], 509);
    /* an input layout refuses an output message and the other way round */
    wire_layout li;
    assert_int_equal(wire_layout_init(&li, s, 0, &err), NGT_OK);
    assert_int_equal(parse(&li, &m, &w, &err), NGT_EFORMAT);
    assert_non_null(strstr(err.msg, "output message"));
    /* provenance frame truncated */
    m.sz[m.n - 1] -= 1;
    assert_int_equal(parse(&l, &m, &w, &err), NGT_EFORMAT);
    assert_non_null(strstr(err.msg, "provenance"));
    msg_free(&m);
    wire_layout_free(&l);
    wire_layout_free(&li);
    ngt_batch_free(b);
    ngt_batch_free(c);
    ngt_menu_free(menu);
    ngt_registry_free(r);
    ngt_schema_free(s);
}

/* Each malformation, applied to a fresh good message, is refused with a message naming it. */
static void malformed(void **state)
{
    (void)state;
    ngt_schema *s;
    ngt_registry *r;
    ngt_menu *menu = wm_menu(&s, &r);
    wire_layout l;
    ngt_error err;
    assert_int_equal(wire_layout_init(&l, s, 0, &err), NGT_OK);
    l.max_events = 100;
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(menu), 16, &err);
    fill(b, 8);
    static const char *const want[] = {"shorter than 64", "magic",         "version 2",
                                       "schema id",       "unknown flags", "3 frames",
                                       "frame 2 (met)",   "oversize",      "sequence",
                                       "source id",       "reserved",      "header frame of"};
    for (int kind = 0; kind < (int)(sizeof want / sizeof want[0]); kind++) {
        msg m;
        encode(&l, b, 8, 0, &m);
        uint8_t *h = m.f[0];
        switch (kind) {
        case 0:
            m.sz[0] = 20;
            break;
        case 1:
            h[0] = 'X';
            break;
        case 2:
            h[4] = 2;
            break;
        case 3:
            h[16] ^= 1;
            break;
        case 4:
            h[8] |= 0x10;
            break;
        case 5:
            m.n = 3;
            break;
        case 6:
            m.sz[2] -= 4;
            break;
        case 7:
            wire_st32(h + 40, 1000);
            break;
        case 8:
            wire_st64(h + 32, (1ULL << 40) - 2);
            break;
        case 9:
            wire_st32(h + 12, 1u << 24);
            break;
        case 10:
            h[60] = 1;
            break;
        case 11:
            m.sz[0] += 1;
            break;
        }
        wire_msg w;
        err.msg[0] = 0;
        assert_int_equal(parse(&l, &m, &w, &err), NGT_EFORMAT);
        if (!strstr(err.msg, want[kind]))
            fail_msg("kind %d: '%s' does not say '%s'", kind, err.msg, want[kind]);
        m.n = 1 + l.n_cols;
        msg_free(&m);
    }
    /* counts above max: parsed, then refused by the count check once copied */
    ((int32_t *)ngt_batch_column_by_name(b, "jet.n"))[3] = 5;
    ((int32_t *)ngt_batch_column_by_name(b, "jet.n"))[6] = -1;
    msg m;
    encode(&l, b, 8, 0, &m);
    wire_msg w;
    assert_int_equal(parse(&l, &m, &w, &err), NGT_OK);
    ngt_batch *c = ngt_batch_new(ngt_menu_schema(menu), 16, &err);
    uint8_t bad[16];
    assert_int_equal(wire_copy_in(&l, &w, 0, 8, c, 0, bad, &err), 2);
    assert_non_null(strstr(err.msg, "count 5 outside 0..4"));
    assert_int_equal(bad[3], 1);
    assert_int_equal(bad[6], 1);
    assert_int_equal(bad[0], 0);
    msg_free(&m);
    ngt_batch_free(c);
    wire_layout_free(&l);
    ngt_batch_free(b);
    ngt_menu_free(menu);
    ngt_registry_free(r);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(output_roundtrip),
        cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
