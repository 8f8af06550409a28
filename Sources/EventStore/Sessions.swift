import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB

/// Reads of the log inside one snapshot.
///
/// `RecordView`s handed to callbacks are valid only during the callback's session.
public class ReadSession {
    /// The underlying transaction, for reading other databases in the same snapshot.
    public let transaction: Transaction
    let databases: EventStore.Databases

    init(transaction: Transaction, databases: EventStore.Databases) {
        self.transaction = transaction
        self.databases = databases
    }

    /// The last position in the log (0 when it is empty).
    public func head() throws -> UInt64 {
        try transaction.withCursor(databases.log) { cursor in
            try cursor.last().map { try storedPosition($0.key, "the log's last key") } ?? 0
        }
    }

    /// The record at `position`, read in place, or `nil` past the head.
    public func withRecord<R>(at position: UInt64, _ body: (RecordView?) throws -> R) throws -> R {
        try transaction.withValue(databases.log, position.bigEndianBytes) { value in try body(value.map(RecordView.init)) }
    }

    /// A copy of the event at `position`, or `nil` past the head.
    ///
    /// - Throws: `corruptRecord` when the record fails its checksum.
    public func event(at position: UInt64) throws -> RecordedEvent? {
        try withRecord(at: position) { view in
            guard let view else { return nil }
            guard view.checksumIsValid else { throw corrupt(position) }
            return try view.materialize()
        }
    }

    /// The position of the event with `id`, or `nil` when it is not in the log.
    public func position(ofEvent id: UUID) throws -> UInt64? {
        try transaction.withValue(databases.ids, id.bytes) { try $0.map { try storedPosition($0, "the event id index's entry for \(id.uuidString.lowercased())") } }
    }

    /// The version of `stream`'s last event, or `nil` when the stream has none.
    public func version(ofStream stream: String) throws -> UInt64? {
        try transaction.withValue(databases.streamHeads, Array(stream.utf8)) { try $0.map { try storedPosition($0, "the stream heads' entry for \(stream)") } }
    }

    /// Visits records in position order starting at `position` (forward) or ending at it (backward),
    /// until `body` returns false or the log ends.
    ///
    /// With `verify`, each record's checksum (and, scanning forward, its link to its predecessor)
    /// is checked first, and a bad record stops the scan with `corruptRecord` naming its position.
    /// With `checksums` false as well, each record's form, position and link are checked but not
    /// its checksum: the caller checks that itself (`RecordView.checkChecksum()`), on another thread.
    public func scan(
        from position: UInt64 = 1, backward: Bool = false, verify: Bool = false, checksums: Bool = true,
        _ body: (RecordView) throws -> Bool
    ) throws {
        try transaction.withCursor(databases.log) { cursor in
            var entry = backward ? try cursor.seek(atOrBefore: position.bigEndianBytes) : try cursor.seek(atOrAfter: position.bigEndianBytes)
            var expectedPrevious: [UInt8]? = nil
            // The first record's link is to one before the scan, whose stated hash is taken unchecked.
            var linksOutside = false
            if verify, !backward, let first = entry {
                let firstPosition = try storedPosition(first.key, "a key of the log")
                expectedPrevious = firstPosition <= 1 ? Record.zeroHash : try previousHash(before: firstPosition)
                linksOutside = firstPosition > 1
            }
            while let current = entry {
                let view = RecordView(current.value)
                if verify {
                    let key = try storedPosition(current.key, "a key of the log")
                    guard checksums ? view.checksumIsValid : view.isWellFormed, view.position == key else { throw corrupt(key) }
                    if let expected = expectedPrevious {
                        guard view.previousHash.elementsEqual(expected) else {
                            // A record before the scan whose stated hash was changed is named as itself.
                            if linksOutside, try withRecord(at: key - 1, { $0?.checksumIsValid }) == false { throw corrupt(key - 1) }
                            throw corrupt(key, chain: true)
                        }
                        expectedPrevious = Array(view.hash)
                        linksOutside = false
                    }
                }
                guard try body(view) else { return }
                entry = backward ? try cursor.previous() : try cursor.next()
            }
        }
    }

    /// Visits the records of `stream` from stream version `version` on, those after log position
    /// `after` and up to `through` only (the others are not read), until `body` returns false.
    public func scan(
        stream: String, from version: UInt64 = 1, after: UInt64 = 0, through: UInt64 = .max, _ body: (RecordView) throws -> Bool
    ) throws {
        let prefix = Array(stream.utf8) + [0]
        try transaction.withCursor(databases.streams) { cursor in
            var entry = try cursor.seek(atOrAfter: prefix + version.bigEndianBytes)
            while let current = entry, current.key.count == prefix.count + 8, current.key.starts(with: prefix) {
                let position = try storedPosition(current.value, "the stream index's entry for \(stream)")
                guard position <= through else { return }
                guard position > after else {
                    entry = try cursor.next()
                    continue
                }
                let keepGoing = try withRecord(at: position) { view in
                    guard let view, view.checksumIsValid else { throw corrupt(position) }
                    return try body(view)
                }
                guard keepGoing else { return }
                entry = try cursor.next()
            }
        }
    }

    /// Visits the records of event type `type` after position `after`, until `body` returns false.
    public func scan(type: String, after: UInt64 = 0, _ body: (RecordView) throws -> Bool) throws {
        guard after < UInt64.max else { return }
        let prefix = Array(type.utf8) + [0]
        try transaction.withCursor(databases.types) { cursor in
            var entry = try cursor.seek(atOrAfter: prefix + (after + 1).bigEndianBytes)
            while let current = entry, current.key.count == prefix.count + 8, current.key.starts(with: prefix) {
                let position = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: current.key[prefix.count...]))
                let keepGoing = try withRecord(at: position) { view in
                    guard let view, view.checksumIsValid else { throw corrupt(position) }
                    return try body(view)
                }
                guard keepGoing else { return }
                entry = try cursor.next()
            }
        }
    }

    /// Counts of events by type, read from the type index.
    public func countsByType() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        try transaction.withCursor(databases.types) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                // A type's name, a zero byte and a position (a damaged page can leave a key shorter).
                guard current.key.count > 9, current.key[current.key.count - 9] == 0 else {
                    throw EventStoreError(.corruptRecord, "a key of the type index is \(current.key.count) bytes, not a type's name, a zero byte and a position: the store is damaged there")
                }
                let name = String(decoding: current.key.prefix(current.key.count - 9), as: UTF8.self)
                counts[name, default: 0] += 1
                entry = try cursor.next()
            }
        }
        return counts
    }

    /// How many streams the log holds.
    public func streamCount() throws -> Int { try transaction.statistics(databases.streamHeads).entries }

    /// Bytes held by the log's own databases (records and indexes), from LMDB's page counts.
    public func storageBytes() throws -> (log: Int, indexes: Int) {
        let log = try transaction.statistics(databases.log).bytes
        var indexes = 0
        for database in [databases.ids, databases.streams, databases.streamHeads, databases.types, databases.meta] {
            indexes += try transaction.statistics(database).bytes
        }
        return (log, indexes)
    }

    /// Checks every record's checksum, the hash chain, gapless positions and the head mark, then
    /// that the log's indexes (event ids, streams, their versions, types) hold exactly the entries
    /// its records make.
    ///
    /// - Returns: how many records were checked.
    /// - Throws: `corruptRecord` naming the first bad position, or `corruptIndex` naming the
    ///   first index that differs from the records and where.
    @discardableResult
    public func verify(progress: ((UInt64) -> Void)? = nil) throws -> UInt64 {
        let indexes = BulkIndexes()
        let head = try verifyRecords(progress: progress) { try indexes.add($0) }
        for index in BulkIndexes.Index.allCases {
            let difference = try transaction.firstDifference(in: databases[index]) { expect in
                try indexes.entries(of: index) { key, value in try expect(key) { $0.elementsEqual(value) } }
            }
            if let difference {
                throw EventStoreError(.corruptIndex, "the log's records are sound, but " + BulkIndexes.describe(difference, in: index))
            }
        }
        return head
    }

    /// Checks every record's checksum, the hash chain, gapless positions and the head mark, as
    /// `verify` does, reading the log alone (as an export does), not its indexes.
    ///
    /// - Parameter record: called with each record found sound, in order.
    /// - Returns: how many records were checked.
    /// - Throws: `corruptRecord` naming the first bad position.
    @discardableResult
    public func verifyRecords(progress: ((UInt64) -> Void)? = nil, _ record: (RecordView) throws -> Void = { _ in }) throws -> UInt64 {
        var expectedPosition: UInt64 = 1
        var lastHash = Record.zeroHash
        try transaction.withCursor(databases.log) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                let key = try storedPosition(current.key, "a key of the log")
                guard key == expectedPosition else {
                    throw EventStoreError(.corruptRecord, "position \(expectedPosition) is missing from the log (next is \(key)): positions must have no gaps", position: expectedPosition)
                }
                let view = RecordView(current.value)
                guard view.checksumIsValid, view.position == key else { throw corrupt(key) }
                guard view.previousHash.elementsEqual(lastHash) else { throw corrupt(key, chain: true) }
                lastHash = Array(view.hash)
                try record(view)
                if key % 65_536 == 0 { progress?(key) }
                expectedPosition += 1
                entry = try cursor.next()
            }
        }
        let head = expectedPosition - 1
        let mark = try transaction.get(databases.meta, Array("head".utf8))
        if mark != Self.headMark(head, lastHash) {
            throw EventStoreError.headMismatch(mark: mark, last: head, writing: false)
        }
        return head
    }

    /// Checks that the head mark names the log's last record: a last record lost or changed (a
    /// damaged page), which no link of another record can show, is found so.
    /// - Throws: `corruptRecord` when it does not.
    public func checkHeadMark() throws {
        _ = try markedHead(writing: false)
    }

    /// The log's last record (its position, stated hash and time), checked against the head mark;
    /// for a write (`writing`), also its checksum and its link to the record before.
    func markedHead(writing: Bool) throws -> (position: UInt64, hash: [UInt8], recordedAt: Int64) {
        let (head, sound): ((position: UInt64, hash: [UInt8], recordedAt: Int64), Bool) = try transaction.withCursor(databases.log) { cursor in
            guard let last = try cursor.last() else { return ((0, Record.zeroHash, Int64.min), true) }
            let position = try storedPosition(last.key, "the log's last key")
            let view = RecordView(last.value)
            guard view.isWellFormed else { throw corrupt(position) }
            // A write links to the last record: one changed past its stated hash would be kept,
            // and every event after it lost to an export, which stops there. (The record before
            // it cut short is the link's damage too.)
            let sound = !writing || view.checksumIsValid && (position == 1
                ? view.previousHash.elementsEqual(Record.zeroHash)
                : (try? view.previousHash.elementsEqual(previousHash(before: position))) ?? false)
            return ((position, Array(view.hash), view.recordedAtMicroseconds), sound)
        }
        let mark = try transaction.get(databases.meta, Array("head".utf8))
        guard mark == Self.headMark(head.position, head.hash) else {
            throw EventStoreError.headMismatch(mark: mark, last: head.position, writing: writing)
        }
        guard sound else { throw EventStoreError.damagedHead(head.position) }
        return head
    }

    /// The head mark a log whose last record is at `position`, with `hash`, holds: none for an
    /// empty log.
    static func headMark(_ position: UInt64, _ hash: [UInt8]) -> [UInt8]? {
        position == 0 ? nil : position.bigEndianBytes + hash
    }

    /// The hash of the record before `position`, which a scan starting there links to. That record
    /// is checked to hold one where its form says (its length and position): one cut short is
    /// named as itself, not as a broken link of the next, and never read past its end. Its
    /// checksum is checked only if the link fails (`scan`): a changed byte elsewhere in it leaves
    /// its stated hash, which the next record links to, and the records after it readable.
    func previousHash(before position: UInt64) throws -> [UInt8] {
        try withRecord(at: position - 1) { view in
            guard let view, view.isWellFormed, view.position == position - 1 else { throw corrupt(position - 1) }
            return Array(view.hash)
        }
    }

    func corrupt(_ position: UInt64, chain: Bool = false) -> EventStoreError {
        EventStoreError.corrupt(position, chain: chain)
    }

    /// A position or stream version as stored: 8 big-endian bytes, a log key or an index's value.
    /// - Throws: `corruptRecord` naming `what` when they are not 8 bytes (a damaged page).
    func storedPosition(_ bytes: UnsafeRawBufferPointer, _ what: @autoclosure () -> String) throws(EventStoreError) -> UInt64 {
        guard bytes.count == 8 else {
            throw EventStoreError(.corruptRecord, "\(what()) is \(bytes.count) bytes where a position takes 8: the store is damaged there")
        }
        return UInt64(bigEndianBytes: bytes)
    }
}

/// The log's write transaction: appends, plus writes to other databases that commit with them.
public final class WriteSession: ReadSession {
    /// The underlying write transaction, for projections and indexes that commit with the events.
    public let writer: WriteTransaction
    var cachedHead: (position: UInt64, hash: [UInt8], recordedAt: Int64)?
    /// The index entries of a bulk load (`beginBulkLoad()`), until `finishBulkLoad()` writes them.
    var bulk: BulkIndexes?

    init(transaction: WriteTransaction, databases: EventStore.Databases) {
        self.writer = transaction
        super.init(transaction: transaction, databases: databases)
    }

    public override func position(ofEvent id: UUID) throws -> UInt64? {
        if let bulk { return bulk.ids[id] }
        return try super.position(ofEvent: id)
    }

    public override func version(ofStream stream: String) throws -> UInt64? {
        if let bulk { return bulk.version(of: ByteKey(stream)) }
        return try super.version(ofStream: stream)
    }

    /// The log's last record, which the next append links to. It must be the one the head mark
    /// names: where a damaged page has lost or changed the last record (or the mark), the next
    /// append would take its position, and the mark, for good.
    private func currentHead() throws -> (position: UInt64, hash: [UInt8], recordedAt: Int64) {
        if let cachedHead { return cachedHead }
        let head = try markedHead(writing: true)
        cachedHead = head
        return head
    }

    /// Appends `events` to `stream` in this transaction.
    ///
    /// Events whose ids are all in the log already, each as the same event (its stream, type,
    /// schema version and payload), are not appended again: their stored positions come back
    /// with `wasDuplicate`. Otherwise the stream must be at `expected`.
    /// - Throws: `EventStoreError`, `idConflict` for an id the log holds as another event (a
    ///   repeat must be the same event: another one would be dropped unseen) or for a batch only
    ///   some of whose ids it holds; the caller's transaction should then be abandoned (throw on).
    @discardableResult
    public func append(_ events: [ProposedEvent], to stream: String, expected: ExpectedVersion = .any) throws -> AppendResult {
        let streamKey = ByteKey(stream)
        guard !streamKey.bytes.isEmpty, streamKey.bytes.count <= Record.maxNameLength, !streamKey.bytes.contains(0) else {
            throw EventStoreError(.invalidStream, "stream name \"\(stream)\" is invalid: it must be 1 to 255 bytes with no NUL")
        }
        // In a bulk load, by the key already made rather than from the name again.
        let current: UInt64
        if let bulk { current = bulk.version(of: streamKey) ?? 0 } else { current = try version(ofStream: stream) ?? 0 }

        var stored: [UInt64] = []
        for event in events {
            guard let position = try position(ofEvent: event.id) else { continue }
            guard let earlier = try self.event(at: position), earlier.stream == stream, earlier.type == event.type,
                  earlier.schemaVersion == event.schemaVersion, earlier.payload == event.payload
            else {
                throw EventStoreError(.idConflict, "event id \(event.id.uuidString.lowercased()) is the id of another event already in the log, at position \(position): event ids are unique")
            }
            stored.append(position)
        }
        if !stored.isEmpty {
            guard stored.count == events.count else {
                throw EventStoreError(.idConflict, "\(stored.count) of \(events.count) events are already in the log: a batch is appended whole or not at all")
            }
            return AppendResult(positions: stored, streamVersion: current, wasDuplicate: true)
        }

        switch expected {
        case .any: break
        case .noStream where current != 0:
            throw EventStoreError(.wrongExpectedVersion, "stream \(stream) already exists at version \(current): the append expected no stream")
        case .exactly(let version) where version != current:
            throw EventStoreError(.wrongExpectedVersion, "stream \(stream) is at version \(current), not \(version): another write came first")
        default: break
        }

        var head = try currentHead()
        var positions: [UInt64] = []
        positions.reserveCapacity(events.count)
        var streamVersion = current
        let now = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
        var aheadOfClock: AppendResult.ClockLag?
        for event in events {
            let position = head.position + 1
            if let wanted = event.position, wanted != position {
                throw EventStoreError(
                    .positionConflict,
                    "event \(event.id.uuidString.lowercased()) must land at position \(wanted) but the next position is \(position): positions are gapless and never reused",
                    position: wanted
                )
            }
            try validate(event)
            let recordedAt: Int64
            if let given = event.recordedAtMicroseconds {
                recordedAt = given
                guard recordedAt >= head.recordedAt else {
                    throw EventStoreError(.timeWentBackwards, "event at position \(position) was recorded before position \(head.position): recorded_at never goes backwards", position: position)
                }
            } else {
                recordedAt = max(now, head.recordedAt)
                if recordedAt > now { aheadOfClock = AppendResult.ClockLag(recorded: recordedAt, clock: now) }
            }
            streamVersion += 1
            let record = Record.encode(
                Record.Fields(
                    id: event.id, position: position, stream: stream, streamVersion: streamVersion, type: event.type,
                    schemaVersion: event.schemaVersion, recordedAt: recordedAt, actor: event.actor,
                    correlationID: event.correlationID, causationID: event.causationID, previousHash: head.hash
                ),
                payload: event.payload, compressed: event.compressed, version: databases.recordVersion
            )
            let positionKey = position.bigEndianBytes
            do {
                try writer.put(databases.log, positionKey, record, options: .append)
            } catch let error as LMDBError where error.code == .keyExists {
                throw EventStoreError(.positionConflict, "position \(position) is already taken: the log is append-only", position: position)
            }
            if let bulk {
                try bulk.add(id: event.id, position: position, stream: streamKey, type: event.type)
            } else {
                try writer.put(databases.ids, event.id.bytes, positionKey, options: .noOverwrite)
                try writer.put(databases.streams, streamKey.bytes + [0] + streamVersion.bigEndianBytes, positionKey)
                try writer.put(databases.types, Array(event.type.utf8) + [0] + positionKey, [UInt8]())
            }
            head = (position, Array(record[0..<32]), recordedAt)
            positions.append(position)
        }
        if !events.isEmpty {
            if bulk == nil {
                try writer.put(databases.streamHeads, streamKey.bytes, streamVersion.bigEndianBytes)
                try writer.put(databases.meta, Array("head".utf8), head.position.bigEndianBytes + head.hash)
            }
            cachedHead = head
        }
        return AppendResult(positions: positions, streamVersion: streamVersion, wasDuplicate: false, aheadOfClock: aheadOfClock)
    }

    private func validate(_ event: ProposedEvent) throws {
        let type = event.type.utf8.count, actor = event.actor.utf8.count
        guard (1...Record.maxNameLength).contains(type), !event.type.utf8.contains(0) else {
            throw EventStoreError(.invalidEvent, "event type \"\(event.type)\" is invalid: it must be 1 to 255 bytes with no NUL")
        }
        guard (1...Record.maxNameLength).contains(actor) else {
            throw EventStoreError(.invalidEvent, "actor \"\(event.actor)\" is invalid: it must be 1 to 255 bytes")
        }
        guard event.payload.count <= Int(UInt32.max) else {
            throw EventStoreError(.invalidEvent, "event \(event.id.uuidString.lowercased()) has a payload over 4 GiB")
        }
    }
}
