import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Folio
import Projections

/// How rows are printed.
enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, csv
}

/// A value as printing needs it, made once per row: JSON text for the JSON format, a cell's or
/// a CSV field's text for the others.
enum Cell: Hashable {
    case null
    /// A string's text (unescaped).
    case text(String)
    /// Any other value, as canonical JSON text.
    case json(String)

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .string(let text): self = .text(text)
        default: self = .json(value.canonicalText)
        }
    }
}

/// Prints rows as a table, one JSON value or CSV, keeping the schema's column order.
struct RowPrinter {
    var format: OutputFormat
    var columns: [String]
    /// Print only `columns`, not the extra keys a row has beyond them.
    var onlyColumns = false

    /// The columns of a read-model row, each value read from the row's JSON as it stands: a
    /// string is unescaped and anything else kept as its canonical text, without building a tree
    /// of it (a version's content is printed as written).
    static func object(_ row: some JSONRow) -> [String: Cell] {
        // Written without escaping slashes, as printed JSON has them, so that a value written
        // canonically (a page with links, say) is taken as it stands.
        var writer = JSONWriter(escapeSlashes: false, capacity: 1024)
        writer.beginObject()
        row.write(to: &writer)
        writer.endObject()
        let bytes = writer.bytes
        var fields: [String: Cell] = [:]
        let read = bytes.withUnsafeBytes { buffer in
            try? JSONParser.readObject(buffer) { key, reader throws(JSONParser.Failure) in
                guard let key else { return false }
                let name = String(decoding: key, as: UTF8.self)
                switch try reader.readNullOrString() {
                case true?: fields[name] = .null
                case false?: fields[name] = try reader.readString().map(Cell.text) ?? .null
                case nil:
                    if let raw = reader.readCanonicalRaw(maxDepth: 512) {
                        fields[name] = .json(String(decoding: UnsafeRawBufferPointer(rebasing: buffer[raw]), as: UTF8.self))
                    } else {
                        fields[name] = Cell(try reader.readValue())
                    }
                }
                return true
            }
        }
        // A key written with escapes (no row of Folio's has one) is read the long way.
        if read == true { return fields }
        guard case .object(let parsed)? = try? JSONParser.parse(bytes) else { return [:] }
        return parsed.mapValues(Cell.init)
    }

    func keys(of objects: [[String: Cell]]) -> [String] {
        var keys = columns
        if onlyColumns { return keys }
        var extra = Set<String>()
        for object in objects { extra.formUnion(object.keys) }
        keys.append(contentsOf: extra.subtracting(columns).sorted())
        return keys
    }

    /// The text for a list of rows.
    func render(list rows: [some JSONRow]) -> String {
        var text = ""
        write(list: rows, to: &text)
        return text
    }

    /// Writes a list of rows to `out` line by line, so that the text of a long listing need not
    /// be held whole (the rows' values are read first: a table's widths and the CSV header need
    /// them all).
    func write(list rows: [some JSONRow], to out: inout some TextOutputStream) {
        write(objects: rows.map { Self.object($0) }, to: &out)
    }

    /// Writes a list of rows to standard output as they are printed.
    func emit(list rows: [some JSONRow]) {
        var out = StandardOutput()
        write(list: rows, to: &out)
        out.flush()
    }

    /// Writes a list of rows to standard output a batch at a time, each batch completed by
    /// `prepare` just before it is printed (a version's content is read from the log then), so
    /// that only one batch of whole rows is held: a long listing of large pages is not. A table
    /// keeps each row's cells, shortened as printed, for its widths.
    func emit<Row: JSONRow>(list rows: [Row], preparing prepare: ([Row]) throws -> [Row]) throws {
        var out = StandardOutput()
        var list = ListWriter(printer: self)
        var start = rows.startIndex
        while start < rows.endIndex {
            let end = min(start + 32, rows.endIndex)
            list.add(try prepare(Array(rows[start..<end])).map { Self.object($0) }, to: &out)
            start = end
        }
        list.finish(to: &out)
        out.flush()
    }

    /// The text for a list of JSON objects.
    func render(objects: [[String: JSONValue]]) -> String {
        var text = ""
        write(objects: objects.map { $0.mapValues(Cell.init) }, to: &text)
        return text
    }

    func write(objects: [[String: Cell]], to out: inout some TextOutputStream) {
        var list = ListWriter(printer: self)
        list.add(objects, to: &out)
        list.finish(to: &out)
    }

    /// The text for one row (a `show` or write command).
    func render(one row: some JSONRow) -> String {
        let object = Self.object(row)
        let keys = keys(of: [object])
        switch format {
        case .json: return Self.json(object, keys: keys) + "\n"
        case .csv: return Self.csv([object], keys: keys)
        case .table:
            let width = keys.map(\.count).max() ?? 0
            return keys.map { key in
                key.padded(to: width) + "  " + Self.cell(object[key] ?? .null, limit: 100)
            }.joined(separator: "\n") + "\n"
        }
    }

    /// One JSON object with `keys` first, in order.
    static func json(_ object: [String: Cell], keys: [String]) -> String {
        var writer = JSONWriter(escapeSlashes: false)
        writer.beginObject()
        for key in keys {
            guard let value = object[key] else { continue }
            writer.key(text: key)
            switch value {
            case .null: writer.null()
            case .text(let text): writer.string(text)
            case .json(let json): writer.bytes.append(contentsOf: json.utf8)
            }
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func csv(_ objects: [[String: Cell]], keys: [String]) -> String {
        var text = ""
        csv(objects, keys: keys, to: &text)
        return text
    }

    /// CSV lines ending in `\r\n`, the header first.
    static func csv(_ objects: [[String: Cell]], keys: [String], to out: inout some TextOutputStream) {
        csvHeader(keys, to: &out)
        csvLines(objects, keys: keys, to: &out)
    }

    /// A CSV field, quoted when it must be.
    private static func quote(_ text: String) -> String {
        // By bytes: a quote or line break carrying a combining mark is still one to escape.
        text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
            ? "\"" + text.replacing(ascii: "\"", with: "\"\"") + "\"" : text
    }

    static func csvHeader(_ keys: [String], to out: inout some TextOutputStream) {
        out.write(keys.map(quote).joined(separator: ",") + "\r\n")
    }

    static func csvLines(_ objects: [[String: Cell]], keys: [String], to out: inout some TextOutputStream) {
        for object in objects {
            out.write(keys.map { key -> String in
                switch object[key] ?? .null {
                case .null: ""
                case .text(let text), .json(let text): quote(text)
                }
            }.joined(separator: ",") + "\r\n")
        }
    }

    /// A cell's text, shortened to `limit` columns of a terminal.
    static func cell(_ value: Cell, limit: Int = 36) -> String {
        let text: String
        switch value {
        case .null: text = "-"
        case .text(let string), .json(let string): text = string
        }
        // Only what can show is looked at: a page's first characters, not all of it.
        let head = text.prefix(limit + 1)
        let flat = String(head).escapingControls(spacing: true)
        guard head.endIndex != text.endIndex || flat.displayWidth > limit else { return flat }
        return flat.prefix(columns: limit - 1) + "…"
    }

    static func table(_ objects: [[String: Cell]], keys: [String]) -> String {
        var text = ""
        table(objects, keys: keys, to: &text)
        return text
    }

    static func table(_ objects: [[String: Cell]], keys: [String], to out: inout some TextOutputStream) {
        table(cells: tableCells(objects, keys: keys), keys: keys, to: &out)
    }

    /// Each row's cells as a table prints them, shortened.
    static func tableCells(_ objects: [[String: Cell]], keys: [String]) -> [[String]] {
        objects.map { object in keys.map { cell(object[$0] ?? .null) } }
    }

    static func table(cells: [[String]], keys: [String], to out: inout some TextOutputStream) {
        guard !cells.isEmpty else { return out.write("(no rows)\n") }
        // Each cell's width is counted once, for the column's width and for its padding.
        let cellWidths = cells.map { $0.map(\.displayWidth) }
        let widths = keys.indices.map { column in max(keys[column].displayWidth, cellWidths.map { $0[column] }.max() ?? 0) }
        // Each cell padded to its column's width, two spaces between columns, no white space at the end.
        func line(_ values: [String], _ valueWidths: [Int]) -> String {
            var line = ""
            for column in values.indices {
                if column > 0 { line.append("  ") }
                line.append(values[column])
                if column < values.count - 1, valueWidths[column] < widths[column] {
                    line.append(String(repeating: " ", count: widths[column] - valueWidths[column]))
                }
            }
            line.dropTrailingWhiteSpace()
            line.append("\n")
            return line
        }
        out.write(line(keys, keys.map(\.displayWidth)))
        out.write(line(widths.map { String(repeating: "-", count: $0) }, widths))
        for (row, rowWidths) in zip(cells, cellWidths) { out.write(line(row, rowWidths)) }
    }
}

/// A list printed as its rows come, a batch at a time: JSON and CSV line by line, a table once
/// its widths are known. Its keys are those of the first batch (every row of a read model has the
/// same keys), or the printer's columns when there are no rows.
struct ListWriter {
    let printer: RowPrinter
    private var keys: [String]?
    private var count = 0
    private var cells: [[String]] = []

    init(printer: RowPrinter) { self.printer = printer }

    mutating func add(_ objects: [[String: Cell]], to out: inout some TextOutputStream) {
        guard !objects.isEmpty else { return }
        let keys = self.keys ?? printer.keys(of: objects)
        switch printer.format {
        case .json:
            for (index, object) in objects.enumerated() {
                out.write(count + index == 0 ? "[\n" : ",\n")
                out.write(RowPrinter.json(object, keys: keys))
            }
        case .csv:
            if self.keys == nil { RowPrinter.csvHeader(keys, to: &out) }
            RowPrinter.csvLines(objects, keys: keys, to: &out)
        case .table:
            cells += RowPrinter.tableCells(objects, keys: keys)
        }
        count += objects.count
        self.keys = keys
    }

    mutating func finish(to out: inout some TextOutputStream) {
        let keys = self.keys ?? printer.keys(of: [])
        switch printer.format {
        case .json: out.write(count == 0 ? "[]\n" : "\n]\n")
        case .csv: if count == 0 { RowPrinter.csvHeader(keys, to: &out) }
        case .table: RowPrinter.table(cells: cells, keys: keys, to: &out)
        }
    }
}

/// Standard output written in pieces of about a megabyte, so a long listing is not held whole
/// as text. `flush()` writes what is left.
struct StandardOutput: TextOutputStream {
    private var buffer = ""

    mutating func write(_ text: String) {
        buffer += text
        if buffer.utf8.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        emit(buffer)
        buffer = ""
    }
}

extension JSONValue {
    /// Compact canonical JSON text.
    var canonicalText: String { String(decoding: canonicalJSON(), as: UTF8.self) }
}

/// A size in bytes for people: `812 B`, `3.4 KiB`, `1.0 MiB`, one decimal as "%.1f" writes it.
func byteCount(_ count: Int) -> String {
    func tenths(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded(.toNearestOrEven))
        return "\(tenths / 10).\(tenths % 10)"
    }
    return count >= 1 << 20 ? tenths(Double(count) / 1_048_576) + " MiB" : count >= 1024 ? tenths(Double(count) / 1024) + " KiB" : "\(count) B"
}

extension StringProtocol {
    /// Whether the text is one or more ASCII digits, and nothing else (no sign, no space).
    var isDigits: Bool { !isEmpty && utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
}

extension String {
    /// The string followed by spaces up to `width` columns of a terminal.
    func padded(to width: Int) -> String {
        let count = displayWidth
        return count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// Columns the string takes in a terminal (`Character.displayWidth`), which lines up tables
    /// of Chinese or Japanese names and emoji.
    var displayWidth: Int {
        // Printable ASCII, most cells, is one column a byte.
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return utf8.count }
        return reduce(0) { $0 + $1.displayWidth }
    }

    /// The longest start of the string that takes at most `columns` columns.
    func prefix(columns: Int) -> String {
        var used = 0
        let end = firstIndex { character in
            used += character.displayWidth
            return used > columns
        } ?? endIndex
        return String(self[..<end])
    }

    /// The string with every `character`, an ASCII one, replaced by `replacement`. Replaced byte by
    /// byte (an ASCII byte is never part of another character's UTF-8), so one carrying a
    /// combining mark is replaced too.
    func replacing(ascii character: Unicode.Scalar, with replacement: String) -> String {
        precondition(character.isASCII, "only an ASCII character is replaced byte by byte")
        let target = UInt8(character.value)
        var text = self
        return text.withUTF8 { bytes in
            guard bytes.contains(target) else { return self }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            var start = 0
            for index in bytes.indices where bytes[index] == target {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(contentsOf: replacement.utf8)
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The string with its control characters written out (`\n`, `\r`, `\t`, `\u{1b}`), so that
    /// printed to a terminal it stays on one line and cannot ring its bell, move its cursor or
    /// colour what follows; so are Unicode's line and paragraph separators and its bidirectional
    /// controls (`\u{202e}`), which would break a line or turn what follows around. With
    /// `spacing`, line breaks and tabs become spaces (a table's cells).
    func escapingControls(spacing: Bool = false) -> String {
        // 0xC2 leads the UTF-8 of the C1 controls, U+0080 to U+009F, 0xD8 that of U+061C, 0xE2
        // those of U+200E to U+2069 (and each of a few printable characters too).
        guard utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xD8 || $0 == 0xE2 }) else { return self }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            let escape: String
            switch scalar.value {
            case 0x0A: escape = spacing ? " " : "\\n"
            case 0x2028, 0x2029: escape = spacing ? " " : "\\u{" + String(scalar.value, radix: 16) + "}"
            case 0x0D: escape = spacing ? " " : "\\r"
            case 0x09: escape = spacing ? " " : "\\t"
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                escape = "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                out.append(scalar)
                continue
            }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    /// Removes the white space (Unicode's `White_Space`) at the string's end, in place.
    mutating func dropTrailingWhiteSpace() {
        while let last = unicodeScalars.last, last.properties.isWhitespace { unicodeScalars.removeLast() }
    }
}

extension Character {
    /// Columns the character takes in a terminal, as `wcwidth(3)` counts them for its first
    /// scalar: two for a wide East Asian character or an emoji shown as a picture (one with the
    /// emoji presentation, or asking for it with U+FE0F; flags and sequences joined by U+200D
    /// are one picture), none for a combining mark or a zero-width format character standing
    /// alone, one for anything else.
    var displayWidth: Int {
        let scalars = unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.value < 0x300 && scalars.count == 1 { return 1 }
        if scalars.contains(where: { $0.properties.isEmojiPresentation }) || (first.properties.isEmoji && scalars.contains("\u{FE0F}")) {
            return 2
        }
        if Self.wide.contains(where: { $0.contains(first.value) }) { return 2 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: return 1
        }
    }

    /// Code points East Asian Width calls wide or fullwidth (emoji apart): Hangul Jamo, CJK
    /// punctuation, kana and ideographs, Yi, Hangul syllables, compatibility and fullwidth forms.
    private static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
        0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]
}
