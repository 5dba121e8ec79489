/* Elementwise kernels: one source (vecmath.h), one compiled copy per instruction set. */
#include "hk_kernels.h"
#include <math.h>

#define HK_VW 4
#define HK_SUFFIX generic
#define HK_TARGET
#include "elementwise_variant.h"
#if HK_X86
#define HK_VW 8
#define HK_SUFFIX avx2
#define HK_TARGET HK_TARGET_AVX2
#include "elementwise_variant.h"
#define HK_VW 16
#define HK_SUFFIX avx512
#define HK_TARGET HK_TARGET_AVX512
#include "elementwise_variant.h"
#endif

void hk_vexp(int isa, long n, const float *x, float *y) { HK_PICK(vexp, isa, n, x, y); }
void hk_vtanh(int isa, long n, const float *x, float *y) { HK_PICK(vtanh, isa, n, x, y); }
void hk_vsigmoid(int isa, long n, const float *x, float *y) { HK_PICK(vsigmoid, isa, n, x, y); }

double hk_softmax_xent(int isa, long rows, long cols, const float *logits, const int *labels,
                       float *probs) {
    if (rows <= 0 || cols <= 0) return 0;
    /* shift each row by its max, exponentiate everything in one vector pass, then normalise;
     * −log softmax(x)[y] = log Σ e^{x−max} + max − x[y]: the max terms are summed in the first pass,
     * the log-sums in the second */
    double loss = 0;
    for (long r = 0; r < rows; r++) {
        const float *x = logits + r * cols;
        float mx = x[0];
        for (long j = 1; j < cols; j++) mx = x[j] > mx ? x[j] : mx;
        float *p = probs + r * cols;
        for (long j = 0; j < cols; j++) p[j] = x[j] - mx;
        loss += (double)mx - (double)x[labels[r]];
    }
    hk_vexp(isa, rows * cols, probs, probs);
    for (long r = 0; r < rows; r++) {
        float *p = probs + r * cols;
        double sum = 0;
        for (long j = 0; j < cols; j++) sum += p[j];
        float inv = (float)(1.0 / sum);
        for (long j = 0; j < cols; j++) p[j] *= inv;
        loss += log(sum);
    }
    return loss;
}
