#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a database's entries first differ from the entries it should hold.
public enum EntryDifference: Hashable, Sendable {
    /// It lacks an entry it should hold under `key`.
    case missing(key: [UInt8])
    /// It holds an entry under `key` that it should not.
    case unexpected(key: [UInt8])
    /// It holds `key` with another value.
    case changed(key: [UInt8])

    /// The key the difference is at.
    public var key: [UInt8] {
        switch self {
        case .missing(let key), .unexpected(let key), .changed(let key): key
        }
    }
}

extension Transaction {
    /// The first difference between `database` and the entries `expected` gives, or `nil` when
    /// it holds exactly those.
    ///
    /// `expected` calls `expect` once per entry, in ascending key order (bytes compared as LMDB
    /// compares them), with the entry's key and a test of a stored value: the database is read
    /// alongside in one pass, and entries after the first difference are not looked at.
    public func firstDifference(
        in database: Database,
        expected: (_ expect: (_ key: [UInt8], _ matches: (UnsafeRawBufferPointer) -> Bool) throws -> Void) throws -> Void
    ) throws -> EntryDifference? {
        try withCursor(database) { cursor in
            var stored = try cursor.first()
            var difference: EntryDifference?
            try expected { key, matches in
                guard difference == nil else { return }
                guard let entry = stored else {
                    difference = .missing(key: key)
                    return
                }
                if entry.key.lexicographicallyPrecedes(key) {
                    difference = .unexpected(key: Array(entry.key))
                } else if !entry.key.elementsEqual(key) {
                    difference = .missing(key: key)
                } else if !matches(entry.value) {
                    difference = .changed(key: key)
                } else {
                    stored = try cursor.next()
                }
            }
            if difference == nil, let entry = stored { difference = .unexpected(key: Array(entry.key)) }
            return difference
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes come before `other` in LMDB's order of keys: bytes compared as
    /// unsigned, a prefix first (`lexicographicallyPrecedes`), by `memcmp`, many bytes at a time,
    /// as a page walk compares every key with its neighbour and its bounds.
    func precedesInKeyOrder(_ other: UnsafeRawBufferPointer) -> Bool {
        let common = Swift.min(count, other.count)
        let order = common == 0 ? 0 : memcmp(baseAddress!, other.baseAddress!, common)
        return order < 0 || (order == 0 && count < other.count)
    }
}
