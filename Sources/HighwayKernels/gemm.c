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

#ifndef KC
#define KC 512
#endif
/* the register tile only stays in registers if its loops are fully unrolled */
#define HK_UNROLL _Pragma("clang loop unroll(full)")
#ifndef NB
#define NB 1024
#endif

/* micro-kernel: C[mr×nr] = alpha·Σ_p A(i,p)·B(p,j) + beta·C, where A(i,p) = a[i*ars + p*acs]
 * (all MR rows readable), B(p,j) = b[p*rs_b + j] (j < nr read). */
typedef void (*hk_ukr)(long k, const float *a, long ars, long acs, const float *b, long rs_b,
                       float *c, long ldc, int mr, int nr, float alpha, float beta);

/* Each variant has full-tile kernels and narrower ones for the edges, so a 50-wide product does
 * not pay for a whole 12×32 tile on its last rows or columns:
 * ukr[layout][rows][cols] with layout 0 = A row-major in place (ars = lda, acs = 1),
 * 1 = A packed or transposed (ars = 1, acs = stride); rows 0..2 = MR/4·{1,2,3}... see kernel_pick. */
typedef struct {
    int mr, nr;
    int rows[3];         /* tile heights available, ascending; rows[2] == mr */
    hk_ukr ukr[2][3][2]; /* [layout][height index][0: nr/2 wide, 1: nr wide] */
} hk_gemm_kernel;

static inline hk_ukr kernel_pick(const hk_gemm_kernel *kern, int layout, int mr, int nr) {
    int h = mr <= kern->rows[0] ? 0 : mr <= kern->rows[1] ? 1 : 2;
    return kern->ukr[layout][h][nr > kern->nr / 2];
}

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
        /* the padding rows by one contiguous clear (strided zero stores cost as much as the copy) */
        if (mr < MR) memset(dst, 0, (size_t)(kc * MR) * sizeof(float));
        for (int i = 0; i < mr; i++) {
            const float *src = a + i * lda;
            for (long p = 0; p < kc; p++) dst[p * MR + i] = src[p];
        }
    }
}

/* B block kc×nb into panels of NR columns, each kc×NR, zero-padded on the right. */
static void pack_b(int trans_b, const float *b, long ldb, long kc, long nb, int NR, float *dst) {
    for (long j0 = 0; j0 < nb; j0 += NR) {
        int nr = nb - j0 < NR ? (int)(nb - j0) : NR;
        float *panel = dst + (j0 / NR) * kc * NR;
        if (trans_b) { /* op(B)(p,j) = b[j*ldb + p] */
            const float *src[64];
            for (int j = 0; j < NR; j++) src[j] = j < nr ? b + (j0 + j) * ldb : 0;
            long p = 0;
#if HK_X86
            /* 4×4 SSE transposes (SSE is in every x86-64): rows read 16 bytes at a time, the panel
             * written 16 bytes at a time */
            int full = nr & ~3; /* columns handled 4 at a time; the rest (and padding) below */
            for (; p + 4 <= kc; p += 4) {
                for (int j = 0; j < full; j += 4) {
                    __m128 r0 = _mm_loadu_ps(src[j] + p), r1 = _mm_loadu_ps(src[j + 1] + p);
                    __m128 r2 = _mm_loadu_ps(src[j + 2] + p), r3 = _mm_loadu_ps(src[j + 3] + p);
                    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                    _mm_storeu_ps(panel + p * NR + j, r0);
                    _mm_storeu_ps(panel + (p + 1) * NR + j, r1);
                    _mm_storeu_ps(panel + (p + 2) * NR + j, r2);
                    _mm_storeu_ps(panel + (p + 3) * NR + j, r3);
                }
                for (int q = 0; q < 4; q++) {
                    float *row = panel + (p + q) * NR;
                    for (int j = full; j < nr; j++) row[j] = src[j][p + q];
                    if (nr < NR) memset(row + nr, 0, (size_t)(NR - nr) * sizeof(float)); /* the padding */
                }
            }
#endif
            for (; p < kc; p++) {
                float *row = panel + p * NR;
                for (int j = 0; j < nr; j++) row[j] = src[j][p];
                if (nr < NR) memset(row + nr, 0, (size_t)(NR - nr) * sizeof(float));
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
                int layout;
                long ars, acs;
                /* an A panel read in place must have MR rows; row-major A reused across ≥ 5
                 * B panels is worth a contiguous copy */
                if (mr < MR || (!ta && panels >= 5)) {
                    pack_a(ta, ap, lda, kc, mr, MR, abuf);
                    ap = abuf, layout = 1, ars = 1, acs = MR;
                } else if (ta) {
                    layout = 1, ars = 1, acs = lda;
                } else {
                    layout = 0, ars = lda, acs = 1;
                }
                float *crow = c + ir * ldc + jc;
                for (long jp = 0; jp < panels; jp++) {
                    long jr = jp * NR;
                    int nr = nb - jr < NR ? (int)(nb - jr) : NR;
                    kernel_pick(kern, layout, mr, nr)(kc, ap, ars, acs, bblk + jp * panel_stride, rs_b, crow + jr, ldc, mr, nr,
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
static const hk_gemm_kernel kernel_generic = {
    G_MR, G_NR, {G_MR, G_MR, G_MR},
    {{{ukr_generic, ukr_generic}, {ukr_generic, ukr_generic}, {ukr_generic, ukr_generic}},
     {{ukr_generic, ukr_generic}, {ukr_generic, ukr_generic}, {ukr_generic, ukr_generic}}}};

#if HK_X86
/* ---- AVX2 + FMA: 6×16 --------------------------------------------------------------------------- */

#define A2_MR 6
#define A2_NR 16
/* ROWS×(8·NV) tile; lanes ≥ nr masked on load and store */
#define UKR_AVX2(NAME, AIDX, ROWS, NV)                                                             \
    HK_TARGET_AVX2 static void NAME(long k, const float *a, long ars, long acs, const float *b,    \
                                    long rs_b, float *c, long ldc, int mr, int nr, float alpha,    \
                                    float beta) {                                                  \
        (void)ars, (void)acs;                                                                      \
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                            \
        __m256i msk[2] = {_mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane),                         \
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane)};                    \
        __m256 acc[ROWS][NV];                                                                      \
        HK_UNROLL for (int i = 0; i < ROWS; i++)                                                             \
            HK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();                          \
        if (nr == 8 * NV) {                                                                        \
            for (long p = 0; p < k; p++) {                                                         \
                __m256 bv[NV];                                                                     \
                HK_UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(b + p * rs_b + 8 * v);        \
                HK_UNROLL for (int i = 0; i < ROWS; i++) {                                                   \
                    __m256 av = _mm256_set1_ps(a[AIDX]);                                           \
                    HK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]); \
                }                                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            for (long p = 0; p < k; p++) {                                                         \
                __m256 bv[NV];                                                                     \
                HK_UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm256_maskload_ps(b + p * rs_b + 8 * v, msk[v]); \
                HK_UNROLL for (int i = 0; i < ROWS; i++) {                                                   \
                    __m256 av = _mm256_set1_ps(a[AIDX]);                                           \
                    HK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]); \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);                              \
        HK_UNROLL for (int i = 0; i < ROWS; i++) if (i < mr) {                                                 \
            float *cr = c + i * ldc;                                                               \
            HK_UNROLL for (int v = 0; v < NV; v++) {                                                         \
                __m256 r = _mm256_mul_ps(va, acc[i][v]);                                           \
                if (nr == 8 * NV) {                                                                \
                    if (beta != 0) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8 * v), r);        \
                    _mm256_storeu_ps(cr + 8 * v, r);                                               \
                } else {                                                                           \
                    if (beta != 0) r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8 * v, msk[v]), r); \
                    _mm256_maskstore_ps(cr + 8 * v, msk[v], r);                                    \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }
#define UKR_AVX2_SET(ROWS)                                                                         \
    UKR_AVX2(ukr_avx2_row_##ROWS##_1, i * ars + p, ROWS, 1)                                       \
    UKR_AVX2(ukr_avx2_row_##ROWS##_2, i * ars + p, ROWS, 2)                                       \
    UKR_AVX2(ukr_avx2_col_##ROWS##_1, p * acs + i, ROWS, 1)                                       \
    UKR_AVX2(ukr_avx2_col_##ROWS##_2, p * acs + i, ROWS, 2)
UKR_AVX2_SET(2)
UKR_AVX2_SET(4)
UKR_AVX2_SET(6)
static const hk_gemm_kernel kernel_avx2 = {
    A2_MR, A2_NR, {2, 4, 6},
    {{{ukr_avx2_row_2_1, ukr_avx2_row_2_2}, {ukr_avx2_row_4_1, ukr_avx2_row_4_2}, {ukr_avx2_row_6_1, ukr_avx2_row_6_2}},
     {{ukr_avx2_col_2_1, ukr_avx2_col_2_2}, {ukr_avx2_col_4_1, ukr_avx2_col_4_2}, {ukr_avx2_col_6_1, ukr_avx2_col_6_2}}}};

/* ---- AVX-512: 12×32 ----------------------------------------------------------------------------- */

#define A5_MR 12
#define A5_NR 32
/* ROWS×(16·NV) tile; lanes ≥ nr masked on load and store (AVX-512 masks cost nothing extra) */
#define UKR_AVX512(NAME, AIDX, ROWS, NV)                                                           \
    HK_TARGET_AVX512 static void NAME(long k, const float *a, long ars, long acs, const float *b,  \
                                      long rs_b, float *c, long ldc, int mr, int nr, float alpha,  \
                                      float beta) {                                                \
        (void)ars, (void)acs;                                                                      \
        __mmask16 msk[2] = {nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1),                       \
                            nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1)}; \
        HK_UNROLL for (int i = 0; i < ROWS; i++) if (i < mr) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0); \
        __m512 acc[ROWS][NV];                                                                      \
        HK_UNROLL for (int i = 0; i < ROWS; i++)                                                             \
            HK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();                          \
        for (long p = 0; p < k; p++) {                                                             \
            __m512 bv[NV];                                                                         \
            HK_UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(msk[v], b + p * rs_b + 16 * v); \
            HK_UNROLL for (int i = 0; i < ROWS; i++) {                                                       \
                __m512 av = _mm512_set1_ps(a[AIDX]);                                               \
                HK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);    \
            }                                                                                      \
        }                                                                                          \
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                              \
        HK_UNROLL for (int i = 0; i < ROWS; i++) if (i < mr) {                                                 \
            float *cr = c + i * ldc;                                                               \
            HK_UNROLL for (int v = 0; v < NV; v++) {                                                         \
                __m512 r = _mm512_mul_ps(va, acc[i][v]);                                           \
                if (beta != 0) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(msk[v], cr + 16 * v), r); \
                _mm512_mask_storeu_ps(cr + 16 * v, msk[v], r);                                     \
            }                                                                                      \
        }                                                                                          \
    }
#define UKR_AVX512_SET(ROWS)                                                                       \
    UKR_AVX512(ukr_avx512_row_##ROWS##_1, i * ars + p, ROWS, 1)                                   \
    UKR_AVX512(ukr_avx512_row_##ROWS##_2, i * ars + p, ROWS, 2)                                   \
    UKR_AVX512(ukr_avx512_col_##ROWS##_1, p * acs + i, ROWS, 1)                                   \
    UKR_AVX512(ukr_avx512_col_##ROWS##_2, p * acs + i, ROWS, 2)
UKR_AVX512_SET(4)
UKR_AVX512_SET(8)
UKR_AVX512_SET(12)
static const hk_gemm_kernel kernel_avx512 = {
    A5_MR, A5_NR, {4, 8, 12},
    {{{ukr_avx512_row_4_1, ukr_avx512_row_4_2}, {ukr_avx512_row_8_1, ukr_avx512_row_8_2}, {ukr_avx512_row_12_1, ukr_avx512_row_12_2}},
     {{ukr_avx512_col_4_1, ukr_avx512_col_4_2}, {ukr_avx512_col_8_1, ukr_avx512_col_8_2}, {ukr_avx512_col_12_1, ukr_avx512_col_12_2}}}};
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

/* ---- the threaded split ------------------------------------------------------------------------- */

typedef struct {
    int isa, ta, tb, split_rows;
    long m, n, k, chunk;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
} gemm_job;

static void gemm_task(void *ctx, long t) {
    const gemm_job *j = ctx;
    long lo = t * j->chunk;
    if (j->split_rows) {
        long len = j->m - lo < j->chunk ? j->m - lo : j->chunk;
        const float *a = j->ta ? j->a + lo : j->a + lo * j->lda;
        hk_sgemm(j->isa, j->ta, j->tb, len, j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb, j->beta,
                 j->c + lo * j->ldc, j->ldc);
    } else {
        long len = j->n - lo < j->chunk ? j->n - lo : j->chunk;
        const float *b = j->tb ? j->b + lo * j->ldb : j->b + lo;
        hk_sgemm(j->isa, j->ta, j->tb, j->m, len, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->beta,
                 j->c + lo, j->ldc);
    }
}

void hk_sgemm_threaded(int isa, int threads, int trans_a, int trans_b, long m, long n, long k,
                       float alpha, const float *a, long lda, const float *b, long ldb, float beta,
                       float *c, long ldc) {
    int pool = hk_pool_threads();
    if (threads > pool) threads = pool;
    /* a fork/join costs a few microseconds: split only products of ~50 µs or more */
    if (threads <= 1 || 2.0 * m * n * k < 4e6) {
        hk_sgemm(isa, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const hk_gemm_kernel *kern = kernel_for(isa);
    gemm_job j = {isa, trans_a, trans_b, m >= n, m, n, k, 0, alpha, beta, a, b, c, lda, ldb, ldc};
    long extent = j.split_rows ? m : n, tile = j.split_rows ? kern->mr : kern->nr;
    j.chunk = ((extent + threads - 1) / threads + tile - 1) / tile * tile;
    hk_pool_run((extent + j.chunk - 1) / j.chunk, gemm_task, &j);
}
