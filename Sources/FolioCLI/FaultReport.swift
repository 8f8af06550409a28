#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One line on standard error when a read of a store stops the process with a memory fault.
///
/// LMDB trusts the pages of its data file: a damaged one (a flipped bit on disk, a file edited
/// by hand) can make a read fault with SIGSEGV or SIGBUS, and the process end with no word on
/// what it was reading. Once a command has named its store, such a fault first writes one line
/// that names the store and the command that checks its pages (`folio verify`, which walks them
/// without trusting them), then goes on as it would have: the handler in place before (the Swift
/// runtime's backtrace, or the default action) meets the fault and ends the process by the same
/// signal. Nothing is caught or resumed: the fault still stops the command, and what it had
/// written is as it was.
enum FaultReport {
    /// The line, ready for `write(2)` (a signal handler may not allocate).
    nonisolated(unsafe) private static var line = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    #if os(Linux)
    /// The actions in place before, put back by the handler.
    nonisolated(unsafe) private static var previousSegmentation = sigaction()
    nonisolated(unsafe) private static var previousBus = sigaction()
    #endif

    /// Installs the report for the store at `storePath`; once per process (later calls do nothing).
    static func install(storePath: String) {
        #if os(Linux)
        guard line.baseAddress == nil else { return }
        // On a terminal, the line replaces one drawn in place (a progress bar, a wait for the writer).
        let start = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[2K" : ""
        let text = start + "folio: stopped by a memory fault reading the store at \(storePath): a page of its data file may be damaged; `folio verify` checks every page\n"
        let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.utf8.count)
        _ = bytes.initialize(from: text.utf8)
        line = bytes
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, information, _ in
            _ = write(STDERR_FILENO, FaultReport.line.baseAddress, FaultReport.line.count)
            // Put back what was there. A fault the process met (a positive code) is met again
            // when this handler returns, by the faulting read itself, so that what handles it
            // then sees where it was; one sent by another process, or a machine check the
            // kernel reports after the fact (`BUS_MCEERR_AO`), is raised again.
            if signal == SIGBUS {
                sigaction(SIGBUS, &FaultReport.previousBus, nil)
            } else {
                sigaction(SIGSEGV, &FaultReport.previousSegmentation, nil)
            }
            let code = information?.pointee.si_code ?? 0
            if code <= 0 || (signal == SIGBUS && code == BUS_MCEERR_AO) { raise(signal) }
        }
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigemptyset(&action.sa_mask)
        sigaction(SIGSEGV, &action, &previousSegmentation)
        sigaction(SIGBUS, &action, &previousBus)
        #endif
    }
}
