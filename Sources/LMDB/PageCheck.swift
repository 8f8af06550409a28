internal import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a walk of every page of a snapshot found.
public struct PageCheckReport: Sendable, Hashable {
    /// Pages in use: branch, leaf and overflow pages of every database, the two meta pages apart.
    public var pagesInUse: Int
    /// Pages the free-page database lists as free for reuse.
    public var freePages: Int
    /// Databases walked: the free-page database, the main one and every named one.
    public var databases: Int
    /// Pages of the snapshot, the two meta pages among them (its last page number plus one).
    /// The data file may end before the last of them when those past its end are free: LMDB
    /// does not write a page freed in the transaction that took it.
    public var pages: Int
    /// What was found damaged, in the order walked: empty when every page checked out.
    public var damage: [PageDamage]
    /// Why the two meta pages cannot both be as LMDB wrote them (`nil` when they can): one is
    /// damaged, and the store may open at an earlier commit than its last. Not in `damage`: the
    /// walk of the snapshot LMDB chose can still be sound, and an export of it still wanted.
    public var metaPages: String?
}

/// The rule LMDB's two meta pages keep, which says where the store's last commit is.
enum MetaPages {
    /// Where a meta page keeps, after its page header: its page size (the free-page list's
    /// record's first field), the free-page list's flags, depth and root, its last page and its
    /// transaction id (`MDB_meta`, `MDB_db`).
    static let pageSizeOffset = 24, freeFlagsOffset = 28, freeDepthOffset = 30, freeRootOffset = 64
    static let mapSizeOffset = 16, lastPageOffset = 120, idOffset = 128
    /// A meta page's header and `MDB_meta`, in bytes.
    static let size = PageWalk.headerSize + 136

    /// The transaction ids of meta pages 0 and 1 in a data file mapped at `base`.
    static func transactionIDs(base: UnsafeRawPointer, pageSize: Int) -> (UInt64, UInt64) {
        func id(_ page: Int) -> UInt64 {
            base.loadUnaligned(fromByteOffset: page * pageSize + PageWalk.headerSize + idOffset, as: UInt64.self)
        }
        return (id(0), id(1))
    }

    /// Meta pages 0 and 1 of the data file open at `descriptor`, each read whole (`size` bytes),
    /// or `nil` when it is too short to hold them.
    static func read(descriptor: Int32, pageSize: Int) -> (first: [UInt8], second: [UInt8])? {
        guard let first = read(descriptor, size, at: 0), let second = read(descriptor, size, at: pageSize) else { return nil }
        return (first, second)
    }

    /// The greater of two meta pages' transaction ids: the last commit, as LMDB picks it.
    static func lastCommit(_ metas: (first: [UInt8], second: [UInt8])) -> UInt64 {
        max(metaField(metas.first, idOffset, UInt64.self), metaField(metas.second, idOffset, UInt64.self))
    }

    /// `count` bytes of the file open at `descriptor` from `offset`, or `nil` when it ends first.
    static func read(_ descriptor: Int32, _ count: Int, at offset: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let done = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        return done == count ? bytes : nil
    }

    /// The little-endian field at `offset` of `bytes`.
    static func field<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type = T.self) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    /// A field of a meta page read whole (`size` bytes), at `offset` after its page header.
    static func metaField<T: FixedWidthInteger>(_ meta: [UInt8], _ offset: Int, _: T.Type = T.self) -> T {
        field(meta, PageWalk.headerSize + offset)
    }

    /// Why the meta pages of the data file at `path` would make LMDB misread it (fault, trap or
    /// hang as it opens it), or `nil`: read from the file before LMDB maps it. Checked on both
    /// pages: LMDB's mark and data version (when page 0 holds LMDB's mark at all: a file that is
    /// not LMDB's is LMDB's to refuse) and the page size, which page 0's says where page 1 is.
    /// Checked on the page LMDB opens at (the greater transaction id): its free-page list's flags,
    /// its transaction id (under 2^63) and its last page, within the map its writer had or the
    /// file. Another process's commit writing that page meanwhile is read again before it is
    /// taken for damage.
    static func headerDamage(path: String) -> String? {
        let descriptor = open(path + "/data.mdb", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        func damage() -> String? {
            // A file too short for them is LMDB's (or the length check's) to name.
            guard let first = read(descriptor, size, at: 0) else { return nil }
            guard metaField(first, 0, UInt32.self) == magic else { return nil }
            let pageSize = Int(metaField(first, pageSizeOffset, UInt32.self))
            guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else {
                return "meta page 0 gives a page size of \(pageSize) bytes"
            }
            guard let second = read(descriptor, size, at: pageSize) else { return nil }
            guard metaField(second, 0, UInt32.self) == magic else {
                return "meta page 1, at byte \(pageSize) where meta page 0's page size puts it, does not hold LMDB's mark"
            }
            for (number, page) in [first, second].enumerated() {
                let version = metaField(page, 4, UInt32.self), size = metaField(page, pageSizeOffset, UInt32.self)
                if version != dataVersion { return "meta page \(number) gives LMDB's data version as \(version), where this LMDB writes \(dataVersion)" }
                if size != pageSize { return "its meta pages give page sizes of \(pageSize) and \(size) bytes" }
            }
            let (latest, page) = metaField(first, idOffset, UInt64.self) >= metaField(second, idOffset, UInt64.self) ? (0, first) : (1, second)
            let transaction = metaField(page, idOffset, UInt64.self), lastPage = metaField(page, lastPageOffset, UInt64.self)
            let mapSize = metaField(page, mapSizeOffset, UInt64.self)
            if transaction >= 1 << 63 { return "meta page \(latest) names transaction \(transaction)" }
            // The environment's own flags share the field (`MDB_NOSUBDIR`, `MDB_FIXEDMAP`); those
            // that change how the list is read must not be there.
            let flags = metaField(page, freeFlagsOffset, UInt16.self)
            if flags & PageWalk.integerKey == 0 || flags & keyAndDuplicateFlags != 0 { return "meta page \(latest) gives the free-page list's flags as \(flags)" }
            // Past the map its writer had and the file both (a damaged map size alone LMDB mends).
            var status = stat()
            let fileSize = fstat(descriptor, &status) == 0 ? UInt64(status.st_size) : .max
            let (pages, overflow) = lastPage.addingReportingOverflow(1)
            if overflow || (pages > mapSize / UInt64(pageSize) && pages > fileSize / UInt64(pageSize)) {
                return "meta page \(latest) counts \(lastPage) as its last page, past the \(mapSize)-byte map its writer had and the file's end"
            }
            return nil
        }
        guard damage() != nil else { return nil }
        usleep(20_000)
        return damage()
    }

    /// Why the two meta pages `metas` of the data file open at `descriptor` say the store is
    /// damaged, as a write must not find them (`disagreement`, then `freeListDisagreement`), or
    /// `nil`. For the holder of the writer's lock, under which no other process writes them.
    static func damage(_ metas: (first: [UInt8], second: [UInt8]), descriptor: Int32, pageSize: Int) -> String? {
        disagreement((metaField(metas.first, idOffset), metaField(metas.second, idOffset)))
            ?? freeListDisagreement(descriptor: descriptor, pageSize: pageSize, metas: metas)
    }

    /// Why a meta page's transaction id is not the last commit its own free-page list records,
    /// or `nil`, read from the data file open at `descriptor` (`metas`: the two meta pages, when
    /// read already).
    ///
    /// Every commit frees at least its main database's former root, which LMDB lists in the
    /// free-page list under the commit's transaction id, and no commit takes that entry back while
    /// it is the last one, nor reuses a page of the commit before the latest: so the free-page
    /// list of each meta page ends at that page's own id (a store new or compacted has none). A
    /// flipped bit that moves an id by two leaves the two ids one apart, as LMDB writes them, and
    /// makes LMDB open the store at an earlier commit than its last, whose meta page the next
    /// write would overwrite for good. Pages that do not read as a sound path down the list are
    /// left to the page walk to name (`nil` here).
    static func freeListDisagreement(descriptor: Int32, pageSize: Int, metas: (first: [UInt8], second: [UInt8])? = nil) -> String? {
        /// The last key of the free-page list whose root is `root`, `depth` levels deep.
        func lastFreed(root: UInt64, depth: Int) -> UInt64? {
            var number = root
            for level in 1...max(depth, 1) {
                guard number < UInt64(Int.max / pageSize), let page = read(descriptor, pageSize, at: Int(number) * pageSize),
                      field(page, 0, UInt64.self) == number
                else { return nil }
                let flags = field(page, 10, UInt16.self) & ~PageWalk.inMemory, lower = Int(field(page, 12, UInt16.self))
                guard lower > PageWalk.headerSize, lower <= pageSize, lower % 2 == 0 else { return nil }
                let node = Int(field(page, lower - 2, UInt16.self))
                guard node >= lower, node + PageWalk.nodeHeaderSize + 8 <= pageSize else { return nil }
                if level < depth {
                    guard flags == PageWalk.branch else { return nil }
                    number = UInt64(field(page, node, UInt16.self)) | UInt64(field(page, node + 2, UInt16.self)) << 16
                        | UInt64(field(page, node + 4, UInt16.self)) << 32
                    continue
                }
                guard flags == PageWalk.leaf, field(page, node + 6, UInt16.self) == 8 else { return nil }
                return field(page, node + PageWalk.nodeHeaderSize, UInt64.self)
            }
            return nil
        }
        guard let metas = metas ?? read(descriptor: descriptor, pageSize: pageSize) else { return nil }
        for (number, meta) in [metas.first, metas.second].enumerated() {
            let id = metaField(meta, idOffset, UInt64.self), root = metaField(meta, freeRootOffset, UInt64.self)
            let depth = Int(metaField(meta, freeDepthOffset, UInt16.self))
            guard root != PageWalk.noPage, depth >= 1, depth <= 32, let last = lastFreed(root: root, depth: depth), last != id else { continue }
            return "meta page \(number) names transaction \(id), where the last commit its free-page list records is \(last): a meta page is damaged, and the store may open at an earlier commit than its last"
        }
        return nil
    }

    /// LMDB's mark at the start of each meta page, and its data version.
    static let magic: UInt32 = 0xBEEF_C0DE, dataVersion: UInt32 = 1
    /// `MDB_REVERSEKEY`, `MDB_DUPSORT`, `MDB_DUPFIXED`, `MDB_INTEGERDUP`, `MDB_REVERSEDUP`.
    static let keyAndDuplicateFlags = UInt16(MDB_REVERSEKEY | MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP | MDB_REVERSEDUP)

    /// LMDB writes transaction N's meta page at page N % 2, so its two meta pages hold
    /// consecutive transaction ids, the even one on page 0 (both 0 in a store never written to),
    /// and opens the store at the page with the greater id. Anything else is a damaged meta page:
    /// this says so, or returns `nil`.
    static func disagreement(_ ids: (UInt64, UInt64)) -> String? {
        let consistent = ids == (0, 0) || (ids.0 % 2 == 0 && ids.1 % 2 == 1 && (ids.0 &- ids.1 == 1 || ids.1 &- ids.0 == 1))
        guard !consistent else { return nil }
        return "its meta pages name transactions \(ids.0) (page 0) and \(ids.1) (page 1), where LMDB writes them in turn, one apart, the even one on page 0: one is damaged, and the store may open at an earlier commit than its last"
    }
}

/// A damaged page, as `Environment.checkPages()` found it.
public struct PageDamage: Sendable, Hashable, CustomStringConvertible {
    /// The named database it belongs to, or `nil` for LMDB's own (the free-page list and the
    /// main database, which holds the named ones' records): damage there leaves no database sound.
    public var database: String?
    /// What is wrong, naming the page, e.g. "page 270 (database \"log\")'s node 4 starts at byte 24, …".
    public var description: String
}

extension Environment {
    /// Walks every B-tree of the latest snapshot page by page, with every offset checked against
    /// the page it lies in, before anything trusts those pages.
    ///
    /// LMDB trusts its pages: a read that meets a damaged one (a flipped bit in a header or a node
    /// offset) can stop the process with a memory fault. This walk names such a page instead. It
    /// checks that each page reached is within the data file, is reached once, says it is the page
    /// it is and what kind it is, keeps its nodes (keys, values, overflow runs, nested databases)
    /// inside its bounds, and that each database's record (depth, page counts, entries) agrees
    /// with what was walked; then that no page listed as free is in use. It does not read values
    /// (their contents are the caller's to check) and cannot see a byte changed inside one.
    ///
    /// A named database found damaged is left there and the walk goes on to the next, so that
    /// the report says which databases are sound; damage to LMDB's own pages ends the walk.
    /// - Throws: `LMDBError` when no snapshot can be read.
    public func checkPages() throws -> PageCheckReport {
        try walkingLatestSnapshot("check pages of") { walk in walk.run() }
    }

    /// Refuses a data file cut short (an unfinished copy): one that ends before a page in use.
    ///
    /// A sound file can end before its last page too, when the pages past its end were freed in
    /// the transaction that took them and so never written; those are listed free. Only when the
    /// file ends early is the free-page list read to tell the two apart.
    /// - Throws: `LMDBError` `.truncated` naming the file's size and the size its pages take.
    func checkLength() throws {
        guard dataFileSize < usedBytes else { return }
        try walkingLatestSnapshot("check the length of") { walk in
            let free: Bool
            do throws(PageWalk.Damage) {
                free = try walk.unwrittenPagesAreFree()
            } catch where error.isPastEnd {
                free = false
            } catch {
                // Damage, not an unfinished copy: a complete copy would not mend it.
                throw LMDBError(code: .damagedPage, operation: "\(path)/data.mdb ends before its last page, and its free-page list, which says why, is damaged: \(error.description)")
            }
            guard free else {
                throw LMDBError(code: .truncated, operation: "\(path)/data.mdb is \(walk.fileSize) bytes, cut short of the \(walk.pageCount * walk.pageSize) bytes its pages take")
            }
        }
    }

    /// The size of the data file in bytes, or `Int.max` when it cannot be found.
    private var dataFileSize: Int {
        var descriptor: mdb_filehandle_t = -1
        var status = stat()
        guard mdb_env_get_fd(handle, &descriptor) == MDB_SUCCESS, fstat(descriptor, &status) == 0 else { return .max }
        return Int(status.st_size)
    }

    /// `body`'s result on a walk of the latest snapshot. Another process's two commits between
    /// the snapshot's start and reading its meta page could overwrite that page: the snapshot is
    /// then taken again.
    private func walkingLatestSnapshot<T>(_ purpose: String, _ body: (inout PageWalk) throws -> T) throws -> T {
        for _ in 0..<8 {
            let result = try read { txn -> T? in
                try withDataFileMapped { base, size in
                    guard var walk = try PageWalk(base: base, size: size, environment: self, transaction: txn) else { return nil }
                    return try body(&walk)
                }
            }
            if let result { return result }
        }
        throw LMDBError(code: .busy, operation: "\(purpose) \(path): another process wrote to it throughout")
    }

    /// Calls `body` with the data file mapped read-only, whole: a walk's own view of the pages,
    /// apart from LMDB's map (whose address LMDB does not give out).
    private func withDataFileMapped<T>(_ body: (UnsafeRawPointer, Int) throws -> T) throws -> T {
        var descriptor: mdb_filehandle_t = -1
        try check(mdb_env_get_fd(handle, &descriptor), "mdb_env_get_fd")
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw LMDBError(code: .init(rawValue: errno), operation: "fstat \(path)/data.mdb") }
        let size = Int(status.st_size)
        guard size > 0 else { throw LMDBError(code: .truncated, operation: "\(path)/data.mdb is empty") }
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), map != MAP_FAILED else {
            throw LMDBError(code: .init(rawValue: errno), operation: "mmap \(path)/data.mdb")
        }
        defer { munmap(map, size) }
        return try body(UnsafeRawPointer(map), size)
    }
}

/// One walk over the pages of one read snapshot. Offsets follow LMDB 0.9's `mdb.c` (on-disk
/// format version 1): a page header of 16 bytes, 8-byte page numbers, 2-byte node offsets.
private struct PageWalk {
    // Page flags.
    static let branch: UInt16 = 0x01, leaf: UInt16 = 0x02, overflow: UInt16 = 0x04
    static let leaf2: UInt16 = 0x20, subpage: UInt16 = 0x40
    /// Flags LMDB uses only in memory and clears before writing; ignored if found.
    static let inMemory: UInt16 = 0x10 | 0x4000 | 0x8000
    // Node flags.
    static let bigData: UInt16 = 0x01, subData: UInt16 = 0x02, dupData: UInt16 = 0x04
    static let headerSize = 16, nodeHeaderSize = 8, databaseRecordSize = 48
    static let noPage = UInt64.max
    static let duplicateSort: UInt16 = 0x04  // MDB_DUPSORT in a database record's flags
    static let reverseKey: UInt16 = 0x02, integerKey: UInt16 = 0x08  // MDB_REVERSEKEY, MDB_INTEGERKEY
    /// The deepest tree LMDB's cursors can walk (`CURSOR_STACK`).
    static let maximumDepth = 32

    let base: UnsafeRawPointer
    let pageSize: Int
    /// Pages of the snapshot: its meta page's last page number plus one.
    let pageCount: Int
    /// Pages the data file holds, fewer than `pageCount` when the last ones were freed unwritten.
    let readable: Int
    /// The data file's size in bytes.
    let fileSize: Int
    let freeRecord: DatabaseRecord
    let mainRecord: DatabaseRecord
    /// The data file, open (LMDB's descriptor), for reading the meta pages as they are now.
    let descriptor: Int32
    /// Pages within the data file reached so far, a bit each.
    var seen: [UInt64]
    /// Pages past the data file's end reached so far: only free ones may be there.
    var unwritten: Set<Int> = []
    var databases = 0
    var damage: [PageDamage] = []

    /// What is wrong with a page, as found.
    struct Damage: Error {
        var description: String
        /// Whether it is a page in use past the data file's end, as a file cut short leaves it.
        var isPastEnd = false
    }

    /// A database's record as a meta page or the main database stores it (`MDB_db`).
    struct DatabaseRecord {
        var flags: UInt16
        var depth: Int
        var branchPages: Int
        var leafPages: Int
        var overflowPages: Int
        var entries: Int
        var root: UInt64

        init(at pointer: UnsafeRawPointer) {
            flags = pointer.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
            depth = Int(pointer.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
            branchPages = Int(truncatingIfNeeded: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            leafPages = Int(truncatingIfNeeded: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            overflowPages = Int(truncatingIfNeeded: pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            entries = Int(truncatingIfNeeded: pointer.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
            root = pointer.loadUnaligned(fromByteOffset: 40, as: UInt64.self)
        }
    }

    /// What a walk of one tree counted.
    struct Counts {
        var depth = 0, branchPages = 0, leafPages = 0, overflowPages = 0, entries = 0
    }

    /// The walk of `transaction`'s snapshot, or `nil` when its meta page was overwritten meanwhile.
    /// - Parameters:
    ///   - base: the data file, mapped whole (`size` bytes).
    init?(base: UnsafeRawPointer, size: Int, environment: Environment, transaction: Transaction) throws {
        var statistics = MDB_stat()
        try check(mdb_env_stat(environment.handle, &statistics), "mdb_env_stat")
        let pageSize = Int(statistics.ms_psize)
        self.base = base
        self.pageSize = pageSize
        readable = size / pageSize
        fileSize = size
        guard readable >= 2 else { throw LMDBError(code: .truncated, operation: "data.mdb is \(size) bytes, short of its two meta pages") }
        let snapshot = UInt64(truncatingIfNeeded: mdb_txn_id(transaction.handle))
        var descriptor: mdb_filehandle_t = -1
        try check(mdb_env_get_fd(environment.handle, &descriptor), "mdb_env_get_fd")
        self.descriptor = descriptor
        // The meta page (0 or 1) of this snapshot: LMDB copied its database records when the
        // snapshot began; its transaction id is read before and after them.
        let metaPage = (0..<2).first { page in
            base.loadUnaligned(fromByteOffset: page * pageSize + Self.headerSize + 128, as: UInt64.self) == snapshot
        }
        guard let metaPage else { return nil }
        let meta = base + metaPage * pageSize + Self.headerSize
        freeRecord = DatabaseRecord(at: meta + 24)
        mainRecord = DatabaseRecord(at: meta + 24 + Self.databaseRecordSize)
        let lastPage = meta.loadUnaligned(fromByteOffset: 120, as: UInt64.self)
        guard meta.loadUnaligned(fromByteOffset: 128, as: UInt64.self) == snapshot else { return nil }
        var main = MDB_stat()
        try check(mdb_stat(transaction.handle, 1, &main), "mdb_stat(main)")
        guard main.ms_entries == mainRecord.entries, main.ms_leaf_pages == mainRecord.leafPages,
              main.ms_branch_pages == mainRecord.branchPages, Int(main.ms_depth) == mainRecord.depth
        else { return nil }
        guard lastPage >= 1, lastPage < UInt64(Int.max / pageSize) else {
            throw LMDBError(code: .corrupted, operation: "the meta page \(metaPage) counts \(lastPage &+ 1) pages")
        }
        pageCount = Int(lastPage) + 1
        seen = Array(repeating: 0, count: (readable + 63) / 64)
    }

    mutating func run() -> PageCheckReport {
        var free = 0
        do {
            try walk(freeRecord, named: "the free-page list", role: .named)
            try walk(mainRecord, named: "the main database", role: .main)
            // Pages a damaged database's walk claimed wrongly would show as both free and in use.
            if damage.isEmpty { free = try freePages() }
        } catch {
            damage.append(PageDamage(database: nil, description: error.description))
        }
        return PageCheckReport(
            pagesInUse: seen.reduce(0) { $0 + $1.nonzeroBitCount } + unwritten.count - free, freePages: free, databases: databases, pages: pageCount,
            damage: damage, metaPages: metaPagesDisagree() ?? (damage.isEmpty ? freeListDisagrees() : nil)
        )
    }

    /// Why a meta page's free-page list says its id is damaged (`MetaPages.freeListDisagreement`),
    /// or `nil`; read again before it is taken for damage, as another process may be writing that
    /// page meanwhile.
    func freeListDisagrees() -> String? {
        guard MetaPages.freeListDisagreement(descriptor: descriptor, pageSize: pageSize) != nil else { return nil }
        usleep(20_000)
        return MetaPages.freeListDisagreement(descriptor: descriptor, pageSize: pageSize).map { "\($0) (copy data.mdb aside before any write)" }
    }

    /// Why the two meta pages cannot both be as LMDB wrote them, or `nil`; a meta page written by
    /// another process meanwhile is read again before it is taken for a damaged one.
    func metaPagesDisagree() -> String? {
        let ids = { MetaPages.transactionIDs(base: self.base, pageSize: self.pageSize) }
        guard MetaPages.disagreement(ids()) != nil else { return nil }
        usleep(20_000)
        return MetaPages.disagreement(ids()).map { "\($0) (copy data.mdb aside before any write)" }
    }

    /// Whether every page past the data file's end is listed free (the free-page list's own
    /// pages all within it): then the file holds every page in use.
    /// - Throws: `Damage` in the free-page list.
    mutating func unwrittenPagesAreFree() throws(Damage) -> Bool {
        try walk(freeRecord, named: "the free-page list", role: .named)
        _ = try freePages()
        return unwritten.count == max(pageCount - readable, 0)
    }

    /// Which tree a page belongs to, for the nested databases its leaves may hold.
    enum Role {
        /// The main database, whose leaves hold the named databases' records.
        case main
        /// A named database (or the free-page list), whose leaves hold sorted duplicates when it keeps them.
        case named
        /// The values of one key of a database of sorted duplicates, which hold nothing nested.
        case duplicates
    }

    /// Walks the tree of `record`, and checks the record's counts against it.
    mutating func walk(_ record: DatabaseRecord, named name: String, role: Role) throws(Damage) {
        databases += 1
        var counts = Counts()
        try visit(tree: record, role: role, database: name, counts: &counts)
        // A database of sorted duplicates counts its nested pages and entries in ways that
        // depend on how many values each key holds; its structure is checked, not its counts.
        guard record.flags & Self.duplicateSort == 0 else { return }
        let expected = (record.depth, record.branchPages, record.leafPages, record.overflowPages, record.entries)
        let found = (counts.depth, counts.branchPages, counts.leafPages, counts.overflowPages, counts.entries)
        guard expected != found else { return }
        throw damage("\(name)'s record (depth \(expected.0), \(expected.1) branch, \(expected.2) leaf and \(expected.3) overflow pages, \(expected.4) entries) disagrees with its pages (depth \(found.0), \(found.1), \(found.2), \(found.3), \(found.4))")
    }

    /// Walks the tree of `record` from its root, if it has one, adding what it finds to `counts`.
    mutating func visit(tree record: DatabaseRecord, role: Role, database: String, counts: inout Counts) throws(Damage) {
        guard record.depth <= Self.maximumDepth else { throw damage("\(database)'s record gives a depth of \(record.depth), deeper than LMDB goes") }
        guard record.root != Self.noPage else { return }
        try visit(record.root, level: 1, record: record, role: role, database: database, counts: &counts, keys: KeyRange())
    }

    /// The keys a page may hold, as the separators of the branches above it bound them: from
    /// `lower` (none: from the first) up to, not including, `upper` (none: to the last).
    struct KeyRange {
        var lower: UnsafeRawBufferPointer?
        var upper: UnsafeRawBufferPointer?

        /// Whether `key` lies in the range, in LMDB's order of keys (bytes compared as unsigned, a
        /// prefix first: `precedesInKeyOrder`, as `Transaction.firstDifference` compares them).
        func contains(_ key: UnsafeRawBufferPointer) -> Bool {
            (lower.map { !key.precedesInKeyOrder($0) } ?? true) && (upper.map { key.precedesInKeyOrder($0) } ?? true)
        }
    }

    /// Whether a tree's keys are in the order of their bytes, which the walk checks: not in sorted
    /// duplicates (ordered by their values), nor under integer or reversed keys (the free-page
    /// list's are integers in the machine's order).
    static func keysInByteOrder(_ record: DatabaseRecord, _ role: Role) -> Bool {
        role != .duplicates && record.flags & (reverseKey | integerKey) == 0
    }

    /// The key of the node at `node`, whose size was checked to lie within its page.
    static func key(of node: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: node + nodeHeaderSize, count: Int(node.loadUnaligned(fromByteOffset: 6, as: UInt16.self)))
    }

    /// Marks `count` pages from `page` as reached, refusing a page out of range or reached before.
    /// - Parameter written: whether the pages are to be read, and so must lie within the data
    ///   file (a page listed free need not: it may never have been written).
    mutating func claim(_ page: UInt64, count: Int = 1, written: Bool = true, _ place: @autoclosure () -> String) throws(Damage) {
        guard page >= 2, page < UInt64(pageCount), count <= pageCount - Int(page) else {
            throw damage("\(place()) points to page \(page), outside the data file's pages 2 to \(pageCount - 1)")
        }
        guard !written || Int(page) + count <= readable else {
            throw Damage(description: "\(place()) points to page \(max(Int(page), readable)), past the end of the data file, which holds \(readable) pages: the file is cut short", isPastEnd: true)
        }
        for index in Int(page)..<(Int(page) + count) {
            if index >= readable {
                guard unwritten.insert(index).inserted else { throw damage("\(place()) points to page \(index), a page reached already from elsewhere") }
                continue
            }
            let (word, bit) = (index / 64, UInt64(1) << UInt64(index % 64))
            guard seen[word] & bit == 0 else { throw damage("\(place()) points to page \(index), a page reached already from elsewhere") }
            seen[word] |= bit
        }
    }

    /// Walks the page `number` of a tree and what it leads to. A page's keys must be in order
    /// and within `keys`: a separator key damaged in a branch page would hide entries from
    /// lookups while every page reads as well formed. (Sorted duplicates, compared by their
    /// values, are not checked for order.)
    mutating func visit(
        _ number: UInt64, level: Int, record: DatabaseRecord, role: Role, database: String, counts: inout Counts, keys: KeyRange
    ) throws(Damage) {
        try claim(number, database)
        let page = base + Int(number) * pageSize
        func place() -> String { "page \(number) (\(database))" }
        let stated = page.loadUnaligned(as: UInt64.self)
        guard stated == number else { throw damage("\(place()) says it is page \(stated)") }
        let flags = page.loadUnaligned(fromByteOffset: 10, as: UInt16.self) & ~Self.inMemory
        guard level <= max(record.depth, 1) else { throw damage("\(place()) lies deeper than the database's depth \(record.depth)") }
        counts.depth = max(counts.depth, level)
        switch flags {
        case Self.branch:
            guard level < record.depth else { throw damage("\(place()) is a branch page at the depth of the leaves") }
            counts.branchPages += 1
            let nodes = try layout(of: page, size: pageSize, place: place())
            guard !nodes.isEmpty else { throw damage("\(place()) is a branch page without children") }
            for (index, offset) in nodes.enumerated() {
                let keySize = Int(page.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
                guard offset + Self.nodeHeaderSize + keySize <= pageSize else {
                    throw damage("\(place())'s node \(index) runs past the page's end")
                }
            }
            // Child i holds the keys from separator i (the first child: from the page's lower
            // bound) up to separator i + 1 (the last: to its upper bound).
            let separators = nodes.map { Self.key(of: page + $0) }
            if Self.keysInByteOrder(record, role) {
                for index in separators.indices.dropFirst() {
                    guard keys.contains(separators[index]), index == 1 || separators[index - 1].precedesInKeyOrder(separators[index]) else {
                        throw damage("\(place())'s node \(index) holds a key out of order with the keys around it")
                    }
                }
            }
            for (index, offset) in nodes.enumerated() {
                var range = keys
                if index > 0 { range.lower = separators[index] }
                if index + 1 < nodes.count { range.upper = separators[index + 1] }
                try visit(Self.childPage(page + offset), level: level + 1, record: record, role: role, database: database, counts: &counts, keys: range)
            }
        case Self.leaf, Self.leaf | Self.leaf2:
            guard level == record.depth else { throw damage("\(place()) is a leaf at depth \(level) of a database \(record.depth) deep") }
            counts.leafPages += 1
            if flags & Self.leaf2 != 0 {
                // LMDB writes pages of fixed-size keys only in the duplicates of a database that
                // keeps them (`MDB_DUPFIXED`): elsewhere the flag is damage, and the page would
                // be read as one it is not.
                guard role == .duplicates else { throw damage("\(place()) is a page of fixed-size keys, outside a database's sorted duplicates") }
                counts.entries += try fixedSizeKeys(on: page, size: pageSize, place: place())
                return
            }
            let nodes = try layout(of: page, size: pageSize, place: place())
            var previous: UnsafeRawBufferPointer?
            for (index, offset) in nodes.enumerated() {
                try leafNode(page + offset, room: pageSize - offset, place: "\(place())'s node \(index)", of: record, role: role, database: database, counts: &counts)
                guard Self.keysInByteOrder(record, role) else { continue }
                let key = Self.key(of: page + offset)
                guard keys.contains(key), previous.map({ $0.precedesInKeyOrder(key) }) ?? true else {
                    throw damage("\(place())'s node \(index) holds a key out of order: lookups would not find it where it is")
                }
                previous = key
            }
        default:
            throw damage("\(place()) has flags 0x\(String(flags, radix: 16)), neither a branch nor a leaf")
        }
    }

    /// One leaf node with `room` bytes before its page's end, in a tree of `record`: its value in
    /// place, on overflow pages, or a nested database (a named one in the main database, or
    /// sorted duplicates in a database that keeps them).
    mutating func leafNode(
        _ node: UnsafeRawPointer, room: Int, place: @autoclosure () -> String, of record: DatabaseRecord, role: Role,
        database: String, counts: inout Counts
    ) throws(Damage) {
        let size = Self.valueSize(node)
        let flags = node.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        let keySize = Int(node.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        let value = Self.nodeHeaderSize + keySize
        guard flags & ~(Self.bigData | Self.subData | Self.dupData) == 0 else {
            throw damage("\(place()) has flags 0x\(String(flags, radix: 16))")
        }
        if flags & Self.bigData != 0 {
            guard flags == Self.bigData, value + 8 <= room else { throw damage("\(place()) runs past the page's end") }
            let first = node.loadUnaligned(fromByteOffset: value, as: UInt64.self)
            try claim(first, "\(place())'s value")
            let page = base + Int(first) * pageSize
            let pages = Int(page.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            guard page.loadUnaligned(as: UInt64.self) == first,
                  page.loadUnaligned(fromByteOffset: 10, as: UInt16.self) & ~Self.inMemory == Self.overflow,
                  pages >= 1, size <= pages * pageSize - Self.headerSize
            else { throw damage("\(place())'s value points to page \(first), which is not the overflow page of a value of \(size) bytes") }
            if pages > 1 { try claim(first + 1, count: pages - 1, "\(place())'s value of \(pages) pages") }
            counts.overflowPages += pages
            counts.entries += 1
            return
        }
        guard value + size <= room else { throw damage("\(place()) runs past the page's end") }
        let data = node + value
        let holdsDuplicates = role == .named && record.flags & Self.duplicateSort != 0
        switch flags {
        case 0:
            counts.entries += 1
        case Self.subData:
            // A named database: its record is the value, and its name the key.
            guard role == .main else { throw damage("\(place()) holds a named database, outside the main database") }
            guard size == Self.databaseRecordSize else { throw damage("\(place()) holds a database record of \(size) bytes") }
            let name = String(decoding: UnsafeRawBufferPointer(start: node + Self.nodeHeaderSize, count: keySize), as: UTF8.self)
            // Pages a damaged walk claimed may be another database's: they are let go.
            let claimed = seen
            do {
                try walk(DatabaseRecord(at: data), named: "database \"\(name)\"", role: .named)
            } catch {
                // (Pages past the file's end are claimed only by the free-page list, walked last.)
                seen = claimed
                damage.append(PageDamage(database: name, description: error.description))
            }
            counts.entries += 1
        case Self.dupData | Self.subData:
            guard holdsDuplicates else { throw damage("\(place()) holds sorted duplicates, in a database that keeps none") }
            guard size == Self.databaseRecordSize else { throw damage("\(place()) holds a database record of \(size) bytes") }
            var nested = Counts()
            try visit(tree: DatabaseRecord(at: data), role: .duplicates, database: database, counts: &nested)
            counts.branchPages += nested.branchPages
            counts.leafPages += nested.leafPages
            counts.overflowPages += nested.overflowPages
            counts.entries += nested.entries
        case Self.dupData:
            // Sorted duplicates kept in a page nested inside the value.
            guard holdsDuplicates else { throw damage("\(place()) holds sorted duplicates, in a database that keeps none") }
            guard size >= Self.headerSize else { throw damage("\(place()) holds a nested page of \(size) bytes") }
            let flags = data.loadUnaligned(fromByteOffset: 10, as: UInt16.self) & ~Self.inMemory
            if flags == Self.leaf | Self.subpage | Self.leaf2 {
                counts.entries += try fixedSizeKeys(on: data, size: size, place: "\(place())'s nested page")
            } else if flags == Self.leaf | Self.subpage {
                let nodes = try layout(of: data, size: size, place: "\(place())'s nested page")
                for offset in nodes {
                    let keySize = Int(data.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
                    guard offset + Self.nodeHeaderSize + keySize <= size else { throw damage("\(place())'s nested page runs past its end") }
                }
                counts.entries += nodes.count
            } else {
                throw damage("\(place())'s nested page has flags 0x\(String(flags, radix: 16))")
            }
        default:
            throw damage("\(place()) has flags 0x\(String(flags, radix: 16))")
        }
    }

    /// The node offsets of a page of `size` bytes, each checked to leave room for a node's header
    /// between the page's free space and its end.
    func layout(of page: UnsafeRawPointer, size: Int, place: @autoclosure () -> String) throws(Damage) -> [Int] {
        let lower = Int(page.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        let upper = Int(page.loadUnaligned(fromByteOffset: 14, as: UInt16.self))
        guard lower >= Self.headerSize, lower <= upper, upper <= size, (lower - Self.headerSize) % 2 == 0 else {
            throw damage("\(place()) has its free space at bytes \(lower) to \(upper) of \(size)")
        }
        return try (0..<(lower - Self.headerSize) / 2).map { index throws(Damage) in
            let offset = Int(page.loadUnaligned(fromByteOffset: Self.headerSize + 2 * index, as: UInt16.self))
            guard offset >= upper, offset + Self.nodeHeaderSize <= size else {
                throw damage("\(place())'s node \(index) starts at byte \(offset), outside bytes \(upper) to \(size) that hold its nodes")
            }
            return offset
        }
    }

    /// The number of keys on a page of fixed-size keys (`P_LEAF2`), checked to fit in `size` bytes.
    func fixedSizeKeys(on page: UnsafeRawPointer, size: Int, place: @autoclosure () -> String) throws(Damage) -> Int {
        let lower = Int(page.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        let keySize = Int(page.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard lower >= Self.headerSize, (lower - Self.headerSize) % 2 == 0 else { throw damage("\(place()) has its free space at byte \(lower)") }
        guard lower <= size, keySize > 0 else { throw damage("\(place()) holds keys of \(keySize) bytes, its free space at byte \(lower) of \(size)") }
        let keys = (lower - Self.headerSize) / 2
        guard Self.headerSize + keys * keySize <= size else { throw damage("\(place()) holds \(keys) keys of \(keySize) bytes, more than fit") }
        return keys
    }

    /// Checks the free-page list's values (each a count and that many page numbers) name pages in
    /// range and not in use, and returns how many pages they list.
    mutating func freePages() throws(Damage) -> Int {
        var lists: [(UnsafeRawPointer, Int, String)] = []
        if freeRecord.root != Self.noPage { collectValues(freeRecord.root, into: &lists) }
        var total = 0
        for (value, size, place) in lists {
            guard size >= 8 else { throw damage("\(place) holds a free-page list of \(size) bytes") }
            let count = value.loadUnaligned(as: UInt64.self)
            guard count <= UInt64((size - 8) / 8) else { throw damage("\(place) lists \(count) free pages in \(size) bytes") }
            for index in 0..<Int(count) {
                let page = value.loadUnaligned(fromByteOffset: 8 + 8 * index, as: UInt64.self)
                try claim(page, written: false, "the free-page list (\(place))")
            }
            total += Int(count)
        }
        return total
    }

    /// The values of a tree walked and checked already (its pages plain branches and leaves,
    /// every offset in bounds), with where each lies.
    func collectValues(_ number: UInt64, into values: inout [(UnsafeRawPointer, Int, String)]) {
        let page = base + Int(number) * pageSize
        let flags = page.loadUnaligned(fromByteOffset: 10, as: UInt16.self) & ~Self.inMemory
        let lower = Int(page.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        for index in 0..<(lower - Self.headerSize) / 2 {
            let node = page + Int(page.loadUnaligned(fromByteOffset: Self.headerSize + 2 * index, as: UInt16.self))
            if flags == Self.branch {
                collectValues(Self.childPage(node), into: &values)
                continue
            }
            let size = Self.valueSize(node)
            let keySize = Int(node.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
            var value = node + Self.nodeHeaderSize + keySize
            if node.loadUnaligned(fromByteOffset: 4, as: UInt16.self) & Self.bigData != 0 {
                value = base + Int(value.loadUnaligned(as: UInt64.self)) * pageSize + Self.headerSize
            }
            values.append((value, size, "page \(number)'s node \(index)"))
        }
    }

    /// The page a branch node points to: its 48-bit number in the node's first three fields.
    static func childPage(_ node: UnsafeRawPointer) -> UInt64 {
        let low = UInt64(node.loadUnaligned(as: UInt16.self)), high = UInt64(node.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        return low | high << 16 | UInt64(node.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) << 32
    }

    /// The size of a leaf node's value: its 32-bit size in the node's first two fields.
    static func valueSize(_ node: UnsafeRawPointer) -> Int {
        Int(node.loadUnaligned(as: UInt16.self)) | Int(node.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) << 16
    }

    func damage(_ what: String) -> Damage {
        Damage(description: what)
    }
}
