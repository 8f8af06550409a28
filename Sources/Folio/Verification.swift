import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB
import Projections

/// What the store keeps beside the log, compared with the log folded anew (`Store.derivedDataCheck()`).
public struct DerivedDataCheck: Hashable, Sendable {
    /// The read models' tables whose rows differ from the fold, by name, of those compared.
    public var readModelTables: [String]
    /// The projectors whose models were not compared, by name: stale ones, built by other code
    /// (or lagging the log), which `verify` leaves as they are for the next command to rebuild.
    public var notCompared: [String]
    /// The projectors whose record in the `projections` database cannot be read, each with why:
    /// their models are stale, and the next rebuild makes them anew from the log.
    public var damagedRecords: [Projections.DamagedRecord]
    /// The first way the write side's indexes differ from the fold, in words; `nil` when they agree.
    public var writeIndexes: String?
}

extension Store {
    /// Folds the whole log anew in one snapshot and compares with it what commands keep beside
    /// it: the read models, table by table, and the write side's indexes (client states, tokens,
    /// payment intents, content versions), entry by entry. Damage a page walk cannot see, such as
    /// a changed byte inside a row, shows here.
    public func derivedDataCheck() throws -> DerivedDataCheck {
        do {
            return try log.read { session in
                var writeSide = FoldedWriteSide()
                let tables = try projections.tablesDifferingFromLog(in: session) { writeSide.apply($0) }
                return DerivedDataCheck(
                    readModelTables: tables.differing, notCompared: tables.notCompared,
                    damagedRecords: try projections.damagedRecords(in: session),
                    writeIndexes: try writeSide.firstDifference(from: indexes, in: session.transaction)
                )
            }
        } catch {
            throw FolioError.wrapping(error)
        }
    }
}

/// The write side as the log makes it: each client's stream version and state, and the
/// cross-client indexes, as `WriteModel` keeps them command by command.
struct FoldedWriteSide {
    var states: [UUID: (version: UInt64, state: ClientState)] = [:]
    var indexes = CrossClientIndexes()

    /// Folds in the next event of the log. Every event of a client is in its stream, so the
    /// stream's version is how many of them there are.
    mutating func apply(_ event: Event) {
        let client = event.clientID
        states[client, default: (0, .initial)].state.apply(event)
        states[client, default: (0, .initial)].version += 1
        indexes.record(event, client: client)
    }

    /// The first way `stored`'s databases differ from this fold, in words (`nil` when they hold
    /// exactly its entries). A client's state is compared as a state, not as the bytes it was
    /// written as.
    func firstDifference(from stored: WriteIndexes, in transaction: Transaction) throws -> String? {
        for index in CrossClientIndexes.Index.allCases {
            let difference = try transaction.firstDifference(in: stored[index]) { expect in
                try indexes.entries(of: index) { key, value in try expect(key) { $0.elementsEqual(value) } }
            }
            if let difference { return Self.describe(difference, in: index) }
        }
        let clients = states.sorted { $0.key.order < $1.key.order }
        let difference = try transaction.firstDifference(in: stored.clients) { expect in
            for (client, entry) in clients {
                try expect(client.bytes) { value in
                    guard value.count >= 8, UInt64(bigEndian: value.loadUnaligned(as: UInt64.self)) == entry.version else { return false }
                    return (try? ClientState(json: UnsafeRawBufferPointer(rebasing: value[8...]))) == entry.state
                }
            }
        }
        return difference.map { Self.describe($0, in: nil) }
    }

    /// A difference of `index` (`nil`: the client states), in words.
    private static func describe(_ difference: EntryDifference, in index: CrossClientIndexes.Index?) -> String {
        let key = difference.key
        let (title, entry): (String, String) = switch index {
        case .tokens: ("index of activation tokens", "token \(String(decoding: key, as: UTF8.self))")
        case .intents: ("index of payment intents", "payment intent \(String(decoding: key, as: UTF8.self))")
        case .versions: ("index of content versions", "content version \(Self.id(key))")
        case nil: ("index of client states", "client \(Self.id(key))")
        }
        return switch difference {
        case .missing: "its \(title) lacks the entry for \(entry)"
        case .unexpected: "its \(title) holds an entry for \(entry), which the log does not make"
        case .changed: "its \(title) has another entry for \(entry) than the log makes"
        }
    }

    private static func id(_ key: [UInt8]) -> String {
        guard key.count == 16 else { return "(a \(key.count)-byte key)" }
        return key.withUnsafeBytes { UUID(bytes: $0) }.lowercased
    }
}
