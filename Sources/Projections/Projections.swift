import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import LMDB

/// A refusal or failure of the read models.
///
/// `message` is one line for a person, naming the thing and the rule; `position` names the log
/// record the error is about, when there is one.
public struct ProjectionError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case unknownProjector, unknownTable, readOnly, decodeFailed, corruptRecord
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }
        public var description: String { "\(value)" }
        /// A rebuild named a projector this build does not run.
        public static let unknownProjector = Code(.unknownProjector)
        /// A projector touched a table it did not declare.
        public static let unknownTable = Code(.unknownTable)
        /// A projector tried to write inside a query.
        public static let readOnly = Code(.readOnly)
        /// A record's payload could not be decoded into an event (`position` names it).
        public static let decodeFailed = Code(.decodeFailed)
        /// A record failed its checksum or hash-chain link: the fold stopped there (`position` names it).
        public static let corruptRecord = Code(.corruptRecord)
    }

    public let code: Code
    public let message: String
    /// The log position the error is about, when there is one.
    public let position: UInt64?

    public init(_ code: Code, _ message: String, position: UInt64? = nil) {
        self.code = code
        self.message = message
        self.position = position
    }
    public var description: String { message }
}

/// A projector's state as `folio projections status` shows it.
public struct ProjectorStatus: Hashable, Sendable {
    public var name: String
    public var version: Int
    /// The running projector's fingerprint (`Projector.fingerprint`: its name, version, tables and row layout).
    public var fingerprint: String
    /// The fingerprint of the code that built the stored model; `nil` when never built.
    public var storedFingerprint: String?
    /// The last position folded into the stored model (0 when never built).
    public var checkpoint: UInt64
    /// The log's last position.
    public var head: UInt64
    /// The stored model was built by other code (or never), or does not fold the whole log (which
    /// every command keeps it at): it is rebuilt before use.
    public var isStale: Bool { storedFingerprint != fingerprint || checkpoint != head }
    /// Events in the log not yet folded into the stored model.
    public var lag: UInt64 { head > checkpoint ? head - checkpoint : 0 }
}

/// How far a rebuild is: first the fold of the log (`done` of `total` positions), then the
/// writing of the new slot (`rows` written). Reported about every 1% or 10,000 events.
public struct RebuildProgress: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        /// Reading and folding the log in memory.
        case folding
        /// Writing the folded rows into the inactive slot.
        case writing
    }
    public var phase: Phase
    /// Log positions read so far.
    public var done: Int
    /// The log's head when the rebuild started.
    public var total: Int
    /// Rows written into the new slot so far.
    public var rows: Int
    /// Rows the new slots will hold, known once the log is folded (0 while folding).
    public var rowsTotal: Int
    /// The names of the projectors being rebuilt.
    public var projectors: [String]

    public init(phase: Phase = .folding, done: Int, total: Int, rows: Int = 0, rowsTotal: Int = 0, projectors: [String] = []) {
        self.phase = phase
        self.done = done
        self.total = total
        self.rows = rows
        self.rowsTotal = rowsTotal
        self.projectors = projectors
    }
}

/// What a rebuild did for one projector.
public struct RebuildReport: Hashable, Sendable {
    public var name: String
    /// Events the projector folded (records of types it does not read are not counted).
    public var events: Int
    /// Rows written into its tables, secondary indexes included.
    public var rows: Int
}

/// A moment in the log's history.
public enum AsOf: Hashable, Sendable {
    /// Up to and including this global position.
    case position(UInt64)
    /// Up to the last event recorded at or before this time, in microseconds since 1970 (as a
    /// record keeps its time: exact where a `Date` rounds, past about 2255).
    case time(microseconds: Int64)

    /// Up to the last event recorded at or before `date`.
    public static func timestamp(_ date: Date) -> AsOf { .time(microseconds: Timestamp.microseconds(date)) }
}

/// The read models: projectors, their stored tables, checkpoints and fingerprints.
///
/// Each projector's tables live in one of two slots, `rm.<table>.a` and `rm.<table>.b`; the
/// `projections` database names the active slot with the checkpoint and fingerprint. A rebuild
/// fills the other slot and flips to it in one transaction, so a reader never sees a half-built
/// model and a crash leaves the old one serving.
///
/// Every method runs its own LMDB transaction on the calling thread (or the caller's, for
/// `catchUp(in:)`); none may be called inside another transaction of the same thread.
public final class Projections: Sendable {
    /// The projectors Folio runs.
    public static let standard: [any Projector] = [ClientsProjector(), ContentVersionsProjector(), PaymentsProjector(), AnalyticsProjector()]
    /// Bumped when the stored row encoding changes: every fingerprint changes with it.
    static let rowLayoutVersion = 2

    public let projectors: [any Projector]
    let log: EventStore
    let meta: Database
    /// table → slot → database
    let slots: [String: [String: Database]]
    /// The running fingerprint of each projector, by index.
    let fingerprints: [String]
    /// For each event type (by `EventType.allCases` index), the indexes of the projectors that read it.
    let readers: [[Int]]
    /// Whether a draft's content is copied out of its payload when decoded: only when a projector reads it.
    let copiesDraftContent: Bool

    /// The metadata kept per projector in the `projections` database, as a JSON object
    /// (`RowCoding.swift`).
    struct ProjectorState: Hashable, Sendable {
        var version: Int
        var fingerprint: String
        var checkpoint: UInt64
        var slot: String
    }

    /// Opens every database of `projectors` in `log`'s environment.
    ///
    /// Call it once per process, outside any transaction of the calling thread.
    public init(store log: EventStore, projectors: [any Projector] = Projections.standard) throws {
        self.log = log
        self.projectors = projectors
        let tables = projectors.flatMap { projector in projector.tables.flatMap { table in ["a", "b"].map { (table, $0) } } }
        let opened = try log.environment.databases(["projections"] + tables.map { "rm.\($0).\($1)" })
        meta = opened[0]
        var slots: [String: [String: Database]] = [:]
        for ((table, slot), database) in zip(tables, opened.dropFirst()) { slots[table, default: [:]][slot] = database }
        self.slots = slots
        fingerprints = projectors.map(\.fingerprint)
        readers = EventType.allCases.map { type in projectors.indices.filter { projectors[$0].eventTypes.contains(type) } }
        copiesDraftContent = projectors.contains { $0.readsDraftContent }
    }

    /// A projector's record in the `projections` database: none (never built), its state, or
    /// why it cannot be read (a changed byte).
    enum StoredRecord {
        case absent
        case state(ProjectorState)
        case damaged(String)
    }

    /// A projector's record as stored, decoded but not checked against the log or its slots: for
    /// a command, whose store's open has rebuilt every model that was not current.
    func storedRecord(_ index: Int, in transaction: Transaction) throws -> StoredRecord {
        try transaction.withValue(meta, Array(projectors[index].name.utf8)) { value in
            guard let value else { return .absent }
            do { return .state(try ProjectorState.decode(value)) } catch let error as ProjectionError { return .damaged(error.message) }
        }
    }

    /// A projector's record, checked against the log's last position, `head`, and its slots.
    func record(_ index: Int, in session: ReadSession, head: UInt64) throws -> StoredRecord {
        let record = try storedRecord(index, in: session.transaction)
        guard case .state(let state) = record else { return record }
        // A checkpoint past the log's end would leave every event up to it unfolded.
        if state.checkpoint > head {
            return .damaged("its checkpoint, \(state.checkpoint), is past the log's last position, \(head)")
        }
        // A rebuild empties the slot it leaves: rows there say the record names the wrong one.
        let other = Self.slot(after: state.slot)
        if try databases(index, slot: other).values.contains(where: { try session.transaction.statistics($0).entries > 0 }) {
            return .damaged("slot \(other), which it does not name, holds rows, where a rebuild leaves that slot empty")
        }
        return record
    }

    /// The state a projector's stored model was built with, checked (`record(_:in:head:)`):
    /// `nil` when it was never built, or when its record cannot be read or cannot be right
    /// (`damagedRecords(in:)`). Either way the model is stale, and the next rebuild (a query's or
    /// a write's, or `folio projections rebuild`) makes it anew from the log.
    func stored(_ index: Int, in session: ReadSession, head: UInt64) throws -> ProjectorState? {
        if case .state(let state) = try record(index, in: session, head: head) { return state }
        return nil
    }

    /// The state a projector's stored model was built with, as stored (`storedRecord(_:in:)`).
    func storedState(_ index: Int, in transaction: Transaction) throws -> ProjectorState? {
        if case .state(let state) = try storedRecord(index, in: transaction) { return state }
        return nil
    }

    /// A projector whose record in the `projections` database cannot be read, and why.
    public struct DamagedRecord: Hashable, Sendable {
        public var name: String
        public var why: String
    }

    /// The projectors whose record in the `projections` database cannot be read, and those built
    /// by this code whose checkpoint is behind the log (as a snapshot outside a write sees it):
    /// every command folds its events in its own transaction, so Folio never leaves one so.
    public func damagedRecords(in session: ReadSession) throws -> [DamagedRecord] {
        let head = try session.head()
        return try projectors.indices.compactMap { index in
            switch try record(index, in: session, head: head) {
            case .damaged(let why):
                return DamagedRecord(name: projectors[index].name, why: why)
            case .state(let state) where state.fingerprint == fingerprints[index] && state.checkpoint < head:
                return DamagedRecord(name: projectors[index].name, why: "its checkpoint, \(state.checkpoint), is behind the log's last position, \(head), where every write of a Folio with this projector folds its events up to")
            default:
                return nil
            }
        }
    }

    func save(_ stored: ProjectorState, for index: Int, in writer: WriteTransaction) throws {
        try writer.put(meta, Array(projectors[index].name.utf8), RowCoding.encode(stored))
    }

    /// The slot a rebuild writes after `slot` serves (`a` after `b`, and where none serves).
    static func slot(after slot: String?) -> String { slot == "a" ? "b" : "a" }

    func databases(_ index: Int, slot: String) -> [String: Database] {
        Dictionary(uniqueKeysWithValues: projectors[index].tables.map { ($0, slots[$0]![slot]!) })
    }

    // MARK: - Catch-up

    /// Folds the records after each fresh projector's checkpoint, up to the session's head, into
    /// its stored model, and stores the new checkpoints, all in the caller's transaction.
    ///
    /// Stale projectors (fingerprint changed, never built) are skipped: they wait for a rebuild.
    /// Each record's payload is decoded at most once, whatever the number of projectors reading it.
    /// - Throws: `ProjectionError.corruptRecord` at a record failing its checksum (nothing past it
    ///   is folded; the caller's transaction should be abandoned), `.decodeFailed` for an unreadable payload.
    public func catchUp(in session: WriteSession) throws {
        let head = try session.head()
        var checkpoints = [UInt64?](repeating: nil, count: projectors.count)
        var fresh: [(index: Int, stored: ProjectorState)] = []
        for index in projectors.indices {
            if let stored = try storedState(index, in: session.transaction), stored.fingerprint == fingerprints[index], stored.checkpoint < head {
                fresh.append((index, stored))
                checkpoints[index] = stored.checkpoint
            }
        }
        guard let from = fresh.map(\.stored.checkpoint).min() else { return }
        var databases: [String: Database] = [:]
        for (index, stored) in fresh { databases.merge(self.databases(index, slot: stored.slot)) { a, _ in a } }
        let model = LMDBStore(transaction: session.transaction, writer: session.writer, databases: databases)
        let appliers = projectors.map { Self.applier($0, to: LMDBStore.self) }
        try scanChecked(session, from: from + 1, projectorNames: fresh.map { projectors[$0.index].name }) { view in
            guard let typeIndex = TypeTable.index(of: view) else { return true }
            let position = view.position
            var decoded: (Event, Envelope)?
            for index in readers[typeIndex] {
                guard let checkpoint = checkpoints[index], checkpoint < position else { continue }
                if decoded == nil { decoded = try decode(view, type: EventType.allCases[typeIndex]) }
                try appliers[index](decoded!.0, decoded!.1, model)
            }
            return true
        }
        for (index, var stored) in fresh {
            stored.checkpoint = head
            try save(stored, for: index, in: session.writer)
        }
    }

    /// Applies one projector's events to a store of type `S`.
    typealias Applier<S: ModelStore> = (Event, Envelope, S) throws -> Void

    /// Calls `projector.apply` with the projector's concrete type when it is one of Folio's own,
    /// so that the call, and every row it reads and writes, is specialised for `S` (through the
    /// `any Projector` existential it is not: each `get` and `put` then goes through generic
    /// metadata and value witnesses, most of a rebuild's time).
    static func applier<S: ModelStore>(_ projector: any Projector, to: S.Type) -> Applier<S> {
        switch projector {
        case let projector as ClientsProjector: { try projector.apply($0, at: $1, to: $2) }
        case let projector as ContentVersionsProjector: { try projector.apply($0, at: $1, to: $2) }
        case let projector as PaymentsProjector: { try projector.apply($0, at: $1, to: $2) }
        case let projector as AnalyticsProjector: { try projector.apply($0, at: $1, to: $2) }
        default: { try projector.apply($0, at: $1, to: $2) }
        }
    }

    /// `session.scan(verify: true)`, with a corrupt record reported as the projections' error.
    /// Without `checksums`, the caller checks each record's checksum (`corrupt(_:projectorNames:)`
    /// reports it the same way).
    func scanChecked(
        _ session: ReadSession, from: UInt64, checksums: Bool = true, projectorNames: [String], _ body: (RecordView) throws -> Bool
    ) throws {
        do {
            try session.scan(from: from, verify: true, checksums: checksums, body)
        } catch let error as EventStoreError where error.code == .corruptRecord {
            throw Self.corrupt(error, projectorNames: projectorNames)
        }
    }

    /// The error for a record read without its checksum checked (`checksums: false`) whose
    /// checksum fails, as the projections at `projectorNames` report it; `nil` when it holds.
    static func checksumError(_ view: RecordView, projectorNames: [String]) -> ProjectionError? {
        do throws(EventStoreError) {
            try view.checkChecksum()
            return nil
        } catch {
            return corrupt(error, projectorNames: projectorNames)
        }
    }

    /// A corrupt record, as the projections at `projectorNames` report it.
    static func corrupt(_ error: EventStoreError, projectorNames: [String]) -> ProjectionError {
        ProjectionError(
            .corruptRecord,
            "projection (\(projectorNames.joined(separator: ", "))) stopped at record \(error.position.map(String.init) ?? "?"): \(error.message)",
            position: error.position
        )
    }

    func decode(_ view: RecordView, type: EventType) throws -> (Event, Envelope) {
        let event: Event
        do {
            event = try view.withPayload {
                try Event.decode(type: type, schemaVersion: Int(view.schemaVersion), payload: $0, copyingContent: copiesDraftContent)
            }
        } catch let error as DomainError {
            throw ProjectionError(.decodeFailed, "record \(view.position) (\(type.rawValue)) cannot be read: \(error.message)", position: view.position)
        } catch let error as EventStoreError {
            throw ProjectionError(.corruptRecord, "projection stopped at record \(view.position): \(error.message)", position: view.position)
        }
        let envelope = Envelope(
            position: view.position, recordedAt: Date(microseconds: view.recordedAtMicroseconds),
            actor: view.actor, stream: view.stream, eventID: view.id
        )
        return (event, envelope)
    }

    // MARK: - Folding in memory

    /// What an in-memory fold produced.
    struct Folded {
        var model: MemoryStore
        /// The last position read.
        var head: UInt64
        /// Events applied, per projector index.
        var events: [Int: Int]
    }

    /// Folds the log from position 1 into memory for the projectors at `selected`, up to `limit`;
    /// `observe`, when given, gets every event of a type this build knows, in log order.
    func fold(
        _ selected: [Int], session: ReadSession, limit: AsOf? = nil, progress: ((RebuildProgress) -> Void)? = nil,
        observing observe: ((Event) throws -> Void)? = nil
    ) throws -> Folded {
        let model = MemoryStore(expectedRows: try storedRowCounts(selected, in: session))
        let total = Int(try session.head())
        let step = UInt64(max(1, min(10_000, total / 100)))
        let chosen = Set(selected)
        let readers = self.readers.map { $0.filter(chosen.contains) }
        var counts = [Int](repeating: 0, count: projectors.count)
        let limitPosition: UInt64? = if case .position(let position) = limit { position } else { nil }
        let limitMicros: Int64? = if case .time(let microseconds) = limit { microseconds } else { nil }
        var head: UInt64 = 0
        let names = selected.map { projectors[$0].name }
        progress?(RebuildProgress(done: 0, total: total, projectors: names))
        // The scan (each record's form and link to the one before) and the projectors run here;
        // checksums are checked and payloads decoded a batch ahead on another thread. Batches
        // come back in log order, so a bad record still stops the fold at its position, after
        // everything before it was applied.
        let decoder = OrderedWorker<[CopiedRecord], DecodedBatch> { [self] batch in decodeBatch(batch, projectorNames: names) }
        let appliers = projectors.map { Self.applier($0, to: MemoryStore.self) }
        func apply(_ decoded: DecodedBatch) throws {
            for (typeIndex, event, envelope) in decoded.events {
                try observe?(event)
                for index in readers[typeIndex] {
                    try appliers[index](event, envelope, model)
                    counts[index] += 1
                }
            }
            if let error = decoded.error { throw error }
        }
        var batch: [CopiedRecord] = []
        batch.reserveCapacity(Self.decodeBatchSize)
        // A bad record the scan found itself (its form, its link, or on this thread its checksum);
        // the batches before it are still being checked and may hold an earlier one.
        var corruption: ProjectionError?
        // The first error of a batch applied during the scan: nothing after it counts.
        var failure: (any Error)?
        func isCorrupt(_ view: RecordView) -> Bool {
            corruption = Self.checksumError(view, projectorNames: names)
            return corruption != nil
        }
        do {
            try scanChecked(session, from: 1, checksums: false, projectorNames: names) { view in
                if let limitPosition, view.position > limitPosition { return false }
                if let limitMicros, view.recordedAtMicroseconds > limitMicros {
                    _ = isCorrupt(view)  // a corrupt time must not pass for the end
                    return false
                }
                head = view.position
                if let progress, head % step == 0 { progress(RebuildProgress(done: Int(head), total: total, projectors: names)) }
                guard let typeIndex = TypeTable.index(of: view), observe != nil || !readers[typeIndex].isEmpty else { return !isCorrupt(view) }
                batch.append(CopiedRecord(typeIndex: typeIndex, bytes: Array(view.bytes)))
                if batch.count == Self.decodeBatchSize {
                    if let decoded = decoder.submit(batch) {
                        do { try apply(decoded) } catch {
                            failure = error
                            return false
                        }
                    }
                    batch.removeAll(keepingCapacity: true)
                }
                return true
            }
        } catch let error as ProjectionError where error.code == .corruptRecord {
            corruption = error
        }
        if let failure { throw failure }
        if !batch.isEmpty, let decoded = decoder.submit(batch) { try apply(decoded) }
        while let decoded = decoder.next() { try apply(decoded) }
        if let corruption { throw corruption }
        progress?(RebuildProgress(done: total, total: total, projectors: names))
        var events: [Int: Int] = [:]
        for index in selected { events[index] = counts[index] }
        return Folded(model: model, head: head, events: events)
    }

    /// How many rows each table of the projectors at `selected` holds in its stored model: what
    /// a fold of the whole log will hold again, near enough to size its tables up front.
    func storedRowCounts(_ selected: [Int], in session: ReadSession) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for index in selected {
            guard let stored = try storedState(index, in: session.transaction) else { continue }
            for (table, database) in databases(index, slot: stored.slot) {
                counts[table] = try session.transaction.statistics(database).entries
            }
        }
        return counts
    }

    /// Records handed to the decoding thread at a time.
    static let decodeBatchSize = 256

    /// A record copied out of the map, with its type's index, for decoding on another thread.
    struct CopiedRecord: Sendable {
        var typeIndex: Int
        var bytes: [UInt8]
    }

    /// Decoded events in log order; `error` is the first unreadable record's, after which nothing was decoded.
    struct DecodedBatch: Sendable {
        var events: [(typeIndex: Int, event: Event, envelope: Envelope)] = []
        var error: ProjectionError?
    }

    /// Checks each record's checksum and decodes it, up to the first bad one.
    func decodeBatch(_ batch: [CopiedRecord], projectorNames: [String]) -> DecodedBatch {
        var decoded = DecodedBatch()
        decoded.events.reserveCapacity(batch.count)
        for record in batch {
            do {
                let (event, envelope) = try record.bytes.withUnsafeBytes { bytes in
                    let view = RecordView(bytes)
                    if let error = Self.checksumError(view, projectorNames: projectorNames) { throw error }
                    return try decode(view, type: EventType.allCases[record.typeIndex])
                }
                decoded.events.append((record.typeIndex, event, envelope))
            } catch {
                decoded.error = error as? ProjectionError
                    ?? ProjectionError(.decodeFailed, "a record cannot be read: \(error)")
                break
            }
        }
        return decoded
    }

    // MARK: - Rebuild

    /// Rebuilds the named projectors (all when `nil`) from the whole log, each switched in atomically.
    ///
    /// The log is folded in memory in a read snapshot; then one write transaction fills each
    /// projector's inactive slot with sorted rows, folds what was appended meanwhile, and flips.
    /// - Parameter committing: runs the commit it is given, for what is to change in one step with
    ///   it (what an interruption says of the rebuild: the read models as they were, until it commits).
    /// - Throws: `ProjectionError.unknownProjector` for a name Folio does not run (listing the
    ///   known ones), `.corruptRecord` or `.decodeFailed` naming a position; any error before the
    ///   final commit leaves the old models serving.
    @discardableResult
    public func rebuild(
        _ names: [String]? = nil, progress: ((RebuildProgress) -> Void)? = nil, committing: WriteTransaction.CommitWrapper? = nil
    ) throws -> [RebuildReport] {
        let selected = try select(names)
        return try rebuild(selected, onlyIfStale: false, progress: progress, committing: committing)
    }

    /// Rebuilds the projectors whose stored model was built by other code, or never (on a fresh
    /// store: empty models at checkpoint 0, cheap). Returns a report per projector rebuilt.
    ///
    /// Unlike `rebuild(_:progress:committing:)`, it folds inside its write transaction: other
    /// processes opening the store meanwhile (commands started together after an upgrade) wait
    /// for it, then find the models current, instead of each folding the whole log again; their
    /// writes wait too, for as long as the fold takes.
    @discardableResult
    public func rebuildStale(progress: ((RebuildProgress) -> Void)? = nil, committing: WriteTransaction.CommitWrapper? = nil) throws -> [RebuildReport] {
        // Not current: built by other code, never built, a record that cannot be read, or a
        // checkpoint behind the log. Every command folds its events in its own transaction, so a
        // model behind the log was not left so by Folio (a changed byte): caught up from that
        // checkpoint, it would fold events it holds already; it is folded anew instead.
        func stale(in session: ReadSession) throws -> [Int] {
            let current = try currentProjectors(in: session)
            return projectors.indices.filter { !current.contains($0) }
        }
        guard try !log.read(stale).isEmpty else { return [] }
        reserveForRebuild()
        // Kept across the transaction's runs: one that fills the map all the same runs again in
        // a larger one, and writes what was folded (caught up to anything appended since)
        // instead of folding the log again.
        var folded: (selected: [Int], folded: Folded)?
        defer { if let folded { releaseInBackground(folded.folded.model) } }
        return try log.write { session in
            // Another process may have rebuilt them while this one waited to write.
            let selected = try stale(in: session)
            guard !selected.isEmpty else { return [] }
            session.writer.aroundCommit = committing
            if folded?.selected != selected {
                if let earlier = folded { releaseInBackground(earlier.folded.model) }
                folded = (selected, try fold(selected, session: session, progress: progress))
            }
            return try install(selected, folded: folded!.folded, in: session, onlyIfStale: true, progress: progress)
        }
    }

    /// Grows this process's map, before a rebuild's write transaction, to hold the store twice
    /// over (a rebuild writes its models anew beside the old ones, which are freed only at its
    /// commit). A map that fills makes the transaction run again, letting go of the writer in
    /// between, and another process opening a stale store would take it then and fold the log
    /// too: each process maps only what it asks for, so one's larger map does not spare another.
    func reserveForRebuild() {
        log.environment.reserve(2 * log.environment.usedBytes + (64 << 20))
    }

    /// Starts an in-memory fold of every projector that the caller feeds event by event, from
    /// position 1 on, and installs in its own transaction: an import folds what it has already
    /// decoded instead of reading the log again.
    public func startFold() -> Fold { Fold(projections: self) }

    /// An in-memory fold of every projector, fed by the caller (see `startFold()`).
    public final class Fold {
        let projections: Projections
        let model = MemoryStore()
        let appliers: [Applier<MemoryStore>]
        var head: UInt64 = 0
        var events: [Int: Int] = [:]

        init(projections: Projections) {
            self.projections = projections
            appliers = projections.projectors.map { Projections.applier($0, to: MemoryStore.self) }
        }

        /// Folds the event at `envelope.position`, which must follow the last one folded.
        public func apply(_ event: Event, at envelope: Envelope) throws {
            let typeIndex = EventType.allCases.firstIndex(of: event.type)!
            for index in projections.readers[typeIndex] {
                try appliers[index](event, envelope, model)
                events[index, default: 0] += 1
            }
            head = envelope.position
        }

        /// Writes the folded models as every projector's new active slot, in `session`.
        public func install(in session: WriteSession) throws {
            let all = Array(projections.projectors.indices)
            _ = try projections.install(all, folded: Folded(model: model, head: head, events: events), in: session, onlyIfStale: false, progress: nil)
        }

        deinit { releaseInBackground(model) }
    }

    private func select(_ names: [String]?) throws -> [Int] {
        guard let names else { return Array(projectors.indices) }
        var selected: [Int] = []
        for name in names {
            guard let index = projectors.firstIndex(where: { $0.name == name }) else {
                throw ProjectionError(.unknownProjector, "no projector is named \(name.debugDescription): the projectors are \(projectors.map(\.name).joined(separator: ", "))")
            }
            if !selected.contains(index) { selected.append(index) }
        }
        return selected
    }

    private func rebuild(
        _ selected: [Int], onlyIfStale: Bool, progress: ((RebuildProgress) -> Void)?, committing: WriteTransaction.CommitWrapper? = nil
    ) throws -> [RebuildReport] {
        let folded = try log.read { session in try fold(selected, session: session, progress: progress) }
        defer { releaseInBackground(folded.model) }
        reserveForRebuild()
        return try log.write { session in
            session.writer.aroundCommit = committing
            return try install(selected, folded: folded, in: session, onlyIfStale: onlyIfStale, progress: progress)
        }
    }

    /// Writes folded models into each projector's other slot, catches them up to the head and flips to them.
    private func install(
        _ selected: [Int], folded: Folded, in session: WriteSession, onlyIfStale: Bool, progress: ((RebuildProgress) -> Void)?
    ) throws -> [RebuildReport] {
        var reports: [RebuildReport] = []
        let head = try session.head()
        let total = Int(folded.head)
        var written = 0
        let names = selected.map { projectors[$0].name }
        let rowsTotal = selected.reduce(0) { sum, index in projectors[index].tables.reduce(sum) { $0 + folded.model.rowCount($1) } }
        func writing() -> RebuildProgress {
            RebuildProgress(phase: .writing, done: total, total: total, rows: written, rowsTotal: rowsTotal, projectors: names)
        }
        progress?(writing())
        for index in selected {
            let projector = projectors[index]
            let record = try self.record(index, in: session, head: head)
            let previous: ProjectorState? = if case .state(let state) = record { state } else { nil }
            if onlyIfStale, previous?.fingerprint == fingerprints[index], previous?.checkpoint == head { continue }
            let slot = Self.slot(after: previous?.slot)
            let target = databases(index, slot: slot)
            var rows = 0
            for table in projector.tables {
                let database = target[table]!
                try session.writer.clear(database)
                try folded.model.forEachEncodedRow(table) { key, value in
                    try session.writer.put(database, key, value, options: .append)
                    rows += 1
                    written += 1
                    if let progress, written % 10_000 == 0 { progress(writing()) }
                }
            }
            var stored = ProjectorState(version: projector.version, fingerprint: fingerprints[index], checkpoint: folded.head, slot: slot)
            var events = folded.events[index] ?? 0
            if head > folded.head {
                // Events appended since the snapshot was folded: apply them to the new slot.
                let model = LMDBStore(transaction: session.transaction, writer: session.writer, databases: target)
                let apply = Self.applier(projector, to: LMDBStore.self)
                try scanChecked(session, from: folded.head + 1, projectorNames: [projector.name]) { view in
                    guard let typeIndex = TypeTable.index(of: view), readers[typeIndex].contains(index) else { return true }
                    let (event, envelope) = try decode(view, type: EventType.allCases[typeIndex])
                    try apply(event, envelope, model)
                    events += 1
                    return true
                }
                stored.checkpoint = head
            }
            try save(stored, for: index, in: session.writer)
            if let previous, previous.slot != slot {
                for database in databases(index, slot: previous.slot).values { try session.writer.clear(database) }
            } else if previous == nil {
                // None served, or which one did is not known (a record missing or damaged): the
                // other slot is emptied too.
                for database in databases(index, slot: Self.slot(after: slot)).values { try session.writer.clear(database) }
            }
            reports.append(RebuildReport(name: projector.name, events: events, rows: rows))
        }
        progress?(writing())
        return reports
    }

    // MARK: - Reading

    /// The projectors' states: fingerprints, checkpoints, the log's head, staleness and lag.
    public func status() throws -> [ProjectorStatus] {
        try log.read { session in
            let head = try session.head()
            return try projectors.indices.map { index in
                let stored = try stored(index, in: session, head: head)
                return ProjectorStatus(
                    name: projectors[index].name, version: projectors[index].version, fingerprint: fingerprints[index],
                    storedFingerprint: stored?.fingerprint, checkpoint: stored?.checkpoint ?? 0, head: head
                )
            }
        }
    }

    /// Runs `body` on the stored read models in one snapshot.
    ///
    /// The model is valid only inside `body`. A stale projector's tables answer with what its
    /// old code built (or nothing, when never built), except in a store opened read-only, which
    /// cannot rebuild them: there every model is folded from the log in memory.
    public func read<T>(_ body: (ReadModel) throws -> T) throws -> T {
        try log.read { session in
            // A store this user may only read cannot rebuild models an older Folio built (or that
            // lag the log): they are folded from the log in memory, as `--as-of` folds them.
            if log.environment.isReadOnly, try !isCurrent(in: session) {
                let folded = try fold(Array(projectors.indices), session: session)
                return try body(ReadModel(store: folded.model) { read in try read(session) })
            }
            return try read(in: session, body)
        }
    }

    /// The tables whose stored rows differ from the log folded anew, in one snapshot, by name:
    /// damage a page walk cannot see (a changed byte inside a row). Only current models are
    /// compared: the projectors whose stored model was built by other code, or does not fold the
    /// whole log (stale, and not rebuilt: a store this user may only read, or `verify`, which
    /// writes nothing), are named in `notCompared`.
    ///
    /// It reads `session`'s snapshot, and gives every event of the log to `observe` in log order
    /// as the fold reads it (also when no model is compared), for whatever else is to be checked
    /// against the same fold.
    public func tablesDifferingFromLog(
        in session: ReadSession, observing observe: ((Event) throws -> Void)? = nil
    ) throws -> (differing: [String], notCompared: [String]) {
        let current = try currentProjectors(in: session)
        let notCompared = projectors.indices.filter { !current.contains($0) }.map { projectors[$0].name }
        let folded = try fold(current, session: session, observing: observe)
        defer { releaseInBackground(folded.model) }
        // Each table's rows, encoded as a rebuild writes them, against its stored rows in one
        // pass: every row is written by the one encoding, whichever path wrote it.
        var differing: [String] = []
        for index in current {
            let slot = try storedState(index, in: session.transaction)?.slot ?? "a"
            for (table, database) in databases(index, slot: slot) {
                let difference = try session.transaction.firstDifference(in: database) { expect in
                    try folded.model.forEachEncodedRow(table) { key, value in try expect(Array(key)) { $0.elementsEqual(value) } }
                }
                if difference != nil { differing.append(table) }
            }
        }
        return (differing.sorted(), notCompared)
    }

    /// Whether every stored model was built by this code and folds the whole log `session` sees.
    func isCurrent(in session: ReadSession) throws -> Bool {
        try currentProjectors(in: session).count == projectors.count
    }

    /// The indexes of the projectors whose stored model was built by this code and folds the
    /// whole log `session` sees.
    private func currentProjectors(in session: ReadSession) throws -> [Int] {
        let head = try session.head()
        return try projectors.indices.filter { index in
            guard let state = try stored(index, in: session, head: head) else { return false }
            return state.fingerprint == fingerprints[index] && state.checkpoint == head
        }
    }

    /// Runs `body` on the read models as `session` sees them: inside a write session, with what it
    /// has written (a command's answer comes from the transaction that made it).
    public func read<T>(in session: ReadSession, _ body: (ReadModel) throws -> T) throws -> T {
        var databases: [String: Database] = [:]
        for index in projectors.indices {
            let slot = try storedState(index, in: session.transaction)?.slot ?? "a"
            databases.merge(self.databases(index, slot: slot)) { a, _ in a }
        }
        let store = LMDBStore(transaction: session.transaction, writer: nil, databases: databases)
        return try body(ReadModel(store: store) { read in try read(session) })
    }

    /// `rows` with their content read from the log, in a snapshot of its own: a draft's position
    /// never changes, so a listing reads its pages a few rows at a time after taking its rows,
    /// without holding one snapshot open while it prints.
    public func withContent(_ rows: [VersionRow]) throws -> [VersionRow] {
        try Self.withContent(rows) { body in try log.read { try body($0) } }
    }

    /// `rows` with the content of every row that names its draft's position read from the log,
    /// in the snapshot `withLog` gives (opened only when a row needs it).
    static func withContent(
        _ rows: [VersionRow], withLog: (_ body: (ReadSession) throws -> Void) throws -> Void
    ) throws -> [VersionRow] {
        guard rows.contains(where: { $0.contentPosition != nil }) else { return rows }
        var rows = rows
        try withLog { session in
            for index in rows.indices {
                guard let position = rows[index].contentPosition else { continue }
                rows[index].content = try draftContent(at: position, of: rows[index].id, in: session)
            }
        }
        return rows
    }

    /// The content of `version` from its draft at `position` in the log, which a stored
    /// `content_versions` row names instead of keeping the content itself.
    static func draftContent(at position: UInt64, of version: UUID, in session: ReadSession) throws -> CanonicalJSON {
        let event: RecordedEvent?
        do {
            event = try session.event(at: position)
        } catch let error as EventStoreError where error.code == .corruptRecord {
            throw ProjectionError(.corruptRecord, "the content of version \(version.lowercased) is in record \(position), which is corrupt: \(error.message)", position: position)
        }
        let notTheDraft = ProjectionError(
            .decodeFailed,
            "content_versions row \(version.lowercased) names log record \(position) for its content, which is not that version's draft; rebuild the read models (folio projections rebuild)",
            position: position
        )
        guard let event, event.type == EventType.versionDrafted.rawValue else { throw notTheDraft }
        let decoded: Event
        do {
            decoded = try Event.decode(type: EventType.versionDrafted, schemaVersion: Int(event.schemaVersion), payload: event.payload)
        } catch {
            throw ProjectionError(.decodeFailed, "record \(position), the draft of version \(version.lowercased), cannot be read: \(error.message)", position: position)
        }
        guard case .versionDrafted(let draft) = decoded, draft.versionID == version else { throw notTheDraft }
        return draft.content
    }

    /// The read models as they stood at `asOf`, folded from the log in memory with the same
    /// projector code. The stored models are not touched.
    public func model(asOf: AsOf) throws -> ReadModel {
        let folded = try log.read { session in try fold(Array(projectors.indices), session: session, limit: asOf) }
        // Versions' content is read from their drafts, which stay where they are in the log.
        return ReadModel(store: folded.model) { [log] read in try log.read(read) }
    }

    /// `clients`' rows as they stood at `asOf` (in `clients`, `content_versions` and `payments`:
    /// the projectors that fold clients apart), folded from those clients' streams alone: what a
    /// query about a client needs, without folding every other client's events. Each record's
    /// checksum is checked as it is read; the records are found through the streams' index (as
    /// `history` and `log --client` find them), where a fold of the whole log reads the log.
    /// Its other tables (analytics) are empty.
    public func model(asOf: AsOf, clients: [UUID]) throws -> ReadModel {
        let model = MemoryStore()
        let appliers = projectors.map { Self.applier($0, to: MemoryStore.self) }
        let apart = Set(projectors.indices.filter { projectors[$0].foldsClientsApart })
        let readers = self.readers.map { $0.filter(apart.contains) }
        // Up to a position, the records past it are not read, as a fold of the whole log reads
        // none; up to a time, the first past it is checked, as there.
        let through: UInt64 = if case .position(let position) = asOf { position } else { .max }
        try log.read { session in
            for client in Set(clients) {
                try session.scan(stream: Event.stream(for: client), through: through) { view in
                    // Its checksum is checked already (a corrupt time does not pass for the end).
                    if case .time(let time) = asOf, view.recordedAtMicroseconds > time { return false }
                    guard let typeIndex = TypeTable.index(of: view), !readers[typeIndex].isEmpty else { return true }
                    let (event, envelope) = try decode(view, type: EventType.allCases[typeIndex])
                    for index in readers[typeIndex] { try appliers[index](event, envelope, model) }
                    return true
                }
            }
        }
        return ReadModel(store: model) { [log] read in try log.read(read) }
    }
}

/// Drops the last reference to a large in-memory model on another thread: freeing a million rows
/// takes a tenth of a rebuild, which the caller need not wait for.
func releaseInBackground(_ model: MemoryStore) {
    let box = ReleaseBox(model)
    DispatchQueue.global(qos: .utility).async { box.release() }
}

/// Carries the last reference to another thread, where `release()` drops it; nothing else touches it.
private final class ReleaseBox: @unchecked Sendable {
    private var model: MemoryStore?
    init(_ model: MemoryStore) { self.model = model }
    func release() { model = nil }
}

/// Event types by their stored UTF-8 names, to recognise a record's type without making a String.
enum TypeTable {
    static let names: [[UInt8]] = EventType.allCases.map { Array($0.rawValue.utf8) }

    /// The `EventType.allCases` index of the record's type, or `nil` for a type this build does not know.
    static func index(of view: RecordView) -> Int? {
        let bytes = view.typeBytes
        for (index, name) in names.enumerated() where name.count == bytes.count && name.elementsEqual(bytes) { return index }
        return nil
    }
}
