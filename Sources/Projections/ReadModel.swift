import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Queries over the read models, at one moment: the stored models in a snapshot, or models
/// folded in memory up to a position (`--as-of`).
public final class ReadModel {
    let store: any ModelStore
    /// Runs its body on a snapshot of the log, where versions' drafts are read.
    let withLog: (_ body: (ReadSession) throws -> Void) throws -> Void

    init(store: any ModelStore, withLog: @escaping ((ReadSession) throws -> Void) throws -> Void) {
        self.store = store
        self.withLog = withLog
    }

    /// The rows with their content, which each row names by its draft's log position
    /// (`contentPosition`); a row stored by an earlier Folio holds it.
    func withContent(_ rows: [VersionRow]) throws -> [VersionRow] {
        try Projections.withContent(rows, withLog: withLog)
    }

    /// Clients, oldest first; only those with `status` when given.
    public func clients(status: ClientStatus? = nil) throws -> [ClientRow] {
        try store.scan(Tables.clients, prefix: []).map(\.row)
            .filter { status == nil || $0.status == status }
            .sorted { ($0.createdAt, $0.id.order.0, $0.id.order.1) < ($1.createdAt, $1.id.order.0, $1.id.order.1) }
    }

    public func client(id: UUID) throws -> ClientRow? {
        try store.get(Tables.clients, Key.id(id))
    }

    /// The client whose current token is `token`.
    public func client(token: Token) throws -> ClientRow? {
        guard let id = try store.get(Tables.clientsByToken, Key.text(token.description)) else { return nil }
        return try client(id: id)
    }

    /// Content versions ordered by client (oldest client first), page and version number.
    ///
    /// Without `content`, a row that names its draft's position has its content left empty, to
    /// be read by `Projections.withContent(_:)` a few rows at a time (a long listing of large
    /// pages).
    public func versions(client: UUID? = nil, page: PageType? = nil, currentOnly: Bool = false, content: Bool = true) throws -> [VersionRow] {
        var rows: [VersionRow]
        if let client {
            let prefix = Key.id(client) + (page.map { [Key.page($0)] } ?? [])
            rows = try store.scan(Tables.versionsByClient, prefix: prefix).compactMap { try store.get(Tables.versions, Key.id($0.row)) }
        } else {
            let clientOrder = Dictionary(uniqueKeysWithValues: try clients().enumerated().map { ($1.id, $0) })
            // Sorted by a key made once per row, not at every comparison.
            rows = try store.scan(Tables.versions, prefix: []).map { _, row in
                ((clientOrder[row.clientID] ?? Int.max, row.clientID.order.0, row.clientID.order.1, row.pageType, row.versionNumber), row)
            }.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let kept = rows.filter { (page == nil || $0.pageType == page) && (!currentOnly || $0.isCurrent) }
        return content ? try withContent(kept) : kept
    }

    public func version(id: UUID) throws -> VersionRow? {
        try store.get(Tables.versions, Key.id(id)).map { try withContent([$0])[0] }
    }

    /// The current version of a client's page.
    public func currentVersion(client: UUID, page: PageType) throws -> VersionRow? {
        guard let id = try store.get(Tables.currentVersions, Key.id(client) + [Key.page(page)]) else { return nil }
        return try version(id: id)
    }

    /// Payments, oldest first, filtered by client, content version and status.
    public func payments(client: UUID? = nil, version: UUID? = nil, status: PaymentStatus? = nil) throws -> [PaymentRow] {
        let ids: [UUID]
        if let version {
            ids = try store.scan(Tables.paymentsByVersion, prefix: Key.id(version)).map(\.row)
        } else if let client {
            ids = try store.scan(Tables.paymentsByClient, prefix: Key.id(client)).map(\.row)
        } else {
            return try store.scan(Tables.payments, prefix: []).map(\.row).filter { status == nil || $0.status == status }.sorted(by: Self.byTime)
        }
        return try ids.compactMap { try store.get(Tables.payments, Key.id($0)) }
            .filter { (client == nil || $0.clientID == client) && (status == nil || $0.status == status) }
            .sorted(by: Self.byTime)
    }

    public func payment(id: UUID) throws -> PaymentRow? {
        try store.get(Tables.payments, Key.id(id))
    }

    private static func byTime(_ a: PaymentRow, _ b: PaymentRow) -> Bool {
        (a.createdAt, a.id.order.0, a.id.order.1) < (b.createdAt, b.id.order.0, b.id.order.1)
    }

    /// Conversion by content version, its roll-ups and the funnel.
    /// - Parameter versions: without them (the funnel alone), no version's figures are read, and
    ///   the sections made of them are empty.
    public func analytics(versions withVersions: Bool = true) throws -> Analytics {
        let versions = try (withVersions ? store.scan(Tables.versionStats, prefix: []) : []).map { key, row in
            guard key.count == 16 else {
                throw ProjectionError(.decodeFailed, "a key of the analytics' version figures is \(key.count) bytes where a content version id takes 16: the store is damaged there; `folio verify` checks every page")
            }
            return VersionFigures(
                contentVersionID: UUID(uuid: key.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }), clientID: row.clientID,
                pageType: row.pageType, versionNumber: row.versionNumber, outcome: row.outcome,
                figures: Figures(
                    exposed: row.exposed ? 1 : 0, converted: row.exposed && row.succeeded > 0 ? 1 : 0,
                    paymentsSucceeded: row.succeeded, paymentsFailed: row.failed, revenue: row.revenue
                )
            )
        }.sorted { ($0.clientID.order.0, $0.clientID.order.1, $0.pageType, $0.versionNumber) < ($1.clientID.order.0, $1.clientID.order.1, $1.pageType, $1.versionNumber) }
        let funnels = try store.scan(Tables.funnel, prefix: []).map(\.row)
        return Analytics(versions: versions, funnels: funnels)
    }

    /// Every row of every table, encoded: for comparing two models.
    public func dump() throws -> [String: [[UInt8]: Data]] {
        var out: [String: [[UInt8]: Data]] = [:]
        func add<Row>(_ table: Table<Row>) throws {
            for (key, row) in try store.scan(table, prefix: []) { out[table.name, default: [:]][key] = Data(RowCoding.encode(row)) }
        }
        try add(Tables.clients); try add(Tables.clientsByToken)
        try add(Tables.versions); try add(Tables.versionsByClient); try add(Tables.currentVersions)
        try add(Tables.payments); try add(Tables.paymentsByIntent); try add(Tables.paymentsByVersion); try add(Tables.paymentsByClient)
        try add(Tables.versionStats); try add(Tables.paymentStats); try add(Tables.funnel); try add(Tables.analyticsByClient)
        return out
    }
}
