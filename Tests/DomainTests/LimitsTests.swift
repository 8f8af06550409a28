import Domain
import Foundation
import Testing

/// Each limit README states for what people write, taken at its bound and one past it: a value
/// at the limit is taken, one more is refused, naming the rule. (Amounts and intent ids are taken
/// at theirs in DecideTests: `amounts`, `intentForm`.)
@Suite("Limits, at their bounds")
struct LimitsTests {
    func create(name: String = "Ada", email: String? = nil) -> Command {
        .createClient(clientID: clientID, name: name, email: email, metadata: .object([:]))
    }

    func draft(notes: String? = nil, hypothesis: String? = nil, by actor: String = "admin") -> Command {
        .draftVersion(
            clientID: clientID, versionID: versionA, pageType: .agreement, content: CanonicalJSON(.object([:])),
            iterationNotes: notes, hypothesis: hypothesis, createdBy: actor, metadata: .object([:])
        )
    }

    @Test("a name is at most 200 characters, counted as a person reads them, after the white space at its ends")
    func name() throws {
        for letter in ["a", "é", "👩‍💻"] {
            #expect(try decide(create(name: String(repeating: letter, count: 200)), state: .initial).count == 1, "\(letter)")
            #expect(try decide(create(name: "  " + String(repeating: letter, count: 200) + "\n"), state: .initial).count == 1)
            expectRefused(create(name: String(repeating: letter, count: 201)), .initial, .name, "1 to 200 characters")
        }
    }

    @Test("an email is at most 320 characters")
    func email() throws {
        let domain = "@example.com"
        let longest = String(repeating: "a", count: 320 - domain.count) + domain
        #expect(try decide(create(email: longest), state: .initial).count == 1)
        expectRefused(create(email: "a" + longest), .initial, .email, "321 characters, over the limit of 320")
    }

    @Test("notes, a hypothesis and an outcome's notes are at most 10,000 characters, however many bytes those take")
    func texts() throws {
        let state = given([created, drafted(versionB)])
        for letter in ["a", "é"] {
            let longest = String(repeating: letter, count: maximumTextLength), over = longest + letter
            #expect(try decide(draft(notes: longest, hypothesis: longest), state: state).count == 1)
            expectRefused(draft(notes: over), state, .text, "iteration notes: 10001 characters, over the limit of 10000")
            expectRefused(draft(hypothesis: over), state, .text, "hypothesis: 10001 characters")
            #expect(try decide(.recordOutcome(clientID: clientID, versionID: versionB, outcome: .success, notes: longest), state: state).count == 1)
            expectRefused(.recordOutcome(clientID: clientID, versionID: versionB, outcome: .success, notes: over), state, .text, "10001 characters")
        }
    }

    @Test("an actor is 1 to 255 bytes")
    func actor() throws {
        let state = given([created])
        #expect(try decide(draft(by: String(repeating: "a", count: 255)), state: state).count == 1)
        #expect(try decide(draft(by: String(repeating: "é", count: 127) + "a"), state: state).count == 1)
        expectRefused(draft(by: String(repeating: "a", count: 256)), state, .actor, "1 to 255 bytes")
        expectRefused(draft(by: String(repeating: "é", count: 128)), state, .actor, "1 to 255 bytes")
    }
}
