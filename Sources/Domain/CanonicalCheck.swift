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

extension JSONParser {
    /// Whether `bytes` are one JSON value exactly as `JSONValue.canonicalBytes()` writes it, so
    /// that parsing them and writing them again would give the same bytes: no whitespace, object
    /// keys without escapes in strictly increasing UTF-8 byte order, numbers as the writer writes
    /// the value they parse as (no `-0`, `1.0` or `1e2`), strings in valid UTF-8 with only the writer's escapes
    /// (`\"`, `\\`, `\b \f \n \r \t`, `\u00xx` in lowercase hex for other control characters),
    /// nesting no deeper than `maxDepth`.
    ///
    /// It only ever answers `true` for such bytes; anything else, valid JSON or not, gets `false`
    /// (an import then parses the value and writes it out canonically, as it did before). Tested
    /// against parsing and writing on random values and changed bytes.
    public static func isCanonical(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) -> Bool {
        var checker = CanonicalChecker(bytes: bytes, maxDepth: maxDepth)
        return checker.value(depth: 0) && checker.index == bytes.count
    }
}

/// Checks canonical form in one pass, for `JSONParser.isCanonical` and `readCanonicalRaw`.
struct CanonicalChecker {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var index = 0

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func value(depth: Int) -> Bool {
        guard let byte = current else { return false }
        return switch byte {
        case UInt8(ascii: "{"): object(depth: depth + 1)
        case UInt8(ascii: "["): array(depth: depth + 1)
        case UInt8(ascii: "\""): string(key: false) != nil
        case UInt8(ascii: "t"): literal("true")
        case UInt8(ascii: "f"): literal("false")
        case UInt8(ascii: "n"): literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): number()
        default: false
        }
    }

    private mutating func object(depth: Int) -> Bool {
        var previous: Range<Int>?
        return elements(depth: depth, closedBy: UInt8(ascii: "}")) { checker in
            guard checker.current == UInt8(ascii: "\""), let key = checker.string(key: true) else { return false }
            if let previous, !checker.precedes(previous, key) { return false }
            previous = key
            guard checker.current == UInt8(ascii: ":") else { return false }
            checker.index += 1
            return checker.value(depth: depth)
        }
    }

    private mutating func array(depth: Int) -> Bool {
        elements(depth: depth, closedBy: UInt8(ascii: "]")) { $0.value(depth: depth) }
    }

    /// Reads an object's members or an array's elements, each by `element`, with commas between
    /// them and `close` after the last.
    private mutating func elements(depth: Int, closedBy close: UInt8, _ element: (inout CanonicalChecker) -> Bool) -> Bool {
        guard depth <= maxDepth else { return false }
        index += 1
        if current == close {
            index += 1
            return true
        }
        while true {
            guard element(&self) else { return false }
            switch current {
            case UInt8(ascii: ","): index += 1
            case close:
                index += 1
                return true
            default: return false
            }
        }
    }

    /// Whether the key at `a` sorts strictly before the key at `b` (UTF-8 byte order).
    private func precedes(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        let common = min(a.count, b.count)
        let order = memcmp(bytes.baseAddress! + a.lowerBound, bytes.baseAddress! + b.lowerBound, common)
        return order < 0 || (order == 0 && a.count < b.count)
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, text.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    /// Reads a number: an integer of up to 18 digits at once; any other (a fraction, an exponent,
    /// more digits) when the value it parses as is written back as these very bytes.
    private mutating func number() -> Bool {
        let start = index
        if integer() { return true }
        index = start
        while let byte = current, Self.isNumberByte(byte) { index += 1 }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        guard let value = try? JSONParser.parse(text, maxDepth: 1) else { return false }
        switch value {
        case .integer, .double: return value.canonicalBytes().elementsEqual(text)
        default: return false
        }
    }

    /// Whether a JSON number may be written with `byte`: digits, signs, a point, an exponent.
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): true
        default: false
        }
    }

    private mutating func integer() -> Bool {
        let negative = current == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        let digits = index - start
        guard digits >= 1, digits <= 18 else { return false }
        if bytes[start] == UInt8(ascii: "0"), digits > 1 || negative { return false }
        // A fraction or an exponent makes a double, which this does not vouch for.
        return current != UInt8(ascii: ".") && current != UInt8(ascii: "e") && current != UInt8(ascii: "E")
    }

    /// Reads a string; its contents' range, or `nil` when it is not written canonically (a key
    /// must also be without escapes, so that its bytes are the ones sorted).
    private mutating func string(key: Bool) -> Range<Int>? {
        index += 1
        let start = index
        var ascii = true
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                let contents = start..<index
                index += 1
                if !ascii, !UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: bytes[contents])) { return nil }
                return contents
            case UInt8(ascii: "\\"):
                guard !key, index + 1 < bytes.count else { return nil }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                     UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    // Only a control character without a short escape, as `\u00xx` in lowercase.
                    guard index + 6 <= bytes.count, bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
                          let high = Self.lowercaseHex(bytes[index + 4]), let low = Self.lowercaseHex(bytes[index + 5])
                    else { return nil }
                    let scalar = high << 4 | low
                    guard scalar < 0x20, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(scalar) else { return nil }
                    index += 6
                default:
                    return nil
                }
            case 0..<0x20:
                return nil
            default:
                if byte >= 0x80 { ascii = false }
                index += 1
            }
        }
        return nil
    }

    private static func lowercaseHex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
