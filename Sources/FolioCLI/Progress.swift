#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// A progress bar on standard error when it is a terminal; silent otherwise.
///
/// Drawn in place as `Importing [==========               ] 40%`, at most twenty times a second,
/// and left as `Importing [Done]` by `finish()`.
///
/// Folio draws its own bar: console-kit's terminal module, which drew it before, links all of
/// swift-corelibs-foundation into `folio` (one `Thread.sleep`), and that made every command,
/// not only the long ones with a bar, start about 0.8 ms slower (`docs/performance.md`, W4).
final class Progress {
    private let title: String
    private let output: ((String) -> Void)?
    private let interval: Duration
    private var lastDrawn: ContinuousClock.Instant?
    private static let width = 25

    /// A bar titled `title`, written to standard error if it is a terminal.
    convenience init(title: String) {
        self.init(title: title, output: isatty(STDERR_FILENO) == 1 ? { _ = try? FileDescriptor.standardError.writeAll($0.utf8) } : nil)
    }

    /// A bar titled `title`, written to `output` (none when `nil`), redrawn at most once an `interval`.
    init(title: String, interval: Duration = .milliseconds(50), output: ((String) -> Void)?) {
        self.title = title
        self.interval = interval
        self.output = output
    }

    /// Shows `done` of `total`; without a total there is nothing to show.
    func update(done: Int, total: Int?) {
        guard output != nil, let total, total > 0 else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < interval { return }
        lastDrawn = now
        let fraction = min(1, max(0, Double(done) / Double(total)))
        let filled = Int(fraction * Double(Self.width))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: Self.width - filled)
        draw("[\(bar)] \(Int(fraction * 100))%")
    }

    /// Replaces a bar that was shown by `[Done]` and ends its line.
    func finish() {
        guard lastDrawn != nil else { return }
        draw("[Done]\n")
    }

    private func draw(_ bar: String) {
        // Carriage return, then erase the line: the bar is redrawn where it stands.
        output?("\r\u{1B}[2K\(title) \(bar)")
    }
}
