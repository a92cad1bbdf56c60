import Foundation
import TelemetryFuzzing

#if FUZZING
import CFuzzerDriver
#endif

/// Built by `scripts/fuzz` (`-D FUZZING`, ASan and coverage instrumentation, libFuzzer linked): the fuzzer,
/// taking libFuzzer's flags. Built plainly: replays the inputs named on the command line (files or directories).
@main struct FuzzBatchDecoder {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            if let problem = FuzzTarget.batchDecoder.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))) { fatalError(problem) }
            return 0
        })
        #else
        let (inputs, failures) = FuzzTarget.batchDecoder.replay(Array(CommandLine.arguments.dropFirst()))
        for failure in failures { print(failure) }
        print("\(inputs) inputs, \(failures.count) failures")
        exit(failures.isEmpty ? 0 : 1)
        #endif
    }
}
