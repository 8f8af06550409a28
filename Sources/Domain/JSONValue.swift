#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value: page content, metadata, event payloads.
///
/// Integers that fit `Int64` stay integers; other numbers are doubles. Encodes as plain JSON.
public enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Equal as JSON tells values apart: strings, and an object's keys, by their code points.
    /// Text written in two Unicode forms (`"é"` as one scalar, or as `e` and a combining accent)
    /// is stored as written, and differs here as it does in those bytes; `String`'s `==` takes
    /// the two for one. (Hashing stays `String`'s, which gives both forms one hash: values equal
    /// here are equal there.)
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { key, value in
                guard let index = b.index(forKey: key) else { return false }
                return b.keys[index].utf8.elementsEqual(key.utf8) && b.values[index] == value
            }
        default: false
        }
    }

    /// The member of an object whose key is `key` byte for byte (`nil` for another value): not
    /// one whose key is the same text in another Unicode form, which a `Dictionary` finds.
    public func member(exactly key: String) -> JSONValue? {
        guard case .object(let fields) = self, let index = fields.index(forKey: key), fields.keys[index].utf8.elementsEqual(key.utf8) else { return nil }
        return fields.values[index]
    }

    /// `number` as the value its JSON text reads back as: a whole number that JSON writes
    /// without an exponent (at most 2^53 either side of zero) is an integer, any other a double.
    /// The same value then prints the same way, whether it was computed or parsed.
    public static func number(_ number: Double) -> JSONValue {
        guard number.rounded() == number, number.magnitude <= 0x1p53 else { return .double(number) }
        return .integer(Int64(number))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else if let value = try? container.decode([String: JSONValue].self) { self = .object(value) }
        else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Nesting depth: 0 for a scalar, 1 for an array or object of scalars, and so on.
    public var depth: Int {
        switch self {
        case .array(let values): 1 + (values.map(\.depth).max() ?? 0)
        case .object(let fields): 1 + (fields.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }

    /// Whether this is a JSON object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Parses JSON bytes, within `limits`; messages read after the value's name ("content …").
    ///
    /// The size limit is on the value written canonically, as it is stored, and the rules check it
    /// (`JSONLimits.check`, for commands and imports alike), so indentation does not count against
    /// it; here input past `limits.maxInputBytes` is refused before it is parsed. The parser counts
    /// nesting as it goes, so hostile input nested 100,000 deep is refused at `limits.maxDepth`
    /// without recursing further.
    /// - Throws: `DomainError` with `jsonInvalid`, `jsonTooLarge` or `jsonTooDeep`.
    public static func parse(_ data: Data, limits: JSONLimits = .default) throws(DomainError) -> JSONValue {
        guard data.count <= limits.maxInputBytes else {
            throw DomainError(.jsonTooLarge, "is more than the \(limits.maxInputBytes) bytes Folio reads (the limit is \(limits.maxBytes) bytes written canonically)")
        }
        // A byte-order mark, which some editors write first, is not part of the value (RFC 8259 §8.1).
        let mark = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        do {
            return try JSONParser.parse(data.dropFirst(mark), maxDepth: limits.maxDepth)
        } catch .invalid(let offset) {
            if data.dropFirst(mark).allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
                throw DomainError(.jsonInvalid, "is empty: a JSON object is needed")
            }
            guard mark + offset < data.count else {
                throw DomainError(.jsonInvalid, "is not valid JSON: it ends (after byte \(data.count)) before its value does")
            }
            throw DomainError(.jsonInvalid, "is not valid JSON (at byte \(mark + offset + 1) of \(data.count))")
        } catch .invalidUTF8 {
            throw DomainError(.jsonInvalid, "is not valid UTF-8")
        } catch .unpairedSurrogate(let offset) {
            throw DomainError(.jsonInvalid, "is not valid JSON text: the \\u escape at byte \(mark + offset + 1) is half of a surrogate pair alone, which is no character")
        } catch .tooDeep {
            throw DomainError(.jsonTooDeep, "nests deeper than \(limits.maxDepth) levels")
        } catch .inexactNumber {
            throw DomainError(.jsonInvalid, "holds a whole number past 64 bits that no double holds exactly: Folio could not keep it as written")
        } catch .numberOutOfRange(let offset) {
            throw DomainError(.jsonInvalid, "holds a number (at byte \(mark + offset + 1)) past the largest a double holds, about 1.8e308: Folio could not keep it")
        } catch .numberTooSmall(let offset) {
            throw DomainError(.jsonInvalid, "holds a number (at byte \(mark + offset + 1)) too small for a double, under about 2.5e-324 (half the smallest, 4.9e-324), which would read it as 0: Folio could not keep it as written")
        } catch .duplicateKey(let key) {
            throw DomainError(.jsonInvalid, "holds the key \"\(key.shortened)\" twice in one object: a key names one member")
        } catch {
            // The one case left: a typed catch is not seen to be exhaustive.
            guard case .equivalentKeys(let first, let second) = error else { throw DomainError(.jsonInvalid, "is not valid JSON") }
            throw DomainError(.jsonInvalid, String.equivalentKeysRefused(first, second))
        }
    }

    /// Canonical JSON bytes: keys in UTF-8 byte order, no whitespace, slashes unescaped.
    public func canonicalJSON() -> Data { Data(canonicalBytes()) }

    /// Canonical JSON bytes, as `canonicalJSON()`, in an array.
    public func canonicalBytes() -> [UInt8] {
        var writer = JSONWriter(escapeSlashes: false)
        writer.value(self)
        return writer.bytes
    }
}

/// Limits on JSON that Folio accepts as content or metadata.
public struct JSONLimits: Hashable, Sendable {
    public var maxBytes: Int
    public var maxDepth: Int

    public init(maxBytes: Int, maxDepth: Int) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    /// 1 MiB and 32 levels: pages run 20–50 KB and a few levels deep.
    public static let `default` = JSONLimits(maxBytes: 1 << 20, maxDepth: 32)

    /// The most input `JSONValue.parse(_:limits:)` reads: eight times `maxBytes`, room for a value
    /// within the limit written with indentation, as an import line may take 8 MiB.
    public var maxInputBytes: Int { maxBytes * 8 }
}

extension JSONLimits {
    /// Checks a value against these limits: its size written canonically (as it is stored,
    /// whatever whitespace it came with) and its depth.
    public func check(_ value: JSONValue, _ what: String) throws(DomainError) {
        try check(bytes: value.canonicalBytes().count, depth: value.depth, what)
    }

    /// Checks content kept as canonical bytes (an imported draft's) against these limits.
    public func check(_ value: CanonicalJSON, _ what: String) throws(DomainError) {
        try check(bytes: value.bytes.count, depth: value.depth, what)
    }

    private func check(bytes: Int, depth: Int, _ what: String) throws(DomainError) {
        guard bytes <= maxBytes else {
            throw DomainError(.jsonTooLarge, "\(what) is \(bytes) bytes written canonically (keys sorted, no whitespace), over the limit of \(maxBytes) bytes")
        }
        guard depth <= maxDepth else {
            throw DomainError(.jsonTooDeep, "\(what) nests deeper than \(maxDepth) levels")
        }
    }
}
