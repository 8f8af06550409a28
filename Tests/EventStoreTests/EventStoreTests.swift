import Foundation
import LMDB
import Testing

@testable import EventStore

/// A directory that exists for one test and is removed after it.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("folio-log-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func event(_ type: String = "Noted", payload: String = "{}", id: UUID = UUID(), position: UInt64? = nil, at: Date? = nil) -> ProposedEvent {
    ProposedEvent(id: id, type: type, payload: Array(payload.utf8), recordedAt: at, position: position)
}

/// Every record and index of the log, to compare before and after a refused write.
func snapshot(_ store: EventStore) throws -> [String: [[UInt8]: [UInt8]]] {
    var out: [String: [[UInt8]: [UInt8]]] = [:]
    for name in ["meta", "log", "event_ids", "streams", "stream_heads", "types"] {
        let database = try store.environment.database(name)
        try store.environment.read { txn in
            try txn.withCursor(database) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    out[name, default: [:]][Array(current.key)] = Array(current.value)
                    entry = try cursor.next()
                }
            }
        }
    }
    return out
}

@Suite("The event log")
struct EventStoreTests {
    @Test("appends get gapless positions from 1 and stream versions from 1")
    func positions() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        let first = try store.append([event(), event()], to: "a", expected: .noStream)
        let second = try store.append([event()], to: "b", expected: .noStream)
        let third = try store.append([event()], to: "a", expected: .exactly(2))
        #expect(first.positions == [1, 2] && first.streamVersion == 2)
        #expect(second.positions == [3] && third.positions == [4] && third.streamVersion == 3)
        #expect(try store.head() == 4)
        #expect(try store.read { try $0.verify() } == 4)
    }

    @Test("a wrong expected version is refused and changes nothing", arguments: [ExpectedVersion.noStream, .exactly(1), .exactly(3)])
    func expectedVersion(expected: ExpectedVersion) throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        try store.append([event(), event()], to: "s")
        let before = try snapshot(store)
        #expect { try store.append([event()], to: "s", expected: expected) } throws: {
            ($0 as? EventStoreError)?.code == .wrongExpectedVersion
        }
        #expect(try snapshot(store) == before)
    }

    @Test("an event id already in the log is a no-op returning its stored position")
    func duplicateID() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        let id = UUID(), other = UUID()
        try store.append([event(id: id), event(id: other)], to: "s")
        let before = try snapshot(store)
        let again = try store.append([event(id: id)], to: "s", expected: .exactly(0))
        #expect(again.wasDuplicate && again.positions == [1])
        let batch = try store.append([event(id: id), event(id: other)], to: "s")
        #expect(batch.positions == [1, 2])
        #expect(try snapshot(store) == before)
        #expect { try store.append([event(id: id), event()], to: "s") } throws: { ($0 as? EventStoreError)?.code == .idConflict }
        #expect(try snapshot(store) == before)
        // Another event under a stored id is refused, not taken for a repeat and dropped.
        for other in [event("Other", id: id), event(payload: #"{"a":1}"#, id: id), ProposedEvent(id: id, type: "Noted", schemaVersion: 2, payload: Array("{}".utf8))] {
            #expect { try store.append([other], to: "s") } throws: {
                ($0 as? EventStoreError)?.code == .idConflict && "\($0)".contains("is the id of another event already in the log, at position 1")
            }
        }
        #expect { try store.append([event(id: id)], to: "t") } throws: { ($0 as? EventStoreError)?.code == .idConflict }
        #expect(try snapshot(store) == before)
    }

    @Test("an append at a taken or out-of-order position is refused and changes nothing", arguments: [1, 2, 5] as [UInt64])
    func positionConflict(position: UInt64) throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        try store.append([event(), event()], to: "s")
        let before = try snapshot(store)
        #expect { try store.append([event(position: position)], to: "s") } throws: { ($0 as? EventStoreError)?.code == .positionConflict }
        #expect(try snapshot(store) == before)
        try store.append([event(position: 3)], to: "s")
        #expect(try store.head() == 3)
    }

    @Test("recorded_at never goes backwards")
    func timeOrder() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        try store.append([event(at: Date(timeIntervalSince1970: 2_000))], to: "s")
        #expect { try store.append([event(at: Date(timeIntervalSince1970: 1_000))], to: "s") } throws: {
            ($0 as? EventStoreError)?.code == .timeWentBackwards
        }
    }

    @Test("an event given no time is recorded at the log's last time when the clock is behind it, and the lag is reported")
    func clockBehindLog() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        let ahead = Date().addingTimeInterval(3_600)
        let first = try store.append([event(at: ahead)], to: "s")
        #expect(first.aheadOfClock == nil, "a time given is kept as given")
        let second = try store.append([event()], to: "s")
        let lag = try #require(second.aheadOfClock)
        let times = try store.read { session in
            try [UInt64(1), 2].map { position in try session.withRecord(at: position) { try #require($0).recordedAtMicroseconds } }
        }
        #expect(times[1] == times[0] && lag.recorded == times[0])
        #expect(lag.clock < lag.recorded - 3_000_000_000, "the clock, an hour behind")
        // Once the clock is past the log's time again, events take the clock's time.
        let caughtUp = try EventStore(path: directory.path("caught-up"))
        try caughtUp.append([event(at: Date().addingTimeInterval(-60))], to: "s")
        #expect(try caughtUp.append([event()], to: "s").aheadOfClock == nil)
    }

    @Test("reads forward, backward, by stream and by type, without decoding payloads")
    func reads() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for index in 0..<10 {
            try store.append([event(index % 2 == 0 ? "Even" : "Odd", payload: #"{"n":\#(index)}"#)], to: "s\(index % 3)")
        }
        try store.read { session in
            var forward: [UInt64] = [], backward: [UInt64] = [], stream: [UInt64] = [], odd: [UInt64] = []
            try session.scan(from: 4) { forward.append($0.position); return true }
            try session.scan(from: 6, backward: true) { backward.append($0.position); return backward.count < 3 }
            try session.scan(stream: "s1") { stream.append($0.streamVersion); return true }
            try session.scan(type: "Odd", after: 4) { odd.append($0.position); return true }
            #expect(forward == Array(4...10))
            #expect(backward == [6, 5, 4])
            #expect(stream == [1, 2, 3])
            #expect(odd == [6, 8, 10])
            #expect(try session.version(ofStream: "s0") == 4)
            #expect(try session.event(at: 2)?.payload == Array(#"{"n":1}"#.utf8))
            #expect(try session.countsByType() == ["Even": 5, "Odd": 5])
        }
    }

    @Test("a batch of 10000 events commits in one transaction")
    func batch() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        let events = (0..<10_000).map { _ in event() }
        let result = try store.append(events, to: "bulk")
        #expect(result.positions.count == 10_000 && result.positions.last == 10_000)
        #expect(try store.read { try $0.verify() } == 10_000)
    }

    @Test("a bulk load writes the same records and indexes as appending event by event")
    func bulkLoad() throws {
        let directory = try TemporaryDirectory()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        // Streams whose names are prefixes of others, not ASCII, or the same text in two Unicode
        // forms (two streams to LMDB, one `String`), types of different lengths, batches, and a
        // repeated id: the indexes' key order is bytes, not append order.
        var appends: [(stream: String, events: [ProposedEvent])] = []
        for index in 0..<600 {
            let stream = ["a", "ab", "b", "\u{E9}", "e\u{301}", "client-\(index % 37)", "z\(index % 5)"][(index * 5 + index / 7) % 7]
            let count = index % 50 == 0 ? 3 : 1
            let events = (0..<count).map { offset in
                event(["Noted", "N", "NotedAgain", "Ö"][(index + offset) % 4], payload: "{\"n\":\(index)}", at: start.addingTimeInterval(Double(index)))
            }
            appends.append((stream, events))
        }
        appends.append((appends[7].stream, appends[7].events))

        let plain = try EventStore(path: directory.path("plain"))
        for (stream, events) in appends { try plain.append(events, to: stream) }

        let bulk = try EventStore(path: directory.path("bulk"))
        try bulk.write { session in
            try session.beginBulkLoad()
            var versions: [[UInt8]: UInt64] = [:]
            for (stream, events) in appends {
                let key = Array(stream.utf8)
                let result = try session.append(events, to: stream, expected: .exactly(versions[key] ?? 0))
                if !result.wasDuplicate { versions[key, default: 0] += UInt64(events.count) }
                // What the load holds so far is found, as the log would find it.
                #expect(try session.version(ofStream: stream) == versions[key])
                #expect(try session.position(ofEvent: events[0].id) == result.positions[0])
            }
            #expect(throws: EventStoreError.self) { try session.append([event()], to: "a", expected: .exactly(0)) }
            try session.finishBulkLoad()
        }
        #expect(try snapshot(bulk) == snapshot(plain))
        #expect(try bulk.read { try $0.verify() } == UInt64(appends.dropLast().reduce(0) { $0 + $1.events.count }))
        // Appends after the load go on where it ended.
        try bulk.append([event(at: start.addingTimeInterval(1_000))], to: "ab")
        try plain.append([event(at: start.addingTimeInterval(1_000))], to: "ab")
        #expect(try bulk.read { try $0.version(ofStream: "ab") } == plain.read { try $0.version(ofStream: "ab") })

        // One id twice in a batch is refused, as outside a bulk load.
        let twice = event()
        let refused = try EventStore(path: directory.path("refused"))
        #expect { try refused.write { session in
            try session.beginBulkLoad()
            try session.append([twice, twice], to: "a")
        } } throws: { ($0 as? EventStoreError)?.code == .idConflict }
        #expect(throws: (any Error).self) { try plain.append([twice, twice], to: "c") }
    }

    @Test("a bulk load is refused into a log that holds events")
    func bulkLoadNeedsEmptyLog() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        try store.append([event()], to: "a")
        #expect { try store.write { try $0.beginBulkLoad() } } throws: { ($0 as? EventStoreError)?.code == .notEmpty }
    }

    @Test("a changed byte in a stored record is found, by position")
    func tamperedByte() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<5 { try store.append([event(payload: #"{"amount":50000}"#)], to: "s") }
        let log = try store.environment.database("log")
        try store.environment.write { txn in
            let key = UInt64(3).bigEndianBytes
            var record = try #require(try txn.get(log, key))
            record[record.count - 3] ^= 0x04
            try txn.put(log, key, record)
        }
        #expect { try store.read { try $0.verify() } } throws: { ($0 as? EventStoreError)?.position == 3 }
        #expect { try store.read { try $0.event(at: 3) } } throws: { ($0 as? EventStoreError)?.code == .corruptRecord }
        var seen: [UInt64] = []
        #expect { try store.read { try $0.scan(verify: true) { seen.append($0.position); return true } } } throws: {
            ($0 as? EventStoreError)?.position == 3
        }
        #expect(seen == [1, 2])
        // A scan from the record after it reads the hash it states, which the next links to.
        var after: [UInt64] = []
        try store.read { try $0.scan(from: 4, verify: true) { after.append($0.position); return true } }
        #expect(after == [4, 5])
        // A stream read after a position passes over the records before it unread.
        var streamAfter: [UInt64] = []
        try store.read { try $0.scan(stream: "s", after: 3) { streamAfter.append($0.position); return true } }
        #expect(streamAfter == [4, 5])
        #expect { try store.read { try $0.scan(stream: "s", after: 2) { _ in true } } } throws: { ($0 as? EventStoreError)?.position == 3 }
        var streamThrough: [UInt64] = []
        try store.read { try $0.scan(stream: "s", through: 2) { streamThrough.append($0.position); return true } }
        #expect(streamThrough == [1, 2])
        // Its stated hash changed, the next record's link fails: the record is named, not the link.
        try store.environment.write { txn in
            var record = try #require(try txn.get(log, UInt64(3).bigEndianBytes))
            record[0] ^= 0x01
            try txn.put(log, UInt64(3).bigEndianBytes, record)
        }
        #expect { try store.read { try $0.scan(from: 4, verify: true) { _ in true } } } throws: {
            ($0 as? EventStoreError)?.position == 3 && ($0 as? EventStoreError)?.message.contains("hash chain") == false
        }
        // Cut short, it holds no hash where its form says: named as itself, not read past its end.
        try store.environment.write { txn in try txn.put(log, UInt64(3).bigEndianBytes, [1, 2, 3, 4, 5]) }
        #expect { try store.read { try $0.scan(from: 4, verify: true) { _ in true } } } throws: {
            ($0 as? EventStoreError)?.position == 3 && ($0 as? EventStoreError)?.message.contains("hash chain") == false
        }
    }

    @Test("a re-hashed record that does not link to its predecessor breaks the chain there")
    func brokenChain() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<4 { try store.append([event()], to: "s") }
        let forged = try store.read { session -> [UInt8] in
            let original = try #require(try session.event(at: 2))
            return Record.encode(
                Record.Fields(
                    id: original.id, position: 2, stream: original.stream, streamVersion: 2, type: original.type,
                    schemaVersion: 1, recordedAt: original.recordedAtMicroseconds, actor: original.actor,
                    correlationID: nil, causationID: nil, previousHash: Record.zeroHash
                ),
                payload: Array(#"{"forged":true}"#.utf8)
            )
        }
        let log = try store.environment.database("log")
        try store.environment.write { txn in try txn.put(log, UInt64(2).bigEndianBytes, forged) }
        #expect { try store.read { try $0.verify() } } throws: { error in
            let error = error as? EventStoreError
            return error?.position == 2 && error?.message.contains("hash chain") == true
        }
    }

    @Test("a last record sealed again with its stream's version out of step, or with an earlier record's event id, is named by verify", arguments: [false, true])
    func resealedLastRecord(reusingID: Bool) throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<4 { try store.append([event()], to: "s") }
        let forged = try store.read { session -> [UInt8] in
            let first = try #require(try session.event(at: 1))
            let last = try #require(try session.event(at: 4))
            return Record.encode(
                Record.Fields(
                    id: reusingID ? first.id : last.id, position: 4, stream: last.stream, streamVersion: reusingID ? 4 : 7, type: last.type,
                    schemaVersion: last.schemaVersion, recordedAt: last.recordedAtMicroseconds, actor: last.actor,
                    correlationID: nil, causationID: nil, previousHash: try session.previousHash(before: 4)
                ),
                payload: last.payload
            )
        }
        let log = try store.environment.database("log")
        let meta = try store.environment.database("meta")
        try store.environment.write { txn in
            try txn.put(log, UInt64(4).bigEndianBytes, forged)
            try txn.put(meta, Array("head".utf8), UInt64(4).bigEndianBytes + Array(forged.withUnsafeBytes { RecordView($0).hash }))
        }
        let says = reusingID ? "record 4 has event id " : "record 4 is version 7 of stream s, whose previous record is version 3"
        #expect { try store.read { try $0.verify() } } throws: { error in
            let error = error as? EventStoreError
            return error?.code == .corruptRecord && error?.position == 4 && error?.message.hasPrefix(says) == true
        }
    }

    @Test("a log key or an index entry of the wrong size (a damaged page) is named, not read past its end")
    func wrongSizes() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<3 { try store.append([event()], to: "s") }
        let log = try store.environment.database("log")
        let heads = try store.environment.database("stream_heads")
        try store.environment.write { txn in
            try txn.put(log, [0, 0, 0, 0, 0, 0, 9], [UInt8](repeating: 1, count: 200))
            try txn.put(heads, Array("s".utf8), [0, 3])
        }
        func named(_ what: String, bytes: Int) -> (any Error) -> Bool {
            { ($0 as? EventStoreError)?.code == .corruptRecord && "\($0)".contains("\(what) is \(bytes) bytes where a position takes 8") }
        }
        #expect(performing: { try store.read { try $0.verify() } }, throws: named("a key of the log", bytes: 7))
        #expect(performing: { try store.read { try $0.scan(verify: true) { _ in true } } }, throws: named("a key of the log", bytes: 7))
        #expect(performing: { try store.head() }, throws: named("the log's last key", bytes: 7))
        #expect(performing: { try store.read { try $0.version(ofStream: "s") } }, throws: named("the stream heads' entry for s", bytes: 2))
        let types = try store.environment.database("types")
        try store.environment.write { txn in try txn.put(types, Array("ab".utf8), [UInt8]()) }
        #expect(performing: { try store.read { try $0.countsByType() } }, throws: { error in
            (error as? EventStoreError)?.code == .corruptRecord && "\(error)".contains("a key of the type index is 2 bytes")
        })
    }

    @Test("no position comes after the largest one: a scan after it visits nothing")
    func scanAfterLast() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        try store.append([event("Noted")], to: "s")
        var visited = 0
        try store.read { try $0.scan(type: "Noted", after: .max) { _ in visited += 1; return true } }
        try store.read { try $0.scan(type: "Noted", after: 0) { _ in visited += 10; return true } }
        #expect(visited == 10)
    }

    @Test("removing the last record is found through the head mark")
    func truncated() throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<3 { try store.append([event()], to: "s") }
        let log = try store.environment.database("log")
        try store.environment.write { txn in _ = try txn.delete(log, UInt64(3).bigEndianBytes) }
        #expect { try store.read { try $0.verify() } } throws: { ($0 as? EventStoreError)?.code == .corruptRecord }
    }

    enum HeadDamage: String, CaseIterable { case lastRecordRemoved, lastRecordReplaced, lastRecordChanged, previousHashChanged, markAhead, markRemoved, allRemoved }

    @Test("an append is refused where the head mark does not name the log's last record, and changes nothing: it would take that record's place for good", arguments: HeadDamage.allCases)
    func appendAfterLostHead(damage: HeadDamage) throws {
        let directory = try TemporaryDirectory()
        let store = try EventStore(path: directory.path("log"))
        for _ in 0..<3 { try store.append([event()], to: "s") }
        let log = try store.environment.database("log"), meta = try store.environment.database("meta")
        let headKey = Array("head".utf8)
        let original = try #require(try store.read { try $0.event(at: 3) })
        try store.environment.write { txn in
            switch damage {
            case .lastRecordRemoved: _ = try txn.delete(log, UInt64(3).bigEndianBytes)
            case .lastRecordReplaced:
                // Sealed and linked as a record is, but not the one the mark names.
                let previous = try #require(try txn.get(log, UInt64(2).bigEndianBytes))
                let forged = Record.encode(
                    Record.Fields(
                        id: original.id, position: 3, stream: "s", streamVersion: 3, type: original.type, schemaVersion: 1,
                        recordedAt: original.recordedAtMicroseconds, actor: original.actor, correlationID: nil, causationID: nil,
                        previousHash: Array(previous[0..<32])
                    ),
                    payload: Array(#"{"forged":true}"#.utf8)
                )
                try txn.put(log, UInt64(3).bigEndianBytes, forged)
            case .lastRecordChanged:
                // Past its stated hash, which the mark still matches.
                var record = try #require(try txn.get(log, UInt64(3).bigEndianBytes))
                record[record.count - 1] ^= 0x01
                try txn.put(log, UInt64(3).bigEndianBytes, record)
            case .previousHashChanged:
                // The record before the last states another hash: the last one's link fails.
                var record = try #require(try txn.get(log, UInt64(2).bigEndianBytes))
                record[0] ^= 0x01
                try txn.put(log, UInt64(2).bigEndianBytes, record)
            case .markAhead:
                var mark = try #require(try txn.get(meta, headKey))
                mark[7] += 1
                try txn.put(meta, headKey, mark)
            case .markRemoved: _ = try txn.delete(meta, headKey)
            case .allRemoved: for position in UInt64(1)...3 { _ = try txn.delete(log, position.bigEndianBytes) }
            }
        }
        func state() throws -> ([UInt8]?, UInt64) { (try store.environment.read { try $0.get(meta, headKey) }, try store.read { try $0.head() }) }
        let before = try state()
        #expect { try store.append([event()], to: "t") } throws: { error in
            let error = error as? EventStoreError
            let said = [.lastRecordChanged, .previousHashChanged].contains(damage) ? "the log's last record, 3, fails its checksum or its link" : "the head mark "
            return error?.code == .corruptRecord && error?.message.hasPrefix("the store is damaged: \(said)") == true
                && error?.message.contains("nothing was written") == true
        }
        let after = try state()
        #expect(after.0 == before.0 && after.1 == before.1)
        if ![.lastRecordChanged, .previousHashChanged].contains(damage) {
            #expect { try store.read { try $0.checkHeadMark() } } throws: { ($0 as? EventStoreError)?.code == .corruptRecord }
        }
        #expect { try store.read { try $0.verify() } } throws: { ($0 as? EventStoreError)?.code == .corruptRecord }
    }

    @Test("a store written by a newer storage format is refused, and left as it was")
    func newerFormat() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try EventStore(path: directory.path("log"))
            try store.append([event()], to: "s")
            let meta = try store.environment.database("meta")
            try store.environment.write { txn in try txn.put(meta, Array("format".utf8), withUnsafeBytes(of: (EventStore.formatVersion + 1).bigEndian) { Array($0) }) }
        }
        // One environment per path per process: a copy opens as a fresh environment.
        try FileManager.default.copyItem(atPath: directory.path("log"), toPath: directory.path("copy"))
        let before = try Data(contentsOf: URL(fileURLWithPath: directory.path("copy") + "/data.mdb"))
        #expect { _ = try EventStore(path: directory.path("copy")) } throws: { error in
            let error = error as? EventStoreError
            return error?.code == .newerFormat && error?.message.contains("format \(EventStore.formatVersion + 1)") == true
                && error?.message.contains("format \(EventStore.formatVersion) at most") == true
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("copy") + "/data.mdb")) == before)
    }

    @Test("a directory holding another LMDB environment is not taken for a store")
    func notAStore() throws {
        let directory = try TemporaryDirectory()
        let environment = try Environment.open(at: directory.path("other"))
        let table = try environment.database("accounts")
        try environment.write { txn in try txn.put(table, Array("k".utf8), Array("v".utf8)) }
        try FileManager.default.copyItem(atPath: directory.path("other"), toPath: directory.path("copy"))
        #expect { _ = try EventStore(path: directory.path("copy")) } throws: { ($0 as? EventStoreError)?.code == .notAStore }
    }

    @Test("a new store's databases commit with its format mark; a store whose making stopped between them (as an earlier Folio could leave it) is made anew; a `meta` holding something else is still not a store")
    func unfinishedStore() throws {
        struct Stopped: Error {}
        let directory = try TemporaryDirectory()
        // What must commit with the databases made: when it fails, none is made.
        let fresh = try Environment.open(at: directory.path("fresh"))
        #expect(throws: Stopped.self) { try fresh.databases(["meta", "log"]) { _, _ in throw Stopped() } }
        #expect(try !fresh.hasNamedDatabases())
        // The log's databases without the mark, as a process stopped between two transactions left them.
        let made = try Environment.open(at: directory.path("made"))
        let meta = try made.databases(["meta", "log", "event_ids", "streams", "stream_heads", "types"])[0]
        try FileManager.default.copyItem(atPath: directory.path("made"), toPath: directory.path("unfinished"))
        let store = try EventStore(path: directory.path("unfinished"))
        #expect(store.format == EventStore.formatVersion)
        try store.append([event()], to: "s")
        let reopened = directory.path("reopened")
        try FileManager.default.copyItem(atPath: directory.path("unfinished"), toPath: reopened)
        #expect(try EventStore(path: reopened).head() == 1)
        // Anything more is another program's environment, left as it is.
        let users = try made.database("users")
        try FileManager.default.copyItem(atPath: directory.path("made"), toPath: directory.path("foreign"))
        try made.write { txn in try txn.put(users, Array("ada".utf8), Array("v".utf8)) }
        try FileManager.default.copyItem(atPath: directory.path("made"), toPath: directory.path("used"))
        try made.write { txn in
            _ = try txn.delete(users, Array("ada".utf8))
            try txn.put(meta, Array("other".utf8), Array("v".utf8))
        }
        try FileManager.default.copyItem(atPath: directory.path("made"), toPath: directory.path("other"))
        for name in ["foreign", "used", "other"] {
            let before = try Data(contentsOf: URL(fileURLWithPath: directory.path(name) + "/data.mdb"))
            #expect { _ = try EventStore(path: directory.path(name)) } throws: { ($0 as? EventStoreError)?.code == .notAStore }
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path(name) + "/data.mdb")) == before, "\(name)")
        }
    }

    @Test("an acknowledged append survives its process being killed right after")
    func survivesKill() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("log")
        let process = Process()
        process.executableURL = try workerURL()
        process.arguments = ["append", "--store", path, "--stream", "kill", "--count", "100000"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var acknowledged: [String] = []
        var buffer = Data()
        while acknowledged.count < 20 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            acknowledged = String(decoding: buffer, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).dropLast().map(String.init)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(acknowledged.count >= 20)
        let store = try EventStore(path: path)
        let head = try store.read { try $0.verify() }
        #expect(head >= UInt64(acknowledged.count))
        try store.read { session in
            for id in acknowledged {
                let position = try UUID(uuidString: id).flatMap { try session.position(ofEvent: $0) }
                #expect(position != nil, "acknowledged event \(id) is missing")
            }
        }
    }

    @Test("two processes appending at once: every event once, positions gapless, each stream in order")
    func twoWriters() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("log")
        _ = try EventStore(path: path)
        let count = 200
        let processes = try ["left", "right"].map { stream in
            let process = Process()
            process.executableURL = try workerURL()
            process.arguments = ["append", "--store", path, "--stream", stream, "--count", String(count)]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            return (process, out)
        }
        var ids: [String] = []
        for (process, out) in processes {
            ids += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let store = try EventStore(path: path)
        #expect(Set(ids).count == 2 * count)
        try store.read { session in
            #expect(try session.verify() == UInt64(2 * count))
            for stream in ["left", "right"] {
                var versions: [UInt64] = []
                try session.scan(stream: stream) { versions.append($0.streamVersion); return true }
                #expect(versions == Array(1...UInt64(count)))
            }
        }
    }
}

func workerURL() throws -> URL {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" {
        url.deleteLastPathComponent()
        let candidate = url.appendingPathComponent("Worker")
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
    }
    throw EventStoreError(.notAStore, "the Worker executable was not found beside the tests; run `swift build --build-tests` first")
}
