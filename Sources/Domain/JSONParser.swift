#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A strict JSON parser (RFC 8259) over UTF-8 bytes, producing `JSONValue`s.
///
/// It reads payloads, content and import lines several times faster than `JSONSerialization`
/// (no bridging through `NSNumber` and `NSDictionary`), and refuses what that refuses: trailing
/// commas, leading zeros, raw control characters and unpaired surrogates in strings, invalid
/// UTF-8, and anything after the value. Nesting is counted as it goes, so hostile input nested
/// 100,000 deep is refused at `maxDepth` without deep recursion.
///
/// Numbers: an integral value within ±2⁵³ is `.integer` (as `1`, `1.0` and `1e2` were when
/// Folio parsed through Foundation), so is any integer literal within `Int64`; any other is `.double`.
public struct JSONParser {
    /// Why a text is not JSON that Folio reads.
    public enum Failure: Error, Hashable, Sendable {
        /// Not JSON: `offset` is where the parser gave up.
        case invalid(offset: Int)
        /// A string holds bytes that are not UTF-8.
        case invalidUTF8
        /// A string escapes half of a surrogate pair alone (`\ud800`), which is no character:
        /// `offset` is where its escape begins.
        case unpairedSurrogate(offset: Int)
        /// Arrays and objects nest deeper than allowed.
        case tooDeep
        /// A whole number past Int64 that no double holds exactly: kept as one it would change.
        case inexactNumber(offset: Int)
        /// A number past what a double holds (`1e400`): kept as one it would be infinite.
        case numberOutOfRange(offset: Int)
        /// A number other than zero too small for a double (`1e-400`): kept as one it would be 0.
        case numberTooSmall(offset: Int)
        /// An object holds this key twice: one of the two values would be dropped unseen.
        case duplicateKey(String)
        /// An object holds two keys that are the same text in different Unicode forms (`"é"` as
        /// one scalar, then as `e` and a combining accent), in the order met: distinct to JSON,
        /// but one key to a `[String: JSONValue]`, which would drop one of their values.
        case equivalentKeys(String, String)
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private let maxDepth: Int
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses one JSON value filling all of `bytes` (whitespace around it allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw .invalid(offset: parser.index) }
        return value
    }

    /// Parses one JSON value filling all of `bytes`.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 512) throws(Failure) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(Failure) in try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth) }
        } ?? Array(bytes).withUnsafeBytes { buffer in
            Result { () throws(Failure) in try parse(buffer, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Parses a JSON object filling all of `bytes`, except the value of its member `rawKey`,
    /// which is checked as `parse` checks it but not built (nor searched for a key twice in one of
    /// its objects, which stored payloads, canonical, never hold): `raw` is the range of bytes it fills
    /// (`nil` when there is no such member). For payloads whose content only needs copying.
    public static func parseObject(
        _ bytes: UnsafeRawBufferPointer, rawKey: String, maxDepth: Int = 512
    ) throws(Failure) -> (fields: [String: JSONValue], raw: Range<Int>?) {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        guard parser.current == UInt8(ascii: "{") else { throw .invalid(offset: parser.index) }
        try parser.enter()
        parser.index += 1
        var fields: [String: JSONValue] = [:]
        var raw: Range<Int>?
        parser.skipWhitespace()
        if parser.current == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            members: while true {
                guard parser.current == UInt8(ascii: "\"") else { throw .invalid(offset: parser.index) }
                let key = try parser.string()
                parser.skipWhitespace()
                guard parser.current == UInt8(ascii: ":") else { throw .invalid(offset: parser.index) }
                parser.index += 1
                parser.skipWhitespace()
                if key == rawKey {
                    let start = parser.index
                    try parser.skipValue()
                    guard raw == nil else { throw .duplicateKey(key) }
                    raw = start..<parser.index
                } else {
                    let value = try parser.value()
                    guard fields.updateValue(value, forKey: key) == nil else { throw repeated(key, in: fields) }
                }
                parser.skipWhitespace()
                switch parser.current {
                case UInt8(ascii: ","):
                    parser.index += 1
                    parser.skipWhitespace()
                case UInt8(ascii: "}"):
                    parser.index += 1
                    break members
                default:
                    throw .invalid(offset: parser.index)
                }
            }
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw .invalid(offset: parser.index) }
        return (fields, raw)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString, _ value: JSONValue) throws(Failure) -> JSONValue {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .invalid(offset: index) }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { throw .invalid(offset: index + offset) }
        index += count
        return value
    }

    private mutating func value() throws(Failure) -> JSONValue {
        guard let byte = current else { throw .invalid(offset: index) }
        switch byte {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw .invalid(offset: index)
        }
    }

    /// Checks one value as `value()` does, without building it.
    private mutating func skipValue() throws(Failure) {
        guard let byte = current else { throw .invalid(offset: index) }
        let close: UInt8
        switch byte {
        case UInt8(ascii: "\""):
            _ = try string(building: false)
            return
        case UInt8(ascii: "{"): close = UInt8(ascii: "}")
        case UInt8(ascii: "["): close = UInt8(ascii: "]")
        default:
            _ = try value()
            return
        }
        try enter()
        index += 1
        skipWhitespace()
        if current == close {
            index += 1
            depth -= 1
            return
        }
        while true {
            if close == UInt8(ascii: "}") {
                guard current == UInt8(ascii: "\"") else { throw .invalid(offset: index) }
                _ = try string(building: false)
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw .invalid(offset: index) }
                index += 1
                skipWhitespace()
            }
            try skipValue()
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case close:
                index += 1
                depth -= 1
                return
            default:
                throw .invalid(offset: index)
            }
        }
    }

    /// Why `key` cannot join `fields`, which hold it already: the same bytes, or the same text in
    /// another Unicode form (the key held is the one met first: an update keeps it).
    static func repeated(_ key: String, in fields: [String: JSONValue]) -> Failure {
        let held = fields.index(forKey: key).map { fields.keys[$0] } ?? key
        return held.utf8.elementsEqual(key.utf8) ? .duplicateKey(key) : .equivalentKeys(held, key)
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= maxDepth else { throw .tooDeep }
    }

    private mutating func object() throws(Failure) -> JSONValue {
        try enter()
        index += 1
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(fields)
        }
        while true {
            guard current == UInt8(ascii: "\"") else { throw .invalid(offset: index) }
            let key = try string()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw .invalid(offset: index) }
            index += 1
            skipWhitespace()
            let member = try value()
            guard fields.updateValue(member, forKey: key) == nil else { throw Self.repeated(key, in: fields) }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(fields)
            default:
                throw .invalid(offset: index)
            }
        }
    }

    private mutating func array() throws(Failure) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw .invalid(offset: index)
            }
        }
    }

    /// A string token starting at its opening quote; when not `building`, it is checked the
    /// same way but an unescaped string is not made (and "" returned).
    private mutating func string(building: Bool = true) throws(Failure) -> String {
        index += 1
        let start = index
        var ascii = true
        // Fast path: no escapes up to the closing quote. Eight bytes at a time while none of
        // them is a quote, a backslash or a control character.
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let quote = word ^ 0x2222_2222_2222_2222
            let backslash = word ^ 0x5C5C_5C5C_5C5C_5C5C
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let stops = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- 0x2020_2020_2020_2020) & ~word)
            if stops & highs != 0 { break }
            if word & highs != 0 { ascii = false }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard building else {
                    if !ascii, !UTF8Validation.isValid(slice) { throw .invalidUTF8 }
                    return ""
                }
                return try Self.text(slice, ascii: ascii)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw .invalid(offset: index) }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        guard index < bytes.count else { throw .invalid(offset: index) }
        // Slow path: unescape into a buffer.
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try out.withUnsafeBytes { buffer in Result { () throws(Failure) in try Self.text(buffer, ascii: ascii) } }.get()
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = current else { throw .invalid(offset: index) }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let escape = index - 2
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                            throw .unpairedSurrogate(offset: escape)
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw .unpairedSurrogate(offset: escape) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw .unpairedSurrogate(offset: escape)
                    }
                    let character = Unicode.Scalar(scalar)!
                    if scalar >= 0x80 { ascii = false }
                    out.append(contentsOf: UTF8.encode(character)!)
                default:
                    throw .invalid(offset: index - 1)
                }
            default:
                if byte < 0x20 { throw .invalid(offset: index) }
                if byte >= 0x80 { ascii = false }
                out.append(byte)
                index += 1
            }
        }
        throw .invalid(offset: index)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .invalid(offset: index) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .invalid(offset: index)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Whether `value`, a whole double of at least 2^63, is exactly the number `digits` write
    /// (decimal digits, no sign or leading zero): its 53-bit significand times a power of two,
    /// written out in base 10⁹ and compared digit for digit.
    static func isExactly(_ value: Double, _ digits: UnsafeRawBufferPointer) -> Bool {
        let base: UInt64 = 1_000_000_000
        var limbs: [UInt64] = []
        var significand = value.significandBitPattern | (1 << 52)
        while significand > 0 {
            limbs.append(significand % base)
            significand /= base
        }
        for _ in 0..<max(0, Int(value.exponent) - 52) {
            var carry: UInt64 = 0
            for index in limbs.indices {
                let doubled = limbs[index] * 2 + carry
                limbs[index] = doubled % base
                carry = doubled / base
            }
            if carry > 0 { limbs.append(carry) }
        }
        var text = limbs.last.map { String($0) } ?? "0"
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text.utf8.elementsEqual(digits)
    }

    private static func text(_ bytes: UnsafeRawBufferPointer, ascii: Bool) throws(Failure) -> String {
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard UTF8Validation.isValid(bytes) else { throw .invalidUTF8 }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw .invalid(offset: index) }
        // Accumulate as a negative number so that Int64.min fits.
        var magnitude: Int64 = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            index += 1
            if let next = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) { throw .invalid(offset: index) }
        } else {
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = next
                index += 1
            }
        }
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw .invalid(offset: index) }
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        }
        let significandEnd = index
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw .invalid(offset: index) }
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        }
        if integral, !overflow {
            if negative { return .integer(magnitude) }
            if magnitude != .min { return .integer(-magnitude) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text) else { throw .invalid(offset: start) }
        guard double.isFinite else { throw .numberOutOfRange(offset: start) }
        if double == 0, bytes[start..<significandEnd].contains(where: { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }) {
            throw .numberTooSmall(offset: start)
        }
        // A whole number past Int64 is kept as a double only where the double is exactly it.
        if integral, !Self.isExactly(double.magnitude, UnsafeRawBufferPointer(rebasing: bytes[(negative ? start + 1 : start)..<index])) {
            throw .inexactNumber(offset: start)
        }
        if double == double.rounded(), abs(double) <= 9_007_199_254_740_992 { return .integer(Int64(double)) }
        return .double(double)
    }
}

/// UTF-8 validation as RFC 3629 has it: no overlong forms, no surrogates, nothing above U+10FFFF.
enum UTF8Validation {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = bytes[index + 1]
            guard second >= low, second <= high else { return false }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }
}

// MARK: - Reading an object's members as they come

extension JSONParser {
    /// Reads the JSON object filling all of `bytes` member by member, checking it as `parse`
    /// checks it, without building it: `member` gets each key's bytes (`nil` for a key written
    /// with escapes, unless `decodingKeys`, which gives such a key's text) and must read its value
    /// with one of the `read…` methods. It returns `false` to stop early, and so does this; a text
    /// `parse` would refuse throws.
    package static func readObject(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512, decodingKeys: Bool = false,
        _ member: (_ key: UnsafeRawBufferPointer?, _ reader: inout JSONParser) throws(Failure) -> Bool
    ) throws(Failure) -> Bool {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        guard parser.current == UInt8(ascii: "{") else { throw .invalid(offset: parser.index) }
        try parser.enter()
        parser.index += 1
        parser.skipWhitespace()
        if parser.current == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                guard parser.current == UInt8(ascii: "\"") else { throw .invalid(offset: parser.index) }
                let keyStart = parser.index + 1
                _ = try parser.string(building: false)
                let keyBytes = UnsafeRawBufferPointer(rebasing: bytes[keyStart..<(parser.index - 1)])
                let escaped = keyBytes.contains(UInt8(ascii: "\\"))
                parser.skipWhitespace()
                guard parser.current == UInt8(ascii: ":") else { throw .invalid(offset: parser.index) }
                parser.index += 1
                parser.skipWhitespace()
                if escaped, decodingKeys {
                    var keyParser = JSONParser(UnsafeRawBufferPointer(rebasing: bytes[(keyStart - 1)...]), maxDepth: maxDepth)
                    var text = try keyParser.string()
                    var more: Result<Bool, Failure> = .success(true)
                    text.withUTF8 { key in more = Result { () throws(Failure) in try member(UnsafeRawBufferPointer(key), &parser) } }
                    guard try more.get() else { return false }
                } else {
                    guard try member(escaped ? nil : keyBytes, &parser) else { return false }
                }
                parser.skipWhitespace()
                if parser.current == UInt8(ascii: ",") {
                    parser.index += 1
                    parser.skipWhitespace()
                } else if parser.current == UInt8(ascii: "}") {
                    parser.index += 1
                    break
                } else {
                    throw .invalid(offset: parser.index)
                }
            }
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw .invalid(offset: parser.index) }
        return true
    }

    /// Reads the value at hand, built.
    package mutating func readValue() throws(Failure) -> JSONValue { try value() }

    /// Reads the value at hand; returns it when it is a whole number written as one (digits, and a
    /// minus sign at most: not `1.0` or `1e2`, which `readValue` also reads as integers).
    private mutating func readWholeNumber() throws(Failure) -> Int64? {
        let start = index
        guard case .integer(let value) = try value() else { return nil }
        let written = bytes[start..<index]
        return written.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }) ? value : nil
    }

    /// The text of the value at `path` (keys of nested objects) in the object `bytes` holds,
    /// unless it is a whole number written as one; `nil` when it is one, or absent (or the
    /// object cannot be read).
    package static func wholeNumberMiswritten(at path: some Collection<String>, in bytes: UnsafeRawBufferPointer) -> String? {
        guard let key = path.first else { return nil }
        var miswritten: String?
        _ = try? readObject(bytes, decodingKeys: true) { name, reader throws(Failure) in
            guard let name, name.elementsEqual(key.utf8) else {
                _ = try reader.readRaw()
                return true
            }
            let start = reader.index
            if path.count > 1 {
                let range = try reader.readRaw()
                miswritten = wholeNumberMiswritten(at: path.dropFirst(), in: UnsafeRawBufferPointer(rebasing: bytes[range]))
            } else if try reader.readWholeNumber() == nil {
                miswritten = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<reader.index]), as: UTF8.self)
            }
            return true
        }
        return miswritten
    }

    /// Reads the value at hand, checked but not built; returns the range of bytes it fills.
    package mutating func readRaw() throws(Failure) -> Range<Int> {
        let start = index
        try skipValue()
        return start..<index
    }

    /// Reads the value at hand when it is written canonically (as `isCanonical` checks it, no
    /// deeper than `maxDepth` below it), in the same pass that finds its end; returns the range it
    /// fills, or `nil` for any other value, which is then left unread.
    package mutating func readCanonicalRaw(maxDepth: Int) -> Range<Int>? {
        var checker = CanonicalChecker(bytes: bytes, maxDepth: maxDepth, index: index)
        guard checker.value(depth: 0) else { return nil }
        defer { index = checker.index }
        return index..<checker.index
    }

    /// Whether the value at hand is `null` (then read) or a string (then left for `readString`/`readUUID`).
    /// Anything else is left unread: `nil`.
    package mutating func readNullOrString() throws(Failure) -> Bool? {
        switch current {
        case UInt8(ascii: "n"):
            _ = try expect("null", .null)
            return true
        case UInt8(ascii: "\""):
            return false
        default:
            return nil
        }
    }

    /// Reads the string at hand (`nil`, unread, when the value is not a string).
    package mutating func readString() throws(Failure) -> String? {
        guard current == UInt8(ascii: "\"") else { return nil }
        return try string()
    }

    /// Reads the string at hand as an id in its 36-character form; `nil` when it is not one
    /// written plainly (a string with escapes is read and also gives `nil`; so does a value that
    /// is not a string, left unread). With `lowercaseOnly`, one with an uppercase letter gives `nil` too.
    package mutating func readUUID(lowercaseOnly: Bool = false) throws(Failure) -> UUID? {
        try readStringBytes().flatMap { UUID(utf8: $0, lowercaseOnly: lowercaseOnly) }
    }

    /// Reads the string at hand and returns the bytes between its quotes as they are written,
    /// escapes and all (`nil`, unread, when the value is not a string).
    package mutating func readStringBytes() throws(Failure) -> UnsafeRawBufferPointer? {
        guard current == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        _ = try string(building: false)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(index - 1)])
    }
}
