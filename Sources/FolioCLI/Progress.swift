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
/// not only the long ones with a bar, start 2–3 ms slower (`docs/performance.md`, W4).
final class Progress {
    private let title: String
    private let visible: Bool
    private var lastDrawn: ContinuousClock.Instant?
    private static let width = 25

    init(title: String) {
        self.title = title
        visible = isatty(STDERR_FILENO) == 1
    }

    /// Shows `done` of `total`; without a total there is nothing to show.
    func update(done: Int, total: Int?) {
        guard visible, let total, total > 0 else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < .milliseconds(50) { return }
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
        _ = try? FileDescriptor.standardError.writeAll("\r\u{1B}[2K\(title) \(bar)".utf8)
    }
}
