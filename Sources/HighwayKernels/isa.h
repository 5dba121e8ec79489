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

/* Calls NAME##_avx512, NAME##_avx2 or NAME##_generic for the variant `isa`. */
#if HK_X86
#define HK_PICK(NAME, isa, ...)                                                                    \
    do {                                                                                           \
        if ((isa) == HK_ISA_AVX512) NAME##_avx512(__VA_ARGS__);                                   \
        else if ((isa) == HK_ISA_AVX2) NAME##_avx2(__VA_ARGS__);                                  \
        else NAME##_generic(__VA_ARGS__);                                                          \
    } while (0)
#else
#define HK_PICK(NAME, isa, ...) NAME##_generic(__VA_ARGS__)
#endif
#endif
