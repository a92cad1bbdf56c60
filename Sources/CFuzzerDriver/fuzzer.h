#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt's `libclang_rt.fuzzer_no_main`, linked only by `scripts/fuzz`): runs the
/// fuzzing loop with `callback` as the target, taking libFuzzer's own command-line flags.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
