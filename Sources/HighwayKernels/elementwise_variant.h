/* One instruction set's elementwise kernels; included once per variant by elementwise.c. */
#include "vecmath.h"

HK_TARGET static void FN(vexp)(long n, const float *x, float *y) { HK_MAP(FN(hk_exp), n, x, y); }
HK_TARGET static void FN(vtanh)(long n, const float *x, float *y) { HK_MAP(FN(hk_tanh), n, x, y); }
HK_TARGET static void FN(vsigmoid)(long n, const float *x, float *y) {
    HK_MAP(FN(hk_sigmoid), n, x, y);
}

#undef HK_MAP
#undef HK_VW
#undef HK_SUFFIX
#undef HK_TARGET
#undef VF
#undef VI
#undef FN
