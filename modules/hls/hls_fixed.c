/* hls_fixed.c: assignment to ap_fixed types on raw integers (rounding, then overflow), conversion
 * from double, and the type names hls4ml writes. Checked against Xilinx ap_types in tests/hls. */
#include "hls/hls_fixed.h"
#include "hls/hls_quant.h"

#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The arithmetic itself is in hls_quant.h, shared with the gpu kernels. */
hls_i128 hls_raw_max(const hls_type *t)
{
    return hls_raw_max_hd(t);
}

hls_i128 hls_raw_min(const hls_type *t)
{
    return hls_raw_min_hd(t);
}

hls_i128 hls_quant(hls_i128 v, int fsrc, const hls_type *t, int *flags)
{
    return hls_quant_hd(v, fsrc, t, flags);
}

hls_i128 hls_from_double(double x, const hls_type *t, int *flags)
{
    return hls_from_double_hd(x, t, flags);
}

/* ---- type names ------------------------------------------------------------------------------ */

static const char *const QNAMES[] = {"TRN",         "TRN_ZERO", "RND",     "RND_ZERO",
                                     "RND_MIN_INF", "RND_INF",  "RND_CONV"};
static const char *const ONAMES[] = {"WRAP", "SAT", "SAT_ZERO", "SAT_SYM"};

static int mode_index(const char *s, const char *const *names, int n)
{
    if (strncmp(s, "AP_", 3) == 0)
        s += 3;
    for (int k = 0; k < n; k++)
        if (strcmp(s, names[k]) == 0)
            return k;
    return -1;
}

/* Next comma-separated field of the template arguments (trimmed) into buf; returns the rest. */
static const char *field(const char *p, char *buf, int size)
{
    while (*p == ' ')
        p++;
    int n = 0;
    while (*p && *p != ',' && *p != '>') {
        if (*p != ' ' && n < size - 1)
            buf[n++] = *p;
        p++;
    }
    buf[n] = 0;
    return p;
}

int hls_type_parse(const char *s, hls_type *t, int wmax, ngt_error *err)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (strncmp(p, "ap_", 3) == 0)
        p += 3;
    int sign = 1, integer = 0;
    if (*p == 'u') {
        sign = 0;
        p++;
    }
    if (strncmp(p, "fixed<", 6) == 0)
        p += 6;
    else if (strncmp(p, "int<", 4) == 0) {
        p += 4;
        integer = 1;
    } else
        return seterr(err, NGT_EINVAL,
                      "precision '%s': expected fixed<W,I,...>, ufixed<>, int<W> or uint<W>", s);
    char args[5][32];
    int na = 0;
    while (na < 5) {
        p = field(p, args[na], sizeof args[na]);
        na++;
        if (*p == ',')
            p++;
        else
            break;
    }
    if (*p != '>')
        return seterr(err, NGT_EINVAL, "precision '%s': missing '>'", s);
    p++;
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return seterr(err, NGT_EINVAL, "precision '%s': text after '>'", s);
    char *end;
    long w = strtol(args[0], &end, 10);
    if (!args[0][0] || *end)
        return seterr(err, NGT_EINVAL, "precision '%s': bad width '%s'", s, args[0]);
    long i = w;
    int q = HLS_TRN, o = HLS_WRAP, next = 1;
    if (!integer) {
        if (na < 2)
            return seterr(err, NGT_EINVAL, "precision '%s': needs <W,I>", s);
        i = strtol(args[1], &end, 10);
        if (!args[1][0] || *end)
            return seterr(err, NGT_EINVAL, "precision '%s': bad integer bits '%s'", s, args[1]);
        next = 2;
    }
    if (na > next) {
        q = mode_index(args[next], QNAMES, 7);
        if (q < 0)
            return seterr(err, NGT_EINVAL, "precision '%s': unknown rounding mode '%s'", s,
                          args[next]);
    }
    if (na > next + 1) {
        o = mode_index(args[next + 1], ONAMES, 4);
        if (o < 0)
            return seterr(err, NGT_EINVAL,
                          "precision '%s': unknown overflow mode '%s' (WRAP, SAT, SAT_ZERO, "
                          "SAT_SYM)",
                          s, args[next + 1]);
    }
    if (na > next + 2 && strcmp(args[next + 2], "0") != 0)
        return seterr(err, NGT_EUNSUPPORTED,
                      "precision '%s': saturation bits (N) other than 0 are not supported", s);
    if (w < 1 || w > wmax)
        return seterr(err, NGT_EUNSUPPORTED, "precision '%s': width %ld outside 1..%d", s, w, wmax);
    if (i < -512 || i > 512)
        return seterr(err, NGT_EINVAL, "precision '%s': integer bits %ld out of range", s, i);
    t->w = (int)w;
    t->i = (int)i;
    t->sign = sign;
    t->q = q;
    t->o = o;
    return NGT_OK;
}

const char *hls_type_str(const hls_type *t, char *buf, int size)
{
    int n = snprintf(buf, (size_t)size, "ap_%sfixed<%d,%d", t->sign ? "" : "u", t->w, t->i);
    if ((t->q != HLS_TRN || t->o != HLS_WRAP) && n < size)
        n += snprintf(buf + n, (size_t)(size - n), ",AP_%s,AP_%s", QNAMES[t->q], ONAMES[t->o]);
    if (n < size)
        snprintf(buf + n, (size_t)(size - n), ">");
    return buf;
}

int hls_type_eq(const hls_type *a, const hls_type *b)
{
    return a->w == b->w && a->i == b->i && a->sign == b->sign && a->q == b->q && a->o == b->o;
}
