import Foundation
import Testing

@testable import FolioCLI

/// The command line formats its tables, CSV and sizes with its own small helpers; they must write
/// what Foundation's string functions wrote before, so that printed output does not change.
@Suite("Text helpers of the command line")
struct TextTests {
    static let pieces = ["a", "Zé", "日本", "😀", " ", "  ", "\t", "\n", "\r\n", "\"", "_", ",", "\u{A0}", "\u{2028}", "\u{0B}", "\u{85}", "e\u{301}", "\"\u{301}"]

    /// Seeded strings of awkward pieces: white space of every kind, quotes, combining marks, astral characters.
    static func samples(_ count: Int, seed: UInt64) -> [String] {
        var state = seed
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        return (0..<count).map { _ in (0..<next() % 8).map { _ in pieces[next() % pieces.count] }.joined() }
    }

    @Test("replacing a character writes what replacingOccurrences(of:with:) writes, and also replaces one carrying a combining mark")
    func replacing() {
        for text in Self.samples(3_000, seed: 1) where !text.unicodeScalars.contains("\u{301}") {
            #expect(text.replacing(ascii: "\"", with: "\"\"") == text.replacingOccurrences(of: "\"", with: "\"\""))
            #expect(text.replacing(ascii: "\n", with: " ") == text.replacingOccurrences(of: "\n", with: " "))
            #expect(text.replacing(ascii: "_", with: " ") == text.replacingOccurrences(of: "_", with: " "))
        }
        // Foundation left a quote followed by a combining mark as it was, which broke a CSV field.
        #expect("a\"\u{301}".replacing(ascii: "\"", with: "\"\"") == "a\"\"\u{301}")
    }

    @Test("a CSV field holding a quote or a line break is quoted, its quotes doubled, combining marks or not")
    func csvFields() {
        let csv = RowPrinter.csv([["note": .string("say \"\u{301}hi\""), "plain": .string("a b"), "lines": .string("one\r\ntwo")]], keys: ["note", "plain", "lines"])
        #expect(csv == "note,plain,lines\r\n\"say \"\"\u{301}hi\"\"\",a b,\"one\r\ntwo\"\r\n")
    }

    @Test("a table line loses the white space at its end as the regular expression \\s+$ took it")
    func trailingWhiteSpace() {
        for text in Self.samples(3_000, seed: 2) {
            let expected = text.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            #expect(text.droppingTrailingWhiteSpace() == expected, "\(Array(text.unicodeScalars))")
        }
    }

    @Test("padding a cell writes what padding(toLength:) wrote for text of single-unit characters")
    func padding() {
        for text in ["", "a", "Zé", "日本", "ClientCreated", "VersionPromoted"] {
            for width in 0...20 where width >= text.count {
                #expect(text.padded(to: width) == text.padding(toLength: width, withPad: " ", startingAt: 0))
            }
        }
        // Counted in characters, so a cell with an astral or combined character still lines up.
        #expect("😀e\u{301}".padded(to: 4) == "😀e\u{301}  ")
    }

    @Test("sizes are written with one decimal as \"%.1f\" writes it")
    func sizes() {
        var counts = [0, 1, 1023, 1024, 1025, 1_126, 1_280, 1_331, 10_239, 1 << 20, (1 << 20) - 1, 5 << 19, 123_456_789, 4_491_407_360]
        var state: UInt64 = 3
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            counts.append(Int(state >> 28))
        }
        for count in counts {
            let expected = count >= 1 << 20 ? String(format: "%.1f MiB", Double(count) / 1_048_576)
                : count >= 1024 ? String(format: "%.1f KiB", Double(count) / 1024) : "\(count) B"
            #expect(byteCount(count) == expected)
        }
    }
}
