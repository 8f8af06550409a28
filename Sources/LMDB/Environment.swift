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
import Dispatch
import Synchronization

/// An LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// LMDB forbids opening one environment twice in a process, so `open(at:)` hands back the
/// instance already open for a path. Transactions are closure-scoped and tied to the calling
/// thread for their whole life: never hold one across an `await`. Several processes may share
/// an environment; LMDB's lock file serialises their writers.
public final class Environment: @unchecked Sendable {
    // @unchecked: `handle` is immutable after init and LMDB's MDB_env is thread-safe with MDB_NOTLS;
    // the database cache is guarded by `databases`, map resizing by `resizeLock`.

    /// How an environment is opened.
    public struct Options: Sendable, Hashable {
        /// The initial map size in bytes; the map doubles whenever a write fills it.
        public var mapSize: Int = 1 << 30
        /// The most named databases the environment may hold.
        public var maxDatabases: Int = 64
        /// The most concurrent read transactions across all processes: every command takes one
        /// while it opens the store and while it reads, so a store serves this many commands at
        /// once (a slot is 64 bytes of the lock file). LMDB reads it from the lock file's length,
        /// which a process asking for more extends and none shrinks.
        public var maxReaders: Int = 512
        /// Skip the fsync at commit. Only benchmarks and throwaway stores should set it: an
        /// acknowledged write may then be lost on a crash of the machine.
        public var unsafeNoSync: Bool = false

        public init(mapSize: Int = 1 << 30, maxDatabases: Int = 64, maxReaders: Int = 512, unsafeNoSync: Bool = false) {
            self.mapSize = mapSize
            self.maxDatabases = maxDatabases
            self.maxReaders = maxReaders
            self.unsafeNoSync = unsafeNoSync
        }
    }

    /// The directory of the environment.
    public let path: String
    /// Opened read-only, as its files cannot be written by this process (`open(at:options:)`).
    public let isReadOnly: Bool

    /// Whether each commit reaches the disk before it returns, as LMDB's own flags say (none of
    /// `MDB_NOSYNC`, `MDB_NOMETASYNC`, `MDB_MAPASYNC`): what makes an acknowledged write durable.
    public var syncsEachCommit: Bool {
        var flags: UInt32 = 0
        guard mdb_env_get_flags(handle, &flags) == MDB_SUCCESS else { return false }
        return flags & UInt32(MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC) == 0
    }
    let handle: OpaquePointer
    /// The lock file's descriptor the handle was opened under (`-1` for none).
    private let lockFile: Int32
    private let databases = Mutex<[String: Database]>([:])
    private let resizeLock = ReadWriteLock()
    private let writerWait = Mutex<(delay: Double, notice: @Sendable (_ waiting: Bool) -> Void)?>(nil)

    private static let registry = Mutex<[String: Weak]>([:])
    private struct Weak { weak var environment: Environment? }

    /// Opens (creating if needed) the environment in the directory `path`.
    ///
    /// The directory and its files are created readable by their owner only. Stale reader
    /// slots left by dead processes are cleared. Returns the instance already open in this
    /// process for the same path, if any, as it was opened: `options` are then not looked at.
    ///
    /// An environment this process may read but not write (a backup on read-only media, another
    /// user's files shared for reading) is opened read-only (`isReadOnly`): snapshots read it,
    /// and a write fails with `readOnly` before it begins. When its lock file cannot be written
    /// either, it is read without LMDB's reader table, so a writer elsewhere (one that can write
    /// it) cannot tell that pages are being read; reading a store while its owner writes to it
    /// is then not safe.
    /// - Throws: `LMDBError` when the directory cannot be created or resolved (`realpath(3)`:
    ///   a link followed by `..` resolves as the operating system resolves it), or LMDB refuses it.
    public static func open(at path: String, options: Options = Options()) throws -> Environment {
        var status = stat()
        let madeDirectory: Bool
        if stat(path, &status) == 0 {
            if status.st_mode & S_IFMT != S_IFDIR { throw LMDBError(code: .notADirectory, operation: "open \(path)") }
            madeDirectory = false
        } else {
            try makeDirectory(path)
            madeDirectory = true
        }
        // One key per directory however it is named (relative, through links, with `..`). A
        // directory whose full path is not UTF-8 (a working directory named so) is opened by the
        // path given, which a string holds as it is, and keyed by its bytes.
        guard let resolved = realpath(path, nil) else { throw LMDBError(code: .init(rawValue: errno), operation: "resolve \(path)") }
        let text = String(validatingCString: resolved)
        let key = text ?? "bytes " + UnsafeBufferPointer(start: resolved, count: strlen(resolved)).map { String(UInt8(bitPattern: $0), radix: 16) }.joined(separator: " ")
        free(resolved)
        return try registry.withLock { registry in
            if let existing = registry[key]?.environment { return existing }
            let environment: Environment
            do {
                environment = try Environment(path: text ?? path, options: options)
            } catch {
                // A directory this open made, left empty by a refusal (a full disk's), goes too.
                if madeDirectory, rmdir(path) == 0 { synchronizeParent(of: path) }
                throw error
            }
            registry[key] = Weak(environment: environment)
            return environment
        }
    }

    /// Makes the directory `path` (mode 0700) and any parents missing, as `mkdir -p` does.
    /// - Throws: `LMDBError` with the system's reason: `exists` where a link to nothing (or
    ///   another file) stands in the way, `notADirectory` where a parent is a file, `accessDenied`…
    /// Each directory made is synced into its parent, so that a store's first acknowledged
    /// write does not rest on the file system keeping the new names of its own accord.
    public static func makeDirectory(_ path: String) throws(LMDBError) {
        guard mkdir(path, 0o700) != 0 else { return synchronizeParent(of: path) }
        var code = errno
        if code == ENOENT, let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex {
            try makeDirectory(String(path[..<slash]))
            if mkdir(path, 0o700) == 0 { return synchronizeParent(of: path) }
            code = errno
        }
        // Made meanwhile by another process, or named with `/.` at its end.
        var status = stat()
        if code == EEXIST, stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { return }
        throw LMDBError(code: .init(rawValue: code), operation: "create directory \(path)")
    }

    /// Syncs the directory holding `path`, which names a file or directory just made (or renamed) there.
    public static func synchronizeParent(of path: String) {
        // `new/` names `new`, whose parent is `.`.
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        let parent = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { $0 == path.utf8.startIndex ? "/" : String(path[..<$0]) } ?? "."
        synchronizeDirectory(parent)
    }

    /// A new LMDB handle opened on `path` with `flags` and the descriptor of the lock file it was
    /// opened under (`-1` for none), to be closed after the handle; or `nil` and LMDB's error (both closed).
    private static func openHandle(at path: String, options: Options, flags: UInt32) throws -> (handle: OpaquePointer?, code: Int32, lockFile: Int32) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: .invalid, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, MDB_dbi(options.maxDatabases)), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, UInt32(options.maxReaders)), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, options.mapSize), "mdb_env_set_mapsize")
        } catch {
            mdb_env_close(env)
            throw error
        }
        let lockFile: Int32
        do {
            lockFile = flags & UInt32(MDB_NOLOCK) == 0
                ? try openLockFile(at: path, readers: flags & UInt32(MDB_RDONLY) == 0 ? options.maxReaders : nil) : -1
        } catch {
            mdb_env_close(env)
            throw error
        }
        // The first process to open an environment (LMDB's lock on the lock file's first byte
        // held alone) clears the lock file's shared state, then sets it from the data file's
        // last commit before sharing that lock. Killed in between, it lets go of the lock, and a
        // process waiting to share it would trust the cleared state: it reads an older commit,
        // and its own commit overwrites an acknowledged one. Opened one Folio process at a time
        // under this lock instead, the next one waits for the killed one's end, then opens alone
        // and sets the state up anew. Held only while LMDB opens; the descriptor stays open with
        // the handle, as closing any descriptor of the lock file would let go of LMDB's own locks
        // on it. (Other LMDB programs do not take it: what they leave is refused as `staleLockFile`
        // by the first read below and by every write.)
        if lockFile >= 0 { lockOpening(lockFile, F_WRLCK) }
        let rc = mdb_env_open(env, path, flags, 0o600)
        if lockFile >= 0 { lockOpening(lockFile, F_UNLCK) }
        guard rc == MDB_SUCCESS else {
            mdb_env_close(env)
            if lockFile >= 0 { close(lockFile) }
            return (nil, rc, -1)
        }
        return (env, rc, lockFile)
    }

    private init(path: String, options: Options) throws {
        var flags = UInt32(MDB_NOTLS)
        if options.unsafeNoSync { flags |= UInt32(MDB_NOSYNC) }
        func mayNotWrite(_ code: Int32) -> Bool { code == EACCES || code == EROFS }
        var status = stat()
        let newDataFile = stat(path + "/data.mdb", &status) != 0 && errno == ENOENT
        let newLockFile = lstat(path + "/lock.mdb", &status) != 0 && errno == ENOENT
        // Meta pages LMDB would misread (a page size of 0, a last page past any map) stop it with
        // a fault or keep it mapping without end: named here, before it reads them.
        if !newDataFile, let damage = MetaPages.headerDamage(path: path) {
            throw LMDBError(code: .damagedPage, operation: "\(path)/data.mdb: \(damage): a meta page (one of the first two, where LMDB says where its data is) is damaged")
        }
        let first = try Self.openHandle(at: path, options: options, flags: flags)
        // A data file LMDB has just made is synced into the store's directory with its lock file.
        if newDataFile, first.handle != nil { synchronizeDirectory(path) }
        var opened = first.handle
        var lockFile = first.lockFile
        // Files this process may not write: read-only, then (a lock file it may not write
        // either) without the reader table. Any other failure is reported as the first one.
        var fallbacks = mayNotWrite(first.code) ? [UInt32(MDB_RDONLY), UInt32(MDB_RDONLY | MDB_NOLOCK)] : []
        while opened == nil, !fallbacks.isEmpty {
            let again = try Self.openHandle(at: path, options: options, flags: flags | fallbacks.removeFirst())
            opened = again.handle
            lockFile = again.lockFile
            if !mayNotWrite(again.code) { break }
        }
        let readOnly = opened != nil && first.handle == nil
        guard let env = opened else {
            // LMDB reads the lock file before the data file, and only when another process has
            // the store open (the first one to open it makes the lock file anew).
            let unreadable = first.code == MDB_INVALID || first.code == MDB_VERSION_MISMATCH
            let lockFile = unreadable && hasLMDBDataFile(at: path) && Self.isOpenElsewhere(at: path)
            // A data file this LMDB cannot read is refused by every process, so a lock file this
            // open made beside it serves no other: it goes, and the directory is left as found.
            if unreadable, newLockFile { removeUnheldLockFile(at: path) }
            throw LMDBError(code: lockFile ? .foreignLockFile : .init(rawValue: first.code), operation: "mdb_env_open \(path)")
        }
        // Reader slots left by processes that died are cleared before this one takes a slot: a
        // table full of them would refuse the first read below.
        var dead: Int32 = 0
        mdb_reader_check(env, &dead)
        // Opening the main database once sets its key comparator for every later transaction.
        var txn: OpaquePointer?
        var main: MDB_dbi = 0
        do {
            // Read before the snapshot begins, which is then at most one commit behind it (a
            // commit's meta page is in the file a moment before its number is in the lock file).
            let lastCommit = Self.dataFile(env).flatMap { MetaPages.read(descriptor: $0.descriptor, pageSize: $0.pageSize) }.map(MetaPages.lastCommit)
            try check(Self.beginFirstRead(env, &txn), "mdb_txn_begin(read)")
            let named = UInt64(mdb_txn_id(txn))
            if let lastCommit, lastCommit >= named + 2 {
                mdb_txn_abort(txn)
                throw LMDBError(code: .staleLockFile, operation: Self.staleLockFile(path, names: named, last: lastCommit))
            }
            try check(mdb_dbi_open(txn, nil, 0, &main), "mdb_dbi_open(main)")
            try check(mdb_txn_commit(txn), "mdb_txn_commit")
        } catch {
            mdb_env_close(env)
            if lockFile >= 0 { close(lockFile) }
            throw error
        }
        self.handle = env
        self.lockFile = lockFile
        self.path = path
        self.isReadOnly = readOnly
        // A data file cut short (an unfinished copy) would stop the process with SIGBUS at the
        // first read of a page past its end: it is refused here instead (`deinit` closes LMDB),
        // and a lock file this open made beside it goes, as above.
        do {
            try checkLength()
        } catch {
            if newLockFile { removeUnheldLockFile(at: path) }
            throw error
        }
    }

    deinit {
        mdb_env_close(handle)
        if lockFile >= 0 { close(lockFile) }
    }

    /// Whether another process has the environment at `path` open. LMDB holds a lock on the first
    /// byte of its lock file for as long as it has the environment open (alone while it makes the
    /// data file, whose first pages it writes after making it empty).
    public static func isOpenElsewhere(at path: String) -> Bool { lockFileIsHeld(at: path) }

    /// Begins an environment's first read transaction. A store larger than the default map is
    /// mapped at its used size exactly, so another process's commit that grows the file between
    /// `mdb_env_open` and here makes LMDB answer `MDB_MAP_RESIZED`: the map is set to the new size
    /// and the read begun again.
    private static func beginFirstRead(_ env: OpaquePointer, _ txn: inout OpaquePointer?) -> Int32 {
        // A few growths at most come between; a map that never fits is a damaged meta page's.
        for _ in 0..<100 {
            let rc = beginRead(env, &txn)
            guard rc == MDB_MAP_RESIZED, mdb_env_set_mapsize(env, 0) == MDB_SUCCESS else { return rc }
        }
        return MDB_MAP_RESIZED
    }

    /// Begins a read transaction. A reader table full of slots of processes that died since
    /// they were last cleared is cleared, and the read begun once more; one full of live readers
    /// is waited on (they are commands, which end), for up to `readerWait` seconds. Slots are
    /// looked for every 20 ms, dead readers (a lock query per slot) once a second.
    private static func beginRead(_ env: OpaquePointer, _ txn: inout OpaquePointer?) -> Int32 {
        let start = ContinuousClock.now
        var checked = start - .seconds(1)
        while true {
            let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
            guard rc == MDB_READERS_FULL else { return rc }
            if ContinuousClock.now - checked >= .seconds(1) {
                checked = .now
                var dead: Int32 = 0
                if mdb_reader_check(env, &dead) == MDB_SUCCESS, dead > 0 { continue }
            }
            guard ContinuousClock.now - start < readerWait else { return rc }
            usleep(20_000)
        }
    }

    /// How long a read waits for a slot in a reader table full of live readers.
    public static let readerWait = Duration.seconds(10)

    /// Opens (creating if needed) the named database and caches its handle.
    ///
    /// Call this at start, outside any transaction of the calling thread.
    public func database(_ name: String, options: Database.Options = []) throws -> Database {
        try databases([name], options: options)[0]
    }

    /// Opens (creating those missing) the named databases and caches their handles, in `names` order.
    ///
    /// Those that exist are opened together in one read-only transaction, so opening a store
    /// takes no writer's lock and does not wait for another process's write (an import may hold
    /// it for minutes); only missing ones are created, in one write transaction.
    /// Call this at start, outside any transaction of the calling thread.
    /// - Parameter creating: run in the write transaction that creates missing ones, with every
    ///   handle in `names` order, to write what must commit with them (a new store's mark).
    public func databases(
        _ names: [String], options: Database.Options = [], creating: ((WriteTransaction, [Database]) throws -> Void)? = nil
    ) throws -> [Database] {
        try databases.withLock { cache in
            try openExisting(names, options: options, into: &cache)
            let missing = names.filter { cache[$0] == nil }
            if !missing.isEmpty {
                let created = try write { txn in
                    let created = try missing.map { try txn.openDatabase($0, options: options) }
                    let all = Dictionary(uniqueKeysWithValues: created.map { ($0.name, $0) }).merging(cache) { new, _ in new }
                    try creating?(txn, names.map { all[$0]! })
                    return created
                }
                for database in created { cache[database.name] = database }
            }
            return names.map { cache[$0]! }
        }
    }

    /// The named database if it exists, opened (in a read-only transaction) without creating it.
    /// Call this at start, outside any transaction of the calling thread.
    public func existingDatabase(_ name: String, options: Database.Options = []) throws -> Database? {
        try databases.withLock { cache in
            try openExisting([name], options: options, into: &cache)
            return cache[name]
        }
    }

    /// Opens those of `names` that exist and are not in `cache` yet, together in one read-only
    /// transaction. The caller holds the cache's lock: LMDB lets only one transaction at a time in a
    /// process open databases.
    private func openExisting(_ names: [String], options: Database.Options, into cache: inout [String: Database]) throws {
        let unopened = names.filter { cache[$0] == nil }
        guard !unopened.isEmpty else { return }
        // A read transaction that commits keeps the handles it opened (an abort would close them).
        let found = try read { txn in
            let found = try unopened.compactMap { try txn.openExistingDatabase($0, options: options) }
            try txn.commitKeepingDatabases()
            return found
        }
        for database in found { cache[database.name] = database }
    }

    /// The unnamed main database, whose keys are the names of the named databases.
    public var mainDatabase: Database { Database(dbi: 1, name: "(main)") } // LMDB's MAIN_DBI

    /// The names of the named databases, in the main database's order (their bytes').
    public func databaseNames() throws -> [String] {
        try read { txn in
            try txn.withCursor(mainDatabase) { cursor in
                var names: [String] = []
                var entry = try cursor.first()
                while let current = entry {
                    names.append(String(decoding: current.key, as: UTF8.self))
                    entry = try cursor.next()
                }
                return names
            }
        }
    }

    /// Runs `body` in a read-only snapshot transaction.
    ///
    /// Values handed out inside `body` point into the memory map and are valid only until it returns.
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            let outcome: Result<T, any Error>? = resizeLock.withReadLock {
                var txn: OpaquePointer?
                let rc = Self.beginRead(handle, &txn)
                if rc == MDB_MAP_RESIZED { return nil }
                do {
                    try check(rc, "mdb_txn_begin(read)")
                    let transaction = Transaction(handle: txn!)
                    defer { transaction.finish() }
                    return .success(try body(transaction))
                } catch {
                    return .failure(error)
                }
            }
            if let outcome { return try outcome.get() }
            adoptResizedMap()
        }
    }

    /// Runs `body` in the write transaction: returning commits, throwing aborts.
    ///
    /// Writers from every process are serialised by LMDB. When the map fills, the transaction is
    /// aborted, the map doubled and `body` run again from the start (whatever error `body` made of
    /// the full map), so `body` must not have effects outside the transaction that cannot be
    /// repeated. The commit is synced to disk unless the environment was opened with `unsafeNoSync`.
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        guard !isReadOnly else { throw LMDBError(code: .readOnly, operation: path) }
        while true {
            let outcome: Result<T, any Error>? = resizeLock.withReadLock {
                var txn: OpaquePointer?
                let rc = beginWrite(&txn)
                if rc == MDB_MAP_RESIZED { return nil }
                do {
                    try check(rc, "mdb_txn_begin(write)")
                } catch {
                    return .failure(error)
                }
                let transaction = WriteTransaction(handle: txn!)
                if let refusal = metaPagesRefusal(lastCommitNamed: UInt64(mdb_txn_id(txn)) - 1) {
                    transaction.finish()
                    return .failure(refusal)
                }
                do {
                    let value = try body(transaction)
                    if let around = transaction.aroundCommit {
                        try around(transaction.commit)
                        // One that returned without running the commit committed nothing.
                        guard transaction.isFinished else { throw LMDBError(code: .invalid, operation: "mdb_txn_commit (never run)") }
                    } else {
                        try transaction.commit()
                    }
                    return .success(value)
                } catch let error as LMDBError where error.code == .mapFull || error.code == .mapResized {
                    transaction.finish()
                    return nil
                } catch where transaction.ranOutOfMap {
                    transaction.finish()
                    return nil
                } catch {
                    transaction.finish()
                    return .failure(error)
                }
            }
            if let outcome { return try outcome.get() }
            grow()
        }
    }

    /// The descriptor and page size of the data file of the open environment `env`.
    private static func dataFile(_ env: OpaquePointer) -> (descriptor: Int32, pageSize: Int)? {
        var statistics = MDB_stat()
        var descriptor: mdb_filehandle_t = -1
        guard mdb_env_stat(env, &statistics) == MDB_SUCCESS, mdb_env_get_fd(env, &descriptor) == MDB_SUCCESS else { return nil }
        return (descriptor, Int(statistics.ms_psize))
    }

    /// What a `staleLockFile` error says of the store at `path`.
    private static func staleLockFile(_ path: String, names: UInt64, last: UInt64) -> String {
        "\(path): its lock file (lock.mdb) names commit \(names) as the last, where its data file's last is \(last)"
    }

    /// Why a write whose lock file names `named` as the last commit must not go on, from the two
    /// meta pages read from the data file, or `nil`. Only a write transaction's holder, which no
    /// other process's commit can overlap, may take a difference for damage, and there the lock
    /// file names the last commit exactly:
    /// - meta pages not as LMDB writes them (`MetaPages.damage`): a commit on top of a damaged
    ///   one would overwrite the last commit for good;
    /// - a lock file naming another commit than the data file's last (`staleLockFile`): this
    ///   commit would overwrite an acknowledged one.
    private func metaPagesRefusal(lastCommitNamed named: UInt64) -> LMDBError? {
        guard let (descriptor, pageSize) = Self.dataFile(handle), let metas = MetaPages.read(descriptor: descriptor, pageSize: pageSize) else { return nil }
        if let damage = MetaPages.damage(metas, descriptor: descriptor, pageSize: pageSize) {
            return LMDBError(code: .damagedMeta, operation: "\(path)/data.mdb: \(damage)")
        }
        let last = MetaPages.lastCommit(metas)
        return last == named ? nil : LMDBError(code: .staleLockFile, operation: Self.staleLockFile(path, names: named, last: last))
    }

    /// Returns once every write transaction that began before this call, in any process, has
    /// committed or aborted: it takes the writer's lock and lets it go, writing nothing. (An
    /// environment this process may only read has no writer to wait for.)
    public func waitForRunningWrite() throws {
        guard !isReadOnly else { return }
        struct NothingToWrite: Error {}
        do {
            try write { _ in throw NothingToWrite() }
        } catch is NothingToWrite {
        } catch let error as LMDBError where error.code == .damagedMeta {
            // Refused once it held the writer's lock: the wait is over, and nothing is written.
        }
    }

    /// Calls `notice(true)` (on another thread) whenever a write transaction of this process has
    /// waited `delay` seconds to begin: another process holds the writer's lock, as an import or a
    /// rebuild does for as long as it runs, and LMDB has no way to ask first. Then `notice(false)`
    /// once that wait is over, before the transaction's work begins. `nil` stops the notices.
    /// For a command line to show why it waits, for as long as it waits.
    public func noticeWaitsForWriter(after delay: Double = 0.5, _ notice: (@Sendable (_ waiting: Bool) -> Void)?) {
        writerWait.withLock { $0 = notice.map { (delay, $0) } }
    }

    /// Begins the write transaction, telling the writer-wait notice if it waits long, and when that
    /// wait ends.
    private func beginWrite(_ txn: inout OpaquePointer?) -> Int32 {
        guard let (delay, notice) = writerWait.withLock({ $0 }) else { return mdb_txn_begin(handle, nil, 0, &txn) }
        let wait = WriterWait()
        let timer = DispatchWorkItem {
            wait.told.withLock { told in
                guard told == false else { return }
                told = true
                notice(true)
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + delay, execute: timer)
        let status = mdb_txn_begin(handle, nil, 0, &txn)
        // Not run at all when the write began in time; one already running is settled by the lock.
        timer.cancel()
        wait.told.withLock { told in
            if told == true { notice(false) }
            told = nil
        }
        return status
    }

    /// One wait for the writer: whether its start was told (`nil` once it is over). Told under
    /// the lock, so that the end of a wait is never told before its start.
    private final class WriterWait: Sendable {
        let told = Mutex<Bool?>(false)
    }

    /// The current size of the memory map in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Bytes LMDB uses in its data file (pages up to the last one written).
    public var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        let (bytes, overflow) = (info.me_last_pgno + 1).multipliedReportingOverflow(by: Int(stat.ms_psize))
        return overflow ? .max : bytes
    }

    /// Grows the memory map to at least `bytes` now, so that a long write transaction known to
    /// need that much does not fill the map and run again from the start. Never shrinks it.
    ///
    /// Call it outside any transaction of this process. The data file grows only as pages are written.
    public func reserve(_ bytes: Int) {
        resizeLock.withWriteLock {
            var info = MDB_envinfo()
            mdb_env_info(handle, &info)
            guard bytes > info.me_mapsize else { return }
            var size = info.me_mapsize
            while size < bytes { size *= 2 }
            _ = mdb_env_set_mapsize(handle, size)
        }
    }

    private func adoptResizedMap() {
        resizeLock.withWriteLock { _ = mdb_env_set_mapsize(handle, 0) }
    }

    private func grow() {
        resizeLock.withWriteLock {
            // Double this process's size. (A larger size set by another process shows up as
            // MDB_MAP_RESIZED at the next transaction's start, and is adopted there.)
            var info = MDB_envinfo()
            mdb_env_info(handle, &info)
            _ = mdb_env_set_mapsize(handle, info.me_mapsize * 2)
        }
    }
}

/// A readers-writer lock: transactions share it, resizing the map takes it alone
/// (LMDB requires that no transaction of the process is active while the map is resized).
final class ReadWriteLock: @unchecked Sendable {
    // @unchecked: the pthread lock is heap-allocated once and only used through its own API.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func withReadLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func withWriteLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// Takes (`F_WRLCK`, waiting for it) or lets go of (`F_UNLCK`) the lock Folio opens LMDB under: a
/// byte of the lock file far past any LMDB locks (the first byte, and each reader's process id),
/// so that the two never meet, on every system (where `flock(2)` and byte locks share one list,
/// a lock of the whole file would wait for every process that has the store open). A file system
/// that cannot lock leaves it untaken, as LMDB would be without its own.
private func lockOpening(_ descriptor: Int32, _ type: Int32) {
    var lock = flock()
    lock.l_type = Int16(type)
    lock.l_whence = Int16(SEEK_SET)
    lock.l_start = 1 << 62
    lock.l_len = 1
    while fcntl(descriptor, type == F_UNLCK ? F_SETLK : F_SETLKW, &lock) != 0, errno == EINTR {}
}

/// Opens the lock file LMDB keeps in the store's directory at `path` for reading and writing,
/// making it if there is none; `-1` when this process may not.
///
/// With `readers` (an open that may write), it takes the file's disk blocks. LMDB makes a lock
/// file by setting its length and writing through a map of it: on a full disk that write stops
/// the process with SIGBUS, where a write would fail. A new lock file's blocks are taken first
/// (more than LMDB's header and a slot of 64 bytes per reader need, its length left to LMDB,
/// which sets the reader count from it), so a full disk is an error here. A lock file shorter than
/// this process's table (an earlier Folio's, of fewer slots), which LMDB will extend, has the
/// blocks of the rest taken too, as far as the disk has them: a full disk does not keep a query
/// from a store that is there.
private func openLockFile(at path: String, readers: Int?) throws -> Int32 {
    // One this process may not write is left to LMDB, which then reads without the reader
    // table (and never sets up the shared state another process could be waiting on).
    let descriptor = open(path + "/lock.mdb", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return -1 }
    guard let readers else { return descriptor }
    var status = stat()
    let length = (readers * 64 + 4096 + 4095) / 4096 * 4096
    guard fstat(descriptor, &status) == 0, status.st_size < length else { return descriptor }
    let code = folio_allocate(descriptor, Int64(length))
    if status.st_size == 0, code == ENOSPC || code == EDQUOT {
        // An empty lock file, just made (LMDB sizes one as it opens it): it goes, as nothing was
        // written, unless another process has opened it meanwhile.
        close(descriptor)
        removeUnheldLockFile(at: path)
        throw LMDBError(code: .init(rawValue: code), operation: "make the lock file of \(path)")
    }
    return descriptor
}

/// Removes the lock file at `path` that an open made for a store it then refused, unless another
/// process has opened it meanwhile.
private func removeUnheldLockFile(at path: String) {
    if !lockFileIsHeld(at: path) { unlink(path + "/lock.mdb") }
}

/// Whether another process holds a lock on the first byte of the lock file at `path`
/// (`Environment.isOpenElsewhere(at:)`).
private func lockFileIsHeld(at path: String) -> Bool {
    let descriptor = open(path + "/lock.mdb", O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var lock = flock()
    lock.l_type = Int16(F_WRLCK)
    lock.l_whence = Int16(SEEK_SET)
    lock.l_start = 0
    lock.l_len = 1
    return fcntl(descriptor, F_GETLK, &lock) == 0 && lock.l_type != Int16(F_UNLCK)
}

/// Whether the data file at `path` begins with an LMDB meta page of the version this LMDB
/// writes: its page header, then the magic number and the data version.
private func hasLMDBDataFile(at path: String) -> Bool {
    let descriptor = open(path + "/data.mdb", O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var meta: (UInt32, UInt32) = (0, 0)
    let pageHeader = 16
    let read = withUnsafeMutableBytes(of: &meta) { pread(descriptor, $0.baseAddress, $0.count, off_t(pageHeader)) }
    return read == MemoryLayout.size(ofValue: meta) && UInt32(littleEndian: meta.0) == 0xBEEF_C0DE && UInt32(littleEndian: meta.1) == 1
}

/// Makes the names in the directory at `path` durable (after a file or directory is made in it,
/// or renamed or linked into it), as far as the file system allows; a directory that cannot be
/// opened is left as it is.
public func synchronizeDirectory(_ path: String) {
    let directory = open(path, O_RDONLY | O_DIRECTORY)
    guard directory >= 0 else { return }
    _ = fsync(directory)
    close(directory)
}
