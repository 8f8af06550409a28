import Domain
import EventStore
import Foundation
import LMDB

/// A refusal or failure of the read models.
public struct ProjectionError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        fileprivate init(_ name: String) { self.name = name }
        public var description: String { name }
        public static let unknownProjector = Code("unknownProjector")
        public static let unknownTable = Code("unknownTable")
        public static let readOnly = Code("readOnly")
        public static let unreadableEvent = Code("unreadableEvent")
    }

    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// A projector's state as `folio projections status` shows it.
public struct ProjectorStatus: Hashable, Sendable {
    public var name: String
    public var version: Int
    /// The running code's fingerprint.
    public var fingerprint: String
    /// The fingerprint of the code that built the stored model; `nil` when never built.
    public var storedFingerprint: String?
    /// The last position folded into the stored model.
    public var checkpoint: UInt64
    public var head: UInt64
    /// The stored model was built by other code (or never): it must be rebuilt before use.
    public var isStale: Bool { storedFingerprint != fingerprint }
}

/// How far a rebuild is.
public struct RebuildProgress: Sendable {
    public var done: Int
    public var total: Int
}

/// What a rebuild did for one projector.
public struct RebuildReport: Hashable, Sendable {
    public var name: String
    public var events: Int
    public var rows: Int
}

/// A moment in the log's history.
public enum AsOf: Hashable, Sendable {
    /// Up to and including this global position.
    case position(UInt64)
    /// Up to the last event recorded at or before this time.
    case timestamp(Date)
}

/// The read models: projectors, their stored tables, checkpoints and fingerprints.
///
/// Each projector's tables live in one of two slots, `rm.<table>.a` and `rm.<table>.b`; the
/// `projections` database names the active slot with the checkpoint and fingerprint. A rebuild
/// fills the other slot and flips to it in one transaction, so a reader never sees a half-built
/// model and a crash leaves the old one serving.
public final class Projections: Sendable {
    /// The projectors Folio runs.
    public static let standard: [any Projector] = [ClientsProjector(), ContentVersionsProjector(), PaymentsProjector(), AnalyticsProjector()]
    /// Bumped when the stored row encoding changes: every fingerprint changes with it.
    static let rowLayoutVersion = 1

    public let projectors: [any Projector]
    let log: EventStore
    let meta: Database
    /// table → slot → database
    let slots: [String: [String: Database]]

    struct Stored: Codable, Hashable {
        var version: Int
        var fingerprint: String
        var checkpoint: UInt64
        var slot: String
    }

    /// Opens every database of `projectors` in `log`'s environment.
    public init(store log: EventStore, projectors: [any Projector] = Projections.standard) throws {
        self.log = log
        self.projectors = projectors
        meta = try log.environment.database("projections")
        var slots: [String: [String: Database]] = [:]
        for projector in projectors {
            for table in projector.tables {
                for slot in ["a", "b"] { slots[table, default: [:]][slot] = try log.environment.database("rm.\(table).\(slot)") }
            }
        }
        self.slots = slots
    }

    func stored(_ projector: any Projector, in transaction: Transaction) throws -> Stored? {
        try transaction.withValue(meta, Array(projector.name.utf8)) { value in
            try value.map { try JSONDecoder().decode(Stored.self, from: Data($0)) }
        }
    }

    func save(_ stored: Stored, for projector: any Projector, in writer: WriteTransaction) throws {
        try writer.put(meta, Array(projector.name.utf8), try JSONEncoder().encode(stored))
    }

    func databases(_ projector: any Projector, slot: String) -> [String: Database] {
        Dictionary(uniqueKeysWithValues: projector.tables.map { ($0, slots[$0]![slot]!) })
    }

    // MARK: - Catch-up

    /// Folds the records after each fresh projector's checkpoint into its stored model, in the
    /// caller's transaction. Stale projectors (fingerprint changed, never built) are left for a rebuild.
    ///
    /// - Throws: `EventStoreError.corruptRecord` at a record failing its checksum: nothing is folded past it.
    public func catchUp(in session: WriteSession) throws {
        let head = try session.head()
        var fresh: [(projector: any Projector, stored: Stored)] = []
        for projector in projectors {
            if let stored = try stored(projector, in: session.transaction), stored.fingerprint == projector.fingerprint, stored.checkpoint < head {
                fresh.append((projector, stored))
            }
        }
        guard let from = fresh.map(\.stored.checkpoint).min() else { return }
        var databases: [String: Database] = [:]
        for (projector, stored) in fresh { databases.merge(self.databases(projector, slot: stored.slot)) { a, _ in a } }
        let model = LMDBStore(transaction: session.transaction, writer: session.writer, databases: databases)
        try session.scan(from: from + 1, verify: true) { view in
            let position = view.position
            guard let type = EventType(rawValue: view.type) else { return true }
            let readers = fresh.filter { $0.stored.checkpoint < position && $0.projector.eventTypes.contains(type) }
            guard !readers.isEmpty else { return true }
            let (event, envelope) = try decode(view, type: type)
            for reader in readers { try reader.projector.apply(event, at: envelope, to: model) }
            return true
        }
        for (projector, var stored) in fresh {
            stored.checkpoint = head
            try save(stored, for: projector, in: session.writer)
        }
    }

    func decode(_ view: RecordView, type: EventType) throws -> (Event, Envelope) {
        let event: Event
        do {
            event = try Event.decode(type: type.rawValue, schemaVersion: Int(view.schemaVersion), payload: Data(view.payload))
        } catch {
            throw ProjectionError(.unreadableEvent, "record \(view.position) (\(type.rawValue)) cannot be read: \(error.message)")
        }
        let envelope = Envelope(
            position: view.position, recordedAt: Date(timeIntervalSince1970: Double(view.recordedAtMicroseconds) / 1_000_000),
            actor: view.actor, eventID: view.id
        )
        return (event, envelope)
    }

    // MARK: - Folding in memory

    /// Folds the log from position 1 into memory for `selected`, up to `limit`.
    func fold(
        _ selected: [any Projector], session: ReadSession, limit: AsOf? = nil, progress: ((RebuildProgress) -> Void)? = nil
    ) throws -> (model: MemoryStore, head: UInt64, events: Int) {
        let model = MemoryStore()
        let total = Int(try session.head())
        var needed = Set<EventType>()
        for projector in selected { needed.formUnion(projector.eventTypes) }
        let limitPosition: UInt64? = if case .position(let position) = limit { position } else { nil }
        let limitMicros: Int64? = if case .timestamp(let date) = limit { Timestamp.microseconds(date) } else { nil }
        var head: UInt64 = 0
        var events = 0
        try session.scan(from: 1, verify: true) { view in
            if let limitPosition, view.position > limitPosition { return false }
            if let limitMicros, view.recordedAtMicroseconds > limitMicros { return false }
            head = view.position
            if head % 10_000 == 0 { progress?(RebuildProgress(done: Int(head), total: total)) }
            guard let type = EventType(rawValue: view.type), needed.contains(type) else { return true }
            let (event, envelope) = try decode(view, type: type)
            for projector in selected where projector.eventTypes.contains(type) { try projector.apply(event, at: envelope, to: model) }
            events += 1
            return true
        }
        progress?(RebuildProgress(done: total, total: total))
        return (model, head, events)
    }

    // MARK: - Rebuild

    /// Rebuilds the named projectors (all when `nil`) from the whole log, each switched in atomically.
    ///
    /// - Throws: `ProjectionError.unknownProjector` for a name Folio does not run; any error
    ///   before the final commit leaves the old models serving.
    @discardableResult
    public func rebuild(_ names: [String]? = nil, progress: ((RebuildProgress) -> Void)? = nil) throws -> [RebuildReport] {
        let selected = try select(names)
        return try rebuild(selected, onlyIfStale: false, progress: progress)
    }

    /// Rebuilds the projectors whose stored model was built by other code, or never.
    @discardableResult
    public func rebuildStale(progress: ((RebuildProgress) -> Void)? = nil) throws -> [RebuildReport] {
        let stale = try log.read { session in
            try projectors.filter { try stored($0, in: session.transaction)?.fingerprint != $0.fingerprint }
        }
        guard !stale.isEmpty else { return [] }
        return try rebuild(stale, onlyIfStale: true, progress: progress)
    }

    /// Rebuilds every projector inside the caller's transaction.
    public func rebuildAll(in session: WriteSession, progress: ((RebuildProgress) -> Void)? = nil) throws {
        let folded = try fold(projectors, session: session, progress: progress)
        _ = try install(projectors, folded: folded, in: session, onlyIfStale: false)
    }

    /// Starts an in-memory fold of every projector that the caller feeds event by event, from
    /// position 1 on, and installs in its own transaction: an import folds what it has already
    /// decoded instead of reading the log again.
    public func startFold() -> Fold { Fold(projections: self) }

    /// An in-memory fold of every projector, fed by the caller (see `startFold()`).
    public final class Fold {
        let projections: Projections
        let model = MemoryStore()
        var head: UInt64 = 0
        var events = 0

        init(projections: Projections) { self.projections = projections }

        /// Folds the event at `envelope.position`, which must follow the last one folded.
        public func apply(_ event: Event, at envelope: Envelope) throws {
            for projector in projections.projectors where projector.eventTypes.contains(event.type) {
                try projector.apply(event, at: envelope, to: model)
            }
            head = envelope.position
            events += 1
        }

        /// Writes the folded models as every projector's new active slot, in `session`.
        public func install(in session: WriteSession) throws {
            _ = try projections.install(projections.projectors, folded: (model, head, events), in: session, onlyIfStale: false)
        }
    }

    private func select(_ names: [String]?) throws -> [any Projector] {
        guard let names else { return projectors }
        return try names.map { name in
            guard let projector = projectors.first(where: { $0.name == name }) else {
                throw ProjectionError(.unknownProjector, "no projector is named \(name): the projectors are \(projectors.map(\.name).joined(separator: ", "))")
            }
            return projector
        }
    }

    private func rebuild(_ selected: [any Projector], onlyIfStale: Bool, progress: ((RebuildProgress) -> Void)?) throws -> [RebuildReport] {
        let folded = try log.read { session in try fold(selected, session: session, progress: progress) }
        return try log.write { session in try install(selected, folded: folded, in: session, onlyIfStale: onlyIfStale) }
    }

    /// Writes folded models into each projector's other slot, catches them up to the head and flips to them.
    private func install(
        _ selected: [any Projector], folded: (model: MemoryStore, head: UInt64, events: Int), in session: WriteSession, onlyIfStale: Bool
    ) throws -> [RebuildReport] {
        let encoder = JSONEncoder()
        var reports: [RebuildReport] = []
        let head = try session.head()
        for projector in selected {
            let previous = try stored(projector, in: session.transaction)
            if onlyIfStale, previous?.fingerprint == projector.fingerprint { continue }
            let slot = previous?.slot == "a" ? "b" : "a"
            let target = databases(projector, slot: slot)
            var rows = 0
            for table in projector.tables {
                let database = target[table]!
                try session.writer.clear(database)
                for (key, value) in try folded.model.encodedRows(table, encoder: encoder) {
                    try session.writer.put(database, key, value, options: .append)
                    rows += 1
                }
            }
            var stored = Stored(version: projector.version, fingerprint: projector.fingerprint, checkpoint: folded.head, slot: slot)
            if head > folded.head {
                // Events appended since the snapshot was folded: apply them to the new slot.
                let model = LMDBStore(transaction: session.transaction, writer: session.writer, databases: target)
                try session.scan(from: folded.head + 1, verify: true) { view in
                    guard let type = EventType(rawValue: view.type), projector.eventTypes.contains(type) else { return true }
                    let (event, envelope) = try decode(view, type: type)
                    try projector.apply(event, at: envelope, to: model)
                    return true
                }
                stored.checkpoint = head
            }
            try save(stored, for: projector, in: session.writer)
            if let previous, previous.slot != slot {
                for database in databases(projector, slot: previous.slot).values { try session.writer.clear(database) }
            }
            reports.append(RebuildReport(name: projector.name, events: folded.events, rows: rows))
        }
        return reports
    }

    // MARK: - Reading

    /// The projectors' states.
    public func status() throws -> [ProjectorStatus] {
        try log.read { session in
            let head = try session.head()
            return try projectors.map { projector in
                let stored = try stored(projector, in: session.transaction)
                return ProjectorStatus(
                    name: projector.name, version: projector.version, fingerprint: projector.fingerprint,
                    storedFingerprint: stored?.fingerprint, checkpoint: stored?.checkpoint ?? 0, head: head
                )
            }
        }
    }

    /// Runs `body` on the stored read models in one snapshot.
    public func read<T>(_ body: (ReadModel) throws -> T) throws -> T {
        try log.read { session in
            var databases: [String: Database] = [:]
            for projector in projectors {
                let slot = try stored(projector, in: session.transaction)?.slot ?? "a"
                databases.merge(self.databases(projector, slot: slot)) { a, _ in a }
            }
            return try body(ReadModel(store: LMDBStore(transaction: session.transaction, writer: nil, databases: databases)))
        }
    }

    /// The read models as they stood at `asOf`, folded from the log in memory.
    public func model(asOf: AsOf) throws -> ReadModel {
        let folded = try log.read { session in try fold(projectors, session: session, limit: asOf) }
        return ReadModel(store: folded.model)
    }
}
