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
}

/// Who owns a token, and whether it was replaced.
struct TokenOwner: Hashable {
    var client: UUID
    var retired: Bool
}

/// The write model inside one write transaction: client states and cross-client lookups,
/// cached for a long import and written back by `flush()`.
final class WriteModel {
    let session: WriteSession
    let indexes: WriteIndexes
    private var states: [UUID: (version: UInt64, state: ClientState)] = [:]
    private var dirty: Set<UUID> = []

    init(session: WriteSession, indexes: WriteIndexes) {
        self.session = session
        self.indexes = indexes
    }

    /// The client's state and stream version (`initial` and 0 for an unknown client).
    func state(of client: UUID) throws -> (version: UInt64, state: ClientState) {
        if let cached = states[client] { return cached }
        let stored: (UInt64, ClientState)? = try session.transaction.withValue(indexes.clients, client.bytes) { value in
            guard let value, value.count >= 8 else { return nil }
            let version = UInt64(bigEndian: value.loadUnaligned(as: UInt64.self))
            let state = try ClientState(json: UnsafeRawBufferPointer(rebasing: value[8...]))
            return (version, state)
        }
        let result = stored ?? (0, ClientState.initial)
        states[client] = result
        return result
    }

    func tokenOwner(_ token: Token) throws -> TokenOwner? {
        try session.transaction.withValue(indexes.tokens, Array(token.description.utf8)) { value in
            guard let value, value.count == 17 else { return nil }
            return TokenOwner(client: UUID(bytes: value), retired: value[16] == 1)
        }
    }

    var issuedTokenCount: Int {
        get throws { try session.transaction.statistics(indexes.tokens).entries }
    }

    func intentOwner(_ intent: String) throws -> UUID? {
        try session.transaction.withValue(indexes.intents, Array(intent.utf8)) { $0.map(UUID.init(bytes:)) }
    }

    func versionOwner(_ version: UUID) throws -> UUID? {
        try session.transaction.withValue(indexes.versions, version.bytes) { $0.map(UUID.init(bytes:)) }
    }

    /// Folds appended events into the states and indexes.
    func record(_ events: [Event], streamVersion: UInt64) throws {
        guard let client = events.first?.clientID else { return }
        var (_, state) = try state(of: client)
        for event in events {
            state = state.evolve(event)
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

    /// Writes the changed client states back (encoded on every core: an import changes them all).
    func flush() throws {
        let changed = dirty.compactMap { client in states[client].map { (client: client, version: $0.version, state: $0.state) } }
        let encoded = parallelMap(changed, chunk: 256) { entry in entry.version.bigEndianBytes + entry.state.encodedJSON() }
        for (entry, value) in zip(changed, encoded) {
            try session.writer.put(indexes.clients, entry.client.bytes, value)
        }
        dirty.removeAll()
    }
}

extension UUID {
    var bytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }

    init(bytes: UnsafeRawBufferPointer) {
        self.init(uuid: bytes.loadUnaligned(as: uuid_t.self))
    }
}

extension UInt64 {
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }
}
