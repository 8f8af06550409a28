internal import CLMDB

/// A named database inside an environment; a cheap handle, valid for the environment's life.
public struct Database: Hashable, Sendable {
    let dbi: MDB_dbi
    /// The name it was opened with.
    public let name: String

    /// How a database is opened.
    public struct Options: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Keys may hold several sorted values.
        public static let duplicateSort = Options(rawValue: UInt32(MDB_DUPSORT))
    }
}

/// Counts LMDB keeps for one database.
public struct DatabaseStatistics: Hashable, Sendable {
    public let entries: Int
    public let depth: Int
    public let pageSize: Int
    public let branchPages: Int
    public let leafPages: Int
    public let overflowPages: Int
    /// Bytes held by the database's pages.
    public var bytes: Int { (branchPages + leafPages + overflowPages) * pageSize }
}

/// Flags of a put.
public struct PutOptions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Refuse to replace an existing key (`keyExists`).
    public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
    /// The key sorts after every existing key: a fast append that fails loudly (`keyExists`)
    /// when it does not.
    public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
}
