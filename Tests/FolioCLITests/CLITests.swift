import ArgumentParser
import EventStore
import Foundation
import LMDB
import Synchronization
import Testing

@testable import FolioCLI

/// A directory that exists for one test and is removed after it.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("folio-cli-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Imports `Fixtures/small.jsonl` into a new store at `name` here; the store's path.
    func importedFixture(_ name: String = "store") throws -> String {
        let store = path(name)
        let imported = try folio(["import", projectRoot.appendingPathComponent("Fixtures/small.jsonl").path], store: store)
        try #require(imported.status == 0, "\(imported.err)")
        return store
    }
}

/// A file system of two megabytes, mounted for one test and unmounted after it, that can be filled.
final class SmallFileSystem {
    let root: String
    private let directory: TemporaryDirectory

    /// Whether this process may mount one (it takes root, and a system that allows it).
    static let canMount = getuid() == 0 && (try? SmallFileSystem()) != nil

    init() throws {
        directory = try TemporaryDirectory()
        root = directory.path("disk")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", root]) else {
            throw ValidationError("could not mount a small file system at \(root)")
        }
    }

    deinit { _ = run("/bin/umount", [root]) }

    func path(_ name: String) -> String { root + "/" + name }

    /// Writes a file that takes every block left but `leaving` bytes.
    func fill(leaving: Int = 0) {
        let descriptor = open(path("filler"), O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0, count: 4096)
        while write(descriptor, block, block.count) == block.count {}
        var status = stat()
        fstat(descriptor, &status)
        ftruncate(descriptor, max(0, status.st_size - off_t(leaving)))
    }

    /// Removes that file.
    func empty() { unlink(path("filler")) }

    private func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// The project's root, found from this file.
let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func products() throws -> URL {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("folio").path) { return url }
    }
    throw ValidationError("the folio executable was not found beside the tests; run `swift build --build-tests` first")
}

struct Result {
    var status: Int32
    var out: String
    var err: String
}

/// Runs the built `folio` with `arguments`, on `store`.
@discardableResult
///
/// - Parameter through: a command that runs `folio` (its path and arguments follow), such as
///   `setpriv` to run it as another user.
func folio(
    _ arguments: [String], store: String? = nil, input: String? = nil, through: [String] = [], in directory: URL? = nil, environment extra: [String: String] = [:]
) throws -> Result {
    let process = Process()
    let executable = try products().appendingPathComponent("folio")
    process.executableURL = through.first.map(URL.init(fileURLWithPath:)) ?? executable
    process.arguments = through.dropFirst() + (through.isEmpty ? [] : [executable.path]) + arguments + (store.map { ["--store", $0] } ?? [])
    var environment = ProcessInfo.processInfo.environment
    environment["FOLIO_STORE"] = nil
    process.environment = environment.merging(extra) { $1 }
    process.currentDirectoryURL = directory ?? FileManager.default.temporaryDirectory
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
}

/// Waits while `condition` holds, a minute at most, looking every tenth of a second.
func waitWhile(_ condition: () throws -> Bool) rethrows {
    for _ in 0..<600 {
        guard try condition() else { return }
        usleep(100_000)
    }
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// Makes the read models of `names` in the store at `path` look built by another Folio's
/// projectors: their stored fingerprints are changed, as an upgrade would find them.
func makeStale(_ path: String, _ names: [String]) throws {
    let log = try EventStore(path: path)
    let states = try log.environment.database("projections")
    try log.environment.write { txn in
        for name in names {
            let state = String(decoding: try #require(try txn.get(states, Array(name.utf8))), as: UTF8.self)
            #expect(state.contains(#""fingerprint":""#))
            try txn.put(states, Array(name.utf8), Array(state.replacingOccurrences(of: #""fingerprint":""#, with: #""fingerprint":"older-"#).utf8))
        }
    }
}

/// Changes the last byte of the record at `position` inside its page, as a flipped bit would.
func flipLastByte(ofRecord position: UInt64, in path: String) throws {
    let log = try EventStore(path: path)
    let records = try log.environment.database("log")
    try log.environment.write { txn in
        let key = withUnsafeBytes(of: position.bigEndian) { Array($0) }
        var value = try #require(try txn.get(records, key))
        value[value.count - 1] ^= 0x01
        try txn.put(records, key, value)
    }
}

@Suite("The folio command line")
struct CLITests {
    @Test("the fixture's read models print exactly as the golden files, in table, JSON and CSV")
    func golden() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let imported = try folio(["import", projectRoot.appendingPathComponent("Fixtures/small.jsonl").path], store: store)
        #expect(imported.status == 0, "\(imported.err)")
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/bash")
        script.arguments = [projectRoot.appendingPathComponent("tools/golden").path, try products().appendingPathComponent("folio").path, store, directory.path("out")]
        try script.run()
        script.waitUntilExit()
        #expect(script.terminationStatus == 0)
        let golden = projectRoot.appendingPathComponent("Fixtures/golden")
        let names = try FileManager.default.contentsOfDirectory(atPath: golden.path).sorted()
        #expect(names.count == 15)
        for name in names {
            let expected = try String(contentsOf: golden.appendingPathComponent(name), encoding: .utf8)
            let actual = try String(contentsOfFile: directory.path("out/\(name)"), encoding: .utf8)
            #expect(actual == expected, "\(name) differs from Fixtures/golden (regenerate with tools/fixtures if the change is meant)")
        }
    }

    @Test("analytics --section prints one section alone: the section of the whole output, as one CSV table, one JSON value, one table")
    func analyticsSection() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let whole = try json(try folio(["analytics", "--format", "json"], store: store).out)
        let csv = try folio(["analytics", "--format", "csv"], store: store).out
        let table = try folio(["analytics"], store: store).out
        for section in ["by_version", "by_page_type", "by_version_number", "by_outcome", "funnel"] {
            let printed = try folio(["analytics", "--section", section, "--format", "json"], store: store)
            #expect(printed.status == 0)
            let value = try JSONSerialization.jsonObject(with: Data(printed.out.utf8))
            #expect((value as? NSObject) == (whole[section] as? NSObject), "\(section)")
            // One CSV table: its header, then rows of as many fields, which the whole output
            // prints after a line naming the section.
            let alone = try folio(["analytics", "--section", section, "--format", "csv"], store: store).out
            let lines = alone.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == (section == "funnel" ? 2 : (whole[section] as? [Any])?.count ?? -1) + (section == "funnel" ? 0 : 1), "\(section)")
            #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == lines[0].split(separator: ",").count && !$0.hasPrefix("#") })
            #expect(csv.contains("# \(section)\r\n" + alone), "\(section)")
            let shown = try folio(["analytics", "--section", section], store: store).out
            #expect(table.contains(section.replacingOccurrences(of: "_", with: " ") + "\n" + shown), "\(section)")
        }
        let unknown = try folio(["analytics", "--section", "by_client"], store: store)
        #expect(unknown.status != 0 && unknown.err.contains("by_client") && unknown.err.contains("by_page_type"), "\(unknown.err)")
    }

    @Test("the generator writes the committed fixture again from its seed; `-` is standard output to generate and export")
    func fixtureIsReproducible() throws {
        let generated = try folio(["generate", "--clients", "12", "--seed", "28", "--content-min", "2000", "--content-max", "6000"])
        let committed = try String(contentsOf: projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        #expect(generated.status == 0)
        #expect(generated.out == committed)
        let small = try folio(["generate", "--content-min", "1000", "--content-max", "2000"])
        #expect(small.status != 0 && small.err.hasPrefix("folio: --content-min must be at least 1500, not 1000: a page's headline"), "\(small.err)")
        // A bound clashing with the other's default says so.
        let clash = try folio(["generate", "--content-max", "1500"])
        #expect(clash.status != 0 && clash.err == "folio: --content-min (20000, its default) must be at most --content-max (1500)\n", "\(clash.err)")
        // A number that is no whole number, or past its type, is refused by what the option takes.
        let negative = try folio(["generate", "--seed", "-1"])
        #expect(negative.status != 0 && negative.err.hasSuffix("'--seed <seed>': it takes a whole number, written in digits alone\n"), "\(negative.err)")
        let huge = try folio(["demo", "--clients", "99999999999999999999"])
        #expect(huge.status != 0 && huge.err.hasSuffix("'--clients <count>': it takes a whole number up to \(Int.max)\n"), "\(huge.err)")
        let directory = try TemporaryDirectory()
        let dashed = try folio(["generate", "--clients", "12", "--seed", "28", "--content-min", "2000", "--content-max", "6000", "-"], in: directory.url)
        #expect(dashed.status == 0 && dashed.out == committed)
        let store = directory.path("store")
        try folio(["import", "-"], store: store, input: committed)
        let exported = try folio(["export", "-"], store: store, in: directory.url)
        let plain = try folio(["export"], store: store).out
        #expect(exported.status == 0 && exported.out == plain)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")) == ["store"], "no file named -")
    }

    @Test("an import file may open with a UTF-8 byte order mark, as a content file may; an argument that is not UTF-8 is refused, not stored changed")
    func encodings() throws {
        let directory = try TemporaryDirectory()
        let fixture = try Data(contentsOf: projectRoot.appendingPathComponent("Fixtures/small.jsonl"))
        let marked = directory.path("marked.jsonl")
        try (Data([0xEF, 0xBB, 0xBF]) + fixture).write(to: URL(fileURLWithPath: marked))
        let store = directory.path("store")
        let imported = try folio(["import", marked], store: store)
        #expect(imported.status == 0, "\(imported.err)")
        #expect(try folio(["export"], store: store).out.utf8.count > fixture.count / 2)
        // The shell passes the bytes as they are; a Swift string could not hold them.
        let created = try folio([], store: store, through: ["/bin/sh", "-c", #"exec "$0" client create --name "$(printf 'bad\377name')" "$@""#])
        #expect(created.status == 1 && created.out.isEmpty)
        #expect(created.err == "folio: argument 4 (bad\u{FFFD}name) is not valid UTF-8: Folio reads its arguments, names, notes and paths alike, as UTF-8 text\n", "\(created.err)")
        #expect(try folio(["stats", "--format", "json"], store: store).out.contains(#""head":415"#))
        // A store's path from the environment too: refused, where it would make a store under another name.
        let variable = try folio([], through: ["/bin/sh", "-c", #"FOLIO_STORE="$(printf 'st\376ore')" exec "$0" client create --name Eve"#], in: directory.url)
        #expect(variable.status == 64 && variable.err == "folio: FOLIO_STORE (st\u{FFFD}ore) is not valid UTF-8: Folio reads paths as UTF-8 text\n", "\(variable.err)")
        // Only where it names the store: --store names another, and generate takes none.
        for arguments in [#"clients --store "$1""#, "generate --clients 1"] {
            let unused = try folio([store], through: ["/bin/sh", "-c", #"FOLIO_STORE="$(printf 'st\376ore')" exec "$0" "# + arguments], in: directory.url)
            #expect(unused.status == 0, "\(arguments): \(unused.err)")
        }
        // A working directory named so: a relative path opens the store it names.
        let named = try folio([], through: ["/bin/sh", "-c", #"mkdir "$(printf 'dir\377')" && cd "$(printf 'dir\377')" && "$0" client create --name Eve --store here >/dev/null && exec "$0" clients --store here --format csv"#], in: directory.url)
        #expect(named.status == 0 && named.out.contains(",Eve,"), "\(named.err)")
    }

    @Test("demo imports the fixture from the project unless --clients or --seed asks for a generated history; a bad --clients is refused and makes no store")
    func demoOptions() throws {
        let directory = try TemporaryDirectory()
        let fixture = try folio(["demo"], store: directory.path("fixture"), in: projectRoot)
        #expect(fixture.status == 0 && fixture.out.hasPrefix("Imported 415 events of 12 clients"), "\(fixture.err)")
        // Its closing suggestions name the store it was given, so that each runs as printed.
        #expect(fixture.out.hasSuffix("\nNext: folio clients --status paid --store \(directory.path("fixture")), folio history CLIENT --diff --store \(directory.path("fixture")), folio analytics --format json --store \(directory.path("fixture")) (store: \(directory.path("fixture")))\n"), "\(fixture.out.suffix(300))")
        let generated = try folio(["demo", "--clients", "2", "--seed", "5"], store: directory.path("generated"), in: projectRoot)
        #expect(generated.status == 0 && generated.out.contains(" events of 2 clients"), "\(generated.out.prefix(200))\(generated.err)")
        // On a store that holds events, the options that shape a new history are said to do nothing.
        let shown = try folio(["demo", "--seed", "6"], store: directory.path("generated"), in: projectRoot)
        #expect(shown.status == 0 && shown.out.hasPrefix("The store at \(directory.path("generated")) already holds events; showing it as it is (--seed only shapes a history imported into an empty store).\n"), "\(shown.out.prefix(300))")
        for (clients, reason) in [("-1", "'--clients <count>': it takes a whole number, 1 or more"), ("0", "--clients must be 1 or more")] {
            let refused = try folio(["demo", "--clients", clients], store: directory.path("refused"))
            #expect(refused.status != 0 && refused.err.contains(reason), "\(refused.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("refused")))
        // A demo that fails leaves no store behind, nor anything in a directory of the user's.
        let unwritable = ["TMPDIR": directory.path("no-such-directory")]
        let failed = try folio(["demo", "--seed", "5"], store: directory.path("failed"), environment: unwritable)
        #expect(failed.status == 1 && failed.err.hasPrefix("folio: cannot write \(directory.path("no-such-directory"))/folio-demo-"), "\(failed.err)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("failed")))
        try FileManager.default.createDirectory(atPath: directory.path("mine"), withIntermediateDirectories: false)
        #expect(try folio(["demo", "--seed", "5"], store: directory.path("mine"), environment: unwritable).status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("mine")) == [])
        // A data file of 0 bytes is named, as by any other command, not taken for a new store.
        #expect(FileManager.default.createFile(atPath: directory.path("mine") + "/data.mdb", contents: Data()))
        let empty = try folio(["demo"], store: directory.path("mine"))
        #expect(empty.status == 1 && empty.err.contains("its data file is empty (0 bytes)"), "\(empty.err)")
    }

    @Test("a demo whose new store another process makes first says so as the demo's, and leaves that store as it is")
    func demoRacedByAWrite() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let demo = Process()
        demo.executableURL = try products().appendingPathComponent("folio")
        demo.arguments = ["demo", "--clients", "400", "--store", store]
        demo.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        demo.standardError = err
        try demo.run()
        // Once it imports beside the path, a client is made at the path itself.
        try waitWhile { try !FileManager.default.contentsOfDirectory(atPath: directory.path("")).contains { $0.hasPrefix("store.importing-") } && demo.isRunning }
        let created = try folio(["client", "create", "--name", "First"], store: store)
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        demo.waitUntilExit()
        #expect(created.status == 0, "\(created.err)")
        #expect(demo.terminationStatus == 1 && said == "folio: cannot build the demo store at \(store): another process made a store there meanwhile, which is left as it is; `folio demo` again shows it\n", "\(said)")
        #expect(try folio(["clients", "--format", "csv"], store: store).out.split(separator: "\r\n").count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")) == ["store"])
    }

    @Test("the store is --store, else $FOLIO_STORE, else ./folio-store")
    func storeLocation() throws {
        let directory = try TemporaryDirectory()
        let named = ["FOLIO_STORE": directory.path("env")]
        let made = try folio(["client", "create", "--name", "A"], environment: named)
        #expect(made.status == 0 && made.err == "folio: made a new store at \(directory.path("env")) for this client\n", "\(made.err)")
        #expect(try folio(["clients", "--format", "csv"], environment: named).out.contains(",A,"))
        let elsewhere = try folio(["clients"], store: directory.path("flag"), environment: named)
        #expect(elsewhere.status != 0 && elsewhere.err.hasPrefix("folio: no store at \(directory.path("flag")):"), "\(elsewhere.err)")
        let none = try folio(["clients"], in: directory.url)
        #expect(none.status != 0 && none.err.hasPrefix("folio: no store at folio-store:"), "\(none.err)")
        #expect(try folio(["client", "create", "--name", "B"], in: directory.url).status == 0)
        #expect(try folio(["clients", "--format", "csv"], store: directory.path("folio-store")).out.contains(",B,"))
    }

    @Test("an import keeps an event's correlation and causation ids, and an export writes them back lowercased, as every UUID")
    func correlation() throws {
        let directory = try TemporaryDirectory()
        let client = "0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162"
        let line = #"{"id":"00000000-0000-4000-8000-000000000001","position":1,"stream":"client-\#(client)","stream_version":1,"type":"ClientCreated","schema_version":2,"recorded_at":"2026-01-05T09:00:01.000000Z","actor":"admin","correlation_id":"6C0F3A52-8F7E-4D2A-9A51-0B9E1C1D2E3F","causation_id":"00000000-0000-4000-8000-000000000009","data":{"client_id":"\#(client)","name":"Ada","email":null,"metadata":{}}}"#
        let file = directory.path("history.jsonl")
        try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try folio(["import", file], store: directory.path("store")).status == 0)
        let exported = try json(try folio(["export"], store: directory.path("store")).out)
        #expect(exported["correlation_id"] as? String == "6c0f3a52-8f7e-4d2a-9a51-0b9e1c1d2e3f")
        #expect(exported["causation_id"] as? String == "00000000-0000-4000-8000-000000000009")
        let logged = try json(try folio(["log"], store: directory.path("store")).out)
        #expect(logged["correlation_id"] as? String == "6c0f3a52-8f7e-4d2a-9a51-0b9e1c1d2e3f" && logged["causation_id"] as? String == "00000000-0000-4000-8000-000000000009")
    }

    @Test("what a command records when an option is left out, and what each option sets; filters keep the rows they name")
    func defaultsAndFilters() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let client = try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)
        #expect(client["email"] is NSNull && (client["metadata"] as? [String: Any])?.isEmpty == true, "\(client)")
        let id = try #require(client["id"] as? String)
        let token = try #require(try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)["activation_token"] as? String)
        try folio(["client", "activate", token], store: store)
        // A payment with no version named, before any is current, names none (rule 6).
        let started = try json(try folio(["payment", "start", id, "--intent", "pi_0", "--amount", "100", "--format", "json"], store: store).out)
        #expect(started["status"] as? String == "pending" && started["content_version_id"] is NSNull, "\(started)")
        let plain = try json(try folio(["version", "draft", id, "--page", "agreement", "--content", "-", "--format", "json"], store: store, input: "{}").out)
        #expect(plain["created_by"] as? String == "admin" && plain["iteration_notes"] is NSNull && plain["hypothesis"] is NSNull, "\(plain)")
        #expect((plain["metadata"] as? [String: Any])?.isEmpty == true)
        let full = try json(try folio([
            "version", "draft", id, "--page", "processing", "--content", "-", "--notes", "Shorter", "--hypothesis", "More sign",
            "--by", "jonas", "--metadata", #"{"k":1}"#, "--format", "json",
        ], store: store, input: "{}").out)
        #expect(full["created_by"] as? String == "jonas" && full["iteration_notes"] as? String == "Shorter" && full["hypothesis"] as? String == "More sign", "\(full)")
        #expect((full["metadata"] as? [String: Any])?["k"] as? Int == 1)
        let versions = try [plain, full].map { try #require($0["id"] as? String) }
        for version in versions { try folio(["version", "promote", version], store: store) }
        let cancelled = try json(try folio(["payment", "cancel", id, "--intent", "pi_0", "--amount", "100", "--format", "json"], store: store).out)
        #expect(cancelled["status"] as? String == "cancelled" && cancelled["created_at"] as? String == started["created_at"] as? String, "\(cancelled)")
        #expect(try #require(cancelled["updated_at"] as? String) > (try #require(started["updated_at"] as? String)))
        try folio(["payment", "fail", id, "--intent", "pi_1", "--amount", "50000", "--version", versions[1], "--reason", "declined"], store: store)
        // A failed client was activated once: again is refused (rule 2).
        let again = try folio(["client", "activate", token], store: store)
        #expect(again.status != 0 && again.err.contains("is failed: activating twice is refused (rule 2"), "\(again.err)")

        // The log: every line has the envelope's keys and a hash, in its client's stream; the actor is --by or admin.
        let lines = try folio(["log"], store: store).out.split(separator: "\n").map { try json(String($0)) }
        let envelope: Set = ["id", "position", "stream", "stream_version", "type", "schema_version", "recorded_at", "actor", "correlation_id", "causation_id", "data", "hash"]
        for line in lines {
            #expect(Set(line.keys) == envelope, "\(line.keys)")
            #expect(line["stream"] as? String == "client-" + ((line["data"] as? [String: Any])?["client_id"] as? String ?? ""))
        }
        #expect(lines.filter { $0["type"] as? String == "VersionDrafted" }.map { $0["actor"] as? String } == ["admin", "jonas"])
        func rows(_ arguments: [String]) throws -> [[String: Any]] {
            let result = try folio(arguments + ["--format", "json"], store: store)
            #expect(result.status == 0, "\(arguments): \(result.err)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]])
        }
        let current = try rows(["versions", "--current"])
        #expect(Set(current.compactMap { $0["id"] as? String }) == Set(versions) && current.allSatisfy { $0["is_current"] as? Bool == true })
        #expect(try rows(["versions", "--page", "processing"]).compactMap { $0["id"] as? String } == [versions[1]])
        #expect(try rows(["payments", "--status", "cancelled"]).compactMap { $0["stripe_payment_intent_id"] as? String } == ["pi_0"])
        #expect(try rows(["payments", "--version", versions[1]]).compactMap { $0["stripe_payment_intent_id"] as? String } == ["pi_1"])
        #expect(try rows(["payments", "--version", versions[0]]).isEmpty)
        // `projections` alone is `projections status`; analytics as of position 0 is empty.
        #expect(try folio(["projections"], store: store).out == folio(["projections", "status"], store: store).out)
        let empty = try json(try folio(["analytics", "--as-of", "0", "--format", "json"], store: store).out)
        #expect((empty["by_version"] as? [Any])?.isEmpty == true && (empty["funnel"] as? [String: Any])?["created"] as? Int == 0, "\(empty)")

        // The history keeps the payment made before any version was current, and says when its
        // client was deleted.
        try folio(["client", "delete", id, "--by", "gdpr"], store: store)
        let history = try json(try folio(["history", id, "--format", "json"], store: store).out)
        #expect(history["deleted_by"] as? String == "gdpr")
        let unlinked = try #require(history["payments_without_version"] as? [[String: Any]])
        #expect(unlinked.map { $0["stripe_payment_intent_id"] as? String } == ["pi_0"])
        #expect((unlinked.first?["reports"] as? [[String: Any]])?.map { $0["status"] as? String } == ["pending", "cancelled"])
        // They belong to no page: a history of one page leaves them out, as null (not looked
        // for), where a client with none has an empty list (Fixtures/golden/history-first.json).
        let onePage = try json(try folio(["history", id, "--page", "agreement", "--format", "json"], store: store).out)
        #expect(onePage["payments_without_version"] is NSNull, "\(onePage)")
        let deletedAt = try #require(history["deleted_at"] as? String)
        let table = try folio(["history", id], store: store).out
        #expect(table.hasPrefix("A (\(id)), deleted \(deletedAt) by gdpr\n"), "\(table)")
        #expect(table.contains("\npayments without a content version (none was current)\n  payment     pi_0  100 cents\n    pending     "), "\(table)")
        #expect(table.contains(" by admin\n    cancelled   "), "\(table)")
    }

    @Test("history lists promotions, demotions and outcomes in the log's order, also when they share one time (a clock behind the log)")
    func historyAtOneTime() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        // One client created at a time ahead of this machine's clock: every command after it is
        // stamped with that time, as the log's times never go back.
        let text = try String(contentsOf: projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        let first = try #require(text.split(separator: "\n").first).replacingOccurrences(of: "2026-01-05T11:19:42.000000Z", with: "2030-01-01T00:00:00.000000Z")
        let file = directory.path("one.jsonl")
        try (first + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try folio(["import", file], store: store).status == 0)
        let client = "28d200e1-a560-4746-8018-8bf6b104a802"
        func draft(_ body: String) throws -> String {
            let drafted = try folio(["version", "draft", client, "--page", "agreement", "--content", "-", "--format", "json"], store: store, input: body)
            return try #require(try json(drafted.out)["id"] as? String, "\(drafted.err)")
        }
        let (v1, v2) = (try draft(#"{"t":1}"#), try draft(#"{"t":2}"#))
        for command in [["version", "promote", v1], ["version", "promote", v2], ["version", "outcome", v2, "failure", "--notes", "Stalled\non the terms"], ["version", "promote", v1]] {
            #expect(try folio(command, store: store).status == 0)
        }
        let table = try folio(["history", client], store: store).out
        func events(_ version: String) -> [String] {
            let lines = table.split(separator: "\n").drop { !$0.contains(version) }.dropFirst()
            return lines.prefix { $0.hasPrefix("      ") }.map { String($0.split(separator: " ").first ?? "") }
        }
        #expect(events(v1) == ["promoted", "demoted", "promoted"], "\(table)")
        #expect(events(v2) == ["promoted", "outcome", "demoted"], "\(table)")
        // A line break in what people wrote shows as a space, as in a table's cells.
        #expect(table.contains("  failure — Stalled on the terms\n"), "\(table)")
        // JSON and CSV carry the order as log positions.
        let history = try json(try folio(["history", client, "--format", "json"], store: store).out)
        let versions = try #require(((history["pages"] as? [[String: Any]])?.first { $0["page_type"] as? String == "agreement" })?["versions"] as? [[String: Any]])
        let timelines = versions.map { ($0["timeline"] as? [[String: Any]] ?? []).map { "\($0["event"] ?? "") \($0["position"] ?? "")" } }
        #expect(timelines == [["promoted 4", "demoted 5", "promoted 7"], ["promoted 5", "outcome 6", "demoted 7"]], "\(timelines)")
        #expect(versions.allSatisfy { ($0["promoted_at"] as? [String])?.allSatisfy { $0 == "2030-01-01T00:00:00.000000Z" } == true })
    }

    @Test("every write command records who did it (--by, admin by default) as its event's actor; a blank one is refused and changes nothing")
    func everyWriteTakesActor() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let id = try #require(try json(try folio(["client", "create", "--name", "A", "--by", "ops", "--format", "json"], store: store).out)["id"] as? String)
        let token = try #require(try json(try folio(["token", "issue", id, "--by", "sales", "--format", "json"], store: store).out)["activation_token"] as? String)
        #expect(try folio(["client", "activate", token, "--by", "site"], store: store).status == 0)
        let version = try #require(try json(try folio(["version", "draft", id, "--page", "agreement", "--content", "-", "--by", "priya", "--format", "json"], store: store, input: "{}").out)["id"] as? String)
        let refused = try folio(["version", "promote", version, "--by", " "], store: store)
        #expect(refused.status == 1 && refused.err == "folio: the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank\n", "\(refused.err)")
        for arguments in [["version", "promote", version, "--by", "lead"], ["version", "outcome", version, "success", "--by", "ana"],
                          ["payment", "start", id, "--intent", "pi_1", "--amount", "5", "--by", "stripe"],
                          ["payment", "fail", id, "--intent", "pi_1", "--amount", "5", "--by", "stripe"],
                          ["payment", "cancel", id, "--intent", "pi_1", "--amount", "5"],
                          ["payment", "succeed", id, "--intent", "pi_2", "--amount", "5", "--by", "hook"], ["client", "delete", id, "--by", "gdpr"]] {
            let result = try folio(arguments, store: store)
            #expect(result.status == 0, "\(arguments): \(result.err)")
        }
        let log = try folio(["log"], store: store).out.split(separator: "\n").map { try json(String($0)) }
        #expect(log.map { "\($0["type"] as? String ?? "") \($0["actor"] as? String ?? "")" } == [
            "ClientCreated ops", "TokenIssued sales", "ClientActivated site", "VersionDrafted priya", "VersionPromoted lead", "OutcomeRecorded ana",
            "PaymentInitiated stripe", "PaymentFailed stripe", "PaymentCancelled admin", "PaymentSucceeded hook", "ClientDeleted gdpr",
        ])
    }

    @Test("write commands print the row they made, in every format")
    func writeCommands() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let created = try folio(["client", "create", "--name", "Ada Lovelace", "--email", "ada@example.com", "--metadata", #"{"source":"referral"}"#, "--format", "json"], store: store)
        #expect(created.status == 0)
        let client = try json(created.out)
        #expect(client["status"] as? String == "pending")
        #expect((client["metadata"] as? [String: Any])?["source"] as? String == "referral")
        let id = try #require(client["id"] as? String)
        let issued = try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)
        let token = try #require(issued["activation_token"] as? String)
        #expect(token.range(of: #"^G[0-9]{4}$"#, options: .regularExpression) != nil)
        let csv = try folio(["client", "activate", token, "--format", "csv"], store: store)
        #expect(csv.out.hasPrefix("id,name,email,activation_token,current_version_id,status,metadata,created_at"))
        #expect(csv.out.contains(",active,"))
        let draft = try json(try folio(["version", "draft", token, "--page", "agreement", "--content", "-", "--notes", "Shorter", "--hypothesis", "More sign", "--format", "json"], store: store, input: #"{"title":"Terms"}"#).out)
        #expect(draft["version_number"] as? Int == 1)
        #expect(draft["is_current"] as? Bool == false)
        let version = try #require(draft["id"] as? String)
        let promoted = try json(try folio(["version", "promote", version, "--format", "json"], store: store).out)
        #expect(promoted["is_current"] as? Bool == true)
        // Again, and an activation again: the same answer, and a note that nothing changed.
        let again = try folio(["version", "promote", version, "--format", "json"], store: store)
        #expect(again.status == 0)
        #expect(try json(again.out)["is_current"] as? Bool == true)
        #expect(again.err == "folio: content version \(version) is current already: promoting it again changes nothing (rule 4)\n")
        let reactivated = try folio(["client", "activate", token, "--format", "csv"], store: store)
        #expect(reactivated.status == 0 && reactivated.out.contains(",\(token),\(version),active,"), "\(reactivated.out)")
        #expect(reactivated.err == "folio: client \(id) is active already, and \(token) is its token: activating again changes nothing (rule 2)\n")
        let outcome = try json(try folio(["version", "outcome", version, "success", "--notes", "Signed", "--format", "json"], store: store).out)
        #expect(outcome["outcome"] as? String == "success")
        let paid = try json(try folio(["payment", "succeed", token, "--intent", "pi_cli", "--amount", "50000", "--format", "json"], store: store).out)
        #expect(paid["status"] as? String == "succeeded" && paid["amount"] as? Int == 50_000 && paid["content_version_id"] as? String == version)
        let table = try folio(["client", "show", token], store: store)
        #expect(table.out.contains("status") && table.out.contains("paid"))
        // Metadata from a file (`@FILE`), larger than one argument may be; a file that cannot be
        // read is named, and nothing is appended.
        let large = "{\"notes\":\"" + String(repeating: "x", count: 300_000) + "\"}"
        try large.write(toFile: directory.path("meta.json"), atomically: false, encoding: .utf8)
        let other = directory.path("other")
        let fromFile = try json(try folio(["client", "create", "--name", "Bea", "--metadata", "@" + directory.path("meta.json"), "--format", "json"], store: other).out)
        #expect(((fromFile["metadata"] as? [String: Any])?["notes"] as? String)?.count == 300_000)
        let head = try folio(["log"], store: other).out
        let missing = try folio(["version", "draft", try #require(fromFile["id"] as? String), "--page", "agreement", "--content", "-", "--metadata", "@" + directory.path("none.json")], store: other, input: "{}")
        #expect(missing.status != 0 && missing.err == "folio: cannot read \(directory.path("none.json")): No such file or directory\n", "\(missing.err)")
        #expect(try folio(["log"], store: other).out == head)
        let list = try folio(["clients", "--status", "paid", "--format", "json"], store: store)
        #expect(try (JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [Any])?.count == 1)
        let asOf = try folio(["clients", "--status", "paid", "--as-of", "3", "--format", "json"], store: store)
        #expect(asOf.out == "[]\n")
        let log = try folio(["log", "--type", "PaymentSucceeded"], store: store)
        #expect(log.out.split(separator: "\n").count == 1 && log.out.contains(#""stripe_payment_intent_id":"pi_cli""#))
        // Nothing comes after the last position yet, with or without a type, and that is no mistake.
        let lastPosition = try folio(["log"], store: store).out.split(separator: "\n").count
        for type in [[], ["--type", "PaymentSucceeded"]] {
            let last = try folio(["log", "--after", String(lastPosition)] + type, store: store)
            #expect(last.status == 0 && last.out.isEmpty && last.err.isEmpty, "\(type): \(last.err)")
        }
        // A limit past any log's length is no limit; one of 0, none.
        #expect(try folio(["log", "--limit", "99999999999999999999999"], store: store).out == folio(["log"], store: store).out)
        #expect(try folio(["log", "--after", "2", "--limit", "3"], store: store).out.split(separator: "\n").map { try json(String($0))["position"] as? Int } == [3, 4, 5])
        #expect(try folio(["log", "--limit", "0"], store: store).out.isEmpty)
        #expect(try folio(["verify"], store: store).out.hasPrefix("ok: 7 events"))
        let stats = try json(try folio(["stats", "--format", "json"], store: store).out)
        #expect(stats["head"] as? Int == 7)
        #expect(stats["storage_format"] as? Int == Int(EventStore.formatVersion))
        let fileBytes = try #require(FileManager.default.attributesOfItem(atPath: store + "/data.mdb")[.size] as? Int)
        #expect(stats["file_bytes"] as? Int == fileBytes, "the store file's size, as the data file has it")
        // Its parts add up to it.
        let parts = ["log_bytes", "log_index_bytes", "write_index_bytes", "read_model_bytes", "other_bytes"].compactMap { stats[$0] as? Int }
        #expect(parts.count == 5 && parts.reduce(0, +) == fileBytes && parts.allSatisfy { $0 > 0 }, "\(stats)")
        let deleted = try json(try folio(["client", "delete", token, "--format", "json"], store: store).out)
        #expect(deleted["id"] as? String == id)
        #expect(try folio(["clients", "--format", "json"], store: store).out == "[]\n")
    }

    @Test("bad input: one line on stderr naming the rule, a non-zero exit, and nothing appended", arguments: [
        (["client", "activate", "G123"], "G followed by 4 digits"),
        (["client", "activate", "g1234"], "not an activation token"),
        (["client", "activate", "G12345"], "not an activation token"),
        (["client", "activate", "G9999"], "G9999 was never issued"),
        (["client", "activate", "4a9f6c1e-0000-4000-8000-000000000000"], "4a9f6c1e-0000-4000-8000-000000000000 is a client's id: activation takes the client's token, G followed by 4 digits (rule 1), which `folio client show 4a9f6c1e-0000-4000-8000-000000000000` shows"),
        (["client", "show", "4a9f6c1e-0000-4000-8000-000000000000"], "4a9f6c1e-0000-4000-8000-000000000000"),
        (["version", "promote", "not-a-uuid"], "not a content version id"),
        (["version", "draft", "G0001", "--page", "home", "--content", "-"], "home"),
        (["client", "create", "--name", "X", "--metadata", "[1]"], "--metadata must be a JSON object"),
        (["client", "create", "--name", "X", "--metadata", "@"], "--metadata @ names no file: write @PATH, or @- for standard input"),
        (["version", "draft", "G0001", "--page", "agreement", "--content", ""], "--content names no file"),
        (["payment", "succed", "G0001", "--intent", "pi_a", "--amount", "100"], "folio payment has no command named \"succed\""),
        (["client", "create", "--name", "X", "--email", "nope"], "not an email address"),
        (["payment", "succeed", "G0001", "--intent", "pi_a", "--amount", "100", "--amount=200"], "--amount is given twice: an option takes one value"),
        (["clients", "--status", "paid", "--status", "active"], "--status is given twice"),
        (["versions", "--current", "--current"], "--current is given twice: a flag is given once"),
        (["--generate-completion-script", "powershell"], "Can't generate completion scripts for 'powershell'. Please use --generate-completion-script=<shell> with one of: zsh bash fish"),
        (["client", "create"], "--name"),
        (["client", "create", "--name", "-Ana"], "folio: Missing value for '--name <name>': -Ana is read as an option; a value that starts with - is given after =, as in --name=-Ana\n"),
        (["version", "draft", "G0001", "--page", "agreement", "--content", "-", "--notes", "- first point"], "folio: Missing value for '--notes <text>': '- first point' is read as an option; a value that starts with - is given after =, as in '--notes=- first point'\n"),
        (["payments", "--status", "refunded"], "refunded"),
        (["clients", "--as-of", "yesterday"], "--as-of"),
        (["projections", "rebuild", "revenue"], "no projector is named \"revenue\""),
        (["projections", "rebuild", ""], "folio: no projector is named \"\": the projectors are"),
        (["projections", "rebuild", " clients"], "folio: no projector is named \" clients\": the projectors are"),
        (["projections", "rebuild", "--format", "json"], "Unknown option '--format'"),
        (["projections", "rebuild", "analytics", "clients", "analytics"], "folio: projector analytics is named twice: name each once\n"),
        (["log", "--type", ""], "folio: unknown event type \"\": one of ClientCreated"),
        (["log", "--type", "ClientRenamed"], "unknown event type"),
        (["versions", "--client", "4a9f6c1e-0000-4000-8000-000000000000"], "client 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["log", "--client", "4a9f6c1e-0000-4000-8000-000000000000"], "client 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["payments", "--version", "4a9f6c1e-0000-4000-8000-000000000000"], "content version 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["clients", "--as-of", "2026-02-30T00:00:00Z"], "not \"2026-02-30T00:00:00Z\""),
        (["clients", "--as-of", "-1"], "not \"-1\""),
        (["clients", "--as-of", "2"], "--as-of 2 is past the end of the log: its last position is 1"),
        (["analytics", "--as-of", "18446744073709551615"], "--as-of 18446744073709551615 is past the end of the log"),
        (["analytics", "--as-of", "18446744073709551616"], "--as-of 18446744073709551616 is past the end of any log: a position is at most 18446744073709551615"),
        (["log", "--limit", "-1"], #"folio: --limit takes a number of events, a whole number 0 or more, not "-1""#),
        (["log", "--limit", "5.5"], #"--limit takes a number of events, a whole number 0 or more, not "5.5""#),
        (["log", "--after", "-1"], #"folio: --after takes a log position, a whole number from 0 to 18446744073709551615, not "-1""#),
        (["log", "--after", "18446744073709551616"], #"--after takes a log position, a whole number from 0 to 18446744073709551615, not "18446744073709551616""#),
        (["log", "--after", "2"], "--after 2 is past the end of the log: its last position is 1"),
        (["log", "--after", "18446744073709551615", "--type", "ClientCreated"], "--after 18446744073709551615 is past the end of the log: its last position is 1"),
        (["generate", "--clients", "0"], "--clients must be 1 or more: a history of no clients holds no events"),
        (["payment", "start", "G0001", "--intent", "", "--amount", "5"], #"payment intent id "" is invalid: 1 to 255 visible ASCII characters, as Stripe's ids are (rule 6)"#),
        (["payment", "start", "G0001", "--intent", "pi_1", "--amount", "5", "--reason", "declined"], "--reason is for `payment fail` only"),
        (["version", "draft", "G0001", "--page", "agreement", "--content", "-", "--metadata", "@-"], "--content - and --metadata @- cannot both read standard input: give one of them a file"),
        (["payment", "start", "G0001", "--intent", "pi_1", "--amount", "500.5"], #"--amount "500.5" is not a whole number of cents: an amount is a positive whole number of cents up to 99999999, e.g. 50000 for $500 (rule 6)"#),
        (["payment", "fail", "G0001", "--intent", "pi_1", "--amount", "5e4"], #"--amount "5e4" is not a whole number of cents"#),
        (["payment", "succeed", "G0001", "--intent", "pi_1", "--amount", "99999999999999999999"], "folio: amount 99999999999999999999 is not allowed: it is a positive whole number of cents up to 99999999 (rule 6)\n"),
        (["client", "activate", "G12\n34"], #"G12\n34"#),
        (["versions", "--page", "other"], #"The value 'other' is invalid for '--page <page>': page type "other" is unknown: it is one of activation, agreement, confirmation, processing (rule 5)"#),
        (["history", "G0001", "--page", "Agreement"], #"page type "Agreement" is unknown: it is one of activation, agreement, confirmation, processing (rule 5)"#),
        (["version", "draft", "G0001", "--page", "terms", "--content", "-"], #"page type "terms" is unknown: it is one of activation, agreement, confirmation, processing (rule 5)"#),
        (["version", "outcome", "4a9f6c1e-0000-4000-8000-000000000000", "won"], #"The value 'won' is invalid for '<outcome>': outcome "won" is unknown: it is one of success, failure, pending (rule 5)"#),
        (["analytics", "--section", "a\nb"], #"The value 'a\nb' is invalid for '--section <section>'. Please provide one of"#),
        (["analytics", "--section", "a\nUsage: b"], #"The value 'a\nUsage: b' is invalid for '--section <section>'. Please provide one of"#),
        (["version", "outcome", "4a9f6c1e-0000-4000-8000-000000000000", "success"], "content version 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["version", "show", "4a9f6c1e-0000-4000-8000-000000000000"], "content version 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["version", "promote", "4a9f6c1e-0000-4000-8000-000000000000"], "content version 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["history", "4a9f6c1e-0000-4000-8000-000000000000"], "client 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["client", "delete", "4a9f6c1e-0000-4000-8000-000000000000"], "client 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["token", "issue", "4a9f6c1e-0000-4000-8000-000000000000"], "client 4a9f6c1e-0000-4000-8000-000000000000 does not exist (rule 7"),
        (["payment", "start", "G0001", "--intent", "pi\nx\u{1b}[31m", "--amount", "5"], #"pi\nx\u{1B}[31m"#),
    ] as [([String], String)])
    func refusals(arguments: [String], fragment: String) throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        try folio(["client", "create", "--name", "Existing"], store: store)
        let before = try folio(["export"], store: store).out
        let result = try folio(arguments, store: store)
        #expect(result.status != 0)
        #expect(result.out.isEmpty)
        let lines = result.err.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.err)")
        #expect(result.err.contains(fragment), "stderr: \(result.err)")
        #expect(try folio(["export"], store: store).out == before)
    }

    @Test("an empty --store is refused by name, by queries and by commands that make a store")
    func emptyStorePath() throws {
        for arguments in [["clients"], ["verify"], ["client", "create", "--name", "A"], ["import", "-"]] {
            let result = try folio(arguments + ["--store", ""], input: "")
            #expect(result.status != 0 && result.out.isEmpty, "\(arguments)")
            #expect(result.err == "folio: --store takes a store directory's path, not an empty one\n", "\(arguments): \(result.err)")
        }
    }

    @Test("payment refusals: before activation, a bad amount, a duplicate intent of another client")
    func paymentRefusals() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let a = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        let early = try folio(["payment", "succeed", a, "--intent", "pi_1", "--amount", "50000"], store: store)
        #expect(early.status != 0 && early.err.contains("before activation"))
        for client in [a] {
            let token = try #require(try json(try folio(["token", "issue", client, "--format", "json"], store: store).out)["activation_token"] as? String)
            try folio(["client", "activate", token], store: store)
        }
        // One out of the rule's range is refused alike, in the rule's words, however large.
        for amount in ["0", "-5", "100000000", "99999999999999999999999", "-99999999999999999999"] {
            let bad = try folio(["payment", "start", a, "--intent", "pi_2", "--amount", amount], store: store)
            #expect(bad.status == 1 && bad.err == "folio: amount \(amount) is not allowed: it is a positive whole number of cents up to 99999999 (rule 6)\n", "\(amount): \(bad.err)")
        }
        let b = try #require(try json(try folio(["client", "create", "--name", "B", "--format", "json"], store: store).out)["id"] as? String)
        let bToken = try #require(try json(try folio(["token", "issue", b, "--format", "json"], store: store).out)["activation_token"] as? String)
        try folio(["client", "activate", bToken], store: store)
        #expect(try folio(["payment", "start", a, "--intent", "pi_x", "--amount", "50000"], store: store).status == 0)
        let stolen = try folio(["payment", "succeed", b, "--intent", "pi_x", "--amount", "50000"], store: store)
        #expect(stolen.status != 0 && stolen.err.contains("rule 6"))
        // A late webhook, or a retried one: answered with the payment as it is, and a note on
        // standard error that it changed nothing; the log is the same.
        #expect(try folio(["payment", "succeed", a, "--intent", "pi_x", "--amount", "50000"], store: store).err.isEmpty)
        let before = try folio(["export"], store: store).out
        let late = try folio(["payment", "fail", a, "--intent", "pi_x", "--amount", "50000", "--reason", "card_declined", "--format", "json"], store: store)
        #expect(late.status == 0)
        #expect(try json(late.out)["status"] as? String == "succeeded")
        #expect(late.err == "folio: payment intent pi_x is succeeded: this late report that it is failed changes nothing (Stripe delivers events out of order; rule 6)\n")
        let retried = try folio(["payment", "succeed", a, "--intent", "pi_x", "--amount", "50000", "--format", "json"], store: store)
        #expect(retried.status == 0)
        #expect(try json(retried.out)["status"] as? String == "succeeded")
        #expect(retried.err == "folio: payment intent pi_x is succeeded already: the same report again changes nothing (webhooks retry; rule 6)\n")
        #expect(try folio(["export"], store: store).out == before)
    }

    @Test("a list prints the same columns whether it has rows or not; a history carries its changes with --diff (a table writes their values as JSON); a success clears a failure reason; as of the log's last position a list is what it is now")
    func columns() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let id = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        let token = try #require(try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)["activation_token"] as? String)
        try folio(["client", "activate", token], store: store)
        for content in [#"{"title":"Terms","steps":1}"#, #"{"title":"Short terms","steps":"1"}"#] {
            #expect(try folio(["version", "draft", token, "--page", "agreement", "--content", "-"], store: store, input: content).status == 0)
        }
        let failed = try json(try folio(["payment", "fail", token, "--intent", "pi_1", "--amount", "50000", "--reason", "declined", "--format", "json"], store: store).out)
        #expect(failed["failure_reason"] as? String == "declined")
        // A failure reason belongs to the failed status: a later success clears it.
        let paid = try json(try folio(["payment", "succeed", token, "--intent", "pi_1", "--amount", "50000", "--format", "json"], store: store).out)
        #expect(paid["status"] as? String == "succeeded" && paid["failure_reason"] is NSNull, "\(paid)")
        func header(_ arguments: [String]) throws -> Substring {
            let result = try folio(arguments + ["--format", "csv"], store: store)
            #expect(result.status == 0, "\(arguments): \(result.err)")
            return try #require(result.out.split(separator: "\r\n").first)
        }
        for list in ["clients", "versions", "payments"] {
            let full = try header([list])
            #expect(try header([list, "--as-of", "0"]) == full, "\(list)")
            #expect(full.hasSuffix("updated_at") || full.hasSuffix("demoted_at"), "\(list): \(full)")
        }
        #expect(try header(["clients", "--status", "paid"]) == header(["clients"]))
        // As of the log's last position, a list is what it is now.
        let head = try folio(["log"], store: store).out.split(separator: "\n").count
        for list in ["clients", "versions", "payments"] {
            let now = try folio([list, "--format", "json"], store: store), then = try folio([list, "--format", "json", "--as-of", String(head)], store: store)
            #expect(then.status == 0 && then.out == now.out, "\(list): \(then.err)")
        }
        let history = try folio(["history", token, "--diff", "--format", "csv"], store: store).out.split(separator: "\r\n")
        #expect(history.first?.hasSuffix(",payments,outcomes,timeline,changes") == true, "\(history)")
        #expect(history.last?.contains(#""kind"":""changed"",""new"":""Short terms"""#) == true, "\(history)")
        #expect(try folio(["history", token, "--format", "csv"], store: store).out.split(separator: "\r\n").first?.hasSuffix(",payments,outcomes,timeline") == true)
        // The first version has nothing before it to change from: null, where [] would say it changed nothing.
        let pages = try #require(try json(try folio(["history", token, "--diff", "--format", "json"], store: store).out)["pages"] as? [[String: Any]])
        let drafts = try #require(pages.first { $0["page_type"] as? String == "agreement" }?["versions"] as? [[String: Any]])
        #expect(drafts.count == 2 && drafts[0]["changes"] is NSNull && (drafts[1]["changes"] as? [Any])?.count == 2, "\(drafts)")
        // A table writes changed values as JSON: a number that became a string reads as changed.
        let table = try folio(["history", token, "--diff"], store: store).out
        #expect(table.contains("\n      ~ steps: 1 → \"1\"\n") && table.contains("\n      ~ title: \"Terms\" → \"Short terms\"\n"), "\(table)")

        // Content's keys cannot drive the terminal either: a control character or a bidirectional
        // override in a key is written out.
        let keys = #"{"title":"Short terms","steps":"1","\u001bc":1,"\u202ex":2}"#
        #expect(try folio(["version", "draft", token, "--page", "agreement", "--content", "-"], store: store, input: keys).status == 0)
        let escaped = try folio(["history", token, "--diff"], store: store).out
        #expect(escaped.contains("\n      + [\"\\u001bc\"]: 1\n") && escaped.contains("\n      + [\"\\u{202e}x\"]: 2\n"), "\(escaped)")
        #expect(!escaped.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" })

        // A title written again in another Unicode form is a change, and says why it reads the same.
        #expect(try folio(["version", "draft", token, "--page", "agreement", "--content", "-"], store: store, input: #"{"title":"Caf\u00e9 terms"}"#).status == 0)
        #expect(try folio(["version", "draft", token, "--page", "agreement", "--content", "-"], store: store, input: #"{"title":"Cafe\u0301 terms"}"#).status == 0)
        let forms = try folio(["history", token, "--diff"], store: store).out
        #expect(forms.contains("\n      ~ title: \"Caf\u{E9} terms\" → \"Cafe\u{301} terms\" (the same text in another Unicode form)\n"), "\(forms)")
    }

    @Test("--columns prints only the columns named, in their order, and --limit the first rows of the list, in every format, with filters and --as-of; a column a list has not, one named twice and a limit that is not a whole number are refused")
    func listColumnsAndLimit() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        func rows(_ arguments: [String]) throws -> [[String: Any]] {
            let result = try folio(arguments + ["--format", "json"], store: store)
            #expect(result.status == 0, "\(arguments): \(result.err)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]], "\(arguments)")
        }
        let chosen = [
            "clients": ["status", "name", "activation_token"],
            "versions": ["version_number", "content", "page_type"],
            "payments": ["amount", "stripe_payment_intent_id"],
        ]
        for (list, columns) in chosen {
            let all = try rows([list])
            #expect(all.count > 5, "\(list)")
            let named = columns.joined(separator: ",")
            let only = try rows([list, "--columns", named])
            #expect(only.count == all.count, "\(list)")
            for (row, whole) in zip(only, all) {
                #expect(Set(row.keys) == Set(columns), "\(list): \(row.keys)")
                for column in columns { #expect((row[column] as? NSObject) == (whole[column] as? NSObject), "\(list).\(column)") }
            }
            // The names' order is the columns' order, as the header of CSV and of a table gives it.
            let csv = try folio([list, "--columns", named, "--format", "csv"], store: store).out.split(separator: "\r\n", omittingEmptySubsequences: false)
            #expect(csv.first.map(String.init) == named && csv.count == all.count + 2, "\(list): \(csv.prefix(2))")
            let table = try folio([list, "--columns", columns.joined(separator: ", ")], store: store).out
            #expect(table.split(separator: "\n").first?.split(separator: " ").map(String.init) == columns, "\(list): \(table.prefix(200))")
            let json = try folio([list, "--columns", named, "--format", "json"], store: store).out
            #expect(json.hasPrefix("[\n{\"\(columns[0])\":"), "\(list): \(json.prefix(100))")

            // --limit: the list's first rows, as printed whole.
            func objects(_ text: String) -> [Substring] {
                text.split(separator: "\n").dropFirst().dropLast().map { $0.hasSuffix(",") ? $0.dropLast() : $0 }
            }
            let whole = objects(try folio([list, "--format", "json"], store: store).out)
            let firstThree = objects(try folio([list, "--limit", "3", "--format", "json"], store: store).out)
            #expect(firstThree.count == 3 && firstThree[...] == whole.prefix(3), "\(list): \(firstThree)")
            #expect(try folio([list, "--limit", "100000", "--format", "csv"], store: store).out == folio([list, "--format", "csv"], store: store).out)
            #expect(try rows([list, "--limit", String(all.count - 1)]).count == all.count - 1, "\(list)")
            #expect(try rows([list, "--limit", "0"]).isEmpty)
            #expect(try folio([list, "--limit", "0", "--columns", named, "--format", "csv"], store: store).out == named + "\r\n")
        }
        // With a filter and --as-of, the limit cuts the list they give.
        let paid = try rows(["clients", "--status", "paid"])
        let firstPaid = try rows(["clients", "--status", "paid", "--limit", "1", "--columns", "id"])
        #expect(paid.count > 1 && firstPaid.map { $0["id"] as? String } == [paid[0]["id"] as? String], "\(firstPaid)")
        let now = try rows(["payments"]), then = try rows(["payments", "--as-of", "400"]), firstThen = try rows(["payments", "--as-of", "400", "--limit", "2"])
        #expect(then.count > 2 && then.count < now.count && firstThen.map { $0["id"] as? String } == then.prefix(2).map { $0["id"] as? String }, "\(firstThen)")

        // Refused, naming what the option takes.
        let refusals: [([String], String)] = [
            (["clients", "--columns", "name,emial"], #"folio: --columns: clients have no column "emial"; theirs are id, name, email, activation_token, current_version_id, status, metadata, created_at, activated_at, updated_at"#),
            (["payments", "--columns", "amount,amount"], "folio: --columns names amount twice"),
            (["versions", "--columns", "id,,content"], #"folio: --columns takes column names separated by commas, such as name,status, not "id,,content""#),
            (["versions", "--columns", "failure_reason"], #"folio: --columns: versions have no column "failure_reason"; theirs are id, client_id, page_type, content, iteration_notes, hypothesis, outcome, is_current, version_number, created_at, created_by, metadata, promoted_at, demoted_at"#),
            (["clients", "--limit", "-1"], "folio: The value '-1' is invalid for '--limit <count>': it takes a whole number, written in digits alone"),
        ]
        for (arguments, message) in refusals {
            let refused = try folio(arguments, store: store)
            #expect(refused.status == 64 && refused.out.isEmpty && refused.err == message + "\n", "\(arguments): \(refused.err)")
        }
    }

    @Test("a history does not compare content holding two keys that are one text in two Unicode forms (an earlier export's), and says why")
    func historyOfEquivalentKeys() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let id = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        for content in [#"{"a":1}"#, #"{"b":1}"#, #"{"c":1}"#, #"{"d":1}"#] {
            #expect(try folio(["version", "draft", id, "--page", "agreement", "--content", "-"], store: store, input: content).status == 0)
        }
        // An earlier Folio kept such content; an export of it imports as it stands.
        let exported = try folio(["export"], store: store).out
        // With a fraction too, which the line's one-pass reading takes as written.
        let held = "{\"price\":1.5,\"\u{C5}\":1,\"\u{212B}\":2}"
        // Its lines' digests are removed, as a line edited must have them removed to import.
        let edited = exported.replacingOccurrences(of: #""content":{"b":1}"#, with: #""content":"# + held)
            .replacingOccurrences(of: #","digest":"[0-9a-f]{64}""#, with: "", options: .regularExpression)
        #expect(edited != exported)
        let restored = directory.path("restored")
        #expect(try folio(["import", "-"], store: restored, input: edited).status == 0)

        let table = try folio(["history", id, "--diff"], store: restored).out
        let why = "holds the keys \"\u{C5}\" (U+00C5) and \"\u{212B}\" (U+212B) in one object, one text in two Unicode forms"
        #expect(table.contains("  v2  ") && table.contains("\n      (not compared with the version before: its content \(why))\n"), "\(table)")
        #expect(table.contains("\n      (not compared with the version before: the previous version's content \(why))\n"), "\(table)")
        // v4 against v3 is compared as ever; nothing claims a value of null.
        #expect(table.contains("\n      - c: 1\n      + d: 1\n") || table.contains("\n      + d: 1\n      - c: 1\n"), "\(table)")
        #expect(!table.contains("null"), "\(table)")
        let pages = try #require(try json(try folio(["history", id, "--diff", "--format", "json"], store: restored).out)["pages"] as? [[String: Any]])
        let versions = try #require(pages.first { $0["page_type"] as? String == "agreement" }?["versions"] as? [[String: Any]])
        // The first has none before it; v2 and v3 were not compared.
        #expect(versions.map { $0["changes"] is NSNull } == [true, true, true, false])
        #expect((versions[3]["changes"] as? [[String: Any]])?.count == 2)
    }

    @Test(
        "an import from standard input refuses a line that is not a JSON object, or a first line that is no event's, as it arrives, not once the input ends (or fills the disk)",
        arguments: ["garbage", "{", #"{"a":1}"#, #"{"id":"x"}"#]
    )
    func importFromEndlessInput(_ line: String) throws {
        let directory = try TemporaryDirectory()
        let process = Process()
        process.executableURL = try products().appendingPathComponent("folio")
        process.arguments = ["import", "-", "--store", directory.path("store")]
        let input = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
        // The input stays open, as `yes` or a stuck producer keeps it: the import must end anyway.
        waitWhile { process.isRunning }
        let ended = !process.isRunning
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(ended, "the import waited for the end of its input")
        #expect(process.terminationStatus != 0)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.hasPrefix("folio: line 1: ") && message.split(separator: "\n").count == 1, "\(message)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("store")))
    }

    @Test("an import whose standard input is a directory says it cannot read standard input")
    func importFromDirectory() throws {
        let directory = try TemporaryDirectory()
        let process = Process()
        process.executableURL = try products().appendingPathComponent("folio")
        process.arguments = ["import", "-", "--store", directory.path("store")]
        let err = Pipe()
        process.standardInput = FileHandle(forReadingAtPath: directory.url.path)
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "folio: cannot read standard input: Is a directory\n")
        #expect(!FileManager.default.fileExists(atPath: directory.path("store")))
    }

    @Test("an import stopped outright leaves its unfinished store aside, which the next import into that path removes, saying so; a running import's is left alone")
    func abandonedImports() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("restored")
        let bad = directory.path("bad.jsonl")
        try "not json\n".write(toFile: bad, atomically: true, encoding: .utf8)
        func stagings() throws -> Set<String> {
            Set(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0.hasPrefix("restored.importing-") })
        }
        // Imports from standard input that never ends: each waits with its store made aside.
        var inputs: [Pipe] = []
        func startImport() throws -> (process: Process, staging: String) {
            let before = try stagings()
            let process = Process()
            process.executableURL = try products().appendingPathComponent("folio")
            process.arguments = ["import", "-", "--store", store]
            let input = Pipe()
            inputs.append(input)
            (process.standardInput, process.standardOutput, process.standardError) = (input, FileHandle.nullDevice, FileHandle.nullDevice)
            try process.run()
            var waited = 0
            while try stagings().subtracting(before).isEmpty, waited < 600 {
                usleep(50_000)
                waited += 1
            }
            return (process, try #require(try stagings().subtracting(before).first))
        }
        let running = try startImport()
        defer { if running.process.isRunning { running.process.terminate() } }
        let killed = try startImport()
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        #expect(try stagings() == [killed.staging, running.staging])
        // The next import, though refused, removes the killed import's at once, not the running
        // one's; being refused, it says only why, in one line.
        let later = try folio(["import", bad], store: store)
        #expect(later.status == 1)
        #expect(later.err.hasPrefix("folio: line ") && later.err.split(separator: "\n").count == 1, "\(later.err)")
        #expect(try stagings() == [running.staging])
        // One that succeeds says what it removed.
        let killedAgain = try startImport()
        kill(killedAgain.process.processIdentifier, SIGKILL)
        killedAgain.process.waitUntilExit()
        let imported = try folio(["import", projectRoot.appendingPathComponent("Fixtures/small.jsonl").path], store: store)
        #expect(imported.status == 0)
        #expect(imported.err == "folio: removed \(directory.path(killedAgain.staging)), left unfinished by an earlier import into \(store) that was stopped outright\n")
        #expect(try stagings() == [running.staging])
        // Interrupted, the running import removes its own.
        running.process.terminate()
        running.process.waitUntilExit()
        #expect(try stagings().isEmpty)
        #expect(try folio(["verify"], store: store).status == 0)
    }

    @Test("an import reads a named pipe and /dev/stdin as it reads a file, and leaves no spooled copy")
    func importFromPipes() throws {
        let directory = try TemporaryDirectory()
        let fixture = projectRoot.appendingPathComponent("Fixtures/small.jsonl").path
        let spools = directory.path("tmp")
        try FileManager.default.createDirectory(atPath: spools, withIntermediateDirectories: false)
        let pipe = directory.path("history.pipe")
        #expect(mkfifo(pipe, 0o600) == 0)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "cat \"$0\" > \"$1\"", fixture, pipe]
        try writer.run()
        let expected = try folio(["export"], store: { () throws -> String in
            let store = directory.path("from-file")
            try folio(["import", fixture], store: store)
            return store
        }()).out
        for (name, arguments, input) in [("from-pipe", ["import", pipe], nil), ("from-stdin", ["import", "/dev/stdin"], try String(contentsOfFile: fixture, encoding: .utf8))] {
            let process = Process()
            process.executableURL = try products().appendingPathComponent("folio")
            process.arguments = arguments + ["--store", directory.path(name)]
            process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": spools]) { $1 }
            let stdin = Pipe(), out = Pipe(), err = Pipe()
            (process.standardInput, process.standardOutput, process.standardError) = (stdin, out, err)
            try process.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try stdin.fileHandleForWriting.close()
            // A named pipe opened twice would wait here for a writer that has gone.
            waitWhile { process.isRunning }
            #expect(!process.isRunning, "\(name): the import never ended")
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "imported 415 events of 12 clients\n", "\(name): \(message)")
            #expect(try folio(["export"], store: directory.path(name)).out == expected, "\(name)")
        }
        writer.waitUntilExit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: spools).isEmpty)
    }

    @Test("a deleted client is named as deleted, by show, by a second delete, by its versions and by listings filtered to it, not as unknown or as having no rows, and as of when it was")
    func deletedClient() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let id = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        let version = try #require(try json(try folio(["version", "draft", id, "--page", "agreement", "--content", "-", "--format", "json"], store: store, input: "{}").out)["id"] as? String)
        let token = try #require(try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)["activation_token"] as? String)
        #expect(try folio(["client", "delete", id], store: store).status == 0)
        for arguments in [["client", "delete", id], ["client", "show", id], ["token", "issue", id], ["versions", "--client", id], ["payments", "--client", id]] {
            let result = try folio(arguments, store: store)
            #expect(result.status != 0 && result.err.hasPrefix("folio: client \(id) was deleted: its history is kept"), "\(arguments): \(result.err)")
        }
        for arguments in [["version", "show", version], ["payments", "--version", version]] {
            let shown = try folio(arguments, store: store)
            #expect(shown.status != 0 && shown.err.hasPrefix("folio: content version \(version) belongs to client \(id), which was deleted: its history is kept"), "\(arguments): \(shown.err)")
        }
        #expect(try folio(["history", id], store: store).status == 0)

        // As of a point of the log: there before it was deleted, deleted by then after, not
        // there yet before it was made; by position and by time.
        let deletedAt = try #require(try folio(["log", "--client", id], store: store).out.split(separator: "\n").last.map { try json(String($0)) })
        let position = try #require(deletedAt["position"] as? Int), time = try #require(deletedAt["recorded_at"] as? String)
        #expect(try json(try folio(["client", "show", id, "--as-of", "\(position - 1)", "--format", "json"], store: store).out)["name"] as? String == "A")
        #expect(try json(try folio(["version", "show", version, "--as-of", "\(position - 1)", "--format", "json"], store: store).out)["id"] as? String == version)
        for point in ["\(position)", time, time.replacingOccurrences(of: "T", with: "t").replacingOccurrences(of: "Z", with: "z")] {
            // By its token too, which named it until it was deleted.
            for arguments in [["client", "show", id], ["versions", "--client", id], ["payments", "--client", id], ["client", "show", token]] {
                let client = try folio(arguments + ["--as-of", point], store: store)
                #expect(client.err == "folio: client \(id) was deleted at position \(position) (\(time)), by that point of the log: its history is kept (folio history, folio log --client) but it has no rows\n", "\(arguments)")
            }
            let owned = try folio(["version", "show", version, "--as-of", point], store: store)
            #expect(owned.err.hasPrefix("folio: content version \(version) belongs to client \(id), which was deleted at position \(position) (\(time)), by that point of the log: "), "\(owned.err)")
        }
        for arguments in [["client", "show", id], ["versions", "--client", id]] {
            let early = try folio(arguments + ["--as-of", "0"], store: store)
            #expect(early.status != 0 && early.err.hasPrefix("folio: client \(id) was not created yet at that point of the log: it was created at position 1 ("), "\(early.err)")
        }
        // A client with no payments, there at that point, lists none.
        let none = try folio(["payments", "--client", id, "--as-of", "\(position - 1)"], store: store)
        #expect(none.status == 0 && none.err.isEmpty, "\(none.err)")
        for arguments in [["version", "show", version], ["payments", "--version", version]] {
            let undrafted = try folio(arguments + ["--as-of", "1"], store: store)
            #expect(undrafted.err == "folio: content version \(version) was not drafted yet at that point of the log\n", "\(arguments)")
        }
    }

    @Test("a history tells promotions, demotions, every outcome and every payment report in the order they happened, in table, JSON and CSV")
    func historyTimeline() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let id = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        // Before any draft, a table says there is none, of the page asked for or at all.
        #expect(try folio(["history", id], store: store).out == "A (\(id))\n(no content versions)\n")
        #expect(try folio(["history", id, "--page", "processing"], store: store).out == "A (\(id))\n(no versions of its processing page)\n")
        func draft() throws -> String {
            let result = try folio(["version", "draft", id, "--page", "agreement", "--content", "-", "--format", "json"], store: store, input: "{}")
            return try #require(try json(result.out)["id"] as? String)
        }
        let first = try draft(), second = try draft()
        let other = try #require(try json(try folio(["version", "draft", id, "--page", "activation", "--content", "-", "--format", "json"], store: store, input: "{}").out)["id"] as? String)
        // The last two promotions: the activation page's version becomes the client's current one,
        // then the agreement's current one again, which demotes nothing. The demotion is recorded
        // by whoever promoted the version after it (`--by`).
        for arguments in [["version", "promote", first], ["version", "outcome", first, "failure", "--notes", "nope"], ["version", "promote", second, "--by", "lead"],
                          ["version", "promote", first], ["version", "outcome", first, "success"], ["version", "promote", other], ["version", "promote", first]] {
            let result = try folio(arguments, store: store)
            #expect(result.status == 0, "\(arguments): \(result.err)")
        }
        let table = try folio(["history", id], store: store).out
        let block = table.components(separatedBy: "  v1  ").last?.components(separatedBy: "  v2  ").first ?? ""
        let kinds = block.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let first = words.first, ["promoted", "demoted", "outcome"].contains(first) else { return nil }
            // `outcome TIME by ACTOR OUTCOME`; a promotion again says so.
            if first == "outcome" { return "\(first) \(words[4])" }
            return line.hasSuffix("(current for its page already: its client's current version again)") ? "promoted again" : "\(first) \(words[3])"
        }
        #expect(kinds == ["promoted admin", "outcome failure", "demoted lead", "promoted admin", "outcome success", "promoted again"], "\(table)")
        let shown = try json(try folio(["client", "show", id, "--format", "json"], store: store).out)
        #expect(shown["current_version_id"] as? String == first)
        let outcomes = try #require(((try json(try folio(["history", id, "--format", "json"], store: store).out)["pages"] as? [[String: Any]])?
            .first { $0["page_type"] as? String == "agreement" }?["versions"] as? [[String: Any]])?.first?["outcomes"] as? [[String: Any]])
        #expect(outcomes.map { $0["outcome"] as? String } == ["failure", "success"])
        // JSON names who recorded each step, and a promotion of a version current already.
        let steps = try #require(((try json(try folio(["history", id, "--format", "json"], store: store).out)["pages"] as? [[String: Any]])?
            .first { $0["page_type"] as? String == "agreement" }?["versions"] as? [[String: Any]])?.first?["timeline"] as? [[String: Any]])
        #expect(steps.map { "\($0["event"] as? String ?? "") \($0["actor"] as? String ?? "") \(($0["already_current"] as? Bool).map { "\($0)" } ?? "-")" }
            == ["promoted admin false", "outcome admin -", "demoted lead -", "promoted admin false", "outcome admin -", "promoted admin true"], "\(steps)")
        #expect(outcomes.map { $0["notes"] as? String } == ["nope", nil])
        // CSV: the latest outcome in its column, every one in a JSON column, as JSON has them.
        let csv = try folio(["history", id, "--page", "agreement", "--format", "csv"], store: store).out.split(separator: "\r\n")
        let header = try #require(csv.first).split(separator: ",")
        #expect(header.contains("outcome") && header.suffix(2) == ["outcomes", "timeline"], "\(header)")
        let recorded = try #require(outcomes.last?["recorded_at"] as? String)
        #expect(csv.count == 3 && csv[1].contains(",success,") && csv[1].contains(#","[{""actor"":""admin"",""notes"":""nope"",""outcome"":""failure"",""recorded_at"":""#)
            && csv[1].contains(#"{""actor"":""admin"",""notes"":null,""outcome"":""success"",""recorded_at"":""\#(recorded)""}]","#), "\(csv)")
        // Its promotions too, a JSON array as in JSON.
        let promotions = try #require(((try json(try folio(["history", id, "--format", "json"], store: store).out)["pages"] as? [[String: Any]])?
            .first { $0["page_type"] as? String == "agreement" }?["versions"] as? [[String: Any]])?.first?["promoted_at"] as? [String])
        #expect(promotions.count > 1 && csv[1].contains(",\"[" + promotions.map { "\"\"\($0)\"\"" }.joined(separator: ",") + "]\","), "\(csv)")

        // A payment that failed and then succeeded on retry shows both reports, each when and by
        // whom (`--by`), the failure with its reason, under the version the client saw.
        let token = try #require(try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)["activation_token"] as? String)
        for arguments in [["client", "activate", token], ["payment", "fail", id, "--intent", "pi_1", "--amount", "50000", "--reason", "card declined", "--by", "stripe-webhook"],
                          ["payment", "succeed", id, "--intent", "pi_1", "--amount", "50000"]] {
            let result = try folio(arguments, store: store)
            #expect(result.status == 0, "\(arguments): \(result.err)")
        }
        let paid = try folio(["history", id, "--page", "agreement"], store: store).out
        let failedAt = try #require(try folio(["log", "--client", id, "--type", "PaymentFailed"], store: store).out.split(separator: "\n").first.map { try json(String($0))["recorded_at"] as? String })
        #expect(paid.contains("      payment     pi_1  50000 cents\n        failed      \(failedAt ?? "") by stripe-webhook  (card declined)\n        succeeded   "), "\(paid)")
        let payments = try #require(((try json(try folio(["history", id, "--page", "agreement", "--format", "json"], store: store).out)["pages"] as? [[String: Any]])?
            .first?["versions"] as? [[String: Any]])?.first?["payments"] as? [[String: Any]])
        let listed = try JSONSerialization.jsonObject(with: Data(try folio(["payments", "--client", id, "--format", "json"], store: store).out.utf8)) as? [[String: Any]]
        let paymentID = try #require(listed?.first?["id"] as? String)
        #expect(payments.count == 1 && payments.first?["id"] as? String == paymentID && payments.first?["status"] as? String == "succeeded")
        let reports = try #require(payments.first?["reports"] as? [[String: Any]])
        #expect(reports.map { $0["status"] as? String } == ["failed", "succeeded"] && reports.map { $0["reason"] as? String } == ["card declined", nil])
        #expect(reports.map { $0["actor"] as? String } == ["stripe-webhook", "admin"] && reports.first?["recorded_at"] as? String == failedAt)
        // CSV: the payments column holds the same JSON array.
        let paidCSV = try folio(["history", id, "--page", "agreement", "--format", "csv"], store: store).out.split(separator: "\r\n")
        #expect(paidCSV.count == 3 && paidCSV[1].contains(#","[{""amount"":50000,""created_at"":""#)
            && paidCSV[1].contains(#"""reports"":[{""actor"":""stripe-webhook"",""reason"":""card declined"",""recorded_at"":""#)
            && paidCSV[1].contains(#"{""actor"":""admin"",""reason"":null,""recorded_at"":""#) && paidCSV[1].contains(#"""status"":""succeeded"",""stripe_payment_intent_id"":""pi_1""}]""#), "\(paidCSV)")
    }

    @Test("with --as-of, a token names the client whose token it was then")
    func tokensAsOf() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let id = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        let first = try #require(try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)["activation_token"] as? String)
        try folio(["client", "activate", first], store: store)
        let second = try #require(try json(try folio(["token", "issue", id, "--format", "json"], store: store).out)["activation_token"] as? String)
        // Position 3 is the activation: the first token was the client's, the second not yet issued.
        let then = try json(try folio(["client", "show", first, "--as-of", "3", "--format", "json"], store: store).out)
        #expect(then["id"] as? String == id && then["activation_token"] as? String == first && then["status"] as? String == "active")
        #expect(try folio(["versions", "--client", first, "--as-of", "3", "--format", "json"], store: store).out == "[]\n")
        let early = try folio(["client", "show", second, "--as-of", "3"], store: store)
        #expect(early.status != 0 && early.err.hasPrefix("folio: token \(second) was not issued yet at that point of the log: it was issued to client \(id) at position 4 ("), "\(early.err)")
        // Retired by then, it names where, and the way to the client.
        let retired = try folio(["client", "show", first, "--as-of", "4"], store: store)
        #expect(retired.status != 0 && retired.err.hasPrefix("folio: token \(first) was retired by then: client \(id)'s token was replaced at position 4 ("), "\(retired.err)")
        #expect(retired.err.hasSuffix("; use the client's id, or the token it had then (rule 1)\n"), "\(retired.err)")
        let never = try #require(["G0000", "G0001", "G0002"].first { $0 != first && $0 != second })
        #expect(try folio(["client", "show", never, "--as-of", "4"], store: store).err == "folio: token \(never) was never issued (rule 7: unknown tokens are refused)\n")
        #expect(try folio(["client", "show", first], store: store).err.contains("retired"))
        #expect(try json(try folio(["client", "show", second, "--format", "json"], store: store).out)["id"] as? String == id)
    }

    @Test("a store path that is a file is refused clearly")
    func storeIsAFile() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path("file")
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let result = try folio(["clients"], store: file)
        #expect(result.status != 0)
        #expect(result.err.contains("not a directory"), "\(result.err)")
    }

    @Test("a store whose data file was cut short is refused in one line by every command, verify included, and not changed, nor given a lock file")
    func truncatedDataFile() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let data = store + "/data.mdb"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: data)[.size] as? Int)
        // A copy arrives without a lock file: a refusal leaves none either.
        try FileManager.default.removeItem(atPath: store + "/lock.mdb")
        for cut in [size / 2, 3 * 4_096] {
            #expect(truncate(data, off_t(cut)) == 0)
            for arguments in [["verify"], ["clients"], ["stats"], ["log", "--limit", "1"], ["client", "create", "--name", "B"]] {
                let result = try folio(arguments, store: store)
                #expect(result.status == 1 && result.out.isEmpty, "\(arguments): \(result.status) \(result.out)")
                #expect(result.err.hasPrefix("folio: the store is damaged: \(data) is \(cut) bytes, cut short of the "), "\(arguments): \(result.err)")
                #expect(result.err.filter { $0 == "\n" }.count == 1, "\(arguments)")
            }
            #expect(try FileManager.default.attributesOfItem(atPath: data)[.size] as? Int == cut)
            #expect(try FileManager.default.contentsOfDirectory(atPath: store) == ["data.mdb"])
        }
    }

    /// A copy of `store` at `copy` whose page `page` has its first node's offset pointing past
    /// the page's end, as a flipped bit can leave it.
    func damagedCopy(of store: String, page: Int, at copy: String) throws {
        try damagedCopy(of: store, pages: [page], at: copy)
    }

    /// A copy of `store` at `copy` with each of `pages` damaged so.
    func damagedCopy(of store: String, pages: [Int], at copy: String) throws {
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: store, toPath: copy)
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: copy + "/data.mdb"))
        defer { try? file.close() }
        for page in pages {
            try file.seek(toOffset: UInt64(page * 4_096 + 16))
            try file.write(contentsOf: [0xff, 0xff])
        }
    }

    /// The first page of `store` (the last, `fromEnd`) whose damage `folio verify` names as a
    /// page of a database `database` accepts, with its message.
    func damageablePage(of store: String, in directory: TemporaryDirectory, fromEnd: Bool = false, where database: (String) -> Bool) throws -> (page: Int, error: String)? {
        let pages = try #require(try FileManager.default.attributesOfItem(atPath: store + "/data.mdb")[.size] as? Int) / 4_096
        for page in fromEnd ? Array((2..<pages).reversed()) : Array(2..<pages) {
            try damagedCopy(of: store, page: page, at: directory.path("probe"))
            let error = try folio(["verify"], store: directory.path("probe")).err
            guard let named = error.firstRange(of: "page \(page) (database \"")?.upperBound,
                  let end = error[named...].firstIndex(of: "\"")
            else { continue }
            if database(String(error[named..<end])) { return (page, error) }
        }
        return nil
    }

    @Test("a damaged page of the log, or of the storage-format mark, is named by verify, export and rebuild in one line, before anything reads it, and the store is not changed", arguments: ["log", "meta"])
    func damagedExportedPage(database: String) throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        #expect(try folio(["verify"], store: store).out.contains("events, checksums and hash chain intact; "))
        let (page, _) = try #require(try damageablePage(of: store, in: directory) { $0 == database })
        let damaged = directory.path("damaged")
        try damagedCopy(of: store, page: page, at: damaged)
        let before = try Data(contentsOf: URL(fileURLWithPath: damaged + "/data.mdb"))
        let result = try folio(["verify"], store: damaged)
        #expect(result.status == 1 && result.out.isEmpty)
        #expect(result.err.hasPrefix("folio: the store is damaged: page \(page) (database \"\(database)\")'s node 0 starts at byte 65535, outside bytes "), "\(result.err)")
        #expect(result.err.hasSuffix("; restore it from a backup or an export\n"), "\(result.err)")
        #expect(result.err.filter { $0 == "\n" }.count == 1)
        // An export reads every page of the log and the mark, and a rebuild every page: they
        // name the page as verify does, where they stopped at it with a memory fault, and start
        // no file.
        let exported = directory.path("saved.jsonl")
        for arguments in [["export", exported], ["export"], ["projections", "rebuild"]] {
            let refused = try folio(arguments, store: damaged)
            #expect(refused.status == 1 && refused.out.isEmpty && refused.err == result.err, "\(arguments): \(refused.err)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).allSatisfy { !$0.hasPrefix("saved.jsonl") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: damaged + "/data.mdb")) == before)
    }

    @Test("a damaged page of a read model: verify says the log is sound, and its advice (export, import) carries every event to a new store")
    func damagedReadModelPage() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let (page, error) = try #require(try damageablePage(of: store, in: directory, fromEnd: true) { $0.hasPrefix("rm.") })
        #expect(error.hasSuffix("; the log's pages and records are sound: `folio export FILE` and `folio import FILE --store NEW` carry every event to a new store\n"), "\(error)")
        let damaged = directory.path("damaged")
        try damagedCopy(of: store, page: page, at: damaged)
        // A rebuild would replace the damaged tables' pages: it names the page, and the way out.
        let rebuild = try folio(["projections", "rebuild"], store: damaged)
        #expect(rebuild.status == 1 && rebuild.err == error, "\(rebuild.err)")
        let exported = directory.path("saved.jsonl")
        #expect(try folio(["export", exported], store: damaged).status == 0)
        let restored = directory.path("restored")
        #expect(try folio(["import", exported], store: restored).status == 0)
        #expect(try folio(["verify"], store: restored).status == 0)
        #expect(try folio(["export"], store: restored).out == (try folio(["export"], store: store).out))
        #expect(try folio(["analytics", "--format", "json"], store: restored).out == (try folio(["analytics", "--format", "json"], store: store).out))
    }

    @Test("a stale model and a damaged record: commands that rebuild the model first fail saying why and what still answers; log and stats, which read no model, answer; verify says to restore")
    func staleModelAndDamagedRecord() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        try flipLastByte(ofRecord: 200, in: store)
        try makeStale(store, ["analytics"])
        let damage = "record 200 fails its checksum: the log is corrupt or was tampered with at that position"
        for command in [["clients"], ["client", "create", "--name", "Later"]] {
            let result = try folio(command, store: store)
            #expect(result.status == 1 && result.out.isEmpty)
            #expect(result.err == "folio: projection (analytics) stopped at record 200: \(damage); the stale read models (folio projections status) must be rebuilt before this command, and cannot be past that record: restore the store from a backup or an earlier export (verify, log, stats, history and projections status still answer)\n", "\(result.err)")
        }
        let log = try folio(["log", "--limit", "3"], store: store)
        #expect(log.status == 0 && log.out.split(separator: "\n").count == 3, "\(log.err)")
        // The whole log: every record before the damaged one is printed (what can be saved), then the refusal.
        let whole = try folio(["log"], store: store)
        #expect(whole.status == 1 && whole.out.split(separator: "\n").count == 199 && whole.err.contains("record 200 fails its checksum"), "\(whole.err)")
        let stats = try folio(["stats", "--format", "json"], store: store)
        #expect(stats.status == 0 && stats.out.contains(#""head":415"#), "\(stats.err)")
        // A history reads its client's stream: one that is sound answers.
        let first = try #require(try folio(["log", "--limit", "1"], store: store).out.split(separator: "\n").first)
        let client = try #require((try json(String(first))["data"] as? [String: Any])?["client_id"] as? String)
        #expect(try folio(["history", client], store: store).status == 0)
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 1 && verified.err == "folio: \(damage): restore the store from a backup or an earlier export (an export of it now would stop there)\n", "\(verified.err)")
    }

    @Test("a read models' record that cannot be read (a changed byte, a slot that is none, a checkpoint past the log's end) is named by verify with the way out, shown stale, and made again from the log by a rebuild or the next query", arguments: [
        (#""checkpoint":415"#, #""checkpoint"2415"#, "a stored ProjectorState is not a JSON object"),
        (#""slot":"#, #""slot":"c","was":"#, #"a stored ProjectorState names slot "c", where the slots are a and b"#),
        (#""checkpoint":415"#, #""checkpoint":4150"#, "its checkpoint, 4150, is past the log's last position, 415"),
        (#""checkpoint":415"#, #""checkpoint":126"#, "its checkpoint, 126, is behind the log's last position, 415, where every write of a Folio with this projector folds its events up to"),
        // The other slot, whichever serves: the one that serves then holds rows it does not name.
        (#""slot":"#, "other slot", "slot SERVING, which it does not name, holds rows, where a rebuild leaves that slot empty"),
    ])
    func damagedProjectorRecord(replacing: String, with damage: String, why: String) throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let expected = try folio(["analytics", "--format", "json"], store: store).out
        let log = try EventStore(path: store)
        let projections = try log.environment.database("projections")
        var why = why
        try log.environment.write { txn in
            let record = String(decoding: try #require(try txn.get(projections, Array("analytics".utf8))), as: UTF8.self)
            #expect(record.contains(replacing), "\(record)")
            var damaged = record.replacingOccurrences(of: replacing, with: damage)
            if damage == "other slot" {
                let serving = record.contains(#""slot":"a""#) ? "a" : "b"
                damaged = record.replacingOccurrences(of: #""slot":"\#(serving)""#, with: #""slot":"\#(serving == "a" ? "b" : "a")""#)
                why = why.replacingOccurrences(of: "SERVING", with: serving)
            }
            try txn.put(projections, Array("analytics".utf8), Array(damaged.utf8))
        }
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 1 && verified.err == "folio: the log is sound (415 events), but the read models' record of analytics is damaged (\(why)): `folio projections rebuild analytics` makes it and its model again from the log, as does the next query or write\n", "\(verified.err)")
        let status = try folio(["projections", "status", "--format", "json"], store: store)
        let shown = try #require((try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [[String: Any]])?.first { $0["name"] as? String == "analytics" })
        #expect(status.status == 0 && shown["stale"] as? Bool == true && shown["head"] as? Int == 415, "\(status.out)")
        // A record that is read shows its checkpoint; one that cannot be, none.
        #expect(shown["checkpoint"] as? Int == (damage.hasSuffix(":126") ? 126 : 0), "\(status.out)")
        let copy = directory.path("copy")
        try FileManager.default.copyItem(atPath: store, toPath: copy)
        // A rebuild of it alone mends it; so does the next query, which rebuilds what is stale.
        let rebuilt = try folio(["projections", "rebuild", "analytics"], store: copy)
        #expect(rebuilt.status == 0, "\(rebuilt.err)")
        #expect(try folio(["analytics", "--format", "json"], store: store).out == expected)
        for path in [store, copy] {
            let again = try folio(["verify"], store: path)
            #expect(again.status == 0 && again.out.hasPrefix("ok: 415 events"), "\(again.err)")
            #expect(try folio(["analytics", "--format", "json"], store: path).out == expected)
        }
    }

    @Test("a read models' record that is missing while its tables hold rows is rebuilt once by the next query, both slots made anew")
    func missingProjectorRecord() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let expected = try folio(["analytics", "--format", "json"], store: store).out
        let log = try EventStore(path: store)
        let projections = try log.environment.database("projections")
        try log.environment.write { txn in _ = try txn.delete(projections, Array("analytics".utf8)) }
        #expect(try folio(["analytics", "--format", "json"], store: store).out == expected)
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 0 && verified.out.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew;"), "\(verified.out)\(verified.err)")
    }

    @Test("a store whose last record was lost: a write is refused in one line and changes nothing, an export and verify name the loss, and what `folio log` prints restores the rest")
    func lostLastRecord() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let log = try EventStore(path: store)
        let records = try log.environment.database("log")
        try log.environment.write { txn in _ = try txn.delete(records, UInt64(415).bigEndianBytes) }
        let printed = try folio(["log"], store: store).out
        let damage = "the head mark names record 415, where the log's last record is 414 (the last record, or the mark, was changed or removed)"
        let first = try #require(printed.split(separator: "\n").first)
        let client = try #require((try json(String(first))["data"] as? [String: Any])?["client_id"] as? String)
        for command in [["client", "create", "--name", "Later"], ["client", "delete", client]] {
            let result = try folio(command, store: store)
            #expect(result.status == 1 && result.out.isEmpty)
            #expect(result.err == "folio: the store is damaged: \(damage); nothing was written, as a write would take that record's place for good: `folio verify` names the damage; restore the store from a backup, or import what `folio log` prints into a new store\n", "\(result.err)")
        }
        #expect(try folio(["log"], store: store).out == printed)
        let exported = try folio(["export", directory.path("backup.jsonl")], store: store)
        #expect(exported.status == 1 && exported.err == "folio: \(damage): no backup was written, as it would pass for whole; `folio log` prints the records there are, which `folio import` takes into a new store\n", "\(exported.err)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("backup.jsonl")))
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 1 && verified.err.hasPrefix("folio: \(damage): restore the store from a backup"), "\(verified.err)")
        let salvage = directory.path("salvage.jsonl")
        try printed.write(toFile: salvage, atomically: true, encoding: .utf8)
        let restored = directory.path("restored")
        #expect(try folio(["import", salvage], store: restored).status == 0)
        #expect(try folio(["verify"], store: restored).status == 0)
        #expect(try folio(["log"], store: restored).out == printed)
    }

    @Test("pages of two read models damaged: verify names the first and says how many more there are, and an export still carries every event")
    func damagedPagesOfTwoModels() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let (analytics, _) = try #require(try damageablePage(of: store, in: directory, fromEnd: true) { $0.hasPrefix("rm.analytics_") })
        let (other, _) = try #require(try damageablePage(of: store, in: directory, fromEnd: true) { $0.hasPrefix("rm.") && !$0.hasPrefix("rm.analytics_") })
        let damaged = directory.path("damaged")
        try damagedCopy(of: store, pages: [analytics, other], at: damaged)
        let result = try folio(["verify"], store: damaged)
        #expect(result.status == 1 && result.out.isEmpty)
        #expect(result.err.hasPrefix("folio: the store is damaged: page "), "\(result.err)")
        #expect(result.err.contains("page \(analytics) (database ") != result.err.contains("page \(other) (database "), "one page is named: \(result.err)")
        #expect(result.err.hasSuffix(" that hold its nodes (and 1 more); the log's pages and records are sound: `folio export FILE` and `folio import FILE --store NEW` carry every event to a new store\n"), "\(result.err)")
        #expect(try folio(["export"], store: damaged).out == (try folio(["export"], store: store).out))
        // One of them alone is named without more.
        try damagedCopy(of: store, pages: [other], at: damaged)
        let alone = try folio(["verify"], store: damaged)
        #expect(alone.status == 1 && alone.err.contains("page \(other) (database ") && !alone.err.contains("more)"), "\(alone.err)")
    }

    @Test("a damaged page of a read model and a damaged record: verify names both, and does not promise that an export carries every event")
    func damagedPageAndRecord() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("bad-record")
        try FileManager.default.copyItem(atPath: try directory.importedFixture(), toPath: store)
        try flipLastByte(ofRecord: 200, in: store)
        let (page, _) = try #require(try damageablePage(of: store, in: directory, fromEnd: true) { $0.hasPrefix("rm.") })
        let damaged = directory.path("damaged")
        try damagedCopy(of: store, page: page, at: damaged)
        let result = try folio(["verify"], store: damaged)
        #expect(result.status == 1 && result.err.hasPrefix("folio: the store is damaged: page \(page) (database \"rm."), "\(result.err)")
        #expect(result.err.hasSuffix("; and record 200 fails its checksum: the log is corrupt or was tampered with at that position, where an export would stop: restore it from a backup or an export\n"), "\(result.err)")
        #expect(try folio(["export"], store: damaged).err.contains("record 200 fails its checksum"))
    }

    @Test("verify folds the log anew and compares the read models: a row changed inside its page is named, and a rebuild mends it")
    func verifyComparesReadModels() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let before = try folio(["clients", "--format", "json"], store: store).out
        // One byte of a client's name changed in its stored row.
        try changeFirstRow(of: "clients", projector: "clients", after: #""name":""#, in: store)
        let damaged = try folio(["verify"], store: store)
        #expect(damaged.status == 1 && damaged.err == "folio: the log is sound (415 events), but its read models differ from it in clients (`folio projections rebuild` makes them again from the log)\n", "\(damaged.err)")
        #expect(try folio(["projections", "rebuild", "clients"], store: store).status == 0)
        #expect(try folio(["verify"], store: store).out.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew; "))
        #expect(try folio(["clients", "--format", "json"], store: store).out == before)
    }

    /// Changes the byte after `marker` in the first row of `table`, in the slot `projector` serves
    /// from, to `~`, as a flipped bit inside a page would change it: every page is still well formed.
    func changeFirstRow(of table: String, projector: String, after marker: String, in store: String) throws {
        let log = try EventStore(path: store)
        let states = try log.environment.database("projections")
        let state = try log.environment.read { txn in String(decoding: try #require(try txn.get(states, Array(projector.utf8))), as: UTF8.self) }
        let database = try log.environment.database("rm.\(table).\(state.contains(#""slot":"b""#) ? "b" : "a")")
        try log.environment.write { txn in
            let (key, value) = try #require(try txn.withCursor(database) { cursor in try cursor.first().map { (Array($0.key), Array($0.value)) } })
            let text = String(decoding: value, as: UTF8.self)
            let at = try #require(text.range(of: marker))
            #expect(text[at.upperBound] != "~")
            var changed = text
            changed.replaceSubrange(at.upperBound..<text.index(after: at.upperBound), with: "~")
            try txn.put(database, key, Array(changed.utf8))
        }
    }

    @Test("verify names every read model table that differs from the log, not only the first; a rebuild of their projectors mends them")
    func verifyNamesEveryDifferingTable() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        try changeFirstRow(of: "clients", projector: "clients", after: #""name":""#, in: store)
        try changeFirstRow(of: "payments", projector: "payments", after: #""stripe_payment_intent_id":""#, in: store)
        let damaged = try folio(["verify"], store: store)
        #expect(damaged.status == 1 && damaged.err == "folio: the log is sound (415 events), but its read models differ from it in clients, payments (`folio projections rebuild` makes them again from the log)\n", "\(damaged.err)")
        #expect(try folio(["projections", "rebuild", "clients", "payments"], store: store).status == 0)
        #expect(try folio(["verify"], store: store).out.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew; "))
    }

    /// One entry of one index changed as a flipped bit or a lost write might leave it, with what
    /// `verify` must say of it.
    struct IndexDamage: Sendable, CustomTestStringConvertible {
        enum Change: Sendable {
            /// The first entry removed.
            case removeFirst
            /// An entry added under a key no event makes.
            case add(key: [UInt8], value: [UInt8])
            /// The first entry's last byte changed.
            case changeFirst
            /// The first entry's byte at this offset changed.
            case changeFirstAt(Int)
            /// The first entry's byte after this text made `~`: a client state that still reads.
            case changeFirstAfter(String)
        }
        var database: String
        var change: Change
        /// The start of what `verify` says after "folio: ".
        var says: String
        var testDescription: String { "\(database): \(change)" }
    }

    static let indexDamages: [IndexDamage] = [
        IndexDamage(database: "event_ids", change: .removeFirst, says: "the log's records are sound, but its index of event ids differs from them: it lacks the entry for event "),
        IndexDamage(database: "streams", change: .changeFirst, says: "the log's records are sound, but its index of streams' events differs from them: its entry for version 1 of stream client-"),
        IndexDamage(database: "stream_heads", change: .add(key: Array("client-x".utf8), value: [0, 0, 0, 0, 0, 0, 0, 1]), says: "the log's records are sound, but its index of streams' versions differs from them: it holds an entry for stream client-x, which the log does not make"),
        IndexDamage(database: "types", change: .add(key: Array("PaymentSucceeded".utf8) + [0, 0, 0, 0, 0, 0, 0, 0, 1], value: []), says: "the log's records are sound, but its index of event types differs from them: it holds an entry for record 1 of type PaymentSucceeded, which the log does not make"),
        IndexDamage(database: "idx.tokens", change: .changeFirst, says: "the log is sound (415 events), but its index of activation tokens has another entry for token G"),
        IndexDamage(database: "idx.intents", change: .removeFirst, says: "the log is sound (415 events), but its index of payment intents lacks the entry for payment intent pi_"),
        IndexDamage(database: "idx.versions", change: .add(key: [UInt8](repeating: 0xFF, count: 16), value: [UInt8](repeating: 1, count: 16)), says: "the log is sound (415 events), but its index of content versions holds an entry for content version ffffffff-ffff-ffff-ffff-ffffffffffff, which the log does not make"),
        // A stream version, and a state that still reads, are each compared.
        IndexDamage(database: "idx.clients", change: .changeFirstAt(7), says: "the log is sound (415 events), but its index of client states has another entry for client "),
        IndexDamage(database: "idx.clients", change: .changeFirstAfter(#""name":""#), says: "the log is sound (415 events), but its index of client states has another entry for client "),
    ]

    @Test("verify compares every index of the log and of the write side with the log, naming the first entry that differs; an export imported into a new store makes them whole", arguments: indexDamages)
    func verifyComparesIndexes(damage: IndexDamage) throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        do {
            let environment = try EventStore(path: store).environment
            let database = try #require(try environment.existingDatabase(damage.database))
            try environment.write { txn in
                let first = try #require(try txn.withCursor(database) { cursor in try cursor.first().map { (Array($0.key), Array($0.value)) } })
                switch damage.change {
                case .removeFirst:
                    #expect(try txn.delete(database, first.0))
                case .add(let key, let value):
                    try txn.put(database, key, value)
                case .changeFirst:
                    var value = first.1
                    value[value.count - 1] ^= 1
                    try txn.put(database, first.0, value)
                case .changeFirstAt(let offset):
                    var value = first.1
                    value[offset] ^= 1
                    try txn.put(database, first.0, value)
                case .changeFirstAfter(let marker):
                    var value = first.1
                    let at = try #require(value.indices.first { value[$0...].starts(with: marker.utf8) }) + marker.utf8.count
                    #expect(value[at] != UInt8(ascii: "~"))
                    value[at] = UInt8(ascii: "~")
                    try txn.put(database, first.0, value)
                }
            }
        }
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 1 && verified.out.isEmpty)
        #expect(verified.err.hasPrefix("folio: " + damage.says), "\(verified.err)")
        #expect(verified.err.hasSuffix(" (`folio export FILE` and `folio import FILE --store NEW` make a store whose indexes are whole)\n"), "\(verified.err)")
        #expect(verified.err.split(separator: "\n").count == 1)
        // What the message advises.
        let export = directory.path("backup.jsonl")
        #expect(try folio(["export", export], store: store).status == 0)
        let restored = directory.path("restored")
        #expect(try folio(["import", export], store: restored).status == 0)
        let again = try folio(["verify"], store: restored)
        #expect(again.status == 0 && again.out.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew; "), "\(again.err)")
    }

    @Test("verify names a damaged meta page, which could make the store open at an earlier commit than its last; a write is refused before it overwrites that commit")
    func verifyMetaPages() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        try folio(["client", "create", "--name", "Later"], store: store)
        #expect(try folio(["verify"], store: store).status == 0)
        // A bit of page 0's transaction id flipped: the ids are no longer one apart.
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: store + "/data.mdb"))
        try file.seek(toOffset: 144)
        let byte = try #require(try file.read(upToCount: 1)?.first)
        try file.seek(toOffset: 144)
        try file.write(contentsOf: [byte ^ 0x10])
        try file.close()
        // A write now would overwrite the last commit: refused, the data file unchanged.
        let before = try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb"))
        let write = try folio(["client", "create", "--name", "Lost"], store: store)
        #expect(write.status == 1 && write.out.isEmpty)
        #expect(write.err.hasPrefix("folio: the store is damaged: ") && write.err.contains("/data.mdb: its meta pages name transactions "), "\(write.err)")
        #expect(write.err.hasSuffix("the store may open at an earlier commit than its last; nothing was written, as a write could overwrite that last commit for good: copy data.mdb aside before anything else\n"), "\(write.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb")) == before)
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 1 && verified.out.isEmpty)
        #expect(verified.err.hasPrefix("folio: the store is damaged: its meta pages name transactions "), "\(verified.err)")
        #expect(verified.err.hasSuffix("where LMDB writes them in turn, one apart, the even one on page 0: one is damaged, and the store may open at an earlier commit than its last (copy data.mdb aside before any write)\n"), "\(verified.err)")
    }

    @Test("verify writes nothing: a model built by other code is left stale, named as not compared, for the next command to rebuild")
    func verifyLeavesStaleModels() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        try makeStale(store, ["analytics"])
        let before = try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb"))
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 0 && verified.out.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew, but for analytics, which is not current (built by another Folio's projectors, or behind the log) and not compared: `folio projections rebuild` makes them again, as does the next query or write; "), "\(verified.out)\(verified.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb")) == before)
        let status = try folio(["projections", "status", "--format", "csv"], store: store).out
        #expect(status.split(separator: "\r\n").filter { $0.hasSuffix(",true") }.map { $0.prefix { $0 != "," } } == ["analytics"], "\(status)")
        // The next command rebuilds it; then everything is compared.
        #expect(try folio(["clients"], store: store).status == 0)
        #expect(try folio(["verify"], store: store).out.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew; "))
    }

    @Test("a store this user may only read is queried (its stale models folded in memory), verified and exported; a write is refused in one line and nothing changes")
    func readOnlyStore() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let queries = [["clients", "--format", "json"], ["analytics", "--format", "csv"], ["versions", "--format", "csv"], ["export"]]
        let expected = try queries.map { try folio($0, store: store).out }
        // As a Folio whose projectors differ left it: two models built by other code, which a
        // store that cannot be written cannot rebuild.
        try makeStale(store, ["analytics", "content_versions"])
        let before = try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb"))
        // Files it may read and not write: its own, made read-only, or (as root, who may write
        // anything) a store run as the unprivileged user `nobody`.
        let through = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        for file in ["data.mdb", "lock.mdb"] { #expect(chmod(store + "/" + file, 0o444) == 0) }
        #expect(chmod(store, 0o555) == 0 && chmod(directory.url.path, 0o755) == 0)
        defer { _ = chmod(store, 0o700) }
        for (query, output) in zip(queries, expected) {
            let result = try folio(query, store: store, through: through)
            #expect(result.status == 0 && result.out == output, "\(query): \(result.err)")
        }
        let verified = try folio(["verify"], store: store, through: through).out
        #expect(verified.hasPrefix("ok: 415 events, checksums and hash chain intact; indexes and read models equal to the log folded anew, but for content_versions and analytics, which are not current (built by another Folio's projectors, or behind the log) and not compared: this store is read-only here; "), "\(verified)")
        let status = try folio(["projections", "status", "--format", "csv"], store: store, through: through).out
        #expect(status.split(separator: "\r\n").filter { $0.hasSuffix(",true") }.count == 2, "\(status)")
        for write in [["client", "create", "--name", "New"], ["projections", "rebuild"]] {
            let result = try folio(write, store: store, through: through)
            #expect(result.status == 1 && result.out.isEmpty, "\(write)")
            #expect(result.err.hasPrefix("folio: the store at ") && result.err.hasSuffix(" is read-only to this user (its files cannot be written): it can be queried, verified and exported, not written to\n"), "\(write): \(result.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb")) == before)
        // A store without the tables this Folio keeps (the log's alone, as an earlier Folio may
        // have left it) cannot have them made while it is read-only: said so, with the way out.
        let bare = directory.path("bare")
        _ = try EventStore(path: bare)
        for file in ["data.mdb", "lock.mdb"] { #expect(chmod(bare + "/" + file, 0o444) == 0) }
        #expect(chmod(bare, 0o555) == 0)
        defer { _ = chmod(bare, 0o700) }
        let lacking = try folio(["clients"], store: bare, through: through)
        #expect(lacking.status == 1 && lacking.err.hasSuffix(" lacks tables this Folio keeps (an earlier Folio made it), which cannot be made while it is read-only to this user: copy it where this user may write, and open the copy\n"), "\(lacking.err)")
    }

    @Test("a store whose data file is empty is refused by queries, verify and writes, not answered or filled as a new, empty store; so is a data or lock file that is no file, or a lock file that links to nothing")
    func emptyDataFile() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: store + "/data.mdb", contents: Data())
        let history = projectRoot.appendingPathComponent("Fixtures/small.jsonl").path
        for arguments in [["clients"], ["verify"], ["stats"], ["export"], ["client", "create", "--name", "Eve"], ["import", history], ["demo"]] {
            let result = try folio(arguments, store: store)
            #expect(result.status != 0 && result.out.isEmpty, "\(arguments): \(result.out)")
            #expect(result.err == "folio: \(store) is not a Folio store: its data file is empty (0 bytes), as a failed copy, a full disk or a process ended while it made the store may leave one; restore it from a backup, or move it away to make a new store there\n", "\(arguments)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: store + "/data.mdb")[.size] as? Int == 0, "a query wrote into it")
        // A data file that is not LMDB's is named as such, not in LMDB's words.
        #expect(FileManager.default.createFile(atPath: store + "/data.mdb", contents: Data(repeating: 0x5A, count: 16_384)))
        for arguments in [["clients"], ["client", "create", "--name", "Eve"]] {
            let result = try folio(arguments, store: store)
            #expect(result.status == 1 && result.err == "folio: \(store) is not a Folio store: its data file is not an LMDB file, or one of its first two pages (where LMDB says where its data is) is damaged; restore it from a backup or an export\n", "\(result.err)")
            // Refused, it is left as it was found: no lock file is made beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: store) == ["data.mdb"], "\(arguments)")
        }
        // A data file that is no file at all is named by what it is, and nothing is made in it.
        try FileManager.default.removeItem(atPath: store + "/data.mdb")
        try FileManager.default.createDirectory(atPath: store + "/data.mdb", withIntermediateDirectories: false)
        for arguments in [["clients"], ["verify"], ["client", "create", "--name", "Eve"], ["import", history]] {
            let result = try folio(arguments, store: store)
            #expect(result.status == 1 && result.err == "folio: \(store) is not a Folio store: its data file, data.mdb, is a directory, where a store keeps its data in one file; move it away to make a store there\n", "\(arguments): \(result.err)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/data.mdb").isEmpty)
        // A lock file that is no file, or a link to nothing (LMDB would make it where the link
        // points, outside the store), is named too, and nothing is made.
        let locked = directory.path("locked"), outside = directory.path("outside-lock.mdb")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: locked + "/lock.mdb", withDestinationPath: outside)
        let linked = try folio(["client", "create", "--name", "Eve"], store: locked)
        #expect(linked.status == 1 && linked.err == "folio: \(locked): its lock file, lock.mdb, is a symbolic link to \(outside), where nothing is, and LMDB would make it there, outside the store; remove the link (the next command makes a lock file anew)\n", "\(linked.err)")
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(try FileManager.default.contentsOfDirectory(atPath: locked) == ["lock.mdb"])
        try FileManager.default.removeItem(atPath: locked + "/lock.mdb")
        #expect(try folio(["client", "create", "--name", "Eve"], store: locked).status == 0)
        // A store's lock file replaced by a directory: a query names it, and answers once it is moved away.
        try FileManager.default.removeItem(atPath: locked + "/lock.mdb")
        try FileManager.default.createDirectory(atPath: locked + "/lock.mdb", withIntermediateDirectories: false)
        let lockDirectory = try folio(["clients", "--format", "csv"], store: locked)
        #expect(lockDirectory.status == 1 && lockDirectory.err == "folio: \(locked): its lock file, lock.mdb, is a directory, where LMDB keeps a file; move it away (the next command makes a lock file anew)\n", "\(lockDirectory.err)")
        try FileManager.default.removeItem(atPath: locked + "/lock.mdb")
        #expect(try folio(["clients", "--format", "csv"], store: locked).out.contains(",Eve,"))
    }

    @Test("a store another process has open is told from one no process has, as LMDB's lock on its lock file says: a data file of 0 bytes is one being made there, not a failed copy")
    func openElsewhere() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        #expect(!Environment.isOpenElsewhere(at: store))
        let holder = Process()
        holder.executableURL = try products().appendingPathComponent("Worker")
        holder.arguments = ["hold-reader", "--store", store]
        let out = Pipe(), input = Pipe()
        holder.standardOutput = out
        holder.standardInput = input
        try holder.run()
        let said = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        #expect(said.hasPrefix("reading"), "\(said)")
        #expect(Environment.isOpenElsewhere(at: store))
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        #expect(!Environment.isOpenElsewhere(at: store))
        #expect(!Environment.isOpenElsewhere(at: directory.path("nothing-here")))
    }

    @Test(
        "a full disk is named in one line and loses nothing: a store made there, an import and a write into a store",
        .enabled(if: SmallFileSystem.canMount, "mounting a small file system takes root")
    )
    func fullDisk() throws {
        let disk = try SmallFileSystem()
        // A new store's lock file (LMDB made it through a map, and a full disk stopped it with SIGBUS).
        disk.fill()
        let made = try folio(["client", "create", "--name", "Ada"], store: disk.path("new"))
        #expect(made.status == 1 && made.err == "folio: the disk is full: nothing was written (make the lock file of \(disk.path("new")))\n", "\(made.err)")
        let history = projectRoot.appendingPathComponent("Fixtures/small.jsonl").path
        let imported = try folio(["import", history], store: disk.path("imported"))
        #expect(imported.status == 1 && imported.err.hasPrefix("folio: the disk is full: nothing was written (make the lock file of \(disk.path("imported")).importing-"), "\(imported.err)")
        // Nothing was written: neither a lock file nor the directory made for the store is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.root).sorted() == ["filler"])
        // A commit on a full disk: LMDB's first write fails (ENOSPC); with a little room left,
        // a write is cut short and LMDB says EIO.
        disk.empty()
        let store = disk.path("store")
        #expect(try folio(["import", history], store: store).status == 0)
        let before = try folio(["export"], store: store).out
        let rows = try JSONSerialization.jsonObject(with: Data(try folio(["clients", "--format", "json"], store: store).out.utf8)) as? [[String: Any]]
        let client = try #require(rows?.first?["id"] as? String)
        let directory = try TemporaryDirectory()
        // Digits drawn at random, which compression leaves about their size: a page's worth of pages.
        var generator = SystemRandomNumberGenerator()
        let digits = String((0..<150_000).map { _ in Character(String(generator.next(upperBound: UInt8(10)))) })
        try #"{"body": "\#(digits)"}"#.write(toFile: directory.path("page.json"), atomically: false, encoding: .utf8)
        for leaving in [0, 16 << 10] {
            disk.fill(leaving: leaving)
            let drafted = try folio(["version", "draft", client, "--page", "agreement", "--content", directory.path("page.json")], store: store)
            #expect(drafted.status == 1 && drafted.err == "folio: the disk is full: nothing was written (mdb_txn_commit)\n", "\(leaving): \(drafted.err)")
            disk.empty()
            #expect(try folio(["export"], store: store).out == before)
            #expect(try folio(["verify"], store: store).status == 0)
        }
    }

    @Test("a lock file another process holds in a form this LMDB does not read is named as such, not as a damaged data file; once no process holds it, the store opens")
    func foreignLockFile() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let before = try folio(["clients", "--format", "json"], store: store)
        // Another LMDB's lock file, held open: its first bytes are not this LMDB's magic number,
        // and this process holds the shared lock LMDB takes on its first byte.
        let descriptor = open(store + "/lock.mdb", O_RDWR | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        #expect(pwrite(descriptor, [UInt8](repeating: 0x5A, count: 8), 8, 0) == 8)
        var lock = flock()
        lock.l_type = Int16(F_RDLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_len = 1
        try #require(fcntl(descriptor, F_SETLK, &lock) == 0)
        for arguments in [["clients"], ["client", "create", "--name", "Eve"]] {
            let refused = try folio(arguments, store: store)
            #expect(refused.status == 1 && refused.out.isEmpty, "\(arguments)")
            #expect(refused.err == "folio: \(store) is open in another process whose lock file (lock.mdb) this Folio's LMDB does not read, as another LMDB version writes it or as it was damaged; stop that process and try again (the next open after it makes the lock file anew)\n", "\(refused.err)")
        }
        lock.l_type = Int16(F_UNLCK)
        try #require(fcntl(descriptor, F_SETLK, &lock) == 0)
        let after = try folio(["clients", "--format", "json"], store: store)
        #expect(after.status == 0 && after.out == before.out, "\(after.err)")
    }

    @Test("stats counts the log's streams and its events by type as the log holds them, and each size is its databases' pages")
    func statsFigures() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let lines = try folio(["log"], store: store).out.split(separator: "\n").map { try json(String($0)) }
        var types: [String: Int] = [:]
        for line in lines { types[try #require(line["type"] as? String), default: 0] += 1 }
        let streams = Set(lines.compactMap { $0["stream"] as? String })
        let stats = try json(try folio(["stats", "--format", "json"], store: store).out)
        #expect(stats["head"] as? Int == lines.count)
        #expect(stats["streams"] as? Int == streams.count, "\(stats)")
        #expect(stats["events_by_type"] as? [String: Int] == types, "\(stats)")
        // The store's databases, each in one part: the log, its indexes and format mark, the
        // write side's indexes, the read models' tables and their projectors' records.
        let environment = try EventStore(path: store).environment
        let names = try environment.databaseNames()
        func part(_ name: String) -> String? {
            if name == "log" { return "log_bytes" }
            if ["event_ids", "streams", "stream_heads", "types", "meta"].contains(name) { return "log_index_bytes" }
            if name.hasPrefix("idx.") { return "write_index_bytes" }
            if name.hasPrefix("rm.") || name == "projections" { return "read_model_bytes" }
            return nil
        }
        #expect(names.allSatisfy { part($0) != nil }, "\(names)")
        var parts: [String: Int] = [:]
        for name in names {
            let database = try environment.database(name)
            parts[part(name) ?? name, default: 0] += try environment.read { try $0.statistics(database).bytes }
        }
        for (key, bytes) in parts { #expect(stats[key] as? Int == bytes, "\(key)") }
    }

    @Test("export then import into an empty store gives the same log back")
    func exportImport() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let exported = try folio(["export"], store: store).out
        let copy = directory.path("copy")
        let imported = try folio(["import", "-"], store: copy, input: exported)
        #expect(imported.status == 0, "\(imported.err)")
        #expect(try folio(["export"], store: copy).out == exported)
        // Refused before its input is read (a pipe's writer is not kept waiting).
        let again = try folio(["import", "-"], store: copy)
        #expect(again.status != 0 && again.err.contains("needs an empty store"))
    }

    @Test("projections status and rebuild")
    func projections() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let before = try folio(["analytics", "--format", "json"], store: store).out
        let rebuilt = try folio(["projections", "rebuild", "analytics"], store: store)
        #expect(rebuilt.status == 0 && rebuilt.out.hasPrefix("rebuilt analytics:"))
        #expect(try folio(["analytics", "--format", "json"], store: store).out == before)
        let status = try folio(["projections", "status", "--format", "csv"], store: store)
        #expect(status.out.split(separator: "\r\n").count == 5)
        #expect(!status.out.contains(",true"))
    }

    @Test("every command has help with an example of itself")
    func help() throws {
        // Every command that runs, found from the command tree.
        func leaves(_ command: any ParsableCommand.Type, _ path: [String]) -> [[String]] {
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty { return [path] }
            return subcommands.flatMap { leaves($0, path + [$0.configuration.commandName!]) }
        }
        let paths = leaves(FolioCommand.self, [])
        #expect(paths.count >= 25, "\(paths)")
        for path in paths {
            let result = try folio(path + ["--help"])
            #expect(result.status == 0)
            // Help is wrapped to the terminal's width, an example too.
            let text = result.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("Example: folio " + path.joined(separator: " ")), "\(path): \(result.out)")
        }
        // A value is named by what it takes where the option's name does not say it.
        func usage(_ path: [String]) throws -> String { try folio(path + ["--help"]).out.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        #expect(try usage(["payment", "fail"]).contains("<client> --intent <intent-id> --amount <cents> [--version <version>] [--reason <text>]"))
        #expect(try usage(["version", "draft"]).contains("[--notes <text>] [--hypothesis <text>] [--by <name>]"))
        #expect(try usage(["log"]).contains("[--after <position>] [--limit <count>]"))
        // `folio help NAME…` shows that command's help, and names a command that is not there.
        let shown = try folio(["help", "client", "show"])
        #expect(shown.status == 0 && shown.out.hasPrefix("OVERVIEW: Show one client."))
        #expect(try folio(["help", "version", "show", "9c1e"]).out.hasPrefix("OVERVIEW: Show one content version."))
        #expect(try folio(["help", "help"]).status == 0)
        let unknown = try folio(["help", "client", "rename"])
        #expect(unknown.status == 64 && unknown.out.isEmpty)
        #expect(unknown.err == "folio: folio client has no command named \"rename\": its commands are create, show, activate, delete\n", "\(unknown.err)")
        #expect(try folio(["help", "nonexistent"]).err.hasPrefix("folio: folio has no command named \"nonexistent\": its commands are demo, client,"))
        // So does a command line: a mistyped command is named, not the option after it.
        let mistyped = try folio(["payment", "succed", "G0001", "--intent", "pi_1", "--amount", "5"])
        #expect(mistyped.status == 64 && mistyped.out.isEmpty)
        #expect(mistyped.err == "folio: folio payment has no command named \"succed\": its commands are start, succeed, fail, cancel\n", "\(mistyped.err)")
        #expect(try folio(["projections", "stats"]).err == "folio: folio projections has no command named \"stats\": its commands are status, rebuild\n")
        // Asked to list, a group names the command that lists its kind, where there is one.
        #expect(try folio(["client", "list"]).err == "folio: folio client has no command named \"list\": its commands are create, show, activate, delete; `folio clients` lists them\n")
        #expect(try folio(["payment", "ls"]).err.hasSuffix("start, succeed, fail, cancel; `folio payments` lists them\n"))
        #expect(try folio(["token", "list"]).err == "folio: folio token has no command named \"list\": its commands are issue\n")
        #expect(try folio(["clientz"]).err.hasPrefix("folio: folio has no command named \"clientz\": its commands are demo, client,"))
        // An option's value that no store could make right is a usage error, named before any store is looked for.
        let type = try folio(["log", "--type", "ClientRenamed"], store: "/nonexistent/store")
        #expect(type.status == 64 && type.err.hasPrefix("folio: unknown event type \"ClientRenamed\": one of ClientCreated, "), "\(type.err)")
        // Options given before the command are shown where they go, their values quoted for a shell.
        let early = try folio(["--format", "json", "--store", "/tmp/a store's", "clients", "--status", "paid"])
        #expect(early.status == 64 && early.out.isEmpty)
        #expect(early.err == #"folio: options go after the command they are for, as in: folio clients --status paid --format json --store '/tmp/a store'\''s'"# + "\n", "\(early.err)")
        #expect(try folio(["--store=s", "history", "G0001"]).err == "folio: options go after the command they are for, as in: folio history G0001 --store=s\n")
        // So are those given between a group and its command; a request for help is answered.
        #expect(try folio(["version", "--store", "s", "--help", "show", "V"]).status == 0)
        #expect(try folio(["version", "--store", "s", "show", "V"]).err == "folio: options go after the command they are for, as in: folio version show V --store s\n")
        #expect(try folio(["payment", "--format=json", "start", "G0001", "--intent", "pi_1", "--amount", "5"]).err
            == "folio: options go after the command they are for, as in: folio payment start G0001 --intent pi_1 --amount 5 --format=json\n")
        // A client's id where its token goes is a token of the wrong form: a refusal (1), as the others are.
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        #expect(try folio(["client", "create", "--name", "A"], store: store).status == 0)
        for (token, said) in [("4a9f6c1e-0000-4000-8000-000000000000", "is a client's id: activation takes the client's token"), ("G123", "G followed by 4 digits")] {
            let activated = try folio(["client", "activate", token], store: store)
            #expect(activated.status == 1 && activated.err.hasPrefix("folio: ") && activated.err.contains(said), "\(token): \(activated.err)")
        }
        let projector = try folio(["projections", "rebuild", "clients", "analytic"], store: "/nonexistent/store")
        #expect(projector.status == 64 && projector.err == "folio: no projector is named \"analytic\": the projectors are clients, content_versions, payments, analytics\n", "\(projector.err)")
    }

    @Test("shell completion offers the values an option or argument takes: pages, outcomes, statuses, formats")
    func completionValues() throws {
        let bash = try folio(["--generate-completion-script", "bash"])
        #expect(bash.status == 0)
        let pages = "'activation'$'\\n''agreement'$'\\n''confirmation'$'\\n''processing'"
        #expect(bash.out.components(separatedBy: pages).count - 1 == 3, "--page of versions, history and version draft")
        #expect(bash.out.contains("'success'$'\\n''failure'$'\\n''pending'"))
        #expect(bash.out.contains("'table'$'\\n''json'$'\\n''csv'"))
    }

    @Test("help lists each option once, where it applies: --version is the content version under payment, --reason only under payment fail")
    func helpOptions() throws {
        let root = try folio(["--version"])
        #expect(root.status == 0 && root.out == "0.1.0\n", "\(root.err)")
        let extra = try folio(["--version", "clients"])
        #expect(extra.status == 64 && extra.err == "folio: --version stands alone: it prints Folio's version, and takes nothing after it\n", "\(extra.err)")
        let bare = try folio([])
        #expect(bare.status == 0 && bare.out.contains("SUBCOMMANDS:") && bare.out.contains("--version"))
        func options(_ path: [String]) throws -> [Substring] {
            let help = try folio(path + ["--help"])
            #expect(help.status == 0)
            // Option names as help lists them: the first word of each line under OPTIONS.
            let section = help.out.components(separatedBy: "OPTIONS:").last ?? ""
            return section.split(separator: "\n").compactMap { $0.split(separator: " ").first }.filter { $0.hasPrefix("--") }
        }
        for path in [["payment", "start"], ["payment", "succeed"], ["payment", "cancel"], ["payment", "fail"], ["payments"]] {
            let names = try options(path)
            #expect(names.filter { $0 == "--version" }.count == 1, "\(path): \(names)")
            #expect(names.contains("--reason") == (path == ["payment", "fail"]), "\(path): \(names)")
        }
        #expect(try !options(["client", "show"]).contains("--version"))
        // The version is the root's: under a subcommand it is not an option.
        #expect(try folio(["client", "show", "G0001", "--version"]).err.contains("Unknown option '--version'"))
    }

    @Test("arguments parse in process: formats, pages and as-of")
    func parsing() throws {
        let command = try FolioCommand.parseAsRoot(["versions", "--page", "agreement", "--current", "--format", "csv", "--as-of", "2026-01-05T09:00:00Z"])
        let versions = try #require(command as? Versions)
        #expect(versions.page == .agreement && versions.current && versions.output.format == .csv)
        #expect(try versions.asOf.parsed() == .time(microseconds: 1_767_603_600_000_000))
        // To the microsecond, however late: a Date would round this one to the next second.
        let late = try #require(try FolioCommand.parseAsRoot(["versions", "--as-of", "9999-12-31T23:59:59.999999Z"]) as? Versions)
        #expect(try late.asOf.parsed() == .time(microseconds: 253_402_300_799_999_999))
        #expect(throws: (any Error).self) { try FolioCommand.parseAsRoot(["versions", "--format", "xml"]) }
    }
}

@Suite("Bad input")
struct BadInputTests {
    static let corpus = projectRoot.appendingPathComponent("Fixtures/bad-input")

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent(folder).path)) ?? []).sorted()
    }

    @Test("the corpus is there, and every file of it has its expected refusal (an empty list of arguments would pass unseen)")
    func corpusComplete() throws {
        // A file the fuzzer kept (`fuzz-…`) may go without one.
        let imports = Set(Self.files("import").map { String($0.dropLast(".jsonl".count)) })
        let unexpected = imports.filter { !$0.hasPrefix("fuzz-") }.subtracting(Self.importRefusals.keys)
        #expect(imports.count >= 50 && unexpected.isEmpty && Set(Self.importRefusals.keys).isSubset(of: imports), "without files: \(Set(Self.importRefusals.keys).subtracting(imports).sorted()), without refusals: \(unexpected.sorted())")
        #expect(Set(Self.files("content")) == Set(Self.contentRefusals.keys))
    }

    @Test("the corpus's valid prefix imports, so each bad file fails for its own line")
    func validPrefix() throws {
        let directory = try TemporaryDirectory()
        let result = try folio(["import", Self.corpus.appendingPathComponent("valid-prefix.jsonl").path], store: directory.path("store"))
        #expect(result.status == 0, "\(result.err)")
    }

    /// Why each bad import file is refused: its line, and the rule or form it breaks. A file the
    /// fuzzer kept (`fuzz-…`) is held to naming its line.
    static let importRefusals: [String: String] = [
        "activation-after-payment": "line 14: client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 is paid: activating twice is refused (rule 2",
        "activation-with-another-clients-token": "line 14: token G0428 is not client 9c8d7e6f-5a4b-4c3d-8e2f-1a0b9c8d7e6f's token (rule 1)",
        "amount-in-data-under-an-escaped-key": "line 4: amount 50000.0 is not written as a whole number of cents, as 50000 is (rule 6)",
        "amount-under-an-escaped-key": "line 4: amount 50000.0 is not written as a whole number of cents, as 50000 is (rule 6)",
        "amount-written-as-decimal": "line 4: amount 50000.0 is not written as a whole number of cents, as 50000 is (rule 6)",
        "amount-written-with-exponent": "line 4: amount 5e4 is not written as a whole number of cents, as 50000 is (rule 6)",
        "array-line": "line 2: not a JSON object",
        "bad-timestamp": "line 1: recorded_at must be an ISO 8601 UTC timestamp",
        "bad-token-G123": #"line 2: TokenIssued activation_token: "G123" is not an activation token"#,
        "bad-token-five-digits": #"line 2: TokenIssued activation_token: "G12345" is not an activation token"#,
        "bad-token-lowercase": #"line 2: TokenIssued activation_token: "g1234" is not an activation token"#,
        "bad-token-non-ascii-digits": "line 2: TokenIssued activation_token: \"G\u{FF11}\u{FF12}\u{FF13}\u{FF14}\" is not an activation token",
        "client-created-twice": "line 14: client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 already exists",
        "content-not-object": "line 2: content must be a JSON object (rule 5)",
        "data-not-object": "line 2: data must be a JSON object",
        "deep-nesting": "line 2 nests deeper than 64 levels",
        "draft-by-its-actor-in-another-unicode-form": "line 2: VersionDrafted's created_by is \"Jose\u{301}\" but its actor is \"Jos\u{E9}\" (the same text in another Unicode form): a draft's created_by is the actor who recorded it",
        "draft-by-another-actor": #"line 2: VersionDrafted's created_by is "priya" but its actor is "mallory": a draft's created_by is the actor who recorded it"#,
        "duplicate-event-id": "line 2: event id 00000000-0000-4000-8000-000000000001 appears twice",
        "duplicate-intent-other-client": "line 8: payment intent pi_1 already belongs to client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162",
        "export-cut-short": "line 3: the file ends here, at position 3, where its lines say their export ends at position 4: it was cut short, 1 event missing",
        "export-line-edited": "line 3: digest does not follow from the line's event and the digest of the line before it: the line changed after it was exported",
        "export-line-without-digest": "line 2: no digest, where line 1 has one: export writes one on every line",
        "export-lines-of-two-exports": "line 4: last_position is 5, where line 1's is 4: export writes its last position on every line",
        "export-run-on": "line 5: position 5 is past 4, the last position of the export its lines are from",
        "export-twice": "line 5: position is 1 but must be 5: positions start at 1 and have no gaps (a log starts again here: two files joined?)",
        "export-without-last-positions": "line 1: a digest without last_position: export writes both on every line",
        "event-after-deletion": "line 15: client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 was deleted",
        "fractional-amount": "line 4: PaymentInitiated payload is invalid: amount has the wrong type or value (500.5): an amount is a positive whole number of cents (rule 6)",
        "fuzz-timestamp-fraction": "line 1: recorded_at must be an ISO 8601 UTC timestamp",
        "huge-position": "line 1 holds a whole number past 64 bits",
        "intent-with-another-amount": "line 14: payment intent pi_1 was recorded for 50000 cents, not 40000 (rule 6)",
        "invalid-utf8": "line 2: not valid JSON",
        "late-payment-failure": "line 14: PaymentFailed cannot be in a log here: payment intent pi_1 is succeeded: this late report that it is failed changes nothing",
        "missing-data": "line 2: data is missing",
        "long-name-with-a-space-at-its-end": #"line 1: ClientCreated is not what the rules make of it here: its name is …s of Lovelace, Byron " where they make it …s of Lovelace, Byron""#,
        "name-with-spaces-at-its-ends": #"line 1: ClientCreated is not what the rules make of it here: its name is " Ada " where they make it "Ada""#,
        "negative-amount": "line 4: amount -50000 is not allowed",
        "negative-position": "line 1: position must be a whole number from 1",
        "not-json": "line 2: not valid JSON",
        "number-too-small": "line 1 holds a number too small for a double, under about 2.5e-324 (half the smallest, 4.9e-324), which would read it as 0: Folio could not keep it as written",
        "outcome-on-another-clients-version": "line 14: content version 3d4e5f60-7182-4a93-8b4c-5d6e7f801920 belongs to client 5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283, not 0b7c8f6e",
        "overflowing-amount": "line 4 holds a whole number past 64 bits",
        "payment-before-activation": "line 3: client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 is pending: a payment before activation is refused (rule 2",
        "payment-on-another-clients-version": "line 14: content version 3d4e5f60-7182-4a93-8b4c-5d6e7f801920 belongs to client 5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283, not 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 (rule 6",
        "position-as-string": "line 1: position must be a whole number from 1",
        "position-gap": "line 2: position is 3 but must be 2",
        "promote-another-clients-version": "line 6: content version 7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b belongs to client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162, not 5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283 (rule 4",
        "promotion-with-wrong-page-type": "line 14: page_type is processing but content version 3d4e5f60-7182-4a93-8b4c-5d6e7f801920 is a version of the agreement page (rule 4",
        "recorded-at-backwards": "line 2: event at position 2 was recorded before position 1",
        "recorded-at-nanoseconds": "line 1: recorded_at must be an ISO 8601 UTC timestamp to the microsecond at most",
        "reissue-without-replaces": "line 14: replaces is null but the client's token is G0427: a new token retires the one it replaces (rule 1)",
        "repeated-payment-report": "line 14: PaymentSucceeded cannot be in a log here: payment intent pi_1 is succeeded already",
        "skipped-version-number": "line 2: version_number is 2 but the next agreement version is 1 (rule 3",
        "stream-version-gap": "line 14: stream_version is 6 but stream client-5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283 is at version 4",
        "succeeded-then-cancelled": "line 14: payment intent pi_1 is succeeded: it cannot become cancelled (rule 6)",
        "token-issued-twice": "line 4: token G0427 is already issued (to client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162): a token is never issued twice (rule 1)",
        "truncated-line": "line 2: not valid JSON",
        "unknown-client": "line 1: client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 does not exist (rule 7",
        "unknown-outcome": #"line 3: OutcomeRecorded outcome: outcome "won" is unknown"#,
        "unknown-page-type": #"line 2: VersionDrafted page_type: page type "home" is unknown"#,
        "unknown-type": #"line 2: event type "ClientRenamed" is unknown"#,
        "unknown-version": "line 2: content version 7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b does not exist (rule 7",
        "wrong-stream": "line 1: stream is client-5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283 but a ClientCreated of client 0b7c8f6e-2f51-4c2e-9a0b-1d2e3f405162 belongs to client-0b7c8f6e",
        "zero-amount": "line 4: amount 0 is not allowed",
    ]

    @Test("every bad import file is refused with one line naming the line and the rule it breaks, and leaves no store", arguments: files("import"))
    func badImport(name: String) throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let result = try folio(["import", Self.corpus.appendingPathComponent("import/\(name)").path], store: store)
        #expect(result.status != 0)
        #expect(result.err.split(separator: "\n").count == 1, "\(name): \(result.err)")
        let stem = String(name.dropLast(".jsonl".count))
        let fragment = Self.importRefusals[stem] ?? (stem.hasPrefix("fuzz-") ? "line " : nil)
        #expect(fragment != nil, "\(name) has no expected refusal in importRefusals")
        #expect(result.err.hasPrefix("folio: " + (fragment ?? "")), "\(name): \(result.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).isEmpty, "\(name)")
    }

    /// Why each bad content file is refused, as `--content FILE`.
    static let contentRefusals: [String: String] = [
        "array.json": "content must be a JSON object (rule 5)",
        "deep-nesting.json": "content nests deeper than 32 levels",
        "empty.json": "content is empty: a JSON object is needed",
        "huge-number.json": "content holds a number (at byte 11) past the largest a double holds",
        "inexact-integer.json": "content holds a whole number past 64 bits that no double holds exactly",
        "invalid-utf8.json": "content is not valid UTF-8",
        "lone-surrogate.json": "content is not valid JSON text: the \\u escape at byte 26 is half of a surrogate pair alone",
        "nul-byte.json": "content is not valid JSON (at byte 13 of 15)",
        "number.json": "content must be a JSON object (rule 5)",
        "string.json": "content must be a JSON object (rule 5)",
        "trailing-garbage.json": "content is not valid JSON (at byte 16 of 23)",
        "truncated.json": "content is not valid JSON: it ends (after byte 32) before its value does",
    ]

    @Test("bad content and metadata are refused with one line naming what is wrong, and the log is unchanged", arguments: files("content"))
    func badContent(name: String) throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let client = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        // The same command drafts from a file that holds an object, so each refusal is the file's.
        let good = directory.path("good.json")
        #expect(FileManager.default.createFile(atPath: good, contents: Data(#"{"title": "Terms"}"#.utf8)))
        let drafted = try folio(["version", "draft", client, "--page", "agreement", "--content", good, "--format", "json"], store: store)
        #expect(drafted.status == 0 && (try? json(drafted.out)["version_number"] as? Int) == 1, "\(drafted.err)")
        let before = try folio(["export"], store: store).out
        let path = Self.corpus.appendingPathComponent("content/\(name)").path
        let draft = try folio(["version", "draft", client, "--page", "agreement", "--content", path], store: store)
        #expect(draft.status != 0)
        #expect(draft.err.split(separator: "\n").count == 1, "\(name): \(draft.err)")
        #expect(draft.err.hasPrefix("folio: " + (Self.contentRefusals[name] ?? "(no expected refusal)")), "\(name): \(draft.err)")
        // The same text as --metadata, where an argument can carry it (valid UTF-8 without NUL).
        if let text = String(data: try Data(contentsOf: URL(fileURLWithPath: path)), encoding: .utf8), !text.contains("\0") {
            let metadata = try folio(["client", "create", "--name", "B", "--metadata", text], store: store)
            #expect(metadata.status != 0, "\(name) was accepted as metadata")
            #expect(metadata.err.split(separator: "\n").count == 1, "\(name): \(metadata.err)")
        }
        #expect(try folio(["export"], store: store).out == before)
    }

    @Test("content is limited as it is stored: an indented page past 1 MiB is drafted, one past 1 MiB written canonically is refused, as import refuses it")
    func contentSize() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let client = try #require(try json(try folio(["client", "create", "--name", "A", "--format", "json"], store: store).out)["id"] as? String)
        let line = String(repeating: "y", count: 90)
        let indented = "{\n" + (0..<10_000).map { "        \"k\($0)\" :   \"\(line)\"" }.joined(separator: ",\n") + "\n}\n"
        #expect(indented.utf8.count > 1 << 20)
        let drafted = try folio(["version", "draft", client, "--page", "agreement", "--content", "-", "--format", "json"], store: store, input: indented)
        #expect(drafted.status == 0, "\(drafted.err)")
        let content = try #require(try json(drafted.out)["content"] as? [String: Any])
        #expect(content.count == 10_000 && content["k9999"] as? String == line)
        let before = try folio(["export"], store: store).out
        // Endless input is refused once it passes what a parse takes, not read on forever.
        let endless = try folio(["version", "draft", client, "--page", "agreement", "--content", "/dev/zero"], store: store)
        #expect(endless.status != 0 && endless.err == "folio: content is more than the 8388608 bytes Folio reads (the limit is 1048576 bytes written canonically)\n", "\(endless.err)")
        let big = "{\"body\":\"" + String(repeating: "x", count: 1 << 20) + "\"}"
        let refused = try folio(["version", "draft", client, "--page", "agreement", "--content", "-"], store: store, input: big)
        #expect(refused.status != 0)
        #expect(refused.err == "folio: content is 1048587 bytes written canonically (keys sorted, no whitespace), over the limit of 1048576 bytes\n")
        #expect(try folio(["export"], store: store).out == before)
    }

    @Test("a command on a path with no store is refused, and makes none there; client create, import and demo make one")
    func noStore() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("typo")
        // A draft reading its page from standard input is refused before it reads it.
        for arguments in [["clients"], ["client", "show", "G1234"], ["stats"], ["export"], ["verify"], ["projections", "status"], ["token", "issue", "G1234"],
                          ["version", "draft", "G1234", "--page", "agreement", "--content", "-"]] {
            let result = try folio(arguments, store: store)
            #expect(result.status != 0)
            #expect(result.err == "folio: no store at \(store): `folio client create`, `folio import` or `folio demo` makes one\n", "\(arguments)")
        }
        // A link to an empty directory is no store either; a client refused by the rules makes none.
        let empty = directory.path("empty"), link = directory.path("link")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: empty)
        #expect(try folio(["clients"], store: link).err.hasPrefix("folio: no store at \(link)"))
        let blank = try folio(["client", "create", "--name", " "], store: store)
        #expect(blank.err == "folio: a client's name must be 1 to 200 characters, not blank\n")
        for actor in ["", "  "] {
            let nobody = try folio(["client", "create", "--name", "Ada", "--by", actor], store: store)
            #expect(nobody.err == "folio: the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank\n", "\(nobody.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: store))
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
        // The new store is named, once: a mistyped path is noticed.
        let made = try folio(["client", "create", "--name", "Ada"], store: store)
        #expect(made.status == 0 && made.err == "folio: made a new store at \(URL(fileURLWithPath: store).resolvingSymlinksInPath().path) for this client\n", "\(made.err)")
        #expect(try folio(["client", "create", "--name", "Bea"], store: store).err.isEmpty)
        #expect(try folio(["clients", "--format", "csv"], store: store).out.contains("Ada"))
        // Of several commands making one store at once, only the one whose client came first says so.
        let raced = directory.path("raced")
        let said = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let result = try? folio(["client", "create", "--name", "Racer \(index)"], store: raced)
            said.withLock { $0.append(result.map { "\($0.status) \($0.err)" } ?? "not run") }
        }
        let notes = said.withLock { $0 }
        #expect(notes.filter { $0 == "0 folio: made a new store at \(URL(fileURLWithPath: raced).resolvingSymlinksInPath().path) for this client\n" }.count == 1, "\(notes)")
        #expect(notes.filter { $0 == "0 " }.count == 3, "\(notes)")
        // The note is one line, whatever the path holds.
        let twoLines = directory.path("new\nstore")
        let noted = try folio(["client", "create", "--name", "Ada"], store: twoLines)
        #expect(noted.status == 0 && noted.err == "folio: made a new store at \(URL(fileURLWithPath: directory.path("new")).resolvingSymlinksInPath().path)\\nstore for this client\n", "\(noted.err)")
        let exported = try folio(["export", directory.path("two\nlines.jsonl")], store: twoLines)
        #expect(exported.status == 0 && exported.err == "exported 1 event to \(directory.path("two"))\\nlines.jsonl\n", "\(exported.err)")
        // A link to nothing, a path through a file or a loop of links: no store there for a query,
        // which says why (not that a command makes one there), and the reason said when one is to
        // be made (they were "permission denied").
        let dangling = directory.path("dangling"), throughFile = directory.path("file") + "/store", loop = directory.path("loop") + "/store"
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: directory.path("nowhere"))
        #expect(FileManager.default.createFile(atPath: directory.path("file"), contents: Data()))
        try FileManager.default.createSymbolicLink(atPath: directory.path("loop"), withDestinationPath: directory.path("loop"))
        for (path, reason) in [(dangling, "the path is a symbolic link to nothing"), (throughFile, "the path runs through a file"), (loop, "the path runs through a loop of symbolic links")] {
            #expect(try folio(["clients"], store: path).err == "folio: no store at \(path): \(reason)\n")
        }
        #expect(try folio(["client", "create", "--name", "Ada"], store: loop).err
            == "folio: the store path runs through a loop of symbolic links (create directory \(loop))\n")
        #expect(try folio(["client", "create", "--name", "Ada"], store: dangling).err
            == "folio: the store path is taken by something that is not a directory, such as a link to nothing (create directory \(dangling))\n")
        #expect(try folio(["client", "create", "--name", "Ada"], store: throughFile).err
            == "folio: the store path is not a directory, or runs through a file (create directory \(throughFile))\n")
        #expect(try folio(["client", "create", "--name", "Ada"], store: directory.path("new/nested/store")).status == 0)
        // A directory whose data file links to nothing has lost its data (moved, or on a disk not
        // mounted): named so by every command, none of which makes a new store through the link.
        let unmounted = directory.path("unmounted"), missing = directory.path("disk") + "/data.mdb"
        try FileManager.default.createDirectory(atPath: unmounted, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: directory.path("disk"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: unmounted + "/data.mdb", withDestinationPath: missing)
        for arguments in [["clients"], ["client", "create", "--name", "Ada"], ["import", projectRoot.appendingPathComponent("Fixtures/small.jsonl").path], ["demo"]] {
            let refused = try folio(arguments, store: unmounted)
            #expect(refused.status == 1 && refused.out.isEmpty, "\(arguments)")
            #expect(refused.err == "folio: no store at \(unmounted): its data file, data.mdb, is a symbolic link to \(missing), where nothing is; restore what it links to, or remove the link to make a new store there\n", "\(arguments): \(refused.err)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: unmounted) == ["data.mdb"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("disk")).isEmpty)
        // A store's lock file without its data file: the data was moved or deleted. No command
        // makes a new store there, but an import restores one.
        let lost = directory.path("lost")
        #expect(try folio(["client", "create", "--name", "Ada"], store: lost).status == 0)
        try FileManager.default.removeItem(atPath: lost + "/data.mdb")
        for arguments in [["clients"], ["client", "create", "--name", "Bea"]] {
            let refused = try folio(arguments, store: lost)
            #expect(refused.status == 1 && refused.out.isEmpty, "\(arguments)")
            #expect(refused.err == "folio: no store at \(lost): it holds a store's lock file, lock.mdb, but not its data file, data.mdb, as a store whose data file was moved or deleted does; restore data.mdb (`folio import` restores an export there), or remove lock.mdb to make a new store there\n", "\(arguments): \(refused.err)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: lost) == ["lock.mdb"])
        #expect(try folio(["import", projectRoot.appendingPathComponent("Fixtures/small.jsonl").path], store: lost).status == 0)
        #expect(try folio(["verify"], store: lost).status == 0)
    }

    @Test("a command on a log whose last time is later than the clock is recorded at that time, and says so")
    func clockBehindTheLog() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let client = UUID().uuidString.lowercased()
        let line = #"{"id":"\#(UUID().uuidString.lowercased())","position":1,"stream":"client-\#(client)","stream_version":1,"type":"ClientCreated","schema_version":2,"recorded_at":"2300-01-01T00:00:00.000000Z","actor":"admin","correlation_id":null,"causation_id":null,"data":{"client_id":"\#(client)","email":null,"metadata":{},"name":"Later"}}"#
        try (line + "\n").write(toFile: directory.path("later.jsonl"), atomically: false, encoding: .utf8)
        #expect(try folio(["import", directory.path("later.jsonl")], store: store).status == 0)
        let created = try folio(["client", "create", "--name", "Now", "--format", "json"], store: store)
        #expect(created.status == 0)
        #expect(try json(created.out)["created_at"] as? String == "2300-01-01T00:00:00.000000Z")
        #expect(created.err.hasPrefix("folio: recorded at 2300-01-01T00:00:00.000000Z, the log's last time, as this machine's clock (20"), "\(created.err)")
        #expect(created.err.hasSuffix(") is behind it and the log's times never go back\n") && created.err.split(separator: "\n").count == 1)
        // A command refused inside its write transaction recorded nothing, and says nothing of the clock.
        let refused = try folio(["client", "activate", "G9999"], store: store)
        #expect(refused.status != 0 && refused.err.split(separator: "\n").count == 1 && !refused.err.contains("clock"), "\(refused.err)")
        #expect(try folio(["log"], store: store).out.split(separator: "\n").count == 2)
    }

    @Test("a command started without standard input, output and error writes nothing into the store's files, and fails as its output is lost")
    func closedStandardDescriptors() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let exported = try folio(["export"], store: store).out
        // Closed, the store's files took their numbers: a listing was written over the data file.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [
            "-c", #""$0" clients --store "$1" <&- >&- 2>&-; echo $?; "$0" client create --name Closed --store "$1" <&- >&- 2>&-; echo $?"#,
            try products().appendingPathComponent("folio").path, store,
        ]
        let statuses = Pipe()
        shell.standardOutput = statuses
        try shell.run()
        let said = String(decoding: statuses.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        // What they printed went nowhere: both fail (the creation, carried out, says so where it can).
        #expect(said == "1\n1\n")
        let verified = try folio(["verify"], store: store)
        #expect(verified.status == 0, "\(verified.err)")
        // The same lines first, but for the last position each names.
        func unmarked(_ export: String) -> String {
            export.replacingOccurrences(of: #","last_position":[0-9]+}"#, with: "}", options: .regularExpression)
        }
        let after = try folio(["export"], store: store).out
        #expect(unmarked(after).hasPrefix(unmarked(exported)) && after.contains(#""name":"Closed""#))
    }

    @Test("output that cannot be written is an error, not a silent success")
    func unwritableOutput() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        try folio(["client", "create", "--name", "Ada"], store: store)
        func intoFullDisk(_ arguments: [String]) throws -> (status: Int32, message: String) {
            let process = Process()
            process.executableURL = try products().appendingPathComponent("folio")
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
            let err = Pipe()
            process.standardError = err
            try process.run()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, message)
        }
        for arguments in [["clients", "--format", "csv", "--store", store], ["export", "--store", store], ["log", "--store", store], ["generate", "--clients", "1"]] {
            let (status, message) = try intoFullDisk(arguments)
            #expect(status != 0, "\(arguments)")
            #expect(message == "folio: cannot write standard output: No space left on device\n", "\(arguments)")
            // The same where standard output is closed: the output would be lost without a word.
            let closed = try folio(arguments, through: ["/bin/sh", "-c", #""$0" "$@" >&-"#])
            #expect(closed.status == 1 && closed.err == "folio: cannot write standard output: it was closed when folio started\n", "\(arguments): \(closed.err)")
        }
        // A write command whose row cannot be printed has written: it says so, so that it is not
        // run again (a second `client create` would make a second client).
        let (status, message) = try intoFullDisk(["client", "create", "--name", "Bea", "--store", store])
        #expect(status != 0)
        #expect(message == "folio: the command was carried out and the store holds its result, but cannot write standard output: No space left on device\n", "\(message)")
        #expect(try folio(["clients", "--format", "csv"], store: store).out.contains("Bea"))
        // A file grown past the process's limit (`ulimit -f`) is a failed write, its partial file removed.
        let limited = try folio(["generate", "--clients", "20", directory.path("limited.jsonl")], through: ["/bin/sh", "-c", #"ulimit -f 10; exec "$0" "$@""#])
        #expect(limited.status == 1 && limited.err == "folio: cannot write \(directory.path("limited.jsonl")): File too large\n", "\(limited.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).allSatisfy { !$0.hasPrefix("limited") })
        // A commit that limit cuts short (LMDB's I/O error) is named by it, and writes nothing.
        let fixture = try directory.importedFixture("fixture")
        let cut = try folio(["client", "create", "--name", "Flo"], store: fixture, through: ["/bin/sh", "-c", #"ulimit -f 100; exec "$0" "$@""#])
        #expect(cut.status == 1 && cut.err == "folio: the store's data file would grow past this process's file size limit (ulimit -f): nothing was written (mdb_txn_commit)\n", "\(cut.err)")
        #expect(try folio(["verify"], store: fixture).status == 0)
        // An export past the limit fails as a generate does, its partial file removed.
        let exported = try folio(["export", directory.path("limited-export.jsonl")], store: fixture, through: ["/bin/sh", "-c", #"ulimit -f 10; exec "$0" "$@""#])
        #expect(exported.status == 1 && exported.err == "folio: cannot write \(directory.path("limited-export.jsonl")): File too large\n", "\(exported.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).allSatisfy { !$0.hasPrefix("limited") })
        // So does one whose reader is gone, where it would have ended by SIGPIPE without a word.
        /// `folio arguments` with its standard output's reader gone (and its standard error's, if
        /// `errorGone`): how it ended, and what it said on standard error.
        func readerGone(_ arguments: [String], errorGone: Bool = false) throws -> (process: Process, said: String) {
            let process = Process()
            process.executableURL = try products().appendingPathComponent("folio")
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try out.fileHandleForReading.close()
            if errorGone { try err.fileHandleForReading.close() }
            try process.run()
            let said = errorGone ? "" : String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process, said)
        }
        let (gone, goneMessage) = try readerGone(["client", "create", "--name", "Cid", "--store", store])
        #expect(gone.terminationReason == .exit && gone.terminationStatus == 1, "\(gone.terminationReason) \(gone.terminationStatus)")
        #expect(goneMessage == "folio: the command was carried out and the store holds its result, but cannot write standard output: Broken pipe\n", "\(goneMessage)")
        #expect(try folio(["clients", "--format", "csv"], store: store).out.contains("Cid"))
        // Both outputs gone, the note of a new store comes before the row: still no SIGPIPE.
        let (silent, _) = try readerGone(["client", "create", "--name", "Dee", "--store", store + "-new"], errorGone: true)
        #expect(silent.terminationReason == .exit && silent.terminationStatus == 1, "\(silent.terminationReason) \(silent.terminationStatus)")
        #expect(try folio(["clients", "--format", "csv"], store: store + "-new").out.contains("Dee"))
        let rebuilt = try intoFullDisk(["projections", "rebuild", "--store", store])
        #expect(rebuilt.status != 0 && rebuilt.message.hasPrefix("folio: the command was carried out and the store holds its result, but "), "\(rebuilt.message)")
        // A demo that imported its sample made the store; one that only shows a store did not.
        let demoStore = store + "-demo"
        let demo = try intoFullDisk(["demo", "--clients", "2", "--seed", "5", "--store", demoStore])
        #expect(demo.status != 0 && demo.message.hasPrefix("folio: the command was carried out and the store holds its result, but "), "\(demo.message)")
        #expect(try folio(["verify"], store: demoStore).status == 0)
        let shownDemo = try intoFullDisk(["demo", "--store", demoStore])
        #expect(shownDemo.status != 0 && shownDemo.message == "folio: cannot write standard output: No space left on device\n", "\(shownDemo.message)")
        // Its reader gone, one that only shows ends by SIGPIPE without a word, as a query does.
        let (headless, headlessSaid) = try readerGone(["demo", "--store", demoStore])
        #expect(headless.terminationReason == .uncaughtSignal && headless.terminationStatus == SIGPIPE && headlessSaid.isEmpty, "\(headless.terminationStatus) \(headlessSaid)")
        // A query carried nothing out: it says only what failed.
        let id = String(try folio(["clients", "--format", "csv"], store: store).out.split(separator: "\r\n")[1].prefix(36))
        let shown = try intoFullDisk(["client", "show", id, "--store", store])
        #expect(shown.status != 0 && shown.message == "folio: cannot write standard output: No space left on device\n", "\(shown.message)")
    }

    @Test("a file to import that cannot be read is refused by its name, before any store is made")
    func unreadableImport() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        // Nothing to import, or blank lines only: no store of nothing is made.
        for input in ["", "\n\n", "\u{FEFF}\n"] {
            let empty = try folio(["import", "-"], store: store, input: input)
            #expect(empty.status != 0 && empty.err == "folio: standard input holds no events: an import takes an exported log, one event a line\n", "\(empty.err)")
            #expect(!FileManager.default.fileExists(atPath: store))
        }
        for (source, reason) in [(directory.path("missing.jsonl"), "No such file or directory"), (directory.path(""), "it is a directory")] {
            let result = try folio(["import", source], store: store)
            #expect(result.status != 0)
            #expect(result.err == "folio: cannot read \(source): \(reason)\n")
        }
        let unnamed = try folio(["import", ""], store: store)
        #expect(unnamed.status != 0 && unnamed.err == "folio: cannot read a file: the path given is empty\n", "\(unnamed.err)")
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    /// Starts `folio import -` into `store`, spooling its standard input into `spools`, which is
    /// left open for the test to write.
    private func startImportFromStandardInput(store: String, spoolingInto spools: String) throws -> (Process, input: Pipe, err: Pipe) {
        let process = Process()
        process.executableURL = try products().appendingPathComponent("folio")
        process.arguments = ["import", "-", "--store", store]
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": spools]) { $1 }
        let input = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, input, err)
    }

    @Test("standard input redirected from a file is read as that file, from where it stands, without spooling; a store that is not empty is refused before a pipe ends")
    func importFromRedirectedFile() throws {
        let directory = try TemporaryDirectory()
        let fixture = projectRoot.appendingPathComponent("Fixtures/small.jsonl").path
        let executable = try products().appendingPathComponent("folio").path
        let expected = try folio(["export"], store: { () throws -> String in
            let store = directory.path("from-file")
            try folio(["import", fixture], store: store)
            return store
        }()).out
        // No spool could be made there: the file is read as it is.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\"$0\" import - --store \"$2\" < \"$1\"", executable, fixture, directory.path("redirected")]
        shell.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": directory.path("no-such-directory")]) { $1 }
        let out = Pipe(), err = Pipe()
        (shell.standardOutput, shell.standardError) = (out, err)
        try shell.run()
        shell.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "imported 415 events of 12 clients\n", "\(message)")
        #expect(try folio(["export"], store: directory.path("redirected")).out == expected)
        // Read from where it stands: after a first line the shell read off, the import starts at
        // the second (which it names as its line 1), and does not go back to the first.
        let offset = Process()
        offset.executableURL = URL(fileURLWithPath: "/bin/sh")
        offset.arguments = ["-c", "{ read -r first && \"$0\" import - --store \"$2\"; } < \"$1\"", executable, fixture, directory.path("offset")]
        let offsetErr = Pipe()
        (offset.standardOutput, offset.standardError) = (FileHandle.nullDevice, offsetErr)
        try offset.run()
        offset.waitUntilExit()
        #expect(offset.terminationStatus != 0)
        #expect(String(decoding: offsetErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).hasPrefix("folio: line 1: position is 2 but must be 1"))
        // Into a store that holds events, from a pipe left open: refused at once.
        let (process, input, importErr) = try startImportFromStandardInput(store: directory.path("from-file"), spoolingInto: directory.path(""))
        waitWhile { process.isRunning }
        #expect(!process.isRunning, "the import waited for its input to end")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try input.fileHandleForWriting.close()
        #expect(String(decoding: importErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "folio: import needs an empty store: this one already holds 415 events\n")
    }

    /// Whether process `pid` holds a spooled copy of its standard input open (or, with `prefix`,
    /// another file of Folio's): a file of `$TMPDIR` whose name is already gone.
    private func holdsSpool(_ pid: Int32, prefix: String = "/folio-import-") -> Bool {
        let descriptors = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: descriptors)) ?? []).contains { descriptor in
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(descriptors)/\(descriptor)")
            return target.map { $0.contains(prefix) && $0.hasSuffix(" (deleted)") } ?? false
        }
    }

    @Test("a demo's generated history has no name in $TMPDIR while it is written and imported: a demo killed outright leaves none of it")
    func demoKilled() throws {
        let directory = try TemporaryDirectory()
        let spools = directory.path("tmp")
        try FileManager.default.createDirectory(atPath: spools, withIntermediateDirectories: false)
        let process = Process()
        process.executableURL = try products().appendingPathComponent("folio")
        process.arguments = ["demo", "--clients", "3000", "--store", directory.path("store")]
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": spools]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        waitWhile { !holdsSpool(process.processIdentifier, prefix: "/folio-demo-") }
        #expect(holdsSpool(process.processIdentifier, prefix: "/folio-demo-"), "the demo never wrote its history")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spools).isEmpty)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: spools).isEmpty)
    }

    @Test("a demo stopped by SIGTERM while it generates its history says that no store was made, and dies of the signal")
    func demoInterrupted() throws {
        let directory = try TemporaryDirectory()
        let spools = directory.path("tmp"), store = directory.path("store")
        try FileManager.default.createDirectory(atPath: spools, withIntermediateDirectories: false)
        let process = Process()
        process.executableURL = try products().appendingPathComponent("folio")
        process.arguments = ["demo", "--clients", "3000", "--store", store]
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": spools]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        waitWhile { !holdsSpool(process.processIdentifier, prefix: "/folio-demo-") }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        #expect(said.replacingOccurrences(of: "\r", with: "\n").split(separator: "\n").last == "folio: interrupted; no store was made at \(store)", "\(said)")
        #expect(!FileManager.default.fileExists(atPath: store))
        #expect(try FileManager.default.contentsOfDirectory(atPath: spools).isEmpty)
    }

    @Test("an import stopped by Ctrl-C or kill removes the store it was building, and dies of the signal; its spooled input never had a name to leave", arguments: [
        (SIGINT, false), (SIGTERM, true),
    ])
    func importInterrupted(signal: Int32, intoEmptyDirectory: Bool) throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store"), spools = directory.path("tmp")
        try FileManager.default.createDirectory(atPath: spools, withIntermediateDirectories: false)
        if intoEmptyDirectory { try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: false) }
        let (process, input, err) = try startImportFromStandardInput(store: store, spoolingInto: spools)
        let fixture = try String(contentsOf: projectRoot.appendingPathComponent("Fixtures/small.jsonl"), encoding: .utf8)
        input.fileHandleForWriting.write(Data((fixture.split(separator: "\n").prefix(50).joined(separator: "\n") + "\n").utf8))
        // The input stays open: the import is spooling it, its store staged, when the signal comes.
        let staged = intoEmptyDirectory ? store : directory.path("")
        func leftovers() -> [String] {
            let staging = (try? FileManager.default.contentsOfDirectory(atPath: staged).filter { $0.contains("importing-") }) ?? []
            return staging + ((try? FileManager.default.contentsOfDirectory(atPath: spools)) ?? [])
        }
        waitWhile { leftovers().isEmpty || !holdsSpool(process.processIdentifier) }
        #expect(holdsSpool(process.processIdentifier), "the import never spooled its input")
        // Nothing of the spool is in $TMPDIR by name: a SIGKILL now would leave none of it.
        #expect(leftovers().count == 1, "the import never staged its store, or named its spool: \(leftovers())")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        try input.fileHandleForWriting.close()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.hasPrefix("folio: interrupted; removed the store being imported (") && message.split(separator: "\n").count == 1, "\(message)")
        #expect(leftovers().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).sorted() == (intoEmptyDirectory ? ["store", "tmp"] : ["tmp"]))
        // The path is as it was: the next import makes the store there.
        let imported = try folio(["import", projectRoot.appendingPathComponent("Fixtures/small.jsonl").path], store: store)
        #expect(imported.out == "imported 415 events of 12 clients\n", "\(imported.err)")
    }

    @Test("an import into a store that is there, stopped by Ctrl-C, says nothing was imported, and nothing was")
    func importIntoStoreInterrupted() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store"), spools = directory.path("tmp")
        try FileManager.default.createDirectory(atPath: spools, withIntermediateDirectories: false)
        _ = try EventStore(path: store)
        let (process, input, err) = try startImportFromStandardInput(store: store, spoolingInto: spools)
        input.fileHandleForWriting.write(Data("{}\n".utf8))
        waitWhile { !holdsSpool(process.processIdentifier) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: spools).isEmpty)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        try input.fileHandleForWriting.close()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message == "folio: interrupted; nothing was imported into \(store)\n", "\(message)")
        #expect(try folio(["stats", "--format", "json"], store: store).out.contains(#""head":0"#))
    }

    @Test("a new file is made under the umask, a replaced one keeps its permissions")
    func newFilesKeepTheUmask() throws {
        let directory = try TemporaryDirectory()
        let folio = try products().appendingPathComponent("folio").path
        func mode(_ name: String) throws -> Int { try #require(FileManager.default.attributesOfItem(atPath: directory.path(name))[.posixPermissions] as? Int) }
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "umask 077 && \"$0\" generate --clients 1 \"$1\" && \"$0\" generate --clients 1 \"$2\"", folio, directory.path("new.jsonl"), directory.path("old.jsonl")]
        shell.standardError = FileHandle.nullDevice
        try "x\n".write(toFile: directory.path("old.jsonl"), atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: directory.path("old.jsonl"))
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        #expect(try mode("new.jsonl") == 0o600)
        #expect(try mode("old.jsonl") == 0o640)
    }

    @Test("a history being generated over a file and stopped by Ctrl-C leaves the file as it was, and no partial file")
    func generateInterrupted() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path("history.jsonl")
        try "earlier\n".write(toFile: file, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = try products().appendingPathComponent("folio")
        // Large enough to be caught while it is planned or written.
        process.arguments = ["generate", "--clients", "20000", "--content-min", "1500", "--content-max", "1600", file]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var waited = 0
        let partial = file + ".partial-\(process.processIdentifier)"
        while !FileManager.default.fileExists(atPath: partial), process.isRunning, waited < 6000 {
            usleep(10_000)
            waited += 1
        }
        #expect(process.isRunning, "the generator ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.hasSuffix("folio: interrupted; removed the unfinished \(file) (\(partial))\n"), "\(message)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "earlier\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")) == ["history.jsonl"])
    }

    @Test("an import into a new path or a directory without a store lands whole or leaves it as it was")
    func importIntoNewPath() throws {
        let directory = try TemporaryDirectory()
        let bad = directory.path("bad.jsonl"), good = projectRoot.appendingPathComponent("Fixtures/small.jsonl").path
        try #"{"position":1}"#.write(toFile: bad, atomically: false, encoding: .utf8)
        let store = directory.path("new")
        let refused = try folio(["import", bad], store: store)
        #expect(refused.status != 0)
        #expect(refused.err == "folio: line 1: id is missing\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")) == ["bad.jsonl"])
        let imported = try folio(["import", good], store: store)
        #expect(imported.out == "imported 415 events of 12 clients\n", "\(imported.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).sorted() == ["bad.jsonl", "new"])
        #expect(try folio(["stats", "--format", "json"], store: store).out.contains(#""head":415"#))
        // An empty directory made for the store is left empty by a refused import, then filled.
        let made = directory.path("made")
        try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: false)
        #expect(try folio(["import", bad], store: made).status != 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: made).isEmpty)
        #expect(try folio(["clients"], store: made).err == "folio: no store at \(made): `folio client create`, `folio import` or `folio demo` makes one\n")
        #expect(try folio(["import", good], store: made).status == 0)
        #expect(try folio(["stats", "--format", "json"], store: made).out.contains(#""head":415"#))
        // So is a directory holding other files: a refused import leaves them alone, and no store.
        let notes = directory.path("notes")
        try FileManager.default.createDirectory(atPath: notes, withIntermediateDirectories: false)
        try "mine".write(toFile: notes + "/notes.txt", atomically: false, encoding: .utf8)
        #expect(try folio(["import", bad], store: notes).status != 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: notes) == ["notes.txt"])
        #expect(try folio(["clients"], store: notes).err.hasPrefix("folio: no store at \(notes)"))
        #expect(try folio(["import", good], store: notes).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: notes).sorted() == ["data.mdb", "notes.txt"])
        // A path typed with a slash at its end is staged beside it too, not inside it.
        let slashed = directory.path("slashed") + "/"
        #expect(try folio(["import", bad], store: slashed).status != 0)
        #expect(!FileManager.default.fileExists(atPath: slashed))
        #expect(try folio(["import", good], store: slashed).status == 0)
        #expect(try folio(["stats", "--format", "json"], store: slashed).out.contains(#""head":415"#))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).sorted() == ["bad.jsonl", "made", "new", "notes", "slashed"])
    }

    @Test("an export writes through links, keeps a replaced file's permissions, and writes into devices and pipes instead of replacing them")
    func exportTargets() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        try folio(["client", "create", "--name", "A"], store: store)
        let expected = try folio(["export"], store: store).out
        // A store's own files are not replaced by an export of it, or of another store.
        for name in ["data.mdb", "lock.mdb"] {
            let own = try folio(["export", store + "/" + name], store: store)
            #expect(own.status != 0 && own.err == "folio: cannot write \(store)/\(name): it is a file of a store (its data or lock file): writing it would destroy that store\n", "\(own.err)")
        }
        #expect(try folio(["verify"], store: store).status == 0)
        // Nor through a link to one of them.
        try FileManager.default.createSymbolicLink(atPath: directory.path("backup.jsonl"), withDestinationPath: store + "/data.mdb")
        #expect(try folio(["export", directory.path("backup.jsonl")], store: store).err.hasSuffix("it is a file of a store (its data or lock file): writing it would destroy that store\n"))
        #expect(try folio(["verify"], store: store).status == 0)
        // Two exports to one name at once write their own files beside it: the one renamed last
        // stands whole.
        let shared = directory.path("shared.jsonl")
        let writers = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = try products().appendingPathComponent("folio")
            process.arguments = ["export", shared, "--store", store]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for writer in writers {
            writer.waitUntilExit()
            #expect(writer.terminationStatus == 0)
        }
        #expect(try String(contentsOfFile: shared, encoding: .utf8) == expected)
        let manager = FileManager.default
        // A link to a file: the file gets the export, the link stays a link.
        try "old".write(toFile: directory.path("real.jsonl"), atomically: false, encoding: .utf8)
        try manager.createSymbolicLink(atPath: directory.path("link.jsonl"), withDestinationPath: "real.jsonl")
        #expect(try folio(["export", directory.path("link.jsonl")], store: store).status == 0)
        #expect(try manager.destinationOfSymbolicLink(atPath: directory.path("link.jsonl")) == "real.jsonl")
        #expect(try String(contentsOfFile: directory.path("real.jsonl"), encoding: .utf8) == expected)
        // A link to nothing: the file it names is made, the link stays; a link to a directory is refused.
        try manager.createSymbolicLink(atPath: directory.path("dangling.jsonl"), withDestinationPath: "made.jsonl")
        #expect(try folio(["export", directory.path("dangling.jsonl")], store: store).status == 0)
        #expect(try manager.destinationOfSymbolicLink(atPath: directory.path("dangling.jsonl")) == "made.jsonl")
        #expect(try String(contentsOfFile: directory.path("made.jsonl"), encoding: .utf8) == expected)
        try manager.createDirectory(atPath: directory.path("folder"), withIntermediateDirectories: false)
        try manager.createSymbolicLink(atPath: directory.path("folder.jsonl"), withDestinationPath: "folder")
        let onFolder = try folio(["export", directory.path("folder.jsonl")], store: store)
        #expect(onFolder.status != 0 && onFolder.err == "folio: cannot write \(directory.path("folder.jsonl")): Is a directory\n", "\(onFolder.err)")
        #expect(try manager.destinationOfSymbolicLink(atPath: directory.path("folder.jsonl")) == "folder")
        // A replaced file keeps its permissions; a new one is its owner's alone.
        try "old".write(toFile: directory.path("shared.jsonl"), atomically: false, encoding: .utf8)
        try manager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.path("shared.jsonl"))
        #expect(try folio(["export", directory.path("shared.jsonl")], store: store).status == 0)
        #expect(try manager.attributesOfItem(atPath: directory.path("shared.jsonl"))[.posixPermissions] as? Int == 0o644)
        #expect(try folio(["export", directory.path("new.jsonl")], store: store).status == 0)
        #expect(try manager.attributesOfItem(atPath: directory.path("new.jsonl"))[.posixPermissions] as? Int == 0o600)
        // Devices are written into: /dev/null takes it, /dev/full refuses it, and both stay devices.
        for (arguments, store) in [(["export", ""], store), (["generate", "--clients", "1", ""], nil)] {
            let empty = try folio(arguments, store: store)
            #expect(empty.status == 1 && empty.err == "folio: cannot write a file: the path given is empty (- writes to standard output)\n", "\(empty.err)")
        }
        let null = try folio(["export", "/dev/null"], store: store)
        #expect(null.status == 0 && null.err == "exported 1 event to /dev/null\n", "\(null.err)")
        #expect(try folio(["verify"], store: store).out.hasPrefix("ok: 1 event, checksums"))
        let full = try folio(["export", "/dev/full"], store: store)
        #expect(full.status != 0 && full.err == "folio: cannot write /dev/full: No space left on device\n", "\(full.err)")
        for device in ["/dev/null", "/dev/full"] {
            #expect(try manager.attributesOfItem(atPath: device)[.type] as? FileAttributeType == .typeCharacterSpecial, "\(device)")
        }
        // A named pipe: its reader gets the export.
        let pipe = directory.path("pipe")
        #expect(mkfifo(pipe, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$1\"", pipe, directory.path("read.jsonl")]
        try reader.run()
        #expect(try folio(["export", pipe], store: store).status == 0)
        reader.waitUntilExit()
        #expect(try String(contentsOfFile: directory.path("read.jsonl"), encoding: .utf8) == expected)
        #expect(try manager.attributesOfItem(atPath: pipe)[.type] as? FileAttributeType != .typeRegular, "the pipe stays a pipe")
    }

    @Test("an export removes what an export of that name stopped outright left beside it, and only that: a file no process holds, a minute old")
    func abandonedPartialExports() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let target = directory.path("backup.jsonl")
        let manager = FileManager.default
        let old = Date().addingTimeInterval(-120)
        func partial(_ pid: Int, age: Date = old) throws -> String {
            let path = target + ".partial-\(pid)"
            try "{\"unfinished\":true}\n".write(toFile: path, atomically: false, encoding: .utf8)
            try manager.setAttributes([.modificationDate: age], ofItemAtPath: path)
            return path
        }
        let abandoned = try partial(4_000_001), held = try partial(4_000_003)
        _ = try partial(4_000_002, age: Date())
        // Dated a day ahead, by a clock set back since: old all the same, or it would stay for a day.
        let ahead = try partial(4_000_006, age: Date().addingTimeInterval(86_400))
        let other = try partial(4_000_004)
        try manager.moveItem(atPath: other, toPath: directory.path("other.jsonl.partial-4000004"))
        try manager.createSymbolicLink(atPath: target + ".partial-4000005", withDestinationPath: directory.path("other.jsonl.partial-4000004"))
        // A running export's: this process holds its lock, as a writer does.
        let lock = open(held, O_RDONLY)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX) == 0)
        let exported = try folio(["export", target], store: store)
        #expect(exported.status == 0)
        let said = exported.err.split(separator: "\n").map(String.init)
        #expect(Set(said.dropLast()) == Set([abandoned, ahead].map { "folio: removed \($0), left unfinished by an earlier write into \(target) that was stopped outright" }), "\(exported.err)")
        #expect(said.count == 3 && said.last == "exported 415 events to \(target)", "\(exported.err)")
        #expect(try manager.contentsOfDirectory(atPath: directory.path("")).sorted()
            == ["backup.jsonl", "backup.jsonl.partial-4000002", "backup.jsonl.partial-4000003", "backup.jsonl.partial-4000005", "other.jsonl.partial-4000004", "store"])
    }

    @Test("a write never writes through a link or into a file under its partial file's name: one of this user's that no process holds is replaced, anything else refused")
    func partialFileInTheWay() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let target = directory.path("backup.jsonl"), victim = directory.path("victim")
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        try "old\n".write(toFile: target, atomically: false, encoding: .utf8)
        // The shell's process number is the export's: it puts something under the export's partial name first.
        func export(after setUp: String) throws -> Result {
            try folio(["export", target], store: store, through: ["/bin/sh", "-c", setUp + #"; exec "$0" "$@""#], environment: ["TARGET": target, "VICTIM": victim])
        }
        let linked = try export(after: #"ln -s "$VICTIM" "$TARGET.partial-$$""#)
        #expect(linked.status == 1 && linked.err.hasPrefix("folio: cannot write \(target): \(target).partial-") && linked.err.contains("is there and is no file of this user's that no process holds"), "\(linked.err)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
        // A file of this user's, left by a process of the same number (a reboot since), is replaced.
        let left = try export(after: #"echo unfinished > "$TARGET.partial-$$""#)
        #expect(left.status == 0, "\(left.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).filter { $0.contains(".partial-") }.count == 1, "only the link is left")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == (try folio(["export", "-"], store: store).out))
    }

    @Test("a write that is running holds its partial file, however old: the next write of that name leaves it, and removes it once its writer is killed")
    func heldPartialFile() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.importedFixture()
        let target = directory.path("history.jsonl")
        let manager = FileManager.default
        // A generate of some seconds, stopped once it has written into its partial file.
        let writer = Process()
        writer.executableURL = try products().appendingPathComponent("folio")
        writer.arguments = ["generate", "--clients", "100", target]
        writer.standardOutput = FileHandle.nullDevice
        writer.standardError = FileHandle.nullDevice
        try writer.run()
        defer { if writer.isRunning { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() } }
        let partial = target + ".partial-\(writer.processIdentifier)"
        waitWhile { writer.isRunning && ((try? manager.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0) == 0 }
        kill(writer.processIdentifier, SIGSTOP)
        try #require(manager.fileExists(atPath: partial) && writer.isRunning)
        try manager.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: partial)
        let exported = try folio(["export", target], store: store)
        #expect(exported.status == 0 && exported.err == "exported 415 events to \(target)\n", "\(exported.err)")
        #expect(manager.fileExists(atPath: partial))
        // Killed outright, it holds nothing: the next write removes what it left.
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        let again = try folio(["export", target], store: store)
        #expect(again.err == "folio: removed \(partial), left unfinished by an earlier write into \(target) that was stopped outright\nexported 415 events to \(target)\n", "\(again.err)")
        #expect(try manager.contentsOfDirectory(atPath: directory.path("")).sorted() == ["history.jsonl", "store"])
    }

    @Test("an export that cannot be written is refused by the file's name; a directory in its way is left as it was")
    func unwritableExport() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        try folio(["client", "create", "--name", "A"], store: store)
        let target = directory.path("missing/backup.jsonl")
        let result = try folio(["export", target], store: store)
        #expect(result.status != 0)
        #expect(result.err == "folio: cannot write \(target): No such file or directory\n")
        // A directory named as the target keeps what it holds, and no partial file stays beside it.
        let kept = directory.path("kept")
        try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: false)
        try "mine".write(toFile: kept + "/note.txt", atomically: false, encoding: .utf8)
        let onDirectory = try folio(["export", kept], store: store)
        #expect(onDirectory.status != 0)
        #expect(onDirectory.err == "folio: cannot write \(kept): Is a directory\n")
        #expect(try String(contentsOfFile: kept + "/note.txt", encoding: .utf8) == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("")).sorted() == ["kept", "store"])
    }

    @Test("a 100 MB line, and one that never ends, are refused without reading them whole")
    func hugeLine() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path("huge.jsonl")
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        handle.write(Data(#"{"id":""#.utf8))
        for _ in 0..<100 { handle.write(chunk) }
        try handle.close()
        let result = try folio(["import", file], store: directory.path("store"))
        #expect(result.status != 0)
        #expect(result.err.contains("line 1 is longer than 8 MiB"), "\(result.err)")
        // A line that never ends is refused as well: one read whole would run until `timeout` ends it.
        let endless = try folio(["import", "/dev/zero"], store: directory.path("store"), through: ["/usr/bin/timeout", "120"])
        #expect(endless.status == 1 && endless.err == "folio: line 1 is longer than 8 MiB\n", "\(endless.status) \(endless.err)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("store")))
    }

    @Test("a store from a newer format is refused and left as it was")
    func newerFormat() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        try folio(["client", "create", "--name", "A"], store: store)
        // Mark the store as written by a format after this Folio's, as a newer Folio would.
        let newer = EventStore.formatVersion + 1
        let marker = Process()
        marker.executableURL = try products().appendingPathComponent("Worker")
        marker.arguments = ["mark-format", "--store", store, "--format", String(newer)]
        try marker.run()
        marker.waitUntilExit()
        #expect(marker.terminationStatus == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb"))
        let result = try folio(["clients"], store: store)
        #expect(result.status != 0)
        #expect(result.err.contains("storage format \(newer)"), "\(result.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb")) == before)
    }
}
