import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB
import Projections
import Synchronization

/// A Folio store: the event log, the write side's indexes and the read models, in one
/// LMDB environment (one directory).
///
/// Every command runs in one write transaction: it reads the client's state, checks the rules
/// (across clients too), appends its events, updates the indexes and catches the read models
/// up, then commits with a synced commit. Writers in every process are serialised by LMDB's
/// writer lock, so two commands never decide on the same state: no duplicate token, no gap in
/// version numbers. Reads right after a command include its events.
public final class Store: Sendable {
    /// How a store is opened.
    public struct Options: Sendable {
        public var environment: Environment.Options
        /// Rebuild read models whose projector changed (or were never built) when the store opens.
        public var rebuildStaleProjections: Bool
        /// Stamps events instead of the wall clock (tests, generated histories). `nil`: the clock,
        /// never going backwards.
        public var clock: (@Sendable () -> Date)?
        /// Makes event and entity ids. Default: random UUIDs.
        public var ids: @Sendable () -> UUID
        /// Seeds token draws for repeatable runs; `nil` draws from the system's secure generator.
        public var tokenSeed: UInt64?
        /// Called with `true` (on another thread) when a write has waited half a second for another
        /// process's write to finish, and with `false` when that wait is over: an import holds the
        /// store's writer for as long as it runs, `projections rebuild` while it writes its new
        /// models, a stale model's rebuild as the store opens while it folds and writes.
        public var waitingForWriter: (@Sendable (_ waiting: Bool) -> Void)?
        /// Called after a command whose events were recorded at the log's last time, later than
        /// this machine's clock (the log's times never go back), with that time and the clock's
        /// (microseconds since 1970): a clock that is behind, or a history imported from the future.
        public var recordedAheadOfClock: (@Sendable (_ recorded: Int64, _ clock: Int64) -> Void)?
        /// Called after a command that appended nothing, as it repeats what the log holds (an
        /// activation again, a webhook retried) or reports a step a payment is past, with why
        /// (`Decision.unchanged`). The command answers as usual.
        public var unchanged: (@Sendable (_ why: String) -> Void)?
        /// Runs the commit of a command that records events (`WriteTransaction.aroundCommit`; one
        /// that changes nothing commits without it): the command line has an interruption come
        /// wholly before it or wholly after it, and say which.
        public var committingCommand: (@Sendable (_ commit: () throws -> Void) throws -> Void)?

        public init(
            environment: Environment.Options = Environment.Options(), rebuildStaleProjections: Bool = true,
            clock: (@Sendable () -> Date)? = nil, ids: @escaping @Sendable () -> UUID = { UUID.random() }, tokenSeed: UInt64? = nil,
            waitingForWriter: (@Sendable (Bool) -> Void)? = nil, recordedAheadOfClock: (@Sendable (Int64, Int64) -> Void)? = nil,
            unchanged: (@Sendable (String) -> Void)? = nil, committingCommand: (@Sendable (_ commit: () throws -> Void) throws -> Void)? = nil
        ) {
            self.environment = environment
            self.rebuildStaleProjections = rebuildStaleProjections
            self.clock = clock
            self.ids = ids
            self.tokenSeed = tokenSeed
            self.waitingForWriter = waitingForWriter
            self.recordedAheadOfClock = recordedAheadOfClock
            self.unchanged = unchanged
            self.committingCommand = committingCommand
        }
    }

    /// The append-only log.
    public let log: EventStore
    /// The read models.
    public let projections: Projections
    let indexes: WriteIndexes
    let options: Options
    private let seededRandom: Mutex<SplitMix64?>

    /// Opens (creating if needed) the store in directory `path`.
    ///
    /// Read models whose projector changed are rebuilt first (`Options.rebuildStaleProjections`).
    ///
    /// - Parameters:
    ///   - progress: told about the rebuild of read models that are stale at open.
    ///   - committing: runs that rebuild's commit (`WriteTransaction.aroundCommit`).
    /// - Throws: `FolioError` naming the problem (a newer storage format, a path that is a file…).
    public init(
        path: String, options: Options = Options(), progress: ((RebuildProgress) -> Void)? = nil, committing: WriteTransaction.CommitWrapper? = nil
    ) throws {
        do {
            log = try EventStore(path: path, options: options.environment)
            if let notice = options.waitingForWriter { log.environment.noticeWaitsForWriter(notice) }
            do {
                indexes = try WriteIndexes(environment: log.environment)
                projections = try Projections(store: log)
            } catch let error as LMDBError where error.code == .readOnly {
                throw FolioError(.store, "the store at \(error.operation) lacks tables this Folio keeps (an earlier Folio made it), which cannot be made while it is read-only to this user: copy it where this user may write, and open the copy")
            }
            self.options = options
            seededRandom = Mutex(options.tokenSeed.map { SplitMix64(seed: $0) })
            // A store this user may only read is not rebuilt: its queries fold stale models in
            // memory instead (`Projections.read`).
            if options.rebuildStaleProjections && !log.environment.isReadOnly {
                do {
                    try projections.rebuildStale(progress: progress, committing: committing)
                } catch let error as ProjectionError where error.code == .corruptRecord || error.code == .decodeFailed {
                    // Every command that rebuilds first fails the same way: say which still answer.
                    let wrapped = FolioError.wrapping(error)
                    throw FolioError(wrapped.code, wrapped.message + "; the stale read models (folio projections status) must be rebuilt before this command, and cannot be past that record: restore the store from a backup or an earlier export (verify, log, stats, history and projections status still answer)")
                }
            }
        } catch {
            throw FolioError.wrapping(error)
        }
    }

    /// The directory of the store.
    public var path: String { log.path }

    /// Whether this user may only read the store: it was opened read-only, and any write is refused.
    public var isReadOnly: Bool { log.environment.isReadOnly }

    /// The default store directory: `FOLIO_STORE`, else `./folio-store`.
    public static var defaultPath: String {
        ProcessInfo.processInfo.environment["FOLIO_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "folio-store"
    }

    /// A token drawn uniformly from those `isIssued` does not know.
    /// - Throws: the first error `isIssued` throws (a damaged index): a token whose owner could
    ///   not be read is never taken for one never issued.
    func drawToken(issuedCount: Int, isIssued: (Token) throws -> Bool) throws -> Token {
        var failure: (any Error)?
        // After a failure every token counts as issued, and the draw's own result is dropped.
        func known(_ token: Token) -> Bool {
            guard failure == nil else { return true }
            do { return try isIssued(token) } catch {
                failure = error
                return true
            }
        }
        func draw(using generator: inout some RandomNumberGenerator) throws -> Token {
            do {
                let token = try Token.draw(issuedCount: issuedCount, isIssued: known, using: &generator)
                if let failure { throw failure }
                return token
            } catch {
                throw failure ?? error
            }
        }
        let seeded: Token? = try seededRandom.withLock { rng in
            guard var generator = rng else { return nil }
            defer { rng = generator }
            return try draw(using: &generator)
        }
        if let seeded { return seeded }
        var rng = SystemRandomNumberGenerator()
        return try draw(using: &rng)
    }
}

/// A small, fast, seedable generator (SplitMix64) for repeatable runs.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
