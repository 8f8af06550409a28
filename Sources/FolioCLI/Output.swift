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

/// Prints rows as a table, one JSON value or CSV, keeping the schema's column order.
struct RowPrinter {
    var format: OutputFormat
    var columns: [String]
    /// Print only `columns`, not the extra keys a row has beyond them.
    var onlyColumns = false

    /// The JSON object form of a read-model row: its columns.
    static func object(_ row: some JSONRow) -> [String: JSONValue] {
        guard case .object(let fields)? = try? JSONParser.parse(row.jsonObject()) else { return [:] }
        return fields
    }

    /// The JSON object form of any other encodable value (keys are its coding keys).
    static func object(encoding value: some Encodable) throws -> [String: JSONValue] {
        let data = try JSONEncoder.folio.encode(value)
        guard case .object(let fields) = try JSONParser.parse(data) else { return [:] }
        return fields
    }

    func keys(of objects: [[String: JSONValue]]) -> [String] {
        var keys = columns
        if onlyColumns { return keys }
        var extra = Set<String>()
        for object in objects { extra.formUnion(object.keys) }
        keys.append(contentsOf: extra.subtracting(columns).sorted())
        return keys
    }

    /// The text for a list of rows.
    func render(list rows: [some JSONRow]) -> String {
        render(objects: rows.map { Self.object($0) })
    }

    /// The text for a list of JSON objects.
    func render(objects: [[String: JSONValue]]) -> String {
        let keys = keys(of: objects)
        switch format {
        case .json:
            guard !objects.isEmpty else { return "[]\n" }
            return "[\n" + objects.map { Self.json($0, keys: keys) }.joined(separator: ",\n") + "\n]\n"
        case .csv:
            return Self.csv(objects, keys: keys)
        case .table:
            return Self.table(objects, keys: keys)
        }
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
    static func json(_ object: [String: JSONValue], keys: [String]) -> String {
        var writer = JSONWriter(escapeSlashes: false)
        writer.beginObject()
        for key in keys {
            guard let value = object[key] else { continue }
            writer.key(text: key)
            writer.value(value)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func csv(_ objects: [[String: JSONValue]], keys: [String]) -> String {
        func quote(_ text: String) -> String {
            // By bytes: a quote or line break carrying a combining mark is still one to escape.
            text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
                ? "\"" + text.replacing(ascii: "\"", with: "\"\"") + "\"" : text
        }
        var lines = [keys.map(quote).joined(separator: ",")]
        for object in objects {
            lines.append(keys.map { key -> String in
                switch object[key] ?? .null {
                case .null: ""
                case .string(let text): quote(text)
                case let value: quote(value.canonicalText)
                }
            }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A cell's text, shortened to `limit` characters.
    static func cell(_ value: JSONValue, limit: Int = 36) -> String {
        let text: String
        switch value {
        case .null: text = "-"
        case .string(let string): text = string
        default: text = value.canonicalText
        }
        let flat = text.replacing(ascii: "\n", with: " ")
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
    }

    static func table(_ objects: [[String: JSONValue]], keys: [String]) -> String {
        guard !objects.isEmpty else { return "(no rows)\n" }
        let cells = objects.map { object in keys.map { cell(object[$0] ?? .null) } }
        let widths = keys.indices.map { column in max(keys[column].count, cells.map { $0[column].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padded(to: $1) }.joined(separator: "  ").droppingTrailingWhiteSpace()
        }
        var lines = [line(keys), line(widths.map { String(repeating: "-", count: $0) })]
        lines.append(contentsOf: cells.map(line))
        return lines.joined(separator: "\n") + "\n"
    }
}

extension JSONEncoder {
    /// Folio's output encoding: ISO 8601 dates, sorted keys.
    static var folio: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
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

extension String {
    /// The string followed by spaces up to `width` characters.
    func padded(to width: Int) -> String {
        let count = count
        return count >= width ? self : self + String(repeating: " ", count: width - count)
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

    /// The string without the white space (Unicode's `White_Space`) at its end.
    func droppingTrailingWhiteSpace() -> String {
        var scalars = unicodeScalars[...]
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
