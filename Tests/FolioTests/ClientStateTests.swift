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
}
