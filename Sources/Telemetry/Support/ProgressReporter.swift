#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A progress bar on stderr for long command-line work (drawn only when stderr is a terminal),
/// and a one-line summary at the end either way.
public final class ProgressReporter {
    let label: String
    let total: Int
    let interactive: Bool
    let started = Date()
    var done = 0
    var items = 0
    var lastDraw = Date.distantPast

    /// `total` in the unit `advance` counts (bytes of input, usually).
    public init(label: String, total: Int, interactive: Bool = isatty(2) == 1) {
        self.label = label
        self.total = max(total, 1)
        self.interactive = interactive
    }

    /// Records `amount` more units done and `items` more items (lines, events) handled.
    public func advance(by amount: Int, items: Int = 0) {
        done += amount
        self.items += items
        guard interactive, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        write("\r\(label) [\(bar)] \(Int(fraction * 100))% \(self.items) \(rate())")
    }

    /// Clears the bar and prints `summary` with the count and rate.
    public func finish(_ summary: String) {
        if interactive { write("\r\u{1B}[K") }
        let seconds = Date().timeIntervalSince(started)
        write("\(label): \(summary) in \(String(format: "%.2f", seconds)) s (\(rate()))\n")
    }

    private func rate() -> String {
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        return "\(Int(Double(items) / seconds))/s"
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
