#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB

/// The append-only event log, kept in an LMDB environment.
///
/// Stores envelopes and payload bytes; knows nothing of what the events mean. Every append
/// commits with LMDB's synced commit before it returns (unless the environment was opened with
/// `unsafeNoSync`). Several processes may use one store at once: LMDB serialises their writers,
/// and each write reads the head afresh, so positions stay gapless.
public final class EventStore: Sendable {
    /// The storage format this build creates stores in, and the newest it reads.
    ///
    /// Format 2 stores payloads LZ4-compressed and leaves out absent correlation and causation
    /// ids. A format-1 store keeps its format: Folio reads it and appends format-1 records to it,
    /// so that an older Folio can still open it (`export` and `import` move it to format 2).
    public static let formatVersion: UInt32 = 2

    /// This store's storage format.
    public let format: UInt32

    /// The environment, for modules that keep their own databases beside the log.
    public let environment: Environment
    let databases: Databases

    struct Databases: Sendable {
        let meta: Database
        let log: Database
        let ids: Database
        let streams: Database
        let streamHeads: Database
        let types: Database
        /// The record layout appends write.
        let recordVersion: UInt8

        subscript(index: BulkIndexes.Index) -> Database {
            switch index {
            case .ids: ids
            case .streams: streams
            case .streamHeads: streamHeads
            case .types: types
            }
        }
    }

    /// Opens the store in the directory `path`, creating it if needed.
    ///
    /// - Throws: `EventStoreError` with `newerFormat` when a newer Folio wrote the store (nothing
    ///   is changed), `notAStore` when the directory holds some other LMDB environment;
    ///   `LMDBError` when the directory cannot be used.
    public init(path: String, options: Environment.Options = Environment.Options()) throws {
        let environment = try Environment.open(at: path, options: options)
        var marked: UInt32?
        var existing = try environment.existingDatabase("meta")
        if existing == nil, try environment.hasNamedDatabases() {
            // The two reads see two snapshots: another process may have made the store between
            // them (its databases and mark commit together), so its `meta` is looked for again.
            existing = try environment.existingDatabase("meta")
            guard existing != nil else {
                throw EventStoreError(.notAStore, "\(path) is not a Folio store: it holds other LMDB databases")
            }
        }
        if let meta = existing {
            marked = try environment.read { txn in
                try txn.withValue(meta, Array("format".utf8)) { value in
                    value.flatMap { $0.count == 4 ? UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) : nil }
                }
            }
            if marked == nil, try !environment.isUnfinishedStore(meta: meta) {
                throw EventStoreError(.notAStore, "\(path) is not a Folio store: it has no storage format mark")
            }
            if let marked, marked > Self.formatVersion {
                throw EventStoreError(
                    .newerFormat,
                    "the store at \(path) uses storage format \(marked); this Folio reads format \(Self.formatVersion) at most: upgrade Folio to open it"
                )
            }
        }
        self.environment = environment
        let key = Array("format".utf8)
        // A new store. The first mark written stands, also when another process creates the store at the same time.
        func mark(_ txn: WriteTransaction, _ meta: Database) throws -> UInt32 {
            if let mark = try txn.get(meta, key), mark.count == 4 {
                return mark.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
            }
            try txn.put(meta, key, withUnsafeBytes(of: Self.formatVersion.bigEndian) { Array($0) })
            return Self.formatVersion
        }
        // The mark commits with the databases, so that a process stopped in between leaves no
        // store without one.
        var created: UInt32?
        let opened = try environment.databases(Self.databaseNames) { txn, databases in
            if marked == nil { created = try mark(txn, databases[0]) }
        }
        let meta = opened[0]
        let format: UInt32
        if let known = marked ?? created {
            format = known
        } else {
            // Its databases there already (another process made them meanwhile, or a Folio
            // before 2026-12-05 was stopped between them and its mark).
            format = try environment.write { txn in try mark(txn, meta) }
        }
        self.format = format
        self.databases = Databases(
            meta: meta, log: opened[1], ids: opened[2], streams: opened[3], streamHeads: opened[4], types: opened[5],
            recordVersion: Record.version(forFormat: format)
        )
    }

    /// The log's databases, `meta` first.
    static let databaseNames = ["meta", "log", "event_ids", "streams", "stream_heads", "types"]

    /// The path of the store's directory.
    public var path: String { environment.path }

    /// Runs `body` in a snapshot of the log.
    public func read<T>(_ body: (ReadSession) throws -> T) throws -> T {
        try environment.read { txn in try body(ReadSession(transaction: txn, databases: databases)) }
    }

    /// Runs `body` in one write transaction: appends and writes to other databases of the
    /// environment commit together, or (when `body` throws) not at all.
    ///
    /// `body` may run more than once when the map has to grow; keep its effects inside the session.
    public func write<T>(_ body: (WriteSession) throws -> T) throws -> T {
        try environment.write { txn in try body(WriteSession(transaction: txn, databases: databases)) }
    }

    /// Appends `events` to `stream` atomically, in one synced commit.
    ///
    /// - Throws: `EventStoreError` (`wrongExpectedVersion`, `positionConflict`, `idConflict`,
    ///   `invalidStream`, `invalidEvent`, `timeWentBackwards`); nothing is written then.
    @discardableResult
    public func append(_ events: [ProposedEvent], to stream: String, expected: ExpectedVersion = .any) throws -> AppendResult {
        try write { try $0.append(events, to: stream, expected: expected) }
    }

    /// The last position in the log (0 when it is empty).
    public func head() throws -> UInt64 { try read { try $0.head() } }
}

extension Environment {
    /// Whether the environment is a store whose making stopped between its databases and its
    /// mark, as a Folio before 2026-12-05 wrote them in two transactions: it holds the log's six
    /// databases and no other, `meta` and the log empty. It is made anew.
    func isUnfinishedStore(meta: Database) throws -> Bool {
        guard try databaseNames().sorted() == EventStore.databaseNames.sorted(), let log = try existingDatabase("log") else { return false }
        return try read { txn in try txn.statistics(meta).entries == 0 && txn.statistics(log).entries == 0 }
    }

    /// Whether the environment holds any named database at all.
    func hasNamedDatabases() throws -> Bool {
        try read { txn in try txn.withCursor(mainDatabase) { try $0.first() != nil } }
    }
}
