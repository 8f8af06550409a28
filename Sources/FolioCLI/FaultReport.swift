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
    /// The line for an abort: LMDB stops the process so when a page breaks one of its assertions.
    nonisolated(unsafe) private static var abortLine = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    #if os(Linux)
    /// The actions in place before, put back by the handler.
    nonisolated(unsafe) private static var previousSegmentation = sigaction()
    nonisolated(unsafe) private static var previousBus = sigaction()
    nonisolated(unsafe) private static var previousAbort = sigaction()
    #endif

    /// Installs the report for the store at `storePath`; once per process (later calls do nothing).
    static func install(storePath: String) {
        #if os(Linux)
        guard line.baseAddress == nil else { return }
        // On a terminal, the line replaces one drawn in place (a progress bar, a wait for the writer).
        let start = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[2K" : ""
        let text = start + "folio: stopped by a memory fault reading the store at \(storePath): a page of its data file may be damaged; `folio verify` checks every page\n"
        line = allocated(text)
        // LMDB's assertions (`mdb.c:5921: Assertion 'IS_LEAF(mp)' failed`, on standard error
        // before it) abort the process.
        abortLine = allocated(start + "folio: stopped by LMDB finding the store at \(storePath) inconsistent: a page of its data file may be damaged, or its lock file removed while in use; `folio verify` checks every page\n")
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, information, _ in
            let line = signal == SIGABRT ? FaultReport.abortLine : FaultReport.line
            _ = write(STDERR_FILENO, line.baseAddress, line.count)
            // Put back what was there. A fault the process met (a positive code) is met again
            // when this handler returns, by the faulting read itself, so that what handles it
            // then sees where it was; one sent by another process, an abort, or a machine check
            // the kernel reports after the fact (`BUS_MCEERR_AO`), is raised again.
            switch signal {
            case SIGBUS: sigaction(SIGBUS, &FaultReport.previousBus, nil)
            case SIGABRT: sigaction(SIGABRT, &FaultReport.previousAbort, nil)
            default: sigaction(SIGSEGV, &FaultReport.previousSegmentation, nil)
            }
            let code = information?.pointee.si_code ?? 0
            if code <= 0 || signal == SIGABRT || (signal == SIGBUS && code == BUS_MCEERR_AO) { raise(signal) }
        }
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigemptyset(&action.sa_mask)
        sigaction(SIGSEGV, &action, &previousSegmentation)
        sigaction(SIGBUS, &action, &previousBus)
        sigaction(SIGABRT, &action, &previousAbort)
        // A process may start with SIGABRT blocked (its parent's mask): `abort()` unblocks it
        // for itself, and an abort sent by another process is reported alike.
        var abort = sigset_t()
        sigemptyset(&abort)
        sigaddset(&abort, SIGABRT)
        pthread_sigmask(SIG_UNBLOCK, &abort, nil)
        #endif
    }

    /// `text`'s bytes, kept for the life of the process.
    private static func allocated(_ text: String) -> UnsafeMutableBufferPointer<UInt8> {
        let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.utf8.count)
        _ = bytes.initialize(from: text.utf8)
        return bytes
    }
}
