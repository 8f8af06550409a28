import Domain
import EventStore
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

/// A fresh log in its own temporary directory, with the standard projections built (empty).
struct Fixture {
    let directory: TemporaryDirectory
    let log: EventStore
    let projections: Projections

    init(projectors: [any Projector] = Projections.standard) throws {
        directory = try TemporaryDirectory()
        log = try EventStore(path: directory.path("store"), options: .init(unsafeNoSync: true))
        projections = try Projections(store: log, projectors: projectors)
        try projections.rebuildStale()
    }

    /// Appends `event` and catches the projections up in the same write transaction.
    func append(_ event: GeneratedEvent, catchUp: Bool = true) throws {
        try log.write { session in
            try session.append([event.proposed], to: event.stream)
            if catchUp { try projections.catchUp(in: session) }
        }
    }
}

/// An event with the envelope fields a test chooses.
struct GeneratedEvent {
    var event: Event
    var id: UUID
    var recordedAtMicroseconds: Int64

    var stream: String { Event.stream(for: event.clientID) }
    var recordedAt: Date { Date(timeIntervalSince1970: Double(recordedAtMicroseconds) / 1_000_000) }
    var proposed: ProposedEvent {
        ProposedEvent(
            id: id, type: event.type.rawValue, schemaVersion: UInt16(event.type.currentSchemaVersion),
            payload: [UInt8](event.encodePayload()), actor: "admin", recordedAt: recordedAt
        )
    }
}

extension [GeneratedEvent] {
    /// The drafts among these events, by version id.
    var drafts: [UUID: VersionDrafted] {
        Dictionary(uniqueKeysWithValues: compactMap { item -> (UUID, VersionDrafted)? in
            guard case .versionDrafted(let draft) = item.event else { return nil }
            return (draft.versionID, draft)
        })
    }
}

/// A small, fast, seedable generator (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random but valid histories: clients created, tokens issued and reissued, activations, drafts on
/// random pages, promotions, outcomes, payments started, succeeded, failed, cancelled and retried,
/// and a few deletions. Each event follows the product's rules, as the command path would allow it.
struct HistoryGenerator {
    struct Payment {
        var id: UUID
        var intent: String
        var version: UUID?
        var amount: Int64
        var status: PaymentStatus
    }

    struct Client {
        var id: UUID
        var status: ClientStatus = .pending
        var token: Token?
        var versions: [PageType: [UUID]] = [:]
        var current: [PageType: UUID] = [:]
        var outcomes: [UUID: Outcome] = [:]
        var payments: [Payment] = []
        var allVersions: [(UUID, PageType)] { versions.flatMap { page, ids in ids.map { ($0, page) } }.sorted { $0.0.uuidString < $1.0.uuidString } }
    }

    var random: SeededRandom
    var micros: Int64 = 1_767_600_000_000_000
    var clients: [Client] = []
    var usedTokens: Set<Int> = []
    var intents = 0

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func uuid() -> UUID {
        let pair = (random.next(), random.next())
        return UUID(uuid: unsafeBitCast(pair, to: uuid_t.self))
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    mutating func newToken() -> Token {
        while true {
            let number = int(0...9_999)
            if usedTokens.insert(number).inserted { return Token(number: number) }
        }
    }

    /// `count` events in order.
    mutating func history(count: Int) -> [GeneratedEvent] {
        var events: [GeneratedEvent] = []
        while events.count < count {
            guard let event = nextEvent() else { continue }
            micros += Int64(int(1...600)) * 1_000_000 + Int64(int(0...999_999))
            events.append(GeneratedEvent(event: event, id: uuid(), recordedAtMicroseconds: micros))
        }
        return events
    }

    /// One valid event, or `nil` when the action drawn does not apply now.
    mutating func nextEvent() -> Event? {
        if clients.isEmpty || (clients.count < 3 && chance(30)) || chance(6) {
            let client = Client(id: uuid())
            clients.append(client)
            let email: String? = chance(50) ? "c\(clients.count)@example.com" : nil
            return .clientCreated(ClientCreated(clientID: client.id, name: "Client \(clients.count)", email: email, metadata: .object(["n": .integer(Int64(clients.count))])))
        }
        let c = int(0...(clients.count - 1))
        let action = int(0...99)
        if action >= 96 {
            guard clients.count > 2, chance(40) else { return nil }
            return .clientDeleted(ClientDeleted(clientID: clients.remove(at: c).id))
        }
        var client = clients[c]
        defer { clients[c] = client }
        switch action {
        case 0..<10:
            let token = newToken()
            let old = client.token
            client.token = token
            return .tokenIssued(TokenIssued(clientID: client.id, activationToken: token, replaces: old))
        case 10..<18:
            guard client.status == .pending, let token = client.token else { return nil }
            client.status = .active
            return .clientActivated(ClientActivated(clientID: client.id, activationToken: token))
        case 18..<40:
            let page = PageType.allCases[int(0...3)]
            let id = uuid()
            client.versions[page, default: []].append(id)
            return .versionDrafted(VersionDrafted(
                clientID: client.id, versionID: id, pageType: page, versionNumber: client.versions[page]!.count,
                content: CanonicalJSON(.object([
                    "title": .string("v\(client.versions[page]!.count)"), "body": .string(String(repeating: "x", count: int(0...40))),
                    // Slashes, escapes and non-ASCII, which rows write differently from payloads.
                    "link": .string("https://example.com/\(page.rawValue)/v\(client.versions[page]!.count)"), "quote": .string("say \"hi\" \\ / é\n"),
                    "sections": .array([.object(["heading": .string("Terms/Pricing"), "cents": .integer(50000), "share": .double(0.25)])]),
                ])),
                iterationNotes: chance(70) ? "why \(int(0...99))" : nil, hypothesis: chance(50) ? "expect \(int(0...99))" : nil,
                createdBy: chance(80) ? "admin" : "editor", metadata: .object([:])
            ))
        case 40..<55:
            let candidates = client.allVersions.filter { client.current[$0.1] != $0.0 }
            guard !candidates.isEmpty else { return nil }
            let (id, page) = candidates[int(0...(candidates.count - 1))]
            let previous = client.current[page]
            client.current[page] = id
            return .versionPromoted(VersionPromoted(clientID: client.id, versionID: id, pageType: page, previousVersionID: previous))
        case 55..<63:
            let versions = client.allVersions
            guard !versions.isEmpty else { return nil }
            let id = versions[int(0...(versions.count - 1))].0
            let outcome = Outcome.allCases[int(0...2)]
            return .outcomeRecorded(OutcomeRecorded(clientID: client.id, versionID: id, outcome: outcome, notes: chance(50) ? "noted" : nil))
        case 63..<78:
            // A new payment: usually started, sometimes reported straight as succeeded or failed.
            guard client.status != .pending else { return nil }
            intents += 1
            let pages = Array(client.current.keys).sorted()
            var version: UUID? = pages.isEmpty ? nil : client.current[pages[int(0...(pages.count - 1))]]
            if version == nil || chance(15) { version = client.allVersions.first?.0 }
            let record = PaymentRecord(
                clientID: client.id, paymentID: uuid(), contentVersionID: version, stripePaymentIntentID: "pi_\(intents)",
                amount: chance(80) ? 50_000 : Int64(int(100...90_000))
            )
            let status: PaymentStatus = chance(75) ? .pending : (chance(50) ? .succeeded : .failed)
            client.payments.append(Payment(id: record.paymentID, intent: record.stripePaymentIntentID, version: version, amount: record.amount, status: status))
            settle(&client, status)
            return Self.paymentEvent(status, record)
        case 78..<96:
            // A pending payment settles, or a failed one is retried and succeeds.
            let open = client.payments.indices.filter { client.payments[$0].status == .pending || client.payments[$0].status == .failed }
            guard !open.isEmpty else { return nil }
            let p = open[int(0...(open.count - 1))]
            let payment = client.payments[p]
            let status: PaymentStatus = payment.status == .failed ? .succeeded : [.succeeded, .failed, .cancelled][int(0...2)]
            client.payments[p].status = status
            settle(&client, status)
            let reason: String? = status == .failed ? "card_declined" : nil
            return Self.paymentEvent(status, PaymentRecord(
                clientID: client.id, paymentID: payment.id, contentVersionID: payment.version,
                stripePaymentIntentID: payment.intent, amount: payment.amount, reason: reason
            ))
        default:
            return nil
        }
    }

    func settle(_ client: inout Client, _ status: PaymentStatus) {
        if status == .succeeded, client.status == .active || client.status == .failed { client.status = .paid }
        if status == .failed, client.status == .active { client.status = .failed }
    }

    static func paymentEvent(_ status: PaymentStatus, _ record: PaymentRecord) -> Event {
        switch status {
        case .pending: .paymentInitiated(record)
        case .succeeded: .paymentSucceeded(record)
        case .failed: .paymentFailed(record)
        case .cancelled: .paymentCancelled(record)
        }
    }
}

/// The database of each table of the projectors' active slots.
func storedDatabases(_ log: EventStore, _ projectors: [any Projector] = Projections.standard) throws -> [String: Database] {
    let meta = try log.environment.database("projections")
    var databases: [String: Database] = [:]
    let slots = try log.environment.read { txn in
        try projectors.map { projector -> String in
            let stored = try #require(try txn.get(meta, Array(projector.name.utf8)))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stored)) as? [String: Any])
            return try #require(object["slot"] as? String)
        }
    }
    for (projector, slot) in zip(projectors, slots) {
        for table in projector.tables { databases[table] = try log.environment.database("rm.\(table).\(slot)") }
    }
    return databases
}

/// Every entry of every table of the projectors' active slots, as stored bytes.
func storedBytes(_ log: EventStore, _ projectors: [any Projector] = Projections.standard) throws -> [String: [[UInt8]: [UInt8]]] {
    let databases = try storedDatabases(log, projectors)
    return try log.environment.read { txn in
        var out: [String: [[UInt8]: [UInt8]]] = [:]
        for (table, database) in databases {
            try txn.withCursor(database) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    out[table, default: [:]][Array(current.key)] = Array(current.value)
                    entry = try cursor.next()
                }
            }
        }
        return out
    }
}

/// The names of the tables whose contents differ between two dumps (short enough for a failure message).
func differingTables<Value: Equatable>(_ a: [String: [[UInt8]: Value]], _ b: [String: [[UInt8]: Value]]) -> [String] {
    Set(a.keys).union(b.keys).filter { (a[$0] ?? [:]) != (b[$0] ?? [:]) }.sorted()
}

extension Fixture {
    /// Changes the record stored at `position` behind the log's back: by default one byte, so that
    /// its checksum fails.
    func tamper(at position: UInt64, _ change: (inout [UInt8]) -> Void = { $0[$0.count - 2] ^= 0x01 }) throws {
        let database = try log.environment.database("log")
        let key = withUnsafeBytes(of: position.bigEndian) { Array($0) }
        try log.environment.write { txn in
            var record = try #require(try txn.get(database, key))
            change(&record)
            try txn.put(database, key, record)
        }
    }
}

/// Whether an error is the projections stopping at a corrupt record at `position`, saying `text`.
func stopsAt(_ position: UInt64, _ text: String) -> (any Error) -> Bool {
    { error in
        let error = error as? ProjectionError
        return error?.code == .corruptRecord && error?.position == position && error?.message.contains(text) == true
    }
}

extension Fixture {
    /// When the tests' hand-made histories start: 2026-01-05T08:00:00Z, in microseconds since 1970.
    static let start: Int64 = 1_767_600_000_000_000

    /// `seconds` after `start`, in microseconds since 1970.
    static func time(_ seconds: Int64) -> Int64 { start + seconds * 1_000_000 }

    /// Appends `event`, recorded `seconds` after `start`, and catches the projections up.
    func append(_ event: Event, at seconds: Int64) throws {
        try append(GeneratedEvent(event: event, id: UUID(), recordedAtMicroseconds: Self.time(seconds)))
    }
}
