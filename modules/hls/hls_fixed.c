/* hls_fixed.c: assignment to ap_fixed types on raw integers (rounding, then overflow), conversion
 * from double, and the type names hls4ml writes. Checked against Xilinx ap_types in tests/hls. */
#include "hls/hls_fixed.h"

#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hls_i128 hls_raw_max(const hls_type *t)
{
    int b = t->sign ? t->w - 1 : t->w;
    if (b >= 127)
        return (hls_i128)(((hls_u128)1 << 127) - 1);
    return ((hls_i128)1 << b) - 1;
}

hls_i128 hls_raw_min(const hls_type *t)
{
    if (!t->sign)
        return 0;
    return -(hls_i128)(((hls_u128)1 << (t->w - 1)) - 1) - 1;
}

/* The low w bits of v, sign-extended when t is signed. */
static hls_i128 wrap(hls_u128 v, const hls_type *t)
{
    if (t->w >= 128 || t->w < 1) /* types are 1..128 bits wide (checked when parsed) */
        return (hls_i128)v;
    hls_u128 m = ((hls_u128)1 << t->w) - 1;
    v &= m;
    if (t->sign && (v >> (t->w - 1)) & 1)
        v |= ~m;
    return (hls_i128)v;
}

/* Overflow handling of an exact (rounded) value r; big = 1 when r itself did not fit 128 bits
 * (then neg says its sign and low holds its low 128 bits). */
static hls_i128 overflow(hls_i128 r, int big, int neg, hls_u128 low, const hls_type *t, int *flags)
{
    hls_i128 mx = hls_raw_max(t), mn = hls_raw_min(t);
    int over = big ? !neg : r > mx;
    int under = big ? neg : r < mn;
    int symmin = !big && !under && t->o == HLS_SAT_SYM && t->sign && r == mn;
    if (!over && !under && !symmin)
        return r;
    if (flags && (over || under))
        *flags |= HLS_F_OVERFLOW;
    switch (t->o) {
    case HLS_SAT:
        return over ? mx : mn;
    case HLS_SAT_ZERO:
        return 0;
    case HLS_SAT_SYM:
        if (over)
            return mx;
        /* ap_types sets the lowest bit of the most negative code: -max (W = 1: -1 stays). */
        return t->sign ? (t->w == 1 ? mn : -mx) : 0;
    default:
        return wrap(big ? low : (hls_u128)r, t);
    }
}

/* 1 when quantization mode q rounds the floor r up by one LSB: neg is the sign of the exact value,
 * qb the first dropped bit, rest whether any later dropped bit is set, lsb r's lowest bit. */
static int round_up(hls_qmode q, int neg, int qb, int rest, int lsb)
{
    switch (q) {
    case HLS_TRN_ZERO:
        return neg;
    case HLS_RND:
        return qb;
    case HLS_RND_ZERO:
        return qb && (rest || neg);
    case HLS_RND_MIN_INF:
        return qb && rest;
    case HLS_RND_INF:
        return qb && (rest || !neg);
    case HLS_RND_CONV:
        return qb && (rest || lsb);
    default: /* TRN: the floor */
        return 0;
    }
}

hls_i128 hls_quant(hls_i128 v, int fsrc, const hls_type *t, int *flags)
{
    int d = fsrc - hls_frac(t);
    int neg = v < 0;
    if (d > 0) {
        if (d > 126) {
            /* |v| < 2^127: the result is 0 or -1 before rounding, the dropped part all of v. */
            hls_i128 r = neg ? -1 : 0;
            int qb = neg, rest = v != 0 && v != -1;
            if (v != 0 && flags)
                *flags |= HLS_F_ROUNDED;
            return overflow(r + round_up(t->q, neg, qb, rest, (int)(r & 1)), 0, 0, 0, t, flags);
        }
        hls_i128 r = v >> d; /* arithmetic: floor */
        hls_u128 dropped = (hls_u128)v & ((((hls_u128)1) << d) - 1);
        if (dropped) {
            int qb = (int)((dropped >> (d - 1)) & 1);
            int rest = (dropped & ((((hls_u128)1) << (d - 1)) - 1)) != 0;
            if (flags)
                *flags |= HLS_F_ROUNDED;
            r += round_up(t->q, neg, qb, rest, (int)(r & 1));
        }
        return overflow(r, 0, 0, 0, t, flags);
    }
    if (d < 0) {
        int s = -d;
        hls_u128 low = s >= 128 ? 0 : (hls_u128)v << s;
        int big = 0;
        if (v != 0) {
            if (s >= 128)
                big = 1;
            else { /* v << s fits 128 bits when -2^(127-s) <= v < 2^(127-s) */
                hls_i128 lim = (hls_i128)1 << (127 - s);
                big = v >= lim || v < -lim;
            }
        }
        return overflow(big ? 0 : (hls_i128)low, big, neg, low, t, flags);
    }
    return overflow(v, 0, 0, 0, t, flags);
}

hls_i128 hls_from_double(double x, const hls_type *t, int *flags)
{
    if (x != x || x == 0.0)
        return 0;
    if (isinf(x))
        return overflow(0, 1, x < 0, 0, t, flags);
    int e;
    double f = frexp(x, &e);           /* x = f * 2^e, 0.5 <= |f| < 1 */
    int64_t m = (int64_t)ldexp(f, 53); /* exact: 53 significant bits */
    /* x = m * 2^(e-53): fsrc = 53 - e; exponents far beyond 128-bit range saturate early. */
    int fsrc = 53 - e;
    if (fsrc < -200)
        return overflow(0, 1, x < 0, 0, t, flags);
    if (fsrc > 400)
        fsrc = 400;
    return hls_quant((hls_i128)m, fsrc, t, flags);
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
