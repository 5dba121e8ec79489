/*
 * HighwayKernels: the innermost loops of HighwayKit, in C.
 *
 * Why C: Swift's SIMD types only become fast FMAs when the compiler is told the target CPU, and
 * SwiftPM refuses `unsafeFlags` in a versioned dependency. A C target with no flags whose functions
 * carry `__attribute__((target(...)))` gets AVX-512 / AVX2+FMA code anyway; the variant is chosen at
 * run time (`hk_isa_best`), and every entry point takes the variant explicitly so tests can cover
 * them all on one machine.
 *
 * What this target deliberately does not do: allocate tensors, know about shapes beyond the
 * arguments, or pick a thread count. Matrices are row-major float32 with explicit leading dimensions.
 */
#ifndef HK_KERNELS_H
#define HK_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- instruction-set variants ------------------------------------------------------------------ */

typedef enum {
    HK_ISA_GENERIC = 0, /* portable C (SSE2 on x86-64, NEON on arm64 by the compiler's choice) */
    HK_ISA_AVX2 = 1,    /* AVX2 + FMA */
    HK_ISA_AVX512 = 2,  /* AVX-512 F/VL/BW/DQ */
    HK_ISA_COUNT = 3
} hk_isa;

/* 1 when this CPU can run `isa`, else 0. */
int hk_isa_supported(int isa);
/* The fastest variant this CPU supports. */
int hk_isa_best(void);
/* "generic", "avx2", "avx512"; NULL for an unknown value. */
const char *hk_isa_name(int isa);

/* ---- matrix products ---------------------------------------------------------------------------- */

/*
 * C = alpha * op(A) * op(B) + beta * C, single-threaded, row-major.
 * op(A) is m×k: A is m×k (lda ≥ k) or, when trans_a, k×m (lda ≥ m).
 * op(B) is k×n: B is k×n (ldb ≥ n) or, when trans_b, n×k (ldb ≥ k).
 * C is m×n with ldc ≥ n. When beta == 0, C is not read (it may hold NaN).
 * m, n or k may be 0 (k == 0 scales C by beta).
 */
void hk_sgemm(int isa, int trans_a, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

/*
 * hk_sgemm split across the pool into at most `threads` blocks of C (rows when m ≥ n, else
 * columns, in whole micro-tiles), when the product is big enough to repay a fork/join. Each
 * element of C is computed by the same sequence of operations whatever the split, so the result
 * is bit-identical for every thread count.
 */
void hk_sgemm_threaded(int isa, int threads, int trans_a, int trans_b, long m, long n, long k,
                       float alpha, const float *a, long lda, const float *b, long ldb, float beta,
                       float *c, long ldc);

/* ---- vectorised elementwise kernels (n elements; y may alias x) --------------------------------- */

void hk_vexp(int isa, long n, const float *x, float *y);
void hk_vtanh(int isa, long n, const float *x, float *y);
void hk_vsigmoid(int isa, long n, const float *x, float *y);

/*
 * Softmax cross-entropy over rows, numerically stable (max-shifted log-sum-exp).
 * logits: rows×cols; labels: rows entries in [0, cols); probs (out): rows×cols softmax;
 * returns the summed (not averaged) negative log-likelihood over the rows.
 */
double hk_softmax_xent(int isa, long rows, long cols, const float *logits, const int *labels,
                       float *probs);

/* ---- fused layer passes (rows = batch; every matrix row-major) -------------------------------- */

/* Activations of the fused layer kernels. */
typedef enum { HK_ACT_IDENTITY = 0, HK_ACT_RELU = 1, HK_ACT_TANH = 2, HK_ACT_SIGMOID = 3 } hk_act;

/* z[r, j] = act(z[r, j] + bias[j]) in place; z is rows×n, bias n (may be NULL). */
void hk_bias_act_forward(int isa, int act, long rows, long n, float *z, const float *bias);

/* dz[r, j] = dy[r, j] · act'(y) written from the activation's output y (= act(z));
 * dbias[j] += Σ_r dz[r, j] when dbias is not NULL. dz may alias dy. */
void hk_act_backward(int isa, int act, long rows, long n, const float *y, const float *dy, float *dz,
                     float *dbias);

/*
 * Highway layer, elementwise part, feature-major: every matrix is (features × n) with the batch
 * of n along the rows, so rows are long and vectors end on a row only once per feature.
 * On entry z (2w × n) holds [W_H; W_T]·x without bias; on return it holds [H; T] with
 * H = act(z_H + b_H), T = sigmoid(z_T + b_T), which the backward needs. x, y are (w × n);
 * y = H·T + x·(1 − T).
 */
void hk_highway_forward(int isa, int act, long w, long n, float *z, const float *bias,
                        const float *x, float *y);

/*
 * Highway layer backward, elementwise part, feature-major, from dy (w × n), the saved [H; T]
 * (2w × n) and the input x: dz (2w × n) = [dy·T·act'(H); dy·(H − x)·T·(1 − T)],
 * dx (w × n) = dy·(1 − T) (the carry path; the caller adds [W_H; W_T]ᵀ·dz with a GEMM),
 * dbias (2w) += Σ over the batch of dz.
 */
void hk_highway_backward(int isa, int act, long w, long n, const float *dy, const float *ht,
                         const float *x, float *dz, float *dx, float *dbias);

/* dbias[j] += Σ_r dz[r, j] for dz rows × n (the bias gradient of a layer whose d(pre-activation)
 * is dz). */
void hk_column_sums(int isa, long rows, long n, const float *dz, float *dbias);

/*
 * Recurrent cells, one time step for a batch of b rows, elementwise part (PyTorch's gate order
 * and formulas). gx holds the step's input projection x_t·W_ihᵀ and gh the recurrent one
 * h_{t−1}·W_hhᵀ, both without bias; b_ih, b_hh are the biases (G·h each). Every state is b × h.
 *
 * LSTM, gx and gh b × 4h, gates i, f, g, o:
 *   i = σ(.), f = σ(.), g = tanh(.), o = σ(.)   (each . = gx + b_ih + gh + b_hh)
 *   c = f·c_prev + i·g,  h = o·tanh(c)
 * On return gx holds the activated gates [i | f | g | o], which the backward needs with c.
 */
void hk_lstm_forward_step(int isa, long b, long h, float *gx, const float *gh, const float *b_ih,
                          const float *b_hh, const float *c_prev, float *c, float *h_out);
/*
 * LSTM backward of one step. dh (b × h) is d(loss)/dh_t through the recurrence; dy (b × h, may be
 * NULL) the gradient arriving from this step's output, added to it. dc (b × h) holds d/dc_t on
 * entry and d/dc_{t−1} on return. dgates (b × 4h) receives d(pre-activation) of [i | f | g | o];
 * the caller adds dgates·W_hh into d/dh_{t−1} with a GEMM.
 */
void hk_lstm_backward_step(int isa, long b, long h, const float *gates, const float *c,
                           const float *c_prev, const float *dy, const float *dh, float *dc,
                           float *dgates);
/*
 * GRU, gx and gh b × 3h, gates r, z, n:
 *   r = σ(gx_r + b_ir + gh_r + b_hr),  z = σ(gx_z + b_iz + gh_z + b_hz)
 *   hn = gh_n + b_hn,  n = tanh(gx_n + b_in + r·hn),  h = (1 − z)·n + z·h_prev
 * On return gx holds [r | z | n] and hn (b × h) the recurrent part of n, which the backward needs.
 */
void hk_gru_forward_step(int isa, long b, long h, float *gx, const float *gh, const float *b_ih,
                         const float *b_hh, const float *h_prev, float *hn, float *h_out);
/*
 * GRU backward of one step. dh (b × h): d/dh_t through the recurrence on entry (dy, may be NULL,
 * added to it); on return the direct part of d/dh_{t−1}, dh·z (the caller adds dgh·W_hh).
 * dgx (b × 3h) receives d/d(gx) = [dr | dz | dn] and dgh (b × 3h) d/d(gh) = [dr | dz | dn·r],
 * where dr, dz, dn are d(pre-activation).
 */
void hk_gru_backward_step(int isa, long b, long h, const float *gates, const float *hn,
                          const float *h_prev, const float *dy, float *dh, float *dgx, float *dgh);

/* dst (cols × rows, leading dimension ldd) = srcᵀ, src (rows × cols, leading dimension lds). */
void hk_transpose(long rows, long cols, const float *src, long lds, float *dst, long ldd);

/* ---- persistent thread pool --------------------------------------------------------------------- */

typedef void (*hk_task_fn)(void *ctx, long index);

/* Number of threads the pool uses, the caller included (≥ 1). */
int hk_pool_threads(void);
/* Resize the pool (n ≥ 1; clamped to 256). Not to be called while hk_pool_run is running. */
void hk_pool_set_threads(int n);
/*
 * Run fn(ctx, i) for every i in [0, count) across the pool and return when all are done.
 * Index i is always run by thread i % threads, so the split is deterministic.
 * Calls made from inside a task run serially on the calling thread.
 */
void hk_pool_run(long count, hk_task_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
