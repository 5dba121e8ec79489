// Starts libFuzzer from a SwiftPM executable. SwiftPM links an executable target's entry point as
// `<Module>_main` (with `--defsym main=<Module>_main` on Linux), so libFuzzer's own `main` is never
// used; each fuzz target defines `<Module>_main` and calls `hk_fuzz_main` with its callback.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (`LLVMFuzzerRunDriver`, LLVM ≥ 11) with the command line and `callback`.
int hk_fuzz_main(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size));
