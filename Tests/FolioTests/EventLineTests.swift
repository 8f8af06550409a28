@testable import Folio
import Domain
import Foundation
import Testing

@Suite("Import lines read in one pass")
struct EventLineTests {
    static let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The slow reading of a line: parsed whole, its payload written out canonically, its event
    /// decoded from the parsed fields.
    static func parsed(_ bytes: [UInt8]) -> (line: EventLine, event: Event, marks: ExportMarks)? {
        guard let (line, payload, _, marks) = try? EventLine.parseWithPayload(bytes, number: 1),
              let type = try? EventType.named(line.type),
              let event = try? Event.decode(type: type, schemaVersion: Int(line.schemaVersion), fields: payload)
        else { return nil }
        return (line, event, marks)
    }

    /// The fixture's lines, and each with the marks `export` adds in their form: a hash, a digest
    /// (its event's, not chained) and a last position.
    static func fixtureLines() throws -> (plain: [[UInt8]], exported: [[UInt8]]) {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { Array($0.utf8) }
        let exported = try lines.map { bytes in
            let digest = try EventLine.parse(bytes, number: 1).eventDigest().map { String(format: "%02x", $0) }.joined()
            let marks = #","hash":""# + String(repeating: "0a", count: 32) + #"","digest":""# + digest + #"","last_position":\#(lines.count)}"#
            return bytes.dropLast() + Array(marks.utf8)
        }
        return (lines, exported)
    }

    @Test("a key no line holds is refused by its name, in an export's line too (a misspelt one would be dropped unseen)")
    func unknownKeys() throws {
        let text = try String(contentsOf: Self.projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        let first = String(try #require(text.split(separator: "\n").first))
        #expect(first.contains(#""correlation_id":null"#))
        let misspelt = first.replacingOccurrences(of: #""correlation_id":null"#, with: #""correlation-id":"6c0f3a52-8f7e-4d2a-9a51-0b9e1c1d2e3f""#)
        #expect(EventLine.parsePlain(Array(misspelt.utf8), number: 7) == nil)
        #expect(throws: FolioError.self) { try EventLine.parseWithPayload(Array(misspelt.utf8), number: 7) }
        do {
            _ = try EventLine.parseWithPayload(Array(misspelt.utf8), number: 7)
        } catch let error as FolioError {
            #expect(error.message.hasPrefix(#"line 7: "correlation-id" is not a key of an event's line (id, position, stream, "#), "\(error.message)")
        }
        // An export's line too: its record has nowhere to keep the key.
        let exported = String(misspelt.dropLast()) + #","hash":""# + String(repeating: "0a", count: 32) + #""}"#
        #expect(EventLine.parsePlain(Array(exported.utf8), number: 7) == nil)
        #expect { try EventLine.parseWithPayload(Array(exported.utf8), number: 7) } throws: {
            ($0 as? FolioError)?.message.hasPrefix(#"line 7: "correlation-id" is not a key of an event's line (id, position, stream, "#) == true
        }
        let spelt = String(first.dropLast()) + #","hash":""# + String(repeating: "0a", count: 32) + #""}"#
        #expect(try EventLine.parseWithPayload(Array(spelt.utf8), number: 7).hasHash)
    }

    @Test("an exported line is read in one pass as its parsed reading; changed lines read in one pass agree with it too")
    func plainAgreesWithParsed() throws {
        let (plainLines, exportedLines) = try Self.fixtureLines()
        let lines = plainLines + exportedLines
        #expect(plainLines.count > 300)
        for bytes in lines {
            let plain = try #require(EventLine.parsePlain(bytes, number: 1), "not read in one pass: \(String(decoding: bytes, as: UTF8.self))")
            let slow = try #require(Self.parsed(bytes))
            #expect(plain.line == slow.line && plain.event == slow.event && plain.marks == slow.marks)
        }
        #expect(exportedLines.allSatisfy { EventLine.parsePlain($0, number: 1)?.marks.lastPosition == UInt64(plainLines.count) })
        // Changed lines: whenever one is still read in one pass, it is what the parsed reading gives.
        let inserts = Array(#"" \{}[],:0-9eE.+-nulltrfas/u"#.utf8) + [0x00, 0x1F, 0xC3, 0xA9]
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var plainCount = 0
        for round in 0..<12_000 {
            var bytes = lines[round % lines.count]
            for _ in 0..<(1 + next() % 3) {
                let at = next() % bytes.count
                switch next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes[at] = inserts[next() % inserts.count]
                default: bytes.insert(inserts[next() % inserts.count], at: at)
                }
            }
            guard let plain = EventLine.parsePlain(bytes, number: 1) else { continue }
            plainCount += 1
            let slow = Self.parsed(bytes)
            #expect(
                slow != nil && plain.line == slow?.line && plain.event == slow?.event && plain.marks == slow?.marks,
                "\(String(decoding: bytes, as: UTF8.self))"
            )
        }
        #expect(plainCount > 1_000, "\(plainCount) changed lines read in one pass")
    }

    @Test("an envelope written otherwise than export writes it is left to the parsed reading, or read in one pass as it reads it")
    func envelopesOtherwise() throws {
        let text = try String(contentsOf: Self.projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first.map(String.init))
        let id = try #require(line.firstMatch(of: /"id":"([0-9a-f-]{36})"/)).1
        func variant(_ old: String, _ new: String) -> [UInt8] {
            let changed = line.replacingOccurrences(of: old, with: new)
            #expect(changed != line)
            return Array(changed.utf8)
        }
        let leftToParsing = [
            variant(#""position":1,"#, #""position":1,"position":2,"#),  // a member twice
            variant(#""position":1,"#, #""position":1,"note":"x","#),  // a member export does not write
            variant(#""id":"#, #""\u0069d":"#),  // a key with an escape
            variant(#""correlation_id":null"#, #""correlation_id":7"#),  // an id of the wrong kind
        ]
        for (index, bytes) in leftToParsing.enumerated() {
            #expect(EventLine.parsePlain(bytes, number: 1) == nil, "variant \(index)")
        }
        // Written otherwise, but read alike either way: an id in upper case, a whole number as 1.0.
        for bytes in [variant("\"\(id)\"", "\"\(id.uppercased())\""), variant(#""position":1,"#, #""position":1.0,"#)] {
            let plain = try #require(EventLine.parsePlain(bytes, number: 1))
            let slow = try #require(Self.parsed(bytes))
            #expect(plain.line == slow.line && plain.event == slow.event)
        }
    }
}
