import Domain
import EventStore
import Folio
import Foundation
import LMDB
import Projections
import Testing

/// A directory that exists for one test and is removed after it.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("folio-projections-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The lines of a generated history.
func generatedLines(seed: UInt64, clients: Int) throws -> [EventLine] {
    let directory = try TemporaryDirectory()
    let file = directory.path("history.jsonl")
    _ = FileManager.default.createFile(atPath: file, contents: nil)
    let handle = try #require(FileHandle(forWritingAtPath: file))
    try HistoryGenerator(seed: seed, clients: clients, contentBytes: 200...600).write(to: handle)
    try handle.close()
    let text = try String(contentsOfFile: file, encoding: .utf8)
    return try text.split(separator: "\n").enumerated().map { try EventLine.parse(Array($1.utf8), number: $0 + 1) }
}

func proposed(_ line: EventLine) -> ProposedEvent {
    ProposedEvent(
        id: line.id, type: line.type, schemaVersion: line.schemaVersion, payload: line.data, actor: line.actor,
        recordedAt: Date(timeIntervalSince1970: Double(line.recordedAtMicroseconds) / 1_000_000)
    )
}

/// A projector like another but with a bumped version.
struct Bumped: Projector {
    let base: any Projector
    var name: String { base.name }
    var version: Int { base.version + 1 }
    var tables: [String] { base.tables }
    var eventTypes: Set<EventType> { base.eventTypes }
    func apply(_ event: Event, at envelope: Envelope, to store: any ModelStore) throws { try base.apply(event, at: envelope, to: store) }
}

/// A projector that fails at one position, to interrupt a rebuild.
struct Failing: Projector {
    let base: any Projector
    let position: UInt64
    var name: String { base.name }
    var version: Int { base.version + 1 }
    var tables: [String] { base.tables }
    var eventTypes: Set<EventType> { base.eventTypes }
    struct Boom: Error {}
    func apply(_ event: Event, at envelope: Envelope, to store: any ModelStore) throws {
        if envelope.position >= position { throw Boom() }
        try base.apply(event, at: envelope, to: store)
    }
}

@Suite("Projections")
struct ProjectionsTests {
    @Test("catching up event by event equals a full rebuild and a fold, at every prefix", arguments: [1, 2, 3] as [UInt64])
    func incrementalEqualsRebuild(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(path: directory.path("store"), options: .init(unsafeNoSync: true))
        let projections = try Projections(store: log)
        try projections.rebuildStale()
        let lines = try generatedLines(seed: seed, clients: 2)
        for line in lines {
            try log.write { session in
                try session.append([proposed(line)], to: line.stream, expected: .exactly(line.streamVersion - 1))
                try projections.catchUp(in: session)
            }
            let position = line.position
            let stored = try projections.read { try $0.dump() }
            let folded = try projections.model(asOf: .position(position)).dump()
            #expect(stored == folded, "stored read models differ from a fold at position \(position)")
            // One current version per (client, page) at every position.
            let current = try projections.read { try $0.versions(currentOnly: true) }
            #expect(Set(current.map { "\($0.clientID) \($0.pageType)" }).count == current.count)
            if stored != folded { break }
        }
        let before = try projections.read { try $0.dump() }
        try projections.rebuild()
        #expect(try projections.read { try $0.dump() } == before)
        #expect(try projections.status().allSatisfy { !$0.isStale && $0.checkpoint == UInt64(lines.count) })
    }

    @Test("rows mirror the documented schema's columns")
    func schemaColumns() throws {
        let directory = try TemporaryDirectory()
        let store = try Store(path: directory.path("store"))
        let client = try store.createClient(name: "Ada", email: "ada@example.com")
        _ = try store.issueToken(client: client.id.uuidString)
        let token = try #require(try store.projections.read { try $0.client(id: client.id) }?.activationToken).description
        _ = try store.activate(token: token)
        let version = try store.draftVersion(client: token, page: .agreement, content: .object(["a": .integer(1)]))
        _ = try store.promote(version: version.id.uuidString)
        let payment = try store.payment(.start, client: token, intent: "pi_cols", amount: 50_000)
        func keys(_ row: some Encodable) throws -> Set<String> {
            let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(row)) as? [String: Any]
            return Set(try #require(object).keys)
        }
        let clientRow = try #require(try store.projections.read { try $0.client(id: client.id) })
        #expect(try keys(clientRow).isSuperset(of: ["id", "name", "email", "activation_token", "current_version_id", "status", "metadata", "created_at"]))
        #expect(try keys(version).isSuperset(of: [
            "id", "client_id", "page_type", "content", "iteration_notes", "hypothesis", "outcome", "is_current", "version_number",
            "created_at", "created_by", "metadata",
        ]))
        #expect(try keys(payment).isSuperset(of: ["id", "client_id", "content_version_id", "stripe_payment_intent_id", "amount", "status", "created_at"]))
        let json = String(decoding: try JSONEncoder().encode(payment), as: UTF8.self)
        #expect(json.contains(payment.id.uuidString.lowercased()))
        #expect(json.contains(#""amount":50000"#))
    }

    @Test("analytics on a small history: exposure, payments by current status, revenue, conversion and the funnel")
    func analyticsFigures() throws {
        let directory = try TemporaryDirectory()
        nonisolated(unsafe) var now = Date(timeIntervalSince1970: 1_767_603_600)
        let store = try Store(path: directory.path("store"), options: Store.Options(clock: { now }))
        func tick(_ seconds: Double) { now = now.addingTimeInterval(seconds) }
        // Ada: token after 100 s, activated 1000 s later, pays 50000 on agreement v2 after 300 s.
        let ada = try store.createClient(name: "Ada")
        tick(100); let adaToken = try #require(try store.issueToken(client: ada.id.uuidString).activationToken).description
        tick(1_000); _ = try store.activate(token: adaToken)
        let v1 = try store.draftVersion(client: adaToken, page: .agreement, content: .object([:]))
        _ = try store.promote(version: v1.id.uuidString)
        let v2 = try store.draftVersion(client: adaToken, page: .agreement, content: .object([:]))
        _ = try store.promote(version: v2.id.uuidString)
        _ = try store.recordOutcome(version: v1.id.uuidString, outcome: .failure)
        tick(300); _ = try store.payment(.start, client: adaToken, intent: "pi_a", amount: 50_000)
        _ = try store.payment(.succeed, client: adaToken, intent: "pi_a", amount: 50_000)
        // Bob: token after 300 s, activated 2000 s later; his payment fails on his agreement v1.
        let bob = try store.createClient(name: "Bob")
        tick(300); let bobToken = try #require(try store.issueToken(client: bob.id.uuidString).activationToken).description
        tick(2_000); _ = try store.activate(token: bobToken)
        let b1 = try store.draftVersion(client: bobToken, page: .agreement, content: .object([:]))
        _ = try store.promote(version: b1.id.uuidString)
        _ = try store.payment(.fail, client: bobToken, intent: "pi_b", amount: 50_000)
        // Carl is created and deleted: he counts nowhere.
        let carl = try store.createClient(name: "Carl")
        _ = try store.deleteClient(carl.id.uuidString)

        let analytics = try store.projections.read { try $0.analytics() }
        #expect(analytics.byVersion.count == 3)
        let agreement = try #require(analytics.byPageType.first)
        #expect(agreement.value == .string("agreement"))
        #expect(agreement.figures.exposed == 3)
        #expect(agreement.figures.paymentsSucceeded == 1)
        #expect(agreement.figures.paymentsFailed == 1)
        #expect(agreement.figures.revenue == 50_000)
        #expect(abs(agreement.figures.conversionRate - 1.0 / 3.0) < 1e-9)
        let byNumber = Dictionary(uniqueKeysWithValues: analytics.byVersionNumber.map { ($0.value, $0.figures) })
        #expect(byNumber[.integer(2)]?.paymentsSucceeded == 1)
        #expect(byNumber[.integer(1)]?.paymentsFailed == 1)
        let failure = try #require(analytics.byOutcome.first { $0.value == .string("failure") })
        #expect(failure.figures.exposed == 1 && failure.figures.paymentsSucceeded == 0)
        #expect(analytics.funnel.created == 2)
        #expect(analytics.funnel.tokenIssued == 2 && analytics.funnel.activated == 2 && analytics.funnel.paid == 1)
        #expect(analytics.funnel.medianSecondsCreatedToTokenIssued == 200)
        #expect(analytics.funnel.medianSecondsTokenIssuedToActivated == 1_500)
        #expect(analytics.funnel.medianSecondsActivatedToPaid == 300)
    }

    @Test("a projector's version bump is noticed, skipped by catch-up, and rebuilt")
    func versionBump() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let log = try EventStore(path: path, options: .init(unsafeNoSync: true))
        let projections = try Projections(store: log)
        try projections.rebuildStale()
        for line in try generatedLines(seed: 9, clients: 2) {
            try log.write { session in
                try session.append([proposed(line)], to: line.stream)
                try projections.catchUp(in: session)
            }
        }
        let expected = try projections.read { try $0.dump() }
        let bumped = try Projections(store: log, projectors: Projections.standard.map { $0.name == "analytics" ? Bumped(base: $0) : $0 })
        let status = try bumped.status()
        #expect(status.filter(\.isStale).map(\.name) == ["analytics"])
        let reports = try bumped.rebuildStale()
        #expect(reports.map(\.name) == ["analytics"])
        #expect(try bumped.status().allSatisfy { !$0.isStale })
        #expect(try bumped.read { try $0.dump() } == expected)
    }

    @Test("a rebuild that fails midway leaves the old model serving")
    func failedRebuild() throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(path: directory.path("store"), options: .init(unsafeNoSync: true))
        let projections = try Projections(store: log)
        try projections.rebuildStale()
        for line in try generatedLines(seed: 5, clients: 2) {
            try log.write { session in
                try session.append([proposed(line)], to: line.stream)
                try projections.catchUp(in: session)
            }
        }
        let before = try projections.read { try $0.dump() }
        let statusBefore = try projections.status()
        let failing = try Projections(store: log, projectors: Projections.standard.map { Failing(base: $0, position: 20) })
        #expect(throws: Failing.Boom.self) { try failing.rebuild() }
        #expect(try projections.read { try $0.dump() } == before)
        #expect(try projections.status() == statusBefore)
    }

    @Test("a record changed behind the log's back stops catch-up and rebuild at its position")
    func tamperedRecord() throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(path: directory.path("store"), options: .init(unsafeNoSync: true))
        let projections = try Projections(store: log)
        try projections.rebuildStale()
        let lines = try generatedLines(seed: 11, clients: 1)
        for line in lines.prefix(5) {
            try log.write { session in try session.append([proposed(line)], to: line.stream) }
        }
        let database = try log.environment.database("log")
        try log.environment.write { txn in
            let key = withUnsafeBytes(of: UInt64(3).bigEndian) { Array($0) }
            var record = try #require(try txn.get(database, key))
            record[record.count - 2] ^= 0x01
            try txn.put(database, key, record)
        }
        #expect { try log.write { session in try projections.catchUp(in: session) } } throws: { error in
            (error as? EventStoreError)?.position == 3
        }
        #expect { try projections.rebuild() } throws: { error in (error as? EventStoreError)?.position == 3 }
        #expect(try projections.status().allSatisfy { $0.checkpoint == 0 })
    }
}
