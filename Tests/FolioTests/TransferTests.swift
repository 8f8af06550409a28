import Crypto
import Domain
import EventStore
import Folio
import Foundation
import LMDB
import Projections
import SystemPackage
import Testing

@Suite("Import and export")
struct TransferTests {
    /// An exported line's event: the line without the hash and the marks export adds after it.
    static func event(_ line: Substring) -> String {
        String(line[..<line.range(of: #","hash":"#)!.lowerBound]) + "}"
    }

    /// A generated history written to a file.
    func history(_ directory: TemporaryDirectory, clients: Int = 6, seed: UInt64 = 42) throws -> String {
        try writeHistory(in: directory, HistoryGenerator(seed: seed, clients: clients, contentBytes: 500...2_000))
    }

    @Test("folio log refuses a record that fails its checksum, by position, whichever filters it is read through")
    func logRefusesTamperedRecord() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let client = try activeClient(store)
        let database = try store.log.environment.database("log")
        try store.log.environment.write { txn in
            let key = withUnsafeBytes(of: UInt64(2).bigEndian) { Array($0) }
            var record = try #require(try txn.get(database, key))
            record[record.count - 2] ^= 0x01
            try txn.put(database, key, record)
        }
        let out = try FileDescriptor.open("/dev/null", .writeOnly)
        defer { try? out.close() }
        let reads: [(after: UInt64, limit: Int?, type: String?, client: String?)] = [
            (0, nil, nil, nil), (1, 1, nil, nil), (0, nil, "TokenIssued", nil), (0, nil, nil, client.token),
        ]
        for read in reads {
            do {
                let count = try store.writeLog(to: out, after: read.after, limit: read.limit, type: read.type, client: read.client)
                Issue.record("\(read): printed \(count) events past a tampered record")
            } catch let error as FolioError {
                #expect(error.message.contains("record 2"), "\(read): \(error.message)")
            }
        }
        // Reads that end before the bad record, or start after it, still print.
        #expect(try store.writeLog(to: out, limit: 1) == 1)
        #expect(try store.writeLog(to: out, after: 2) == 1)
    }

    @Test("folio log stops at a record whose payload does not decompress, though its checksum and link hold, having printed every whole line before it; what it printed imports")
    func logStopsAtUndecompressiblePayload() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, noSync: true)
        // Metadata long enough for each payload to be stored compressed.
        let note: JSONValue = .object(["note": .string(String(repeating: "a long and repetitive note ", count: 10))])
        for name in ["Ann", "Bob", "Cy"] { _ = try store.createClient(name: name, email: nil, metadata: note) }
        let environment = store.log.environment
        let (records, meta) = (try environment.database("log"), try environment.database("meta"))
        // The length the last record's LZ4 block states for its payload is changed, and the record
        // sealed again with its head mark, as a writer at fault would have written it.
        try environment.write { txn in
            let key = withUnsafeBytes(of: UInt64(3).bigEndian) { Array($0) }
            var record = try #require(try txn.get(records, key))
            #expect(record[33] & 4 != 0, "the payload is stored compressed")
            let stored = Int(record[36]) | Int(record[37]) << 8 | Int(record[38]) << 16 | Int(record[39]) << 24
            record[record.count - stored] &+= 1
            let hash = Array(SHA256.hash(data: record[32...]))
            record.replaceSubrange(0..<32, with: hash)
            try txn.put(records, key, record)
            try txn.put(meta, Array("head".utf8), key + hash)
        }
        #expect(try store.log.read { try $0.verify() } == 3, "every checksum and link holds")
        let file = directory.path("log.jsonl")
        let out = try FileDescriptor.create(file)
        #expect {
            try out.closeAfter { _ = try store.writeLog(to: out) }
        } throws: {
            ($0 as? FolioError)?.message.hasPrefix("record 3's payload does not decompress") == true
        }
        let printed = try String(contentsOfFile: file, encoding: .utf8)
        #expect(printed.hasSuffix("}\n") && printed.split(separator: "\n").count == 2, "\(printed.suffix(300))")
        #expect(try Store.importLog(from: file, intoNewStoreAt: directory.path("restored")).events == 2)
    }

    @Test("what imports stopped outright left beside a new store's path or inside its directory is removed, an empty unlocked claim once a minute old; a name an import does not give, other files inside, a link and another path's are not")
    func abandonedImports() throws {
        let directory = try TemporaryDirectory()
        let fm = FileManager.default
        /// A directory holding `files`, as an import killed outright leaves one (no process holds it).
        func make(_ path: String, holding files: [String] = ["data.mdb", "lock.mdb"]) throws -> String {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            for file in files { #expect(fm.createFile(atPath: path + "/" + file, contents: Data())) }
            return path
        }
        func id() -> String { UUID().uuidString.lowercased() }
        let into = try make(directory.path("into"), holding: [])
        let inside = try make(into + "/.importing-" + id())
        let beside = try make(directory.path("restored.importing-" + id()))
        let left = [
            try make(into + "/.importing-" + id(), holding: ["data.mdb", "notes.txt"]),
            try make(into + "/.importing-backup"),
            try make(into + "/.importing-" + id().uppercased()),
            try make(directory.path("restored-old.importing-" + id())),
            try make(directory.path("elsewhere")),
        ]
        let link = into + "/.importing-" + id()
        #expect(symlink(directory.path("elsewhere"), link) == 0)
        // A claim left empty by an import stopped before it renamed it, once a minute old; a
        // younger one may be an import's about to lock it, one holding a file is not a claim.
        func aged(_ path: String) throws -> String {
            try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -120)], ofItemAtPath: path)
            return path
        }
        let claim = try aged(make(into + "/.claiming-" + id(), holding: []))
        let claimBeside = try aged(make(directory.path("restored.claiming-" + id()), holding: []))
        let claims = [
            try make(into + "/.claiming-" + id(), holding: []),
            try aged(make(into + "/.claiming-" + id(), holding: ["data.mdb"])),
            try aged(make(into + "/.claiming-" + id(), holding: [])),
        ]
        // The last is held, as an import that made it holds it until it renames it.
        let held = open(claims[2], O_RDONLY | O_DIRECTORY)
        #expect(held >= 0 && flock(held, LOCK_EX | LOCK_NB) == 0)
        defer { close(held) }
        #expect(Store.removeAbandonedImports(into: into) == [inside, claim])
        #expect(Store.removeAbandonedImports(into: directory.path("restored")) == [beside, claimBeside])
        for path in [inside, beside, claim, claimBeside] { #expect(!fm.fileExists(atPath: path), "\(path)") }
        for path in left + claims + [link] { #expect(fm.fileExists(atPath: path), "\(path)") }
    }

    @Test("an import that cannot make its staging directory says why, as mkdir(2) does, and leaves nothing")
    func stagingRefused() throws {
        let directory = try TemporaryDirectory()
        let file = try history(directory)
        // A name the store itself could take, but not with a staging suffix.
        let path = directory.path(String(repeating: "s", count: 240))
        #expect { _ = try Store.importLog(from: file, intoNewStoreAt: path) } throws: {
            let message = ($0 as? FolioError)?.message ?? ""
            return message.hasPrefix("cannot make \(path).claiming-") && message.hasSuffix(": File name too long")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).sorted() == [URL(fileURLWithPath: file).lastPathComponent])
    }

    @Test("the generator is deterministic: the same seed writes the same lines")
    func deterministic() throws {
        let a = try TemporaryDirectory(), b = try TemporaryDirectory()
        let first = try String(contentsOfFile: try history(a), encoding: .utf8)
        #expect(first == (try String(contentsOfFile: try history(b), encoding: .utf8)))
        #expect(first != (try String(contentsOfFile: try history(a, seed: 43), encoding: .utf8)))
    }

    @Test("the generator writes every version's content within the sizes asked for, as stored", arguments: [1_500...1_600, 3_000...9_000, 20_000...50_000])
    func contentSizes(range: ClosedRange<Int>) throws {
        let directory = try TemporaryDirectory()
        let file = try writeHistory(in: directory, HistoryGenerator(seed: 5, clients: 6, contentBytes: range))
        var sizes: [Int] = []
        for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
            let parsed = try EventLine.parse(line.utf8, number: 1)
            guard parsed.type == EventType.versionDrafted.rawValue,
                  case .versionDrafted(let drafted) = try Event.decode(type: .versionDrafted, schemaVersion: Int(parsed.schemaVersion), payload: parsed.data)
            else { continue }
            sizes.append(drafted.content.bytes.count)
        }
        #expect(sizes.count > 20)
        #expect(sizes.allSatisfy(range.contains), "\(sizes.filter { !range.contains($0) })")
    }

    @Test("importing an export reproduces the log event for event, and exporting again gives the same lines")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        let source = try makeStore(directory, name: "source")
        let report = try source.importLog(from: try history(directory))
        #expect(report.events > 50)
        let exported = try exportText(source)
        let file = directory.path("export.jsonl")
        try exported.write(toFile: file, atomically: true, encoding: .utf8)
        let copy = try makeStore(directory, name: "copy")
        _ = try copy.importLog(from: file)
        #expect(try exportText(copy) == exported)
        let (a, b) = (try source.projections.read { try $0.dump() }, try copy.projections.read { try $0.dump() })
        #expect(a == b)
    }

    @Test("an export's lines carry a chain of digests of their events and the export's last position; an import refuses a line changed since, lines of two exports and a file cut short, making nothing, and takes the file once its digests are removed")
    func exportMarks() throws {
        let directory = try TemporaryDirectory()
        let source = try makeStore(directory, name: "source", noSync: true)
        _ = try source.importLog(from: try history(directory))
        let lines = try exportText(source).split(separator: "\n").map(String.init)
        // Each digest is the SHA-256 of the one before (32 zero bytes before the first) and the
        // SHA-256 of the line's event as written, without the marks.
        var previous = [UInt8](repeating: 0, count: 32)
        for line in lines {
            previous = Array(SHA256.hash(data: previous + Array(SHA256.hash(data: Array(Self.event(Substring(line)).utf8)))))
            let digest = previous.map { String(format: "%02x", $0) }.joined()
            #expect(line.hasSuffix(#","digest":"\#(digest)","last_position":\#(lines.count)}"#), "\(line)")
        }
        let restored = directory.path("restored")
        func refusal(_ changed: [String]) throws -> String? {
            let file = directory.path("changed.jsonl")
            try (changed.joined(separator: "\n") + "\n").write(toFile: file, atomically: false, encoding: .utf8)
            do {
                _ = try Store.importLog(from: file, intoNewStoreAt: restored)
                return nil
            } catch let error as FolioError {
                #expect(!FileManager.default.fileExists(atPath: restored))
                return error.message
            }
        }
        // A client's name changed by hand.
        var edited = lines
        edited[0] = edited[0].replacingOccurrences(of: #""name":""#, with: #""name":"Renamed "#)
        #expect(edited[0] != lines[0])
        #expect(try refusal(edited)?.hasPrefix("line 1: digest does not follow from the line's event and the digest of the line before it") == true)
        // Lines of two exports of as many events, each line as exported: two clients made in each store.
        let (one, two) = (try makeStore(directory, name: "one", noSync: true), try makeStore(directory, name: "two", noSync: true))
        for store in [one, two] {
            for name in ["Ann", "Bob"] { _ = try store.createClient(name: name, email: nil) }
        }
        let (first, second) = (try exportText(one).split(separator: "\n"), try exportText(two).split(separator: "\n"))
        #expect(try refusal([String(first[0]), String(second[1])])?.hasPrefix("line 2: digest does not follow from the line's event and the digest of the line before it") == true)
        #expect(try refusal([String(first[0]), String(first[1])]) == nil)
        try FileManager.default.removeItem(atPath: restored)
        // Lines written otherwise (keys sorted, slashes escaped), read by the slow path, keep their digests.
        let rewritten = try lines.map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(rewritten.allSatisfy { $0.hasPrefix(#"{"actor":"#) })
        #expect(try refusal(rewritten) == nil)
        #expect(try exportText(try Store(path: restored)) == lines.joined(separator: "\n") + "\n")
        try FileManager.default.removeItem(atPath: restored)
        // A file cut short at a line's end.
        #expect(try refusal(Array(lines.dropLast(2)))?.hasPrefix("line \(lines.count - 2): the file ends here, at position \(lines.count - 2), where its lines say their export ends at position \(lines.count): it was cut short, 2 events missing; export the store again, or ") == true)
        // Its digests removed, as the refusal says, the edited file imports as it stands.
        #expect(try refusal(edited.map { $0.replacingOccurrences(of: #","digest":"[0-9a-f]{64}""#, with: "", options: .regularExpression) }) == nil)
        let names = try Store(path: restored).projections.read { try $0.clients() }.map(\.name)
        #expect(names.filter { $0.hasPrefix("Renamed ") }.count == 1)
    }

    @Test("an actor holding quotes, a backslash and control characters comes back from an export as it was written, a JSON string that reads as that actor")
    func actorEscapes() throws {
        let directory = try TemporaryDirectory()
        let client = UUID().uuidString.lowercased()
        let line = #"{"id":"\#(UUID().uuidString.lowercased())","position":1,"stream":"client-\#(client)","stream_version":1,"type":"ClientCreated","schema_version":2,"recorded_at":"2026-01-05T09:00:00.000000Z","actor":"O\"Brien \\ ops\r\n\tteam\u0001","correlation_id":null,"causation_id":null,"data":{"client_id":"\#(client)","email":null,"metadata":{},"name":"Ann"}}"#
        let file = directory.path("actor.jsonl")
        try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let store = try makeStore(directory)
        #expect(try store.importLog(from: file).events == 1)
        let exported = try exportText(store).split(separator: "\n").map(Self.event)
        #expect(exported == [line])
        let object = try JSONSerialization.jsonObject(with: Data(try #require(exported.first).utf8)) as? [String: Any]
        #expect(object?["actor"] as? String == "O\"Brien \\ ops\r\n\tteam\u{1}")
    }

    @Test("a correlation or causation id that is no UUID is refused by its key, not imported as null")
    func envelopeIDsRefused() throws {
        let directory = try TemporaryDirectory()
        let client = UUID().uuidString.lowercased()
        for key in ["correlation_id", "causation_id"] {
            for value in [#""req-42""#, #""\#(client)x""#, "7"] {
                let line = #"{"id":"\#(UUID().uuidString.lowercased())","position":1,"stream":"client-\#(client)","stream_version":1,"type":"ClientCreated","schema_version":2,"recorded_at":"2026-01-05T09:00:00.000000Z","actor":"admin","correlation_id":null,"causation_id":null,"data":{"client_id":"\#(client)","email":null,"metadata":{},"name":"Ann"}}"#
                    .replacingOccurrences(of: #""\#(key)":null"#, with: #""\#(key)":\#(value)"#)
                let file = directory.path("ids.jsonl")
                try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
                let restored = directory.path("restored")
                #expect {
                    _ = try Store.importLog(from: file, intoNewStoreAt: restored)
                } throws: {
                    ($0 as? FolioError)?.message == "line 1: \(key) must be a UUID or null"
                }
                #expect(!FileManager.default.fileExists(atPath: restored), "\(key): \(value)")
            }
        }
    }

    @Test("a payload an earlier Folio stored otherwise than canonically (-0) restores from its export, digests and all")
    func nonCanonicalStoredPayload() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, noSync: true)
        let client = UUID().uuidString.lowercased()
        let payload = #"{"client_id":"\#(client)","email":null,"metadata":{"n":-0},"name":"Old"}"#
        try store.log.write { session in
            _ = try session.append(
                [ProposedEvent(id: UUID(), type: "ClientCreated", schemaVersion: 2, payload: Array(payload.utf8), recordedAtMicroseconds: 1_767_600_000_000_000)],
                to: "client-\(client)", expected: .noStream
            )
        }
        let exported = try exportText(store)
        #expect(exported.contains(#""metadata":{"n":-0}"#) && exported.contains(#","digest":""#))
        let file = directory.path("export.jsonl")
        try exported.write(toFile: file, atomically: false, encoding: .utf8)
        let restored = directory.path("restored")
        #expect(try Store.importLog(from: file, intoNewStoreAt: restored).events == 1)
        // Written canonically there, as an import of such a payload always wrote it.
        #expect(try exportText(try Store(path: restored)).contains(#""metadata":{"n":0}"#))
        // The payload changed in the file is still refused.
        try exported.replacingOccurrences(of: #""n":-0"#, with: #""n":-1"#).write(toFile: file, atomically: false, encoding: .utf8)
        #expect { _ = try Store.importLog(from: file, intoNewStoreAt: directory.path("changed")) } throws: {
            ($0 as? FolioError)?.message.hasPrefix("line 1: digest does not follow") == true
        }
    }

    @Test("a line's export marks are refused in one line when they are not as export writes them, or not as the file's first line has them")
    func exportMarksRefused() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, noSync: true)
        // A payload's own keys of the marks' names, which the advice's command leaves as they are.
        let held: JSONValue = .object(["a": .integer(1), "digest": .string(String(repeating: "ab", count: 32)), "last_position": .integer(3)])
        _ = try store.createClient(name: "Di", email: nil, metadata: held)
        for name in ["Ann", "Bob", "Cy"] { _ = try store.createClient(name: name, email: nil) }
        let lines = try exportText(store).split(separator: "\n").map(String.init)
        func refusal(_ changed: [String]) throws -> String {
            let file = directory.path("changed.jsonl")
            try (changed.joined(separator: "\n") + "\n").write(toFile: file, atomically: false, encoding: .utf8)
            do {
                _ = try Store.importLog(from: file, intoNewStoreAt: directory.path("restored"))
                return "imported"
            } catch let error as FolioError {
                return error.message
            }
        }
        func changing(_ index: Int, _ old: String, _ new: String) -> [String] {
            var changed = lines
            changed[index] = changed[index].replacingOccurrences(of: old, with: new, options: .regularExpression)
            #expect(changed != lines)
            return changed
        }
        let digest = #""digest":"([0-9a-f]{64})""#
        #expect(try refusal(changing(1, digest, #""digest":"ABC""#)).hasPrefix(#"line 2: digest is "ABC", not a digest as export writes it (64 lower-case hex digits)"#))
        // 64 characters, one of them a letter past f.
        let pastF = try refusal(changing(1, digest, #""digest":"\#(String(repeating: "0", count: 63))g""#))
        #expect(pastF.hasPrefix(#"line 2: digest is "000"#) && pastF.contains(", not a digest as export writes it (64 lower-case hex digits)"), "\(pastF)")
        let zero = try refusal(changing(1, #""last_position":4"#, #""last_position":0"#))
        #expect(zero.hasPrefix("line 2: last_position must be a whole number from 1 to 9223372036854775807"), "\(zero)")
        let missing = try refusal(changing(1, #","last_position":4"#, ""))
        #expect(missing.hasPrefix("line 2: last_position is missing, where line 1's is 4: export writes its last position on every line"), "\(missing)")
        #expect(try refusal(changing(0, #","digest":"[0-9a-f]{64}"(?=,"last_position")"#, "")).hasPrefix("line 2: a digest, where line 1 has none: export writes one on every line"))
        // Every refusal says how to import the file all the same, and the way it gives works.
        let script = #"s/(,"digest":"[0-9a-f]{64}")?(,"last_position":[0-9]+)?}(\r?)$/}\3/"#
        #expect(try refusal(Array(lines.dropLast())).hasSuffix("to import the file as it now stands, remove every line's digest and last_position (sed -E '\(script)')"))
        let sed = Process()
        sed.executableURL = URL(fileURLWithPath: "/bin/sed")
        sed.arguments = ["-E", script, directory.path("changed.jsonl")]
        let out = Pipe()
        sed.standardOutput = out
        try sed.run()
        let unmarked = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sed.waitUntilExit()
        let unmarkedLines = unmarked.split(separator: "\n")
        #expect(unmarkedLines.map(Self.event) == lines.dropLast().map { Self.event(Substring($0)) })
        #expect(unmarkedLines.allSatisfy { $0.hasSuffix(#""}"#) && !$0.contains(#""last_position":4"#) })
        #expect(unmarked.contains(#""digest":"abab"#) && unmarked.contains(#""last_position":3}"#))
    }

    @Test("a format-1 store keeps working; its export imports into a format-2 store with the same events and read models")
    func formatOneMovesToFormatTwo() throws {
        let directory = try TemporaryDirectory()
        do {
            // An empty store as format 1 created it.
            let environment = try Environment.open(at: directory.path("old"), options: Environment.Options(unsafeNoSync: true))
            let meta = try environment.database("meta")
            try environment.write { txn in try txn.put(meta, Array("format".utf8), withUnsafeBytes(of: UInt32(1).bigEndian) { Array($0) }) }
        }
        let old = try makeStore(directory, name: "old", noSync: true)
        #expect(old.log.format == 1)
        _ = try old.importLog(from: try history(directory))
        let exported = try exportText(old)
        let file = directory.path("export.jsonl")
        try exported.write(toFile: file, atomically: true, encoding: .utf8)
        let new = try makeStore(directory, name: "new", noSync: true)
        #expect(new.log.format == 2)
        _ = try new.importLog(from: file)
        // The same events; the hashes cover the stored bytes, which differ between the formats,
        // and the digests the events, which do not.
        func withoutHashes(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.replacingOccurrences(of: #","hash":"[0-9a-f]{64}""#, with: "", options: .regularExpression) }
        }
        #expect(withoutHashes(exported).allSatisfy { $0.contains(#","digest":""#) })
        #expect(withoutHashes(try exportText(new)) == withoutHashes(exported))
        #expect(try old.projections.read { try $0.dump() } == (try new.projections.read { try $0.dump() }))
        #expect(try old.log.read { try $0.verify() } == (try new.log.read { try $0.verify() }))
        let (oldLog, newLog) = (try old.statistics().logBytes, try new.statistics().logBytes)
        #expect(newLog * 10 < oldLog * 7, "format 2's log is smaller: \(newLog) against \(oldLog) bytes")
    }

    @Test("an import larger than the store's map grows the map and imports every line")
    func importGrowsTheMap() throws {
        let directory = try TemporaryDirectory()
        let file = try history(directory, clients: 30)
        let small = try Store(path: directory.path("small"), options: Store.Options(environment: Environment.Options(mapSize: 1 << 20, unsafeNoSync: true)))
        let report = try small.importLog(from: file)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
        #expect(report.events == lines)
        #expect(try small.log.head() == UInt64(lines))
        #expect(small.log.environment.mapSize > 1 << 20)
        let reference = try makeStore(directory, name: "reference", noSync: true)
        _ = try reference.importLog(from: file)
        #expect(try exportText(small) == (try exportText(reference)))
    }

    @Test("lines parsed ahead on a second thread are still checked in file order: the first bad line is the one named")
    func firstBadLineAcrossBatches() throws {
        let directory = try TemporaryDirectory()
        var lines = try String(contentsOfFile: try history(directory, clients: 30), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count > 900)
        lines[699] = lines[699].replacingOccurrences(of: "\"position\":700,", with: "\"position\":7000,")
        lines[899] = "not json"
        let file = directory.path("bad.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let store = try makeStore(directory, noSync: true)
        #expect { _ = try store.importLog(from: file) } throws: {
            ($0 as? FolioError)?.message.hasPrefix("line 700: position is 7000 but must be 700") == true
        }
        #expect(try store.log.head() == 0)
    }

    @Test("generated lines import unchanged: export gives the same envelopes and payloads back")
    func generatedLinesSurvive() throws {
        let directory = try TemporaryDirectory()
        let file = try history(directory)
        let store = try makeStore(directory)
        _ = try store.importLog(from: file)
        let original = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let exported = try exportText(store).split(separator: "\n").map(Self.event)
        #expect(exported == original.map(String.init))
    }

    @Test("lines written other than canonically import as the same events and read models as plain ones")
    func otherwiseWrittenLines() throws {
        let directory = try TemporaryDirectory()
        let plain = try history(directory)
        // Foundation writes the keys unsorted and slashes escaped: no payload stays canonical.
        let rewritten = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        #expect(rewritten.contains { $0.contains(#"\/"#) })
        let other = directory.path("rewritten.jsonl")
        try (rewritten.joined(separator: "\n") + "\n").write(toFile: other, atomically: true, encoding: .utf8)
        let (a, b) = (try makeStore(directory, name: "plain"), try makeStore(directory, name: "other"))
        _ = try a.importLog(from: plain)
        _ = try b.importLog(from: other)
        #expect(try exportText(a) == (try exportText(b)))
        #expect(try a.projections.read { try $0.dump() } == (try b.projections.read { try $0.dump() }))
    }

    @Test("ids written in uppercase, in the envelope, the stream and the payload, import as the same events, stored in lowercase as Folio writes ids; metadata and intents are kept as written")
    func uppercaseIDs() throws {
        let directory = try TemporaryDirectory()
        let plain = try history(directory)
        let marker = "AB6EC84C-6516-4EC9-A5EF-3E7AC2F41801"
        // Each payment's intent becomes an id in uppercase of its own, which is no id of Folio's.
        var intents: [String: String] = [:]
        var idsRewritten = 0
        let rewritten = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n").enumerated().map { number, line in
            var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            var data = try #require(object["data"] as? [String: Any])
            object["id"] = (object["id"] as? String)?.uppercased()
            object["stream"] = "client-" + (try #require((object["stream"] as? String)?.dropFirst("client-".count))).uppercased()
            for key in EventType.idFields {
                guard let id = data[key] as? String else { continue }
                data[key] = id.uppercased()
                idsRewritten += 1
            }
            // Strings that are no ids of the event's own stay as they are written, ids or not.
            if number == 0 { data["metadata"] = ["legacy_id": marker] }
            if let intent = data["stripe_payment_intent_id"] as? String {
                data["stripe_payment_intent_id"] = intents[intent, default: String(format: "%08X-0000-4000-8000-%012X", 0xABCDEF, intents.count)]
                intents[intent] = data["stripe_payment_intent_id"] as? String
            }
            object["data"] = data
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        #expect(idsRewritten > 100 && intents.count > 3, "\(idsRewritten) ids, \(intents.count) intents")
        let kept = Set(intents.values).union([marker])
        let upper = directory.path("upper.jsonl")
        try (rewritten.joined(separator: "\n") + "\n").write(toFile: upper, atomically: true, encoding: .utf8)
        // The same history with the other strings rewritten alone, in lowercase ids.
        let lower = directory.path("lower.jsonl")
        try (rewritten.map { line in
            line.replacing(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/) { match in
                kept.contains(String(match.output)) ? String(match.output) : match.output.lowercased()
            }
        }.joined(separator: "\n") + "\n").write(toFile: lower, atomically: true, encoding: .utf8)
        let (a, b) = (try makeStore(directory, name: "upper"), try makeStore(directory, name: "lower"))
        _ = try a.importLog(from: upper)
        _ = try b.importLog(from: lower)
        let exported = try exportText(a)
        #expect(exported == (try exportText(b)))
        #expect(try a.projections.read { try $0.dump() } == (try b.projections.read { try $0.dump() }))
        #expect(exported.contains(#""metadata":{"legacy_id":"\#(marker)"}"#))
        #expect(intents.values.allSatisfy { exported.contains(#""stripe_payment_intent_id":"\#($0)""#) })
        let uppercase = exported.matches(of: /[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/)
            .map { String($0.output) }.filter { $0 != $0.lowercased() && !kept.contains($0) }
        #expect(uppercase.isEmpty, "ids exported in uppercase: \(uppercase.prefix(3))")
        // The id in a stream's name, not the name's own prefix: a stream is `client-` and the id.
        let prefixed = directory.path("prefixed.jsonl")
        try (rewritten[0].replacingOccurrences(of: #""stream":"client-"#, with: #""stream":"CLIENT-"#) + "\n").write(toFile: prefixed, atomically: true, encoding: .utf8)
        #expect { _ = try Store.importLog(from: prefixed, intoNewStoreAt: directory.path("prefixed")) } throws: {
            "\($0)".hasPrefix("line 1: stream is CLIENT-")
        }
    }

    @Test("a bad line refuses the whole file with its line number, and nothing is appended", arguments: [
        ("not json", "line 3: not valid JSON"),
        (#"{"id":"x"}"#, "line 3:"),
    ])
    func badLine(replacement: String, message: String) throws {
        let directory = try TemporaryDirectory()
        var lines = try String(contentsOfFile: try history(directory), encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = replacement
        let file = directory.path("bad.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let store = try makeStore(directory)
        #expect {
            _ = try store.importLog(from: file)
        } throws: { error in
            (error as? FolioError)?.message.hasPrefix(message) == true
        }
        #expect(try store.log.head() == 0)
    }

    @Test("import checks the rules: a reused token and a skipped position are refused, and nothing is imported (another client's version: the bad-input corpus)")
    func importChecksRules() throws {
        let directory = try TemporaryDirectory()
        let lines = try String(contentsOfFile: try history(directory), encoding: .utf8).split(separator: "\n").map(String.init)
        // Positions must have no gaps.
        var gapped = lines
        gapped.remove(at: 1)
        let gapFile = directory.path("gap.jsonl")
        try gapped.joined(separator: "\n").write(toFile: gapFile, atomically: true, encoding: .utf8)
        let store = try makeStore(directory)
        #expect { _ = try store.importLog(from: gapFile) } throws: { ($0 as? FolioError)?.message.contains("line 2: position is 3 but must be 2") == true }
        #expect(try store.log.head() == 0)

        // A token is never issued twice, even in an imported file.
        let issued = lines.enumerated().filter { $0.element.contains(#""type":"TokenIssued""#) }
        let first = try #require(issued.first), second = try #require(issued.dropFirst().first)
        let range = try #require(first.element.range(of: #""activation_token":"G[0-9]{4}""#, options: .regularExpression))
        let token = String(first.element[range].suffix(6).prefix(5))
        var reused = lines
        reused[second.offset] = second.element.replacingOccurrences(of: #""activation_token":"G[0-9]{4}""#, with: "\"activation_token\":\"\(token)\"", options: .regularExpression)
        let reusedFile = directory.path("reused.jsonl")
        try reused.joined(separator: "\n").write(toFile: reusedFile, atomically: true, encoding: .utf8)
        #expect { _ = try store.importLog(from: reusedFile) } throws: {
            ($0 as? FolioError)?.message.contains("line \(second.offset + 1): token \(token) is already issued") == true
        }
        #expect(try store.log.head() == 0)
    }

    /// `line` with its payload changed by `change` (written with sorted keys, as a person might).
    func editing(_ line: String, _ change: (inout [String: Any]) -> Void) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        var data = try #require(object["data"] as? [String: Any])
        change(&data)
        object["data"] = data
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    @Test("import refuses a payload field its type does not have, written plainly or not, unless the line is an export's; an older schema's fields still read")
    func importRefusesUnknownFields() throws {
        let directory = try TemporaryDirectory()
        let lines = try String(contentsOfFile: try history(directory), encoding: .utf8).split(separator: "\n").map(String.init)
        let file = directory.path("changed.jsonl")
        var imports = 0
        /// The import's error with the line at `index` replaced, or `nil` when it imports.
        func importing(_ index: Int, _ line: String) throws -> String? {
            var changed = lines
            changed[index] = line
            try changed.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            imports += 1
            let store = try makeStore(directory, name: "store-\(imports)")
            do {
                _ = try store.importLog(from: file)
                return nil
            } catch let error as FolioError {
                #expect(try store.log.head() == 0)
                return error.message
            }
        }
        let payment = try #require(lines.firstIndex { $0.contains(#""type":"PaymentInitiated""#) })
        let misspelt = try editing(lines[payment]) { $0["reasn"] = "card declined" }
        #expect(misspelt.contains(#""reasn":"card declined","stripe_payment_intent_id""#), "written canonically, as export writes")
        #expect(try importing(payment, misspelt)
            == "line \(payment + 1): PaymentInitiated payload has no field \"reasn\": its fields are amount, client_id, content_version_id, payment_id, stripe_payment_intent_id")
        // A line `export` wrote (with its `hash`) is taken as stored: an earlier Folio kept such
        // fields, and its backup restores with them, written back out by export.
        let exported = misspelt.dropLast() + #","hash":"\#(String(repeating: "0", count: 64))"}"#
        #expect(try importing(payment, String(exported)) == nil)
        #expect(try exportText(try makeStore(directory, name: "store-\(imports)")).contains(#""reasn":"card declined""#))
        let rewritten = try editing(String(exported)) { $0["reason"] = "x" }.replacingOccurrences(of: #""client_id":"#, with: #" "client_id" :"#)
        #expect(rewritten.contains(#""hash":"#))
        #expect(try importing(payment, rewritten) == nil)
        // A blank actor is refused as a command refuses it, but where an export's line kept one.
        let blank = lines[0].replacingOccurrences(of: #""actor":"admin""#, with: #""actor":" ""#)
        #expect(blank != lines[0])
        #expect(try importing(0, blank) == "line 1: the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank")
        #expect(try importing(0, String(blank.dropLast()) + #","hash":"\#(String(repeating: "0", count: 64))"}"#) == nil)
        // So is one of line breaks alone, an actor or a draft's created_by, which an earlier Folio took.
        let lineBreak = lines[0].replacingOccurrences(of: #""actor":"admin""#, with: #""actor":"\r\n""#)
        #expect(try importing(0, lineBreak) == "line 1: the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank")
        #expect(try importing(0, String(lineBreak.dropLast()) + #","hash":"\#(String(repeating: "0", count: 64))"}"#) == nil)
        let draft = try #require(lines.firstIndex { $0.contains(#""type":"VersionDrafted""#) })
        // A new line's draft names its actor as its created_by, so both are blank or neither; an
        // export's line is restored with its created_by alone blank.
        let drafted = try #require(try JSONSerialization.jsonObject(with: Data(lines[draft].utf8)) as? [String: Any])["actor"] as? String
        let drafter = try editing(lines[draft]) { $0["created_by"] = "\n" }
        let blankBoth = drafter.replacingOccurrences(of: #""actor":"\#(drafted ?? "")""#, with: #""actor":"\n""#)
        #expect(blankBoth.contains(#""actor":"\n""#))
        #expect(try importing(draft, blankBoth) == "line \(draft + 1): the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank")
        #expect(try importing(draft, String(drafter.dropLast()) + #","hash":"\#(String(repeating: "0", count: 64))"}"#) == nil)
        // A field of another type, in a line written with its keys unsorted (read through its parsed fields).
        let foreign = try editing(lines[0]) { $0["reason"] = "x" }.replacingOccurrences(of: #""client_id":"#, with: #" "client_id" :"#)
        #expect(try importing(0, foreign) == "line 1: ClientCreated payload has no field \"reason\": its fields are client_id, email, metadata, name")
        // Schema version 1 named the email `contact_email`: that is its field, upcast.
        let older = try editing(lines[0]) { data in
            data["contact_email"] = data.removeValue(forKey: "email")
            data["metadata"] = nil
        }.replacingOccurrences(of: #""schema_version":2"#, with: #""schema_version":1"#)
        #expect(older.contains(#""contact_email":"#) && older.contains(#""schema_version":1"#))
        #expect(try importing(0, older) == nil)
        // A field of a later version is not one of version 1's: upcasting would write over it.
        let mixed = try editing(older) { $0["email"] = "x@example.com" }
        #expect(try importing(0, mixed) == "line 1: ClientCreated payload (schema version 1) has no field \"email\": its fields are client_id, contact_email, name")
        let hashed = mixed.dropLast() + #","hash":"\#(String(repeating: "0", count: 64))"}"#
        #expect(try importing(0, String(hashed)) == nil, "a line export wrote is restored as stored")
        // Only a record's hash, as export writes it, marks a line as exported.
        for hash in ["12", #""""#, #""\#(String(repeating: "0", count: 63))""#, #""\#(String(repeating: "A", count: 64))""#, #""\#(String(repeating: "0", count: 63))g""#, "null"] {
            let marked = misspelt.dropLast() + #","hash":\#(hash)}"#
            let refusal = try importing(payment, String(marked))
            #expect(refusal?.hasPrefix("line \(payment + 1): hash is \(hash.prefix(30))") == true, "\(String(describing: refusal))")
            #expect(refusal?.hasSuffix(", not a record's hash as export writes it (64 lower-case hex digits)") == true, "\(String(describing: refusal))")
        }
    }

    @Test("an intent beyond ASCII, which an earlier Folio stored, restores from an export's lines and can still be reported on; a new one is refused")
    func storedIntents() throws {
        let directory = try TemporaryDirectory()
        let lines = try String(contentsOfFile: try history(directory), encoding: .utf8).split(separator: "\n").map(String.init)
        let first = try #require(lines.firstIndex { $0.contains(#""type":"PaymentInitiated""#) })
        let intent = try #require(lines[first].firstMatch(of: /"stripe_payment_intent_id":"([^"]+)"/)?.1)
        let changed = lines.map { $0.replacingOccurrences(of: #""stripe_payment_intent_id":"\#(intent)""#, with: #""stripe_payment_intent_id":"pi_caf\#u{E9}""#) }
        #expect(changed.filter { $0.contains("pi_caf\u{E9}") }.count > 1, "the intent is reported more than once")
        func importing(_ lines: [String], into name: String) throws -> Store {
            let file = directory.path("\(name).jsonl")
            try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let store = try makeStore(directory, name: name)
            _ = try store.importLog(from: file)
            return store
        }
        #expect { _ = try importing(changed, into: "new") } throws: {
            ($0 as? FolioError)?.message.hasPrefix("line \(first + 1): payment intent id \"pi_caf\u{E9}\" is invalid: 1 to 255 visible ASCII characters") == true
        }
        // A line export wrote (with its hash) restores as stored; the reports after it name an intent the client holds.
        var exported = changed
        exported[first] = String(changed[first].dropLast()) + #","hash":"\#(String(repeating: "0", count: 64))"}"#
        let store = try importing(exported, into: "restored")
        let client = try #require(lines[first].firstMatch(of: /"client_id":"([^"]+)"/)?.1)
        let row = try store.payment(.succeed, client: String(client), intent: "pi_caf\u{E9}", amount: try #require(try store.projections.read { try $0.payments() }.first { $0.stripePaymentIntentID == "pi_caf\u{E9}" }).amount)
        #expect(row.status == .succeeded)
        #expect { _ = try store.payment(.start, client: String(client), intent: "pi_na\u{EF}ve", amount: 50_000) } throws: {
            ($0 as? FolioError)?.message.contains("visible ASCII") == true
        }
    }

    @Test("import keeps the limits commands keep on content and metadata, and a payment id names one payment")
    func importChecksLimitsAndPaymentIDs() throws {
        let directory = try TemporaryDirectory()
        let lines = try String(contentsOfFile: try history(directory), encoding: .utf8).split(separator: "\n").map(String.init)
        let store = try makeStore(directory)
        func refused(_ changed: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let file = directory.path("changed.jsonl")
            try changed.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            #expect(sourceLocation: sourceLocation) { _ = try store.importLog(from: file) } throws: {
                ($0 as? FolioError)?.message.contains(message) == true
            }
            #expect(try store.log.head() == 0, sourceLocation: sourceLocation)
        }
        func nested(_ depth: Int) -> [String: Any] {
            var value: [String: Any] = ["headline": "Welcome"]
            for _ in 1..<depth { value = ["section": value] }
            return value
        }
        let draft = try #require(lines.firstIndex { $0.contains(#""type":"VersionDrafted""#) })
        var changed = lines
        changed[draft] = try editing(lines[draft]) { $0["content"] = nested(33) }
        try refused(changed, "line \(draft + 1): content nests deeper than 32 levels")
        changed[draft] = try editing(lines[draft]) { $0["content"] = ["body": String(repeating: "x", count: 1 << 20)] }
        try refused(changed, "line \(draft + 1): content is 1048587 bytes written canonically (keys sorted, no whitespace), over the limit of 1048576 bytes")
        changed[draft] = try editing(lines[draft]) { $0["metadata"] = nested(33) }
        try refused(changed, "line \(draft + 1): metadata nests deeper than 32 levels")
        changed[0] = try editing(lines[0]) { $0["metadata"] = nested(33) }
        try refused(changed, "line 1: metadata nests deeper than 32 levels")

        // Another intent's payment under a payment id already used would replace that payment's row.
        func payment(_ index: Int) throws -> (id: String, intent: String) {
            let data = try #require((try JSONSerialization.jsonObject(with: Data(lines[index].utf8)) as? [String: Any])?["data"] as? [String: Any])
            return (try #require(data["payment_id"] as? String), try #require(data["stripe_payment_intent_id"] as? String))
        }
        let payments = lines.indices.filter { lines[$0].contains(#""type":"PaymentInitiated""#) }
        let first = try #require(payments.first)
        let paymentID: String? = try payment(first).id
        let later = try #require(try payments.first { try payment($0).intent != payment(first).intent })
        changed = lines
        changed[later] = try editing(lines[later]) { $0["payment_id"] = paymentID }
        try refused(changed, "line \(later + 1): payment id \(try #require(paymentID)) already names the payment of intent")

        // Content exactly as deep as allowed imports.
        changed = lines
        changed[draft] = try editing(lines[draft]) { $0["content"] = nested(32) }
        let file = directory.path("deepest.jsonl")
        try changed.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try store.importLog(from: file).events == lines.count)
    }

    /// Every entry of the named databases, by name, to compare two stores byte for byte.
    func entries(_ store: Store, _ names: [String]) throws -> [String: [[UInt8]: [UInt8]]] {
        var out: [String: [[UInt8]: [UInt8]]] = [:]
        let environment = store.log.environment
        for name in names {
            let database = try environment.database(name)
            try environment.read { txn in
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

    @Test("an import writes the log's and the write model's indexes with the same entries as the commands that made the log")
    func importIndexesMatchCommands() throws {
        let directory = try TemporaryDirectory()
        let source = try makeStore(directory, name: "source")
        let a = try activeClient(source, name: "A")
        let b = try activeClient(source, name: "B")
        // Intents whose order as text and as bytes differ ("pi_B" before "pi_a"), one reported twice.
        _ = try source.payment(.start, client: a.token, intent: "pi_a", amount: 50_000)
        _ = try source.payment(.start, client: b.token, intent: "pi_B", amount: 50_000)
        _ = try source.payment(.start, client: a.token, intent: "pi_~", amount: 40_000)
        _ = try source.payment(.succeed, client: a.token, intent: "pi_~", amount: 40_000)
        _ = try source.payment(.start, client: b.token, intent: "pi_0", amount: 40_000)
        _ = try source.issueToken(client: b.id.lowercased)
        _ = try source.draftVersion(client: a.token, page: .agreement, content: .object(["title": .string("Terms")]))
        let file = directory.path("export.jsonl")
        try exportText(source).write(toFile: file, atomically: true, encoding: .utf8)
        let copy = try makeStore(directory, name: "copy")
        _ = try copy.importLog(from: file)
        let names = ["meta", "log", "event_ids", "streams", "stream_heads", "types", "idx.tokens", "idx.intents", "idx.versions", "idx.clients"]
        let (made, imported) = (try entries(source, names), try entries(copy, names))
        #expect(made["idx.intents"]?.count == 4)
        for name in names { #expect(made[name] == imported[name], "\(name)") }
    }

    @Test("import needs an empty store")
    func importNeedsEmptyStore() throws {
        let directory = try TemporaryDirectory()
        let file = try history(directory)
        let store = try makeStore(directory)
        _ = try store.importLog(from: file)
        let head = try store.log.head()
        #expect { _ = try store.importLog(from: file) } throws: { ($0 as? FolioError)?.message.contains("needs an empty store") == true }
        #expect(try store.log.head() == head)
    }

    /// A generated history, its lines, and `bad.jsonl`: its first `goodLines` lines and then `{}`.
    func historyAndBadCopy(_ directory: TemporaryDirectory, goodLines: Int) throws -> (file: String, lines: [Substring], bad: String) {
        let file = try history(directory)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let bad = directory.path("bad.jsonl")
        try (lines.prefix(goodLines).joined(separator: "\n") + "\n{}\n").write(toFile: bad, atomically: false, encoding: .utf8)
        return (file, lines, bad)
    }

    @Test("an import into a new store lands whole at its path, or leaves nothing there")
    func importIntoNewStore() throws {
        let directory = try TemporaryDirectory()
        let (file, lines, bad) = try historyAndBadCopy(directory, goodLines: 5)
        let path = directory.path("new")
        #expect { _ = try Store.importLog(from: bad, intoNewStoreAt: path) } throws: { ($0 as? FolioError)?.message.hasPrefix("line 6:") == true }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).sorted() == ["bad.jsonl", URL(fileURLWithPath: file).lastPathComponent].sorted())
        let report = try Store.importLog(from: file, intoNewStoreAt: path)
        #expect(report.events == lines.count)
        #expect(try Store(path: path).log.head() == UInt64(lines.count))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).filter { $0.contains("importing") }.isEmpty)
    }

    @Test("an import sizes the map for the whole file before it starts, so that a growing map does not start it over")
    func importReservesItsMap() throws {
        let directory = try TemporaryDirectory()
        let file = try history(directory)
        let size = try #require(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        let store = try Store(path: directory.path("small-map"), options: Store.Options(environment: Environment.Options(mapSize: 1 << 20)))
        var totals: Set<Int?> = []
        _ = try store.importLog(from: file) { totals.insert($0.total) }
        // Reserved up front: four bytes of store per byte of file and 64 MiB to spare, where
        // growing on demand would have doubled 1 MiB only as far as the store needed.
        #expect(store.log.environment.mapSize >= 4 * size + (64 << 20))
        #expect(totals == [size], "progress reports the file's size as its total")
        let statistics = try store.statistics()
        #expect(statistics.fileBytes == (try FileManager.default.attributesOfItem(atPath: directory.path("small-map/data.mdb"))[.size] as? Int))
        #expect(statistics.fileBytes > statistics.logBytes)
    }

    @Test("an import is staged only into a new path or a directory without a store's data file")
    func importStaged() throws {
        let directory = try TemporaryDirectory()
        let manager = FileManager.default
        #expect(Store.canStageImport(at: directory.path("nothing")))
        #expect(Store.canStageImport(at: directory.path("missing/parent")))
        try manager.createDirectory(atPath: directory.path("empty"), withIntermediateDirectories: false)
        #expect(Store.canStageImport(at: directory.path("empty")))
        #expect(Store.canStageImport(at: directory.path("empty") + "/."))
        try manager.createDirectory(atPath: directory.path("full"), withIntermediateDirectories: false)
        try "mine".write(toFile: directory.path("full/note.txt"), atomically: false, encoding: .utf8)
        #expect(Store.canStageImport(at: directory.path("full")))
        try manager.createDirectory(atPath: directory.path("store"), withIntermediateDirectories: false)
        _ = manager.createFile(atPath: directory.path("store/data.mdb"), contents: Data())
        #expect(!Store.canStageImport(at: directory.path("store")))
        try manager.createSymbolicLink(atPath: directory.path("link"), withDestinationPath: directory.path("empty"))
        #expect(Store.canStageImport(at: directory.path("link")))
        try manager.createSymbolicLink(atPath: directory.path("dangling"), withDestinationPath: directory.path("gone"))
        #expect(!Store.canStageImport(at: directory.path("dangling")))
        #expect(!Store.canStageImport(at: directory.path("full/note.txt")))
        #expect { _ = try Store.importLog(from: try history(directory), intoNewStoreAt: directory.path("store")) } throws: {
            ($0 as? FolioError)?.message.contains("neither a new path nor a directory without a store") == true
        }
    }

    @Test("a store that appears at the path while an import builds its own is left as it is, and the import refused by name")
    func importRaced() throws {
        let directory = try TemporaryDirectory()
        let file = try history(directory)
        let manager = FileManager.default
        for intoDirectory in [false, true] {
            let path = directory.path(intoDirectory ? "empty" : "new")
            if intoDirectory { try manager.createDirectory(atPath: path, withIntermediateDirectories: false) }
            // Another import, as far as this one can tell, puts its store there first.
            var raced = false
            #expect {
                _ = try Store.importLog(from: file, intoNewStoreAt: path) { _ in
                    guard !raced else { return }
                    raced = true
                    try? manager.createDirectory(atPath: path, withIntermediateDirectories: false)
                    _ = manager.createFile(atPath: path + "/data.mdb", contents: Data("theirs".utf8))
                }
            } throws: {
                ($0 as? FolioError)?.message == "cannot put the imported store at \(path): a store appeared there meanwhile (another import?), which is left as it is; nothing was imported"
            }
            #expect(raced)
            #expect(try manager.contentsOfDirectory(atPath: path) == ["data.mdb"], "the staging directory is gone, theirs kept")
            #expect(manager.contents(atPath: path + "/data.mdb") == Data("theirs".utf8))
        }
    }

    @Test("an import into an empty directory fills it and keeps it: its inode, its permissions, a link to it")
    func importIntoEmptyDirectory() throws {
        let directory = try TemporaryDirectory()
        let (file, lines, bad) = try historyAndBadCopy(directory, goodLines: 3)
        let manager = FileManager.default
        let target = directory.path("target")
        try manager.createDirectory(atPath: target, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o750])
        let before = try manager.attributesOfItem(atPath: target)
        #expect { _ = try Store.importLog(from: bad, intoNewStoreAt: target + "/.") } throws: { ($0 as? FolioError)?.message.hasPrefix("line 4:") == true }
        #expect(try manager.contentsOfDirectory(atPath: target).isEmpty)
        // Through a link and written with `/.`: the directory it names is filled, the link stays a link.
        try manager.createSymbolicLink(atPath: directory.path("link"), withDestinationPath: target)
        let report = try Store.importLog(from: file, intoNewStoreAt: directory.path("link") + "/.")
        #expect(report.events == lines.count)
        #expect(try manager.contentsOfDirectory(atPath: target) == ["data.mdb"])
        let after = try manager.attributesOfItem(atPath: target)
        #expect(after[.systemFileNumber] as? Int == before[.systemFileNumber] as? Int)
        #expect(after[.posixPermissions] as? Int == 0o750)
        #expect(try manager.destinationOfSymbolicLink(atPath: directory.path("link")) == target)
        #expect(try Store(path: target).log.head() == UInt64(lines.count))
        // Once it holds a store, a directory is no longer imported into aside.
        let other = directory.path("other")
        try manager.createDirectory(atPath: other, withIntermediateDirectories: false)
        #expect(try Store.importLog(from: file, intoNewStoreAt: other).events == lines.count)
        #expect(!Store.canStageImport(at: other))
    }

    @Test("as-of a position shows the read models as they stood then")
    func asOf() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let (_, token) = try activeClient(store)
        let head = try store.log.head()
        _ = try store.payment(.succeed, client: token, intent: "pi_asof", amount: 50_000)
        let then = try store.projections.model(asOf: .position(head))
        #expect(try then.clients().map(\.status) == [.active])
        #expect(try then.payments().isEmpty)
        let now = try store.projections.model(asOf: .position(try store.log.head()))
        #expect(try now.dump() == (try store.projections.read { try $0.dump() }))
    }

    @Test("an import keeps every time to the microsecond, however far in the future (a Date would round it past about 2255)")
    func farFutureTimes() throws {
        let directory = try TemporaryDirectory()
        let times = ["2255-03-14T00:00:00.000001Z", "4000-01-01T00:00:00.000003Z", "9987-04-02T17:46:40.000979Z", "9999-12-31T23:59:59.999998Z", "9999-12-31T23:59:59.999999Z"]
        let lines = times.enumerated().map { index, time in
            let client = UUID().uuidString.lowercased()
            return #"{"id":"\#(UUID().uuidString.lowercased())","position":\#(index + 1),"stream":"client-\#(client)","stream_version":1,"type":"ClientCreated","schema_version":2,"recorded_at":"\#(time)","actor":"admin","correlation_id":null,"causation_id":null,"data":{"client_id":"\#(client)","email":null,"metadata":{},"name":"Later"}}"#
        }
        let file = directory.path("later.jsonl")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let store = try makeStore(directory)
        #expect(try store.importLog(from: file).events == times.count)
        let exported = try exportText(store).split(separator: "\n").map(Self.event)
        #expect(exported == lines)
        // The read models hold them too, to within what a Date keeps, and read them back.
        #expect(try store.projections.read { try $0.clients() }.count == times.count)
        // Each time is a point of the log to the microsecond: as of it, its client and those
        // before; a microsecond earlier, not its client.
        for (index, time) in times.enumerated() {
            let microseconds = try #require(Timestamp.parse(time))
            #expect(try store.projections.model(asOf: .time(microseconds: microseconds)).clients().count == index + 1, "\(time)")
            #expect(try store.projections.model(asOf: .time(microseconds: microseconds - 1)).clients().count == index, "\(time)")
        }
    }
}

@Suite("Upcasting stored events")
struct UpcastTests {
    @Test("a ClientCreated stored at schema version 1 is read as version 2 by the projectors and the history")
    func storedV1() throws {
        let directory = try TemporaryDirectory()
        let client = UUID().uuidString.lowercased()
        let line = #"{"id":"\#(UUID().uuidString.lowercased())","position":1,"stream":"client-\#(client)","stream_version":1,"type":"ClientCreated","schema_version":1,"recorded_at":"2026-01-05T09:00:00.000000Z","actor":"admin","correlation_id":null,"causation_id":null,"data":{"client_id":"\#(client)","contact_email":"old@example.com","name":"Old Timer"}}"#
        let file = directory.path("v1.jsonl")
        try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let store = try makeStore(directory)
        _ = try store.importLog(from: file)
        let row = try #require(try store.projections.read { try $0.client(id: UUID(uuidString: client)!) })
        #expect(row.email == "old@example.com")
        #expect(row.metadata == .object([:]))
        #expect(try exportText(store).contains(#""schema_version":1"#), "the log keeps the payload as it was stored")
        #expect(try store.history(client: client).name == "Old Timer")
    }
}
