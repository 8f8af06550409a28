import Domain
import Foundation
import Projections
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

    @Test("control characters are written out: an error stays on one line, a table cell cannot ring the bell or colour the terminal")
    func controls() {
        #expect("G12\n34".escapingControls() == #"G12\n34"#)
        #expect("bell\u{7}\u{1b}[31mred\u{9b}\u{7f}".escapingControls() == #"bell\u{7}\u{1b}[31mred\u{9b}\u{7f}"#)
        #expect("a\tb\r\nc".escapingControls() == #"a\tb\r\nc"#)
        #expect("a\tb\r\nc".escapingControls(spacing: true) == "a b  c")
        // Bidirectional controls turn what follows around, separators break the line.
        #expect("\u{202E}evil\u{2066}x\u{2069}\u{200F}\u{61C}".escapingControls() == #"\u{202e}evil\u{2066}x\u{2069}\u{200f}\u{61c}"#)
        #expect("a\u{2028}b\u{2029}c".escapingControls() == #"a\u{2028}b\u{2029}c"#)
        #expect("a\u{2028}b\u{2029}c".escapingControls(spacing: true) == "a b c")
        for text in ["é £ ü \u{A0}", "日本 😀 e\u{301}", "", "“quoted” — 5 €, 👩\u{200D}💻"] { #expect(text.escapingControls() == text) }
        #expect(RowPrinter.cell(.text("x\u{1b}[2Jy\tz")) == #"x\u{1b}[2Jy z"#)
        for text in Self.samples(2_000, seed: 3) {
            let escaped = text.escapingControls()
            #expect(!escaped.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(escaped.debugDescription)")
        }
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
        let csv = RowPrinter.csv([["note": .text("say \"\u{301}hi\""), "plain": .text("a b"), "lines": .text("one\r\ntwo")]], keys: ["note", "plain", "lines"])
        #expect(csv == "note,plain,lines\r\n\"say \"\"\u{301}hi\"\"\",a b,\"one\r\ntwo\"\r\n")
        // A line break of either byte alone ends a row as surely as both: quoted too.
        #expect(RowPrinter.csv([["a": .text("x\ry"), "b": .text("x\ny")]], keys: ["a", "b"]) == "a,b\r\n\"x\ry\",\"x\ny\"\r\n")
    }

    /// A row of any fields, written in key order as read-model rows are.
    struct SampleRow: JSONRow {
        var fields: [String: JSONValue]
        init(_ fields: [String: JSONValue]) { self.fields = fields }
        init(fields: RowFields) throws { throw JSONParser.Failure.invalid(offset: 0) }
        func write(to writer: inout JSONWriter) {
            for key in fields.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                writer.key(text: key)
                writer.value(fields[key]!)
            }
        }
    }

    @Test("a row's values are printed as parsing the whole row printed them: pages with links, doubles, escapes, nesting")
    func rowValuesAsParsed() {
        var state: UInt64 = 7
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        let texts = Self.samples(400, seed: 3) + ["/activation", "https://example.com/a/b", "tab\there", "\u{1}\u{7f}", "back\\slash"]
        func value(_ depth: Int) -> JSONValue {
            switch next() % (depth > 2 ? 6 : 8) {
            case 0: .null
            case 1: .bool(next() % 2 == 0)
            case 2: .integer(Int64(next()) - 1_000_000_000)
            case 3: .double([0.5, -1.25, 1e300, 0.1, 3][next() % 5])
            case 4, 5: .string(texts[next() % texts.count])
            case 6: .array((0..<next() % 4).map { _ in value(depth + 1) })
            default: .object(Dictionary((0..<next() % 4).map { _ in (texts[next() % texts.count], value(depth + 1)) }) { a, _ in a })
            }
        }
        /// Each key and value as bytes: `String`'s `==` would let a change of Unicode form through.
        func exact(_ object: [String: Cell]) -> [[UInt8]] {
            object.map { key, cell -> [UInt8] in
                let (kind, text): (UInt8, String) = switch cell {
                case .null: (0, "")
                case .text(let text): (1, text)
                case .json(let json): (2, json)
                }
                return Array(key.utf8) + [0xFF, kind] + Array(text.utf8)
            }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        let keys = ["id", "content", "url", "note", "amount", "z/path"]
        var rows = (0..<500).map { _ in SampleRow(Dictionary((0..<1 + next() % 6).map { _ in (keys[next() % keys.count], value(0)) }) { a, _ in a }) }
        // Keys written with escapes take the long way; so does a top-level double.
        rows.append(SampleRow(["say \"hi\"": .string("a/b"), "tab\there": .integer(1), "plain": .object(["k": .double(0.5)])]))
        rows.append(SampleRow(["ratio": .double(0.25), "big": .integer(1_000_000_000_000_000_000), "text": .string("e\u{301} é")]))
        for row in rows {
            guard case .object(let parsed)? = try? JSONParser.parse(row.jsonObject()) else {
                Issue.record("a sample row does not parse")
                return
            }
            #expect(exact(RowPrinter.object(row)) == exact(parsed.mapValues(Cell.init)), "\(row.fields)")
        }
    }

    @Test("a list printed a batch at a time is the list printed whole, in every format, with rows or none")
    func listsInBatches() {
        let texts = Self.samples(700, seed: 99)
        let objects: [[String: Cell]] = texts.enumerated().map { index, text in
            ["id": .text("\(index)"), "name": .text(text), "page": .json(#"{"a":[1,"\#(index)"]}"#), "note": index % 3 == 0 ? .null : .text(text + ",x")]
        }
        for format in [OutputFormat.json, .csv, .table] {
            let printer = RowPrinter(format: format, columns: ["id", "name"])
            for count in [0, 1, 255, 256, 257, 700] {
                var expected = ""
                printer.write(objects: Array(objects.prefix(count)), to: &expected)
                for size in [1, 7, 256] {
                    var list = ListWriter(printer: printer), text = ""
                    var start = 0
                    while start < count {
                        list.add(Array(objects[start..<min(start + size, count)]), to: &text)
                        start += size
                    }
                    list.finish(to: &text)
                    #expect(text == expected, "\(format), \(count) rows in batches of \(size)")
                }
            }
            // Every row's columns and the rows' extra keys, whatever the batches.
            var expected = ""
            printer.write(objects: objects, to: &expected)
            #expect(expected.contains("note") && expected.contains("page"), "\(format)")
        }
    }

    @Test("a table line loses the white space at its end as the regular expression \\s+$ took it")
    func trailingWhiteSpace() {
        for text in Self.samples(3_000, seed: 2) {
            let expected = text.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            var line = text
            line.dropTrailingWhiteSpace()
            #expect(line == expected, "\(Array(text.unicodeScalars))")
        }
    }

    @Test("padding a cell writes what padding(toLength:) wrote for text of one-column characters")
    func padding() {
        for text in ["", "a", "Zé", "ClientCreated", "VersionPromoted"] {
            for width in 0...20 where width >= text.count {
                #expect(text.padded(to: width) == text.padding(toLength: width, withPad: " ", startingAt: 0))
            }
        }
        // Counted in a terminal's columns: an emoji takes two, a letter with its mark one.
        #expect("😀e\u{301}".padded(to: 5) == "😀e\u{301}  ")
    }

    @Test("a table lines up in a terminal's columns: Chinese, Japanese and Korean names, emoji, flags, joined sequences, marks")
    func wideCharacters() {
        let widths: [(String, Int)] = [
            ("Ada", 3), ("李小龍", 6), ("ｶﾀｶﾅ", 4), ("ＡＢ", 4), ("김민준", 6), ("Zoe\u{308}", 3), ("😀", 2), ("🇫🇷", 2),
            ("👩‍💻", 2), ("👨‍👩‍👧", 2), ("❤", 1), ("❤️", 2), ("1️⃣", 2), ("a\u{200B}b", 2), ("", 0), ("naïve café", 10),
        ]
        for (text, width) in widths { #expect(text.displayWidth == width, "\(text.debugDescription)") }
        var table = ""
        RowPrinter.table(cells: [["李小龍", "1"], ["Ada 👩‍💻", "2"], ["Zoe\u{308}", "3"]], keys: ["name", "n"], to: &table)
        #expect(table == """
            name    n
            ------  -
            李小龍  1
            Ada 👩‍💻  2
            Zoe\u{308}     3

            """)
        // Shortened to 36 columns, a wide character that would straddle the limit left out.
        let long = String(repeating: "李", count: 40)
        #expect(RowPrinter.cell(.text(long)) == String(repeating: "李", count: 17) + "…")
        #expect(RowPrinter.cell(.text("a" + long)) == "a" + String(repeating: "李", count: 17) + "…")
        #expect(RowPrinter.cell(.text(String(repeating: "李", count: 18))) == String(repeating: "李", count: 18))
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

    @Test("--as-of reads a time with any offset from UTC as the instant it names, and refuses a malformed offset")
    func asOfOffsets() throws {
        let utc = try #require(Timestamp.parse("2026-11-25T09:30:00.500000Z"))
        for text in ["2026-11-25T09:30:00.5Z", "2026-11-25t09:30:00.5z", "2026-11-25T10:30:00.5+01:00", "2026-11-25T04:00:00.5-05:30", "2026-11-25T09:30:00.5-00:00", "2026-11-26T09:29:00.5+23:59"] {
            #expect(AsOfOptions.time(text) == utc, "\(text)")
        }
        // Across a day's end, and a year's.
        #expect(AsOfOptions.time("2027-01-01T00:30:00+01:00") == Timestamp.parse("2026-12-31T23:30:00Z"))
        for text in ["2026-11-25T10:30:00+24:00", "2026-11-25T10:30:00+01:60", "2026-11-25T10:30:00+1:00", "2026-11-25T10:30:00+0100", "2026-11-25T10:30:00 01:00", "2026-11-25", "2026-11-25T10:30:00", "+01:00"] {
            #expect(AsOfOptions.time(text) == nil, "\(text)")
        }
        // A position is digits alone: no sign, as a log has no position -0 or +5.
        #expect(try AsOfOptions.parse(["--as-of", "5"]).parsed() == .position(5))
        for text in ["+5", "-0", " 5"] {
            #expect("\(text)") { try AsOfOptions.parse(["--as-of", text]).parsed() } throws: { "\($0)".hasPrefix("--as-of takes a log position") }
        }
    }

    @Test("a diff's table shows where two long values part, not only how both begin")
    func changedValues() {
        let head = "Payment is due within thirty days of the invoice; the fee is "
        let (old, new) = HistoryPrinter.changedValues(.string(head + "$500"), .string(head + "$600"), limit: 40)
        #expect(old == "…the fee is $500\"" && new == "…the fee is $600\"", "\(old) \(new)")
        // However far into a page they part.
        let page = String(repeating: "a", count: 4_200) + "b"
        let far = HistoryPrinter.changedValues(.string(page), .string(String(repeating: "a", count: 4_200) + "Yb"), limit: 40)
        #expect(far.0.hasPrefix("…") && far.0.hasSuffix("ab\"") && far.1.hasSuffix("aYb\""), "\(far)")
        // Parting early, or short, each is shown from its start, as before.
        #expect(HistoryPrinter.changedValues(.string("short"), .string("shorter"), limit: 40) == ("\"short\"", "\"shorter\""))
        let early = HistoryPrinter.changedValues(.string("A " + head), .string("B " + head), limit: 40)
        #expect(early.0.hasPrefix("\"A Payment") && early.1.hasPrefix("\"B Payment") && early.0.hasSuffix("…"))
        // One a longer copy of the other: the longer one's extra shows.
        let (shorter, longer) = HistoryPrinter.changedValues(.string(head), .string(head + "plus tax"), limit: 40)
        #expect(shorter.hasPrefix("…") && longer.hasPrefix("…") && longer.contains("plus tax"), "\(shorter) \(longer)")
        // Wide characters count two columns each, so a change after twenty of them shows.
        let price = String(repeating: "価格", count: 10)
        let wide = HistoryPrinter.changedValues(.string(price + "500円"), .string(price + "600円"), limit: 40)
        #expect(wide.0.hasPrefix("…") && wide.0.contains("500円") && wide.1.contains("600円"), "\(wide)")
        // A side starts where one of JSON's escapes does, never inside it, even where the two
        // part inside an escape.
        for (repeated, escape) in [("\"", "\\\""), ("\u{1}", "\\u0001"), ("\\", "\\\\")] {
            for body in (30...35).map({ String(repeating: repeated, count: $0) }) {
                let (x, y) = HistoryPrinter.changedValues(.string(body + "\u{2}"), .string(body + "\u{3}"), limit: 40)
                let shown = x.dropFirst().dropLast(7)
                #expect(x.hasPrefix("…") && x.hasSuffix("\\u0002\"") && shown.hasPrefix(escape) && shown.count % escape.count == 0, "\(x)")
                #expect(y == "…" + shown + "\\u0003\"", "\(x) \(y)")
            }
        }
        // Cut or not, each side fits its columns, and a character that could drive the terminal
        // (a right-to-left override, which JSON leaves as it is) is written out.
        for (a, b) in [(head + "\u{202E}1", head + "\u{202E}2"), (String(repeating: "日本", count: 40) + "x", String(repeating: "日本", count: 40) + "y")] {
            let (x, y) = HistoryPrinter.changedValues(.string(a), .string(b), limit: 40)
            #expect(x.displayWidth <= 40 && y.displayWidth <= 40 && x != y, "\(x) \(y)")
            #expect(!x.unicodeScalars.contains("\u{202E}") && !y.unicodeScalars.contains("\u{202E}"), "\(x) \(y)")
        }
    }
}
