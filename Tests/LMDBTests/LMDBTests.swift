import CLMDB
import Foundation
import LMDB
import Synchronization
import Testing

final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("folio-lmdb-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("LMDB")
struct LMDBTests {
    @Test("put, get, delete; a missing key is nil")
    func basics() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"))
        let table = try environment.database("t")
        try environment.write { txn in try txn.put(table, bytes("a"), bytes("1")) }
        #expect(try environment.read { try $0.get(table, bytes("a")) } == bytes("1"))
        #expect(try environment.read { try $0.get(table, bytes("zz")) } == nil)
        #expect(try environment.write { try $0.delete(table, bytes("a")) })
        #expect(try environment.write { try $0.delete(table, bytes("a")) } == false)
    }

    @Test("a write's commit runs through what its body set around it: before it nothing is seen, after it everything; a commit not run is none")
    func aroundCommit() throws {
        struct Stop: Error {}
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"))
        let table = try environment.database("t")
        var seen: [[UInt8]?] = []
        try environment.write { txn in
            try txn.put(table, bytes("a"), bytes("1"))
            txn.aroundCommit = { commit in
                // Read on another thread: this thread's write transaction is its own snapshot.
                func readElsewhere() throws -> [UInt8]? {
                    let result = Mutex<Result<[UInt8]?, any Error>?>(nil)
                    let thread = Thread { result.withLock { $0 = Result { try environment.read { try $0.get(table, bytes("a")) } } } }
                    thread.start()
                    while result.withLock({ $0 == nil }) { usleep(1_000) }
                    return try result.withLock { $0! }.get()
                }
                seen.append(try readElsewhere())
                try commit()
                seen.append(try readElsewhere())
            }
        }
        #expect(seen == [nil, bytes("1")])
        // A wrapper that throws before the commit leaves the write uncommitted.
        #expect(throws: Stop.self) {
            try environment.write { txn in
                try txn.put(table, bytes("b"), bytes("2"))
                txn.aroundCommit = { _ in throw Stop() }
            }
        }
        #expect(try environment.read { try $0.get(table, bytes("b")) } == nil)
        // One that never runs the commit, or runs it twice, fails the write; the next write runs.
        #expect(throws: LMDBError.self) {
            try environment.write { txn in
                try txn.put(table, bytes("c"), bytes("3"))
                txn.aroundCommit = { _ in }
            }
        }
        #expect(throws: LMDBError.self) {
            try environment.write { txn in
                try txn.put(table, bytes("d"), bytes("4"))
                txn.aroundCommit = { commit in try commit(); try commit() }
            }
        }
        try environment.write { txn in try txn.put(table, bytes("e"), bytes("5")) }
        #expect(try environment.read { txn in try ["c", "d", "e"].map { try txn.get(table, bytes($0)) } } == [nil, bytes("4"), bytes("5")])
    }

    @Test("a write that throws rolls back everything it did")
    func rollback() throws {
        struct Stop: Error {}
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"))
        let table = try environment.database("t")
        #expect(throws: Stop.self) {
            try environment.write { txn in
                try txn.put(table, bytes("a"), bytes("1"))
                throw Stop()
            }
        }
        #expect(try environment.read { try $0.get(table, bytes("a")) } == nil)
    }

    @Test("a write on meta pages that are not as LMDB writes them is refused before it begins, the data file unchanged: it would overwrite the last commit for good")
    func metaPagesBeforeWrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("env")
        let environment = try Environment.open(at: path)
        let table = try environment.database("t")
        try environment.write { txn in try txn.put(table, bytes("a"), bytes("1")) }
        try environment.write { txn in try txn.put(table, bytes("b"), bytes("2")) }
        let meta = try MetaFields(path)
        defer { try? meta.file.close() }
        func id(_ page: UInt64) throws -> UInt64 { try meta.read(page, 128) }
        func setID(_ page: UInt64, _ value: UInt64) throws { try meta.write(page, 128, value) }
        let ids = (try id(0), try id(1))
        #expect(ids.0 % 2 == 0 && ids.1 == ids.0 + 1 || ids.1 % 2 == 1 && ids.0 == ids.1 + 1, "\(ids)")
        // A bit flipped in the earlier commit's meta page makes it the later one: a process that
        // opens the store next opens it before its last commit, and its first write would go
        // over the meta page of that commit.
        let older: UInt64 = ids.0 < ids.1 ? 0 : 1
        try setID(older, (older == 0 ? ids.0 : ids.1) | 0x100)
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
        #expect { try environment.write { txn in try txn.put(table, bytes("c"), bytes("3")) } } throws: {
            ($0 as? LMDBError)?.code == .damagedMeta && "\($0)".contains("its meta pages name transactions")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
        // Mended, writes go on.
        try setID(older, older == 0 ? ids.0 : ids.1)
        try environment.write { txn in try txn.put(table, bytes("c"), bytes("3")) }
        #expect(try environment.read { try $0.get(table, bytes("c")) } == bytes("3"))
    }

    /// An environment at `path` with a table `t` written in four commits, closed again.
    private func fourCommits(at path: String) throws {
        let environment = try Environment.open(at: path)
        let table = try environment.database("t")
        for index in 0..<4 { try environment.write { txn in try txn.put(table, bytes("k\(index)"), bytes("v")) } }
    }

    /// Reads and writes little-endian fields of the meta pages of the data file at `path`.
    private struct MetaFields {
        let file: FileHandle
        let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        init(_ path: String) throws { file = try FileHandle(forUpdating: URL(fileURLWithPath: path + "/data.mdb")) }
        /// `offset` within the meta (after the page's 16-byte header) of meta page `page`.
        func read(_ page: UInt64, _ offset: UInt64) throws -> UInt64 {
            try file.seek(toOffset: page * pageSize + 16 + offset)
            return try #require(try file.read(upToCount: 8)).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }
        func write<T: FixedWidthInteger>(_ page: UInt64, _ offset: UInt64, _ value: T) throws {
            try file.seek(toOffset: page * pageSize + 16 + offset)
            try file.write(contentsOf: withUnsafeBytes(of: value.littleEndian) { Data($0) })
        }
        /// The meta page of the last commit (the greater transaction id) and the other.
        func pages() throws -> (latest: UInt64, older: UInt64) { try read(0, 128) > read(1, 128) ? (0, 1) : (1, 0) }
    }

    @Test("a meta page whose id was raised by two (still one apart from the other) is found by the free-page list: a write refused before it begins, verify's walk names it")
    func metaPageRaisedByTwo() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("env")
        try fourCommits(at: path)
        do {
            let meta = try MetaFields(path)
            let older = try meta.pages().older
            try meta.write(older, 128, try meta.read(older, 128) + 2)
            try meta.file.close()
        }
        // Opened anew, LMDB takes the raised page for the last commit: the store is one commit back.
        let environment = try Environment.open(at: path)
        let table = try #require(try environment.existingDatabase("t"))
        #expect(try environment.read { try $0.get(table, bytes("k3")) } == nil)
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
        #expect { try environment.write { txn in try txn.put(table, bytes("k4"), bytes("v")) } } throws: {
            ($0 as? LMDBError)?.code == .damagedMeta && "\($0)".contains("where the last commit its free-page list records is ")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
        let report = try environment.checkPages()
        #expect(report.damage.isEmpty && report.metaPages?.contains("where the last commit its free-page list records is ") == true, "\(report)")
    }

    @Test("a last commit's meta page whose id was lowered by two (still one apart from the other) is found by its free-page list: a write refused, verify's walk names it")
    func metaPageLoweredByTwo() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("env")
        do {
            let environment = try Environment.open(at: path)
            let table = try environment.database("t")
            // Until the last commit's id has its bit 1 set (2 or 3, modulo 4).
            var index = 0
            repeat {
                try environment.write { txn in try txn.put(table, bytes("k\(index)"), bytes("v")) }
                index += 1
            } while try MetaFields(path).read(try MetaFields(path).pages().latest, 128) % 4 < 2
        }
        let meta = try MetaFields(path)
        let latest = try meta.pages().latest
        let id = try meta.read(latest, 128)
        try meta.write(latest, 128, id & ~UInt64(2))
        try meta.file.close()
        // Opened anew, LMDB takes the other page (one commit back) for the last commit; a write
        // would go over the lowered page, the last commit's.
        let environment = try Environment.open(at: path)
        let table = try #require(try environment.existingDatabase("t"))
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
        #expect { try environment.write { txn in try txn.put(table, bytes("later"), bytes("v")) } } throws: {
            ($0 as? LMDBError)?.code == .damagedMeta && "\($0)".contains("meta page \(latest) names transaction \(id - 2), where the last commit its free-page list records is \(id)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
        #expect(try environment.checkPages().metaPages?.contains("where the last commit its free-page list records is \(id)") == true)
    }

    @Test("sound stores open and take writes: copies made by LMDB, plain and compacted, and a free-page list's field holding the environment's own flags")
    func soundMetaPages() throws {
        let directory = try TemporaryDirectory()
        try fourCommits(at: directory.path("sound"))
        // Copies as `mdb_copy` makes them, plain and compacted (empty free-page list, ids 0 and 1).
        do {
            var handle: OpaquePointer?
            #expect(mdb_env_create(&handle) == MDB_SUCCESS)
            defer { mdb_env_close(handle) }
            #expect(mdb_env_set_maxdbs(handle, 8) == MDB_SUCCESS)
            #expect(mdb_env_open(handle, directory.path("sound"), UInt32(MDB_RDONLY), 0o600) == MDB_SUCCESS)
            for (name, flags) in [("plain", 0), ("compacted", MDB_CP_COMPACT)] {
                try FileManager.default.createDirectory(atPath: directory.path(name), withIntermediateDirectories: false)
                #expect(mdb_env_copy2(handle, directory.path(name), UInt32(flags)) == MDB_SUCCESS)
            }
        }
        // LMDB keeps the environment's flags (`MDB_NOSUBDIR`, `MDB_FIXEDMAP`) in the free-page
        // list's field of the meta page it makes first.
        try FileManager.default.copyItem(atPath: directory.path("sound"), toPath: directory.path("flags"))
        do {
            let meta = try MetaFields(directory.path("flags"))
            try meta.write(try meta.pages().latest, 28, UInt16(0x4000 | 0x08 | 0x01))
            try meta.file.close()
        }
        for name in ["plain", "compacted", "flags"] {
            let environment = try Environment.open(at: directory.path(name))
            let table = try #require(try environment.existingDatabase("t"), "\(name)")
            for index in 0..<3 { try environment.write { txn in try txn.put(table, bytes("more\(index)"), bytes("v")) } }
            #expect(try environment.read { try $0.get(table, bytes("k3")) } == bytes("v"), "\(name)")
            let report = try environment.checkPages()
            #expect(report.damage.isEmpty && report.metaPages == nil, "\(name): \(report)")
        }
    }

    @Test("meta pages LMDB would misread (a page size of 0, the page sizes apart, a last page past any map, a transaction id past 2^63, the free-page list's flags) are named before LMDB opens the file")
    func damagedMetaHeaders() throws {
        let directory = try TemporaryDirectory()
        try fourCommits(at: directory.path("sound"))
        let latest = try MetaFields(directory.path("sound")).pages().latest
        let cases: [(String, (MetaFields) throws -> Void, String)] = [
            ("size0", { try $0.write(0, 24, UInt32(0)) }, "meta page 0 gives a page size of 0 bytes"),
            ("size1", { try $0.write(1, 24, UInt32(8192)) }, "its meta pages give page sizes of 4096 and 8192 bytes"),
            ("last", { try $0.write(latest, 120, UInt64(1) << 52) }, "as its last page, past the "),
            ("id", { try $0.write(latest, 128, UInt64(1) << 63 | 5) }, "meta page \(latest) names transaction 9223372036854775813"),
            ("flags", { try $0.write(latest, 28, UInt16(0x08 | 0x04)) }, "gives the free-page list's flags as 12"),
        ]
        for (name, damage, said) in cases {
            let path = directory.path(name)
            try FileManager.default.copyItem(atPath: directory.path("sound"), toPath: path)
            let meta = try MetaFields(path)
            try damage(meta)
            try meta.file.close()
            #expect("\(name)") { _ = try Environment.open(at: path) } throws: {
                ($0 as? LMDBError)?.code == .damagedPage && "\($0)".contains(said) && "\($0)".hasSuffix("a meta page (one of the first two, where LMDB says where its data is) is damaged: a page is damaged")
            }
        }
        // The sound one opens, and reads.
        let sound = try Environment.open(at: directory.path("sound"))
        let table = try #require(try sound.existingDatabase("t"))
        #expect(try sound.read { try $0.get(table, bytes("k3")) } == bytes("v"))
    }

    @Test("an append out of key order fails loudly")
    func appendOrder() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"))
        let table = try environment.database("t")
        try environment.write { txn in try txn.put(table, bytes("b"), bytes("1"), options: .append) }
        #expect { try environment.write { txn in try txn.put(table, bytes("a"), bytes("2"), options: .append) } } throws: {
            ($0 as? LMDBError)?.code == .keyExists
        }
    }

    @Test("cursors seek at or after, at or before, and exactly")
    func cursors() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"))
        let table = try environment.database("t")
        try environment.write { txn in for key in ["b", "d", "f"] { try txn.put(table, bytes(key), bytes(key)) } }
        let found = try environment.read { txn in
            try txn.withCursor(table) { cursor -> [[UInt8]?] in
                [
                    try cursor.seek(atOrAfter: bytes("c")).map { Array($0.key) },
                    try cursor.seek(atOrBefore: bytes("e")).map { Array($0.key) },
                    try cursor.seek(atOrBefore: bytes("z")).map { Array($0.key) },
                    try cursor.seek(atOrAfter: bytes("g")).map { Array($0.key) },
                    try cursor.seek(exactly: bytes("c")).map { Array($0.key) },
                    try cursor.seek(exactly: bytes("b")).map { Array($0.value) },
                ]
            }
        }
        #expect(found == [bytes("d"), bytes("d"), bytes("f"), nil, nil, bytes("b")])
    }

    @Test("a database compared with the entries it should hold names the first key where they part: missing, unexpected or changed, at its start, middle or end")
    func firstDifference() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"))
        let table = try environment.database("t")
        let stored = [("b", "2"), ("d", "4"), ("f", "6")]
        try environment.write { txn in for (key, value) in stored { try txn.put(table, bytes(key), bytes(value)) } }
        func difference(_ expected: [(String, String)]) throws -> EntryDifference? {
            try environment.read { txn in
                try txn.firstDifference(in: table) { expect in
                    for (key, value) in expected { try expect(bytes(key)) { $0.elementsEqual(bytes(value)) } }
                }
            }
        }
        #expect(try difference(stored) == nil)
        #expect(try difference([("a", "1")] + stored) == .missing(key: bytes("a")))
        #expect(try difference([("b", "2"), ("c", "3"), ("d", "4"), ("f", "6")]) == .missing(key: bytes("c")))
        #expect(try difference(stored + [("g", "7")]) == .missing(key: bytes("g")))
        #expect(try difference(Array(stored.dropFirst())) == .unexpected(key: bytes("b")))
        #expect(try difference([("b", "2"), ("f", "6")]) == .unexpected(key: bytes("d")))
        #expect(try difference(Array(stored.dropLast())) == .unexpected(key: bytes("f")))
        #expect(try difference([("b", "2"), ("d", "5"), ("f", "0")]) == .changed(key: bytes("d")))
        #expect(try difference([]) == .unexpected(key: bytes("b")))
        // A key that is a prefix of another comes first, as LMDB orders them.
        try environment.write { txn in try txn.put(table, bytes("dd"), bytes("x")) }
        #expect(try difference(stored) == .unexpected(key: bytes("dd")))
    }

    @Test("the map grows by itself when it fills")
    func mapGrowth() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"), options: .init(mapSize: 64 << 10))
        let table = try environment.database("t")
        let value = [UInt8](repeating: 7, count: 4_000)
        for batch in 0..<20 {
            try environment.write { txn in
                for index in 0..<50 { try txn.put(table, bytes("\(batch)-\(index)"), value) }
            }
        }
        #expect(environment.mapSize > 64 << 10)
        #expect(try environment.read { try $0.statistics(table).entries } == 1_000)
    }

    @Test("the map grows and the write runs again even when the body rewraps the map-full error")
    func mapGrowthThroughRewrappedErrors() throws {
        struct Rewrapped: Error {}
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("env"), options: .init(mapSize: 64 << 10))
        let table = try environment.database("t")
        let value = [UInt8](repeating: 7, count: 4_000)
        try environment.write { txn in
            for index in 0..<200 {
                do { try txn.put(table, bytes("k\(index)"), value) } catch { throw Rewrapped() }
            }
        }
        #expect(environment.mapSize > 64 << 10)
        #expect(try environment.read { try $0.statistics(table).entries } == 200)
    }

    @Test("one environment per path per process")
    func oneInstance() throws {
        let directory = try TemporaryDirectory()
        let a = try Environment.open(at: directory.path("env"))
        let b = try Environment.open(at: directory.path("env") + "/")
        #expect(a === b)
    }

    @Test("the directory and its files are readable by their owner only")
    func permissions() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("new/env"))
        _ = environment
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path("new/env"))
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
        let data = try FileManager.default.attributesOfItem(atPath: directory.path("new/env") + "/data.mdb")
        #expect((data[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
    }

    @Test("a path that is a file is refused clearly")
    func fileAsPath() throws {
        let directory = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.path("file"), contents: Data("x".utf8))
        #expect { _ = try Environment.open(at: directory.path("file")) } throws: { ($0 as? LMDBError)?.code == .notADirectory }
    }
}
