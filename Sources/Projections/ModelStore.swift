import Domain
import EventStore
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
import LMDB
import Synchronization

/// A table of a read model: rows of one type under byte keys, sorted by key.
public struct Table<Row: StoredRow>: Sendable {
    public let name: String
    /// The name's number in this process, the same for every `Table` of that name: where a
    /// `MemoryStore` keeps the table, found without hashing the name at each row.
    let number: Int

    public init(_ name: String) {
        self.name = name
        number = TableNumbers.number(of: name)
    }
}

/// Numbers table names in the order a process first meets them.
private enum TableNumbers {
    static let numbers = Mutex<[String: Int]>([:])

    static func number(of name: String) -> Int {
        numbers.withLock { numbers in
            if let number = numbers[name] { return number }
            numbers[name] = numbers.count
            return numbers.count - 1
        }
    }

    /// The number of `name`, if a table of that name was made.
    static func existing(_ name: String) -> Int? { numbers.withLock { $0[name] } }
}

/// Where projectors read and write rows: LMDB inside a transaction (catch-up, queries), or
/// memory (rebuilds and time travel, written out sorted afterwards).
public protocol ModelStore: AnyObject {
    func get<Row>(_ table: Table<Row>, _ key: [UInt8]) throws -> Row?
    func put<Row>(_ table: Table<Row>, _ key: [UInt8], _ row: Row) throws
    func delete<Row>(_ table: Table<Row>, _ key: [UInt8]) throws
    /// Every row whose key starts with `prefix`, in key order.
    func scan<Row>(_ table: Table<Row>, prefix: [UInt8]) throws -> [(key: [UInt8], row: Row)]
    /// Changes the row at `key` in place, if there is one; returns whether there was.
    ///
    /// What `get`, then `put` of the changed row, does; in memory it finds the row once and does
    /// not copy it. `change` must not read or write the store itself.
    @discardableResult
    func update<Row>(_ table: Table<Row>, _ key: [UInt8], _ change: (inout Row) throws -> Void) throws -> Bool
}

/// A row key, held in place when it is at most 40 bytes long (every key made of ids), so that
/// finding, comparing and sorting the keys of a table of hundreds of thousands of rows does not
/// follow a pointer to each key's bytes; a longer key (text) is kept as an array.
struct RowKey: Hashable {
    /// The bytes of a key of at most `inlineCapacity` bytes, zeros after its end.
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    /// The key's length in bytes.
    let count: Int
    /// A key longer than `inlineCapacity` bytes, whole; empty otherwise.
    private var long: [UInt8] = []

    static let inlineCapacity = 40

    init(bytes: [UInt8]) {
        count = bytes.count
        if count > Self.inlineCapacity {
            long = bytes
        } else {
            withUnsafeMutableBytes(of: &words) { words in bytes.withUnsafeBytes { words.copyMemory(from: $0) } }
        }
    }

    static func == (a: RowKey, b: RowKey) -> Bool {
        a.count == b.count && a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
            && a.words.3 == b.words.3 && a.words.4 == b.words.4 && a.long == b.long
    }

    func hash(into hasher: inout Hasher) { withUnsafeBytes { hasher.combine(bytes: $0) } }

    /// Calls `body` with the key's bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if count > Self.inlineCapacity { return try long.withUnsafeBytes(body) }
        return try Swift.withUnsafeBytes(of: words) { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// The key's bytes.
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Eight bytes of the key from `depth` (a multiple of 8) on as one integer, the first the
    /// highest (zeros past its end).
    func chunk(at depth: Int) -> UInt64 {
        if count <= Self.inlineCapacity {
            guard depth < Self.inlineCapacity else { return 0 }
            return Swift.withUnsafeBytes(of: words) { UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: depth, as: UInt64.self)) }
        }
        return long.withUnsafeBytes { bytes in
            var chunk: UInt64 = 0
            for offset in depth..<(depth + 8) { chunk = chunk << 8 | UInt64(offset < bytes.count ? bytes[offset] : 0) }
            return chunk
        }
    }

    /// The indices of `rows` in LMDB's order of their keys: sorted by the keys' first eight bytes
    /// as one integer (a radix sort: a table's keys are mostly random ids), then each run of keys
    /// that share those (a client's rows under its id) by their next eight bytes, and so on.
    static func order<Row>(_ rows: [RowKey: Row]) -> [Dictionary<RowKey, Row>.Index] {
        var indices: [Dictionary<RowKey, Row>.Index] = []
        var entries: [Entry] = []
        indices.reserveCapacity(rows.count)
        entries.reserveCapacity(rows.count)
        var index = rows.startIndex
        while index != rows.endIndex {
            let key = rows[index].key
            entries.append(Entry(prefix: key.chunk(at: 0), slot: Int32(indices.count), count: Int32(key.count)))
            indices.append(index)
            rows.formIndex(after: &index)
        }
        radixSort(&entries)
        sortRuns(&entries, in: 0..<entries.count, depth: 0) { rows[indices[$0]].key }
        return entries.map { indices[Int($0.slot)] }
    }

    /// A key being sorted: eight of its bytes as one integer, where its row is, its length.
    struct Entry {
        var prefix: UInt64
        var slot: Int32
        var count: Int32
    }

    /// `entries[range]` are in order of their keys' bytes up to `depth + 8` (their `prefix`): puts
    /// each run of equal ones in order of the bytes after.
    private static func sortRuns(
        _ entries: inout [Entry], in range: Range<Int>, depth: Int, key: (Int) -> RowKey
    ) {
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start + 1
            while end < range.upperBound, entries[end].prefix == entries[start].prefix { end += 1 }
            if end - start > 1 {
                let next = depth + 8
                if entries[start..<end].allSatisfy({ $0.count <= next }) {
                    // Equal up to the end of each: each is a prefix of the longer ones, which it precedes.
                    entries[start..<end].sort { $0.count < $1.count }
                } else {
                    for position in start..<end { entries[position].prefix = key(Int(entries[position].slot)).chunk(at: next) }
                    entries[start..<end].sort { $0.prefix < $1.prefix }
                    sortRuns(&entries, in: start..<end, depth: next, key: key)
                }
            }
            start = end
        }
    }

    /// Sorts `entries` by `prefix`, a byte at a time from the lowest (a pass is skipped where every
    /// prefix has the same byte, as in text keys).
    static func radixSort(_ entries: inout [Entry]) {
        guard entries.count > 64 else {
            entries.sort { $0.prefix < $1.prefix }
            return
        }
        var other = entries
        for shift in stride(from: 0, to: 64, by: 8) {
            var counts = [Int](repeating: 0, count: 256)
            for entry in entries { counts[Int(truncatingIfNeeded: entry.prefix >> UInt64(shift)) & 0xFF] += 1 }
            if counts.contains(entries.count) { continue }
            var offset = 0
            for byte in 0..<256 {
                let count = counts[byte]
                counts[byte] = offset
                offset += count
            }
            for entry in entries {
                let byte = Int(truncatingIfNeeded: entry.prefix >> UInt64(shift)) & 0xFF
                other[counts[byte]] = entry
                counts[byte] += 1
            }
            swap(&entries, &other)
        }
    }

    /// LMDB's key order: bytes compared as unsigned, a prefix first.
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                let common = min(a.count, b.count)
                let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
                return order != 0 ? order < 0 : a.count < b.count
            }
        }
    }
}

/// The rows of one table in memory, typed, so that reading one back needs no cast.
private final class TypedMemoryTable<Row: StoredRow> {
    var rows: [RowKey: Row] = [:]
    /// The keys longer than an id, by their first 16 bytes (a client or version id), so that a
    /// scan by id prefix (a deletion, a client's versions) does not walk the whole table. Keys
    /// are only added (a deleted row's key stays until a scan finds its row gone), which keeps a
    /// put cheap; a scan drops duplicates.
    var byIDPrefix: [IDPrefix: [RowKey]] = [:]

    init(expectedRows: Int) { rows.reserveCapacity(expectedRows) }

    /// Rows are encoded a window at a time on the other cores, a few windows ahead, while this
    /// thread hands each encoded window's rows to `body` in key order (LMDB's inserts): encoding
    /// no longer waits for the inserts, nor the inserts for encoding.
    func forEachEncodedRow(_ body: (UnsafeRawBufferPointer, [UInt8]) throws -> Void) throws {
        // Rows are read in place, in key order, through the dictionary's own indices: no key or
        // row is copied out or looked up again.
        let rows = self.rows
        let order = RowKey.order(rows)
        typealias Window = ArraySlice<Dictionary<RowKey, Row>.Index>
        let encoder = OrderedWorker<Window, (window: Window, encoded: [[UInt8]])> { window in
            (window, parallelMap(Array(window), chunk: 512) { RowCoding.encode(rows[$0].value) })
        }
        func hand(_ done: (window: Window, encoded: [[UInt8]])) throws {
            for (index, bytes) in zip(done.window, done.encoded) { try rows[index].key.withUnsafeBytes { try body($0, bytes) } }
        }
        let size = 2_048
        for start in stride(from: 0, to: order.count, by: size) {
            if let done = encoder.submit(order[start..<min(order.count, start + size)]) { try hand(done) }
        }
        while let done = encoder.next() { try hand(done) }
    }
}

/// The first 16 bytes of a row key, compared and hashed as two integers.
struct IDPrefix: Hashable {
    let high: UInt64
    let low: UInt64

    /// The prefix of `key`, which must be at least 16 bytes long.
    init(_ key: [UInt8]) {
        (high, low) = key.withUnsafeBytes { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }
}

/// Rows kept in memory as values, no encoding.
final class MemoryStore: ModelStore {
    /// A table, with its `forEachEncodedRow` made where its row type is known: called through a
    /// protocol instead, the generic class's method runs unspecialised (every key and row copied
    /// through value witnesses).
    private final class Stored {
        let table: AnyObject
        let forEachEncodedRow: (_ body: (UnsafeRawBufferPointer, [UInt8]) throws -> Void) throws -> Void
        let count: () -> Int

        init<Row>(_ table: TypedMemoryTable<Row>) {
            self.table = table
            forEachEncodedRow = { body in try table.forEachEncodedRow(body) }
            count = { table.rows.count }
        }
    }

    /// Each table at its name's number (`Table.number`): a projector reaches a table at every row
    /// it reads or writes, and hashing its name each time was a tenth of a fold's instructions.
    private var tables: [Stored?] = []
    /// Rows a table is expected to hold, by name: its storage is reserved up front instead of
    /// growing (and rehashing every row) as the fold goes.
    private let expectedRows: [String: Int]

    init(expectedRows: [String: Int] = [:]) { self.expectedRows = expectedRows }

    private func table<Row>(_ table: Table<Row>) throws -> TypedMemoryTable<Row>? {
        guard table.number < tables.count, let existing = tables[table.number]?.table else { return nil }
        guard let typed = existing as? TypedMemoryTable<Row> else {
            throw ProjectionError(.unknownTable, "read model table \(table.name) holds rows of another type than \(Row.self)")
        }
        return typed
    }

    private func tableForWriting<Row>(_ table: Table<Row>) throws -> TypedMemoryTable<Row> {
        if let existing = try self.table(table) { return existing }
        let created = TypedMemoryTable<Row>(expectedRows: expectedRows[table.name] ?? 0)
        if table.number >= tables.count { tables += Array(repeating: nil, count: table.number + 1 - tables.count) }
        tables[table.number] = Stored(created)
        return created
    }

    func get<Row>(_ table: Table<Row>, _ key: [UInt8]) throws -> Row? {
        try self.table(table)?.rows[RowKey(bytes: key)]
    }

    func put<Row>(_ table: Table<Row>, _ key: [UInt8], _ row: Row) throws {
        let storage = try tableForWriting(table)
        let rowKey = RowKey(bytes: key)
        if storage.rows.updateValue(row, forKey: rowKey) == nil, key.count > 16 {
            storage.byIDPrefix[IDPrefix(key), default: []].append(rowKey)
        }
    }

    func update<Row>(_ table: Table<Row>, _ key: [UInt8], _ change: (inout Row) throws -> Void) throws -> Bool {
        guard let storage = try self.table(table) else { return false }
        let rowKey = RowKey(bytes: key)
        guard let index = storage.rows.index(forKey: rowKey) else { return false }
        try change(&storage.rows.values[index])
        return true
    }

    func delete<Row>(_ table: Table<Row>, _ key: [UInt8]) throws {
        guard let storage = try self.table(table) else { return }
        storage.rows.removeValue(forKey: RowKey(bytes: key))
    }

    func scan<Row>(_ table: Table<Row>, prefix: [UInt8]) throws -> [(key: [UInt8], row: Row)] {
        guard let storage = try self.table(table) else { return [] }
        let rows = storage.rows
        let matches: [(key: [UInt8], row: Row)]
        if prefix.count >= 16 {
            let id = IDPrefix(prefix)
            // The keys whose rows are still there, once each; the list keeps only those.
            let live = Set(storage.byIDPrefix[id] ?? []).filter { rows[$0] != nil }
            storage.byIDPrefix[id] = live.isEmpty ? nil : Array(live)
            var candidates = live
            if prefix.count == 16, rows[RowKey(bytes: prefix)] != nil { candidates.insert(RowKey(bytes: prefix)) }
            matches = candidates.compactMap { key in
                guard key.bytes.starts(with: prefix), let row = rows[key] else { return nil }
                return (key.bytes, row)
            }
        } else {
            matches = rows.compactMap { key, row in key.bytes.starts(with: prefix) ? (key.bytes, row) : nil }
        }
        return matches.sorted { RowKey.precedes($0.key, $1.key) }
    }

    /// The rows the table named `name` holds.
    func rowCount(_ name: String) -> Int {
        guard let number = TableNumbers.existing(name), number < tables.count else { return 0 }
        return tables[number]?.count() ?? 0
    }

    /// Calls `body` with each row of the table named `name` encoded, in key order: ready for appending to LMDB.
    func forEachEncodedRow(_ name: String, _ body: (UnsafeRawBufferPointer, [UInt8]) throws -> Void) throws {
        guard let number = TableNumbers.existing(name), number < tables.count else { return }
        try tables[number]?.forEachEncodedRow(body)
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

    /// Writes the row back only when its bytes changed, so that an update that changes nothing
    /// dirties no page.
    func update<Row>(_ table: Table<Row>, _ key: [UInt8], _ change: (inout Row) throws -> Void) throws -> Bool {
        let database = try database(table.name)
        guard let stored = try transaction.withValue(database, key, { $0.map { Array($0) } }) else { return false }
        var row = try stored.withUnsafeBytes { try Row.decode($0) }
        try change(&row)
        let bytes = RowCoding.encode(row)
        if bytes != stored {
            guard let writer else { throw ProjectionError(.readOnly, "read models are read-only in a query") }
            try writer.put(database, key, bytes)
        }
        return true
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
