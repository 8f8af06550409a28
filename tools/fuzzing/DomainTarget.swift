// A libFuzzer target over the Domain module's parsers, compiled together with Sources/Domain by
// tools/fuzzing/libfuzzer: content and metadata (JSONValue.parse), stored payloads of every event
// type (Event.decode, then validate and encode again), tokens and timestamps; and, differentially,
// that an object with its `content` left raw is accepted exactly when it parses, to the same value,
// that a payload read in one pass (`StreamedPayload`) is the event its parsed fields give, and that
// bytes `JSONParser.isCanonical` vouches for are written back the same after parsing.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let value = try? JSONValue.parse(data) { _ = value.canonicalJSON() }
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
        let whole = try? JSONParser.parse(bytes)
        if JSONParser.isCanonical(bytes, maxDepth: 64) {
            precondition(whole?.canonicalBytes() == Array(bytes), "isCanonical vouched for bytes that are not canonical")
        }
        let split = try? JSONParser.parseObject(bytes, rawKey: "content")
        guard case .object(var fields)? = whole else {
            // The raw member, skipped, is not searched for a key twice in one of its objects.
            precondition(split == nil || holdsDuplicateKey(bytes), "parseObject accepted what parse refuses or reads as no object")
            return
        }
        guard let split else { preconditionFailure("parseObject refused an object that parses") }
        let content = fields.removeValue(forKey: "content")
        precondition(split.fields == fields, "parseObject read other members differently")
        precondition(content == split.raw.map { try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[$0])) } ?? nil,
                     "the raw member is not the member's value")
    }
    let types = EventType.allCases
    let type = types[count % types.count]
    // A payload read in one pass, as any type, is read the same through its parsed fields.
    for type in types {
        guard let streamed = data.withUnsafeBytes({ StreamedPayload.event(type, $0) }) else { continue }
        let parsed = try? Event.decodeParsing(type: type, schemaVersion: type.currentSchemaVersion, payload: data)
        // Members read in one pass but not kept are skipped, not searched for a key twice.
        precondition(parsed == streamed || data.withUnsafeBytes(holdsDuplicateKey),
                     "a \(type.rawValue) payload read in one pass reads otherwise through its fields")
    }
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

/// Whether parsing `bytes` fails on a key twice in one object, which a reading that skips a value
/// does not look for (stored payloads, canonical, never hold one).
func holdsDuplicateKey(_ bytes: UnsafeRawBufferPointer) -> Bool {
    do {
        _ = try JSONParser.parse(bytes)
        return false
    } catch {
        if case .duplicateKey = error { return true }
        return false
    }
}
