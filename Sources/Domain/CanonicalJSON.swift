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

/// A JSON value kept as its canonical bytes (keys in UTF-8 byte order, no whitespace, slashes
/// unescaped: what `JSONValue.canonicalBytes()` writes).
///
/// Page content travels in this form from payload to read-model row: a rebuild copies a
/// version's content out of its payload and into its row without building it as a tree of
/// values and writing it out again. Two values are equal exactly when their bytes are, as
/// canonical bytes are unique to a value.
public struct CanonicalJSON: Hashable, Sendable {
    /// The canonical bytes.
    public let bytes: [UInt8]

    /// `value` in canonical form.
    public init(_ value: JSONValue) { bytes = value.canonicalBytes() }

    /// Bytes already canonical: a slice of a canonical payload, which Folio wrote. Anything else
    /// would break equality, so only the payload decoder calls this.
    init(canonicalBytes: [UInt8]) { bytes = canonicalBytes }

    /// Content a decoder was told not to copy (`Event.decode(…, copyingContent: false)`): no
    /// bytes, and no JSON value (`value` is `null`).
    public static let omitted = CanonicalJSON(canonicalBytes: [])

    /// The value the bytes hold.
    public var value: JSONValue {
        // Canonical bytes were written by Folio's writer, or checked by its parser: they parse.
        (try? JSONParser.parse(bytes, maxDepth: Int.max)) ?? .null
    }

    /// Whether the value is a JSON object.
    public var isObject: Bool { bytes.first == UInt8(ascii: "{") }

    /// How many objects and arrays deep the value nests, read from its bytes as the parser counts
    /// (`JSONValue.depth`). Strings, most of a page's bytes, are skipped with `memchr` to their
    /// closing quote: one not escaped, after an even run of backslashes.
    public var depth: Int {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            var depth = 0, deepest = 0
            var index = 0
            while index < buffer.count {
                switch base[index] {
                case UInt8(ascii: "\""):
                    var from = index + 1
                    while true {
                        guard let found = memchr(base + from, 0x22, buffer.count - from) else { return deepest }
                        let quote = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
                        var backslashes = 0
                        while base[quote - 1 - backslashes] == UInt8(ascii: "\\") { backslashes += 1 }
                        from = quote + 1
                        if backslashes.isMultiple(of: 2) { break }
                    }
                    index = from
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    deepest = max(deepest, depth)
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                default:
                    break
                }
                index += 1
            }
            return deepest
        }
    }
}

extension CanonicalJSON: Codable {
    /// Encoded as the value itself, so that a `Codable` type holding content reads as it did
    /// when it held a `JSONValue`.
    public init(from decoder: any Decoder) throws { self.init(try JSONValue(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

extension JSONWriter {
    /// Writes a canonical value as it stands, escaping its slashes when this writer does.
    ///
    /// In canonical JSON a slash can only stand inside a string, unescaped, and no byte of a
    /// multi-byte UTF-8 sequence is a slash: escaping is writing `\/` for each slash byte.
    public mutating func canonical(_ json: CanonicalJSON) {
        guard escapeSlashes else {
            bytes.append(contentsOf: json.bytes)
            return
        }
        json.bytes.withUnsafeBufferPointer { source in
            var runStart = 0
            for index in source.indices where source[index] == UInt8(ascii: "/") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
                bytes.append(contentsOf: [0x5C, 0x2F])
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart...]))
        }
    }
}
