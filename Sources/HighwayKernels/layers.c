/* Fused elementwise passes of the layers (Dense, Highway, LSTM, GRU): one source, one copy per instruction set. */
#include "hk_kernels.h"
#include "isa.h"
#if HK_X86
#include <immintrin.h>
#endif

#define HK_VW 4
#define HK_TAIL 0
#define HK_SUFFIX generic
#define HK_TARGET
#include "layers_variant.h"
#if HK_X86
#define HK_VW 8
#define HK_TAIL 1
#define HK_SUFFIX avx2
#define HK_TARGET HK_TARGET_AVX2
#include "layers_variant.h"
#define HK_VW 16
#define HK_TAIL 2
#define HK_SUFFIX avx512
#define HK_TARGET HK_TARGET_AVX512
#include "layers_variant.h"
#endif

void hk_bias_act_forward(int isa, int act, long rows, long n, float *z, const float *bias) {
    HK_PICK(bias_act_forward, isa, act, rows, n, z, bias);
}
void hk_act_backward(int isa, int act, long rows, long n, const float *y, const float *dy, float *dz,
                     float *dbias) {
    HK_PICK(act_backward, isa, act, rows, n, y, dy, dz, dbias);
}
void hk_highway_forward(int isa, int act, long w, long n, float *z, const float *bias,
                        const float *x, float *y) {
    HK_PICK(highway_forward, isa, act, w, n, z, bias, x, y);
}
void hk_highway_backward(int isa, int act, long w, long n, const float *dy, const float *ht,
                         const float *x, float *dz, float *dx, float *dbias) {
    HK_PICK(highway_backward, isa, act, w, n, dy, ht, x, dz, dx, dbias);
}

void hk_column_sums(int isa, long rows, long n, const float *dz, float *dbias) {
    HK_PICK(column_sums, isa, rows, n, n, dz, dbias);
}
void hk_lstm_forward_step(int isa, long b, long h, float *gx, const float *gh, const float *b_ih,
                          const float *b_hh, const float *c_prev, float *c, float *h_out) {
    HK_PICK(lstm_forward_step, isa, b, h, gx, gh, b_ih, b_hh, c_prev, c, h_out);
}
void hk_lstm_backward_step(int isa, long b, long h, const float *gates, const float *c,
                           const float *c_prev, const float *dy, const float *dh, float *dc,
                           float *dgates) {
    HK_PICK(lstm_backward_step, isa, b, h, gates, c, c_prev, dy, dh, dc, dgates);
}
void hk_gru_forward_step(int isa, long b, long h, float *gx, const float *gh, const float *b_ih,
                         const float *b_hh, const float *h_prev, float *hn, float *h_out) {
    HK_PICK(gru_forward_step, isa, b, h, gx, gh, b_ih, b_hh, h_prev, hn, h_out);
}
void hk_gru_backward_step(int isa, long b, long h, const float *gates, const float *hn,
                          const float *h_prev, const float *dy, float *dh, float *dgx, float *dgh) {
    HK_PICK(gru_backward_step, isa, b, h, gates, hn, h_prev, dy, dh, dgx, dgh);
}

void hk_transpose(long rows, long cols, const float *src, long lds, float *dst, long ldd) {
    /* 16×16 blocks keep both the reads and the writes within a few cache lines */
    for (long i0 = 0; i0 < rows; i0 += 16)
        for (long j0 = 0; j0 < cols; j0 += 16) {
            long i1 = i0 + 16 < rows ? i0 + 16 : rows, j1 = j0 + 16 < cols ? j0 + 16 : cols;
            for (long i = i0; i < i1; i++)
                for (long j = j0; j < j1; j++) dst[j * ldd + i] = src[i * lds + j];
        }
}
