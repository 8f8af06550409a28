#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB

/// The index entries of the events a bulk load appended, by index.
///
/// An import appends hundreds of thousands of events in one transaction; inserting each one's
/// id, stream version and type into their B-trees as it comes touches a page at random in each
/// (event ids are random) and keeps the transaction's list of dirty pages long. Held here, they
/// are written once, in key order, each B-tree appended to from its first key to its last.
final class BulkIndexes {
    var ids: [UUID: UInt64] = [:]
    /// Each stream's positions, by stream version (the first is version 1), under its name's bytes.
    var streams: [ByteKey: [UInt64]] = [:]
    /// Each type's positions, ascending, under its name's bytes.
    var types: [ByteKey: [UInt64]] = [:]

    /// The stream's version: how many of its events were appended (`nil` for none).
    func version(of stream: ByteKey) -> UInt64? {
        streams[stream].map { UInt64($0.count) }
    }

    /// Keeps one appended event's entries; an id already appended is refused, as the index's
    /// `noOverwrite` put refuses it outside a bulk load.
    func add(id: UUID, position: UInt64, stream: ByteKey, type: String) throws {
        guard ids.updateValue(position, forKey: id) == nil else {
            throw EventStoreError(.idConflict, "event id \(id.uuidString.lowercased()) appears twice in one batch: event ids are unique")
        }
        streams[stream, default: []].append(position)
        types[ByteKey(type), default: []].append(position)
    }

    /// Keeps the entries of a stored record, read in log order (`ReadSession.verify`).
    /// - Throws: `corruptRecord` for a record whose id an earlier one has, or whose stream
    ///   version is not the next of its stream: what no append writes.
    func add(_ view: RecordView) throws {
        let stream = ByteKey(bytes: view.streamBytes)
        let version = (streams[stream]?.count ?? 0) + 1
        guard view.streamVersion == UInt64(version) else {
            throw EventStoreError(.corruptRecord, "record \(view.position) is version \(view.streamVersion) of stream \(view.stream), whose previous record is version \(version - 1): versions must follow one another", position: view.position)
        }
        if let earlier = ids.updateValue(view.position, forKey: view.id) {
            throw EventStoreError(.corruptRecord, "record \(view.position) has event id \(view.id.uuidString.lowercased()), as record \(earlier) has: event ids are unique", position: view.position)
        }
        streams[stream, default: []].append(view.position)
        types[ByteKey(bytes: view.typeBytes), default: []].append(view.position)
    }

    /// The log's indexes, each an LMDB database (`EventStore.Databases`).
    enum Index: CaseIterable {
        case ids, streams, streamHeads, types

        /// What it is called in messages.
        var title: String {
            switch self {
            case .ids: "index of event ids"
            case .streams: "index of streams' events"
            case .streamHeads: "index of streams' versions"
            case .types: "index of event types"
            }
        }
    }

    /// The entries `index` holds for these events, in key order:
    ///
    /// - `ids`: event id (16 bytes) → position
    /// - `streams`: stream name, 0, stream version → position
    /// - `streamHeads`: stream name → its version
    /// - `types`: type name, 0, position → nothing
    ///
    /// (Positions and versions are 8 bytes, big-endian.)
    func entries(of index: Index, _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void) rethrows {
        switch index {
        case .ids:
            for (id, position) in ids.sorted(by: { $0.key.keyOrder < $1.key.keyOrder }) {
                try body(id.bytes, position.bigEndianBytes)
            }
        case .streams:
            for (stream, positions) in streams.sorted(by: { ByteKey.precedes($0.key, $1.key) }) {
                let prefix = stream.bytes + [0]
                for (index, position) in positions.enumerated() {
                    try body(prefix + UInt64(index + 1).bigEndianBytes, position.bigEndianBytes)
                }
            }
        case .streamHeads:
            for (stream, positions) in streams.sorted(by: { ByteKey.precedes($0.key, $1.key) }) {
                try body(stream.bytes, UInt64(positions.count).bigEndianBytes)
            }
        case .types:
            for (type, positions) in types.sorted(by: { ByteKey.precedes($0.key, $1.key) }) {
                let prefix = type.bytes + [0]
                for position in positions { try body(prefix + position.bigEndianBytes, []) }
            }
        }
    }

    /// Where `index` parts from these entries, in words for a message.
    static func describe(_ difference: EntryDifference, in index: Index) -> String {
        let entry = describe(difference.key, in: index)
        let what = switch difference {
        case .missing: "it lacks the entry for \(entry)"
        case .unexpected: "it holds an entry for \(entry), which the log does not make"
        case .changed: "its entry for \(entry) is not the one the log makes"
        }
        return "its \(index.title) differs from them: \(what)"
    }

    /// What a key of `index` names.
    private static func describe(_ key: [UInt8], in index: Index) -> String {
        // A name, its NUL and 8 bytes; a damaged key may not be.
        let split: (name: String, number: UInt64)? = key.count > 9 && key[key.count - 9] == 0
            ? (String(decoding: key[..<(key.count - 9)], as: UTF8.self), key[(key.count - 8)...].withUnsafeBytes { UInt64(bigEndianBytes: $0) })
            : nil
        switch (index, split) {
        case (.ids, _) where key.count == 16:
            return "event \(UUID(uuid: key.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }).uuidString.lowercased())"
        case (.streams, let (name, number)?):
            return "version \(number) of stream \(name)"
        case (.types, let (name, number)?):
            return "record \(number) of type \(name)"
        case (.streamHeads, _):
            return "stream \(String(decoding: key, as: UTF8.self))"
        default:
            let digits = Array("0123456789abcdef")
            return "key " + String(key.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
        }
    }
}

extension ByteKey {
    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = Array(bytes)
    }
}

extension WriteSession {
    /// Starts a bulk load into this empty log.
    ///
    /// Until `finishBulkLoad()`, `append` writes each record into the log as before but keeps its
    /// index entries (event id, stream version, type, the stream's and the log's heads) in memory,
    /// where `position(ofEvent:)`, `version(ofStream:)` and the next appends find them; the other
    /// readings of the indexes (scans by stream or type, counts) see them only once it is finished.
    /// A transaction abandoned before then leaves nothing, as ever.
    ///
    /// - Throws: `notEmpty` when the log or its indexes hold anything.
    public func beginBulkLoad() throws {
        let databases = [self.databases.log, self.databases.ids, self.databases.streams, self.databases.streamHeads, self.databases.types]
        for database in databases where try transaction.statistics(database).entries > 0 {
            throw EventStoreError(.notEmpty, "a bulk load needs an empty log: \(database.name) holds entries")
        }
        bulk = BulkIndexes()
    }

    /// Writes the index entries of the bulk load in key order and ends it.
    public func finishBulkLoad() throws {
        guard let bulk else { return }
        self.bulk = nil
        for index in BulkIndexes.Index.allCases {
            let database = databases[index]
            try bulk.entries(of: index) { key, value in try writer.put(database, key, value, options: .append) }
        }
        if let head = cachedHead, head.position > 0 {
            try writer.put(databases.meta, Array("head".utf8), head.position.bigEndianBytes + head.hash)
        }
    }
}
