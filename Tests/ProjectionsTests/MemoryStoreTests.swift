import Foundation
@testable import Projections
import Testing

/// The in-memory store a rebuild folds into: scans by id prefix must see exactly the live rows,
/// in LMDB's key order, however rows were deleted and written again.
@Suite("Memory store")
struct MemoryStoreTests {
    let table = Table<UUID>("by_client")
    let first = UUID(uuidString: "00000000-0000-0000-0000-0000000000a1")!
    let second = UUID(uuidString: "00000000-0000-0000-0000-0000000000a2")!

    func key(_ client: UUID, _ page: UInt8, _ number: Int) -> [UInt8] { Key.id(client) + [page] + Key.number(number) }

    @Test("a prefix scan returns the live rows once each, in key order, after deletes and rewrites")
    func prefixScanAfterDeletes() throws {
        let store = MemoryStore(expectedRows: ["by_client": 4])
        var written: [[UInt8]: UUID] = [:]
        for client in [first, second] {
            for page: UInt8 in [2, 0, 1] {
                for number in [3, 1, 2] {
                    let row = UUID()
                    try store.put(table, key(client, page, number), row)
                    written[key(client, page, number)] = row
                }
            }
        }
        try store.delete(table, key(first, 0, 1))
        try store.delete(table, key(first, 2, 3))
        written[key(first, 0, 1)] = nil
        written[key(first, 2, 3)] = nil
        // Written again after its deletion: it must come back once, not twice.
        try store.put(table, key(first, 2, 3), UUID(uuidString: "00000000-0000-0000-0000-0000000000ff")!)
        written[key(first, 2, 3)] = UUID(uuidString: "00000000-0000-0000-0000-0000000000ff")!

        for prefix in [Key.id(first), Key.id(first) + [2], Key.id(second) + [0], Key.id(second)] {
            let expected = written.filter { $0.key.starts(with: prefix) }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            // Twice: a scan also drops the deleted keys from the index it reads.
            for _ in 0..<2 {
                let scanned = try store.scan(table, prefix: prefix)
                #expect(scanned.map(\.key) == expected.map(\.key))
                #expect(scanned.map(\.row) == expected.map(\.value))
            }
        }
        #expect(try store.scan(table, prefix: Key.id(UUID())).isEmpty)
    }

    @Test("keys are put in LMDB's order: random ids, ids sharing a client's prefix, keys that are prefixes of others, long keys")
    func keyOrder() throws {
        var generator = SeededRandom(seed: 29)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        var keys: Set<[UInt8]> = [[], [0], [0, 0], Array(repeating: 0, count: 17), Array(repeating: 0, count: 9), [0xFF], Array(repeating: 0xFF, count: 8)]
        let clients = (0..<300).map { _ in bytes(16) }
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<6, using: &generator) {
            case 5: keys.insert(clients.randomElement(using: &generator)! + bytes(Int.random(in: 20...40, using: &generator)))  // over 40 bytes too
            case 0: keys.insert(bytes(16))
            case 1: keys.insert(clients.randomElement(using: &generator)! + [UInt8.random(in: 1...2, using: &generator)] + bytes(16))
            case 2: keys.insert(clients.randomElement(using: &generator)! + [UInt8.random(in: 0...3, using: &generator)])
            case 3: keys.insert(Array("pi_".utf8) + bytes(Int.random(in: 0...12, using: &generator)))
            default: keys.insert(Array(repeating: UInt8(0), count: Int.random(in: 0...3, using: &generator)) + bytes(Int.random(in: 0...20, using: &generator)))
            }
        }
        let all = Dictionary(uniqueKeysWithValues: keys.map { (RowKey(bytes: $0), $0) })
        #expect(all.count == keys.count)
        #expect(keys.allSatisfy { all[RowKey(bytes: $0)] == $0 && RowKey(bytes: $0).bytes == $0 })
        for count in [0, 1, 50, 64, 65, keys.count] {
            let chosen = Array(keys.prefix(count))
            let rows = Dictionary(uniqueKeysWithValues: chosen.map { (RowKey(bytes: $0), $0.count) })
            let ordered = RowKey.order(rows).map { rows[$0].key.bytes }
            #expect(ordered == chosen.sorted { $0.lexicographicallyPrecedes($1) }, "\(count) keys")
        }
    }

    @Test("rows are handed out for writing in LMDB's key order, each with its own row's bytes")
    func encodedRowsInKeyOrder() throws {
        let store = MemoryStore()
        var keys: [[UInt8]] = [[], [0], [0, 0], [1], [0xFF], Array(repeating: 7, count: 20), Array(repeating: 7, count: 9)]
        var generator = SeededRandom(seed: 11)
        // Enough rows for several of the windows they are encoded in.
        for _ in 0..<7_000 {
            keys.append((0..<Int.random(in: 1...24, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) })
        }
        var written: [[UInt8]: UUID] = [:]
        for key in keys {
            let row = UUID()
            try store.put(table, key, row)
            written[key] = row
        }
        var handed: [(key: [UInt8], bytes: [UInt8])] = []
        try store.forEachEncodedRow("by_client") { key, bytes in handed.append((Array(key), bytes)) }
        #expect(handed.map(\.key) == written.keys.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(handed.allSatisfy { $0.bytes == RowCoding.encode(written[$0.key]!) })
    }

    @Test("tables are kept apart by name: a table of the same name is the same table, rows of another type are refused")
    func tablesByName() throws {
        let store = MemoryStore()
        let other = Table<UUID>("by_version")
        let id = UUID()
        try store.put(table, [1], first)
        try store.put(other, [1], second)
        #expect(try store.get(table, [1]) == first)
        #expect(try store.get(other, [1]) == second)
        // Made again from its name, as a query's table or a test's would be.
        #expect(try store.get(Table<UUID>("by_client"), [1]) == first)
        let mistyped = Table<ClientRow>("by_client")
        #expect(throws: ProjectionError.self) { try store.get(mistyped, [1]) }
        #expect(try store.get(Table<UUID>("never_written"), [1]) == nil)
        var handed = 0
        try store.forEachEncodedRow("by_version") { _, bytes in
            handed += 1
            #expect(bytes == RowCoding.encode(second))
        }
        try store.forEachEncodedRow("no_such_table_\(id)") { _, _ in handed += 100 }
        #expect(handed == 1)
    }
}

/// The worker that decodes a fold's next batches while the last one is applied.
@Suite("Ordered worker")
struct OrderedWorkerTests {
    @Test("outputs come back in the order their inputs were submitted, however long each took")
    func submissionOrder() {
        let worker = OrderedWorker<Int, Int>(depth: 4) { input in
            usleep(UInt32((20 - input % 20) * 300))
            return input * 2
        }
        var outputs: [Int] = []
        for input in 0..<60 {
            if let output = worker.submit(input) { outputs.append(output) }
        }
        while let output = worker.next() { outputs.append(output) }
        #expect(outputs == (0..<60).map { $0 * 2 })
    }
}
