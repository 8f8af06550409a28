import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB
import Projections

/// The write side's own databases: what the rules need to know across clients, kept in the
/// same transaction as the events, so they are never behind the log.
///
/// - `idx.tokens`: token → client id (16 bytes) + 1 if retired
/// - `idx.intents`: Stripe payment intent id → client id
/// - `idx.versions`: content version id → client id
/// - `idx.clients`: client id → stream version (8 bytes, big-endian) + the client's state as JSON
struct WriteIndexes: Sendable {
    let tokens: Database
    let intents: Database
    let versions: Database
    let clients: Database

    init(environment: Environment) throws {
        let opened = try environment.databases(["idx.tokens", "idx.intents", "idx.versions", "idx.clients"])
        (tokens, intents, versions, clients) = (opened[0], opened[1], opened[2], opened[3])
    }

    var all: [Database] { [tokens, intents, versions, clients] }

    subscript(index: CrossClientIndexes.Index) -> Database {
        switch index {
        case .tokens: tokens
        case .intents: intents
        case .versions: versions
        }
    }
}

/// Who owns a token, and whether it was replaced.
struct TokenOwner: Hashable {
    var client: UUID
    var retired: Bool
}

extension TokenOwner {
    /// The token index's entry for `token`, as stored: the client's 16 bytes, then 1 when retired.
    init(stored value: UnsafeRawBufferPointer, token: Token) throws {
        self.init(client: try UUID(stored: value, count: 17, "the token index's entry for \(token)"), retired: value[16] == 1)
    }
}

/// The write model inside one write transaction: client states and cross-client lookups,
/// cached for a long import and written back by `flush()`.
final class WriteModel {
    let session: WriteSession
    let indexes: WriteIndexes
    private var states: [UUID: (version: UInt64, state: ClientState)] = [:]
    private var dirty: Set<UUID> = []
    /// While loading an empty store: the cross-client indexes, whole, written by `flush()`.
    private var loaded: CrossClientIndexes?

    init(session: WriteSession, indexes: WriteIndexes) {
        self.session = session
        self.indexes = indexes
    }

    /// A write model for loading a store whose indexes are empty (an import, with the log's
    /// `beginBulkLoad()`): the indexes are kept in memory, where every lookup is answered, and
    /// `flush()` writes them in key order, appending to each B-tree instead of inserting at random.
    init(loadingInto session: WriteSession, indexes: WriteIndexes) throws {
        for database in indexes.all where try session.transaction.statistics(database).entries > 0 {
            throw FolioError(.refused, "cannot load into \(database.name): it already holds entries")
        }
        self.session = session
        self.indexes = indexes
        self.loaded = CrossClientIndexes()
    }

    /// The client's state and stream version (`initial` and 0 for an unknown client).
    func state(of client: UUID) throws -> (version: UInt64, state: ClientState) {
        if let cached = states[client] { return cached }
        if loaded != nil { return (0, ClientState.initial) }
        let result = try Self.state(of: client, in: session.transaction, indexes: indexes)
        states[client] = result
        return result
    }

    /// The client's state and stream version as stored (`initial` and 0 for an unknown client).
    static func state(of client: UUID, in transaction: Transaction, indexes: WriteIndexes) throws -> (version: UInt64, state: ClientState) {
        let stored: (UInt64, ClientState)? = try transaction.withValue(indexes.clients, client.bytes) { value in
            guard let value else { return nil }
            guard value.count >= 8 else {
                throw FolioError(.store, "the store is damaged: the client index's entry for \(client.lowercased) is \(value.count) bytes, short of its stream version; `folio verify` checks every page")
            }
            let version = UInt64(bigEndian: value.loadUnaligned(as: UInt64.self))
            let state = try ClientState(json: UnsafeRawBufferPointer(rebasing: value[8...]))
            return (version, state)
        }
        return stored ?? (0, ClientState.initial)
    }

    func tokenOwner(_ token: Token) throws -> TokenOwner? {
        if let loaded { return loaded.tokens[token] }
        return try session.transaction.withValue(indexes.tokens, Array(token.description.utf8)) { value in
            guard let value else { return nil }
            return try TokenOwner(stored: value, token: token)
        }
    }

    var issuedTokenCount: Int {
        get throws {
            if let loaded { return loaded.tokens.count }
            return try session.transaction.statistics(indexes.tokens).entries
        }
    }

    func intentOwner(_ intent: String) throws -> UUID? {
        if let loaded { return loaded.intents[ByteKey(intent)] }
        return try session.transaction.withValue(indexes.intents, Array(intent.utf8)) { try $0.map { try UUID(stored: $0, "the payment intent index's entry for \(intent)") } }
    }

    /// The Stripe intent other than `intent` whose payment `payment` already names, among those of
    /// a store being loaded. Intents compare as the rules compare them (as text, where one reported
    /// in two Unicode forms is one payment), not by bytes as the index keys them.
    func otherIntent(ofPayment payment: UUID, than intent: String) -> String? {
        guard let named = loaded?.payments[payment], named != intent else { return nil }
        return named
    }

    func versionOwner(_ version: UUID) throws -> UUID? {
        if let loaded { return loaded.versions[version] }
        return try session.transaction.withValue(indexes.versions, version.bytes) { try $0.map { try UUID(stored: $0, "the version index's entry for \(version.lowercased)") } }
    }

    /// Refuses `event` unless it keeps the rules that its client's state alone cannot tell: a
    /// token is issued once, a version id names one version, a version acts only in its own
    /// client's history, an intent belongs to one client and a payment id names one payment.
    /// Commands and imports both ask it of every event before appending it.
    func checkAcrossClients(_ event: Event) throws {
        let client = event.clientID
        switch event {
        case .tokenIssued(let issued):
            if let owner = try tokenOwner(issued.activationToken) {
                throw FolioError(.refused, "token \(issued.activationToken) is already issued (to client \(owner.client.lowercased)): a token is never issued twice (rule 1)")
            }
        case .versionDrafted(let drafted):
            if let owner = try versionOwner(drafted.versionID) {
                throw FolioError(.refused, "content version \(drafted.versionID.lowercased) already exists (client \(owner.lowercased))")
            }
        case .versionPromoted(let promoted):
            try checkVersion(promoted.versionID, of: client, for: .promotion)
        case .outcomeRecorded(let recorded):
            try checkVersion(recorded.versionID, of: client, for: .outcome)
        case .paymentInitiated(let payment), .paymentSucceeded(let payment), .paymentFailed(let payment), .paymentCancelled(let payment):
            try checkIntent(payment.stripePaymentIntentID, of: client)
            if let version = payment.contentVersionID { try checkVersion(version, of: client, for: .payment) }
            if let intent = otherIntent(ofPayment: payment.paymentID, than: payment.stripePaymentIntentID) {
                throw FolioError(.refused, "payment id \(payment.paymentID.lowercased) already names the payment of intent \(intent): a payment id names one payment")
            }
        case .clientCreated, .clientActivated, .clientDeleted:
            break
        }
    }

    /// What an event does with a content version, each under its own rule.
    enum VersionUse {
        case promotion, outcome, payment

        var rule: String {
            switch self {
            case .promotion: "rule 4: a version of another client never becomes current"
            case .outcome: "an outcome is recorded in the history of its version's own client"
            case .payment: "rule 6: a payment links to its own client's content"
            }
        }
    }

    /// Refuses a content version that does not exist, or that is not `client`'s.
    func checkVersion(_ version: UUID, of client: UUID, for use: VersionUse) throws {
        guard let owner = try versionOwner(version) else {
            throw FolioError.unknownVersion(version)
        }
        guard owner == client else {
            throw FolioError(.refused, "content version \(version.lowercased) belongs to client \(owner.lowercased), not \(client.lowercased) (\(use.rule))")
        }
    }

    /// Refuses a Stripe payment intent that already belongs to a client other than `client`.
    func checkIntent(_ intent: String, of client: UUID) throws {
        if let owner = try intentOwner(intent), owner != client {
            // A deleted client keeps its payments, and with them its intents.
            let deleted = (try? state(of: owner).state.isDeleted) == true ? " (deleted)" : ""
            throw FolioError(.refused, "payment intent \(intent) already belongs to client \(owner.lowercased)\(deleted): stripe_payment_intent_id is unique across the store (rule 6)")
        }
    }

    /// Folds appended events into the states and indexes.
    func record(_ events: [Event], streamVersion: UInt64) throws {
        guard let client = events.first?.clientID else { return }
        var (_, state) = try state(of: client)
        for event in events {
            state = state.evolve(event)
            if loaded != nil {
                loaded?.record(event, client: client)
                continue
            }
            switch event {
            case .tokenIssued(let issued):
                if let old = issued.replaces {
                    try session.writer.put(indexes.tokens, Array(old.description.utf8), client.bytes + [1])
                }
                try session.writer.put(indexes.tokens, Array(issued.activationToken.description.utf8), client.bytes + [0])
            case .versionDrafted(let drafted):
                try session.writer.put(indexes.versions, drafted.versionID.bytes, client.bytes)
            case .paymentInitiated(let payment), .paymentSucceeded(let payment), .paymentFailed(let payment), .paymentCancelled(let payment):
                try session.writer.put(indexes.intents, Array(payment.stripePaymentIntentID.utf8), client.bytes)
            default:
                break
            }
        }
        states[client] = (streamVersion, state)
        dirty.insert(client)
    }

    /// Writes the changed client states back (encoded on every core: an import changes them all),
    /// and the indexes of a store being loaded, each in key order.
    func flush() throws {
        var changed = dirty.compactMap { client in states[client].map { (client: client, version: $0.version, state: $0.state) } }
        if loaded != nil { changed.sort { $0.client.order < $1.client.order } }
        let encoded = parallelMap(changed, chunk: 256) { entry in entry.version.bigEndianBytes + entry.state.encodedJSON() }
        let options: PutOptions = loaded == nil ? [] : .append
        for (entry, value) in zip(changed, encoded) {
            try session.writer.put(indexes.clients, entry.client.bytes, value, options: options)
        }
        dirty.removeAll()
        guard let loaded else { return }
        // Written: from here on the databases answer.
        self.loaded = nil
        for index in CrossClientIndexes.Index.allCases {
            let database = indexes[index]
            try loaded.entries(of: index) { key, value in try session.writer.put(database, key, value, options: .append) }
        }
    }
}

/// The cross-client indexes as the events make them, in memory: a store being loaded keeps them
/// here until `WriteModel.flush()` writes them, and `verify` compares the stored ones with them.
struct CrossClientIndexes {
    var tokens: [Token: TokenOwner] = [:]
    /// Intents by their bytes, as `idx.intents` keys them (`String` equates canonically
    /// equivalent text, which Stripe's ids, and the database, tell apart).
    var intents: [ByteKey: UUID] = [:]
    var versions: [UUID: UUID] = [:]
    /// Payment id → its Stripe intent. Not a database: a command's payment ids are new
    /// random UUIDs; an import's come from its file, and each must name one payment.
    var payments: [UUID: String] = [:]

    /// Keeps what `client`'s event adds to the indexes, as `WriteModel.record` puts it.
    mutating func record(_ event: Event, client: UUID) {
        switch event {
        case .tokenIssued(let issued):
            if let old = issued.replaces { tokens[old] = TokenOwner(client: client, retired: true) }
            tokens[issued.activationToken] = TokenOwner(client: client, retired: false)
        case .versionDrafted(let drafted):
            versions[drafted.versionID] = client
        case .paymentInitiated(let payment), .paymentSucceeded(let payment), .paymentFailed(let payment), .paymentCancelled(let payment):
            intents[ByteKey(payment.stripePaymentIntentID)] = client
            payments[payment.paymentID] = payment.stripePaymentIntentID
        default:
            break
        }
    }

    /// The indexes kept here, each a database of `WriteIndexes`.
    enum Index: CaseIterable {
        case tokens, intents, versions
    }

    /// The entries `index` holds, in key order, as `WriteIndexes` describes them.
    func entries(of index: Index, _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void) rethrows {
        switch index {
        case .tokens:
            let keyed = tokens.map { (key: Array($0.key.description.utf8), owner: $0.value) }
            for (token, owner) in keyed.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                try body(token, owner.client.bytes + [owner.retired ? 1 : 0])
            }
        case .intents:
            for (intent, client) in intents.sorted(by: { ByteKey.precedes($0.key, $1.key) }) { try body(intent.bytes, client.bytes) }
        case .versions:
            for (version, client) in versions.sorted(by: { $0.key.order < $1.key.order }) { try body(version.bytes, client.bytes) }
        }
    }
}

extension UUID {
    init(bytes: UnsafeRawBufferPointer) {
        self.init(uuid: bytes.loadUnaligned(as: uuid_t.self))
    }

    /// An id as an index stores it: its 16 bytes, the first of `bytes`, which must hold `count`.
    /// - Throws: `FolioError` naming `what` when they hold another number of bytes (a damaged page).
    init(stored bytes: UnsafeRawBufferPointer, count: Int = 16, _ what: @autoclosure () -> String) throws(FolioError) {
        guard bytes.count == count else {
            throw FolioError(.store, "the store is damaged: \(what()) is \(bytes.count) bytes where it takes \(count); `folio verify` checks every page")
        }
        self.init(bytes: bytes)
    }
}
