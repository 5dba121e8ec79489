/* Which instruction-set variant this CPU runs, decided once at run time. */
#include "hk_kernels.h"

int hk_isa_supported(int isa) {
    switch (isa) {
    case HK_ISA_GENERIC: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case HK_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case HK_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#endif
    default: return 0;
    }
}

int hk_isa_best(void) {
    if (hk_isa_supported(HK_ISA_AVX512)) return HK_ISA_AVX512;
    if (hk_isa_supported(HK_ISA_AVX2)) return HK_ISA_AVX2;
    return HK_ISA_GENERIC;
}

const char *hk_isa_name(int isa) {
    switch (isa) {
    case HK_ISA_GENERIC: return "generic";
    case HK_ISA_AVX2: return "avx2";
    case HK_ISA_AVX512: return "avx512";
    default: return 0;
    }
}
