internal import CLMDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A key and value inside the memory map, valid until the transaction ends.
public struct Entry {
    public let key: UnsafeRawBufferPointer
    public let value: UnsafeRawBufferPointer
}

/// A position in a database's sorted keys.
public final class Cursor {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get")
        return Entry(
            key: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        )
    }

    /// The first entry, or `nil` when the database is empty.
    public func first() throws -> Entry? { try move(MDB_FIRST) }
    /// The last entry, or `nil` when the database is empty.
    public func last() throws -> Entry? { try move(MDB_LAST) }
    /// The entry after the current one.
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    /// The entry before the current one.
    public func previous() throws -> Entry? { try move(MDB_PREV) }
    /// The entry at the current position.
    public func current() throws -> Entry? { try move(MDB_GET_CURRENT) }

    /// The first entry whose key is greater than or equal to `key`.
    public func seek<K: ContiguousBytes>(atOrAfter key: K) throws -> Entry? {
        try key.withUnsafeBytes { bytes -> Entry? in try move(MDB_SET_RANGE, key: bytes) }
    }

    /// The last entry whose key is less than or equal to `key`.
    public func seek<K: ContiguousBytes>(atOrBefore key: K) throws -> Entry? {
        try key.withUnsafeBytes { bytes -> Entry? in
            if let entry = try move(MDB_SET_RANGE, key: bytes) {
                if entry.key.elementsEqual(bytes) { return entry }
                return try move(MDB_PREV)
            }
            return try move(MDB_LAST)
        }
    }

    /// The entry with exactly `key`, or `nil`.
    public func seek<K: ContiguousBytes>(exactly key: K) throws -> Entry? {
        try key.withUnsafeBytes { bytes -> Entry? in try move(MDB_SET_KEY, key: bytes) }
    }
}
