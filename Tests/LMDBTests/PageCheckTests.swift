import Foundation
import LMDB
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
        var databases: Set<String?> = []
        for page in try pages(in: data, flags: [1, 2]) {
            // The first node's offset, pointing past the page's end. On a free page it is harmless.
            let report = try damaging(data, at: page * 4_096 + 16, with: [0xff, 0xff]) { try environment.checkPages() }
            guard let damage = report.damage.first else { continue }
            #expect(damage.description.hasPrefix("page \(page) ("), "\(damage)")
            #expect(damage.description.contains("node 0 starts at byte 65535, outside bytes"), "\(damage)")
            named += 1
            databases.insert(damage.database)
        }
        // Every page with nodes, once each; a page nested in a node is not a page of the file.
        #expect(named > 30)
        #expect(databases == ["small", "big", "duplicates", nil])
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
}
