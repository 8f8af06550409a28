import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where and when an event was recorded, as a projector sees it.
public struct Envelope: Hashable, Sendable {
    public init(position: UInt64, recordedAt: Date, actor: String, stream: String = "", eventID: UUID) {
        self.position = position
        self.recordedAt = recordedAt
        self.actor = actor
        self.stream = stream
        self.eventID = eventID
    }

    /// The event's global position (1, 2, 3…).
    public var position: UInt64
    /// When it was recorded; the read models' `created_at` and the funnel's times come from it.
    public var recordedAt: Date
    /// Who recorded it (the schema's `created_by`).
    public var actor: String
    /// The stream it belongs to (`client-<id>`); empty when the caller did not say.
    public var stream: String
    /// The event's unique id.
    public var eventID: UUID
}

/// Folds events into one read model.
///
/// A projector has a stable name, a version to bump whenever its output would change, the
/// tables it owns, and the event types it reads (records of other types are skipped without
/// decoding their payloads). `apply` must only touch its own tables.
public protocol Projector: Sendable {
    var name: String { get }
    var version: Int { get }
    var tables: [String] { get }
    var eventTypes: Set<EventType> { get }
    /// Whether `apply` reads a `VersionDrafted`'s `content` (true unless the projector says
    /// otherwise). When no projector of a fold does, the fold checks each draft's content without
    /// copying it, and drafts reach `apply` with `CanonicalJSON.omitted`.
    var readsDraftContent: Bool { get }
    /// Whether every row the projector keeps for a client comes from that client's events alone,
    /// so that folding one client's stream gives its rows as folding the whole log does (false
    /// unless the projector says so: analytics sum across clients).
    var foldsClientsApart: Bool { get }
    /// Generic over the store, so that Folio's own projectors run specialised for each store
    /// (see `Projections.applier(_:to:)`): no dynamic call for each row read or written.
    func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws
}

extension Projector {
    public var readsDraftContent: Bool { true }
    public var foldsClientsApart: Bool { false }

    /// A hash of the projector's name, version and tables, and of the layout of the rows it
    /// stores. It does not see the projector's code: a change to what a projector folds must bump
    /// its `version`, which makes every store rebuild its model.
    public var fingerprint: String {
        let text = "\(name)|v\(version)|\(tables.joined(separator: ","))|rows-v\(Projections.rowLayoutVersion)"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0100_0000_01b3
        }
        return "\(name)-v\(version)-" + String(hash, radix: 16)
    }
}

/// The read models' tables.
enum Tables {
    static let clients = Table<ClientRow>("clients")
    static let clientsByToken = Table<UUID>("clients_by_token")
    static let versions = Table<VersionRow>("content_versions")
    static let versionsByClient = Table<UUID>("content_versions_by_client")
    static let currentVersions = Table<UUID>("current_versions")
    static let payments = Table<PaymentRow>("payments")
    static let paymentsByIntent = Table<UUID>("payments_by_intent")
    static let paymentsByVersion = Table<UUID>("payments_by_version")
    static let paymentsByClient = Table<UUID>("payments_by_client")
    static let versionStats = Table<VersionStatsRow>("analytics_versions")
    static let paymentStats = Table<PaymentStatsRow>("analytics_payments")
    static let funnel = Table<FunnelRow>("analytics_funnel")
    static let analyticsByClient = Table<UUID>("analytics_by_client")
}

/// `clients`: one row per client, and the lookup of a client by its current token.
public struct ClientsProjector: Projector {
    public init() {}
    public var name: String { "clients" }
    public var foldsClientsApart: Bool { true }
    public var readsDraftContent: Bool { false }
    public var version: Int { 1 }
    public var tables: [String] { [Tables.clients.name, Tables.clientsByToken.name] }
    public var eventTypes: Set<EventType> {
        [.clientCreated, .tokenIssued, .clientActivated, .versionPromoted, .paymentSucceeded, .paymentFailed, .clientDeleted]
    }

    public func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws {
        let key = Key.id(event.clientID)
        if case .clientCreated(let e) = event {
            try store.put(Tables.clients, key, ClientRow(id: e.clientID, name: e.name, email: e.email, metadata: e.metadata, createdAt: envelope.recordedAt))
            return
        }
        if case .clientDeleted = event {
            guard let row = try store.get(Tables.clients, key) else { return }
            try store.delete(Tables.clients, key)
            if let token = row.activationToken { try store.delete(Tables.clientsByToken, Key.text(token.description)) }
            return
        }
        var tokenChange: (old: Token?, new: Token)?
        try store.update(Tables.clients, key) { row in
            switch event {
            case .tokenIssued(let e):
                tokenChange = (row.activationToken, e.activationToken)
                row.activationToken = e.activationToken
            case .clientActivated:
                guard row.status == .pending else { return }
                row.status = .active
                row.activatedAt = envelope.recordedAt
            case .versionPromoted(let e):
                row.currentVersionID = e.versionID
            case .paymentSucceeded:
                guard row.status == .active || row.status == .failed else { return }
                row.status = .paid
            case .paymentFailed:
                guard row.status == .active else { return }
                row.status = .failed
            default:
                return
            }
            row.updatedAt = envelope.recordedAt
        }
        if let (old, new) = tokenChange {
            if let old { try store.delete(Tables.clientsByToken, Key.text(old.description)) }
            try store.put(Tables.clientsByToken, Key.text(new.description), event.clientID)
        }
    }
}

/// `content_versions`: every version, the versions of a client in order, and the current
/// version of each (client, page).
public struct ContentVersionsProjector: Projector {
    public init() {}
    public var name: String { "content_versions" }
    public var foldsClientsApart: Bool { true }
    /// Rows name their draft's log position; `ReadModel` reads the content from there.
    public var readsDraftContent: Bool { false }
    /// 2: rows name their draft's log position instead of holding the content.
    public var version: Int { 2 }
    public var tables: [String] { [Tables.versions.name, Tables.versionsByClient.name, Tables.currentVersions.name] }
    public var eventTypes: Set<EventType> { [.versionDrafted, .versionPromoted, .outcomeRecorded, .clientDeleted] }

    public func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws {
        switch event {
        case .versionDrafted(let e):
            try store.put(Tables.versions, Key.id(e.versionID), VersionRow(e, at: envelope))
            try store.put(Tables.versionsByClient, Key.id(e.clientID) + [Key.page(e.pageType)] + Key.number(e.versionNumber), e.versionID)
        case .versionPromoted(let e):
            let currentKey = Key.id(e.clientID) + [Key.page(e.pageType)]
            if let previous = try store.get(Tables.currentVersions, currentKey), previous != e.versionID {
                try store.update(Tables.versions, Key.id(previous)) { row in
                    row.isCurrent = false
                    row.demotedAt = envelope.recordedAt
                }
            }
            let promoted = try store.update(Tables.versions, Key.id(e.versionID)) { row in
                row.isCurrent = true
                row.promotedAt = envelope.recordedAt
            }
            if promoted { try store.put(Tables.currentVersions, currentKey, e.versionID) }
        case .outcomeRecorded(let e):
            try store.update(Tables.versions, Key.id(e.versionID)) { $0.outcome = e.outcome }
        case .clientDeleted(let e):
            for (key, version) in try store.scan(Tables.versionsByClient, prefix: Key.id(e.clientID)) {
                try store.delete(Tables.versions, Key.id(version))
                try store.delete(Tables.versionsByClient, key)
            }
            for page in PageType.allCases { try store.delete(Tables.currentVersions, Key.id(e.clientID) + [Key.page(page)]) }
        default:
            return
        }
    }
}

/// `payments`: one row per payment (per Stripe intent), with lookups by intent, content version and client.
public struct PaymentsProjector: Projector {
    public init() {}
    public var name: String { "payments" }
    public var foldsClientsApart: Bool { true }
    public var readsDraftContent: Bool { false }
    public var version: Int { 2 }
    public var tables: [String] {
        [Tables.payments.name, Tables.paymentsByIntent.name, Tables.paymentsByVersion.name, Tables.paymentsByClient.name]
    }
    public var eventTypes: Set<EventType> { [.paymentInitiated, .paymentSucceeded, .paymentFailed, .paymentCancelled, .clientDeleted] }

    public func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws {
        if case .clientDeleted(let e) = event {
            for (key, payment) in try store.scan(Tables.paymentsByClient, prefix: Key.id(e.clientID)) {
                if let row = try store.get(Tables.payments, Key.id(payment)) {
                    try store.delete(Tables.paymentsByIntent, Key.text(row.stripePaymentIntentID))
                    if let version = row.contentVersionID { try store.delete(Tables.paymentsByVersion, Key.id(version, payment)) }
                }
                try store.delete(Tables.payments, Key.id(payment))
                try store.delete(Tables.paymentsByClient, key)
            }
            return
        }
        guard let payment = event.payment, let status = event.paymentStatus else { return }
        if let id = try store.get(Tables.paymentsByIntent, Key.text(payment.stripePaymentIntentID)),
           var row = try store.get(Tables.payments, Key.id(id)) {
            row.status = status
            row.updatedAt = envelope.recordedAt
            // The reason of the status the payment has: a later success or retry clears it.
            row.failureReason = status == .failed ? payment.reason : nil
            try store.put(Tables.payments, Key.id(id), row)
            return
        }
        let row = PaymentRow(payment, status: status, at: envelope.recordedAt)
        try store.put(Tables.payments, Key.id(row.id), row)
        try store.put(Tables.paymentsByIntent, Key.text(row.stripePaymentIntentID), row.id)
        try store.put(Tables.paymentsByClient, Key.id(row.clientID, row.id), row.id)
        if let version = row.contentVersionID { try store.put(Tables.paymentsByVersion, Key.id(version, row.id), row.id) }
    }
}

/// Payment analytics: figures per content version and the funnel per client.
public struct AnalyticsProjector: Projector {
    public init() {}
    public var name: String { "analytics" }
    public var readsDraftContent: Bool { false }
    public var version: Int { 1 }
    public var tables: [String] { [Tables.versionStats.name, Tables.paymentStats.name, Tables.funnel.name, Tables.analyticsByClient.name] }
    public var eventTypes: Set<EventType> {
        [.clientCreated, .tokenIssued, .clientActivated, .versionDrafted, .versionPromoted, .outcomeRecorded,
         .paymentInitiated, .paymentSucceeded, .paymentFailed, .paymentCancelled, .clientDeleted]
    }

    public func apply(_ event: Event, at envelope: Envelope, to store: some ModelStore) throws {
        let client = event.clientID
        switch event {
        case .clientCreated:
            try store.put(Tables.funnel, Key.id(client), FunnelRow(createdAt: envelope.recordedAt))
        case .tokenIssued:
            try updateFunnel(client, store) { if $0.tokenIssuedAt == nil { $0.tokenIssuedAt = envelope.recordedAt } }
        case .clientActivated:
            try updateFunnel(client, store) { if $0.activatedAt == nil { $0.activatedAt = envelope.recordedAt } }
        case .versionDrafted(let e):
            try store.put(Tables.versionStats, Key.id(e.versionID), VersionStatsRow(
                clientID: client, pageType: e.pageType, versionNumber: e.versionNumber, outcome: nil, exposed: false,
                succeeded: 0, failed: 0, revenue: 0
            ))
            try store.put(Tables.analyticsByClient, Key.id(client) + [1] + Key.id(e.versionID), e.versionID)
        case .versionPromoted(let e):
            try updateVersion(e.versionID, store) { $0.exposed = true }
        case .outcomeRecorded(let e):
            try updateVersion(e.versionID, store) { $0.outcome = e.outcome }
        case .paymentInitiated(let p), .paymentSucceeded(let p), .paymentFailed(let p), .paymentCancelled(let p):
            let status = event.paymentStatus!
            let key = Key.id(p.paymentID)
            var stats = try store.get(Tables.paymentStats, key)
                ?? PaymentStatsRow(versionID: p.contentVersionID, clientID: client, status: .pending, amount: p.amount)
            if let version = stats.versionID { try updateVersion(version, store) { $0.count(stats.status, stats.amount, -1) } }
            stats.status = status
            if let version = stats.versionID { try updateVersion(version, store) { $0.count(status, stats.amount, 1) } }
            try store.put(Tables.paymentStats, key, stats)
            try store.put(Tables.analyticsByClient, Key.id(client) + [2] + key, p.paymentID)
            if status == .succeeded {
                try updateFunnel(client, store) { if $0.paidAt == nil { $0.paidAt = envelope.recordedAt } }
            }
        case .clientDeleted:
            for (key, id) in try store.scan(Tables.analyticsByClient, prefix: Key.id(client)) {
                if key[16] == 1 { try store.delete(Tables.versionStats, Key.id(id)) } else { try store.delete(Tables.paymentStats, Key.id(id)) }
                try store.delete(Tables.analyticsByClient, key)
            }
            try store.delete(Tables.funnel, Key.id(client))
        }
    }

    private func updateVersion(_ id: UUID, _ store: some ModelStore, _ change: (inout VersionStatsRow) -> Void) throws {
        try store.update(Tables.versionStats, Key.id(id), change)
    }

    private func updateFunnel(_ client: UUID, _ store: some ModelStore, _ change: (inout FunnelRow) -> Void) throws {
        try store.update(Tables.funnel, Key.id(client), change)
    }
}

extension VersionStatsRow {
    mutating func count(_ status: PaymentStatus, _ amount: Int64, _ sign: Int) {
        switch status {
        case .succeeded:
            succeeded += sign
            revenue += Int64(sign) * amount
        case .failed:
            failed += sign
        case .pending, .cancelled:
            break
        }
    }
}

extension Event {
    /// The status a payment event gives its payment, or `nil` for other events.
    public var paymentStatus: PaymentStatus? {
        switch self {
        case .paymentInitiated: .pending
        case .paymentSucceeded: .succeeded
        case .paymentFailed: .failed
        case .paymentCancelled: .cancelled
        default: nil
        }
    }
}
