// A libFuzzer target over the Domain module's parsers, compiled together with Sources/Domain by
// tools/fuzzing/libfuzzer: content and metadata (JSONValue.parse), stored payloads of every event
// type (Event.decode, then validate and encode again), tokens and timestamps.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let value = try? JSONValue.parse(data) { _ = value.canonicalJSON() }
    let types = EventType.allCases
    let type = types[count % types.count]
    for version in 1...type.currentSchemaVersion {
        if let event = try? Event.decode(type: type.rawValue, schemaVersion: version, payload: data) {
            _ = try? validate(event, state: .initial)
            _ = event.encodePayload()
        }
    }
    if let text = String(data: data, encoding: .utf8) {
        _ = try? Token(text)
        _ = Timestamp.parse(text)
    }
    return 0
}
