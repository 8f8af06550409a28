import Domain
import Foundation

/// Queries over the read models, at one moment: the stored models in a snapshot, or models
/// folded in memory up to a position (`--as-of`).
public final class ReadModel {
    let store: any ModelStore
    /// Reads the content of the version with this id from the draft at this log position; `nil`
    /// when the rows hold their content (a model folded in memory).
    let draftContent: ((_ position: UInt64, _ version: UUID) throws -> CanonicalJSON)?

    init(store: any ModelStore, draftContent: ((UInt64, UUID) throws -> CanonicalJSON)? = nil) {
        self.store = store
        self.draftContent = draftContent
    }

    /// The row with its content, which a stored row keeps in the log (`contentPosition`).
    private func withContent(_ row: VersionRow) throws -> VersionRow {
        guard let draftContent, let position = row.contentPosition else { return row }
        var row = row
        row.content = try draftContent(position, row.id)
        return row
    }

    /// Clients, oldest first; only those with `status` when given.
    public func clients(status: ClientStatus? = nil) throws -> [ClientRow] {
        try store.scan(Tables.clients, prefix: []).map(\.row)
            .filter { status == nil || $0.status == status }
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
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
    public func versions(client: UUID? = nil, page: PageType? = nil, currentOnly: Bool = false) throws -> [VersionRow] {
        var rows: [VersionRow]
        if let client {
            let prefix = Key.id(client) + (page.map { [Key.page($0)] } ?? [])
            rows = try store.scan(Tables.versionsByClient, prefix: prefix).compactMap { try store.get(Tables.versions, Key.id($0.row)) }
        } else {
            let order = Dictionary(uniqueKeysWithValues: try clients().enumerated().map { ($1.id, $0) })
            rows = try store.scan(Tables.versions, prefix: []).map(\.row).sorted {
                (order[$0.clientID] ?? Int.max, $0.clientID.uuidString, $0.pageType, $0.versionNumber)
                    < (order[$1.clientID] ?? Int.max, $1.clientID.uuidString, $1.pageType, $1.versionNumber)
            }
        }
        return try rows.filter { (page == nil || $0.pageType == page) && (!currentOnly || $0.isCurrent) }.map(withContent)
    }

    public func version(id: UUID) throws -> VersionRow? {
        try store.get(Tables.versions, Key.id(id)).map(withContent)
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
        (a.createdAt, a.id.uuidString) < (b.createdAt, b.id.uuidString)
    }

    /// Conversion by content version, its roll-ups and the funnel.
    public func analytics() throws -> Analytics {
        let versions = try store.scan(Tables.versionStats, prefix: []).map { key, row in
            VersionFigures(
                contentVersionID: UUID(uuid: key.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }), clientID: row.clientID,
                pageType: row.pageType, versionNumber: row.versionNumber, outcome: row.outcome,
                figures: Figures(
                    exposed: row.exposed ? 1 : 0, converted: row.exposed && row.succeeded > 0 ? 1 : 0,
                    paymentsSucceeded: row.succeeded, paymentsFailed: row.failed, revenue: row.revenue
                )
            )
        }.sorted { ($0.clientID.uuidString, $0.pageType, $0.versionNumber) < ($1.clientID.uuidString, $1.pageType, $1.versionNumber) }
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
