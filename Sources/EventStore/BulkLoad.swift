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
        for (id, position) in bulk.ids.sorted(by: { $0.key.keyOrder < $1.key.keyOrder }) {
            try writer.put(databases.ids, id.bytes, position.bigEndianBytes, options: .append)
        }
        for (stream, positions) in bulk.streams.sorted(by: { ByteKey.precedes($0.key, $1.key) }) {
            let prefix = stream.bytes + [0]
            for (index, position) in positions.enumerated() {
                try writer.put(databases.streams, prefix + UInt64(index + 1).bigEndianBytes, position.bigEndianBytes, options: .append)
            }
            try writer.put(databases.streamHeads, stream.bytes, UInt64(positions.count).bigEndianBytes, options: .append)
        }
        for (type, positions) in bulk.types.sorted(by: { ByteKey.precedes($0.key, $1.key) }) {
            let prefix = type.bytes + [0]
            for position in positions {
                try writer.put(databases.types, prefix + position.bigEndianBytes, [UInt8](), options: .append)
            }
        }
        if let head = cachedHead, head.position > 0 {
            try writer.put(databases.meta, Array("head".utf8), head.position.bigEndianBytes + head.hash)
        }
    }
}
