import Crypto
import Foundation

/// The byte layout of one log record (see docs/storage-format.md).
///
/// ```
/// 0    32  hash            SHA-256 of bytes 32..<end
/// 32    1  record version  1
/// 33    1  flags           bit 0: correlation id present, bit 1: causation id present
/// 34    2  schema version  UInt16 LE
/// 36    4  payload length  UInt32 LE
/// 40    8  position        UInt64 LE
/// 48    8  stream version  UInt64 LE
/// 56    8  recorded at     Int64 LE, microseconds since 1970 UTC
/// 64   16  event id
/// 80   16  correlation id  (zero when absent)
/// 96   16  causation id    (zero when absent)
/// 112  32  previous hash   (zero for position 1)
/// 144   1  type length T, then T bytes UTF-8
///       1  stream length S, then S bytes UTF-8
///       1  actor length A, then A bytes UTF-8
///       …  payload (payload length bytes)
/// ```
enum Record {
    static let version: UInt8 = 1
    static let headerSize = 144
    static let hashSize = 32
    static let maxNameLength = 255
    static let zeroHash = [UInt8](repeating: 0, count: 32)

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

    /// Encodes a record; its first 32 bytes are the SHA-256 of the rest.
    static func encode(_ fields: Fields, payload: [UInt8]) -> [UInt8] {
        let type = Array(fields.type.utf8), stream = Array(fields.stream.utf8), actor = Array(fields.actor.utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(headerSize + 3 + type.count + stream.count + actor.count + payload.count)
        bytes.append(contentsOf: zeroHash)
        bytes.append(version)
        bytes.append((fields.correlationID == nil ? 0 : 1) | (fields.causationID == nil ? 0 : 2))
        appendLE(&bytes, fields.schemaVersion)
        appendLE(&bytes, UInt32(payload.count))
        appendLE(&bytes, fields.position)
        appendLE(&bytes, fields.streamVersion)
        appendLE(&bytes, UInt64(bitPattern: fields.recordedAt))
        appendUUID(&bytes, fields.id)
        appendUUID(&bytes, fields.correlationID)
        appendUUID(&bytes, fields.causationID)
        bytes.append(contentsOf: fields.previousHash)
        for name in [type, stream, actor] {
            bytes.append(UInt8(name.count))
            bytes.append(contentsOf: name)
        }
        bytes.append(contentsOf: payload)
        let digest = bytes.withUnsafeBytes { SHA256.hash(data: UnsafeRawBufferPointer(rebasing: $0[hashSize...])) }
        bytes.withUnsafeMutableBytes { buffer in
            digest.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        return bytes
    }

    static func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func appendUUID(_ bytes: inout [UInt8], _ id: UUID?) {
        guard let id else { bytes.append(contentsOf: [UInt8](repeating: 0, count: 16)); return }
        withUnsafeBytes(of: id.uuid) { bytes.append(contentsOf: $0) }
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

    /// Whether the record is long enough for its own header and names (anything shorter is corrupt).
    var isWellFormed: Bool {
        guard bytes.count >= Record.headerSize + 3, bytes[32] == Record.version else { return false }
        var offset = Record.headerSize
        for _ in 0..<3 {
            guard offset < bytes.count else { return false }
            offset += 1 + Int(bytes[offset])
        }
        return offset + Int(payloadLength) == bytes.count
    }

    private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private func uuid(at offset: Int) -> UUID {
        UUID(uuid: bytes.loadUnaligned(fromByteOffset: offset, as: uuid_t.self))
    }

    private var payloadLength: UInt32 { load(36, as: UInt32.self) }
    public var position: UInt64 { load(40, as: UInt64.self) }
    public var streamVersion: UInt64 { load(48, as: UInt64.self) }
    public var schemaVersion: UInt16 { load(34, as: UInt16.self) }
    public var recordedAtMicroseconds: Int64 { load(56, as: Int64.self) }
    public var id: UUID { uuid(at: 64) }
    public var correlationID: UUID? { bytes[33] & 1 == 0 ? nil : uuid(at: 80) }
    public var causationID: UUID? { bytes[33] & 2 == 0 ? nil : uuid(at: 96) }
    public var hash: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<32]) }
    public var previousHash: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[112..<144]) }

    private func name(_ index: Int) -> UnsafeRawBufferPointer {
        var offset = Record.headerSize
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

    /// The payload bytes, in place.
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - Int(payloadLength))...])
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

    /// A copy of the whole record, usable after the session ends.
    public func materialize() -> RecordedEvent {
        RecordedEvent(
            id: id, position: position, stream: stream, streamVersion: streamVersion, type: type,
            schemaVersion: schemaVersion, recordedAtMicroseconds: recordedAtMicroseconds, actor: actor,
            correlationID: correlationID, causationID: causationID, payload: Array(payload),
            hash: Array(hash), previousHash: Array(previousHash)
        )
    }
}

extension UInt64 {
    /// The big-endian bytes used as log keys, so that byte order is numeric order.
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }

    init(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        self = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }
}

extension UUID {
    var bytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }
}
