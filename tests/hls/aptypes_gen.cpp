// aptypes_gen.cpp: writes expected ap_fixed assignment results from Xilinx ap_types (the headers
// hls4ml ships) for test_fixed.c; run by tools/hls_aptypes.py, its output committed as data/.
#include <ap_fixed.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <utility>

static uint64_t sm_state;
static uint64_t next_u64()
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
    for (int k = 0; k < 8; k++) {
        h ^= (v >> (8 * k)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

// Raw bits of x sign-extended to 128 bits, as (lo, hi).
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O>
static void raw_of(const ap_fixed_base<W, I, S, Q, O, 0> &x, uint64_t &lo, uint64_t &hi)
{
    ap_int_base<W, S> r;
    r.range(W - 1, 0) = x.range(W - 1, 0);
    if (W <= 64) {
        int64_t v = S ? (int64_t)r.to_int64() : (int64_t)r.to_uint64();
        lo = (uint64_t)v;
        hi = v < 0 ? ~0ULL : 0;
    } else {
        lo = r.range(63, 0).to_uint64();
        ap_int_base<W, S> h = r >> 64;
        hi = (uint64_t)h.to_int64();
    }
}

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O> static void narrow_one()
{
    const int WS = W + 5, IS = I + 2;
    uint64_t h = 0xcbf29ce484222325ULL, lo, hi;
    long n = 0;
    for (long c = -(1L << (WS - 1)); c < (1L << (WS - 1)); c++) {
        ap_fixed<WS, IS> s;
        s.range(WS - 1, 0) = ap_int<WS>(c);
        ap_fixed_base<W, I, S, Q, O, 0> d = s;
        raw_of(d, lo, hi);
        h = fnv(fnv(h, lo), hi);
        n++;
    }
    printf("narrow %d %d %d %d %d %ld %016llx\n", S, W, I, (int)Q, (int)O, n,
           (unsigned long long)h);
    // doubles around the type's range: m * 2^e with |m| < 2^52
    sm_state = 12345 + W * 1000 + I * 10 + S;
    h = 0xcbf29ce484222325ULL;
    for (n = 0; n < 300; n++) {
        int64_t m = (int64_t)(next_u64() >> 11) - (1LL << 52);
        int e = I + 1 - 52 - (int)(next_u64() % 12);
        double x = std::ldexp((double)m, e);
        ap_fixed_base<W, I, S, Q, O, 0> d = x;
        raw_of(d, lo, hi);
        h = fnv(fnv(h, lo), hi);
    }
    printf("double %d %d %d %d %d %ld %016llx\n", S, W, I, (int)Q, (int)O, n,
           (unsigned long long)h);
}

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O> static void wide_one()
{
    const int IS = 20;
    sm_state = 777 + W * 1000 + (I + 300) * 3 + S;
    uint64_t h = 0xcbf29ce484222325ULL, lo, hi;
    long n;
    for (n = 0; n < 2000; n++) {
        uint64_t u = next_u64();
        int sh = (int)(next_u64() % 48);
        int64_t c = (int64_t)u >> sh; // values of all magnitudes
        ap_fixed<64, IS> s;
        s.range(63, 0) = ap_int<64>(c);
        ap_fixed_base<W, I, S, Q, O, 0> d = s;
        raw_of(d, lo, hi);
        h = fnv(fnv(h, lo), hi);
    }
    printf("wide %d %d %d %d %d %ld %016llx\n", S, W, I, (int)Q, (int)O, n,
           (unsigned long long)h);
}

template <int W, int I, bool S, int... QO> static void narrow_modes(std::integer_sequence<int, QO...>)
{
    (narrow_one<W, I, S, (ap_q_mode)(QO / 4), (ap_o_mode)(QO % 4)>(), ...);
}
template <int W, int I, bool S, int... QO> static void wide_modes(std::integer_sequence<int, QO...>)
{
    (wide_one<W, I, S, (ap_q_mode)(QO / 4), (ap_o_mode)(QO % 4)>(), ...);
}

// ap_q_mode order in ap_decl.h: AP_RND, AP_RND_ZERO, AP_RND_MIN_INF, AP_RND_INF, AP_RND_CONV,
// AP_TRN, AP_TRN_ZERO; ap_o_mode: AP_SAT, AP_SAT_ZERO, AP_SAT_SYM, AP_WRAP, AP_WRAP_SM. The lines
// carry these enum values; test_fixed.c maps them.
template <int W, int I, bool S> static void narrow()
{
    narrow_modes<W, I, S>(std::make_integer_sequence<int, 28>());
}
template <int W, int I, bool S> static void wide()
{
    wide_modes<W, I, S>(std::make_integer_sequence<int, 28>());
}

int main()
{
#define N4(W) narrow<W, -1, true>(), narrow<W, 0, true>(), narrow<W, 3, true>(), \
              narrow<W, W + 1, true>(), narrow<W, -1, false>(), narrow<W, 0, false>(), \
              narrow<W, 3, false>(), narrow<W, W + 1, false>()
    N4(1), N4(2), N4(3), N4(5), N4(8);
    wide<16, 6, true>(), wide<18, 8, true>(), wide<20, 6, true>(), wide<24, 10, true>();
    wide<32, 12, true>(), wide<32, 0, true>(), wide<12, 14, true>(), wide<16, 6, false>();
    wide<40, 20, true>(), wide<64, 25, true>(), wide<96, 40, true>(), wide<128, 60, true>();
    wide<128, 20, true>(), wide<100, 30, false>();
    return 0;
}
