/*
 * Vectorised exp / tanh / sigmoid (private to HighwayKernels), written once and compiled per
 * instruction set (DESIGN.md decision 5).
 *
 * This header is a template: define HK_VW (lanes: 16 for AVX-512, 8 for AVX2, 4 for the portable
 * build), HK_SUFFIX and HK_TARGET, then include it. It defines static functions named
 * hk_<fn>_<suffix> on the vector type hk_vf_<suffix>, each carrying the target attribute, so the
 * compiler's vector extensions lower to that instruction set. Accuracy: a few ulp over the float
 * range (Cephes polynomials); NaN stays NaN.
 */
#include "isa.h"
#include <string.h>

#define HK_CAT_(a, b) a##_##b
#define HK_CAT(a, b) HK_CAT_(a, b)
#define VF HK_CAT(hk_vf, HK_SUFFIX)
#define VI HK_CAT(hk_vi, HK_SUFFIX)
#define FN(name) HK_CAT(name, HK_SUFFIX)
#define HK_FN HK_TARGET static inline __attribute__((always_inline))

typedef float VF __attribute__((vector_size(HK_VW * 4), aligned(4)));
typedef int VI __attribute__((vector_size(HK_VW * 4), aligned(4)));

HK_FN VF FN(hk_splat)(float x) { return (VF){0} + x; }
HK_FN VF FN(hk_load)(const float *p) { VF v; memcpy(&v, p, sizeof v); return v; }
HK_FN void FN(hk_store)(float *p, VF v) { memcpy(p, &v, sizeof v); }
/* mask ? a : b, with mask lanes all-ones or all-zeros */
HK_FN VF FN(hk_select)(VI mask, VF a, VF b) { return (VF)(((VI)a & mask) | ((VI)b & ~mask)); }

/* exp(x): Cody–Waite range reduction x = n·ln2 + r, a degree-6 polynomial for e^r, 2^n by bits. */
HK_FN VF FN(hk_exp)(VF x) {
    VF xc = __builtin_elementwise_min(__builtin_elementwise_max(x, FN(hk_splat)(-87.33654f)),
                                      FN(hk_splat)(88.37626f));
    VF n = __builtin_elementwise_roundeven(xc * 1.44269504088896341f);
    VF r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    VF p = FN(hk_splat)(1.9875691500E-4f);
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    VF e = p * (r * r) + r + 1.0f;
    VI bits = (__builtin_convertvector(n, VI) + 127) << 23;
    VF y = e * (VF)bits;
    /* past the clamps: overflow to +inf, underflow to 0 (below e^-87.3 ≈ 1.2e-38); NaN stays */
    y = FN(hk_select)((VI)(x > 88.37626f), FN(hk_splat)(__builtin_inff()), y);
    y = FN(hk_select)((VI)(x < -87.33654f), FN(hk_splat)(0.0f), y);
    return FN(hk_select)((VI)(x == x), y, x);
}

/* tanh(x): a [13/6] rational approximation on |x| ≤ 7.905 (beyond it tanh rounds to ±1 in float),
 * one division and no exp; max error 3.3e-7 absolute and relative over the float range. */
HK_FN VF FN(hk_tanh)(VF x) {
    VF c = __builtin_elementwise_min(__builtin_elementwise_max(x, FN(hk_splat)(-7.90531110763549805f)),
                                     FN(hk_splat)(7.90531110763549805f));
    VF z = c * c;
    VF p = FN(hk_splat)(-2.76076847742355e-16f);
    p = p * z + 2.00018790482477e-13f;
    p = p * z - 8.60467152213735e-11f;
    p = p * z + 5.12229709037114e-08f;
    p = p * z + 1.48572235717979e-05f;
    p = p * z + 6.37261928875436e-04f;
    p = p * z + 4.89352455891786e-03f;
    VF q = FN(hk_splat)(1.19825839466702e-06f);
    q = q * z + 1.18534705686654e-04f;
    q = q * z + 2.26843463243900e-03f;
    q = q * z + 4.89352518554385e-03f;
    return FN(hk_select)((VI)(x == x), p * c / q, x);
}

/* sigmoid through tanh, 1/2 + tanh(x/2)/2: no exp, absolute error ≤ 2.3e-7 (the relative error of
 * tiny outputs is large, so the public hk_vsigmoid keeps the exp form; a gate needs this one). */
HK_FN VF FN(hk_sigmoid_gate)(VF x) { return 0.5f + 0.5f * FN(hk_tanh)(0.5f * x); }

/* sigmoid(x) = 1 / (1 + e^{−x}) */
HK_FN VF FN(hk_sigmoid)(VF x) {
    VF y = 1.0f / (1.0f + FN(hk_exp)(-x));
    return FN(hk_select)((VI)(x == x), y, x);
}

/* y[i] = F(x[i]) for n floats; the tail goes through a zero-padded buffer. */
#define HK_MAP(F, n, x, y)                                                                         \
    do {                                                                                           \
        long i_ = 0;                                                                               \
        for (; i_ + HK_VW <= (n); i_ += HK_VW) FN(hk_store)((y) + i_, F(FN(hk_load)((x) + i_)));   \
        if (i_ < (n)) {                                                                            \
            float buf_[HK_VW] = {0};                                                               \
            memcpy(buf_, (x) + i_, (size_t)((n)-i_) * sizeof(float));                              \
            FN(hk_store)(buf_, F(FN(hk_load)(buf_)));                                              \
            memcpy((y) + i_, buf_, (size_t)((n)-i_) * sizeof(float));                              \
        }                                                                                          \
    } while (0)

#undef HK_FN
