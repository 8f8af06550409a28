import Domain
import EventStore
import Folio
import Foundation
import LMDB
import Testing

@Suite("Stored client states")
struct ClientStateTests {
    @Test("a stored client state is its stream folded, and Folio's coding and Foundation's read each other's JSON")
    func storedStates() throws {
        let directory = try TemporaryDirectory()
        let file = try writeHistory(in: directory, HistoryGenerator(seed: 17, clients: 12, contentBytes: 300...600))
        let store = try makeStore(directory, noSync: true)
        _ = try store.importLog(from: file)

        let environment = store.log.environment
        let database = try environment.database("idx.clients")
        let stored: [(UUID, [UInt8])] = try environment.read { txn in
            var entries: [(UUID, [UInt8])] = []
            try txn.withCursor(database) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    entries.append((UUID(uuid: current.key.loadUnaligned(as: uuid_t.self)), Array(current.value.dropFirst(8))))
                    entry = try cursor.next()
                }
            }
            return entries
        }
        #expect(stored.count == 12)
        let sortedEncoder = JSONEncoder()
        sortedEncoder.outputFormatting = .sortedKeys
        var sawPayments = false, sawVersions = false
        for (client, json) in stored {
            let state = try json.withUnsafeBytes { try ClientState(json: $0) }
            // The state is the client's stream folded.
            let folded = try store.log.read { session in
                var folded = ClientState.initial
                try session.scan(stream: Event.stream(for: client)) { view in
                    let event = try view.withPayload { try Event.decode(type: view.type, schemaVersion: Int(view.schemaVersion), payload: $0) }
                    folded = folded.evolve(event)
                    return true
                }
                return folded
            }
            #expect(state == folded)
            sawPayments = sawPayments || !state.payments.isEmpty
            sawVersions = sawVersions || state.versions.count > 1
            // Foundation reads what Folio writes, and Folio reads what Foundation writes.
            #expect(try JSONDecoder().decode(ClientState.self, from: Data(json)) == state)
            let foundation = Array(try sortedEncoder.encode(state))
            #expect(try foundation.withUnsafeBytes { try ClientState(json: $0) } == state)
            #expect(state.encodedJSON() == json)
        }
        #expect(sawPayments && sawVersions)
    }

    @Test("a stored client state that is not one is refused with what is wrong")
    func badStates() {
        for text in ["[]", #"{"exists":true}"#, #"{"exists":true,"isDeleted":false,"name":"A","status":"gone","retiredTokens":[],"versions":[],"currentVersionByPage":[],"lastVersionNumber":[],"payments":{}}"#] {
            #expect(throws: DomainError.self) { try Array(text.utf8).withUnsafeBytes { try ClientState(json: $0) } }
        }
    }
    @Test("an index entry of the wrong size (a damaged page) is named in one line, and nothing acts on it")
    func wrongSizedEntries() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, noSync: true)
        let client = try store.createClient(name: "A")
        let token = try #require(try store.issueToken(client: client.id.lowercased).activationToken).description
        let environment = store.log.environment
        let (tokens, clients) = (try environment.database("idx.tokens"), try environment.database("idx.clients"))
        try environment.write { txn in try txn.put(tokens, Array(token.utf8), [UInt8](repeating: 7, count: 5)) }
        let head = try store.log.head()
        #expect(performing: { try store.resolveClient(token) }, throws: { error in
            "\(error)" == "the store is damaged: the token index's entry for \(token) is 5 bytes where it takes 17; `folio verify` checks every page"
        })
        #expect(performing: { try store.activate(token: token) }, throws: { "\($0)".contains("the token index's entry for \(token) is 5 bytes") })
        try environment.write { txn in try txn.put(clients, withUnsafeBytes(of: client.id.uuid) { Array($0) }, [1, 2, 3]) }
        #expect(performing: { try store.issueToken(client: client.id.lowercased) }, throws: { error in
            "\(error)".contains("the client index's entry for \(client.id.lowercased) is 3 bytes, short of its stream version")
        })
        #expect(try store.log.head() == head)
    }

    @Test("a token whose index entry cannot be read is never drawn as one never issued: the draw names the damage")
    func damagedTokenEntryInDraw() throws {
        let directory = try TemporaryDirectory()
        // The same seed draws the same token: learnt from one store, damaged in another.
        let probe = try makeStore(directory, name: "probe", noSync: true, seed: 11)
        let next = try #require(try probe.issueToken(client: try probe.createClient(name: "A").id.lowercased).activationToken).description
        let store = try makeStore(directory, noSync: true, seed: 11)
        let client = try store.createClient(name: "A")
        let tokens = try store.log.environment.database("idx.tokens")
        try store.log.environment.write { txn in try txn.put(tokens, Array(next.utf8), [UInt8](repeating: 7, count: 5)) }
        let head = try store.log.head()
        #expect(performing: { try store.issueToken(client: client.id.lowercased) }, throws: { error in
            "\(error)".contains("the token index's entry for \(next) is 5 bytes where it takes 17")
        })
        #expect(try store.log.head() == head)
    }
}
