import Domain
import Foundation
import Testing

@Suite("Events as stored")
struct EventsTests {
    static let all: [Event] = [
        created, issued, activated, drafted(versionA), promoted(versionB, previous: versionA),
        .outcomeRecorded(OutcomeRecorded(clientID: clientID, versionID: versionA, outcome: .failure, notes: "stalled")),
        payment(.start, version: versionA), payment(.succeed), payment(.fail), payment(.cancel),
        .clientDeleted(ClientDeleted(clientID: clientID)),
    ]

    @Test("every event survives encode and decode", arguments: all)
    func roundTrip(event: Event) throws {
        let payload = event.encodePayload()
        let decoded = try Event.decode(type: event.type.rawValue, schemaVersion: event.type.currentSchemaVersion, payload: payload)
        #expect(decoded == event)
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.contains(clientID.uuidString.lowercased()))
        #expect(!["AAAAAAAA", "BBBBBBBB", "CCCCCCCC"].contains { text.contains($0) }, "UUIDs are stored lower case")
    }

    @Test("payload keys are the schema's names")
    func keys() throws {
        func keys(_ event: Event) throws -> Set<String> {
            Set(try #require(try JSONSerialization.jsonObject(with: event.encodePayload()) as? [String: Any]).keys)
        }
        #expect(try keys(created) == ["client_id", "name", "email", "metadata"])
        #expect(try keys(issued) == ["client_id", "activation_token", "replaces"])
        #expect(try keys(drafted(versionA)) == [
            "client_id", "version_id", "page_type", "version_number", "content", "iteration_notes", "hypothesis", "created_by", "metadata",
        ])
        #expect(try keys(payment(.start)) == ["client_id", "payment_id", "content_version_id", "stripe_payment_intent_id", "amount"])
        #expect(try keys(payment(.fail)).contains("reason"))
        // Each type's fields, which import holds a payload to, are those its events are written with.
        #expect(Set(Self.all.map(\.type)) == Set(EventType.allCases))
        for event in Self.all {
            #expect(try keys(event) == Set(event.type.payloadKeys), "\(event.type)")
        }
    }

    @Test("a draft's payload is the canonical JSON of its fields, and its content comes back byte for byte")
    func draftPayload() throws {
        var sample = JSONSample(state: 1618)
        for index in 0..<500 {
            let content = CanonicalJSON(.object(["body": sample.value(), "link": .string("https://example.com/\(index)/terms")]))
            let event = Event.versionDrafted(VersionDrafted(
                clientID: clientID, versionID: versionA, pageType: .processing, versionNumber: index + 1, content: content,
                iterationNotes: index % 2 == 0 ? sample.string() : nil, hypothesis: index % 3 == 0 ? nil : sample.string(),
                createdBy: sample.string(), metadata: index % 4 == 0 ? .object([:]) : .object(["k/\(index)": sample.value()])
            ))
            let payload = event.encodePayload()
            #expect(Array(payload) == event.payloadValue().canonicalBytes())
            let decoded = try Event.decode(type: "VersionDrafted", schemaVersion: 1, payload: payload)
            #expect(decoded == event)
            guard case .versionDrafted(let drafted) = decoded else { Issue.record("decoded as \(decoded.type)"); continue }
            #expect(drafted.content.bytes == content.bytes)
        }
        let missing = #"{"client_id":"\#(clientID.uuidString.lowercased())","created_by":"a","hypothesis":null,"iteration_notes":null,"metadata":{},"page_type":"agreement","version_id":"\#(versionA.uuidString.lowercased())","version_number":1}"#
        #expect { try Event.decode(type: "VersionDrafted", schemaVersion: 1, payload: Data(missing.utf8)) } throws: {
            ($0 as? DomainError)?.message.contains("content is missing") == true
        }
    }

    @Test("a ClientCreated stored at schema version 1 reads as version 2")
    func upcast() throws {
        let v1 = #"{"client_id":"\#(clientID.uuidString.lowercased())","name":"Ada","contact_email":"ada@example.com"}"#
        let event = try Event.decode(type: "ClientCreated", schemaVersion: 1, payload: Data(v1.utf8))
        #expect(event == .clientCreated(ClientCreated(clientID: clientID, name: "Ada", email: "ada@example.com", metadata: .object([:]))))
        #expect(EventType.clientCreated.currentSchemaVersion == 2)
    }

    @Test("an unknown type, a newer schema version or a bad payload is refused")
    func unreadable() {
        #expect { try Event.decode(type: "ClientRenamed", schemaVersion: 1, payload: Data("{}".utf8)) } throws: {
            ($0 as? DomainError)?.code == .unknownEventType
        }
        #expect { try Event.decode(type: "TokenIssued", schemaVersion: 2, payload: issued.encodePayload()) } throws: {
            ($0 as? DomainError)?.code == .invalidPayload
        }
        #expect { try Event.decode(type: "TokenIssued", schemaVersion: 1, payload: Data(#"{"client_id":"x"}"#.utf8)) } throws: {
            ($0 as? DomainError)?.code == .invalidPayload
        }
    }
}

@Suite("JSON and tokens")
struct ValueTests {
    @Test("hostile JSON is refused without crashing")
    func hostileJSON() {
        let deep = Data(String(repeating: "[", count: 100_000).utf8)
        #expect { try JSONValue.parse(deep) } throws: { ($0 as? DomainError)?.code == .jsonTooDeep }
        #expect { try JSONValue.parse(Data([0xff, 0xfe, 0x7b])) } throws: { ($0 as? DomainError)?.code == .jsonInvalid }
        #expect { try JSONValue.parse(Data(#"{"a":"#.utf8)) } throws: { ($0 as? DomainError)?.code == .jsonInvalid }
        let huge = Data(("\"" + String(repeating: "x", count: 8 << 20) + "\"").utf8)
        #expect { try JSONValue.parse(huge) } throws: { ($0 as? DomainError)?.code == .jsonTooLarge }
    }

    @Test("the size limit is on the value written canonically: indentation does not count, numbers count as written")
    func sizeLimit() throws {
        let limits = JSONLimits.default
        // 1 MiB of text and more is over the limit however it came.
        let big = try JSONValue.parse(Data(("\"" + String(repeating: "x", count: (1 << 20) - 1) + "\"").utf8))
        #expect { try limits.check(big, "content") } throws: {
            ($0 as? DomainError)?.message == "content is 1048577 bytes written canonically (keys sorted, no whitespace), over the limit of 1048576 bytes"
        }
        // 1.2 MB indented, 0.9 MB without the indentation: within the limit.
        let line = String(repeating: "y", count: 90)
        let indented = "{\n" + (0..<10_000).map { "        \"k\($0)\" :   \"\(line)\"" }.joined(separator: ",\n") + "\n}"
        #expect(indented.utf8.count > 1 << 20)
        let value = try JSONValue.parse(Data(indented.utf8))
        #expect(value.canonicalBytes().count < 1 << 20)
        try limits.check(value, "content")
        // 1e5 is written canonically as 100000: 700 KB of them is 1.3 MB stored, over the limit.
        let numbers = "[" + Array(repeating: "1e5", count: 175_000).joined(separator: ",") + "]"
        #expect(numbers.utf8.count < 1 << 20)
        #expect { try limits.check(try JSONValue.parse(Data(numbers.utf8)), "content") } throws: { ($0 as? DomainError)?.code == .jsonTooLarge }
    }

    @Test("numbers stay integers when they are; keys sort in canonical JSON")
    func numbers() throws {
        let value = try JSONValue.parse(Data(#"{"b":1.5,"a":50000,"c":[true,null,"/"]}"#.utf8))
        #expect(value == .object(["a": .integer(50_000), "b": .double(1.5), "c": .array([.bool(true), .null, .string("/")])]))
        #expect(String(decoding: value.canonicalJSON(), as: UTF8.self) == #"{"a":50000,"b":1.5,"c":[true,null,"/"]}"#)
    }

    @Test("a token is G and four ASCII digits", arguments: ["G0427", "G0000", "G9999", "G123", "g1234", "G12345", "G１２３４", "", "H1234"])
    func tokenFormat(text: String) {
        let valid = ["G0427", "G0000", "G9999"].contains(text)
        #expect(((try? Token(text)) != nil) == valid)
        if valid { #expect((try? Token(text))?.description == text) }
    }

    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("draws are uniform over the whole space, G0000 and G9999 included")
    func uniform() throws {
        var rng = SplitMix(state: 1)
        var buckets = [Int](repeating: 0, count: 10)
        var extremes = Set<Int>()
        let draws = 100_000
        for _ in 0..<draws {
            let token = try Token.draw(issuedCount: 0, isIssued: { _ in false }, using: &rng)
            buckets[token.number / 1_000] += 1
            if token.number == 0 || token.number == 9_999 { extremes.insert(token.number) }
        }
        let expected = Double(draws) / 10
        let chiSquare = buckets.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
        #expect(chiSquare < 30, "chi-square \(chiSquare) over 10 buckets: not uniform")
        #expect(extremes == [0, 9_999])
    }

    @Test("with 9999 issued the free one is found at once; with 10000 the draw fails clearly")
    func exhaustion() throws {
        var rng = SplitMix(state: 2)
        let free = Token(number: 5_123)
        #expect(try Token.draw(issuedCount: 9_999, isIssued: { $0 != free }, using: &rng) == free)
        #expect { try Token.draw(issuedCount: 10_000, isIssued: { _ in true }, using: &rng) } throws: {
            ($0 as? DomainError)?.code == .tokensExhausted
        }
    }
}
