import Foundation
@testable import LMDB
import Testing

@Suite("Checking every page")
struct PageCheckTests {
    /// An environment with small values, values on overflow pages, sorted duplicates (nested
    /// pages and nested databases), and pages freed by deletes and a cleared database.
    func populated(_ directory: TemporaryDirectory) throws -> Environment {
        let environment = try Environment.open(at: directory.path("env"))
        let small = try environment.database("small")
        let big = try environment.database("big")
        let gone = try environment.database("gone")
        let duplicates = try environment.database("duplicates", options: .duplicateSort)
        try environment.write { txn in
            for index in 0..<3_000 { try txn.put(small, bytes(String(format: "key-%05d", index)), bytes(String(repeating: "v", count: index % 90))) }
            for index in 0..<40 { try txn.put(big, bytes("page-\(index)"), [UInt8](repeating: UInt8(index), count: 5_000 + 700 * index)) }
            for index in 0..<500 { try txn.put(gone, bytes("row-\(index)"), bytes(String(repeating: "g", count: 60))) }
            // A few values per key fit in a page nested in the node; hundreds need a database of their own.
            for key in 0..<30 {
                for value in 0..<(key % 3 == 0 ? 400 : 4) { try txn.put(duplicates, bytes("key-\(key)"), bytes(String(format: "value-%04d", value))) }
            }
        }
        try environment.write { txn in
            for index in stride(from: 0, to: 3_000, by: 3) { _ = try txn.delete(small, bytes(String(format: "key-%05d", index))) }
            for index in stride(from: 0, to: 40, by: 2) { _ = try txn.delete(big, bytes("page-\(index)")) }
            try txn.clear(gone)
        }
        return environment
    }

    @Test("a sound environment's pages are each found in use or free, in every database")
    func sound() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let report = try environment.checkPages()
        #expect(report.damage == [])
        // The free-page list, the main database, and the four named ones.
        #expect(report.databases == 6)
        #expect(report.freePages > 0)
        #expect(report.pagesInUse + report.freePages + 2 == report.pages)
        #expect(report.pages * 4_096 == environment.usedBytes)
    }

    /// Pages of the data file with `flags`, read from the file as it is.
    func pages(in path: String, flags: Set<UInt16>) throws -> [Int] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return (2..<(data.count / 4_096)).filter { page in
            flags.contains(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: page * 4_096 + 10, as: UInt16.self) })
        }
    }

    /// Writes `replacement` at `offset` of the file, runs `body`, and puts the old bytes back.
    @discardableResult
    func damaging<T>(_ path: String, at offset: Int, with replacement: [UInt8], _ body: () throws -> T) throws -> T {
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? file.close() }
        try file.seek(toOffset: UInt64(offset))
        let before = try #require(try file.read(upToCount: replacement.count))
        try file.seek(toOffset: UInt64(offset))
        try file.write(contentsOf: replacement)
        defer {
            try? file.seek(toOffset: UInt64(offset))
            try? file.write(contentsOf: before)
        }
        return try body()
    }

    @Test("a node outside its page, on any branch or leaf page in use, is named with its page and database")
    func nodeOutsideItsPage() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let sound = try environment.checkPages()
        let data = directory.path("env") + "/data.mdb"
        var named = 0
        var byDatabase: [String?: Int] = [:]
        for page in try pages(in: data, flags: [1, 2]) {
            // The first node's offset, pointing past the page's end. On a free page it is harmless.
            let report = try damaging(data, at: page * 4_096 + 16, with: [0xff, 0xff]) { try environment.checkPages() }
            guard let damage = report.damage.first else { continue }
            #expect(damage.description.hasPrefix("page \(page) ("), "\(damage)")
            #expect(damage.description.contains("node 0 starts at byte 65535, outside bytes"), "\(damage)")
            named += 1
            byDatabase[damage.database, default: 0] += 1
        }
        // Every page with nodes, once each; a page nested in a node is not a page of the file.
        #expect(named > 30)
        #expect(Set(byDatabase.keys) == ["small", "big", "duplicates", nil])
        // As many as LMDB itself counts in those trees' branches and leaves: none in use was
        // skipped, no free one named. (A database of duplicates also holds trees of its own,
        // which LMDB counts apart: at least its main tree's.)
        try environment.read { txn in
            for name in ["small", "big", "duplicates"] {
                let statistics = try txn.statistics(try environment.database(name))
                let inUse = Int(statistics.branchPages + statistics.leafPages)
                if name == "duplicates" {
                    #expect(byDatabase[name, default: 0] > inUse, "\(name)")
                } else {
                    #expect(byDatabase[name] == inUse, "\(name)")
                }
            }
        }
        #expect(try environment.checkPages() == sound)
    }

    @Test("a page that says it is another, an overflow run cut short, a child past the end: each is named")
    func otherDamage() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let data = directory.path("env") + "/data.mdb"
        let sound = try environment.checkPages()
        let inUse = try pages(in: data, flags: [1, 2]).filter { page in
            try damaging(data, at: page * 4_096 + 16, with: [0xff, 0xff]) { try !environment.checkPages().damage.isEmpty }
        }
        let page = try #require(inUse.first)
        var report = try damaging(data, at: page * 4_096, with: [0x07, 0, 0, 0, 0, 0, 0, 0]) { try environment.checkPages() }
        var said = try #require(report.damage.first?.description)
        #expect(said.hasPrefix("page \(page) (") && said.hasSuffix(") says it is page 7"), "\(said)")

        // An overflow page whose run is cut to nothing.
        let overflow = try #require(try pages(in: data, flags: [4]).first { page in
            try damaging(data, at: page * 4_096 + 12, with: [0, 0, 0, 0]) { try !environment.checkPages().damage.isEmpty }
        })
        report = try damaging(data, at: overflow * 4_096 + 12, with: [0, 0, 0, 0]) { try environment.checkPages() }
        #expect(report.damage.map(\.database) == ["big"])
        said = try #require(report.damage.first?.description)
        #expect(said.contains("value points to page \(overflow), which is not the overflow page of a value of "), "\(said)")

        // A branch node's child past the last page: its page number's two low parts set high.
        let branch = try #require(try pages(in: data, flags: [1]).first { inUse.contains($0) })
        let file = try Data(contentsOf: URL(fileURLWithPath: data))
        let node = branch * 4_096 + Int(file.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: branch * 4_096 + 16, as: UInt16.self) })
        report = try damaging(data, at: node, with: [0xff, 0xff, 0xff, 0xff, 0, 0]) { try environment.checkPages() }
        said = try #require(report.damage.first?.description)
        #expect(said.contains("points to page 4294967295, outside the data file's pages 2 to \(sound.pages - 1)"), "\(said)")
        #expect(try environment.checkPages() == sound)
    }
    /// The meta page (0 or 1) of the latest transaction in a data file.
    func newestMeta(in data: Data) -> Int {
        data.withUnsafeBytes { file in
            (0..<2).max { file.loadUnaligned(fromByteOffset: $0 * 4_096 + 144, as: UInt64.self) < file.loadUnaligned(fromByteOffset: $1 * 4_096 + 144, as: UInt64.self) }!
        }
    }

    /// The root page of the free-page list, as the newest meta page records it.
    func freeListRoot(in data: Data) -> Int {
        data.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: newestMeta(in: data) * 4_096 + 16 + 24 + 40, as: UInt64.self)) }
    }

    /// The byte offset in the data file of the record the main database keeps for the named
    /// database `name` (a main database one leaf deep, as a few named databases leave it).
    func recordOffset(of name: String, in data: Data) -> Int? {
        let meta = newestMeta(in: data)
        return data.withUnsafeBytes { file -> Int? in
            let root = Int(file.loadUnaligned(fromByteOffset: meta * 4_096 + 16 + 24 + 48 + 40, as: UInt64.self))
            let lower = Int(file.loadUnaligned(fromByteOffset: root * 4_096 + 12, as: UInt16.self))
            for index in 0..<(lower - 16) / 2 {
                let node = root * 4_096 + Int(file.loadUnaligned(fromByteOffset: root * 4_096 + 16 + 2 * index, as: UInt16.self))
                let keySize = Int(file.loadUnaligned(fromByteOffset: node + 6, as: UInt16.self))
                if Data(file[(node + 8)..<(node + 8 + keySize)]) == Data(name.utf8) { return node + 8 + keySize }
            }
            return nil
        }
    }

    /// The first node of the leftmost leaf of a named database (one with a branch page at its root).
    func firstLeaf(of name: String, in data: Data) throws -> (page: Int, node: Int) {
        let record = try #require(recordOffset(of: name, in: data))
        return data.withUnsafeBytes { file in
            let root = Int(file.loadUnaligned(fromByteOffset: record + 40, as: UInt64.self))
            let child = root * 4_096 + Int(file.loadUnaligned(fromByteOffset: root * 4_096 + 16, as: UInt16.self))
            let leaf = Int(file.loadUnaligned(fromByteOffset: child, as: UInt32.self)) | Int(file.loadUnaligned(fromByteOffset: child + 4, as: UInt16.self)) << 32
            return (leaf, leaf * 4_096 + Int(file.loadUnaligned(fromByteOffset: leaf * 4_096 + 16, as: UInt16.self)))
        }
    }

    @Test("a key out of order, in a branch page's separators or on a leaf, is named: lookups would miss what lies past it")
    func keysOutOfOrder() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let path = directory.path("env") + "/data.mdb"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let sound = try environment.checkPages()
        // The root of `small` is a branch: its second separator's first byte raised past every other key.
        let record = try #require(recordOffset(of: "small", in: data))
        let root = data.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: record + 40, as: UInt64.self)) }
        #expect(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: root * 4_096 + 10, as: UInt16.self) } == 1, "a branch page")
        let separator = root * 4_096 + Int(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: root * 4_096 + 16 + 2, as: UInt16.self) }) + 8
        #expect(data[separator] == UInt8(ascii: "k"))
        var report = try damaging(path, at: separator, with: [UInt8(ascii: "z")]) { try environment.checkPages() }
        #expect(report.damage.map(\.database) == ["small"])
        var said = try #require(report.damage.first?.description)
        #expect(said.hasPrefix("page \(root) (database \"small\")'s node 2 holds a key out of order with the keys around it"), "\(said)")
        // A leaf's first key raised past the one after it.
        let (leaf, node) = try firstLeaf(of: "small", in: data)
        report = try damaging(path, at: node + 8, with: [UInt8(ascii: "z")]) { try environment.checkPages() }
        said = try #require(report.damage.first?.description)
        #expect(said == "page \(leaf) (database \"small\")'s node 0 holds a key out of order: lookups would not find it where it is", "\(said)")
        #expect(try environment.checkPages() == sound)
    }

    @Test("the walk orders keys as LMDB does: bytes compared as unsigned, a prefix before what it begins")
    func keyOrder() {
        var generator = SystemRandomNumberGenerator()
        // Few distinct bytes, so that equal keys, prefixes and a first difference anywhere are common.
        let bytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF]
        func key() -> [UInt8] { (0..<Int.random(in: 0...6, using: &generator)).map { _ in bytes.randomElement(using: &generator)! } }
        for _ in 0..<20_000 {
            let (a, b) = (key(), key())
            let precedes = a.withUnsafeBytes { a in b.withUnsafeBytes { b in a.precedesInKeyOrder(b) } }
            #expect(precedes == a.lexicographicallyPrecedes(b), "\(a) \(b)")
        }
        let long = [UInt8](repeating: 0x80, count: 600)
        #expect(long.withUnsafeBytes { a in (long + [0]).withUnsafeBytes { a.precedesInKeyOrder($0) } })
        #expect(!(long + [0]).withUnsafeBytes { a in long.withUnsafeBytes { a.precedesInKeyOrder($0) } })
    }

    @Test("a database whose root is another's page is the one named damaged, and the other is found sound")
    func damageBlamesOneDatabase() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let sound = try environment.checkPages()
        let data = directory.path("env") + "/data.mdb"
        let file = try Data(contentsOf: URL(fileURLWithPath: data))
        // "big" (walked first) given a leaf of "small" (walked last) for its root.
        let (leaf, _) = try firstLeaf(of: "small", in: file)
        let big = try #require(recordOffset(of: "big", in: file))
        let report = try damaging(data, at: big + 40, with: withUnsafeBytes(of: UInt64(leaf).littleEndian) { Array($0) }) { try environment.checkPages() }
        #expect(report.damage.map(\.database) == ["big"], "\(report.damage)")
        #expect(try environment.checkPages() == sound)
    }

    @Test("a node flagged as holding a database where none can be is named")
    func nestingOutOfPlace() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let data = directory.path("env") + "/data.mdb"
        let (page, node) = try firstLeaf(of: "small", in: Data(contentsOf: URL(fileURLWithPath: data)))
        for (flag, said) in [(UInt8(0x02), "holds a named database, outside the main database"), (0x04, "holds sorted duplicates, in a database that keeps none")] {
            let report = try damaging(data, at: node + 4, with: [flag, 0]) { try environment.checkPages() }
            #expect(report.damage.map(\.database) == ["small"])
            #expect(report.damage.first?.description == "page \(page) (database \"small\")'s node 0 \(said)")
        }
        #expect(try environment.checkPages().damage == [])
    }

    @Test("a leaf flagged as holding fixed-size keys outside sorted duplicates is named, in a database and in the free-page list")
    func fixedSizeKeysOutOfPlace() throws {
        let directory = try TemporaryDirectory()
        let environment = try populated(directory)
        let data = directory.path("env") + "/data.mdb"
        let file = try Data(contentsOf: URL(fileURLWithPath: data))
        let (page, _) = try firstLeaf(of: "small", in: file)
        let report = try damaging(data, at: page * 4_096 + 10, with: [0x22, 0]) { try environment.checkPages() }
        #expect(report.damage.map(\.database) == ["small"])
        #expect(report.damage.first?.description == "page \(page) (database \"small\") is a page of fixed-size keys, outside a database's sorted duplicates")
        // The free-page list's root, read as fixed-size keys, its first node's offset far out:
        // named, where listing its free pages read past the map.
        let freeRoot = freeListRoot(in: file)
        let listed = try damaging(data, at: freeRoot * 4_096 + 10, with: [0x22, 0]) {
            try damaging(data, at: freeRoot * 4_096 + 17, with: [0xff]) { try environment.checkPages() }
        }
        #expect(listed.damage.first?.description == "page \(freeRoot) (the free-page list) is a page of fixed-size keys, outside a database's sorted duplicates", "\(listed.damage)")
        #expect(try environment.checkPages().damage == [])
    }

    @Test("a data file that ends before pages freed unwritten opens and checks out sound; cut short of a page in use, it is refused, and with its free-page list damaged it is named damaged")
    func freedUnwrittenPages() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("env") + "/data.mdb"
        do {
            let environment = try populated(directory)
            // A value on overflow pages, put and deleted in one transaction: LMDB frees its
            // pages, the last of the file, without writing them.
            let scratch = try environment.database("scratch")
            try environment.write { txn in
                for index in 0..<20 { try txn.put(scratch, bytes(String(format: "s%07d", index)), [UInt8](repeating: 1, count: 100)) }
                try txn.put(scratch, bytes("big"), [UInt8](repeating: 2, count: 400_000))
                _ = try txn.delete(scratch, bytes("big"))
            }
            let size = try #require(try FileManager.default.attributesOfItem(atPath: data)[.size] as? Int)
            try #require(size < environment.usedBytes)
            let report = try environment.checkPages()
            #expect(report.damage == [])
            #expect(report.pagesInUse + report.freePages + 2 == report.pages)
        }
        // Opened afresh, as by the next command (the environment above is closed).
        let reopened = try Environment.open(at: directory.path("env"))
        #expect(try reopened.checkPages().damage == [])
        let small = try reopened.database("small")
        #expect(try reopened.read { txn in try txn.get(small, bytes("key-00001")) } == bytes("v"))

        let copy = directory.path("copy")
        try FileManager.default.copyItem(atPath: directory.path("env"), toPath: copy)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: data)[.size] as? Int)
        // Ending early with its free-page list damaged, it is named damaged, not cut short:
        // a complete copy would not mend it.
        let damaged = directory.path("damaged")
        try FileManager.default.copyItem(atPath: directory.path("env"), toPath: damaged)
        let file = try Data(contentsOf: URL(fileURLWithPath: data))
        let freeRoot = freeListRoot(in: file)
        try damaging(damaged + "/data.mdb", at: freeRoot * 4_096 + 16, with: [0xff, 0xff]) {
            #expect { _ = try Environment.open(at: damaged) } throws: { error in
                let error = error as? LMDBError
                return error?.code == .damagedPage && error?.operation.contains("/damaged/data.mdb ends before its last page, and its free-page list, which says why, is damaged: page \(freeRoot) (the free-page list)'s node 0 starts at byte 65535, outside bytes ") == true
            }
        }
        #expect(truncate(copy + "/data.mdb", off_t(size / 2 / 4_096 * 4_096)) == 0)
        #expect { _ = try Environment.open(at: copy) } throws: { error in
            let error = error as? LMDBError
            return error?.code == .truncated && error?.operation.hasSuffix("/copy/data.mdb is \(size / 2 / 4_096 * 4_096) bytes, cut short of the \(reopened.usedBytes) bytes its pages take") == true
        }
    }
}
