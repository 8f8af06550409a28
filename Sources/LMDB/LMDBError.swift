internal import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure reported by LMDB, carrying its result code.
///
/// Business code rarely inspects the code; the store reacts to the few that matter
/// (`mapFull` grows the map, `mapResized` adopts another process's growth).
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An LMDB or system result code. New codes can appear without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let rawValue: Int32
        init(rawValue: Int32) { self.rawValue = rawValue }

        public static let keyExists = Code(rawValue: MDB_KEYEXIST)
        public static let notFound = Code(rawValue: MDB_NOTFOUND)
        public static let corrupted = Code(rawValue: MDB_CORRUPTED)
        public static let versionMismatch = Code(rawValue: MDB_VERSION_MISMATCH)
        public static let invalid = Code(rawValue: MDB_INVALID)
        public static let mapFull = Code(rawValue: MDB_MAP_FULL)
        public static let databasesFull = Code(rawValue: MDB_DBS_FULL)
        public static let readersFull = Code(rawValue: MDB_READERS_FULL)
        public static let mapResized = Code(rawValue: MDB_MAP_RESIZED)
        public static let badTransaction = Code(rawValue: MDB_BAD_TXN)
        public static let badValueSize = Code(rawValue: MDB_BAD_VALSIZE)
        public static let badDatabase = Code(rawValue: MDB_BAD_DBI)
        public static let accessDenied = Code(rawValue: 13) // EACCES
        public static let noSuchFile = Code(rawValue: 2) // ENOENT
        public static let notADirectory = Code(rawValue: 20) // ENOTDIR
        public static let exists = Code(rawValue: 17) // EEXIST
        public static let linkLoop = Code(rawValue: ELOOP) // 40 on Linux, 62 on Darwin
        public static let noSpace = Code(rawValue: 28) // ENOSPC
        public static let quotaExceeded = Code(rawValue: EDQUOT) // 122 on Linux, 69 on Darwin
        public static let fileTooLarge = Code(rawValue: EFBIG)
        public static let busy = Code(rawValue: 16) // EBUSY
        /// The data file ends before the last page its meta page counts (Folio's check, not LMDB's).
        public static let truncated = Code(rawValue: -30_000)
        /// A write to an environment opened read-only, as this process may not write its files.
        public static let readOnly = Code(rawValue: -30_001)
        /// A page found damaged opening the environment (Folio's check, not LMDB's).
        public static let damagedPage = Code(rawValue: -30_002)
        /// A sound data file whose lock file another process holds in a form this LMDB does not
        /// read (Folio's reading of LMDB's `MDB_INVALID` or `MDB_VERSION_MISMATCH`).
        public static let foreignLockFile = Code(rawValue: -30_003)
        /// Meta pages that are not as LMDB writes them, found before a write (Folio's check, not LMDB's).
        public static let damagedMeta = Code(rawValue: -30_004)
        /// A lock file whose shared state names an older commit than the data file's last, as a
        /// process stopped outright inside LMDB's open leaves it (Folio's check, not LMDB's).
        public static let staleLockFile = Code(rawValue: -30_005)

        public var description: String {
            switch self {
            case .truncated: "data file cut short"
            case .readOnly: "opened read-only: its files cannot be written by this user"
            case .damagedPage: "a page is damaged"
            case .damagedMeta: "a meta page is damaged"
            case .staleLockFile: "its lock file names an older commit than its data file's last"
            case .foreignLockFile: "its lock file is held by another process in a form this LMDB does not read"
            default: String(cString: mdb_strerror(rawValue))
            }
        }
    }

    public let code: Code
    /// The LMDB call that failed, e.g. `mdb_put`.
    public let operation: String

    public init(code: Code, operation: String) {
        self.code = code
        self.operation = operation
    }

    public var description: String { "\(operation): \(code)" }
}

@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if result != MDB_SUCCESS { throw LMDBError(code: .init(rawValue: result), operation: operation()) }
}
