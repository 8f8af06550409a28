import Foundation
import LMDB
import Testing

@testable import EventStore

/// A page-like payload: JSON with repetitive prose, the way drafted content looks.
func pagePayload(paragraphs: Int) -> String {
    let sentences = [
        "Your activation is one step away.", "Review the agreement below before you sign.",
        "Payment of 500.00 EUR is due on activation.", "Questions? Reply to this email and we answer within a day.",
    ]
    let body = (0..<paragraphs).map { sentences[$0 % sentences.count] }.joined(separator: " ")
    return #"{"content":{"body":"\#(body)","title":"Activation"},"page_type":"activation"}"#
}

/// Bytes of printable noise that LZ4 cannot shorten.
func noise(_ count: Int, seed: UInt64) -> String {
    var state = seed
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return String((0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return alphabet[Int(state >> 33) % alphabet.count]
    })
}

@Suite("Log records")
struct RecordFormatTests {
    @Test("a new store is format 2: a page's payload is stored compressed and read back byte for byte")
    func compressedPayloads() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        #expect(store.format == 2)
        let payloads = [pagePayload(paragraphs: 60), "{}", #"{"noise":"\#(noise(1_000, seed: 7))"}"#, pagePayload(paragraphs: 3)]
        for payload in payloads { try store.append([event(payload: payload)], to: "s") }
        try store.read { session in
            for (index, payload) in payloads.enumerated() {
                let position = UInt64(index + 1)
                #expect(try session.event(at: position)?.payload == Array(payload.utf8))
                try session.withRecord(at: position) { view in
                    let view = try #require(view)
                    #expect(view.payloadLength == payload.utf8.count)
                    #expect(try view.withPayload { Array($0) } == Array(payload.utf8))
                    var appended: [UInt8] = [1, 2]
                    try view.appendPayload(to: &appended)
                    #expect(appended == [1, 2] + Array(payload.utf8))
                }
            }
            let sizes = try (1...UInt64(payloads.count)).map { position in
                try session.withRecord(at: position) { $0?.bytes.count ?? 0 }
            }
            let envelope = 112 + 3 + "Noted".utf8.count + "s".utf8.count + "admin".utf8.count
            #expect(sizes[0] < payloads[0].utf8.count / 3, "a long page compresses: \(sizes[0]) bytes for \(payloads[0].utf8.count)")
            #expect(sizes[1] == envelope + 2, "a short payload is stored as it is")
            #expect(sizes[2] == envelope + payloads[2].utf8.count, "a payload that does not compress is stored as it is")
            #expect(try session.verify() == UInt64(payloads.count))
        }
    }

    @Test("a payload compressed ahead of its append is stored byte for byte as the append stores it; one changed after is stored as changed")
    func compressedAhead() throws {
        let directory = try TemporaryDirectory()
        let time = Date(timeIntervalSince1970: 1_767_600_000)
        let payloads = [pagePayload(paragraphs: 60), "{}", #"{"noise":"\#(noise(1_000, seed: 7))"}"#, pagePayload(paragraphs: 3), String(repeating: "x", count: 127), String(repeating: "x", count: 128)]
        let events = payloads.map { event(payload: $0, at: time) }
        let inline = try EventStore(path: directory.path("inline")), ahead = try EventStore(path: directory.path("ahead"))
        for var event in events {
            try inline.append([event], to: "s")
            let plain = event
            event.compressPayload()
            #expect(event == plain, "compressed or not, the same event")
            try ahead.append([event], to: "s")
        }
        #expect(try snapshot(ahead)["log"] == (try snapshot(inline)["log"]))
        #expect(try snapshot(ahead)["log"]?.count == payloads.count)

        // The block made ahead is what the append stores: one made from another payload is read back.
        var swapped = event(payload: pagePayload(paragraphs: 40))
        swapped.compressed = Record.compress(Array(pagePayload(paragraphs: 41).utf8))
        let swappedAt = try ahead.append([swapped], to: "s").positions[0]
        #expect(try ahead.read { try $0.event(at: swappedAt)?.payload } == Array(pagePayload(paragraphs: 41).utf8))

        // Changing the payload drops what was compressed from the old one.
        var changed = event(payload: pagePayload(paragraphs: 50))
        changed.compressPayload()
        changed.payload = Array(pagePayload(paragraphs: 20).utf8)
        let position = try ahead.append([changed], to: "s").positions[0]
        let (stored, verified) = try ahead.read { session in (try session.event(at: position), try session.verify()) }
        #expect(stored?.payload == Array(pagePayload(paragraphs: 20).utf8))
        #expect(verified == position)
    }

    @Test("absent correlation and causation ids take no room; present ones read back")
    func optionalIDs() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        let correlation = UUID(), causation = UUID()
        let cases: [(UUID?, UUID?)] = [(nil, nil), (correlation, nil), (nil, causation), (correlation, causation)]
        for (c, k) in cases {
            try store.append([ProposedEvent(id: UUID(), type: "Noted", payload: Array("{}".utf8), correlationID: c, causationID: k)], to: "s")
        }
        try store.read { session in
            for (index, (c, k)) in cases.enumerated() {
                let recorded = try #require(try session.event(at: UInt64(index + 1)))
                #expect(recorded.correlationID == c && recorded.causationID == k)
                #expect(recorded.payload == Array("{}".utf8) && recorded.type == "Noted" && recorded.stream == "s")
                let size = try session.withRecord(at: UInt64(index + 1)) { $0?.bytes.count ?? 0 }
                #expect(size == 112 + (c == nil ? 0 : 16) + (k == nil ? 0 : 16) + 3 + 5 + 1 + 5 + 2)
            }
            #expect(try session.verify() == 4)
        }
    }

    @Test("a format-1 store keeps its format and record layout, and reads and verifies as before")
    func formatOneStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old")
        do {
            // A store as format 1 created it: the mark first, then records of layout 1.
            let environment = try Environment.open(at: path)
            let meta = try environment.database("meta")
            try environment.write { txn in try txn.put(meta, Array("format".utf8), withUnsafeBytes(of: UInt32(1).bigEndian) { Array($0) }) }
        }
        let payload = pagePayload(paragraphs: 40)
        let correlation = UUID()
        do {
            let store = try EventStore(path: path)
            #expect(store.format == 1)
            // Compressed ahead or not, a format-1 store keeps the payload as it is.
            var first = ProposedEvent(id: UUID(), type: "Noted", payload: Array(payload.utf8), correlationID: correlation)
            first.compressPayload()
            try store.append([first], to: "s")
            try store.append([event(payload: "{}")], to: "s")
        }
        let store = try EventStore(path: path)
        #expect(store.format == 1)
        try store.read { session in
            let first = try #require(try session.event(at: 1))
            #expect(first.payload == Array(payload.utf8) && first.correlationID == correlation && first.causationID == nil)
            let sizes = try (1...2 as ClosedRange<UInt64>).map { position in
                try session.withRecord(at: position) { view -> Int in
                    #expect(view?.bytes[32] == 1, "layout version 1")
                    return view?.bytes.count ?? 0
                }
            }
            #expect(sizes == [144 + 3 + 5 + 1 + 5 + payload.utf8.count, 144 + 3 + 5 + 1 + 5 + 2], "uncompressed, both ids' room kept")
            #expect(try session.verify() == 2)
        }
    }

    @Test("a compressed payload that does not decompress is refused as corrupt, by position, even when correctly hashed")
    func undecompressable() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<3 { try store.append([event(payload: pagePayload(paragraphs: 30))], to: "s") }
        let log = try store.environment.database("log")
        try store.environment.write { txn in
            let key = UInt64(2).bigEndianBytes
            var record = try #require(try txn.get(log, key))
            // One more byte than the block holds, then a fresh hash: the checksum holds, the payload does not.
            let stored = record.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 36, as: UInt32.self))) }
            record[record.count - stored] &+= 1
            record.withUnsafeMutableBytes { Record.seal($0) }
            try txn.put(log, key, record)
        }
        #expect(try store.read { try $0.withRecord(at: 2) { $0?.checksumIsValid } } == true)
        #expect { try store.read { try $0.event(at: 2) } } throws: { error in
            let error = error as? EventStoreError
            return error?.code == .corruptRecord && error?.position == 2 && error?.message.contains("decompress") == true
        }
        #expect(try store.read { try $0.event(at: 3)?.payload } == Array(pagePayload(paragraphs: 30).utf8))
        // A length past what its block could hold (up to 4 GiB), hashed afresh: corrupt, never allocated.
        for length in [UInt32.max, UInt32(Int32.max) + 1, 1 << 30] {
            try store.environment.write { txn in
                let key = UInt64(3).bigEndianBytes
                var record = try #require(try txn.get(log, key))
                let stored = record.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 36, as: UInt32.self))) }
                record.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, toByteOffset: $0.count - stored, as: UInt32.self) }
                record.withUnsafeMutableBytes { Record.seal($0) }
                try txn.put(log, key, record)
            }
            #expect { try store.read { try $0.event(at: 3) } } throws: { ($0 as? EventStoreError)?.code == .corruptRecord && ($0 as? EventStoreError)?.position == 3 }
            #expect { try store.read { try $0.verify() } } throws: { ($0 as? EventStoreError)?.position == 3 }
        }
    }
}
