import Foundation

/// The package root: this file is Tests/TelemetryTests/Support/Python.swift.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.standardized.path
}()

/// The repository's .venv/bin/python3 (scripts/setup makes it) when present, else python3 from PATH.
let python: String = {
    let venv = packageRoot + "/.venv/bin/python3"
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
}()

/// On CI (CI=true) tests that need a Python module never skip: a missing module is a failure there.
let onCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// A Python script that exited non-zero, with what it printed on stderr.
struct PythonScriptError: Error, CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    let stderr: String

    var description: String { "\(python) \(arguments.joined(separator: " ")) exited with \(status): \(stderr)" }
}

/// Runs `python` with the arguments; returns its exit status, stdout and stderr.
func runPython(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), errors)
}

/// Runs the script at `path` (relative to the package root) and returns its stdout; throws `PythonScriptError` when it fails.
func runPythonScript(_ path: String, _ arguments: [String]) throws -> String {
    let arguments = [packageRoot + "/" + path] + arguments
    let result = try runPython(arguments)
    guard result.status == 0 else { throw PythonScriptError(arguments: arguments, status: result.status, stderr: result.err) }
    return result.out
}

/// Whether `python` can import `module`.
func pythonCanImport(_ module: String) -> Bool { (try? runPython(["-c", "import \(module)"]))?.status == 0 }

/// `runPythonScript` from an async test: the script runs and is waited for on a thread of its own. A test that
/// waited for it on one of Swift's two cooperative threads (a DuckDB query takes seconds) starved the live
/// servers of the suites running beside it: a 413 answered from the request head once took a minute.
func runPythonScript(_ path: String, _ arguments: [String]) async throws -> String {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<String, any Error>) in
        Thread { done.resume(with: Result { try runPythonScript(path, arguments) as String }) }.start()
    }
}
