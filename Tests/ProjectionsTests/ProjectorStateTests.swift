@testable import Projections
import Testing

/// What the `projections` database holds per projector: stores written by earlier Folio versions
/// (keys in declaration order, as `JSONEncoder` wrote them) must still open.
@Suite("Projector state")
struct ProjectorStateTests {
    func decode(_ text: String) throws -> Projections.ProjectorState {
        try Array(text.utf8).withUnsafeBytes { try Projections.ProjectorState.decode($0) }
    }

    @Test("a stored state is read whatever its key order, and written back to the same fields")
    func roundTrip() throws {
        let earlier = try decode(#"{"version":2,"fingerprint":"clients-v2-00ff","checkpoint":9007199254740993,"slot":"b"}"#)
        #expect(earlier == Projections.ProjectorState(version: 2, fingerprint: "clients-v2-00ff", checkpoint: 9_007_199_254_740_993, slot: "b"))
        var bytes: [UInt8] = []
        earlier.encode(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"checkpoint":9007199254740993,"fingerprint":"clients-v2-00ff","slot":"b","version":2}"#)
        #expect(try bytes.withUnsafeBytes { try Projections.ProjectorState.decode($0) } == earlier)
    }

    @Test("a state with a field missing or out of range is refused, naming it", arguments: [
        (#"{"version":1,"fingerprint":"f","slot":"a"}"#, "checkpoint"),
        (#"{"version":1,"fingerprint":"f","checkpoint":-1,"slot":"a"}"#, "checkpoint"),
        (#"{"version":1,"checkpoint":3,"slot":"a"}"#, "fingerprint"),
        (#"["version"]"#, "not a JSON object"),
    ])
    func refused(text: String, named: String) throws {
        let error = #expect(throws: ProjectionError.self) { try decode(text) }
        #expect(error?.message.contains(named) == true)
    }
}
