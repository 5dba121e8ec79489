/* Target attributes for the per-instruction-set variants (private to HighwayKernels). */
#ifndef HK_ISA_H
#define HK_ISA_H
#if defined(__x86_64__) || defined(__i386__)
#define HK_X86 1
#define HK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define HK_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#else
#define HK_X86 0
#endif
#define HK_INLINE static inline __attribute__((always_inline))
#endif
