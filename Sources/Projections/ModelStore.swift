import Domain
import EventStore
import Foundation
import LMDB

/// A table of a read model: rows of one type under byte keys, sorted by key.
public struct Table<Row: StoredRow>: Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// Where projectors read and write rows: LMDB inside a transaction (catch-up, queries), or
/// memory (rebuilds and time travel, written out sorted afterwards).
public protocol ModelStore: AnyObject {
    func get<Row>(_ table: Table<Row>, _ key: [UInt8]) throws -> Row?
    func put<Row>(_ table: Table<Row>, _ key: [UInt8], _ row: Row) throws
    func delete<Row>(_ table: Table<Row>, _ key: [UInt8]) throws
    /// Every row whose key starts with `prefix`, in key order.
    func scan<Row>(_ table: Table<Row>, prefix: [UInt8]) throws -> [(key: [UInt8], row: Row)]
}

/// A row key that hashes its bytes in one go (hashing `[UInt8]` element by element is slow).
struct RowKey: Hashable {
    let bytes: [UInt8]
    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

/// Rows kept in memory as values, no encoding.
final class MemoryStore: ModelStore {
    var tables: [String: [RowKey: any StoredRow]] = [:]
    /// Keys longer than an id, grouped by their first 16 bytes (a client or version id), so that
    /// a scan by id prefix (a deletion, a client's versions) does not walk the whole table.
    private var byIDPrefix: [String: [RowKey: Set<RowKey>]] = [:]

    func get<Row>(_ table: Table<Row>, _ key: [UInt8]) throws -> Row? {
        tables[table.name]?[RowKey(bytes: key)] as? Row
    }

    func put<Row>(_ table: Table<Row>, _ key: [UInt8], _ row: Row) throws {
        let rowKey = RowKey(bytes: key)
        if tables[table.name, default: [:]].updateValue(row, forKey: rowKey) == nil, key.count > 16 {
            byIDPrefix[table.name, default: [:]][RowKey(bytes: Array(key[0..<16])), default: []].insert(rowKey)
        }
    }

    func delete<Row>(_ table: Table<Row>, _ key: [UInt8]) throws {
        let rowKey = RowKey(bytes: key)
        if tables[table.name]?.removeValue(forKey: rowKey) != nil, key.count > 16 {
            byIDPrefix[table.name]?[RowKey(bytes: Array(key[0..<16]))]?.remove(rowKey)
        }
    }

    func scan<Row>(_ table: Table<Row>, prefix: [UInt8]) throws -> [(key: [UInt8], row: Row)] {
        guard let rows = tables[table.name] else { return [] }
        if prefix.count >= 16 {
            var candidates = byIDPrefix[table.name]?[RowKey(bytes: Array(prefix[0..<16]))] ?? []
            if prefix.count == 16, rows[RowKey(bytes: prefix)] != nil { candidates.insert(RowKey(bytes: prefix)) }
            return candidates.compactMap { key -> (key: [UInt8], row: Row)? in
                guard key.bytes.starts(with: prefix), let row = rows[key] as? Row else { return nil }
                return (key.bytes, row)
            }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        }
        return rows.compactMap { key, value -> (key: [UInt8], row: Row)? in
            guard key.bytes.starts(with: prefix), let row = value as? Row else { return nil }
            return (key.bytes, row)
        }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// Calls `body` with each row of `table` encoded, in key order: ready for appending to LMDB.
    func forEachEncodedRow(_ name: String, _ body: ([UInt8], [UInt8]) throws -> Void) throws {
        guard let rows = tables[name] else { return }
        var bytes: [UInt8] = []
        for rowKey in rows.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            guard let row = rows[rowKey] as? any StoredRow else {
                throw ProjectionError(.unknownTable, "a read-model row of table \(name) is not storable")
            }
            bytes.removeAll(keepingCapacity: true)
            row.encode(into: &bytes)
            try body(rowKey.bytes, bytes)
        }
    }
}

/// Rows in LMDB databases (one per table, in the projector's active slot), encoded as `StoredRow`s.
final class LMDBStore: ModelStore {
    let transaction: Transaction
    let writer: WriteTransaction?
    let databases: [String: Database]

    init(transaction: Transaction, writer: WriteTransaction?, databases: [String: Database]) {
        self.transaction = transaction
        self.writer = writer
        self.databases = databases
    }

    private func database(_ name: String) throws -> Database {
        guard let database = databases[name] else {
            throw ProjectionError(.unknownTable, "read model table \(name) is not open")
        }
        return database
    }

    func get<Row>(_ table: Table<Row>, _ key: [UInt8]) throws -> Row? {
        try transaction.withValue(try database(table.name), key) { value in
            guard let value else { return nil }
            return try Row.decode(value)
        }
    }

    func put<Row>(_ table: Table<Row>, _ key: [UInt8], _ row: Row) throws {
        guard let writer else { throw ProjectionError(.readOnly, "read models are read-only in a query") }
        try writer.put(try database(table.name), key, RowCoding.encode(row))
    }

    func delete<Row>(_ table: Table<Row>, _ key: [UInt8]) throws {
        guard let writer else { throw ProjectionError(.readOnly, "read models are read-only in a query") }
        try writer.delete(try database(table.name), key)
    }

    func scan<Row>(_ table: Table<Row>, prefix: [UInt8]) throws -> [(key: [UInt8], row: Row)] {
        try transaction.withCursor(try database(table.name)) { cursor in
            var rows: [(key: [UInt8], row: Row)] = []
            var entry = prefix.isEmpty ? try cursor.first() : try cursor.seek(atOrAfter: prefix)
            while let current = entry, current.key.starts(with: prefix) {
                rows.append((Array(current.key), try Row.decode(current.value)))
                entry = try cursor.next()
            }
            return rows
        }
    }
}

/// Key encodings shared by the projectors.
enum Key {
    static func id(_ id: UUID) -> [UInt8] { withUnsafeBytes(of: id.uuid) { Array($0) } }
    static func id(_ a: UUID, _ b: UUID) -> [UInt8] { id(a) + id(b) }
    static func page(_ page: PageType) -> UInt8 { UInt8(PageType.allCases.firstIndex(of: page)!) }
    static func text(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func number(_ value: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) } }
}
