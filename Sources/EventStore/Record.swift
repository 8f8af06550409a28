import CLZ4
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The byte layout of log records (see docs/storage-format.md). Storage format 2 writes version 2;
/// a format-1 store keeps writing version 1, and both are read.
///
/// ```
/// version 2                                   version 1
/// 0    32  hash (SHA-256 of bytes 32..<end)   0    32  hash
/// 32    1  record version 2                   32    1  record version 1
/// 33    1  flags                              33    1  flags (bits 0, 1)
/// 34    2  schema version  UInt16 LE          34    2  schema version
/// 36    4  stored payload length UInt32 LE    36    4  payload length
/// 40    8  position        UInt64 LE          40    8  position
/// 48    8  stream version  UInt64 LE          48    8  stream version
/// 56    8  recorded at     Int64 LE, µs       56    8  recorded at
/// 64   16  event id                           64   16  event id
/// 80   32  previous hash                      80   16  correlation id (zero when absent)
/// 112  16  correlation id (flag bit 0 only)   96   16  causation id (zero when absent)
/// …    16  causation id   (flag bit 1 only)   112  32  previous hash
/// …  type, stream, actor: a length byte, then UTF-8 (both versions)
/// …  payload: canonical JSON; with flag bit 2, its length (UInt32 LE) then an LZ4 block of it
/// ```
enum Record {
    /// The record version a store of storage format `format` writes.
    static func version(forFormat format: UInt32) -> UInt8 { format >= 2 ? 2 : 1 }
    static let hashSize = 32
    static let maxNameLength = 255
    static let zeroHash = [UInt8](repeating: 0, count: 32)

    enum Flag {
        static let correlationID: UInt8 = 1
        static let causationID: UInt8 = 2
        /// Version 2 only: the payload is stored as its length and an LZ4 block.
        static let compressed: UInt8 = 4
    }

    /// Payloads shorter than this are stored as they are: compressing them saves too little.
    static let compressionThreshold = 128

    struct Fields {
        var id: UUID
        var position: UInt64
        var stream: String
        var streamVersion: UInt64
        var type: String
        var schemaVersion: UInt16
        var recordedAt: Int64
        var actor: String
        var correlationID: UUID?
        var causationID: UUID?
        var previousHash: [UInt8]
    }

    /// Encodes a record in layout `version`; its first 32 bytes are the SHA-256 of the rest.
    ///
    /// Version 2 stores the payload LZ4-compressed when that makes it shorter.
    static func encode(_ fields: Fields, payload: [UInt8], compressed: Compressed? = nil, version: UInt8 = 2) -> [UInt8] {
        var flags: UInt8 = (fields.correlationID == nil ? 0 : Flag.correlationID) | (fields.causationID == nil ? 0 : Flag.causationID)
        let ids = (version == 1 ? 2 : flags.nonzeroBitCount) * 16
        let fixed = (version == 1 ? 112 : 80) + 32 + ids
        let names = [fields.type, fields.stream, fields.actor]
        let capacity = fixed + names.reduce(3) { $0 + $1.utf8.count } + payload.count
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            var out = RecordWriter(buffer: UnsafeMutableRawBufferPointer(buffer))
            out.skip(hashSize)
            out.byte(version)
            let flagsOffset = out.offset
            out.byte(flags)
            out.integer(fields.schemaVersion)
            let lengthOffset = out.offset
            out.integer(UInt32(payload.count))
            out.integer(fields.position)
            out.integer(fields.streamVersion)
            out.integer(UInt64(bitPattern: fields.recordedAt))
            out.uuid(fields.id)
            if version == 1 {
                out.uuid(fields.correlationID ?? zeroID)
                out.uuid(fields.causationID ?? zeroID)
                out.bytes(fields.previousHash)
            } else {
                out.bytes(fields.previousHash)
                if let id = fields.correlationID { out.uuid(id) }
                if let id = fields.causationID { out.uuid(id) }
            }
            for name in names {
                var name = name
                name.withUTF8 { utf8 in
                    out.byte(UInt8(utf8.count))
                    out.bytes(UnsafeRawBufferPointer(utf8))
                }
            }
            var stored: Int?
            if version >= 2 {
                switch compressed {
                case .block(let block)?:
                    out.bytes(block)
                    stored = block.count
                case .plain?: break
                case nil:
                    stored = compress(payload, into: out.remaining)
                    out.offset += stored ?? 0
                }
            }
            if let stored {
                flags |= Flag.compressed
                out.buffer[flagsOffset] = flags
                out.buffer.storeBytes(of: UInt32(stored).littleEndian, toByteOffset: lengthOffset, as: UInt32.self)
            } else {
                out.bytes(payload)
            }
            seal(UnsafeMutableRawBufferPointer(rebasing: out.buffer[..<out.offset]))
            count = out.offset
        }
    }

    /// Writes a record's hash: the SHA-256 of everything after it.
    static func seal(_ record: UnsafeMutableRawBufferPointer) {
        let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: record[hashSize...]))
        digest.withUnsafeBytes { record.copyMemory(from: $0) }
    }

    /// A payload as version 2 stores it: as it is, or its length and LZ4 block.
    enum Compressed: Sendable {
        case plain
        case block([UInt8])
    }

    /// `payload` as version 2 stores it, compressed when that is shorter (as `encode` does).
    static func compress(_ payload: [UInt8]) -> Compressed {
        guard payload.count >= compressionThreshold else { return .plain }
        var stored: Int?
        let block = [UInt8](unsafeUninitializedCapacity: payload.count) { buffer, count in
            stored = compress(payload, into: UnsafeMutableRawBufferPointer(buffer))
            count = stored ?? 0
        }
        return stored == nil ? .plain : .block(block)
    }

    /// Writes `payload`'s length and its LZ4 block into `buffer` when the two are shorter than the
    /// payload (and `buffer` holds them); returns how many bytes were written, else nil.
    private static func compress(_ payload: [UInt8], into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard payload.count >= compressionThreshold, payload.count <= Int(LZ4_MAX_INPUT_SIZE),
              buffer.count > 4, payload.count <= buffer.count else { return nil }
        // A block that would not end before the payload's own length fails (0), and is not kept.
        let capacity = payload.count - 1 - 4
        let written = payload.withUnsafeBytes { source in
            LZ4_compress_default(
                source.baseAddress!.assumingMemoryBound(to: CChar.self),
                buffer.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                Int32(payload.count), Int32(capacity)
            )
        }
        guard written > 0 else { return nil }
        buffer.storeBytes(of: UInt32(payload.count).littleEndian, as: UInt32.self)
        return 4 + Int(written)
    }

    private static let zeroID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Little-endian fields written one after another into a record's buffer.
    private struct RecordWriter {
        let buffer: UnsafeMutableRawBufferPointer
        var offset = 0

        var remaining: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]) }
        mutating func skip(_ count: Int) { offset += count }
        mutating func byte(_ value: UInt8) { buffer[offset] = value; offset += 1 }
        mutating func integer<T: FixedWidthInteger>(_ value: T) {
            buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
            offset += MemoryLayout<T>.size
        }
        mutating func uuid(_ id: UUID) {
            withUnsafeBytes(of: id.uuid) { bytes(UnsafeRawBufferPointer($0)) }
        }
        mutating func bytes(_ bytes: [UInt8]) { bytes.withUnsafeBytes { self.bytes($0) } }
        mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty else { return }
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
            offset += bytes.count
        }
    }
}

/// A record read in place from the memory map, decoding only the fields asked for.
///
/// Valid only inside the read or write session that produced it.
public struct RecordView {
    /// The raw record bytes.
    public let bytes: UnsafeRawBufferPointer

    /// A view of a record's bytes: as a scan hands them out, or copied out of one.
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private var version: UInt8 { bytes[32] }
    private var flags: UInt8 { bytes[33] }
    private var isCompressed: Bool { version >= 2 && flags & Record.Flag.compressed != 0 }
    private var previousHashOffset: Int { version == 1 ? 112 : 80 }
    private var correlationOffset: Int { version == 1 ? 80 : 112 }
    private var causationOffset: Int { version == 1 ? 96 : 112 + (flags & Record.Flag.correlationID == 0 ? 0 : 16) }
    private var namesOffset: Int { version == 1 ? 144 : 112 + Int((flags & 3).nonzeroBitCount) * 16 }

    /// Whether the record is long enough for its own header, names and payload (anything else is corrupt).
    var isWellFormed: Bool {
        guard bytes.count >= 115 else { return false }
        switch version {
        case 1: guard flags & ~3 == 0 else { return false }
        case 2: guard flags & ~7 == 0 else { return false }
        default: return false
        }
        var offset = namesOffset
        for _ in 0..<3 {
            guard offset < bytes.count else { return false }
            offset += 1 + Int(bytes[offset])
        }
        guard offset + Int(storedPayloadLength) == bytes.count else { return false }
        guard isCompressed else { return true }
        // A block and the length it decompresses to, which no append made larger than LZ4 takes
        // (`compress`), nor than the block can hold: LZ4 writes at most 255 bytes per byte it reads.
        let block = Int(storedPayloadLength) - 4
        return block > 0 && payloadLength <= min(Int(LZ4_MAX_INPUT_SIZE), 255 * block + 64)
    }

    private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private func uuid(at offset: Int) -> UUID {
        UUID(uuid: bytes.loadUnaligned(fromByteOffset: offset, as: uuid_t.self))
    }

    private var storedPayloadLength: UInt32 { load(36, as: UInt32.self) }
    public var position: UInt64 { load(40, as: UInt64.self) }
    public var streamVersion: UInt64 { load(48, as: UInt64.self) }
    public var schemaVersion: UInt16 { load(34, as: UInt16.self) }
    public var recordedAtMicroseconds: Int64 { load(56, as: Int64.self) }
    public var id: UUID { uuid(at: 64) }
    public var correlationID: UUID? { flags & Record.Flag.correlationID == 0 ? nil : uuid(at: correlationOffset) }
    public var causationID: UUID? { flags & Record.Flag.causationID == 0 ? nil : uuid(at: causationOffset) }
    public var hash: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<32]) }
    public var previousHash: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[previousHashOffset..<(previousHashOffset + 32)])
    }

    private func name(_ index: Int) -> UnsafeRawBufferPointer {
        var offset = namesOffset
        for _ in 0..<index { offset += 1 + Int(bytes[offset]) }
        let length = Int(bytes[offset])
        return UnsafeRawBufferPointer(rebasing: bytes[(offset + 1)..<(offset + 1 + length)])
    }

    /// The event type's UTF-8 bytes (compare without making a String).
    public var typeBytes: UnsafeRawBufferPointer { name(0) }
    public var type: String { String(decoding: typeBytes, as: UTF8.self) }
    public var streamBytes: UnsafeRawBufferPointer { name(1) }
    public var stream: String { String(decoding: streamBytes, as: UTF8.self) }
    public var actor: String { String(decoding: name(2), as: UTF8.self) }

    /// The payload as the record stores it: canonical JSON, or its length and an LZ4 block.
    private var storedPayload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - Int(storedPayloadLength))...])
    }

    /// The payload's length in bytes, as it was appended (before any compression).
    public var payloadLength: Int {
        isCompressed ? Int(UInt32(littleEndian: storedPayload.loadUnaligned(as: UInt32.self))) : Int(storedPayloadLength)
    }

    /// Calls `body` with the payload as it was appended: in place, or decompressed into a
    /// scratch buffer when the record stores it compressed.
    ///
    /// - Throws: `corruptRecord` when a compressed payload does not decompress to its length.
    public func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard isCompressed else { return try body(storedPayload) }
        let length = payloadLength
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 1)
        defer { buffer.deallocate() }
        try decompress(into: buffer)
        return try body(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
    }

    /// A copy of the payload as it was appended.
    ///
    /// - Throws: `corruptRecord` when a compressed payload does not decompress to its length.
    public func payload() throws -> [UInt8] {
        guard isCompressed else { return Array(storedPayload) }
        return try [UInt8](unsafeUninitializedCapacity: payloadLength) { buffer, count in
            try decompress(into: UnsafeMutableRawBufferPointer(buffer))
            count = payloadLength
        }
    }

    /// Appends the payload as it was appended to `out`, decompressing straight into it.
    public func appendPayload(to out: inout [UInt8]) throws {
        guard isCompressed else { out.append(contentsOf: storedPayload); return }
        let start = out.count, length = payloadLength
        out.append(contentsOf: repeatElement(0, count: length))
        try out.withUnsafeMutableBytes { buffer in
            try decompress(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + length)]))
        }
    }

    private func decompress(into buffer: UnsafeMutableRawBufferPointer) throws {
        let stored = storedPayload, length = payloadLength
        let block = UnsafeRawBufferPointer(rebasing: stored[4...])
        let written = length == 0 ? -1 : LZ4_decompress_safe(
            block.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.baseAddress!.assumingMemoryBound(to: CChar.self),
            Int32(block.count), Int32(length)
        )
        guard written == Int32(length) else {
            throw EventStoreError(
                .corruptRecord,
                "record \(position)'s payload does not decompress to its \(length) bytes: the log is corrupt at that position",
                position: position
            )
        }
    }

    /// Whether the type is `type`, without decoding it.
    public func hasType(_ type: String) -> Bool {
        var type = type
        return type.withUTF8 { typeBytes.elementsEqual($0) }
    }

    /// True when the stored hash is the SHA-256 of the rest of the record.
    public var checksumIsValid: Bool {
        guard isWellFormed else { return false }
        let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: bytes[Record.hashSize...]))
        return digest.withUnsafeBytes { $0.elementsEqual(hash) }
    }

    /// Checks the checksum as a verifying scan does, for a record read without it.
    ///
    /// - Throws: `corruptRecord` naming the record's position, as the scan would have.
    public func checkChecksum() throws(EventStoreError) {
        guard checksumIsValid else { throw .corrupt(position) }
    }

    /// A copy of the whole record, usable after the session ends.
    ///
    /// - Throws: `corruptRecord` when a compressed payload does not decompress to its length.
    public func materialize() throws -> RecordedEvent {
        RecordedEvent(
            id: id, position: position, stream: stream, streamVersion: streamVersion, type: type,
            schemaVersion: schemaVersion, recordedAtMicroseconds: recordedAtMicroseconds, actor: actor,
            correlationID: correlationID, causationID: causationID, payload: try payload(),
            hash: Array(hash), previousHash: Array(previousHash)
        )
    }
}

extension UInt64 {
    /// The big-endian bytes used as log keys, so that byte order is numeric order.
    package var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }

    package init(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        self = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }
}

extension UUID {
    /// The id's 16 bytes, as the log's and the write side's indexes key it.
    package var bytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }

    /// The id's bytes as two big-endian halves, which sort as `bytes` do as keys.
    var keyOrder: (UInt64, UInt64) {
        withUnsafeBytes(of: uuid) { raw in
            (UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }
}
