#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// What a command stopped by Ctrl-C (or `kill`) would leave behind, and its removal.
///
/// A command that builds something aside before putting it in place (an import's staging store,
/// an export's `.partial` file) names it here for as long as it is unfinished. Once
/// `handleSignals()` has run, SIGINT, SIGTERM and SIGHUP are taken by a thread of their own
/// wherever they arrive: it removes what is named, says so in one line, and ends the process by
/// that signal, so a shell or a supervisor sees the command interrupted as before.
/// Without `handleSignals()` (a process that uses Folio as a library, a test) naming a path here
/// changes nothing.
///
/// An interruption never undoes what was acknowledged: a store is put in place in one step
/// (`settle(_:)`), which the removal waits for; once in place, it is no longer named.
public enum Interruption {
    /// A path removed if the process is interrupted before it is settled or forgotten.
    public struct Leftover: Sendable {
        let id: Int
        /// The file or directory named.
        public let path: String

        /// Runs `body` (the step that puts the path in place) so that an interruption comes
        /// wholly before it or wholly after, then forgets the path; when `body` throws, the path
        /// stays named until the caller has removed it.
        public func settle<T>(_ body: () throws -> T) rethrows -> T {
            try Interruption.state.withLock { state in
                let result = try body()
                state.leftovers[id] = nil
                return result
            }
        }

        /// Runs `body` as `settle(_:)` does, then, in the same step, names `text` in the
        /// leftover's place: what an interruption from then on says (a write command's note that it
        /// was carried out, once its commit is). When `body` throws, the leftover stays as it was.
        /// `awaited`: see `say(_:awaited:)`.
        public func settle<T>(_ body: () throws -> T, thenSaying text: String, awaited: Bool = false) rethrows -> T {
            try Interruption.state.withLock { state in
                let result = try body()
                if state.leftovers[id] != nil { state.leftovers[id] = ("", text, awaited) }
                return result
            }
        }

        /// Says `text` instead of what was named, in one step, unless the leftover is forgotten.
        /// `awaited`: the step it stands for is about to end (a result being printed), and an
        /// interruption first gives it half a second to, saying nothing of it if it does.
        public func say(_ text: String, awaited: Bool = false) {
            Interruption.state.withLock { state in
                if state.leftovers[id] != nil { state.leftovers[id] = ("", text, awaited) }
            }
        }

        /// Forgets the path: it is finished, or gone.
        public func forget() {
            Interruption.state.withLock { _ = $0.leftovers.removeValue(forKey: id) }
        }

        /// Removes the path, as far as it is there, and forgets it: the work failed, or what was
        /// made aside is used up.
        public func discard() {
            try? FileManager.default.removeItem(atPath: path)
            forget()
        }
    }

    struct State {
        var next = 0
        var leftovers: [Int: (path: String, what: String, awaited: Bool)] = [:]
        var handling = false
        /// The signals the thread takes, once it runs.
        var taken: sigset_t?
    }

    fileprivate static let state = Mutex(State())

    /// Set as a signal is taken: the process ends by it.
    private static let underWay = Atomic(false)

    /// Waits, if a signal has been taken, for its thread to end the process by it; returns at
    /// once otherwise. Called as a command ends, so that one interrupted as it finished (its
    /// result given time to print, `Leftover.say(_:awaited:)`) still ends by that signal, as a
    /// shell expects of an interrupted command, rather than with a status of its own.
    public static func yieldIfInterrupted() {
        guard underWay.load(ordering: .acquiring) || signalAwaitsThread() else { return }
        while true { sleep(60) }
    }

    /// Whether a signal the thread takes has been sent and not yet taken: the thread has not run
    /// since (a busy machine), while this one went on to end the process with a status of its own.
    private static func signalAwaitsThread() -> Bool {
        guard var taken = state.withLock({ $0.taken }) else { return false }
        var pending = sigset_t()
        sigpending(&pending)
        return [SIGINT, SIGTERM, SIGHUP].contains { sigismember(&taken, $0) == 1 && sigismember(&pending, $0) == 1 }
    }

    /// Names `path` (a file or a directory, described as `what` in the message) for removal if
    /// the process is interrupted before the returned leftover is settled or forgotten.
    public static func removeIfInterrupted(_ path: String, what: String) -> Leftover {
        removeIfInterrupted(path, what: what) {}.1
    }

    /// Runs `make`, which makes the file or directory at `path`, then names it for removal as
    /// `removeIfInterrupted(_:what:)` does, in one step: an interruption comes wholly before it
    /// (nothing made, nothing removed) or after (what was made is removed). What `make` refuses to
    /// touch, such as a file already there under that name, is never named.
    public static func removeIfInterrupted<T>(_ path: String, what: String, once make: () throws -> T) rethrows -> (T, Leftover) {
        try state.withLock { state in
            let made = try make()
            state.next += 1
            state.leftovers[state.next] = (path, what, false)
            return (made, Leftover(id: state.next, path: path))
        }
    }

    /// Names what an interruption before the returned leftover is forgotten means, with nothing
    /// to remove (an import into a store that is there: its one transaction is never committed).
    public static func sayIfInterrupted(_ text: String) -> Leftover {
        removeIfInterrupted("", what: text)
    }

    /// From here on, SIGINT, SIGTERM and SIGHUP interrupt the process through one thread, which
    /// removes what is named first. Call it before any other thread starts: the signals are
    /// blocked in this thread, and threads inherit that. A signal the process was started
    /// ignoring (a background job's SIGINT, `nohup`'s SIGHUP) stays ignored.
    public static func handleSignals() {
        let first = state.withLock { state in
            defer { state.handling = true }
            return !state.handling
        }
        guard first else { return }
        var signals = handledSignals()
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { _ in
            var signals = Interruption.handledSignals()
            var received: Int32 = 0
            while sigwait(&signals, &received) != 0 {}
            Interruption.interrupted(by: received)
        }, nil)
        if started == 0 {
            pthread_detach(thread)
            state.withLock { $0.taken = signals }
        } else {
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        }
    }

    /// The signals that interrupt a command, less those the process was started ignoring.
    private static func handledSignals() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var current = sigaction()
            sigaction(signal, nil, &current)
            if !isIgnored(current) { sigaddset(&signals, signal) }
        }
        return signals
    }

    private static func isIgnored(_ action: sigaction) -> Bool {
        #if canImport(Darwin)
        unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
        #else
        unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
        #endif
    }

    /// Removes what is named, says so, and ends the process by that signal. The lock is kept to the
    /// end, so a step being settled finishes first and none starts after.
    private static func interrupted(by number: Int32) -> Never {
        underWay.store(true, ordering: .releasing)
        // A step about to end is given half a second to (`Leftover.say(_:awaited:)`).
        for _ in 0..<50 where state.withLock({ $0.leftovers.values.contains { $0.awaited } }) {
            usleep(10_000)
        }
        return state.withLock { state in
            let removed = state.leftovers.sorted { $0.key < $1.key }.compactMap { _, leftover -> String? in
                if leftover.path.isEmpty { return leftover.what }
                // Not made yet, or gone already: nothing to remove, nor to say.
                var status = stat()
                if lstat(leftover.path, &status) != 0, errno == ENOENT { return nil }
                do {
                    try FileManager.default.removeItem(atPath: leftover.path)
                    return "removed \(leftover.what) (\(leftover.path))"
                } catch {
                    return "could not remove \(leftover.what) (\(leftover.path))"
                }
            }
            if !removed.isEmpty {
                // A progress bar may be drawn on the line: the message replaces it.
                let start = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[2K" : ""
                let line = start + "folio: interrupted; " + removed.joined(separator: "; ") + "\n"
                // Left unsaid where standard error takes nothing (a pipe nobody reads): the
                // signal ends the process all the same, as it would without this thread.
                var error = pollfd(fd: STDERR_FILENO, events: Int16(POLLOUT), revents: 0)
                if poll(&error, 1, 500) == 1, error.revents & Int16(POLLOUT) != 0 {
                    _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
                }
            }
            signal(number, SIG_DFL)
            var only = sigset_t()
            sigemptyset(&only)
            sigaddset(&only, number)
            pthread_sigmask(SIG_UNBLOCK, &only, nil)
            raise(number)
            _exit(128 + number)
        }
    }
}
