#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Projections
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
    /// The title, and after it the stage of the work under way (`update(done:total:stage:)`).
    private let title: String
    private var stage: String?
    private let output: ((String) -> Void)?
    private let interval: Duration
    private var lastDrawn: ContinuousClock.Instant?
    private let columns: Int?
    /// The bar's width in columns: 25, or what fits a narrower terminal beside the title and the
    /// percentage (a line that wrapped would be cleared only in part, leaving a line each redraw):
    /// "Title [bar] 100%", one column left free (a line filled to its end wraps on some terminals).
    private var width: Int { min(25, max(0, (columns ?? .max) - heading.count - 9)) }
    private var heading: String { stage.map { "\(title) (\($0))" } ?? title }

    /// A bar titled `title`, written to standard error if it is a terminal, as wide as fits it.
    convenience init(title: String) {
        guard isatty(STDERR_FILENO) == 1 else {
            self.init(title: title, output: nil)
            return
        }
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : nil
        self.init(title: title, columns: columns) { _ = try? FileDescriptor.standardError.writeAll($0.utf8) }
    }

    /// A bar titled `title`, written to `output` (none when `nil`), redrawn at most once an
    /// `interval`, on a line of `columns` (unbounded when `nil`).
    init(title: String, interval: Duration = .milliseconds(50), columns: Int? = nil, output: ((String) -> Void)?) {
        self.title = title
        self.interval = interval
        self.output = output
        self.columns = columns
    }

    /// Shows `done` of `total`, at `stage` of the work when given (shown after the title, and
    /// drawn at once when it changes); without a total there is nothing to show.
    func update(done: Int, total: Int?, stage: String? = nil) {
        guard output != nil, let total, total > 0 else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < interval, stage == self.stage { return }
        self.stage = stage
        lastDrawn = now
        let fraction = min(1, max(0, Double(done) / Double(total)))
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        // Too narrow a terminal for a bar gets the percentage alone.
        draw(width < 5 ? "\(Int(fraction * 100))%" : "[\(bar)] \(Int(fraction * 100))%")
    }

    /// Replaces a bar that was shown by `[Done]` and ends its line; once.
    func finish() {
        guard lastDrawn != nil else { return }
        lastDrawn = nil
        draw("[Done]\n")
    }

    private func draw(_ bar: String) {
        // Carriage return, then erase the line: the bar is redrawn where it stands.
        output?("\r\u{1B}[2K\(heading) \(bar)")
    }

    /// Shows a rebuild's progress: the log folded, then the rows written into the new slots,
    /// each from 0 to 100%.
    func show(_ rebuild: RebuildProgress) {
        switch rebuild.phase {
        case .folding: update(done: rebuild.done, total: rebuild.total, stage: "folding the log")
        case .writing: update(done: rebuild.rows, total: rebuild.rowsTotal, stage: "writing rows")
        }
    }
}
