@testable import Domain
import Foundation
import Testing

/// A payload is read in one pass when Folio wrote it plainly, through its parsed fields otherwise;
/// the two readings must never differ.
@Suite("Payloads read in one pass")
struct StreamedPayloadTests {
    static let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each event of the fixture history, with its payload as stored (canonical JSON).
    static func fixturePayloads() throws -> [(type: EventType, payload: [UInt8])] {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard case .object(let fields) = try JSONParser.parse(Array(line.utf8)),
                  case .string(let type)? = fields["type"], let data = fields["data"]
            else { throw DomainError(.invalidPayload, "not an exported event line") }
            return (try EventType.named(type), data.canonicalBytes())
        }
    }

    /// The two readings of `payload`: in one pass (`nil` when it declines), and through its fields.
    static func readings(_ type: EventType, _ payload: [UInt8]) -> (streamed: Event?, parsed: Result<Event, DomainError>) {
        let streamed = payload.withUnsafeBytes { StreamedPayload.event(type, $0) }
        let parsed = Result { () throws(DomainError) in
            try Event.decodeParsing(type: type, schemaVersion: type.currentSchemaVersion, payload: payload)
        }
        return (streamed, parsed)
    }

    @Test("every payload of the fixture history and of every event type is read in one pass, as through its fields")
    func plainPayloads() throws {
        var payloads = try Self.fixturePayloads()
        #expect(payloads.count > 300)
        payloads += EventsTests.all.map { ($0.type, Array($0.encodePayload())) }
        #expect(Set(payloads.map(\.type)) == Set(EventType.allCases))
        for (type, payload) in payloads {
            let (streamed, parsed) = Self.readings(type, payload)
            #expect(streamed != nil, "\(type.rawValue) payload was not read in one pass")
            #expect(streamed == (try parsed.get()))
        }
    }

    @Test("a payload written any other way is read through its fields, with the same event or the same error")
    func otherPayloads() throws {
        let client = "0b5e4a3c-2f4e-4c1a-9d7e-6a1b2c3d4e5f", other = "11111111-2222-4333-8444-555555555555"
        // Each with what reading it gives, found apart from the reading under test: `nil` for the
        // event the client's id names, else the start of the refusal.
        let declined: [(EventType, String, refusal: String?)] = [
            // A key written with an escape may be a known field: twice, it is refused.
            (.clientDeleted, #"{"client\u005fid":"\#(client)","client_id":"\#(other)"}"#, #"ClientDeleted payload holds the key "client_id" twice"#),
            (.clientDeleted, #"{"client_id":"\#(other)","client\u005fid":"\#(client)"}"#, #"ClientDeleted payload holds the key "client_id" twice"#),
            (.clientDeleted, #"{"client_id":"\#(other)","client_id":"\#(client)"}"#, #"ClientDeleted payload holds the key "client_id" twice"#),
            (.clientDeleted, #"{"client_id":"0b5e4a3c\u002d2f4e-4c1a-9d7e-6a1b2c3d4e5f"}"#, nil),
            // An id in uppercase is the same id, which Folio writes in lowercase.
            (.clientDeleted, #"{"client_id":"\#(client.uppercased())"}"#, nil),
            (.paymentSucceeded, #"{"amount":500,"client_id":"\#(client)","content_version_id":"\#(client.uppercased())","payment_id":"\#(other)","stripe_payment_intent_id":"pi_1"}"#, nil),
            (.versionPromoted, #"{"client_id":"\#(client)","page_type":"agreement","previous_version_id":"\#(other)","version_id":"0B5E4A3C-2F4E-4C1A-9D7E-6A1B2C3D4E5f"}"#, nil),
            (.clientDeleted, #"{"client_id":"0b5e4a3c-2f4e-4c1a-9d7e-6a1b2c3d4e5"}"#, "ClientDeleted payload is invalid: client_id has the wrong type or value (0b5e4a3c-2f4e-4c1a-9d7e-6a1b2c3d4e5)"),
            (.clientDeleted, #"{"client_id":null}"#, "ClientDeleted payload is invalid: client_id has the wrong type or value (null)"),
            (.clientDeleted, #"{}"#, "ClientDeleted payload is invalid: client_id is missing"),
            (.clientDeleted, #"{"client_id":"\#(client)"} x"#, "ClientDeleted payload is not a JSON object"),
            (.clientDeleted, #"{"client_id":"\#(client)","extra":[1,}"#, "ClientDeleted payload is not a JSON object"),
            (.clientDeleted, #"["client_id"]"#, "ClientDeleted payload is not a JSON object"),
            (.tokenIssued, #"{"activation_token":"G12345","client_id":"\#(client)","replaces":null}"#, #"TokenIssued activation_token: "G12345" is not an activation token"#),
            (.tokenIssued, #"{"activation_token":"G1234","client_id":"\#(client)","replaces":7}"#, "TokenIssued payload is invalid: replaces has the wrong type or value (7)"),
            (.versionPromoted, #"{"client_id":"\#(client)","page_type":"pricing","version_id":"\#(other)"}"#, #"VersionPromoted page_type: page type "pricing" is unknown"#),
            (.outcomeRecorded, #"{"client_id":"\#(client)","notes":null,"outcome":"maybe","version_id":"\#(other)"}"#, #"OutcomeRecorded outcome: outcome "maybe" is unknown"#),
            (.paymentSucceeded, #"{"amount":500.5,"client_id":"\#(client)","content_version_id":null,"payment_id":"\#(other)","stripe_payment_intent_id":"pi_1"}"#, "PaymentSucceeded payload is invalid: amount has the wrong type or value (500.5)"),
            (.clientCreated, #"{"client_id":"\#(client)","email":null,"name":"Ada"}"#, "ClientCreated payload is invalid: metadata is missing"),
        ]
        for (type, text, refusal) in declined {
            let (streamed, parsed) = Self.readings(type, Array(text.utf8))
            #expect(streamed == nil, "read in one pass: \(text)")
            let decoded = Result { () throws(DomainError) in try Event.decode(type: type, schemaVersion: type.currentSchemaVersion, payload: Array(text.utf8)) }
            #expect(decoded == parsed, "\(text)")
            switch decoded {
            case .success(let event): #expect(refusal == nil && event.clientID == UUID(uuidString: client), "\(text): \(event)")
            case .failure(let error): #expect(refusal.map { error.message.hasPrefix($0) } == true, "\(text): \(error.message)")
            }
        }

        let read: [(EventType, String)] = [
            (.clientDeleted, " {\n\t\"client_id\" : \"\(client)\" ,\"unknown\":{\"a\":[1,2.5,\"\\u00e9\"]}}\n"),
            (.paymentFailed, #"{"amount":1e2,"client_id":"\#(client)","payment_id":"\#(other)","reason":"card\ndeclined","stripe_payment_intent_id":"pi_\"q\""}"#),
            (.paymentInitiated, #"{"amount":50000,"client_id":"\#(client)","payment_id":"\#(other)","reason":"ignored","stripe_payment_intent_id":"pi_1"}"#),
            (.clientCreated, #"{"client_id":"\#(client)","metadata":null,"name":"Zoë 日本"}"#),
        ]
        for (type, text) in read {
            let (streamed, parsed) = Self.readings(type, Array(text.utf8))
            #expect(streamed != nil, "not read in one pass: \(text)")
            #expect(streamed == (try parsed.get()), "\(text)")
        }
    }

    /// Whether every field of `payload`, parsed, is one of its type's.
    static func onlyKnownFields(_ type: EventType, _ payload: [UInt8]) -> Bool {
        guard case .object(let fields)? = try? JSONParser.parse(payload) else { return false }
        return (try? Event.checkKnownFields(type: type, schemaVersion: type.currentSchemaVersion, fields: fields)) != nil
    }

    @Test("asked for its type's fields only, the one-pass reading declines a payload with any other field, as the parsed check refuses it")
    func onlyKnownFields() throws {
        let client = "0b5e4a3c-2f4e-4c1a-9d7e-6a1b2c3d4e5f", other = "11111111-2222-4333-8444-555555555555"
        let payloads: [(EventType, String, known: Bool)] = [
            (.clientDeleted, #"{"client_id":"\#(client)"}"#, true),
            (.clientDeleted, #"{"client_id":"\#(client)","unknown":{"a":[1]}}"#, false),
            (.paymentInitiated, #"{"amount":50000,"client_id":"\#(client)","payment_id":"\#(other)","reason":"x","stripe_payment_intent_id":"pi_1"}"#, false),
            (.paymentFailed, #"{"amount":50000,"client_id":"\#(client)","payment_id":"\#(other)","reason":"x","stripe_payment_intent_id":"pi_1"}"#, true),
            (.paymentFailed, #"{"amount":50000,"client_id":"\#(client)","payment_id":"\#(other)","reasn":"x","stripe_payment_intent_id":"pi_1"}"#, false),
            (.clientCreated, #"{"client_id":"\#(client)","email":null,"metadata":{},"name":"Ada","notes":null}"#, false),
        ]
        for (type, text, known) in payloads {
            let bytes = Array(text.utf8)
            #expect(Self.onlyKnownFields(type, bytes) == known, "\(text)")
            #expect(bytes.withUnsafeBytes { StreamedPayload.event(type, $0) } != nil, "\(text)")
            #expect((bytes.withUnsafeBytes { StreamedPayload.event(type, $0, onlyKnownFields: true) } != nil) == known, "\(text)")
        }
        for (type, payload) in try Self.fixturePayloads() {
            #expect(payload.withUnsafeBytes { StreamedPayload.event(type, $0, onlyKnownFields: true) } != nil)
        }
    }

    @Test("a draft read without copying its content is the same draft with its content omitted; bad content is still refused")
    func draftsWithoutContent() throws {
        let drafts = try Self.fixturePayloads().filter { $0.type == .versionDrafted }.map(\.payload)
        #expect(drafts.count > 50)
        for payload in drafts {
            guard case .versionDrafted(var draft) = try Event.decode(type: .versionDrafted, schemaVersion: 1, payload: payload) else {
                Issue.record("not a draft")
                continue
            }
            #expect(!draft.content.bytes.isEmpty)
            draft.content = .omitted
            let omitted = try Event.decode(type: .versionDrafted, schemaVersion: 1, payload: payload, copyingContent: false)
            #expect(omitted == .versionDrafted(draft))

            // The content's first member's colon made a semicolon: not JSON, whether copied or not.
            let content = try #require(payload.firstRange(of: Array(#""content":{""#.utf8)))
            var broken = payload
            let colon = try #require(broken[content.upperBound...].firstIndex(of: UInt8(ascii: ":")))
            broken[colon] = UInt8(ascii: ";")
            #expect(throws: DomainError.self) {
                try Event.decode(type: .versionDrafted, schemaVersion: 1, payload: broken, copyingContent: false)
            }
        }
    }

    @Test("changed bytes never make the two readings differ")
    func mutations() throws {
        let payloads = try Self.fixturePayloads().filter { $0.payload.count < 1_500 } + EventsTests.all.map { ($0.type, Array($0.encodePayload())) }
        let inserts = Array(#""\{}[],:0-9eE.+nulltrfase \u"#.utf8)
        var random = ValueTests.SplitMix(state: 2718)
        var streamedCount = 0, tried = 0
        for (type, payload) in payloads {
            for _ in 0..<40 {
                var bytes = payload
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let at = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes.remove(at: at)
                    case 1: bytes.insert(inserts[Int(random.next() % UInt64(inserts.count))], at: at)
                    default: bytes[at] = inserts[Int(random.next() % UInt64(inserts.count))]
                    }
                    if bytes.isEmpty { bytes = [UInt8(ascii: "{")] }
                }
                tried += 1
                let (streamed, parsed) = Self.readings(type, bytes)
                guard let streamed else { continue }
                streamedCount += 1
                #expect(streamed == (try? parsed.get()), "\(String(decoding: bytes, as: UTF8.self))")
                let strict = bytes.withUnsafeBytes { StreamedPayload.event(type, $0, onlyKnownFields: true) }
                #expect((strict != nil) == Self.onlyKnownFields(type, bytes), "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        // Some changes land in text or in fields a type does not read and leave a plain payload.
        #expect(streamedCount > tried / 20, "\(streamedCount) of \(tried) changed payloads read in one pass")
    }
}
