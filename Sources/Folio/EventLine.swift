import Crypto
import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One event as a line of JSON Lines: the envelope's keys and `data`, the payload.
///
/// Export writes each payload's canonical JSON as it was appended, so importing an export and
/// exporting again gives the same lines. Keys are written in a fixed order.
public struct EventLine: Hashable, Sendable {
    public var id: UUID
    public var position: UInt64
    public var stream: String
    public var streamVersion: UInt64
    public var type: String
    public var schemaVersion: UInt16
    public var recordedAtMicroseconds: Int64
    public var actor: String
    public var correlationID: UUID?
    public var causationID: UUID?
    /// The payload in canonical JSON (sorted keys, no whitespace).
    public var data: [UInt8]

    /// The longest line import accepts; longer lines are refused before they are parsed.
    public static let maximumLength = 8 << 20

    /// Renders a stored record as one line (without the newline), adding its `hash`.
    ///
    /// - Throws: `EventStoreError` (`corruptRecord`) when its payload cannot be decompressed.
    public static func render(_ view: RecordView, into out: inout [UInt8]) throws {
        var unmarked: ExportMarking? = nil
        try render(view, into: &out, marking: &unmarked)
    }

    /// Renders a stored record as one line (without the newline), adding its `hash`, and, for an
    /// export (`marking`), the line's `digest`, next in its chain, and `last_position`, which an
    /// import checks (`ExportMarks`).
    ///
    /// - Throws: `EventStoreError` (`corruptRecord`) when its payload cannot be decompressed.
    static func render(_ view: RecordView, into out: inout [UInt8], marking: inout ExportMarking?) throws {
        let start = out.count
        renderEnvelope(
            id: view.id, position: view.position, stream: view.stream, streamVersion: view.streamVersion, type: view.type,
            schemaVersion: view.schemaVersion, recordedAt: view.recordedAtMicroseconds, actor: view.actor,
            correlationID: view.correlationID, causationID: view.causationID, into: &out
        )
        try view.appendPayload(to: &out)
        out.append(125)
        // The event's digest covers it as `render(into:)` writes it: these bytes, before the marks.
        let digest = marking?.chain.next(event: out[start...].withUnsafeBytes { Array(SHA256.hash(data: $0)) })
        out.removeLast()
        out.append(contentsOf: #","hash":""#.utf8)
        appendHex(view.hash, to: &out)
        out.append(34)
        if let digest, let marking {
            out.append(contentsOf: #","digest":""#.utf8)
            appendHex(digest, to: &out)
            out.append(contentsOf: #"","last_position":"#.utf8)
            out.append(contentsOf: String(marking.lastPosition).utf8)
        }
        out.append(125)
    }

    /// The SHA-256 of this event as `render(into:)` writes it, which an export's `digest` chains;
    /// with `payload`, of the event with that payload in place of `data`, written as it is given.
    func eventDigest(payload: UnsafeRawBufferPointer? = nil) -> [UInt8] {
        // The envelope, then the payload as it stands, without copying it into the line.
        var envelope: [UInt8] = []
        envelope.reserveCapacity(512)
        Self.renderEnvelope(
            id: id, position: position, stream: stream, streamVersion: streamVersion, type: type, schemaVersion: schemaVersion,
            recordedAt: recordedAtMicroseconds, actor: actor, correlationID: correlationID, causationID: causationID, into: &envelope
        )
        var hasher = SHA256()
        hasher.update(data: envelope)
        if let payload { hasher.update(bufferPointer: payload) } else { hasher.update(data: data) }
        hasher.update(data: [125] as [UInt8])
        return Array(hasher.finalize())
    }

    private static func appendHex(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 15)])
        }
    }

    /// Renders this line (without the newline and without a hash).
    public func render(into out: inout [UInt8]) {
        Self.renderEnvelope(
            id: id, position: position, stream: stream, streamVersion: streamVersion, type: type, schemaVersion: schemaVersion,
            recordedAt: recordedAtMicroseconds, actor: actor, correlationID: correlationID, causationID: causationID, into: &out
        )
        out.append(contentsOf: data)
        out.append(125)
    }

    /// Writes a line's start, its envelope's members up to `"data":`, to which its payload and
    /// closing brace are added.
    private static func renderEnvelope(
        id: UUID, position: UInt64, stream: String, streamVersion: UInt64, type: String, schemaVersion: UInt16,
        recordedAt: Int64, actor: String, correlationID: UUID?, causationID: UUID?, into out: inout [UInt8]
    ) {
        out.append(contentsOf: #"{"id":""#.utf8)
        out.append(contentsOf: id.lowercased.utf8)
        out.append(contentsOf: #"","position":"#.utf8)
        out.append(contentsOf: String(position).utf8)
        out.append(contentsOf: #","stream":"#.utf8)
        appendJSONString(&out, stream)
        out.append(contentsOf: #","stream_version":"#.utf8)
        out.append(contentsOf: String(streamVersion).utf8)
        out.append(contentsOf: #","type":"#.utf8)
        appendJSONString(&out, type)
        out.append(contentsOf: #","schema_version":"#.utf8)
        out.append(contentsOf: String(schemaVersion).utf8)
        out.append(contentsOf: #","recorded_at":""#.utf8)
        out.append(contentsOf: Timestamp.format(microseconds: recordedAt).utf8)
        out.append(contentsOf: #"","actor":"#.utf8)
        appendJSONString(&out, actor)
        out.append(contentsOf: #","correlation_id":"#.utf8)
        appendOptionalID(&out, correlationID)
        out.append(contentsOf: #","causation_id":"#.utf8)
        appendOptionalID(&out, causationID)
        out.append(contentsOf: #","data":"#.utf8)
    }

    /// The lower-case hex digits, by value.
    static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendOptionalID(_ out: inout [UInt8], _ id: UUID?) {
        guard let id else { out.append(contentsOf: "null".utf8); return }
        out.append(34)
        out.append(contentsOf: id.lowercased.utf8)
        out.append(34)
    }

    /// Whether `text` is a record's hash as `export` writes it: 64 lower-case hex digits.
    static func isRecordHash(_ text: String) -> Bool {
        digestBytes(text.utf8) != nil
    }

    /// The 32 bytes that 64 lower-case hex digits spell, as `export` writes a hash or a digest;
    /// `nil` for anything else.
    static func digestBytes(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count == 64 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 48...57: digit - 48
            case 97...102: digit - 87
            default: nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var index = text.startIndex
        for offset in 0..<32 {
            guard let high = value(text[index]), let low = value(text[text.index(after: index)]) else { return nil }
            bytes[offset] = high << 4 | low
            index = text.index(index, offsetBy: 2)
        }
        return bytes
    }

    /// Parses one line; `number` (1-based) goes into every error message.
    ///
    /// - Throws: `FolioError` (`invalidInput`) naming the line and the key at fault.
    public static func parse(_ line: some Collection<UInt8>, number: Int) throws -> EventLine {
        try parseWithPayload(line, number: number).line
    }

    /// Parses one line, returning its payload's fields beside it (import decodes the event from
    /// them instead of parsing `data` again), whether it carries an export's `hash`, and the
    /// marks an export adds (`ExportMarks`), checked for their form only.
    static func parseWithPayload(
        _ line: some Collection<UInt8>, number: Int
    ) throws -> (line: EventLine, payload: [String: JSONValue], hasHash: Bool, marks: ExportMarks) {
        guard line.count <= maximumLength else {
            throw FolioError(.invalidInput, "line \(number) is longer than \(maximumLength >> 20) MiB")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line, maxDepth: maximumDepth)
        } catch .tooDeep {
            throw FolioError(.invalidInput, "line \(number) nests deeper than \(maximumDepth) levels")
        } catch .inexactNumber {
            throw FolioError(.invalidInput, "line \(number) holds a whole number past 64 bits that no double holds exactly: Folio could not keep it as written")
        } catch .numberOutOfRange {
            throw FolioError(.invalidInput, "line \(number) holds a number past the largest a double holds, about 1.8e308: Folio could not keep it")
        } catch .numberTooSmall {
            throw FolioError(.invalidInput, "line \(number) holds a number too small for a double, under about 2.5e-324 (half the smallest, 4.9e-324), which would read it as 0: Folio could not keep it as written")
        } catch .duplicateKey(let key) {
            throw FolioError(.invalidInput, "line \(number) holds the key \"\(key.shortened)\" twice in one object: a key names one member")
        } catch .equivalentKeys(let first, let second) {
            throw FolioError(.invalidInput, "line \(number) " + String.equivalentKeysRefused(first, second))
        } catch .unpairedSurrogate {
            throw FolioError(.invalidInput, "line \(number): not valid JSON text: a \\u escape is half of a surrogate pair alone, which is no character")
        } catch {
            throw FolioError(.invalidInput, "line \(number): not valid JSON")
        }
        guard case .object(let fields) = value else {
            throw FolioError(.invalidInput, "line \(number): not a JSON object")
        }
        // A `hash` marks a line as exported, whose payload is restored as stored: it must be one.
        if let hash = fields["hash"] {
            guard case .string(let text) = hash, isRecordHash(text) else {
                throw FolioError(.invalidInput, "line \(number): hash is \(String(decoding: hash.canonicalBytes(), as: UTF8.self).shortened), not a record's hash as export writes it (64 lower-case hex digits)")
            }
        }
        var marks = ExportMarks()
        if let digest = fields["digest"] {
            guard case .string(let text) = digest, let bytes = digestBytes(text.utf8) else {
                throw FolioError(.invalidInput, "line \(number): digest is \(String(decoding: digest.canonicalBytes(), as: UTF8.self).shortened), not a digest as export writes it (64 lower-case hex digits)")
            }
            marks.digest = bytes
        }
        if let last = fields["last_position"] {
            guard case .integer(let value) = last, value >= 1 else {
                throw FolioError(.invalidInput, "line \(number): last_position must be a whole number from 1 to \(Int64.max)")
            }
            marks.lastPosition = UInt64(value)
        }
        // A key no line holds (a misspelt `correlation-id`, say) would be dropped unseen, in an
        // export's line too: a record has nowhere to keep it (an export's payload is kept whole).
        if let unknown = fields.keys.filter({ !envelopeKeys.contains($0) && !ExportMarks.keys.contains($0) }).min() {
            throw FolioError(.invalidInput, "line \(number): \(unknown.shortened.debugDescription) is not a key of an event's line (\(envelopeKeys.joined(separator: ", ")); an export adds \(ExportMarks.keys.joined(separator: ", "))), and would be dropped")
        }
        guard case .object(let payload)? = fields["data"] else {
            // Throws, naming the first field at fault in the envelope's order (`data` at the latest).
            return (try envelope(fields, data: nil, number: number), [:], false, marks)
        }
        // An amount is written as digits, as Folio writes it: parsed, `50000.0` and `5e4` read as
        // 50000, which an export would then write otherwise.
        if case .integer = payload["amount"],
           let written = Array(line).withUnsafeBytes({ JSONParser.wholeNumberMiswritten(at: ["data", "amount"], in: $0) }) {
            throw FolioError(.invalidInput, "line \(number): amount \(written.shortened) is not written as a whole number of cents, as 50000 is (rule 6)")
        }
        // A line `export` wrote is restored as stored; any other's ids are stored as Folio writes them.
        let stored = fields["hash"] == nil ? EventType.lowercasingIDs(payload) : payload
        return (try envelope(fields, data: JSONValue.object(stored).canonicalBytes(), number: number), stored, fields["hash"] != nil, marks)
    }

    /// Parses a line whose `data` is already canonical JSON holding a payload written the way
    /// Folio writes it (what `export` writes) without building the payload: the line's envelope
    /// is parsed, `data` kept as it stands and its event read in one pass. `nil` for any other line,
    /// to be parsed by `parseWithPayload`, which also names what is wrong with a bad one, and for a
    /// line without an export's `hash` whose payload holds a field its type does not have.
    /// `asStored`: whether the line carries an export's `hash`; `marks`, what else an export adds.
    static func parsePlain(_ line: [UInt8], number: Int) -> (line: EventLine, event: Event, asStored: Bool, marks: ExportMarks)? {
        guard line.count <= maximumLength else { return nil }
        return line.withUnsafeBytes { buffer -> (line: EventLine, event: Event, asStored: Bool, marks: ExportMarks)? in
            var envelope = PlainEnvelope()
            guard (try? JSONParser.readObject(buffer, maxDepth: maximumDepth) { key, reader throws(JSONParser.Failure) in
                      try envelope.read(key, &reader)
                  }) == true,
                  let raw = envelope.data, buffer[raw.lowerBound] == UInt8(ascii: "{")
            else { return nil }
            let data = UnsafeRawBufferPointer(rebasing: buffer[raw])
            guard let line = envelope.line(data: Array(data)),
                  let type = try? EventType.named(line.type),
                  let event = Event.decodeIfPlain(
                      type: type, schemaVersion: Int(line.schemaVersion), payload: data, onlyKnownFields: !envelope.hasHash
                  )
            else { return nil }
            return (line, event, envelope.hasHash, envelope.marks)
        }
    }

    /// How deep a line may nest.
    static let maximumDepth = 64

    /// The keys of a line: the envelope's, then `data`.
    static let envelopeKeys = [
        "id", "position", "stream", "stream_version", "type", "schema_version", "recorded_at", "actor", "correlation_id", "causation_id", "data",
    ]

    /// The line with the envelope's fields and `data` (`nil` when it is not an object).
    private static func envelope(_ fields: [String: JSONValue], data: [UInt8]?, number: Int) throws -> EventLine {
        func fail(_ key: String, _ rule: String) -> FolioError {
            FolioError(.invalidInput, "line \(number): \(key) \(fields[key] == nil ? "is missing" : rule)")
        }
        func string(_ key: String) throws -> String {
            guard case .string(let value)? = fields[key] else { throw fail(key, "must be a string") }
            return value
        }
        func whole(_ key: String, max: UInt64) throws -> UInt64 {
            guard case .integer(let value)? = fields[key], value >= 1, UInt64(value) <= max else {
                throw fail(key, "must be a whole number from 1 to \(max)")
            }
            return UInt64(value)
        }
        func optionalID(_ key: String) throws -> UUID? {
            switch fields[key] {
            case nil, .null?: return nil
            case .string(let text)?:
                guard let id = UUID(text: text) else { fallthrough }
                return id
            default: throw fail(key, "must be a UUID or null")
            }
        }
        guard let id = UUID(text: try string("id")) else { throw fail("id", "must be a UUID") }
        guard let recordedAt = Timestamp.parse(try string("recorded_at")) else {
            throw fail("recorded_at", "must be an ISO 8601 UTC timestamp to the microsecond at most, such as 2026-01-31T09:30:00.000000Z")
        }
        guard let data else { throw fail("data", "must be a JSON object") }
        return EventLine(
            id: id, position: try whole("position", max: UInt64(Int64.max)), stream: try string("stream"),
            streamVersion: try whole("stream_version", max: UInt64(Int64.max)), type: try string("type"),
            schemaVersion: UInt16(try whole("schema_version", max: UInt64(UInt16.max))), recordedAtMicroseconds: recordedAt,
            actor: try string("actor"), correlationID: try optionalID("correlation_id"), causationID: try optionalID("causation_id"),
            data: data
        )
    }
}

/// The digests of an export's lines, chained: each line's is the SHA-256 of the digest of the line
/// before it (32 zero bytes before the first line) followed by the SHA-256 of its own event
/// (`EventLine.eventDigest`), so that a line changed, or lines moved, removed or taken from another
/// export, break the chain where they are.
struct DigestChain: Sendable {
    /// The last line's digest.
    private(set) var last = [UInt8](repeating: 0, count: 32)

    /// The next line's digest, from its event's; it becomes the last.
    mutating func next(event: [UInt8]) -> [UInt8] {
        last = Array(SHA256.hash(data: last + event))
        return last
    }

    /// Whether `digest` is the next line's, from one of the digests its event may have; if so, it
    /// becomes the last.
    mutating func follows(_ digest: [UInt8], fromAnyOf events: [[UInt8]]) -> Bool {
        guard events.contains(where: { Array(SHA256.hash(data: last + $0)) == digest }) else { return false }
        last = digest
        return true
    }
}

/// What an export adds to each line as it writes them: the chain of digests, and its last position.
struct ExportMarking: Sendable {
    var chain = DigestChain()
    let lastPosition: UInt64
}

/// What `export` adds to each line beyond the event and its `hash`, so that an import can tell a
/// file changed or cut short since it was written: the event's digest, and the position of the
/// export's last event. A line may leave them out (`folio log` writes neither).
struct ExportMarks: Hashable, Sendable {
    /// The keys export adds to the event's, `hash` and these, in the order it writes them.
    static let keys = ["hash", "digest", "last_position"]

    /// A command that removes the marks from the end of a file's lines, where export writes them,
    /// and nothing else (not a payload's keys of those names; `jq` may round long numbers), for a
    /// file to import as it stands.
    static let removal = #"sed -E 's/(,"digest":"[0-9a-f]{64}")?(,"last_position":[0-9]+)?}(\r?)$/}\3/'"#

    /// The line's place in the chain of digests (`DigestChain`), 32 bytes.
    var digest: [UInt8]?
    /// The position of the last event of the export the line is from.
    var lastPosition: UInt64?
}

/// A line's envelope read member by member as it streams by, for a line written the way `export`
/// writes it: each member once, none but the envelope's and the marks export adds, keys without escapes, every
/// value of the kind `export` writes. Anything else stops the reading, and the line is parsed
/// whole by `EventLine.parseWithPayload`, which reads it the same way or names what is wrong.
private struct PlainEnvelope {
    private enum Member: Int, CaseIterable {
        case id, position, stream, streamVersion, type, schemaVersion, recordedAt, actor, correlationID, causationID, data, hash, digest, lastPosition

        var key: StaticString {
            switch self {
            case .id: "id"
            case .position: "position"
            case .stream: "stream"
            case .streamVersion: "stream_version"
            case .type: "type"
            case .schemaVersion: "schema_version"
            case .recordedAt: "recorded_at"
            case .actor: "actor"
            case .correlationID: "correlation_id"
            case .causationID: "causation_id"
            case .data: "data"
            case .hash: "hash"
            case .digest: "digest"
            case .lastPosition: "last_position"
            }
        }

        init?(_ key: UnsafeRawBufferPointer) {
            guard let member = Member.allCases.first(where: { $0.key.matches(key) }) else { return nil }
            self = member
        }
    }

    private var seen: UInt16 = 0
    private var id: UUID?
    private var position: UInt64?
    private var stream: String?
    private var streamVersion: UInt64?
    private var type: String?
    private var schemaVersion: UInt16?
    private var recordedAt: Int64?
    private var actor: String?
    private var correlationID: UUID?
    private var causationID: UUID?
    private(set) var data: Range<Int>?
    private(set) var marks = ExportMarks()
    /// Whether the line carries the `hash` that `export` adds.
    var hasHash: Bool { seen & (1 << Member.hash.rawValue) != 0 }

    /// Reads one member; `false` for a line that is not the plain case.
    mutating func read(_ key: UnsafeRawBufferPointer?, _ reader: inout JSONParser) throws(JSONParser.Failure) -> Bool {
        guard let key, let member = Member(key) else { return false }
        let bit: UInt16 = 1 << member.rawValue
        guard seen & bit == 0 else { return false }
        seen |= bit
        func whole(max: UInt64) throws(JSONParser.Failure) -> UInt64? {
            guard case .integer(let value) = try reader.readValue(), value >= 1, UInt64(value) <= max else { return nil }
            return UInt64(value)
        }
        func optionalID() throws(JSONParser.Failure) -> UUID?? {
            guard let isNull = try reader.readNullOrString() else { return nil }
            return isNull ? .some(nil) : try reader.readUUID().map { .some($0) }
        }
        // A value not of the kind export writes leaves its field empty: not the plain case.
        switch member {
        case .id:
            id = try reader.readUUID()
            return id != nil
        case .position:
            position = try whole(max: UInt64(Int64.max))
            return position != nil
        case .streamVersion:
            streamVersion = try whole(max: UInt64(Int64.max))
            return streamVersion != nil
        case .schemaVersion:
            schemaVersion = try whole(max: UInt64(UInt16.max)).map { UInt16($0) }
            return schemaVersion != nil
        case .stream:
            stream = try reader.readString()
            return stream != nil
        case .type:
            type = try reader.readString()
            return type != nil
        case .actor:
            actor = try reader.readString()
            return actor != nil
        case .recordedAt:
            recordedAt = try reader.readString().flatMap(Timestamp.parse)
            return recordedAt != nil
        case .correlationID, .causationID:
            guard let id = try optionalID() else { return false }
            if member == .correlationID { correlationID = id } else { causationID = id }
            return true
        case .data:
            // Kept as it stands only when written canonically, checked as it is skipped.
            data = reader.readCanonicalRaw(maxDepth: EventLine.maximumDepth - 1)
            return data != nil
        case .hash:
            return try reader.readStringBytes().flatMap(EventLine.digestBytes) != nil
        case .digest:
            marks.digest = try reader.readStringBytes().flatMap(EventLine.digestBytes)
            return marks.digest != nil
        case .lastPosition:
            marks.lastPosition = try whole(max: UInt64(Int64.max))
            return marks.lastPosition != nil
        }
    }

    /// The line, when every member it needs was read.
    func line(data: [UInt8]) -> EventLine? {
        guard let id, let position, let stream, let streamVersion, let type, let schemaVersion, let recordedAt, let actor else { return nil }
        return EventLine(
            id: id, position: position, stream: stream, streamVersion: streamVersion, type: type, schemaVersion: schemaVersion,
            recordedAtMicroseconds: recordedAt, actor: actor, correlationID: correlationID, causationID: causationID, data: data
        )
    }
}

/// Appends `string` as a JSON string literal.
func appendJSONString(_ out: inout [UInt8], _ string: String) {
    out.append(34)
    for byte in string.utf8 {
        switch byte {
        case 34: out.append(contentsOf: [92, 34])
        case 92: out.append(contentsOf: [92, 92])
        case 10: out.append(contentsOf: [92, 110])
        case 13: out.append(contentsOf: [92, 114])
        case 9: out.append(contentsOf: [92, 116])
        case 0..<32: out.append(contentsOf: [92, 117, 48, 48, EventLine.hexDigits[Int(byte >> 4)], EventLine.hexDigits[Int(byte & 0x0F)]])
        default: out.append(byte)
        }
    }
    out.append(34)
}
