internal import CLMDB
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

/// A read-only view of the environment at one moment (a snapshot).
///
/// Buffers handed out point into the memory map: they are valid until the transaction ends
/// (and, in a write transaction, until the next write to the same database).
public class Transaction {
    let handle: OpaquePointer
    private(set) var isFinished = false

    init(handle: OpaquePointer) { self.handle = handle }

    func finish() {
        guard !isFinished else { return }
        isFinished = true
        mdb_txn_abort(handle)
    }

    func markCommitted() { isFinished = true }

    /// Calls `body` with the value stored under `key`, or `nil` when there is none.
    public func withValue<K: ContiguousBytes, R>(
        _ database: Database, _ key: K, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        let found: UnsafeRawBufferPointer? = try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val()
            let rc = mdb_get(handle, database.dbi, &k, &v)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "mdb_get(\(database.name))")
            return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        }
        return try body(found)
    }

    /// The value stored under `key` as a copy, or `nil`.
    public func get<K: ContiguousBytes>(_ database: Database, _ key: K) throws -> [UInt8]? {
        try withValue(database, key) { $0.map { Array($0) } }
    }

    /// Whether a value is stored under `key`.
    public func contains<K: ContiguousBytes>(_ database: Database, _ key: K) throws -> Bool {
        try withValue(database, key) { $0 != nil }
    }

    /// Opens a cursor over `database`, closed when `body` returns.
    public func withCursor<R>(_ database: Database, _ body: (Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, database.dbi, &cursor), "mdb_cursor_open(\(database.name))")
        let wrapped = Cursor(handle: cursor!)
        defer { mdb_cursor_close(cursor) }
        return try body(wrapped)
    }

    /// LMDB's counts for `database` as this transaction sees it.
    public func statistics(_ database: Database) throws -> DatabaseStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(handle, database.dbi, &stat), "mdb_stat(\(database.name))")
        return DatabaseStatistics(
            entries: stat.ms_entries, depth: Int(stat.ms_depth), pageSize: Int(stat.ms_psize),
            branchPages: stat.ms_branch_pages, leafPages: stat.ms_leaf_pages, overflowPages: stat.ms_overflow_pages
        )
    }
}

extension Transaction {
    /// Opens the named database if it exists (`nil` when it does not); its handle lasts only if the
    /// transaction commits.
    func openExistingDatabase(_ name: String, options: Database.Options) throws -> Database? {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(handle, name, options.rawValue, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_dbi_open(\(name))")
        return Database(dbi: dbi, name: name)
    }

    /// Ends a read-only transaction by committing it, so that the databases it opened stay open
    /// for the environment. Nothing may use the transaction afterwards.
    func commitKeepingDatabases() throws {
        markCommitted()
        try check(mdb_txn_commit(handle), "mdb_txn_commit(read)")
    }
}

/// The environment's one write transaction. Every change commits together or not at all.
public final class WriteTransaction: Transaction {
    /// A write found the map full. The environment then grows the map and runs the transaction's
    /// body again, whatever error the body made of it (a caller may rewrap errors with context).
    private(set) var ranOutOfMap = false

    /// Set in the transaction's body, the commit is run through it (`Environment.write`): for
    /// something of the caller's to change in one step with the commit, as what an interruption
    /// would say of it does. It runs the commit once and lets its error through; one that returns
    /// without running it fails the write, which commits nothing.
    public var aroundCommit: CommitWrapper?

    /// What runs a transaction's commit, given it (`aroundCommit`).
    public typealias CommitWrapper = (_ commit: () throws -> Void) throws -> Void

    /// `check` for writes, noting a full map.
    private func checkWrite(_ result: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
        if result == MDB_MAP_FULL { ranOutOfMap = true }
        try check(result, operation())
    }

    func openDatabase(_ name: String, options: Database.Options) throws -> Database {
        var dbi: MDB_dbi = 0
        try checkWrite(mdb_dbi_open(handle, name, options.rawValue | UInt32(MDB_CREATE), &dbi), "mdb_dbi_open(\(name))")
        return Database(dbi: dbi, name: name)
    }

    func commit() throws {
        guard !isFinished else { throw LMDBError(code: .invalid, operation: "mdb_txn_commit (run twice)") }
        markCommitted()
        let environment = mdb_txn_env(handle)
        let result = mdb_txn_commit(handle)
        // LMDB reports a write that wrote less than asked, which a full disk makes, as EIO.
        if result == EIO, let environment, Self.fileSystemIsFull(environment) {
            throw LMDBError(code: .noSpace, operation: "mdb_txn_commit")
        }
        // So is one the process's file size limit (`ulimit -f`) cut short, where the map reaches past it.
        if result == EIO, let environment, Self.fileSizeLimited(environment) {
            throw LMDBError(code: .fileTooLarge, operation: "mdb_txn_commit")
        }
        try checkWrite(result, "mdb_txn_commit")
    }

    /// Whether the file system holding the environment's data file has less than a megabyte free
    /// for this process: what is left after a commit's writes filled it.
    private static func fileSystemIsFull(_ environment: OpaquePointer) -> Bool {
        var descriptor: mdb_filehandle_t = -1
        var status = statvfs()
        guard mdb_env_get_fd(environment, &descriptor) == MDB_SUCCESS, fstatvfs(descriptor, &status) == 0 else { return false }
        // Blocks for an unprivileged process; one with privileges may also use those kept aside.
        let blocks = geteuid() == 0 ? status.f_bfree : status.f_bavail
        return Int(blocks) * Int(status.f_frsize) < 1 << 20
    }

    /// Whether this process may not grow a file as far as the environment's map reaches.
    private static func fileSizeLimited(_ environment: OpaquePointer) -> Bool {
        #if canImport(Glibc)
        let (resource, unlimited) = (__rlimit_resource_t(RLIMIT_FSIZE.rawValue), rlim_t.max)
        #else
        let (resource, unlimited) = (RLIMIT_FSIZE, RLIM_INFINITY)
        #endif
        var limit = rlimit()
        var info = MDB_envinfo()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur != unlimited, mdb_env_info(environment, &info) == MDB_SUCCESS else { return false }
        return UInt64(limit.rlim_cur) < UInt64(info.me_mapsize)
    }

    /// Stores `value` under `key`.
    /// - Throws: `keyExists` with `.noOverwrite` on an existing key or `.append` out of order.
    public func put<K: ContiguousBytes, V: ContiguousBytes>(
        _ database: Database, _ key: K, _ value: V, options: PutOptions = []
    ) throws {
        try key.withUnsafeBytes { keyBytes in
            try value.withUnsafeBytes { valueBytes in
                var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var v = MDB_val(mv_size: valueBytes.count, mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress))
                try checkWrite(mdb_put(handle, database.dbi, &k, &v, options.rawValue), "mdb_put(\(database.name))")
            }
        }
    }

    /// Reserves `count` bytes under `key` and lets `body` fill them in place (no extra copy).
    public func put<K: ContiguousBytes>(
        _ database: Database, _ key: K, reserving count: Int, options: PutOptions = [],
        _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val(mv_size: count, mv_data: nil)
            try checkWrite(
                mdb_put(handle, database.dbi, &k, &v, options.rawValue | UInt32(MDB_RESERVE)),
                "mdb_put(\(database.name))"
            )
            try body(UnsafeMutableRawBufferPointer(start: v.mv_data, count: count))
        }
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    public func delete<K: ContiguousBytes>(_ database: Database, _ key: K) throws -> Bool {
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let rc = mdb_del(handle, database.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try checkWrite(rc, "mdb_del(\(database.name))")
            return true
        }
    }

    /// Removes every entry of `database`, keeping the database itself.
    public func clear(_ database: Database) throws {
        try checkWrite(mdb_drop(handle, database.dbi, 0), "mdb_drop(\(database.name))")
    }
}
