/* One instruction set's fused layer kernels; included once per variant by layers.c. */
#include "vecmath.h"

/* act(v) and act'(expressed through the output y) on a vector */
HK_TARGET static inline __attribute__((always_inline)) VF FN(act_fwd)(int act, VF v) {
    switch (act) {
    case HK_ACT_RELU: return __builtin_elementwise_max(v, FN(hk_splat)(0));
    case HK_ACT_TANH: return FN(hk_tanh)(v);
    case HK_ACT_SIGMOID: return FN(hk_sigmoid_gate)(v);
    default: return v;
    }
}
HK_TARGET static inline __attribute__((always_inline)) VF FN(act_grad)(int act, VF y) {
    switch (act) {
    case HK_ACT_RELU: return FN(hk_select)((VI)(y > 0.0f), FN(hk_splat)(1), FN(hk_splat)(0));
    case HK_ACT_TANH: return 1.0f - y * y;
    case HK_ACT_SIGMOID: return y * (1.0f - y);
    default: return FN(hk_splat)(1);
    }
}

/* Loads/stores of a row's last, partial vector. Rows of 50 or 71 floats end mid-vector on every
 * row, so this path is hot: masked moves where the instruction set has them, a buffer otherwise. */
HK_TARGET static inline __attribute__((always_inline)) VF FN(load_n)(const float *p, long n) {
    if (n >= HK_VW) return FN(hk_load)(p);
#if HK_TAIL == 2
    return (VF)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#elif HK_TAIL == 1
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return (VF)_mm256_maskload_ps(p, m);
#else
    float buf[HK_VW] = {0};
    memcpy(buf, p, (size_t)n * sizeof(float));
    return FN(hk_load)(buf);
#endif
}
HK_TARGET static inline __attribute__((always_inline)) void FN(store_n)(float *p, VF v, long n) {
    if (n >= HK_VW) { FN(hk_store)(p, v); return; }
#if HK_TAIL == 2
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#elif HK_TAIL == 1
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p, m, (__m256)v);
#else
    float buf[HK_VW];
    FN(hk_store)(buf, v);
    memcpy(p, buf, (size_t)n * sizeof(float));
#endif
}

HK_TARGET static void FN(bias_act_forward)(int act, long rows, long n, float *z, const float *bias) {
    for (long r = 0; r < rows; r++) {
        float *zr = z + r * n;
        for (long j = 0; j < n; j += HK_VW) {
            long m = n - j;
            VF v = FN(load_n)(zr + j, m);
            if (bias) v += FN(load_n)(bias + j, m);
            FN(store_n)(zr + j, FN(act_fwd)(act, v), m);
        }
    }
}

/* dbias[j] += Σ_r dz[r, j] for dz rows×n with row stride ld: rows inner, so each column block
 * accumulates in a register (a per-row read-modify-write of dbias would chain every row). */
HK_TARGET static void FN(column_sums)(long rows, long n, long ld, const float *dz, float *dbias) {
    for (long j = 0; j < n; j += HK_VW) {
        long m = n - j;
        VF acc = FN(hk_splat)(0);
        for (long r = 0; r < rows; r++) acc += FN(load_n)(dz + r * ld + j, m);
        FN(store_n)(dbias + j, FN(load_n)(dbias + j, m) + acc, m);
    }
}

HK_TARGET static void FN(act_backward)(int act, long rows, long n, const float *y, const float *dy,
                                      float *dz, float *dbias) {
    for (long r = 0; r < rows; r++) {
        for (long j = 0; j < n; j += HK_VW) {
            long m = n - j, o = r * n + j;
            /* dz = dy · act'(z), with act' written through y = act(z) */
            VF g = FN(load_n)(dy + o, m) * FN(act_grad)(act, FN(load_n)(y + o, m));
            FN(store_n)(dz + o, g, m);
        }
    }
    if (dbias) FN(column_sums)(rows, n, n, dz, dbias);
}

HK_TARGET static void FN(highway_forward)(int act, long w, long n, float *z, const float *bias,
                                         const float *x, float *y) {
    for (long r = 0; r < w; r++) {
        float *zh = z + r * n, *zt = z + (w + r) * n;
        const float *xr = x + r * n;
        float *yr = y + r * n;
        VF bh = FN(hk_splat)(bias ? bias[r] : 0), bt = FN(hk_splat)(bias ? bias[w + r] : 0);
        for (long j = 0; j < n; j += HK_VW) {
            long m = n - j;
            VF h = FN(act_fwd)(act, FN(load_n)(zh + j, m) + bh);
            VF t = FN(hk_sigmoid_gate)(FN(load_n)(zt + j, m) + bt);
            VF xv = FN(load_n)(xr + j, m);
            /* y = H·T + x·(1 − T) = x + T·(H − x) */
            FN(store_n)(yr + j, xv + t * (h - xv), m);
            FN(store_n)(zh + j, h, m);
            FN(store_n)(zt + j, t, m);
        }
    }
}

HK_TARGET static void FN(highway_backward)(int act, long w, long n, const float *dy,
                                          const float *ht, const float *x, float *dz, float *dx,
                                          float *dbias) {
    for (long r = 0; r < w; r++) {
        const float *hr = ht + r * n, *tr = ht + (w + r) * n, *xr = x + r * n, *dyr = dy + r * n;
        float *dzh = dz + r * n, *dzt = dz + (w + r) * n, *dxr = dx + r * n;
        VF sh = FN(hk_splat)(0), st = FN(hk_splat)(0);
        for (long j = 0; j < n; j += HK_VW) {
            long m = n - j;  /* masked lanes load as 0, so they add 0 to the sums */
            VF h = FN(load_n)(hr + j, m), t = FN(load_n)(tr + j, m);
            VF g = FN(load_n)(dyr + j, m), xv = FN(load_n)(xr + j, m);
            VF gh = g * t * FN(act_grad)(act, h);       /* dH = dy·T, through act */
            VF gt = g * (h - xv) * t * (1.0f - t);      /* dT = dy·(H − x), through sigmoid */
            FN(store_n)(dzh + j, gh, m);
            FN(store_n)(dzt + j, gt, m);
            FN(store_n)(dxr + j, g * (1.0f - t), m);    /* the carry path */
            sh += gh;
            st += gt;
        }
        if (dbias) {
            float a[HK_VW], b[HK_VW], ah = 0, at = 0;
            FN(hk_store)(a, sh);
            FN(hk_store)(b, st);
            for (int i = 0; i < HK_VW; i++) ah += a[i], at += b[i];
            dbias[r] += ah;
            dbias[w + r] += at;
        }
    }
}

/* ---- recurrent cells: one time step of the whole batch (see hk_kernels.h for the formulas) ---- */

HK_TARGET static void FN(lstm_forward_step)(long b, long h, float *gx, const float *gh,
                                           const float *b_ih, const float *b_hh, const float *c_prev,
                                           float *c, float *h_out) {
    for (long r = 0; r < b; r++) {
        float *g = gx + r * 4 * h;
        const float *q = gh + r * 4 * h, *cp = c_prev + r * h;
        float *cr = c + r * h, *hr = h_out + r * h;
        for (long j = 0; j < h; j += HK_VW) {
            long m = h - j;
#define PRE(k) (FN(load_n)(g + (k) * h + j, m) + FN(load_n)(q + (k) * h + j, m) + \
                FN(load_n)(b_ih + (k) * h + j, m) + FN(load_n)(b_hh + (k) * h + j, m))
            VF i = FN(hk_sigmoid_gate)(PRE(0)), f = FN(hk_sigmoid_gate)(PRE(1));
            VF gg = FN(hk_tanh)(PRE(2)), o = FN(hk_sigmoid_gate)(PRE(3));
#undef PRE
            VF cv = f * FN(load_n)(cp + j, m) + i * gg;
            FN(store_n)(cr + j, cv, m);
            FN(store_n)(hr + j, o * FN(hk_tanh)(cv), m);
            FN(store_n)(g + j, i, m);
            FN(store_n)(g + h + j, f, m);
            FN(store_n)(g + 2 * h + j, gg, m);
            FN(store_n)(g + 3 * h + j, o, m);
        }
    }
}

HK_TARGET static void FN(lstm_backward_step)(long b, long h, const float *gates, const float *c,
                                            const float *c_prev, const float *dy, const float *dh,
                                            float *dc, float *dgates) {
    for (long r = 0; r < b; r++) {
        const float *g = gates + r * 4 * h;
        float *dg = dgates + r * 4 * h;
        for (long j = 0; j < h; j += HK_VW) {
            long m = h - j, o_ = r * h + j;
            VF i = FN(load_n)(g + j, m), f = FN(load_n)(g + h + j, m);
            VF gg = FN(load_n)(g + 2 * h + j, m), o = FN(load_n)(g + 3 * h + j, m);
            VF tc = FN(hk_tanh)(FN(load_n)(c + o_, m));   /* recomputed: cheaper than saving it */
            VF d = FN(load_n)(dh + o_, m);
            if (dy) d += FN(load_n)(dy + o_, m);
            /* h = o·tanh(c)  ⇒  dc += dh·o·(1 − tanh²c),  do = dh·tanh(c) */
            VF dcv = FN(load_n)(dc + o_, m) + d * o * (1.0f - tc * tc);
            /* c = f·c_prev + i·g */
            FN(store_n)(dg + j, dcv * gg * i * (1.0f - i), m);
            FN(store_n)(dg + h + j, dcv * FN(load_n)(c_prev + o_, m) * f * (1.0f - f), m);
            FN(store_n)(dg + 2 * h + j, dcv * i * (1.0f - gg * gg), m);
            FN(store_n)(dg + 3 * h + j, d * tc * o * (1.0f - o), m);
            FN(store_n)(dc + o_, dcv * f, m);
        }
    }
}

HK_TARGET static void FN(gru_forward_step)(long b, long h, float *gx, const float *gh,
                                          const float *b_ih, const float *b_hh, const float *h_prev,
                                          float *hn, float *h_out) {
    for (long r = 0; r < b; r++) {
        float *g = gx + r * 3 * h;
        const float *q = gh + r * 3 * h;
        for (long j = 0; j < h; j += HK_VW) {
            long m = h - j, o_ = r * h + j;
            VF rv = FN(hk_sigmoid_gate)(FN(load_n)(g + j, m) + FN(load_n)(b_ih + j, m) +
                                        FN(load_n)(q + j, m) + FN(load_n)(b_hh + j, m));
            VF zv = FN(hk_sigmoid_gate)(FN(load_n)(g + h + j, m) + FN(load_n)(b_ih + h + j, m) +
                                        FN(load_n)(q + h + j, m) + FN(load_n)(b_hh + h + j, m));
            VF hnv = FN(load_n)(q + 2 * h + j, m) + FN(load_n)(b_hh + 2 * h + j, m);
            VF nv = FN(hk_tanh)(FN(load_n)(g + 2 * h + j, m) + FN(load_n)(b_ih + 2 * h + j, m) + rv * hnv);
            VF hp = FN(load_n)(h_prev + o_, m);
            /* h = (1 − z)·n + z·h_prev = n + z·(h_prev − n) */
            FN(store_n)(h_out + o_, nv + zv * (hp - nv), m);
            FN(store_n)(hn + o_, hnv, m);
            FN(store_n)(g + j, rv, m);
            FN(store_n)(g + h + j, zv, m);
            FN(store_n)(g + 2 * h + j, nv, m);
        }
    }
}

HK_TARGET static void FN(gru_backward_step)(long b, long h, const float *gates, const float *hn,
                                           const float *h_prev, const float *dy, float *dh,
                                           float *dgx, float *dgh) {
    for (long r = 0; r < b; r++) {
        const float *g = gates + r * 3 * h;
        float *dx = dgx + r * 3 * h, *dq = dgh + r * 3 * h;
        for (long j = 0; j < h; j += HK_VW) {
            long m = h - j, o_ = r * h + j;
            VF rv = FN(load_n)(g + j, m), zv = FN(load_n)(g + h + j, m), nv = FN(load_n)(g + 2 * h + j, m);
            VF d = FN(load_n)(dh + o_, m);
            if (dy) d += FN(load_n)(dy + o_, m);
            /* h = (1 − z)·n + z·h_prev */
            VF dn = d * (1.0f - zv) * (1.0f - nv * nv);                       /* through tanh */
            VF dz = d * (FN(load_n)(h_prev + o_, m) - nv) * zv * (1.0f - zv); /* through σ */
            /* n = tanh(gx_n + b_in + r·hn) */
            VF dr = dn * FN(load_n)(hn + o_, m) * rv * (1.0f - rv);
            FN(store_n)(dx + j, dr, m);
            FN(store_n)(dx + h + j, dz, m);
            FN(store_n)(dx + 2 * h + j, dn, m);
            FN(store_n)(dq + j, dr, m);
            FN(store_n)(dq + h + j, dz, m);
            FN(store_n)(dq + 2 * h + j, dn * rv, m);
            FN(store_n)(dh + o_, d * zv, m);
        }
    }
}

#undef HK_MAP
#undef HK_TAIL
#undef HK_VW
#undef HK_SUFFIX
#undef HK_TARGET
#undef VF
#undef VI
#undef FN
