import Domain
import EventStore
import Foundation
import LMDB
import Projections
import Testing

/// A projector like another but with a bumped version.
struct Bumped: Projector {
    let base: any Projector
    var name: String { base.name }
    var version: Int { base.version + 1 }
    var tables: [String] { base.tables }
    var eventTypes: Set<EventType> { base.eventTypes }
    var readsDraftContent: Bool { base.readsDraftContent }
    func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws { try base.apply(event, at: envelope, to: store) }
}

/// A projector that fails from one position on, to interrupt a rebuild.
struct Failing: Projector {
    let base: any Projector
    let position: UInt64
    var name: String { base.name }
    var version: Int { base.version + 1 }
    var tables: [String] { base.tables }
    var eventTypes: Set<EventType> { base.eventTypes }
    var readsDraftContent: Bool { base.readsDraftContent }
    struct Boom: Error {}
    func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws {
        if envelope.position >= position { throw Boom() }
        try base.apply(event, at: envelope, to: store)
    }
}

/// A projector of another kind that keeps each draft's content bytes: it reads content, so the
/// folds it takes part in copy it, though Folio's own projectors do not read it.
struct DraftContents: Projector {
    struct Bytes: StoredRow {
        var bytes: [UInt8]
        func encode(into out: inout [UInt8]) { out += bytes }
        static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Bytes { Bytes(bytes: Array(bytes)) }
    }
    static let table = Table<Bytes>("draft_contents")
    var name: String { "draft_contents" }
    var version: Int { 1 }
    var tables: [String] { [Self.table.name] }
    var eventTypes: Set<EventType> { [.versionDrafted] }
    func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws {
        guard case .versionDrafted(let draft) = event else { return }
        try store.put(Self.table, withUnsafeBytes(of: draft.versionID.uuid) { Array($0) }, Bytes(bytes: draft.content.bytes))
    }
}

@Suite("Projections")
struct ProjectionsTests {
    @Test("catch-up after every append equals a fold of that prefix, and a final rebuild writes the same bytes", arguments: [1, 2, 3, 4] as [UInt64])
    func incrementalEqualsRebuild(seed: UInt64) throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: seed)
        let events = generator.history(count: 220)
        #expect(Set(events.map(\.event.type)).count == EventType.allCases.count, "the generator covers every event type")
        for (offset, event) in events.enumerated() {
            try fixture.append(event)
            let position = UInt64(offset + 1)
            let stored = try fixture.projections.read { try $0.dump() }
            let folded = try fixture.projections.model(asOf: .position(position)).dump()
            let difference = differingTables(stored, folded)
            #expect(difference.isEmpty, "seed \(seed): stored read models differ from a fold at position \(position) in \(difference)")
            if !difference.isEmpty { return }
            try checkOneCurrentVersion(fixture.projections, at: position)
        }
        let before = try storedBytes(fixture.log)
        let reports = try fixture.projections.rebuild()
        #expect(reports.map(\.name) == ["clients", "content_versions", "payments", "analytics"])
        let rebuilt = try storedBytes(fixture.log)
        #expect(differingTables(rebuilt, before).isEmpty, "a rebuild writes byte for byte what catch-up wrote")
        #expect(try fixture.projections.status().allSatisfy { !$0.isStale && $0.checkpoint == UInt64(events.count) && $0.lag == 0 })
    }

    @Test("clients folded from their own streams, as of a position or a time, have the rows a fold of the whole log gives them", arguments: [5, 6] as [UInt64])
    func clientStreamsFoldAlike(seed: UInt64) throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: seed)
        let events = generator.history(count: 260)
        for event in events { try fixture.append(event) }
        let clients = Array(Set(events.map(\.event.clientID)))
        let perClient = ["clients", "clients_by_token", "content_versions", "content_versions_by_client", "current_versions",
                         "payments", "payments_by_intent", "payments_by_version", "payments_by_client"]
        let points = stride(from: 0, through: events.count, by: 7).map { AsOf.position(UInt64($0)) }
            + events.indices.filter { $0 % 31 == 0 }.map { AsOf.time(microseconds: events[$0].recordedAtMicroseconds) }
        for point in points {
            let whole = try fixture.projections.model(asOf: point).dump().filter { perClient.contains($0.key) }
            let apart = try fixture.projections.model(asOf: point, clients: clients).dump()
            #expect(differingTables(whole, apart.filter { perClient.contains($0.key) }).isEmpty, "\(point)")
            let analytics = apart.filter { !perClient.contains($0.key) }
            #expect(analytics.values.allSatisfy { $0.isEmpty }, "analytics are not folded apart")
            // One client alone: its own rows, and no other's.
            let one = try #require(clients.min { $0.uuidString < $1.uuidString })
            let alone = try fixture.projections.model(asOf: point, clients: [one])
            let full = try fixture.projections.model(asOf: point)
            #expect(try alone.client(id: one) == (try full.client(id: one)))
            #expect(try alone.versions(client: one) == (try full.versions(client: one)))
            #expect(try alone.payments(client: one) == (try full.payments(client: one)))
            let listed = try alone.clients()
            #expect(listed.allSatisfy { $0.id == one })
        }
    }

    /// One current version per (client, page); `is_current`, the current-version lookup and the
    /// client's `current_version_id` agree.
    func checkOneCurrentVersion(_ projections: Projections, at position: UInt64) throws {
        try projections.read { (model: ReadModel) throws in
            let current = try model.versions(currentOnly: true)
            let pairs = current.map { "\($0.clientID) \($0.pageType)" }
            #expect(Set(pairs).count == pairs.count, "two current versions of one page at position \(position)")
            for client in try model.clients() {
                for page in PageType.allCases {
                    let flagged = try model.versions(client: client.id, page: page).filter(\.isCurrent)
                    #expect(flagged.count <= 1)
                    #expect(try model.currentVersion(client: client.id, page: page)?.id == flagged.first?.id)
                }
                if let id = client.currentVersionID { #expect(try model.version(id: id)?.isCurrent == true) }
            }
        }
    }

    @Test("a stored row is the bytes JSONEncoder writes for it with sorted keys, and reads back as the same row")
    func storedRows() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 5)
        let history = generator.history(count: 220)
        for event in history { try fixture.append(event) }
        let stored = try storedBytes(fixture.log)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func check<Row: JSONRow & Encodable>(_ table: String, _: Row.Type, stored form: (Row) -> [UInt8]) throws {
            let rows = try #require(stored[table])
            #expect(!rows.isEmpty)
            for bytes in rows.values {
                let row = try bytes.withUnsafeBytes { try Row.decode($0) }
                var again: [UInt8] = []
                row.encode(into: &again)
                #expect(again == bytes)
                #expect(form(row) == bytes, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        try check("clients", ClientRow.self) { Array(try! encoder.encode($0)) }
        try check("payments", PaymentRow.self) { Array(try! encoder.encode($0)) }
        // A version's row names its draft's log position instead of holding the content…
        try check("content_versions", VersionRow.self) { row in
            var copy = row
            copy.content = CanonicalJSON(.null)
            let object = String(decoding: try! encoder.encode(copy), as: UTF8.self)
            return Array(object.replacingOccurrences(of: #""content":null"#, with: #""content_position":\#(row.contentPosition!)"#).utf8)
        }
        // …and is read with the draft's content, in the columns JSONEncoder writes.
        let drafts = history.drafts
        let versions = try fixture.projections.read { try $0.versions() }
        #expect(!versions.isEmpty && versions.count == stored["content_versions"]?.count)
        for row in versions {
            #expect(row.content == drafts[row.id]?.content)
            #expect(row.jsonObject() == Array(try encoder.encode(row)))
        }
    }

    @Test("a stored version names its draft in the log; the content read back is the draft's, and a row naming another record is refused")
    func contentFromTheLog() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 7)
        let history = generator.history(count: 80)
        for event in history { try fixture.append(event) }
        let database = try #require(try storedDatabases(fixture.log)["content_versions"])
        let (key, bytes) = try #require(try storedBytes(fixture.log)["content_versions"]?.first)
        #expect(!String(decoding: bytes, as: UTF8.self).contains(#""content":"#))
        var row = try bytes.withUnsafeBytes { try VersionRow.decode($0) }
        func stored(_ row: VersionRow) -> [UInt8] {
            var bytes: [UInt8] = []
            row.encode(into: &bytes)
            return bytes
        }
        let draft = try #require(history.drafts[row.id])
        let position = try #require(row.contentPosition)
        #expect(try fixture.log.read { try $0.event(at: position)?.id } == history[Int(position) - 1].id)
        #expect(try fixture.projections.read { try $0.version(id: row.id) }?.content == draft.content)
        #expect(try fixture.projections.model(asOf: .position(position)).version(id: row.id)?.content == draft.content)

        // A corrupt draft is named when its version is read; the other versions still read.
        try fixture.tamper(at: position)
        let corrupt = try #require(throws: ProjectionError.self) { try fixture.projections.read { try $0.version(id: row.id) } }
        #expect(corrupt.code == .corruptRecord && corrupt.position == position, "\(corrupt.message)")
        let others = try #require(try storedBytes(fixture.log)["content_versions"]?.values.map { bytes in
            try bytes.withUnsafeBytes { try VersionRow.decode($0) }
        }.filter { $0.id != row.id })
        #expect(!others.isEmpty)
        for other in others { #expect(try fixture.projections.read { try $0.version(id: other.id) }?.content == history.drafts[other.id]?.content) }
        try fixture.tamper(at: position)  // the same change again puts the byte back

        // A row stored with its content (as Folio stored them before) reads as it stands.
        row.content = CanonicalJSON(.object(["kept": .string("in the row")]))
        row.contentPosition = nil
        try fixture.log.environment.write { try $0.put(database, key, stored(row)) }
        #expect(try fixture.projections.read { try $0.version(id: row.id) }?.content == row.content)

        // A row naming a record that is not its draft (the client's creation, at 1) is refused.
        row.contentPosition = 1
        try fixture.log.environment.write { try $0.put(database, key, stored(row)) }
        let error = try #require(throws: ProjectionError.self) { try fixture.projections.read { try $0.versions() } }
        #expect(error.code == .decodeFailed && error.position == 1)
        #expect(error.message.contains("rebuild the read models"), "\(error.message)")
    }

    @Test("a projector that reads drafts' content gets it in catch-up and rebuild, beside Folio's own that do not")
    func projectorReadingContent() throws {
        let projectors = Projections.standard + [DraftContents()]
        let fixture = try Fixture(projectors: projectors)
        var generator = HistoryGenerator(seed: 11)
        let history = generator.history(count: 120)
        for event in history { try fixture.append(event) }
        let expected = Dictionary(uniqueKeysWithValues: history.drafts.values.map { draft in
            (withUnsafeBytes(of: draft.versionID.uuid) { Array($0) }, draft.content.bytes)
        })
        #expect(expected.count > 10)
        #expect(try storedBytes(fixture.log, projectors)["draft_contents"] == expected)
        _ = try fixture.projections.rebuild()
        #expect(try storedBytes(fixture.log, projectors)["draft_contents"] == expected)
    }

    @Test("rows encode with exactly the schema's columns plus the documented extras")
    func schemaColumns() throws {
        let client = UUID(), version = UUID(), payment = UUID()
        let at = Date(timeIntervalSince1970: 1_767_600_000.25)
        let fixture = try Fixture()
        let events: [Event] = [
            .clientCreated(ClientCreated(clientID: client, name: "Ada", email: nil, metadata: .object(["k": .string("v")]))),
            .tokenIssued(TokenIssued(clientID: client, activationToken: Token(number: 42), replaces: nil)),
            .versionDrafted(VersionDrafted(
                clientID: client, versionID: version, pageType: .agreement, versionNumber: 1, content: CanonicalJSON(.object(["a": .integer(1)])),
                iterationNotes: "why", hypothesis: nil, createdBy: "admin", metadata: .object([:])
            )),
            .paymentInitiated(PaymentRecord(clientID: client, paymentID: payment, contentVersionID: version, stripePaymentIntentID: "pi_1", amount: 50_000)),
        ]
        for (offset, event) in events.enumerated() {
            try fixture.append(GeneratedEvent(event: event, id: UUID(), recordedAtMicroseconds: Timestamp.microseconds(at) + Int64(offset)))
        }
        let (clientRow, versionRow, paymentRow) = try fixture.projections.read { (model: ReadModel) throws in
            (try model.client(id: client), try model.version(id: version), try model.payment(id: payment))
        }
        func object(_ row: some Encodable) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(row)) as? [String: Any])
        }
        let c = try object(try #require(clientRow))
        #expect(Set(c.keys) == ["id", "name", "email", "activation_token", "current_version_id", "status", "metadata", "created_at", "activated_at", "updated_at"])
        #expect(c["id"] as? String == client.uuidString.lowercased())
        #expect(c["activation_token"] as? String == "G0042")
        #expect(c["email"] is NSNull && c["current_version_id"] is NSNull)
        #expect(c["status"] as? String == "pending")
        #expect(c["created_at"] as? String == "2026-01-05T08:00:00.250000Z")
        #expect((c["metadata"] as? [String: Any])?["k"] as? String == "v")
        let v = try object(try #require(versionRow))
        #expect(Set(v.keys) == [
            "id", "client_id", "page_type", "content", "iteration_notes", "hypothesis", "outcome", "is_current", "version_number",
            "created_at", "created_by", "metadata", "promoted_at", "demoted_at",
        ])
        #expect(v["client_id"] as? String == client.uuidString.lowercased())
        #expect(v["is_current"] as? Bool == false && v["version_number"] as? Int == 1 && v["outcome"] is NSNull)
        let p = try object(try #require(paymentRow))
        #expect(Set(p.keys) == [
            "id", "client_id", "content_version_id", "stripe_payment_intent_id", "amount", "status", "created_at", "updated_at", "failure_reason",
        ])
        #expect(p["amount"] as? Int == 50_000 && p["status"] as? String == "pending")
        #expect(p["content_version_id"] as? String == version.uuidString.lowercased())
    }

    @Test("analytics of a small history: exposure, payments by current status, revenue, conversion, medians, a deleted client left out")
    func analyticsFigures() throws {
        let fixture = try Fixture()
        var ids: [String: UUID] = [:]
        func id(_ name: String) -> UUID {
            if let id = ids[name] { return id }
            let id = UUID()
            ids[name] = id
            return id
        }
        func at(_ seconds: Int64, _ event: Event) throws { try fixture.append(event, at: seconds) }
        func created(_ c: String) -> Event { .clientCreated(ClientCreated(clientID: id(c), name: c, email: nil, metadata: .object([:]))) }
        func token(_ c: String, _ n: Int) -> Event { .tokenIssued(TokenIssued(clientID: id(c), activationToken: Token(number: n), replaces: nil)) }
        func activated(_ c: String, _ n: Int) -> Event { .clientActivated(ClientActivated(clientID: id(c), activationToken: Token(number: n))) }
        func draft(_ c: String, _ v: String, _ page: PageType, _ number: Int) -> Event {
            .versionDrafted(VersionDrafted(
                clientID: id(c), versionID: id(v), pageType: page, versionNumber: number, content: CanonicalJSON(.object([:])),
                iterationNotes: nil, hypothesis: nil, createdBy: "admin", metadata: .object([:])
            ))
        }
        func promote(_ c: String, _ v: String, _ previous: String? = nil) -> Event {
            .versionPromoted(VersionPromoted(clientID: id(c), versionID: id(v), pageType: .agreement, previousVersionID: previous.map(id)))
        }
        func pay(_ c: String, _ p: String, _ v: String) -> PaymentRecord {
            PaymentRecord(clientID: id(c), paymentID: id(p), contentVersionID: id(v), stripePaymentIntentID: "pi_" + p, amount: 50_000)
        }
        // Ada: token after 100 s, activated 1000 s later, pays on agreement v2 800 s after activation.
        try at(0, created("ada"))
        try at(100, token("ada", 1))
        try at(1_100, activated("ada", 1))
        try at(1_200, draft("ada", "a1", .agreement, 1))
        try at(1_300, promote("ada", "a1"))
        try at(1_400, draft("ada", "a2", .agreement, 2))
        try at(1_500, promote("ada", "a2", "a1"))
        try at(1_600, .outcomeRecorded(OutcomeRecorded(clientID: id("ada"), versionID: id("a1"), outcome: .failure, notes: nil)))
        try at(1_650, .outcomeRecorded(OutcomeRecorded(clientID: id("ada"), versionID: id("a2"), outcome: .success, notes: nil)))
        try at(1_700, draft("ada", "a3", .activation, 1)) // never promoted: not exposed
        try at(1_750, .paymentInitiated(pay("ada", "pa0", "a1")))
        try at(1_760, .paymentCancelled(pay("ada", "pa0", "a1"))) // cancelled: counts nowhere
        try at(1_800, .paymentInitiated(pay("ada", "pa", "a2")))
        try at(1_900, .paymentSucceeded(pay("ada", "pa", "a2")))
        // Bob: token after 300 s, activated 2000 s later; a failed payment, then a success 700 s after activation.
        try at(2_000, created("bob"))
        try at(2_300, token("bob", 2))
        try at(4_300, activated("bob", 2))
        try at(4_350, draft("bob", "b1", .agreement, 1))
        try at(4_400, promote("bob", "b1"))
        try at(4_500, .paymentInitiated(pay("bob", "pb", "b1")))
        try at(4_600, .paymentFailed(pay("bob", "pb", "b1")))
        try at(4_700, .paymentInitiated(pay("bob", "pb2", "b1")))
        try at(5_000, .paymentSucceeded(pay("bob", "pb2", "b1")))
        // Carl goes through everything and is deleted: he counts nowhere.
        try at(6_000, created("carl"))
        try at(6_010, token("carl", 3))
        try at(6_020, activated("carl", 3))
        try at(6_030, draft("carl", "c1", .agreement, 1))
        try at(6_040, promote("carl", "c1"))
        try at(6_050, .paymentSucceeded(pay("carl", "pc", "c1")))
        try at(6_060, .clientDeleted(ClientDeleted(clientID: id("carl"))))
        // Dan is only created.
        try at(7_000, created("dan"))
        // Ada pays again on a2, and once on a3, which was never current: conversion counts clients
        // who paid on a version they saw, not payments, so it stays within 0…1.
        try at(7_100, .paymentInitiated(pay("ada", "pa2", "a2")))
        try at(7_200, .paymentSucceeded(pay("ada", "pa2", "a2")))
        try at(7_300, .paymentInitiated(pay("ada", "pa3", "a3")))
        try at(7_400, .paymentSucceeded(pay("ada", "pa3", "a3")))

        let analytics = try fixture.projections.read { try $0.analytics() }
        #expect(try fixture.projections.model(asOf: .position(UInt64.max)).analytics() == analytics)
        struct Figure: Equatable { var exposed, succeeded, failed: Int; var revenue: Int64; var rate: Double }
        func figure(_ f: Figures) -> Figure { Figure(exposed: f.exposed, succeeded: f.paymentsSucceeded, failed: f.paymentsFailed, revenue: f.revenue, rate: f.conversionRate) }
        let byVersion = Dictionary(uniqueKeysWithValues: analytics.byVersion.map { ($0.contentVersionID, $0) })
        #expect(Set(byVersion.keys) == [id("a1"), id("a2"), id("a3"), id("b1")])
        #expect(figure(byVersion[id("a1")]!.figures) == Figure(exposed: 1, succeeded: 0, failed: 0, revenue: 0, rate: 0))
        #expect(figure(byVersion[id("a2")]!.figures) == Figure(exposed: 1, succeeded: 2, failed: 0, revenue: 100_000, rate: 1))
        #expect(figure(byVersion[id("a3")]!.figures) == Figure(exposed: 0, succeeded: 1, failed: 0, revenue: 50_000, rate: 0))
        #expect(figure(byVersion[id("b1")]!.figures) == Figure(exposed: 1, succeeded: 1, failed: 1, revenue: 50_000, rate: 1))
        #expect(byVersion[id("a1")]!.outcome == .failure && byVersion[id("a2")]!.versionNumber == 2 && byVersion[id("a3")]!.pageType == .activation)

        #expect(analytics.byPageType.map(\.value) == [.string("activation"), .string("agreement")])
        #expect(analytics.byPageType.map { figure($0.figures) } == [
            // A payment on a version no client saw: counted, but nobody was exposed.
            Figure(exposed: 0, succeeded: 1, failed: 0, revenue: 50_000, rate: 0),
            // Three versions seen by two clients, each of whom paid on one: clients are counted.
            Figure(exposed: 2, succeeded: 3, failed: 1, revenue: 150_000, rate: 1),
        ])
        #expect(analytics.byVersionNumber.map(\.value) == [.integer(1), .integer(2)])
        #expect(analytics.byVersionNumber.map { figure($0.figures) } == [
            // a1, a3 and b1: Ada saw a1 and paid only on a3, which she never saw; Bob paid on b1.
            Figure(exposed: 2, succeeded: 2, failed: 1, revenue: 100_000, rate: 0.5),
            // a2: one client, two payments.
            Figure(exposed: 1, succeeded: 2, failed: 0, revenue: 100_000, rate: 1),
        ])
        #expect(analytics.byOutcome.map(\.value) == [.null, .string("failure"), .string("success")])
        #expect(analytics.byOutcome.map { figure($0.figures) } == [
            Figure(exposed: 1, succeeded: 2, failed: 1, revenue: 100_000, rate: 1),
            Figure(exposed: 1, succeeded: 0, failed: 0, revenue: 0, rate: 0),
            Figure(exposed: 1, succeeded: 2, failed: 0, revenue: 100_000, rate: 1),
        ])
        let funnel = analytics.funnel
        #expect((funnel.created, funnel.tokenIssued, funnel.activated, funnel.paid) == (3, 2, 2, 2))
        #expect(funnel.medianSecondsCreatedToTokenIssued == 200)
        #expect(funnel.medianSecondsTokenIssuedToActivated == 1_500)
        #expect(funnel.medianSecondsActivatedToPaid == 750)

        // The JSON shape the CLI prints.
        let json = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(analytics)) as? [String: Any])
        #expect(Set(json.keys) == ["by_version", "by_page_type", "by_version_number", "by_outcome", "funnel"])
        let row = try #require((json["by_version"] as? [[String: Any]])?.first)
        #expect(Set(row.keys) == [
            "content_version_id", "client_id", "page_type", "version_number", "outcome", "exposed", "payments_succeeded", "payments_failed",
            "revenue", "conversion_rate",
        ])
        let group = try #require((json["by_page_type"] as? [[String: Any]])?.last)
        #expect(Set(group.keys) == ["page_type", "exposed", "payments_succeeded", "payments_failed", "revenue", "conversion_rate"])
        let funnelJSON = try #require(json["funnel"] as? [String: Any])
        #expect(Set(funnelJSON.keys) == [
            "created", "token_issued", "activated", "paid", "median_seconds_created_to_token_issued",
            "median_seconds_token_issued_to_activated", "median_seconds_activated_to_paid",
        ])

        // Carl's rows are gone from every read model.
        try fixture.projections.read { (model: ReadModel) throws in
            #expect(try model.client(id: id("carl")) == nil)
            #expect(try model.client(token: Token(number: 3)) == nil)
            #expect(try model.version(id: id("c1")) == nil && model.versions(client: id("carl")).isEmpty)
            #expect(try model.payment(id: id("pc")) == nil && model.payments(client: id("carl")).isEmpty)
            #expect(try model.clients().map(\.name) == ["ada", "bob", "dan"])
            #expect(try model.clients(status: .paid).map(\.name) == ["ada", "bob"])
            #expect(try model.clients(status: .failed).isEmpty)
            #expect(try model.payments(version: id("b1")).map(\.status) == [.failed, .succeeded])
            #expect(try model.payments(status: .cancelled).map(\.id) == [id("pa0")])
        }
        let dump = try fixture.projections.read { try $0.dump() }
        let carlKey = withUnsafeBytes(of: id("carl").uuid) { Array($0) }
        for (table, rows) in dump {
            #expect(!rows.keys.contains { $0.starts(with: carlKey) }, "table \(table) still holds a row keyed by the deleted client")
        }
        // Bob's client row moves active → failed → paid (rule 2), as the read model saw it then.
        func clients(at seconds: Int64, _ status: ClientStatus) throws -> [String] {
            try fixture.projections.model(asOf: .time(microseconds: Fixture.time(seconds))).clients(status: status).map(\.name)
        }
        #expect(try clients(at: 4_500, .active) == ["bob"] && clients(at: 4_500, .failed).isEmpty)
        #expect(try clients(at: 4_600, .failed) == ["bob"] && clients(at: 4_600, .active).isEmpty)
        #expect(try clients(at: 4_999, .failed) == ["bob"])
        #expect(try clients(at: 5_000, .paid) == ["ada", "bob"] && clients(at: 5_000, .failed).isEmpty)
        // Empty analytics: no exposure means a rate of 0, medians are null.
        let empty = try fixture.projections.model(asOf: .position(0)).analytics()
        #expect(empty.byVersion.isEmpty && empty.funnel.created == 0 && empty.funnel.medianSecondsActivatedToPaid == nil)
    }

    @Test("a payment counts once on its version, by its current status, however many it went through")
    func paymentCountedByCurrentStatus() throws {
        let fixture = try Fixture()
        let client = UUID(), version = UUID()
        var position: Int64 = 0
        func append(_ event: Event) throws {
            position += 1
            try fixture.append(event, at: position)
        }
        try append(.clientCreated(ClientCreated(clientID: client, name: "Ada", email: nil, metadata: .object([:]))))
        try append(.tokenIssued(TokenIssued(clientID: client, activationToken: Token(number: 1), replaces: nil)))
        try append(.clientActivated(ClientActivated(clientID: client, activationToken: Token(number: 1))))
        try append(.versionDrafted(VersionDrafted(
            clientID: client, versionID: version, pageType: .agreement, versionNumber: 1, content: CanonicalJSON(.object([:])),
            iterationNotes: nil, hypothesis: nil, createdBy: "admin", metadata: .object([:])
        )))
        try append(.versionPromoted(VersionPromoted(clientID: client, versionID: version, pageType: .agreement, previousVersionID: nil)))
        struct Figure: Equatable { var succeeded, failed: Int; var revenue: Int64 }
        func figure() throws -> Figure {
            let analytics = try fixture.projections.read { try $0.analytics() }
            guard let figures = analytics.byVersion.first(where: { $0.contentVersionID == version })?.figures else {
                Issue.record("the version has no row in analytics")
                return Figure(succeeded: -1, failed: -1, revenue: -1)
            }
            return Figure(succeeded: figures.paymentsSucceeded, failed: figures.paymentsFailed, revenue: figures.revenue)
        }
        // One intent fails, is retried, fails again and succeeds: one payment, succeeded.
        let retried = PaymentRecord(clientID: client, paymentID: UUID(), contentVersionID: version, stripePaymentIntentID: "pi_retried", amount: 50_000)
        let steps: [(Event, Figure)] = [
            (.paymentInitiated(retried), Figure(succeeded: 0, failed: 0, revenue: 0)),
            (.paymentFailed(retried), Figure(succeeded: 0, failed: 1, revenue: 0)),
            (.paymentInitiated(retried), Figure(succeeded: 0, failed: 0, revenue: 0)),
            (.paymentFailed(retried), Figure(succeeded: 0, failed: 1, revenue: 0)),
            (.paymentSucceeded(retried), Figure(succeeded: 1, failed: 0, revenue: 50_000)),
        ]
        for (event, expected) in steps {
            try append(event)
            #expect(try figure() == expected, "after \(event.type.rawValue) at position \(position)")
        }
        // Another fails and is cancelled: it counts nowhere.
        let cancelled = PaymentRecord(clientID: client, paymentID: UUID(), contentVersionID: version, stripePaymentIntentID: "pi_cancelled", amount: 7_000)
        try append(.paymentInitiated(cancelled))
        try append(.paymentFailed(cancelled))
        #expect(try figure() == Figure(succeeded: 1, failed: 1, revenue: 50_000))
        try append(.paymentCancelled(cancelled))
        #expect(try figure() == Figure(succeeded: 1, failed: 0, revenue: 50_000))
        // A fold of the whole log, as a rebuild makes it, counts the same.
        let folded = try #require(try fixture.projections.model(asOf: .position(UInt64.max)).analytics().byVersion.first).figures
        #expect(Figure(succeeded: folded.paymentsSucceeded, failed: folded.paymentsFailed, revenue: folded.revenue) == Figure(succeeded: 1, failed: 0, revenue: 50_000))
    }

    @Test("a client's row: a reissued token replaces the old in lookups, updated_at moves with each change and only then, the funnel keeps the first token's time")
    func clientRowChanges() throws {
        let fixture = try Fixture()
        let client = UUID(), version = UUID()
        func append(_ seconds: Int64, _ event: Event) throws { try fixture.append(event, at: seconds) }
        func row() throws -> ClientRow? { try fixture.projections.read { try $0.client(id: client) } }
        func at(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: Double(Fixture.time(seconds)) / 1_000_000) }
        let record = PaymentRecord(clientID: client, paymentID: UUID(), contentVersionID: version, stripePaymentIntentID: "pi_1", amount: 50_000)
        try append(0, .clientCreated(ClientCreated(clientID: client, name: "Ada", email: nil, metadata: .object([:]))))
        try append(10, .tokenIssued(TokenIssued(clientID: client, activationToken: Token(number: 1), replaces: nil)))
        try append(20, .tokenIssued(TokenIssued(clientID: client, activationToken: Token(number: 2), replaces: Token(number: 1))))
        try fixture.projections.read { (model: ReadModel) throws in
            #expect(try model.client(token: Token(number: 1)) == nil, "a retired token names no client")
            #expect(try model.client(token: Token(number: 2))?.id == client)
        }
        #expect(try row()?.activationToken == Token(number: 2) && row()?.updatedAt == at(20))
        try append(30, .clientActivated(ClientActivated(clientID: client, activationToken: Token(number: 2))))
        #expect(try row()?.status == .active && row()?.activatedAt == at(30) && row()?.updatedAt == at(30))
        try append(40, .versionDrafted(VersionDrafted(
            clientID: client, versionID: version, pageType: .agreement, versionNumber: 1, content: CanonicalJSON(.object([:])),
            iterationNotes: nil, hypothesis: nil, createdBy: "admin", metadata: .object([:])
        )))
        #expect(try row()?.updatedAt == at(30), "a draft does not change the client's row")
        try append(50, .versionPromoted(VersionPromoted(clientID: client, versionID: version, pageType: .agreement, previousVersionID: nil)))
        #expect(try row()?.currentVersionID == version && row()?.updatedAt == at(50))
        try append(60, .paymentInitiated(record))
        try append(70, .paymentSucceeded(record))
        #expect(try row()?.status == .paid && row()?.updatedAt == at(70))
        // A failure of another intent after the client paid leaves the row as it was.
        let other = PaymentRecord(clientID: client, paymentID: UUID(), contentVersionID: version, stripePaymentIntentID: "pi_2", amount: 50_000)
        try append(80, .paymentInitiated(other))
        try append(90, .paymentFailed(other))
        #expect(try row()?.status == .paid && row()?.updatedAt == at(70))
        // The funnel counts from the first token: 10 s after creation, 20 s before activation.
        let funnel = try fixture.projections.read { try $0.analytics() }.funnel
        #expect(funnel.medianSecondsCreatedToTokenIssued == 10 && funnel.medianSecondsTokenIssuedToActivated == 20)
        #expect(try fixture.projections.model(asOf: .position(UInt64.max)).client(id: client) == row())
    }

    @Test("the funnel's medians are taken from the times to the microsecond, then rounded to the millisecond, a half away from zero")
    func funnelMedians() throws {
        let fixture = try Fixture()
        // Token 1.5 ms after creation, activated 2.4995 s after that: 0.002 and 2.5 s (rounded up).
        let client = UUID()
        for (after, event) in [
            (0, Event.clientCreated(ClientCreated(clientID: client, name: "Ada", email: nil, metadata: .object([:])))),
            (1_500, .tokenIssued(TokenIssued(clientID: client, activationToken: Token(number: 1), replaces: nil))),
            (2_501_000, .clientActivated(ClientActivated(clientID: client, activationToken: Token(number: 1)))),
        ] as [(Int64, Event)] {
            try fixture.append(GeneratedEvent(event: event, id: UUID(), recordedAtMicroseconds: Fixture.start + after))
        }
        let funnel = try fixture.projections.read { try $0.analytics() }.funnel
        #expect(funnel.medianSecondsCreatedToTokenIssued == 0.002)
        #expect(funnel.medianSecondsTokenIssuedToActivated == 2.5)
        #expect(funnel.medianSecondsActivatedToPaid == nil)
    }

    @Test("a projector's version bump shows stale, catch-up skips it, rebuildStale rebuilds it")
    func versionBump() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 9)
        let events = generator.history(count: 120)
        for event in events.prefix(100) { try fixture.append(event) }
        let bumped = try Projections(store: fixture.log, projectors: Projections.standard.map { $0.name == "analytics" ? Bumped(base: $0) : $0 })
        let status = try bumped.status()
        #expect(status.filter(\.isStale).map(\.name) == ["analytics"])
        // Catch-up with the bumped code folds the others and leaves the stale one alone.
        for event in events.dropFirst(100) {
            try fixture.log.write { session in
                try session.append([event.proposed], to: event.stream)
                try bumped.catchUp(in: session)
            }
        }
        let after = try bumped.status()
        #expect(after.first { $0.name == "analytics" }?.checkpoint == 100)
        #expect(after.first { $0.name == "analytics" }?.lag == 20)
        #expect(after.filter { $0.name != "analytics" }.allSatisfy { $0.checkpoint == 120 && !$0.isStale })
        let reports = try bumped.rebuildStale()
        #expect(reports.map(\.name) == ["analytics"])
        #expect(try bumped.status().allSatisfy { !$0.isStale && $0.checkpoint == 120 })
        #expect(try bumped.rebuildStale().isEmpty)
        #expect(try bumped.read { try $0.dump() } == (try bumped.model(asOf: .position(120)).dump()))
        // The standard code now sees analytics as stale (built by other code).
        #expect(try fixture.projections.status().filter(\.isStale).map(\.name) == ["analytics"])
    }

    @Test("a rebuild that fails midway leaves the old model serving")
    func failedRebuild() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 5)
        for event in generator.history(count: 80) { try fixture.append(event) }
        let before = try fixture.projections.read { try $0.dump() }
        let bytesBefore = try storedBytes(fixture.log)
        let statusBefore = try fixture.projections.status()
        let failing = try Projections(store: fixture.log, projectors: Projections.standard.map { Failing(base: $0, position: 40) })
        var reported: [RebuildProgress] = []
        #expect(throws: Failing.Boom.self) { try failing.rebuild(progress: { reported.append($0) }) }
        #expect(!reported.isEmpty)
        #expect(try fixture.projections.read { try $0.dump() } == before)
        #expect(try storedBytes(fixture.log) == bytesBefore)
        #expect(try fixture.projections.status() == statusBefore)
        // Unknown names are refused with the known ones listed; nothing changes.
        #expect { try fixture.projections.rebuild(["clients", "nope"]) } throws: { error in
            let error = error as? ProjectionError
            return error?.code == .unknownProjector && error?.message.contains("nope") == true
                && error?.message.contains("clients, content_versions, payments, analytics") == true
        }
        // A named rebuild flips only that projector's slot and reports progress up to the total.
        reported = []
        let reports = try fixture.projections.rebuild(["payments"]) { reported.append($0) }
        #expect(reports.map(\.name) == ["payments"])
        #expect(reported.last?.phase == .writing && reported.last?.rows == reports[0].rows)
        // Writing counts up to the rows the new slot holds, known before the first is written.
        #expect(reported.filter { $0.phase == .writing }.allSatisfy { $0.rowsTotal == reports[0].rows })
        #expect(reported.first { $0.phase == .writing }?.rows == 0)
        #expect(reported.allSatisfy { $0.projectors == ["payments"] })
        #expect(reported.contains { $0.phase == .folding && $0.done == 80 && $0.total == 80 })
        #expect(try fixture.projections.read { try $0.dump() } == before)
    }

    @Test("as-of a position or a timestamp equals what catch-up had produced at that point")
    func timeTravel() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 21)
        let events = generator.history(count: 90)
        var snapshots: [[String: [[UInt8]: Data]]] = [try fixture.projections.read { try $0.dump() }]
        for event in events {
            try fixture.append(event)
            snapshots.append(try fixture.projections.read { try $0.dump() })
        }
        for position in [0, 1, 17, 45, 89, 90] {
            #expect(try fixture.projections.model(asOf: .position(UInt64(position))).dump() == snapshots[position])
        }
        #expect(try fixture.projections.model(asOf: .position(1_000)).dump() == snapshots[90])
        for position in [1, 30, 60, 90] {
            let event = events[position - 1]
            #expect(try fixture.projections.model(asOf: .timestamp(event.recordedAt)).dump() == snapshots[position], "at \(position)")
            // Half a second later (events are at least a second apart) still gives that position.
            #expect(try fixture.projections.model(asOf: .timestamp(event.recordedAt.addingTimeInterval(0.5))).dump() == snapshots[position])
        }
        #expect(try fixture.projections.model(asOf: .timestamp(events[0].recordedAt.addingTimeInterval(-1))).dump() == snapshots[0])
        // Time travel answers queries like the stored model does.
        let now = try fixture.projections.model(asOf: .position(90))
        let stored = try fixture.projections.read { model in (try model.clients(), try model.versions(), try model.payments(), try model.analytics()) }
        #expect(try now.clients() == stored.0 && now.versions() == stored.1 && now.payments() == stored.2 && now.analytics() == stored.3)
    }

    @Test("records of types nobody reads are skipped without decoding; an unreadable one read by a projector names its position")
    func skipsUnreadTypes() throws {
        let onlyClients = try Fixture(projectors: [ClientsProjector()])
        let client = UUID()
        let created = GeneratedEvent(event: .clientCreated(ClientCreated(clientID: client, name: "Ada", email: nil, metadata: .object([:]))), id: UUID(), recordedAtMicroseconds: 1_767_600_000_000_000)
        try onlyClients.append(created)
        func garbage(_ type: String) -> ProposedEvent { ProposedEvent(id: UUID(), type: type, payload: Array("not json".utf8)) }
        try onlyClients.log.write { session in
            try session.append([garbage("VersionDrafted"), garbage("SomethingNew")], to: "client-x")
            try onlyClients.projections.catchUp(in: session)
        }
        #expect(try onlyClients.projections.status().first?.checkpoint == 3)
        #expect(try onlyClients.projections.read { try $0.clients().count } == 1)

        let all = try Fixture()
        try all.append(created)
        #expect {
            try all.log.write { session in
                try session.append([garbage("VersionDrafted")], to: "client-x")
                try all.projections.catchUp(in: session)
            }
        } throws: { error in
            let error = error as? ProjectionError
            return error?.code == .decodeFailed && error?.position == 2 && error?.message.contains("record 2") == true
        }
        #expect(try all.log.head() == 1, "the failed catch-up took its append down with it")
    }

    @Test("a fold decoded in batches on a second thread applies records in log order and stops at an unreadable one, by its position")
    func batchedFold() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 9)
        let events = generator.history(count: 1_000)
        for event in events.prefix(700) { try fixture.append(event) }
        let caughtUp = try storedBytes(fixture.log)
        try fixture.projections.rebuild()
        #expect(differingTables(try storedBytes(fixture.log), caughtUp).isEmpty, "a rebuild over three batches writes what catch-up wrote")

        let garbage = ProposedEvent(id: UUID(), type: "VersionDrafted", payload: Array("not json".utf8), recordedAt: events[699].recordedAt)
        try fixture.log.write { session in _ = try session.append([garbage], to: "client-x") }
        for event in events.dropFirst(700) { try fixture.append(event, catchUp: false) }
        let serving = try storedBytes(fixture.log)
        #expect {
            try fixture.projections.rebuild()
        } throws: { error in
            (error as? ProjectionError)?.code == .decodeFailed && (error as? ProjectionError)?.position == 701
        }
        #expect(try storedBytes(fixture.log) == serving, "the old model still serves")
        #expect(throws: ProjectionError.self) { try fixture.projections.model(asOf: .position(1_000)) }
        let before = try fixture.projections.model(asOf: .position(700)).dump()
        #expect(before == (try fixture.projections.read { try $0.dump() }))
    }

    @Test("a record changed behind the log's back stops catch-up and rebuild at its position")
    func tamperedRecord() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 11)
        let events = generator.history(count: 8)
        for event in events.prefix(2) { try fixture.append(event) }
        for event in events.dropFirst(2).prefix(4) { try fixture.append(event, catchUp: false) }
        let before = try fixture.projections.read { try $0.dump() }
        try fixture.tamper(at: 4)
        let stopsAt4 = stopsAt(4, "record 4")
        #expect(performing: { try fixture.log.write { session in try fixture.projections.catchUp(in: session) } }, throws: stopsAt4)
        #expect(performing: { try fixture.projections.rebuild() }, throws: stopsAt4)
        #expect(performing: { try fixture.projections.model(asOf: .position(6)) }, throws: stopsAt4)
        // Before the bad record, time travel still works; the stored model is untouched.
        #expect(try fixture.projections.model(asOf: .position(2)).dump() == before)
        #expect(try fixture.projections.status().allSatisfy { $0.checkpoint == 2 })
        #expect(try fixture.projections.read { try $0.dump() } == before)
    }

    /// Whichever check a record fails (its checksum, its link to its predecessor) and whichever
    /// projectors are rebuilt, the first bad record is the one named.
    @Test("a rebuild stops at the first bad record: a failed checksum before a broken link, a record no chosen projector reads")
    func firstBadRecord() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 11)
        let events = generator.history(count: 8)
        for event in events { try fixture.append(event) }
        let other = try Fixture()
        var otherGenerator = HistoryGenerator(seed: 12)
        for event in otherGenerator.history(count: 8) { try other.append(event) }
        let otherLog = try other.log.environment.database("log")
        let foreign = try other.log.environment.read { txn in
            try #require(try txn.get(otherLog, withUnsafeBytes(of: UInt64(6).bigEndian) { Array($0) }))
        }
        // Record 6 from another log: its checksum holds, its link to record 5 does not.
        try fixture.tamper(at: 6) { $0 = foreign }
        #expect(performing: { try fixture.projections.rebuild() }, throws: stopsAt(6, "hash chain is broken"))
        // Record 1 (ClientCreated, which the payments projector does not read) fails its checksum,
        // before the broken link.
        #expect(events[0].event.type == .clientCreated)
        try fixture.tamper(at: 1)
        #expect(performing: { try fixture.projections.rebuild(["payments"]) }, throws: stopsAt(1, "fails its checksum"))
        #expect(performing: { try fixture.projections.rebuild() }, throws: stopsAt(1, "fails its checksum"))
        #expect(performing: { try fixture.projections.model(asOf: .position(7)) }, throws: stopsAt(1, "fails its checksum"))
    }

    /// Checksums are checked batches ahead of the projectors: when one fails, the batches after it
    /// (and whatever they hold) must not be reported instead.
    @Test("a rebuild names the first record that fails its checksum even when a later one fails too, batches ahead")
    func firstBadChecksum() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 17)
        for event in generator.history(count: 1_200) { try fixture.append(event, catchUp: false) }
        try fixture.tamper(at: 1)
        try fixture.tamper(at: 700)
        #expect(performing: { try fixture.projections.rebuild() }, throws: stopsAt(1, "fails its checksum"))
    }

    /// Time travel stops at the first record after the time asked for; a record whose time was
    /// corrupted into the future must be reported, not taken for that end.
    @Test("time travel reports a record whose time is corrupt instead of ending there")
    func corruptTime() throws {
        let fixture = try Fixture()
        var generator = HistoryGenerator(seed: 13)
        for event in generator.history(count: 8) { try fixture.append(event) }
        #expect(try fixture.projections.model(asOf: .timestamp(.distantFuture)).clients().count > 0)
        try fixture.tamper(at: 3) { record in
            for offset in 56..<64 { record[offset] = 0x7F }  // recorded-at: centuries from now
        }
        #expect(performing: { try fixture.projections.model(asOf: .timestamp(.distantFuture)) }, throws: stopsAt(3, "fails its checksum"))
    }
}
