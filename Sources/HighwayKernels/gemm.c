/*
 * Single-precision GEMM, row-major: C = alpha·op(A)·op(B) + beta·C.
 *
 * Layout (after BLIS): the micro-kernel keeps an MR×NR tile of C in registers; each step of k
 * broadcasts MR values of A and loads NR values of B. Loops, outermost first: k in blocks of KC,
 * n in blocks of NB (the B block stays in L2), m in steps of MR (the A micro-panel stays in L1),
 * n in steps of NR. Small products skip packing: A is read in place through strides and B rows are
 * loaded in place with masks at the right edge, because for the layer shapes (128×50×50) a copy
 * costs as much as the arithmetic it would speed up. Packing happens where it pays: B transposed
 * (it must be), large blocks, and A micro-panels reused across many B panels or cut by the edge.
 *
 * Variants: AVX-512 (MR=12, NR=32: 24 accumulators), AVX2+FMA (MR=6, NR=16: 12 accumulators),
 * and a portable one. Working buffers are thread-local and grow once (no allocation per call).
 */
#include "hk_kernels.h"
#include "isa.h"

#include <stdlib.h>
#include <string.h>
#if HK_X86
#include <immintrin.h>
#endif

#define KC 256
#define NB 512

/* micro-kernel: C[mr×nr] = alpha·Σ_p A(i,p)·B(p,j) + beta·C, where A(i,p) = a[i*ars + p*acs]
 * (all MR rows readable), B(p,j) = b[p*rs_b + j] (j < nr read). */
typedef void (*hk_ukr)(long k, const float *a, long ars, long acs, const float *b, long rs_b,
                       float *c, long ldc, int mr, int nr, float alpha, float beta);

typedef struct {
    int mr, nr;
    hk_ukr row_a; /* ars = lda, acs = 1 (A row-major, in place) */
    hk_ukr col_a; /* ars = 1, acs = stride (packed A, or A transposed in place) */
} hk_gemm_kernel;

/* ---- thread-local working memory ---------------------------------------------------------------- */

static _Thread_local float *tl_bbuf;
static _Thread_local size_t tl_bcap;

static float *b_buffer(size_t floats) {
    if (floats > tl_bcap) {
        free(tl_bbuf);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        tl_bbuf = aligned_alloc(64, bytes);
        tl_bcap = tl_bbuf ? floats : 0;
    }
    return tl_bbuf;
}

/* ---- packing ------------------------------------------------------------------------------------ */

/* A micro-panel: dst[p*MR + i] = op(A)(i, p) for i < mr, zero for mr ≤ i < MR. */
static void pack_a(int trans_a, const float *a, long lda, long kc, int mr, int MR, float *dst) {
    if (trans_a) { /* op(A)(i,p) = a[p*lda + i] */
        for (long p = 0; p < kc; p++) {
            const float *src = a + p * lda;
            float *d = dst + p * MR;
            int i = 0;
            for (; i < mr; i++) d[i] = src[i];
            for (; i < MR; i++) d[i] = 0;
        }
    } else { /* op(A)(i,p) = a[i*lda + p] */
        for (int i = 0; i < MR; i++) {
            if (i < mr) {
                const float *src = a + i * lda;
                for (long p = 0; p < kc; p++) dst[p * MR + i] = src[p];
            } else {
                for (long p = 0; p < kc; p++) dst[p * MR + i] = 0;
            }
        }
    }
}

/* B block kc×nb into panels of NR columns, each kc×NR, zero-padded on the right. */
static void pack_b(int trans_b, const float *b, long ldb, long kc, long nb, int NR, float *dst) {
    for (long j0 = 0; j0 < nb; j0 += NR) {
        int nr = nb - j0 < NR ? (int)(nb - j0) : NR;
        float *panel = dst + (j0 / NR) * kc * NR;
        if (trans_b) { /* op(B)(p,j) = b[j*ldb + p] */
            for (int j = 0; j < NR; j++) {
                if (j < nr) {
                    const float *src = b + (j0 + j) * ldb;
                    for (long p = 0; p < kc; p++) panel[p * NR + j] = src[p];
                } else {
                    for (long p = 0; p < kc; p++) panel[p * NR + j] = 0;
                }
            }
        } else { /* op(B)(p,j) = b[p*ldb + j] */
            for (long p = 0; p < kc; p++) {
                memcpy(panel + p * NR, b + p * ldb + j0, (size_t)nr * sizeof(float));
                for (int j = nr; j < NR; j++) panel[p * NR + j] = 0;
            }
        }
    }
}

static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0) memset(row, 0, (size_t)n * sizeof(float));
        else for (long j = 0; j < n; j++) row[j] *= beta;
    }
}

/* ---- the blocked driver, shared by every variant ----------------------------------------------- */

static void gemm_blocked(const hk_gemm_kernel *kern, int ta, int tb, long m, long n, long k,
                         float alpha, const float *a, long lda, const float *b, long ldb,
                         float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    const int MR = kern->mr, NR = kern->nr;
    /* B is copied when it must be (transposed) or when the product is big enough that contiguous
     * panels beat in-place loads. */
    const int pack_b_always = tb || k > KC || n > NB || m * n * k >= 96L * 96 * 96 * 8;
    float abuf[KC * 16] __attribute__((aligned(64)));
    float *bbuf = pack_b_always ? b_buffer((size_t)KC * (NB + 32)) : 0;

    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
        float bet = pc == 0 ? beta : 1.0f;
        for (long jc = 0; jc < n; jc += NB) {
            long nb = n - jc < NB ? n - jc : NB;
            long panels = (nb + NR - 1) / NR;
            const float *bblk;
            long rs_b, panel_stride;
            if (pack_b_always) {
                const float *src = tb ? b + jc * ldb + pc : b + pc * ldb + jc;
                pack_b(tb, src, ldb, kc, nb, NR, bbuf);
                bblk = bbuf, rs_b = NR, panel_stride = kc * NR;
            } else {
                bblk = b + pc * ldb + jc, rs_b = ldb, panel_stride = NR;
            }
            for (long ir = 0; ir < m; ir += MR) {
                int mr = m - ir < MR ? (int)(m - ir) : MR;
                const float *ap = ta ? a + pc * lda + ir : a + ir * lda + pc;
                hk_ukr ukr;
                long ars, acs;
                /* an A panel read in place must have MR rows; row-major A reused across ≥ 4
                 * B panels is worth a contiguous copy */
                if (mr < MR || (!ta && panels >= 4)) {
                    pack_a(ta, ap, lda, kc, mr, MR, abuf);
                    ap = abuf, ukr = kern->col_a, ars = 1, acs = MR;
                } else if (ta) {
                    ukr = kern->col_a, ars = 1, acs = lda;
                } else {
                    ukr = kern->row_a, ars = lda, acs = 1;
                }
                float *crow = c + ir * ldc + jc;
                for (long jp = 0; jp < panels; jp++) {
                    long jr = jp * NR;
                    int nr = nb - jr < NR ? (int)(nb - jr) : NR;
                    ukr(kc, ap, ars, acs, bblk + jp * panel_stride, rs_b, crow + jr, ldc, mr, nr,
                        alpha, bet);
                }
            }
        }
    }
}

/* ---- portable variant --------------------------------------------------------------------------- */

#define G_MR 4
#define G_NR 16
static void ukr_generic(long k, const float *a, long ars, long acs, const float *b, long rs_b,
                        float *c, long ldc, int mr, int nr, float alpha, float beta) {
    float acc[G_MR][G_NR] = {{0}};
    for (long p = 0; p < k; p++) {
        const float *brow = b + p * rs_b;
        float bv[G_NR] = {0};
        for (int j = 0; j < nr; j++) bv[j] = brow[j];
        for (int i = 0; i < G_MR; i++) {
            float av = a[i * ars + p * acs];
            for (int j = 0; j < G_NR; j++) acc[i][j] += av * bv[j];
        }
    }
    for (int i = 0; i < mr; i++) {
        float *crow = c + i * ldc;
        for (int j = 0; j < nr; j++)
            crow[j] = beta == 0 ? alpha * acc[i][j] : alpha * acc[i][j] + beta * crow[j];
    }
}
static const hk_gemm_kernel kernel_generic = {G_MR, G_NR, ukr_generic, ukr_generic};

#if HK_X86
/* ---- AVX2 + FMA: 6×16 --------------------------------------------------------------------------- */

#define A2_MR 6
#define A2_NR 16
#define UKR_AVX2(NAME, AIDX)                                                                       \
    HK_TARGET_AVX2 static void NAME(long k, const float *a, long ars, long acs, const float *b,    \
                                    long rs_b, float *c, long ldc, int mr, int nr, float alpha,    \
                                    float beta) {                                                  \
        (void)ars, (void)acs;                                                                      \
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                            \
        __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);                              \
        __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);                          \
        __m256 acc[A2_MR][2];                                                                      \
        for (int i = 0; i < A2_MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();               \
        if (nr == A2_NR) {                                                                         \
            for (long p = 0; p < k; p++) {                                                         \
                __m256 b0 = _mm256_loadu_ps(b + p * rs_b), b1 = _mm256_loadu_ps(b + p * rs_b + 8); \
                for (int i = 0; i < A2_MR; i++) {                                                  \
                    __m256 av = _mm256_set1_ps(a[AIDX]);                                           \
                    acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);                                \
                    acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);                                \
                }                                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            for (long p = 0; p < k; p++) {                                                         \
                __m256 b0 = _mm256_maskload_ps(b + p * rs_b, m0);                                  \
                __m256 b1 = _mm256_maskload_ps(b + p * rs_b + 8, m1);                              \
                for (int i = 0; i < A2_MR; i++) {                                                  \
                    __m256 av = _mm256_set1_ps(a[AIDX]);                                           \
                    acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);                                \
                    acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);                                \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);                              \
        for (int i = 0; i < A2_MR; i++) {                                                          \
            if (i >= mr) break;                                                                    \
            float *cr = c + i * ldc;                                                               \
            __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);           \
            if (nr == A2_NR) {                                                                     \
                if (beta != 0) {                                                                   \
                    r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), r0);                             \
                    r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), r1);                         \
                }                                                                                  \
                _mm256_storeu_ps(cr, r0);                                                          \
                _mm256_storeu_ps(cr + 8, r1);                                                      \
            } else {                                                                               \
                if (beta != 0) {                                                                   \
                    r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), r0);                      \
                    r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), r1);                  \
                }                                                                                  \
                _mm256_maskstore_ps(cr, m0, r0);                                                   \
                _mm256_maskstore_ps(cr + 8, m1, r1);                                               \
            }                                                                                      \
        }                                                                                          \
    }
UKR_AVX2(ukr_avx2_row, i * ars + p)
UKR_AVX2(ukr_avx2_col, p * acs + i)
static const hk_gemm_kernel kernel_avx2 = {A2_MR, A2_NR, ukr_avx2_row, ukr_avx2_col};

/* ---- AVX-512: 12×32 ----------------------------------------------------------------------------- */

#define A5_MR 12
#define A5_NR 32
#define UKR_AVX512(NAME, AIDX)                                                                     \
    HK_TARGET_AVX512 static void NAME(long k, const float *a, long ars, long acs, const float *b,  \
                                      long rs_b, float *c, long ldc, int mr, int nr, float alpha,  \
                                      float beta) {                                                \
        (void)ars, (void)acs;                                                                      \
        __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);                            \
        __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);     \
        __m512 acc[A5_MR][2];                                                                      \
        for (int i = 0; i < A5_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();               \
        for (long p = 0; p < k; p++) {                                                             \
            __m512 b0 = _mm512_maskz_loadu_ps(m0, b + p * rs_b);                                   \
            __m512 b1 = _mm512_maskz_loadu_ps(m1, b + p * rs_b + 16);                              \
            for (int i = 0; i < A5_MR; i++) {                                                      \
                __m512 av = _mm512_set1_ps(a[AIDX]);                                               \
                acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);                                    \
                acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);                                    \
            }                                                                                      \
        }                                                                                          \
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                              \
        for (int i = 0; i < A5_MR; i++) {                                                          \
            if (i >= mr) break;                                                                    \
            float *cr = c + i * ldc;                                                               \
            __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);           \
            if (beta != 0) {                                                                       \
                r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), r0);                       \
                r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), r1);                  \
            }                                                                                      \
            _mm512_mask_storeu_ps(cr, m0, r0);                                                     \
            _mm512_mask_storeu_ps(cr + 16, m1, r1);                                                \
        }                                                                                          \
    }
UKR_AVX512(ukr_avx512_row, i * ars + p)
UKR_AVX512(ukr_avx512_col, p * acs + i)
static const hk_gemm_kernel kernel_avx512 = {A5_MR, A5_NR, ukr_avx512_row, ukr_avx512_col};
#endif

static const hk_gemm_kernel *kernel_for(int isa) {
#if HK_X86
    if (isa == HK_ISA_AVX512) return &kernel_avx512;
    if (isa == HK_ISA_AVX2) return &kernel_avx2;
#endif
    (void)isa;
    return &kernel_generic;
}

void hk_sgemm(int isa, int trans_a, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    gemm_blocked(kernel_for(isa), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
