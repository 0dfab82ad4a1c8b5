/* lepton's vectorisable elementary functions and the Philox counter-based RNG.
 *
 * glibc's expf/logf are opaque calls (~3 ns each) that stop GCC from vectorising a loop.
 * These Cephes-style versions (range reduction + polynomial, clamps and special cases
 * written as ternaries, bit tricks instead of frexp/ldexp/floor) inline into the caller's
 * loop, which GCC -O3 vectorises at every ISA level (SSE2 / AVX2 / AVX-512): ~0.4 ns per
 * element, within a few ulp of the correctly rounded result.  Vectorising the ternaries
 * needs -fno-trapping-math (setup.py): with FP traps assumed, GCC will not evaluate both
 * arms of a select.  Special values follow C99:
 * NaN propagates, exp(+-inf) = inf / 0, log(0) = -inf, log(<0) = NaN; subnormal results
 * of exp are rounded, not flushed.  Requires round-to-nearest (the default).
 */
#ifndef LEPTON_MATH_H
#define LEPTON_MATH_H

#include <stddef.h>
#include <stdint.h>

/* Forced: a loop calls several of these, and one that is not inlined stops vectorisation. */
#define LM_INLINE static inline __attribute__((always_inline))

LM_INLINE uint32_t lm_f2u(float x) { uint32_t u; __builtin_memcpy(&u, &x, 4); return u; }
LM_INLINE float lm_u2f(uint32_t u) { float x; __builtin_memcpy(&x, &u, 4); return x; }
LM_INLINE uint64_t lm_d2u(double x) { uint64_t u; __builtin_memcpy(&u, &x, 8); return u; }
LM_INLINE double lm_u2d(uint64_t u) { double x; __builtin_memcpy(&x, &u, 8); return x; }

/* Adding MAGIC to |v| < 2^22 (2^51) rounds v to an integer n held in the low mantissa bits:
 * bits(v + MAGIC) - bits(MAGIC) == n.  Avoids floor() (a libm call without SSE4.1). */
#define LM_MAGIC_F 12582912.0f              /* 1.5 * 2^23 */
#define LM_MAGIC_D 6755399441055744.0       /* 1.5 * 2^52 */

/* ---------------------------------------------------------------- exp */
/* exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 (Cody-Waite: ln2 = C1 + C2 with C1
 * short enough that n * C1 is exact).  2^n is applied as two factors 2^n1 * 2^n2, each a
 * normal number, so results that overflow become inf and subnormal results are rounded
 * once, correctly. */
LM_INLINE float lepton_expf(float x) {
    float xc = x > 89.0f ? 89.0f : x;          /* exp(89) = inf, exp(-104) = 0 in float */
    xc = xc < -104.0f ? -104.0f : xc;
    xc = xc == xc ? xc : 0.0f;                 /* NaN: compute on 0, patched below */
    const float t = xc * 1.44269504088896341f + LM_MAGIC_F;
    const float nf = t - LM_MAGIC_F;
    const float t1 = nf * 0.5f + LM_MAGIC_F;   /* n1 ~ n/2 */
    const uint32_t n = lm_f2u(t) - lm_f2u(LM_MAGIC_F);
    const uint32_t n1 = lm_f2u(t1) - lm_f2u(LM_MAGIC_F);
    const uint32_t n2 = n - n1;
    float r = xc - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * (r * r) + r + 1.0f;
    const float s1 = lm_u2f((n1 + 127u) << 23);
    const float s2 = lm_u2f((n2 + 127u) << 23);
    const float y = (p * s1) * s2;
    return x == x ? y : x;
}

LM_INLINE double lepton_exp(double x) {
    double xc = x > 710.0 ? 710.0 : x;         /* exp(710) = inf, exp(-746) = 0 in double */
    xc = xc < -746.0 ? -746.0 : xc;
    xc = xc == xc ? xc : 0.0;
    const double t = xc * 1.4426950408889634074 + LM_MAGIC_D;
    const double nf = t - LM_MAGIC_D;
    const double t1 = nf * 0.5 + LM_MAGIC_D;
    const uint64_t n = lm_d2u(t) - lm_d2u(LM_MAGIC_D);
    const uint64_t n1 = lm_d2u(t1) - lm_d2u(LM_MAGIC_D);
    const uint64_t n2 = n - n1;
    double r = xc - nf * 6.93145751953125E-1;
    r = r - nf * 1.42860682030941723212E-6;
    /* Cephes: exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)), |r| <= ln2 / 2 */
    const double rr = r * r;
    double pp = 1.26177193074810590878E-4;
    pp = pp * rr + 3.02994407707441961300E-2;
    pp = pp * rr + 9.99999999999999999910E-1;
    pp = pp * r;
    double qq = 3.00198505138664455042E-6;
    qq = qq * rr + 2.52448340349684104192E-3;
    qq = qq * rr + 2.27265548208155028766E-1;
    qq = qq * rr + 2.00000000000000000009E0;
    const double p = 1.0 + 2.0 * (pp / (qq - pp));
    const double s1 = lm_u2d((n1 + 1023u) << 52);
    const double s2 = lm_u2d((n2 + 1023u) << 52);
    const double y = (p * s1) * s2;
    return x == x ? y : x;
}

/* ---------------------------------------------------------------- log */
/* log(x) = e ln2 + log(m), x = m 2^e with m in [sqrt(1/2), sqrt(2)); subnormals are scaled
 * up first.  Polynomial (float) / rational (double) in m - 1 from Cephes. */
LM_INLINE float lepton_logf(float x) {
    const int sub = x < 1.17549435e-38f;       /* subnormal, zero or negative */
    const float xs = x * (sub ? 33554432.0f : 1.0f);   /* * 2^25 */
    const uint32_t u = lm_f2u(xs);
    float e = (float)(int32_t)((u >> 23) & 0xffu) - 126.0f - (sub ? 25.0f : 0.0f);
    float m = lm_u2f((u & 0x007fffffu) | 0x3f000000u);   /* [0.5, 1) */
    const int lo = m < 0.707106781186547524f;
    e = e - (lo ? 1.0f : 0.0f);
    const float f = m * (lo ? 2.0f : 1.0f) - 1.0f;
    const float z = f * f;
    float y = 7.0376836292E-2f;
    y = y * f - 1.1514610310E-1f;
    y = y * f + 1.1676998740E-1f;
    y = y * f - 1.2420140846E-1f;
    y = y * f + 1.4249322787E-1f;
    y = y * f - 1.6668057665E-1f;
    y = y * f + 2.0000714765E-1f;
    y = y * f - 2.4999993993E-1f;
    y = y * f + 3.3333331174E-1f;
    y = y * f * z;
    y = y + e * -2.12194440e-4f;
    y = y - 0.5f * z;
    float r = (f + y) + e * 0.693359375f;
    r = x == __builtin_inff() ? x : r;
    r = x == 0.0f ? -__builtin_inff() : r;
    r = x < 0.0f ? __builtin_nanf("") : r;
    return x == x ? r : x;
}

LM_INLINE double lepton_log(double x) {
    const int sub = x < 2.2250738585072014e-308;
    const double xs = x * (sub ? 18014398509481984.0 : 1.0);   /* * 2^54 */
    const uint64_t u = lm_d2u(xs);
    /* exponent field -> double via 2^52 | k (no packed int64 -> double before AVX-512) */
    double e = lm_u2d(0x4330000000000000ull | ((u >> 52) & 0x7ffu)) - 4503599627370496.0;
    e = e - 1022.0 - (sub ? 54.0 : 0.0);
    double m = lm_u2d((u & 0x000fffffffffffffull) | 0x3fe0000000000000ull);
    const int lo = m < 0.70710678118654752440;
    e = e - (lo ? 1.0 : 0.0);
    const double f = m * (lo ? 2.0 : 1.0) - 1.0;
    const double z = f * f;
    double pp = 1.01875663804580931796E-4;
    pp = pp * f + 4.97494994976747001425E-1;
    pp = pp * f + 4.70579119878881725854E0;
    pp = pp * f + 1.44989225341610930846E1;
    pp = pp * f + 1.79368678507819816313E1;
    pp = pp * f + 7.70838733755885391666E0;
    double qq = f + 1.12873587189167450590E1;
    qq = qq * f + 4.52279145837532221105E1;
    qq = qq * f + 8.29875266912776603211E1;
    qq = qq * f + 7.11544750618563894466E1;
    qq = qq * f + 2.31251620126765340583E1;
    double y = f * (z * pp / qq);
    y = y + e * -2.121944400546905827679e-4;
    y = y - 0.5 * z;
    double r = (f + y) + e * 0.693359375;
    r = x == __builtin_inf() ? x : r;
    r = x == 0.0 ? -__builtin_inf() : r;
    r = x < 0.0 ? __builtin_nan("") : r;
    return x == x ? r : x;
}

/* ---------------------------------------------------------------- log1p, expm1 */
/* Goldberg's trick: with u = 1 + x (rounded), log1p(x) = log(u) * x / (u - 1) cancels the
 * rounding error of u; exact for u == 1. */
LM_INLINE float lepton_log1pf(float x) {
    const float u = 1.0f + x;
    const float d = u - 1.0f;
    const float r = lepton_logf(u) * (x / (d == 0.0f ? 1.0f : d));
    return ((d == 0.0f) | (x == __builtin_inff())) ? x : r;
}

LM_INLINE double lepton_log1p(double x) {
    const double u = 1.0 + x;
    const double d = u - 1.0;
    const double r = lepton_log(u) * (x / (d == 0.0 ? 1.0 : d));
    return ((d == 0.0) | (x == __builtin_inf())) ? x : r;
}

/* Kahan's trick: with u = exp(x), expm1(x) = (u - 1) x / log(u). */
LM_INLINE float lepton_expm1f(float x) {
    const float u = lepton_expf(x);
    const float d = u - 1.0f;
    const float l = lepton_logf(u);
    const float r = d * (x / (l == 0.0f ? 1.0f : l));
    float y = u == 1.0f ? x : r;
    y = d == -1.0f ? -1.0f : y;
    return u == __builtin_inff() ? u : y;
}

LM_INLINE double lepton_expm1(double x) {
    const double u = lepton_exp(x);
    const double d = u - 1.0;
    const double l = lepton_log(u);
    const double r = d * (x / (l == 0.0 ? 1.0 : l));
    double y = u == 1.0 ? x : r;
    y = d == -1.0 ? -1.0 : y;
    return u == __builtin_inf() ? u : y;
}

/* ---------------------------------------------------------------- sigmoid, tanh, softplus */
#define LEPTON_GELU_C 0.79788456080286535588   /* sqrt(2 / pi) */
#define LEPTON_GELU_A 0.044715

/* sigmoid from e = exp(-|x|) <= 1: 1 / (1 + e) for x >= 0, e / (1 + e) below, so tiny
 * results near the underflow limit keep their relative accuracy. */
LM_INLINE float lepton_sigmoidf(float x) {
    const float e = lepton_expf(-__builtin_fabsf(x));
    const float s = 1.0f / (1.0f + e);
    const float es = e * s;
    return x >= 0.0f ? s : es;
}

LM_INLINE double lepton_sigmoid(double x) {
    const double e = lepton_exp(-__builtin_fabs(x));
    const double s = 1.0 / (1.0 + e);
    const double es = e * s;
    return x >= 0.0 ? s : es;
}

/* tanh: odd polynomial (float) / rational (double) below 0.625 where 1 - 2/(e^2|x| + 1)
 * would cancel; that formula above (e^2|x| = inf gives exactly 1). */
LM_INLINE float lepton_tanhf(float x) {
    const float ax = __builtin_fabsf(x);
    const float z = x * x;
    float p = -5.70498872745E-3f;
    p = p * z + 2.06390887954E-2f;
    p = p * z - 5.37397155531E-2f;
    p = p * z + 1.33314422036E-1f;
    p = p * z - 3.33332819422E-1f;
    const float small = p * z * x + x;
    const float big = __builtin_copysignf(1.0f - 2.0f / (lepton_expf(ax + ax) + 1.0f), x);
    return ax < 0.625f ? small : big;
}

LM_INLINE double lepton_tanh(double x) {
    const double ax = __builtin_fabs(x);
    const double z = x * x;
    double pp = -9.64399179425052238628E-1;
    pp = pp * z - 9.92877231001918586564E1;
    pp = pp * z - 1.61468768441708447952E3;
    double qq = z + 1.12811678491632931402E2;
    qq = qq * z + 2.23548839060100448583E3;
    qq = qq * z + 4.84406305325125486048E3;
    const double small = x + x * z * (pp / qq);
    const double big = __builtin_copysign(1.0 - 2.0 / (lepton_exp(ax + ax) + 1.0), x);
    return ax < 0.625 ? small : big;
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for any x. */
LM_INLINE float lepton_softplusf(float x) {
    return (x > 0.0f ? x : 0.0f) + lepton_log1pf(lepton_expf(-__builtin_fabsf(x)));
}

LM_INLINE double lepton_softplus(double x) {
    return (x > 0.0 ? x : 0.0) + lepton_log1p(lepton_exp(-__builtin_fabs(x)));
}

/* ---------------------------------------------------------------- Philox4x32-10 */
/* Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11); constants and
 * round function as in Random123.  One round; the key of round r is (k0 + r W0, k1 + r W1). */
#define LM_PHILOX_ROUND(r) {                                                   \
    const uint64_t p0 = (uint64_t)0xD2511F53u * x0;                            \
    const uint64_t p1 = (uint64_t)0xCD9E8D57u * x2;                            \
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ x1 ^ (k0 + (r) * 0x9E3779B9u);  \
    const uint32_t n2 = (uint32_t)(p0 >> 32) ^ x3 ^ (k1 + (r) * 0xBB67AE85u);  \
    x1 = (uint32_t)p1; x3 = (uint32_t)p0; x0 = n0; x2 = n2; }

/* words[4 i + j] = word j of Philox4x32-10(counter_i, key (k0, k1)) for i < nb, with
 * counter_i = (b mod 2^32, c1, c2, c3 ^ (b >> 32)), b = b0 + i.  Blocks are independent, so
 * GCC vectorises the loop across them (32x32->64 multiplies are pmuludq at every level). */
LM_INLINE void lepton_philox4x32_10(uint64_t b0, ptrdiff_t nb, uint32_t c1, uint32_t c2,
                                    uint32_t c3, uint32_t k0, uint32_t k1,
                                    uint32_t* restrict words) {
    for (ptrdiff_t i = 0; i < nb; ++i) {
        const uint64_t b = b0 + (uint64_t)i;
        uint32_t x0 = (uint32_t)b, x1 = c1, x2 = c2, x3 = c3 ^ (uint32_t)(b >> 32);
        LM_PHILOX_ROUND(0u) LM_PHILOX_ROUND(1u) LM_PHILOX_ROUND(2u) LM_PHILOX_ROUND(3u)
        LM_PHILOX_ROUND(4u) LM_PHILOX_ROUND(5u) LM_PHILOX_ROUND(6u) LM_PHILOX_ROUND(7u)
        LM_PHILOX_ROUND(8u) LM_PHILOX_ROUND(9u)
        words[4 * i] = x0;
        words[4 * i + 1] = x1;
        words[4 * i + 2] = x2;
        words[4 * i + 3] = x3;
    }
}

#endif /* LEPTON_MATH_H */
