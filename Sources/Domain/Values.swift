#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The four pages every client has.
public enum PageType: String, Codable, CaseIterable, Sendable, Comparable {
    case activation, agreement, confirmation, processing

    public static func < (a: PageType, b: PageType) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses a page type, naming the rule when it is not one of the four.
    public static func parse(_ text: String) throws(DomainError) -> PageType {
        guard let page = PageType(rawValue: text) else {
            throw DomainError(.pageType, "page type \"\(text)\" is unknown: it is one of activation, agreement, confirmation, processing (rule 5)")
        }
        return page
    }
}

/// What a content version led to.
public enum Outcome: String, Codable, CaseIterable, Sendable {
    case success, failure, pending

    public static func parse(_ text: String) throws(DomainError) -> Outcome {
        guard let outcome = Outcome(rawValue: text) else {
            throw DomainError(.outcome, "outcome \"\(text)\" is unknown: it is one of success, failure, pending (rule 5)")
        }
        return outcome
    }
}

/// Where a client is in its life: pending → active → paid, active → failed → paid.
public enum ClientStatus: String, Codable, CaseIterable, Sendable {
    case pending, active, paid, failed
}

/// Where a payment is.
public enum PaymentStatus: String, Codable, CaseIterable, Sendable {
    case pending, succeeded, failed, cancelled
}

/// What a payment command reports.
public enum PaymentAction: String, Codable, CaseIterable, Sendable {
    case start, succeed, fail, cancel

    /// The status this action gives the payment.
    public var status: PaymentStatus {
        switch self {
        case .start: .pending
        case .succeed: .succeeded
        case .fail: .failed
        case .cancel: .cancelled
        }
    }
}

/// An activation token: `G` and four ASCII digits, `G0000`–`G9999`.
public struct Token: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// 0…9999.
    public let number: Int
    /// How many tokens there are.
    public static let space = 10_000

    /// Parses `G` + exactly four ASCII digits.
    public init(_ string: String) throws(DomainError) {
        let bytes = Array(string.utf8)
        guard bytes.count == 5, bytes[0] == UInt8(ascii: "G"), bytes[1...].allSatisfy({ (48...57).contains($0) }) else {
            throw DomainError(.tokenFormat, "\"\(string)\" is not an activation token: a token is G followed by 4 digits, such as G0427 (rule 1)")
        }
        number = bytes[1...].reduce(0) { $0 * 10 + Int($1 - 48) }
    }

    /// The token with `number` (0…9999).
    public init(number: Int) {
        precondition((0..<Self.space).contains(number), "a token number is 0…9999")
        self.number = number
    }

    public var description: String {
        let digits = String(number)
        return "G" + String(repeating: "0", count: 4 - digits.count) + digits
    }

    public static func < (a: Token, b: Token) -> Bool { a.number < b.number }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Draws uniformly among the tokens for which `isIssued` is false.
    ///
    /// Tries a few uniform draws first; when most tokens are taken it lists the free ones and
    /// picks one of them uniformly, so it stays fast with 9,999 issued.
    /// - Throws: `tokensExhausted` when all 10,000 have been issued.
    public static func draw(
        issuedCount: Int, isIssued: (Token) -> Bool, using rng: inout some RandomNumberGenerator
    ) throws(DomainError) -> Token {
        guard issuedCount < space else {
            throw DomainError(.tokensExhausted, "all 10000 activation tokens (G0000–G9999) have been issued: a token is never issued twice (rule 1)")
        }
        for _ in 0..<16 {
            let token = Token(number: Int.random(in: 0..<space, using: &rng))
            if !isIssued(token) { return token }
        }
        var candidates: [Token] = []
        for number in 0..<space where !isIssued(Token(number: number)) { candidates.append(Token(number: number)) }
        guard let token = candidates.randomElement(using: &rng) else {
            throw DomainError(.tokensExhausted, "all 10000 activation tokens (G0000–G9999) have been issued: a token is never issued twice (rule 1)")
        }
        return token
    }
}

extension UUID {
    /// Parses the 36-character form (`8-4-4-4-12` hex digits, either case), as `UUID(uuidString:)`
    /// does, without its trip through `sscanf` (payloads and rows carry several ids each).
    public init?(text: String) {
        var text = text
        guard let id = text.withUTF8({ UUID(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = id
    }

    /// Parses the 36-character form from its UTF-8 bytes; with `lowercaseOnly`, only as Folio
    /// writes it, its letters in lowercase.
    package init?(utf8: UnsafeRawBufferPointer, lowercaseOnly: Bool = false) {
        guard utf8.count == 36, utf8[8] == UInt8(ascii: "-"), utf8[13] == UInt8(ascii: "-"),
              utf8[18] == UInt8(ascii: "-"), utf8[23] == UInt8(ascii: "-")
        else { return nil }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        // Digits through a table (a letter or a digit is a coin toss a branch would mispredict);
        // any byte that is not a hex digit sets the high bits of `invalid`.
        let invalid = (lowercaseOnly ? lowercaseHexDigits : hexDigits).withUnsafeBufferPointer { digits in
            withUnsafeMutableBytes(of: &bytes) { out in
                var invalid: UInt8 = 0
                for (slot, offset) in uuidDigitOffsets.enumerated() {
                    let high = digits[Int(utf8[offset])], low = digits[Int(utf8[offset + 1])]
                    invalid |= high | low
                    out[slot] = high << 4 | low
                }
                return invalid
            }
        }
        guard invalid & 0xF0 == 0 else { return nil }
        self.init(uuid: bytes)
    }
}

/// Where each byte's two hex digits start in the 36-character form of an id.
private let uuidDigitOffsets = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

/// Each byte's value as a hex digit, or 0xFF.
private let hexDigits: [UInt8] = (0..<256).map { byte in hexValue(UInt8(byte)) ?? 0xFF }

/// `hexDigits` without the uppercase letters.
private let lowercaseHexDigits: [UInt8] = (0..<256).map { byte in
    (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(UInt8(byte)) ? 0xFF : hexValue(UInt8(byte)) ?? 0xFF
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

extension UUID {
    /// A new random id (version 4) from the system's random source as `SystemRandomNumberGenerator`
    /// draws it: `getrandom(2)` on Linux, which needs no `/dev/urandom` (without it, `UUID()` gives
    /// the same id every time); a source that fails stops the process rather than repeat an id.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var halves = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &halves) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // the variant of RFC 9562
            return UUID(uuid: raw.loadUnaligned(as: uuid_t.self))
        }
    }

    /// The id's 16 bytes as two big-endian halves, which order ids as their text (`uuidString`)
    /// does, without making the text: for sorting.
    public var order: (UInt64, UInt64) {
        withUnsafeBytes(of: uuid) { raw in
            (UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The lowercase form Folio prints and stores: `uuidString.lowercased()`, without its trip through `sprintf`.
    public var lowercased: String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeLowercased(to: out)
            return 36
        }
    }

    /// Appends the 36 bytes of `lowercased` to `bytes`, without making a String.
    public func appendLowercased(to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { out in
            writeLowercased(to: out)
            bytes.append(contentsOf: out)
        }
    }

    private func writeLowercased(to out: UnsafeMutableBufferPointer<UInt8>) {
        withUnsafeBytes(of: uuid) { raw in
            var index = 0
            for (offset, byte) in raw.enumerated() {
                if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                    out[index] = UInt8(ascii: "-")
                    index += 1
                }
                out[index] = lowercaseHex[Int(byte >> 4)]
                out[index + 1] = lowercaseHex[Int(byte & 0x0F)]
                index += 2
            }
        }
    }
}

private let lowercaseHex = Array("0123456789abcdef".utf8)
