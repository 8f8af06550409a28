import Domain
import EventStore
import Folio
import Foundation
import LMDB
import Projections
import Testing

@Suite("The command path")
struct CommandPathTests {
    @Test("a client's life through the commands shows in the read models at once")
    func life() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (client, token) = try activeClient(store)
        let v1 = try store.draftVersion(client: token, page: .agreement, content: .object(["title": .string("One")]), notes: "first", hypothesis: "h1")
        let v2 = try store.draftVersion(client: token, page: .agreement, content: .object(["title": .string("Two")]), notes: "second")
        let other = try store.draftVersion(client: token, page: .activation, content: .object([:]))
        let numbers: [Int] = [v1.versionNumber, v2.versionNumber, other.versionNumber]
        #expect(numbers == [1, 2, 1])
        _ = try store.promote(version: v1.id.lowercased)
        let promoted = try store.promote(version: v2.id.lowercased)
        #expect(promoted.isCurrent)
        let demoted = try #require(try store.projections.read { try $0.version(id: v1.id) })
        #expect(!demoted.isCurrent)
        let payment = try store.payment(.succeed, client: token, intent: "pi_life", amount: 50_000)
        #expect(payment.contentVersionID == v2.id)
        let row = try #require(try store.projections.read { try $0.client(id: client) })
        #expect(row.status == .paid)
        #expect(row.currentVersionID == v2.id)
    }

    @Test("a store opened as commands open it syncs every commit before the command returns; only an explicit unsafe option does not")
    func commitsAreSynced() throws {
        let directory = try TemporaryDirectory()
        // `Store.Options()` is what the command line passes, bar its notices.
        let store = try Store(path: directory.path("store"), options: Store.Options())
        _ = try store.createClient(name: "Durable")
        #expect(store.log.environment.syncsEachCommit)
        #expect(try !makeStore(directory, name: "unsynced", noSync: true).log.environment.syncsEachCommit)
    }

    @Test("a command whose new event's id is already in the log, as ids that repeat give it, is refused and writes nothing; ids are drawn anew each time")
    func repeatedIDs() throws {
        let directory = try TemporaryDirectory()
        // Every id the same, as `UUID()` gives without /dev/urandom: the first client's event takes it.
        let repeated = UUID(uuidString: "00000000-0000-4000-8000-000000000000")!
        let store = try Store(path: directory.path("store"), options: Store.Options(environment: Environment.Options(unsafeNoSync: true), ids: { repeated }, tokenSeed: 7))
        let client = try store.createClient(name: "First")
        let before = try exportText(store)
        try expectRefusal(store, containing: "event id 00000000-0000-4000-8000-000000000000 is the id of another event already in the log, at position 1: event ids are unique") {
            _ = try store.issueToken(client: client.id.lowercased)
        }
        #expect(try exportText(store) == before)
        #expect(try store.verify() == 1)
        let derived = try store.derivedDataCheck()
        #expect(derived.readModelTables.isEmpty && derived.writeIndexes == nil, "the indexes or read models hold what the log does not: \(derived)")
        // Folio's own ids are drawn from the system's random source: version 4, never the same.
        let drawn = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(drawn).count == drawn.count)
        #expect(drawn.allSatisfy { $0.uuid.6 >> 4 == 4 && $0.uuid.8 >> 6 == 0b10 })
        #expect(Set(drawn.map { $0.uuid.15 }).count > 200, "the last byte is not drawn")
    }

    @Test("every token issued is new, across clients and reissues")
    func tokensAreUnique() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, noSync: true)
        var seen = Set<String>()
        for index in 0..<40 {
            let client = try store.createClient(name: "Client \(index)")
            for _ in 0..<3 {
                let token = try #require(try store.issueToken(client: client.id.lowercased).activationToken).description
                #expect(seen.insert(token).inserted, "token \(token) issued twice")
            }
        }
        #expect(seen.count == 120)
    }

    @Test("a reissued token is retired: it no longer activates or stands for the client, and its refusal names the client, for an audit")
    func retiredToken() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let client = try store.createClient(name: "Grace Hopper")
        let old = try #require(try store.issueToken(client: client.id.lowercased).activationToken).description
        let new = try #require(try store.issueToken(client: client.id.lowercased).activationToken).description
        #expect(old != new)
        try expectRefusal(store, containing: "retired") { _ = try store.activate(token: old) }
        try expectRefusal(store, containing: "token \(old) was retired when client \(client.id.lowercased)'s token was replaced: use the client's id or current token (rule 1)") {
            _ = try store.issueToken(client: old)
        }
        #expect(throws: FolioError.self) { try store.history(client: old) }
        #expect(try store.activate(token: new).status == .active)
    }

    @Test("when all 10000 tokens are issued, a deleted client's included, issuing fails with a clear error")
    func tokensExhausted() throws {
        // 100 clients each issued 100 tokens (99 reissues), imported in one transaction.
        let directory = try TemporaryDirectory()
        var lines: [String] = []
        var position = 0
        func line(_ client: String, _ version: Int, _ type: String, _ data: String) {
            position += 1
            lines.append(#"{"id":"\#(UUID().uuidString.lowercased())","position":\#(position),"stream":"client-\#(client)","stream_version":\#(version),"type":"\#(type)","schema_version":\#(type == "ClientCreated" ? 2 : 1),"recorded_at":"2026-01-05T09:00:00.000000Z","actor":"admin","correlation_id":null,"causation_id":null,"data":\#(data)}"#)
        }
        var clients: [String] = []
        for index in 0..<100 {
            let client = UUID().uuidString.lowercased()
            clients.append(client)
            line(client, 1, "ClientCreated", #"{"client_id":"\#(client)","email":null,"metadata":{},"name":"Client \#(index)"}"#)
            for step in 0..<100 {
                let token = Token(number: index * 100 + step).description
                let replaces = step == 0 ? "null" : "\"\(Token(number: index * 100 + step - 1))\""
                line(client, step + 2, "TokenIssued", #"{"activation_token":"\#(token)","client_id":"\#(client)","replaces":\#(replaces)}"#)
            }
        }
        // The last client is deleted: its tokens stay retired from every other client (rule 1).
        line(clients[99], 102, "ClientDeleted", #"{"client_id":"\#(clients[99])"}"#)
        let file = directory.path("tokens.jsonl")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let store = try makeStore(directory)
        #expect(try store.importLog(from: file).events == 10_101)
        try expectRefusal(store, containing: "all 10000 activation tokens") { _ = try store.issueToken(client: clients[0]) }
        let fresh = try store.createClient(name: "Late")
        try expectRefusal(store, containing: "all 10000 activation tokens") { _ = try store.issueToken(client: fresh.id.lowercased) }
    }

    @Test("a payment intent belongs to one client only")
    func intentIsUnique() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let a = try activeClient(store, name: "A")
        let b = try activeClient(store, name: "B")
        _ = try store.payment(.start, client: a.token, intent: "pi_shared", amount: 50_000)
        try expectRefusal(store, containing: "already belongs to client \(a.id.lowercased): stripe_payment_intent_id is unique") {
            _ = try store.payment(.succeed, client: b.token, intent: "pi_shared", amount: 50_000)
        }

        // Still once its client is deleted: the log keeps the payment (a deleted client's tokens
        // staying retired is `tokensExhausted`'s).
        _ = try store.deleteClient(a.id.uuidString)
        try expectRefusal(store, containing: "already belongs to client \(a.id.lowercased) (deleted): stripe_payment_intent_id is unique") {
            _ = try store.payment(.start, client: b.token, intent: "pi_shared", amount: 50_000)
        }
        try expectRefusal(store, containing: "client \(a.id.lowercased) was deleted") { _ = try store.activate(token: a.token) }
    }

    @Test("every command refuses a blank actor, as a draft's created_by is refused, and appends nothing")
    func blankActor() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (client, token) = try activeClient(store)
        let version = try store.draftVersion(client: token, page: .agreement, content: .object([:]))
        for actor in ["", " \t", "\n", "\r\n", " \u{2028}", String(repeating: "a", count: 256)] {
            let refusal = "the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank"
            try expectRefusal(store, containing: refusal) { _ = try store.createClient(name: "B", actor: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.issueToken(client: client.lowercased, actor: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.activate(token: token, actor: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.draftVersion(client: token, page: .agreement, content: .object([:]), createdBy: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.promote(version: version.id.lowercased, actor: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.recordOutcome(version: version.id.lowercased, outcome: .success, actor: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.payment(.succeed, client: token, intent: "pi_1", amount: 50_000, actor: actor) }
            try expectRefusal(store, containing: refusal) { _ = try store.deleteClient(token, actor: actor) }
        }
    }

    @Test("a payment cannot name another client's content version")
    func versionOfAnotherClient() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let a = try activeClient(store, name: "A")
        let b = try activeClient(store, name: "B")
        let version = try store.draftVersion(client: a.token, page: .agreement, content: .object([:]))
        let owned = "content version \(version.id.lowercased) belongs to client \(a.id.lowercased), not \(b.id.lowercased) (rule 6: a payment links to its own client's content)"
        try expectRefusal(store, containing: owned) {
            _ = try store.payment(.start, client: b.token, intent: "pi_x", amount: 50_000, version: version.id.lowercased)
        }
        let unknown = UUID()
        try expectRefusal(store, containing: "content version \(unknown.lowercased) does not exist") {
            _ = try store.payment(.start, client: b.token, intent: "pi_y", amount: 50_000, version: unknown.lowercased)
        }
    }

    @Test("repeats are no-ops: the same webhook twice, activating twice with the token, promoting the current version")
    func idempotentRepeats() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (_, token) = try activeClient(store)
        var before = try exportText(store)
        #expect(try store.activate(token: token).status == .active)
        #expect(try exportText(store) == before)
        let version = try store.draftVersion(client: token, page: .agreement, content: .object([:]))
        _ = try store.promote(version: version.id.lowercased)
        _ = try store.payment(.succeed, client: token, intent: "pi_1", amount: 50_000)
        before = try exportText(store)
        _ = try store.payment(.succeed, client: token, intent: "pi_1", amount: 50_000)
        _ = try store.promote(version: version.id.lowercased)
        #expect(try exportText(store) == before)
        try expectRefusal(store, containing: "activating twice") { _ = try store.activate(token: token) }
    }

    @Test("a late webhook of a step a finished payment is past changes nothing, and answers with the payment as it is; a contradiction is refused")
    func lateWebhooks() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (id, token) = try activeClient(store)
        _ = try store.draftVersion(client: token, page: .agreement, content: .object([:]))
        _ = try store.payment(.succeed, client: token, intent: "pi_paid", amount: 50_000)
        let before = try exportText(store)
        let late = try store.payment(.fail, client: token, intent: "pi_paid", amount: 50_000, reason: "card_declined")
        #expect(late.status == .succeeded)
        #expect(try store.payment(.start, client: token, intent: "pi_paid", amount: 50_000).status == .succeeded)
        #expect(try exportText(store) == before)
        #expect(try store.projections.read { try $0.client(id: id) }?.status == .paid)
        try expectRefusal(store, containing: "payment intent pi_paid is succeeded: it cannot become cancelled (rule 6)") {
            _ = try store.payment(.cancel, client: token, intent: "pi_paid", amount: 50_000)
        }
    }

    @Test("unknown ids and tokens are refused, naming them")
    func unknownIDs() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let missing = UUID().uuidString.lowercased()
        try expectRefusal(store, containing: missing) { _ = try store.issueToken(client: missing) }
        try expectRefusal(store, containing: missing) { _ = try store.promote(version: missing) }
        try expectRefusal(store, containing: "G4242") { _ = try store.activate(token: "G4242") }
        try expectRefusal(store, containing: "not an activation token") { _ = try store.activate(token: "g1234") }
        try expectRefusal(store, containing: "neither a client UUID") { _ = try store.issueToken(client: "nobody") }
    }

    @Test("an error of any module keeps its kind: a rule's refusal, an unknown name, malformed input, the store's failure")
    func errorKinds() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let client = try store.createClient(name: "Pending")
        func kind(_ body: () throws -> Void) -> FolioError.Code? {
            do { try body() } catch { return FolioError.wrapping(error).code }
            return nil
        }
        #expect(kind { _ = try store.payment(.succeed, client: client.id.lowercased, intent: "pi_1", amount: 50_000) } == .refused)
        #expect(kind { _ = try store.issueToken(client: UUID().uuidString) } == .notFound)
        #expect(kind { _ = try store.projections.rebuild(["nope"]) } == .notFound)
        #expect(kind { _ = try JSONValue.parse(Data(#"{"a":"#.utf8)) } == .invalidInput)
        #expect(kind { _ = try store.activate(token: "g1234") } == .invalidInput)
        #expect(kind { _ = try store.payment(.start, client: client.id.lowercased, intent: "pi_1", amount: 0) } == .invalidInput)
        _ = try store.deleteClient(client.id.lowercased)
        #expect(kind { _ = try store.deleteClient(client.id.lowercased) } == .notFound)
        // Another LMDB environment is no Folio store (copied: this process keeps the one it opened).
        let other = try Environment.open(at: directory.path("other"))
        let notes = try other.database("notes")
        try other.write { txn in try txn.put(notes, Array("a".utf8), Array("b".utf8)) }
        try FileManager.default.copyItem(atPath: directory.path("other"), toPath: directory.path("copy"))
        #expect(kind { _ = try Store(path: directory.path("copy")) } == .store)
    }

    @Test("a deleted client leaves the read models and takes no more commands; the log keeps it")
    func deletion() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (client, token) = try activeClient(store)
        let version = try store.draftVersion(client: token, page: .agreement, content: .object([:]))
        _ = try store.promote(version: version.id.lowercased)
        _ = try store.payment(.succeed, client: token, intent: "pi_del", amount: 50_000)
        let deleted = try store.deleteClient(client.uuidString)
        #expect(deleted.id == client)
        let (row, versions, payments, analytics) = try store.projections.read { model in
            (try model.client(id: client), try model.versions(client: client), try model.payments(client: client), try model.analytics())
        }
        #expect(row == nil)
        #expect(versions.isEmpty)
        #expect(payments.isEmpty)
        #expect(analytics.byVersion.isEmpty)
        try expectRefusal(store, containing: "was deleted") {
            _ = try store.draftVersion(client: client.uuidString, page: .agreement, content: .object([:]))
        }
        #expect(try store.history(client: client.uuidString).pages.contains { !$0.versions.isEmpty })
    }

    @Test("history lists each version with why it changed and a structural diff")
    func history() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (_, token) = try activeClient(store)
        let first = try store.draftVersion(client: token, page: .agreement, content: .object(["title": .string("Terms"), "price": .integer(500)]), notes: "first")
        _ = try store.promote(version: first.id.lowercased)
        let second = try store.draftVersion(
            client: token, page: .agreement, content: .object(["title": .string("Plain terms"), "faq": .array([.string("Q")])]),
            notes: "plain words", hypothesis: "more sign"
        )
        _ = try store.promote(version: second.id.lowercased)
        _ = try store.recordOutcome(version: first.id.lowercased, outcome: .pending, notes: "too early")
        _ = try store.recordOutcome(version: first.id.lowercased, outcome: .failure, notes: "stalled")
        _ = try store.payment(.succeed, client: token, intent: "pi_h", amount: 50_000)
        let history = try store.history(client: token, page: .agreement)
        let versions = try #require(history.pages.first?.versions)
        #expect(versions.map(\.versionNumber) == [1, 2])
        #expect(versions[0].outcome == .failure && versions[0].outcomeNotes == "stalled" && versions[0].demotedAt.count == 1)
        // Every judgement stays in the audit, in order, not only the last.
        #expect(versions[0].outcomes.map(\.outcome) == [.pending, .failure])
        #expect(versions[0].outcomes.map(\.notes) == ["too early", "stalled"])
        #expect(versions[0].outcomes[0].at <= versions[0].outcomes[1].at)
        #expect(versions[1].iterationNotes == "plain words" && versions[1].hypothesis == "more sign")
        #expect(versions[1].payments.map(\.intent) == ["pi_h"])
        let changes = Set(versions[1].changes.map { "\($0.kind.rawValue) \($0.path)" })
        #expect(changes == ["changed title", "removed price", "added faq"])
        // Not compared, no page is held; the rest is the same.
        let plain = try #require(try store.history(client: token, page: .agreement, comparing: false).pages.first?.versions)
        #expect(plain.map(\.content) == [.omitted, .omitted] && plain.allSatisfy(\.changes.isEmpty))
        #expect(plain.map(\.id) == versions.map(\.id) && plain.map(\.outcomes.count) == [2, 0] && plain.map(\.timeline.count) == [4, 1])
    }

    @Test("a diff tells text in two Unicode forms apart, as the stored bytes do: a value is changed, a key removed and added")
    func diffUnicodeForms() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let values = ContentChange.diff(from: .object(["title": .string(composed)]), to: .object(["title": .string(decomposed)]))
        #expect(values.map(\.kind) == [.changed] && values.map(\.path) == ["title"])
        #expect(values.first?.old == .string(composed) && values.first?.new == .string(decomposed))
        let keys = ContentChange.diff(from: .object([composed: .integer(1)]), to: .object([decomposed: .integer(1)]))
        #expect(keys.map(\.kind) == [.added, .removed] && keys.map(\.path).allSatisfy { $0 == composed })
        #expect(keys.map { $0.new ?? $0.old } == [.integer(1), .integer(1)])
        #expect(ContentChange.diff(from: .object([composed: .string(decomposed)]), to: .object(["caf\u{E9}": .string("cafe\u{301}")])).isEmpty)
    }

    @Test("a diff matches up the elements of an array left as they were: a section inserted or removed is one change, not one for each after it")
    func diffArrays() {
        func section(_ number: Int, title: String? = nil) -> JSONValue {
            .object(["heading": .string(title ?? "Section \(number)"), "paragraphs": .array([.string("Text of section \(number).")])])
        }
        func page(_ sections: [JSONValue]) -> JSONValue { .object(["headline": .string("Welcome"), "sections": .array(sections)]) }
        func described(_ old: [JSONValue], _ new: [JSONValue]) -> [String] {
            ContentChange.diff(from: page(old), to: page(new)).map { "\($0.kind.rawValue) \($0.path)" }
        }
        let sections = (0..<26).map { section($0) }
        #expect(described(sections, Array(sections.dropFirst())) == ["removed sections[0]"])
        #expect(described(sections, Array(sections.dropLast())) == ["removed sections[25]"])
        var inserted = sections
        inserted.insert(section(99), at: 5)
        #expect(described(sections, inserted) == ["added sections[5]"])
        // An element changed in place is walked into; its path is its index in the new content.
        var edited = Array(sections.dropFirst())
        edited[9] = section(10, title: "Pricing, plainly")
        #expect(described(sections, edited) == ["removed sections[0]", "changed sections[9].heading"])
        let changed = ContentChange.diff(from: page(sections), to: page(edited)).last
        #expect(changed?.old == .string("Section 10") && changed?.new == .string("Pricing, plainly"))
        // Two swapped: one of them stays matched, the other is removed where it was and added where it is.
        let swapped = [sections[1], sections[0]] + sections[2...]
        #expect(Set(described(sections, swapped)) == ["removed sections[0]", "added sections[1]"])
        let reversed = described(sections, sections.reversed())
        #expect(reversed.filter { $0.hasPrefix("removed") }.count == 25 && reversed.filter { $0.hasPrefix("added") }.count == 25, "one section stays matched, the others move")
        #expect(described([], sections).count == 26 && described(sections, []).count == 26)

        // Long arrays with few edits are matched up as well as short ones, whatever their length
        // and however many there are (changed at both ends, so that nothing equal at the start or
        // the end matches them).
        let long = (0..<1_200).map { JSONValue.integer(Int64($0)) }
        let shifted = [JSONValue.string("first")] + long.dropFirst(2) + [.string("last")]
        #expect(ContentChange.diff(from: .array(long), to: .array(shifted)).map { "\($0.kind.rawValue) \($0.path)" } == ["changed [0]", "removed [1]", "added [1199]"])
        var rows = (0..<15_000).map { JSONValue.object(["i": .integer(Int64($0))]) }
        let before = rows
        rows.insert(.object(["i": .integer(-1)]), at: 7_000)
        rows.remove(at: 12_001)
        #expect(ContentChange.diff(from: .array(before), to: .array(rows)).map { "\($0.kind.rawValue) \($0.path)" } == ["added [7000]", "removed [12000]"])
        let alternating = (0..<1_200).map { JSONValue.integer(Int64($0 % 2)) }
        let alternatingShifted = [JSONValue.string("first")] + alternating.dropFirst(2) + [.string("last")]
        #expect(ContentChange.diff(from: .array(alternating), to: .array(alternatingShifted)).count == 3)
        // Forty lists of 400 small numbers, three inserted into each: three changes a list.
        var generator = SplitMix64(seed: 40)
        var listsBefore: [String: JSONValue] = [:], listsAfter: [String: JSONValue] = [:]
        for key in (0..<40).map({ "k\($0)" }) {
            var list = (0..<400).map { _ in JSONValue.integer(Int64.random(in: 0..<5, using: &generator)) }
            listsBefore[key] = .array(list)
            list.insert(.integer(7), at: 10)
            list.insert(.integer(9), at: 200)
            list.insert(.integer(8), at: list.count - 10)
            listsAfter[key] = .array(list)
        }
        let lists = ContentChange.diff(from: .object(listsBefore), to: .object(listsAfter))
        #expect(lists.count == 120 && lists.allSatisfy { $0.kind == .added }, "\(lists.count) changes")
        // Past the table: distinct elements are matched up by those found once on each side, and
        // the stretches between them as short ones are; a list of a few values, by the shortest
        // edit script, for a few hundred edits.
        var ids = (0..<2_000).map { JSONValue.integer(Int64($0)) }
        let idsBefore = ids
        for step in 0..<32 {
            ids[step * 60] = .integer(Int64(-1 - step))
            ids.insert(.integer(Int64(10_000 + step)), at: step * 60 + 30)
            ids.remove(at: step * 60 + 45)
        }
        let idChanges = ContentChange.diff(from: .array(idsBefore), to: .array(ids))
        #expect(idChanges.count <= 96, "\(idChanges.count) changes for 96 edits")
        var few = (0..<1_200).map { JSONValue.integer(Int64($0 * 7 % 5)) }
        let fewBefore = few
        for step in 0..<100 { few.insert(.integer(9), at: step * 12) }
        let fewChanges = ContentChange.diff(from: .array(fewBefore), to: .array(few))
        #expect(fewChanges.count == 100 && fewChanges.allSatisfy { $0.kind == .added }, "\(fewChanges.count)")
        // Long arrays changed throughout, past what one diff may compare, are matched up by the
        // elements found once on each side, then between them; with none, element by element.
        let rewritten = (0..<3_000).map { JSONValue.integer(Int64($0 * 7 % 5)) }
        let other = (0..<3_000).map { JSONValue.integer(Int64(($0 * 3 + 1) % 5)) }
        let positional = ContentChange.diff(from: .array(rewritten), to: .array(other))
        // (One position in five holds the same number on both sides.)
        #expect(positional.count == 2_400 && positional.allSatisfy { $0.kind == .changed }, "\(positional.count)")
        let anchored = (0..<3_000).map { JSONValue.integer(Int64($0)) }
        // Every hundredth kept, and the rest moved by one: each kept one is found once on each side.
        var scattered = (0..<3_000).map { JSONValue.string("x\($0)") }
        for index in stride(from: 0, to: 3_000, by: 100) { scattered[index + 1] = anchored[index] }
        let byAnchors = ContentChange.diff(from: .array(anchored), to: .array(scattered))
        #expect(byAnchors.map(\.kind.rawValue).first == "added" && byAnchors.map(\.kind.rawValue).last == "removed", "\(byAnchors.prefix(2))")
        #expect(byAnchors.filter { $0.kind == ContentChange.Kind.changed }.count == 2_969 && byAnchors.count == 2_971, "\(byAnchors.count)")
    }

    @Test("a diff's arrays are matched up by a longest common subsequence: as many elements left as they were as there can be, short or long", arguments: [20, 300, 1_500])
    func diffMatchesMost(length: Int) {
        var generator = SplitMix64(seed: UInt64(length))
        for _ in 0..<(length > 500 ? 3 : 40) {
            let old = (0..<length).map { _ in Int64.random(in: 0..<6, using: &generator) }
            var new = old
            // A few edits where the arrays are long; any number where they are short.
            for _ in 0..<(length > 500 ? 12 : Int.random(in: 0...length, using: &generator)) {
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &generator))
                case 1: new.insert(Int64.random(in: 0..<6, using: &generator), at: Int.random(in: 0...new.count, using: &generator))
                default: if !new.isEmpty { new[Int.random(in: 0..<new.count, using: &generator)] = Int64.random(in: 0..<6, using: &generator) }
                }
            }
            let changes = ContentChange.diff(from: .array(old.map(JSONValue.integer)), to: .array(new.map(JSONValue.integer)))
            // Elements of the old array not matched are changed in place or removed.
            let matched = old.count - changes.filter { $0.kind != .added }.count
            // The longest common subsequence, by the table.
            var lengths = [[Int]](repeating: [Int](repeating: 0, count: new.count + 1), count: old.count + 1)
            for i in stride(from: old.count - 1, through: 0, by: -1) {
                for j in stride(from: new.count - 1, through: 0, by: -1) {
                    lengths[i][j] = old[i] == new[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
                }
            }
            #expect(matched == lengths[0][0], "\(old.count) → \(new.count) elements: \(matched) matched of \(lengths[0][0])")
        }
    }

    @Test("a diff's path names one key: a key that would read as a path, or as nothing, is written in brackets as a JSON string")
    func diffPaths() {
        let old: JSONValue = .object(["": .string("e"), "k.[0]": .string("a"), "k": .array([.string("a")]), "plain": .object(["a b": .integer(1), "$": .integer(1)])])
        let new: JSONValue = .object(["": .string("f"), "k.[0]": .string("b"), "k": .array([.string("b")]), "plain": .object(["a b": .integer(2), "$": .integer(2)])])
        let paths = ContentChange.diff(from: old, to: new).map(\.path)
        #expect(paths == [#"[""]"#, "k[0]", #"["k.[0]"]"#, #"plain["$"]"#, #"plain["a b"]"#], "\(paths)")
        // A key holding a control character or a bidirectional control is quoted (the table
        // writes the character out); one joining emoji is plain.
        let keys = ContentChange.diff(from: .object([:]), to: .object(["\u{1b}c": .integer(1), "x\u{0}y": .integer(2), "\u{202E}r": .integer(3), "👩\u{200D}💻": .integer(4)])).map(\.path)
        #expect(keys == [#"["\u001bc"]"#, #"["x\u0000y"]"#, "[\"\u{202E}r\"]", "👩\u{200D}💻"], "\(keys)")
        // A key holding a character that shows nothing, or a space other than ASCII's, is
        // quoted with that character written out, so it reads apart from the key without it;
        // emoji built with joiners, variation selectors and tags stay plain.
        let hidden = ContentChange.diff(from: .object([:]), to: .object([
            "price": .integer(1), "price\u{200B}": .integer(2), "a\u{A0}b": .integer(3), "x\u{E0001}": .integer(4), "sof\u{AD}t": .integer(5),
            "❤\u{FE0F}": .integer(6), "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}": .integer(7),
            // Joiners, selectors and tags outside an emoji show nothing either; controls past
            // JSON's are written out as its escapes too.
            "price\u{200D}": .integer(8), "price\u{FE0F}": .integer(9), "x\u{E0067}": .integer(10), "a\u{7F}": .integer(11), "b\u{80}\"": .integer(12),
            // A non-joiner between letters of a script that joins them changes the word drawn.
            "می\u{200C}خواهم": .integer(13),
        ])).map(\.path)
        #expect(Set(hidden) == [
            "price", #"["price\u200b"]"#, #"["a\u00a0b"]"#, #"["x\udb40\udc01"]"#, #"["sof\u00adt"]"#,
            "❤\u{FE0F}", "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
            #"["price\u200d"]"#, #"["price\ufe0f"]"#, #"["x\udb40\udc67"]"#, #"["a\u007f"]"#, #"["b\u0080\""]"#, "می\u{200C}خواهم",
        ], "\(hidden)")
    }
}
