@testable import Domain
import Foundation
import Testing

/// The rules read blank names and actors by Folio's own white space, which must be what Foundation's
/// character sets held when the rules were written with them: a name or actor accepted or refused
/// before is accepted or refused alike.
@Suite("White space in the rules")
struct WhiteSpaceTests {
    @Test("blank scalars are Foundation's .whitespaces and .whitespacesAndNewlines, every scalar of them")
    func blankScalars() {
        var mismatches: [String] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if scalar.isBlank(newlines: false) != CharacterSet.whitespaces.contains(scalar) {
                mismatches.append("U+\(String(value, radix: 16)) without newlines")
            }
            if scalar.isBlank(newlines: true) != CharacterSet.whitespacesAndNewlines.contains(scalar) {
                mismatches.append("U+\(String(value, radix: 16)) with newlines")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test("a name is trimmed as Foundation trims it")
    func trimming() {
        let pieces = ["Ada", " ", "\t", "\n", "\r\n", "\u{85}", "\u{A0}", "\u{200B}", "\u{2028}", "\u{3000}", "é", "e\u{301}", " \u{301}", "😀", "\u{FEFF}"]
        var random = ValueTests.SplitMix(state: 29)
        for _ in 0..<5_000 {
            let text = (0..<Int(random.next() % 7)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            #expect(text.trimmingWhiteSpace() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
        }
    }

    @Test("a name or an actor of white space only is refused, whichever white space it is")
    func blankRefused() throws {
        for blank in [" ", "\u{200B}", "\u{3000}\t"] {
            #expect(throws: DomainError.self) {
                try decide(.createClient(clientID: clientID, name: blank, email: nil, metadata: .object([:])), state: given([]))
            }
        }
        #expect(throws: DomainError.self) {
            try decide(.createClient(clientID: clientID, name: "\u{2028}\n", email: nil, metadata: .object([:])), state: given([]))
        }
        // For an actor, a line break is blank too (an actor of line breaks alone prints as no one),
        // except in an export's line: an earlier Folio read actors by Foundation's .whitespaces,
        // which left line breaks out, and its backups restore.
        func draft(by actor: String) -> Command {
            .draftVersion(
                clientID: clientID, versionID: versionA, pageType: .agreement, content: CanonicalJSON(.object([:])),
                iterationNotes: nil, hypothesis: nil, createdBy: actor, metadata: .object([:])
            )
        }
        #expect(throws: DomainError.self) { try decide(draft(by: "\u{2003}\u{200B}"), state: given([created])) }
        #expect(throws: DomainError.self) { try decide(draft(by: "\n"), state: given([created])) }
        #expect(throws: DomainError.self) { try decide(draft(by: "\u{2003}\u{200B}"), state: given([created]), asStored: true) }
        #expect(try decide(draft(by: "\n"), state: given([created]), asStored: true).count == 1)
    }

    @Test("a new name, actor or note of invisible characters alone is blank; one holding a visible character is not; an export's line keeps what an earlier Folio took")
    func invisibleRefused() throws {
        // Zero-width non-joiner and joiner, word joiner, byte-order mark, soft hyphen, a right-to-left
        // mark, the Hangul filler, control characters (C0, DEL, C1), the blank Braille pattern:
        // each draws nothing by itself.
        let invisible = [
            "\u{200C}", "\u{200D}\u{200D}", "\u{2060}", "\u{FEFF}", "\u{AD}", "\u{200F}", "\u{3164}", " \u{200C}\u{FEFF} ",
            "\u{1}", "\u{1B}", "\u{7F}", "\u{90}", "\u{2800}", "\u{0}\u{200B}",
        ]
        func create(_ name: String) -> Command { .createClient(clientID: clientID, name: name, email: nil, metadata: .object([:])) }
        func draft(by actor: String, notes: String? = nil) -> Command {
            .draftVersion(
                clientID: clientID, versionID: versionA, pageType: .agreement, content: CanonicalJSON(.object([:])),
                iterationNotes: notes, hypothesis: nil, createdBy: actor, metadata: .object([:])
            )
        }
        for text in invisible {
            #expect(throws: DomainError.self, "\(text.unicodeScalars.map(\.value))") { try decide(create(text), state: given([])) }
            #expect(throws: DomainError.self) { try decide(draft(by: text), state: given([created])) }
            #expect(throws: DomainError.self) { try decide(draft(by: "ada", notes: text), state: given([created])) }
            // Restored from a backup as stored: the name as an earlier Folio trimmed it.
            guard case .clientCreated(let restored)? = try decide(create(text), state: given([]), asStored: true).first else {
                Issue.record("no ClientCreated")
                continue
            }
            #expect(restored.name == text.trimmingWhiteSpace())
            #expect(try decide(draft(by: text, notes: text), state: given([created]), asStored: true).count == 1)
        }
        // A visible character among them is a name: Persian with its non-joiner, an emoji sequence.
        for text in ["\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}", "👩\u{200D}💻", "\u{FEFF}Ada", "\u{1}Ada", "\u{2800}\u{2801}"] {
            #expect(try decide(create(text), state: given([])).count == 1)
            #expect(try decide(draft(by: text, notes: text), state: given([created])).count == 1)
        }
    }
}
