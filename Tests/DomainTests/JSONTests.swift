import Domain
import Foundation
import Testing

/// A seeded generator of JSON values with the awkward parts: escapes, control characters,
/// non-ASCII and astral characters, slashes, big and small numbers, nesting.
struct JSONSample {
    var random: ValueTests.SplitMix

    init(state: UInt64) { random = ValueTests.SplitMix(state: state) }

    mutating func next() -> UInt64 { random.next() }

    mutating func pick(_ count: Int) -> Int { Int(next() % UInt64(count)) }

    static let pieces = ["a", "Z", "é", "日本", "😀", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1f}", "\u{7f}", "\u{2028}", " ", "10", "_"]

    mutating func string() -> String {
        (0..<pick(8)).map { _ in Self.pieces[pick(Self.pieces.count)] }.joined()
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        switch pick(depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(pick(2) == 0)
        case 2: return .integer([0, 1, -1, 50_000, Int64.max, Int64.min, Int64(bitPattern: next())][pick(7)])
        case 3:
            let doubles = [0.5, -1.25, 1e-7, 1.5e300, 123.456, 1.0 / 3, Double(Int64(bitPattern: next())) / 1e6 + 0.5]
            return .double(doubles[pick(doubles.count)])
        case 4: return .string(string())
        case 5: return .array((0..<pick(5)).map { _ in value(depth: depth + 1) })
        default:
            var fields: [String: JSONValue] = [:]
            for _ in 0..<pick(6) { fields[string()] = value(depth: depth + 1) }
            return .object(fields)
        }
    }
}

@Suite("JSON") struct JSONTests {
    @Test("canonical JSON is byte for byte what JSONEncoder with sorted keys writes")
    func writerMatchesJSONEncoder() throws {
        let canonical = JSONEncoder()
        canonical.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let escaping = JSONEncoder()
        escaping.outputFormatting = [.sortedKeys]
        var sample = JSONSample(state: 2026)
        for _ in 0..<2_000 {
            let value = sample.value()
            #expect(value.canonicalBytes() == Array(try canonical.encode(value)), "\(value)")
            var writer = JSONWriter()
            writer.value(value)
            #expect(writer.bytes == Array(try escaping.encode(value)), "\(value)")
        }
    }

    @Test("parsing canonical JSON gives the value back")
    func roundTrip() throws {
        var sample = JSONSample(state: 7)
        for _ in 0..<2_000 {
            let value = sample.value()
            #expect(try JSONParser.parse(value.canonicalBytes()) == value)
        }
    }

    @Test("a computed number is the value its JSON text reads back as: whole ones without an exponent are integers")
    func computedNumbers() throws {
        var random = ValueTests.SplitMix(state: 11)
        let edges: [Double] = [0, -0.0, 1, -1, 0.5, 0.0833, 101_340, 0x1p53, -0x1p53, 0x1p53 + 2, 1e16, 1e21, 1e300, .leastNonzeroMagnitude, 0.1 + 0.2]
        let drawn = (0..<2_000).map { _ in Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF) }
        let rounded = (0..<2_000).map { _ in (Double(random.next() % 20_000_000) / 1_000).rounded() }
        for number in edges + drawn + rounded {
            let written = try JSONEncoder().encode(number)
            #expect(JSONValue.number(number) == (try JSONParser.parse(written)), "\(number)")
        }
    }

    @Test("a value's depth is the nesting the parser counts, read alike from the value and from its canonical bytes")
    func depthAgrees() throws {
        var sample = JSONSample(state: 31)
        for _ in 0..<2_000 {
            let value = sample.value()
            let bytes = value.canonicalBytes()
            #expect(CanonicalJSON(value).depth == value.depth, "\(value)")
            #expect((try? JSONParser.parse(bytes, maxDepth: value.depth)) != nil, "\(value)")
            if value.depth > 0 { #expect((try? JSONParser.parse(bytes, maxDepth: value.depth - 1)) == nil, "\(value)") }
        }
        #expect(CanonicalJSON(.object(["a": .string("{[\\\"]}"), "b": .array([.object([:])])])).depth == 3)
        #expect(CanonicalJSON(.array([.string("ends in \\"), .array([.string("\\\\\""), .object([:])])])).depth == 3)
    }

    /// The decimal digits of a whole double, as the C library prints them (exactly, on glibc).
    static func digits(of value: Double) -> String { String(format: "%.0f", value) }

    @Test("a whole number past 64 bits is refused, not rounded to a double")
    func inexactNumbers() throws {
        #expect(try JSONParser.parse(Array("9223372036854775807".utf8)) == .integer(.max))
        #expect(try JSONParser.parse(Array("-9223372036854775808".utf8)) == .integer(.min))
        #expect(try JSONParser.parse(Array("1.2345678901234567e+19".utf8)) == .double(1.2345678901234567e+19))
        // Past Int64, a whole number a double holds exactly (2^63, -2^63 - 2^11, 2^70) is that double.
        #expect(try JSONParser.parse(Array("9223372036854775808".utf8)) == .double(9_223_372_036_854_775_808))
        #expect(try JSONParser.parse(Array("-9223372036854777856".utf8)) == .double(-9_223_372_036_854_777_856))
        #expect(try JSONParser.parse(Array("1180591620717411303424".utf8)) == .double(1_180_591_620_717_411_303_424))
        for text in ["9223372036854775809", "-9223372036854775809", "12345678901234567890", "1180591620717411303425", #"{"a":[100000000000000000000000]}"#] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(Array(text.utf8)) }
        }
        // Every whole double from 2^63 up is read back as itself from its integer digits.
        var sample = JSONSample(state: 5)
        for _ in 0..<500 {
            let value = Double(sign: .plus, exponent: 63 + sample.pick(900), significand: 1 + Double(sample.next() >> 12) / Double(1 << 52))
            let digits = Self.digits(of: value)
            #expect(try JSONParser.parse(Array(digits.utf8)) == .double(value), "\(digits)")
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array((digits.dropLast() + (digits.last == "1" ? "2" : "1")).utf8)) }
        }
        #expect { try JSONValue.parse(Data(#"{"price":12345678901234567890}"#.utf8)) } throws: {
            ($0 as? DomainError)?.message == "holds a whole number past 64 bits that no double holds exactly: Folio could not keep it as written"
        }
        // Valid JSON past a double's range is named as such, not as invalid JSON.
        for number in ["1e400", "-1e400", "1.5e309", String(repeating: "9", count: 400)] {
            #expect { try JSONValue.parse(Data(#"{"n":\#(number)}"#.utf8)) } throws: {
                ($0 as? DomainError)?.message == "holds a number (at byte 6) past the largest a double holds, about 1.8e308: Folio could not keep it"
            }
        }
        // So is one too small for a double, which would read as 0; zero itself, and the smallest
        // double, are kept.
        for number in ["1e-400", "-2.5e-330", "0.0001e-400"] {
            #expect { try JSONValue.parse(Data(#"{"n":\#(number)}"#.utf8)) } throws: {
                ($0 as? DomainError)?.message == "holds a number (at byte 6) too small for a double, under about 2.5e-324 (half the smallest, 4.9e-324), which would read it as 0: Folio could not keep it as written"
            }
        }
        for number in ["0", "0.0", "0e-400", "-0.000e5", "5e-324"] {
            #expect((try? JSONValue.parse(Data(#"{"n":\#(number)}"#.utf8))) != nil, "\(number)")
        }
    }

    @Test("the parser reads escapes, whitespace and numbers as JSON has them")
    func reads() throws {
        let text = #" { "a" : [ 1 , -0 , 2.5 , 1e2 , 1.0, -9223372036854775808, 9223372036854775808 ] , "s" : "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00" , "t" : true , "f" : false , "n" : null } "#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value == .object([
            "a": .array([.integer(1), .integer(0), .double(2.5), .integer(100), .integer(1), .integer(.min), .double(9_223_372_036_854_775_808)]),
            "s": .string("x\"\\/\u{8}\u{c}\n\r\té😀"), "t": .bool(true), "f": .bool(false), "n": .null,
        ]))
    }

    @Test("the parser refuses what is not JSON", arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]", "tru", "nul",
        "\"a", "\"\u{1}\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "1 2", "[1] x",
        "{\"a\" 1}", "[1 2]", "NaN", "[Infinity]", "'a'", "[1e400]",
    ])
    func refuses(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused as such")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            #expect(throws: JSONParser.Failure.invalidUTF8) { try JSONParser.parse(bytes) }
        }
    }

    @Test("each byte of a string is checked wherever it falls, within the words read at once or in the bytes after them, parsed or left raw")
    func everyPositionOfAString() throws {
        func parsed(_ text: [UInt8]) throws -> JSONValue { try JSONParser.parse(text) }
        func raw(_ text: [UInt8]) throws {
            let object = Array(#"{"c":"#.utf8) + text + Array("}".utf8)
            _ = try object.withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "c") }
        }
        for length in 1...40 {
            for position in 0..<length {
                func string(_ middle: [UInt8]) -> [UInt8] {
                    [0x22] + [UInt8](repeating: UInt8(ascii: "a"), count: position) + middle
                        + [UInt8](repeating: UInt8(ascii: "a"), count: length - position - 1) + [0x22]
                }
                let plain = String(repeating: "a", count: position), rest = String(repeating: "a", count: length - position - 1)
                let control = string([0x01])
                #expect(throws: JSONParser.Failure.invalid(offset: 1 + position)) { try parsed(control) }
                #expect(throws: JSONParser.Failure.invalid(offset: 6 + position)) { try raw(control) }
                let invalid = string([0xFF])
                #expect(throws: JSONParser.Failure.invalidUTF8) { try parsed(invalid) }
                #expect(throws: JSONParser.Failure.invalidUTF8) { try raw(invalid) }
                #expect(try parsed(string(Array("é".utf8))) == .string(plain + "é" + rest))
                #expect(try parsed(string(Array(#"\""#.utf8))) == .string(plain + "\"" + rest))
                #expect(try parsed(string(Array(#"\n"#.utf8))) == .string(plain + "\n" + rest))
                // A quote ends the string there: what follows it is not JSON.
                #expect(throws: JSONParser.Failure.self) { try parsed(string([0x22])) }
                try raw(string(Array("é".utf8)))
                try raw(string(Array(#"\""#.utf8)))
            }
        }
    }

    @Test("half of a surrogate pair escaped alone is refused as such, naming where its escape begins")
    func unpairedSurrogates() throws {
        for (text, offset) in [(#"{"a":"\ud800"}"#, 6), (#"["x\udc00"]"#, 3), (#""\ud800\u0041""#, 1), (#""ab\ud800x""#, 3)] {
            #expect(throws: JSONParser.Failure.unpairedSurrogate(offset: offset)) { try JSONParser.parse(Array(text.utf8)) }
        }
        #expect(try JSONParser.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
        #expect { try JSONValue.parse(Data(#"{"a":"\ud800"}"#.utf8)) } throws: {
            ($0 as? DomainError)?.message == "is not valid JSON text: the \\u escape at byte 7 is half of a surrogate pair alone, which is no character"
        }
    }

    @Test("nesting past the limit is refused without recursing into it")
    func depth() throws {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(throws: JSONParser.Failure.tooDeep) { try JSONParser.parse(deep, maxDepth: 32) }
        let fine = Array(repeating: UInt8(ascii: "["), count: 32) + Array(repeating: UInt8(ascii: "]"), count: 32)
        _ = try JSONParser.parse(fine, maxDepth: 32)
    }

    /// The value with numbers Foundation reads exactly (it reads large integers through `Double`).
    func tame(_ value: JSONValue) -> JSONValue {
        switch value {
        case .integer(let number): .integer(number % 1_000_000)
        case .double: .double(0.25)
        case .array(let elements): .array(elements.map(tame))
        case .object(let fields): .object(fields.mapValues(tame))
        default: value
        }
    }

    @Test("a leading byte-order mark is not part of the value; invalid JSON is named by where it goes wrong")
    func byteOrderMarkAndOffsets() throws {
        #expect(try JSONValue.parse(Data([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8))) == .object(["a": .integer(1)]))
        #expect(throws: DomainError(.jsonInvalid, "is not valid JSON (at byte 6 of 7)")) { try JSONValue.parse(Data(#"{"a":}x"#.utf8)) }
        #expect(throws: DomainError(.jsonInvalid, "is not valid JSON (at byte 5 of 8)")) { try JSONValue.parse(Data([0xEF, 0xBB, 0xBF] + Array("nope!".utf8))) }
        // Input cut short is said to end early, not to be wrong at a byte past its end.
        for cut in [#"{"a":1"#, #"{"a":"#, #"{"a":[1,"#, #"{"a":"text"#, #"{"#] {
            #expect(throws: DomainError(.jsonInvalid, "is not valid JSON: it ends (after byte \(cut.utf8.count)) before its value does")) { try JSONValue.parse(Data(cut.utf8)) }
        }
        // Nothing, or only blanks, is named as empty, not as invalid at a byte past its end.
        for empty in ["", " \n", "\u{FEFF}"] {
            #expect(throws: DomainError(.jsonInvalid, "is empty: a JSON object is needed")) { try JSONValue.parse(Data(empty.utf8)) }
        }
    }

    @Test("text in two Unicode forms is two values, as its bytes are; two such keys in one object are refused, naming both")
    func unicodeForms() throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed, "the premise: Swift's String takes the two for one")
        #expect(JSONValue.string(composed) != .string(decomposed))
        #expect(JSONValue.string(composed) == .string("caf\u{E9}"))
        #expect(JSONValue.object([composed: .integer(1)]) != .object([decomposed: .integer(1)]))
        #expect(JSONValue.object([composed: .array([.string(decomposed)])]) == .object(["caf\u{E9}": .array([.string("cafe\u{301}")])]))
        #expect(JSONValue.object([composed: .integer(1)]).member(exactly: composed) == .integer(1))
        #expect(JSONValue.object([composed: .integer(1)]).member(exactly: decomposed) == nil)
        // Parsed from escapes, each keeps its form.
        #expect(try JSONParser.parse(Array(#"["caf\u00e9","cafe\u0301"]"#.utf8)) == .array([.string(composed), .string(decomposed)]))
        for (text, first, second) in [(#"{"\u00c5":1,"\u212b":2}"#, "\u{C5}", "\u{212B}"), (#"{"x":{"e\u0301":1,"\u00e9":2}}"#, "e\u{301}", "\u{E9}")] {
            #expect(throws: JSONParser.Failure.equivalentKeys(first, second), "\(text)") { try JSONParser.parse(Array(text.utf8)) }
            #expect(throws: JSONParser.Failure.equivalentKeys(first, second), "\(text)") {
                try Array(text.utf8).withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") }
            }
        }
        #expect { try JSONValue.parse(Data(#"{"\u00c5":1,"\u212b":2}"#.utf8)) } throws: {
            ($0 as? DomainError)?.message == "holds the keys \"\u{C5}\" (U+00C5) and \"\u{212B}\" (U+212B) in one object: the same text in two Unicode forms, which Folio takes for one key (write both alike)"
        }
    }

    @Test("a key twice in one object is refused, naming it, where one of its values would be dropped unseen")
    func duplicateKeys() throws {
        for text in [#"{"a":1,"a":2}"#, #"{"x":{"a":1,"b":2,"a":1}}"#, #"[{"k":null,"k":null}]"#, #"{"a":1,"\u0061":2}"#] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(Array(text.utf8)) }
            #expect { try JSONValue.parse(Data(text.utf8)) } throws: { ($0 as? DomainError)?.message.contains("twice in one object") == true }
        }
        #expect(try JSONValue.parse(Data(#"{"b":{"a":1},"a":{"a":2}}"#.utf8)) == .object(["a": .object(["a": .integer(2)]), "b": .object(["a": .integer(1)])]))
        let content = Array(#"{"content":{"a":1},"content":{"a":2},"page_type":"agreement"}"#.utf8)
        #expect(throws: JSONParser.Failure.duplicateKey("content")) {
            try content.withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") }
        }
        #expect(throws: JSONParser.Failure.duplicateKey("page_type")) {
            try Array(#"{"page_type":"a","page_type":"b"}"#.utf8).withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") }
        }
    }

    @Test("the parser agrees with JSONSerialization on what it accepts")
    func agreesWithFoundation() throws {
        var sample = JSONSample(state: 99)
        for _ in 0..<500 {
            let bytes = tame(sample.value()).canonicalBytes()
            let foundation = JSONValue(foundation: try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]))
            let mine = String(decoding: try JSONParser.parse(bytes).canonicalBytes(), as: UTF8.self)
            let theirs = String(decoding: foundation.canonicalBytes(), as: UTF8.self)
            #expect(mine == theirs)
        }
    }
}

@Suite("Canonical JSON") struct CanonicalJSONTests {
    static func isCanonical(_ bytes: [UInt8], maxDepth: Int = 64) -> Bool {
        bytes.withUnsafeBytes { JSONParser.isCanonical($0, maxDepth: maxDepth) }
    }

    /// Whether writing the parsed bytes gives them back: what `isCanonical` may only say yes to.
    static func roundTrips(_ bytes: [UInt8]) -> Bool {
        (try? JSONParser.parse(bytes, maxDepth: 64))?.canonicalBytes() == bytes
    }

    @Test("canonical bytes are recognised as such, and anything the check accepts is written back byte for byte")
    func canonicalCheck() {
        var sample = JSONSample(state: 314)
        var accepted = 0, mutatedAccepted = 0
        let inserts = Array(#"" \{}[],:0-9eE.+nulltrfasu/"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xA9, 0xED, 0xF4]
        for _ in 0..<3_000 {
            let bytes = sample.value().canonicalBytes()
            // Keys written with escapes are declined; every other canonical value is taken.
            if Self.isCanonical(bytes) { accepted += 1 }
            #expect(!Self.isCanonical(bytes) || Self.roundTrips(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            for _ in 0..<4 {
                var changed = bytes
                let at = Int(sample.next() % UInt64(changed.count + 1))
                switch sample.next() % 3 {
                case 0 where !changed.isEmpty && at < changed.count: changed.remove(at: at)
                case 1 where at < changed.count: changed[at] = inserts[sample.pick(inserts.count)]
                default: changed.insert(inserts[sample.pick(inserts.count)], at: at)
                }
                guard Self.isCanonical(changed) else { continue }
                mutatedAccepted += 1
                #expect(Self.roundTrips(changed), "accepted but not canonical: \(changed)")
            }
        }
        #expect(accepted > 2_200, "\(accepted) of 3000 canonical values recognised")
        #expect(mutatedAccepted > 100)
    }

    @Test("what is not written canonically is declined", arguments: [
        #"{"b":1,"a":2}"#, #"{"a":1,"a":2}"#, #"{ "a":1}"#, #"{"a" :1}"#, #"[1, 2]"#, " 1", "1 ", #"{"a\u0062":1}"#,
        #""\/""#, #""\u0041""#, #""\u001F""#, #""\u000a""#, #""\u0008""#, #""\u0009""#, #""\u000c""#, #""\u000d""#, #""\u000C""#, "-0", "01", "1.0", "1e2", "1E2", "1.50", "1.5e0",
        "0.1e1", "1e-400", "1e400", "1E-7", "12345678901234567890123", #""\ud83d\ude00""#, "tru", "nul", "[1,]", #"{"a":1,}"#, "", "[", #""a"#,
    ])
    func declined(_ text: String) {
        #expect(!Self.isCanonical(Array(text.utf8)), "\(text)")
    }

    @Test("numbers written as the writer writes their values are taken: fractions, exponents, long integers", arguments: [
        "1.5", "-0.25", "1e-07", "1.7976931348623157e+308", "5e-324", "1234567890123456789", "-9223372036854775808",
        "9007199254740993", #"{"a":[0.1,2.5e-05]}"#,
    ])
    func numbersTaken(_ text: String) {
        #expect(Self.isCanonical(Array(text.utf8)) && Self.roundTrips(Array(text.utf8)), "\(text)")
    }

    @Test("invalid UTF-8, raw control characters and nesting past the limit are declined")
    func declinedBytes() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0x0A, 0x22], [0x22, 0x7F, 0xC3, 0xA9, 0x22]] {
            #expect(Self.isCanonical(bytes) == Self.roundTrips(bytes), "\(bytes)")
        }
        #expect(Self.isCanonical(Array(#""é\u001f\n\"\\ /""#.utf8)))
        let nested = Array(repeating: UInt8(ascii: "["), count: 10) + Array(repeating: UInt8(ascii: "]"), count: 10)
        #expect(Self.isCanonical(nested, maxDepth: 10) && !Self.isCanonical(nested, maxDepth: 9))
    }

    @Test("a canonical value written into a row is what the writer writes for the value, slashes escaped or not")
    func spliceMatchesWriter() {
        var sample = JSONSample(state: 314)
        for _ in 0..<2_000 {
            let value = sample.value()
            let canonical = CanonicalJSON(value)
            #expect(canonical.value == value)
            for escapeSlashes in [true, false] {
                var spliced = JSONWriter(escapeSlashes: escapeSlashes)
                spliced.canonical(canonical)
                var written = JSONWriter(escapeSlashes: escapeSlashes)
                written.value(value)
                #expect(spliced.bytes == written.bytes, "\(value)")
            }
        }
    }

    @Test("an object's raw member is left unparsed, its bytes exactly as they stand, the rest parsed")
    func rawMember() throws {
        var sample = JSONSample(state: 2718)
        for _ in 0..<1_000 {
            let content = sample.value()
            let other = sample.value()
            // Whitespace around the raw member must not end up in its range.
            let text = Array(#"{ "b" : "#.utf8) + other.canonicalBytes() + Array(#" , "content" :  "#.utf8) + content.canonicalBytes() + Array(" }".utf8)
            let (fields, raw) = try text.withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") }
            #expect(fields == ["b": other])
            let range = try #require(raw)
            #expect(Array(text[range]) == content.canonicalBytes())
        }
        let (fields, raw) = try Array(#"{"a":1}"#.utf8).withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") }
        #expect(fields == ["a": .integer(1)] && raw == nil)
    }

    @Test("a raw member is checked as strictly as a parsed one", arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{a:1}", "[01]", "[1.]", "tru", "\"a", "\"\u{1}\"", "\"\\x\"", "\"\\ud800\"",
        "[1 2]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "NaN", "[1e400]", "1 2", "[1] x", "{\"a\":[1}", "[{]", "{\"a\":}",
    ])
    func rawMemberRefuses(_ text: String) {
        let object = Array(#"{"content":"#.utf8) + Array(text.utf8) + [UInt8(ascii: "}")]
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(object) }
        #expect(throws: JSONParser.Failure.self) { try object.withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") } }
    }

    @Test("raw members refuse invalid UTF-8 and nesting past the limit")
    func rawMemberLimits() {
        let invalid: [UInt8] = Array(#"{"content":["#.utf8) + [0x22, 0xED, 0xA0, 0x80, 0x22] + Array("]}".utf8)
        #expect(throws: JSONParser.Failure.invalidUTF8) { try invalid.withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content") } }
        let deep = Array(#"{"content":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000)
            + Array(repeating: UInt8(ascii: "]"), count: 100_000) + [UInt8(ascii: "}")]
        #expect(throws: JSONParser.Failure.tooDeep) { try deep.withUnsafeBytes { try JSONParser.parseObject($0, rawKey: "content", maxDepth: 32) } }
    }
}

@Suite("Timestamps") struct TimestampTests {
    @Test("formatting agrees with the C library's calendar, and parsing gives the microseconds back")
    func formatAndParse() throws {
        var sample = JSONSample(state: 11)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let edges: [Int64] = [0, -1, 951_782_400_000_000, 4_107_542_399_999_999, -11_644_473_600_000_000, 253_402_300_799_999_999]
        for index in 0..<3_000 {
            let micros = index < edges.count ? edges[index] : Int64(bitPattern: sample.next() % 253_402_300_799_999_999)
            let text = Timestamp.format(microseconds: micros)
            let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds))) + String(format: ".%06dZ", Int(micros - seconds * 1_000_000))
            #expect(text == expected)
            #expect(Timestamp.parse(text) == micros)
        }
        // Years past four digits, and before year 0, are written as C's "%04d" writes them.
        #expect(Timestamp.format(microseconds: 253_402_300_800_000_000) == "10000-01-01T00:00:00.000000Z")
        #expect(Timestamp.format(microseconds: -62_198_755_200_000_000) == "-001-01-01T00:00:00.000000Z")
        #expect(Timestamp.format(microseconds: -62_167_219_200_000_001) == "-001-12-31T23:59:59.999999Z")
        #expect(Timestamp.format(microseconds: -377_705_116_800_000_000) == "-9999-01-01T00:00:00.000000Z")
        #expect(Timestamp.format(microseconds: -377_736_739_200_000_000) == "-10000-01-01T00:00:00.000000Z")
        // A day past its month's end is refused, not rolled into the next month.
        for text in ["2026-02-31", "2026-02-29", "1900-02-29", "2026-04-31", "2026-11-31"] {
            #expect(Timestamp.parse(text + "T00:00:00Z") == nil, "\(text)")
        }
        for text in ["2024-02-29", "2000-02-29", "2026-12-31", "2026-04-30"] {
            #expect(Timestamp.parse(text + "T00:00:00Z") != nil, "\(text)")
        }
        #expect(Timestamp.parse("2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp.parse("2026-01-01T00:00:00.Z") == nil)
        // A leap second ends a UTC day, and is read as the next day's first second; in any other
        // minute a second 60 is refused, not rolled into the next minute.
        #expect(Timestamp.parse("2016-12-31T23:59:60Z") == Timestamp.parse("2017-01-01T00:00:00Z"))
        // But not at the end of 9999: no time past it is written in four digits, as the log writes.
        #expect(Timestamp.parse("9999-12-31T23:59:59.999999Z") == Timestamp.latestMicroseconds)
        #expect(Timestamp.parse("9999-12-31T23:59:60Z") == nil)
        for text in ["2026-11-25T10:06:60Z", "2026-12-31T22:59:60Z", "2026-12-31T23:58:60Z", "2026-12-31T23:59:61Z"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
        // 0 to 6 fractional digits, as the log keeps microseconds: a seventh is refused, not cut off.
        #expect(Timestamp.parse("2026-01-01T00:00:00Z") == 1_767_225_600_000_000)
        #expect(Timestamp.parse("2026-01-01T00:00:00.5Z") == 1_767_225_600_500_000)
        #expect(Timestamp.parse("2026-01-01T00:00:00.123456+00:00") == 1_767_225_600_123_456)
        // Every count of digits is a fraction of a second, padded on the right.
        for (fraction, micros) in [("1", 100_000), ("12", 120_000), ("123", 123_000), ("1234", 123_400), ("12345", 123_450), ("012345", 12_345)] as [(String, Int64)] {
            #expect(Timestamp.parse("2026-01-01T00:00:00.\(fraction)Z") == 1_767_225_600_000_000 + micros, "\(fraction)")
        }
        #expect(Timestamp.parse("2026-01-01T00:00:00.1234567Z") == nil)
        #expect(Timestamp.parse("2026-01-01T00:00:00.749332123Z") == nil)
    }
}

@Suite("Identifiers") struct IdentifierTests {
    @Test("ids sort by their halves as by their text")
    func uuidOrder() {
        // Ids sharing their first half, or all but one byte, as well as random ones.
        var ids = (0..<2_000).map { _ in UUID() }
        for index in 0..<200 {
            var bytes = ids[index].uuid
            bytes.15 = UInt8(index)
            ids.append(UUID(uuid: bytes))
            bytes.9 = UInt8(index)
            ids.append(UUID(uuid: bytes))
        }
        let byText = ids.sorted { $0.uuidString < $1.uuidString }
        #expect(ids.sorted { $0.order < $1.order } == byText)
    }

    @Test("ids print and parse as Foundation's UUID does, in either case")
    func uuidText() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercased == id.uuidString.lowercased())
            #expect(UUID(text: id.uuidString) == id && UUID(text: id.lowercased) == id)
        }
        for bad in ["", "not-a-uuid", "11111111-1111-4111-8111-11111111111", "11111111-1111-4111-8111-1111111111111",
                    "11111111x1111-4111-8111-111111111111", "g1111111-1111-4111-8111-111111111111"] {
            #expect(UUID(text: bad) == nil)
            #expect(UUID(uuidString: bad) == nil)
        }
    }
}

extension JSONValue {
    /// What `JSONSerialization` returns, as a `JSONValue`: the reference the parser is checked against.
    init(foundation value: Any) {
        switch value {
        case let string as String:
            self = .string(string)
        case let dictionary as [String: Any]:
            self = .object(dictionary.mapValues(JSONValue.init(foundation:)))
        case let array as [Any]:
            self = .array(array.map(JSONValue.init(foundation:)))
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": self = .bool(number.boolValue) // JSON true and false
            case "d", "f":
                let double = number.doubleValue
                if let integer = Int64(exactly: double), !number.stringValue.contains(".") && !number.stringValue.contains("e") {
                    self = .integer(integer)
                } else {
                    self = .double(double)
                }
            default:
                self = .integer(number.int64Value)
            }
        default:
            self = .null
        }
    }
}
