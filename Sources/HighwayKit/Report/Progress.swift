// Progress display for long work: training loops and experiment loops (lesion studies, sweeps).
//
// Everything goes to stderr, so JSON printed on stdout stays machine-readable. On a terminal one
// line is redrawn in place (at most 10 times a second); in a log file or CI there is no redrawing,
// so training prints one line per epoch and generic loops one line every 10 s plus a final one.
// The per-batch call only stores numbers and reads the monotonic clock; strings are built only
// when something is actually printed.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where progress text goes, and whether it may redraw a line.
struct ProgressSink {
    var interactive: Bool
    var columns: Int
    var emit: (String) -> Void

    /// stderr; interactive when it is a terminal (unless overridden).
    static func standardError(interactive: Bool?) -> ProgressSink {
        let tty = isatty(STDERR_FILENO) != 0
        var columns = 80
        #if canImport(Glibc) || canImport(Darwin)
        var size = winsize()
        if tty, ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { columns = Int(size.ws_col) }
        #endif
        return ProgressSink(interactive: interactive ?? tty, columns: columns) { text in
            var bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 { break }
                offset += n
            }
            bytes.removeAll()
        }
    }

    /// Replaces the current terminal line (cut to the terminal width, since a wrapped line
    /// could not be erased by a carriage return).
    func redraw(_ line: String) {
        emit("\r" + String(line.prefix(max(columns - 1, 10))) + "\u{1B}[K")
    }

    func clearLine() {
        emit("\r\u{1B}[K")
    }
}

/// Monotonic seconds, for rates and throttling (unaffected by wall-clock changes).
@inline(__always)
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// "12s", "3m 05s", "1h 02m".
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m " + String(format: "%02ds", s % 60) }
    return "\(s / 3600)h " + String(format: "%02dm", (s % 3600) / 60)
}

/// A compact number for a progress line: 4 significant digits, scientific when tiny or huge.
func formatMetric(_ v: Double) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    let a = abs(v)
    if a != 0, a < 1e-3 || a >= 1e6 { return String(format: "%.3e", v) }
    return String(format: "%.4g", v)
}

/// A text bar like "[=========>          ]".
func progressBar(_ fraction: Double, width: Int = 20) -> String {
    let f = min(max(fraction.isFinite ? fraction : 0, 0), 1)
    let filled = Int((f * Double(width)).rounded(.down))
    if filled >= width { return "[" + String(repeating: "=", count: width) + "]" }
    return "[" + String(repeating: "=", count: filled) + ">" + String(repeating: " ", count: width - filled - 1) + "]"
}

/// Progress of a training run: epochs of batches.
///
/// ```swift
/// let progress = ProgressReporter(epochs: 20, batchesPerEpoch: 469, batchSize: 128, quiet: options.quiet)
/// for epoch in 1...20 {
///     progress.beginEpoch(epoch)
///     for b in 1...469 { …; progress.batch(b, loss: loss) }
///     progress.endEpoch(metrics: [("test_acc", acc)])
/// }
/// progress.finish()
/// ```
/// On a terminal: `epoch 3/20 [=====>   ] batch 212/469  loss 0.1234  8.1k samples/s  ETA 2m 10s`,
/// redrawn at most 10 times a second. Otherwise one line per epoch.
public final class ProgressReporter {
    public let epochs: Int
    public let batchesPerEpoch: Int
    public let batchSize: Int
    public let quiet: Bool

    private let sink: ProgressSink
    private let minRedrawInterval = 0.1
    private var runStart = 0.0
    private var epochStart = 0.0
    private var lastDraw = -Double.infinity
    private var epoch = 0
    private var batchesDone = 0  // in this epoch, by index
    private var batchesSkipped = -1  // batches before the first one seen this epoch (a resumed run); -1 = none seen yet
    private var lossSum = 0.0
    private var lossCount = 0
    private var batchesBefore = 0  // in earlier epochs of this run (for the ETA)

    /// - Parameters:
    ///   - quiet: print nothing at all.
    ///   - interactive: force (true) or forbid (false) the redrawn line; `nil` asks whether stderr
    ///     is a terminal.
    public convenience init(epochs: Int, batchesPerEpoch: Int, batchSize: Int, quiet: Bool = false,
                            interactive: Bool? = nil)
    {
        self.init(epochs: epochs, batchesPerEpoch: batchesPerEpoch, batchSize: batchSize, quiet: quiet,
                  sink: .standardError(interactive: interactive))
    }

    /// Sends the text to `output` instead of stderr (for tests and embedding applications).
    public convenience init(epochs: Int, batchesPerEpoch: Int, batchSize: Int, quiet: Bool = false,
                            interactive: Bool, output: @escaping (String) -> Void)
    {
        self.init(epochs: epochs, batchesPerEpoch: batchesPerEpoch, batchSize: batchSize, quiet: quiet,
                  sink: ProgressSink(interactive: interactive, columns: 120, emit: output))
    }

    init(epochs: Int, batchesPerEpoch: Int, batchSize: Int, quiet: Bool, sink: ProgressSink) {
        self.epochs = epochs
        self.batchesPerEpoch = max(batchesPerEpoch, 1)
        self.batchSize = batchSize
        self.quiet = quiet
        self.sink = sink
        runStart = monotonicSeconds()
    }

    /// Starts epoch `epoch` (counted from 1; a resumed run may start above 1).
    public func beginEpoch(_ epoch: Int) {
        let now = monotonicSeconds()
        if self.epoch == 0 { runStart = now }
        batchesBefore += self.epoch == 0 ? 0 : batchesDone - max(batchesSkipped, 0)
        self.epoch = epoch
        epochStart = now
        batchesDone = 0
        batchesSkipped = -1
        lossSum = 0
        lossCount = 0
        lastDraw = -Double.infinity
    }

    /// Records that batch `index` (from 1) of the current epoch finished with `loss`. Cheap: it
    /// only builds a string when the terminal line is due for a redraw.
    public func batch(_ index: Int, loss: Double) {
        if batchesSkipped < 0 { batchesSkipped = index - 1 }
        batchesDone = index
        if loss.isFinite {
            lossSum += loss
            lossCount += 1
        }
        guard !quiet, sink.interactive else { return }
        let now = monotonicSeconds()
        guard now - lastDraw >= minRedrawInterval || index == batchesPerEpoch else { return }
        lastDraw = now
        sink.redraw(batchLine(now: now))
    }

    /// Mean finite loss of the epoch so far (NaN before any).
    public var epochMeanLoss: Double { lossCount > 0 ? lossSum / Double(lossCount) : .nan }

    /// Batches run in this epoch by this process (a resumed epoch starts part-way).
    private var batchesRun: Int { batchesDone - max(batchesSkipped, 0) }

    private func rate(now: Double) -> Double {
        let elapsed = now - epochStart
        return elapsed > 0 ? Double(batchesRun * batchSize) / elapsed : 0
    }

    private func eta(now: Double) -> Double {
        let done = batchesBefore + batchesRun
        let remaining = (batchesPerEpoch - batchesDone) + (epochs - epoch) * batchesPerEpoch
        guard done > 0 else { return .nan }
        return (now - runStart) / Double(done) * Double(max(remaining, 0))
    }

    private func batchLine(now: Double) -> String {
        let fraction = Double(batchesDone) / Double(batchesPerEpoch)
        return "epoch \(epoch)/\(epochs) \(progressBar(fraction)) batch \(batchesDone)/\(batchesPerEpoch)"
            + "  loss \(formatMetric(epochMeanLoss))  \(formatRate(rate(now: now))) samples/s"
            + "  ETA \(formatDuration(eta(now: now)))"
    }

    private func formatRate(_ r: Double) -> String {
        r >= 10_000 ? String(format: "%.1fk", r / 1000) : String(format: "%.0f", r)
    }

    /// Ends the epoch and prints its summary line: mean training loss, the given metrics (e.g.
    /// test accuracy), time and throughput. Printed on terminals and in logs alike.
    public func endEpoch(metrics: [(String, Double)] = []) {
        guard !quiet else { return }
        let now = monotonicSeconds()
        var line = "epoch \(epoch)/\(epochs)  loss \(formatMetric(epochMeanLoss))"
        for (name, value) in metrics { line += "  \(name) \(formatMetric(value))" }
        line += "  \(formatDuration(now - epochStart))  \(formatRate(rate(now: now))) samples/s"
        if epoch < epochs { line += "  ETA \(formatDuration(eta(now: now)))" }
        if sink.interactive { sink.clearLine() }
        sink.emit(line + "\n")
    }

    /// Clears a half-drawn line, if any.
    public func finish() {
        guard !quiet, sink.interactive else { return }
        sink.clearLine()
    }
}

/// Progress of a loop of `total` steps, e.g. "lesion [=====>    ] 12/49  ETA 30s".
///
/// ```swift
/// let progress = LoopProgress(total: layers.count, label: "lesion")
/// for layer in layers { …; progress.advance() }
/// progress.finish()
/// ```
/// Without a terminal it prints a line at most every 10 seconds, and one when finished.
/// (Not named `Progress`: that would clash with Foundation's `Progress` in every file importing both.)
public final class LoopProgress {
    /// Steps in all; `update(completed:total:note:)` may revise it (a loop that also stops at a
    /// time budget passes the steps it will get to at its present pace).
    public private(set) var total: Int
    public let label: String
    public let quiet: Bool

    private let sink: ProgressSink
    private let start: Double
    private var completed = 0
    /// Steps done before this bar started (a resumed loop): not counted in the pace.
    private let completedBefore: Int
    private var lastDraw = -Double.infinity
    private var finished = false
    /// Seconds between lines when not on a terminal.
    private let logInterval = 10.0

    /// `completed`: steps already done when the bar starts (a resumed loop), left out of the ETA's pace.
    public convenience init(total: Int, label: String, completed: Int = 0, quiet: Bool = false, interactive: Bool? = nil) {
        self.init(total: total, label: label, completed: completed, quiet: quiet, sink: .standardError(interactive: interactive))
    }

    /// Sends the text to `output` instead of stderr.
    public convenience init(total: Int, label: String, completed: Int = 0, quiet: Bool = false, interactive: Bool,
                            output: @escaping (String) -> Void)
    {
        self.init(total: total, label: label, completed: completed, quiet: quiet,
                  sink: ProgressSink(interactive: interactive, columns: 120, emit: output))
    }

    init(total: Int, label: String, completed: Int = 0, quiet: Bool, sink: ProgressSink) {
        self.completed = max(completed, 0)
        completedBefore = self.completed
        self.total = max(total, 0)
        self.label = label
        self.quiet = quiet
        self.sink = sink
        start = monotonicSeconds()
        if !quiet, !sink.interactive { lastDraw = start }
    }

    /// Marks `count` more steps done; `note` (e.g. "layer 12") is shown on the line.
    public func advance(by count: Int = 1, note: String? = nil) {
        update(completed: completed + count, note: note)
    }

    /// Sets the number of completed steps (and, when given, the total).
    public func update(completed newValue: Int, total newTotal: Int? = nil, note: String? = nil) {
        if let newTotal { total = max(newTotal, 0) }
        completed = min(max(newValue, 0), max(total, newValue))
        guard !quiet, !finished else { return }
        let now = monotonicSeconds()
        let interval = sink.interactive ? 0.1 : logInterval
        guard now - lastDraw >= interval || (sink.interactive && completed == total) else { return }
        lastDraw = now
        let line = self.line(now: now, note: note)
        if sink.interactive { sink.redraw(line) } else { sink.emit(line + "\n") }
    }

    private func line(now: Double, note: String?) -> String {
        let elapsed = now - start
        let fraction = total > 0 ? Double(completed) / Double(total) : 1
        var line = "\(label) \(progressBar(fraction)) \(completed)/\(total)"
        if let note { line += "  \(note)" }
        if completed > completedBefore, completed < total {
            line += "  ETA \(formatDuration(elapsed / Double(completed - completedBefore) * Double(total - completed)))"
        }
        return line
    }

    /// Prints `message` on a line of its own that stays (an event worth keeping in the log, such as
    /// a return from a divergence); the bar goes on below it at the next update.
    public func announce(_ message: String) {
        guard !quiet, !finished else { return }
        if sink.interactive { sink.clearLine() }
        sink.emit(message + "\n")
    }

    /// Prints the final line ("label: 49/49 done in 12s" or `message`).
    public func finish(message: String? = nil) {
        guard !quiet, !finished else { return }
        finished = true
        let text = message ?? "\(label): \(completed)/\(total) done in \(formatDuration(monotonicSeconds() - start))"
        if sink.interactive { sink.clearLine() }
        sink.emit(text + "\n")
    }
}
