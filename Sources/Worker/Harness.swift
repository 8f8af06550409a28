import Domain
import EventStore
import Folio
import Foundation
import Projections
import SystemPackage

/// Runs a mix of commands through the command path, printing what each one appended as soon as it
/// has returned (and so has committed): its event's position, type and stream. The only writer,
/// each command appends one event, or none when it changes nothing (`activate` twice).
func runCommands(path: String, count: Int, seed: UInt64) throws {
    let store = try Store(path: path)
    var rng = SplitMix64(seed: seed)
    var clients: [(id: String, token: String?)] = []
    var versions: [(id: String, client: String)] = []
    var head = try store.log.head()
    func acknowledgeAppended(_ type: String, client: String) throws {
        let now = try store.log.head()
        guard now > head else { return }
        guard now == head + 1 else { throw HarnessFailure("a \(type) command appended \(now - head) events") }
        head = now
        acknowledge("\(now) \(type) client-\(client)")
    }
    for index in 0..<count {
        switch clients.isEmpty ? 0 : Int.random(in: 0..<6, using: &rng) {
        case 0:
            let row = try store.createClient(name: "Harness client \(index)")
            clients.append((row.id.lowercased, nil))
            try acknowledgeAppended("ClientCreated", client: row.id.lowercased)
        case 1:
            let pick = Int.random(in: 0..<clients.count, using: &rng)
            let row = try store.issueToken(client: clients[pick].id)
            clients[pick].token = row.activationToken?.description
            try acknowledgeAppended("TokenIssued", client: row.id.lowercased)
        case 2, 3:
            let client = clients.randomElement(using: &rng)!
            let row = try store.draftVersion(client: client.id, page: PageType.allCases.randomElement(using: &rng)!, content: .object(["n": .integer(Int64(index))]))
            versions.append((row.id.lowercased, client.id))
            try acknowledgeAppended("VersionDrafted", client: client.id)
        case 4 where !versions.isEmpty:
            let version = versions.randomElement(using: &rng)!
            _ = try store.promote(version: version.id)
            try acknowledgeAppended("VersionPromoted", client: version.client)
        default:
            // Once the client is active, activating it again changes nothing, and a refusal
            // appends nothing either: neither is acknowledged.
            if let client = clients.first(where: { $0.token != nil }), let token = client.token, (try? store.activate(token: token)) != nil {
                try acknowledgeAppended("ClientActivated", client: client.id)
            }
        }
    }
}

/// Kills writers at random moments, many times, and checks after each kill that nothing
/// acknowledged was lost, positions are gapless, the log verifies, and the read models equal a
/// full rebuild. Some rounds kill a rebuild or an import instead.
struct Harness {
    let path: String
    var rng: SplitMix64

    init(path: String, seed: UInt64) {
        self.path = path
        self.rng = SplitMix64(seed: seed)
    }

    mutating func run(rounds: Int) throws -> String {
        let worker = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let folio = worker.deletingLastPathComponent().appendingPathComponent("folio")
        var acknowledged: [String] = []
        var kills = 0
        for round in 0..<rounds {
            let process = Process()
            let kind = round % 5
            if kind == 3, FileManager.default.fileExists(atPath: folio.path) {
                process.executableURL = folio
                process.arguments = ["projections", "rebuild", "--store", path]
            } else if kind == 4, FileManager.default.fileExists(atPath: folio.path), try Store(path: path).log.head() > 0 {
                // An import into a fresh store beside this one: killed, it must leave that store empty or whole.
                // (An empty export, when no writer committed yet, is refused: a writer runs instead.)
                let copy = path + "-import"
                try? FileManager.default.removeItem(atPath: copy)
                let export = path + "-export.jsonl"
                let store = try Store(path: path)
                let file = try FileDescriptor.create(export)
                try file.closeAfter { _ = try store.exportLog(to: file) }
                process.executableURL = folio
                process.arguments = ["import", export, "--store", copy]
            } else {
                process.executableURL = worker
                process.arguments = ["commands", "--store", path, "--count", "100000", "--seed", String(rng.next())]
            }
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let delay = Double.random(in: 0.05...0.6, using: &rng)
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
            let writer = process.arguments?.first == "commands"
            if killed { kills += 1 }
            // A writer runs until its kill, saying nothing on standard error; a rebuild or an
            // import may end first, but not fail.
            if writer ? !killed || !said.isEmpty : !killed && process.terminationStatus != 0 {
                let ending = process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)" : "status \(process.terminationStatus)"
                throw HarnessFailure("round \(round): \(process.arguments?.first ?? "") ended by \(ending)\(killed ? "" : " before its kill"): \(said.prefix(4_000))")
            }
            // Only complete lines were acknowledged.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            if writer { acknowledged += lines }
            try check(acknowledged: acknowledged, round: round)
            if process.arguments?.first == "import" { try checkImport(copy: path + "-import", round: round) }
        }
        return "ok: \(rounds) rounds, \(kills) kills, \(acknowledged.count) acknowledged commands, none lost"
    }

    func check(acknowledged: [String], round: Int) throws {
        let pages = try Store.checkPages(at: path)
        guard pages.pagesInUse + pages.freePages + 2 == pages.pages else {
            throw HarnessFailure("round \(round): of \(pages.pages) pages, \(pages.pagesInUse) are in use and \(pages.freePages) free")
        }
        let store = try Store(path: path)
        try store.verify()
        // The read models and the write side's indexes, against the whole log folded anew.
        let derived = try store.derivedDataCheck()
        guard derived.notCompared.isEmpty else { throw HarnessFailure("round \(round): the read models of \(derived.notCompared.joined(separator: ", ")) are stale") }
        let tables = derived.readModelTables
        guard tables.isEmpty else { throw HarnessFailure("round \(round): the read models differ from a full fold of the log in \(tables.joined(separator: ", "))") }
        if let index = derived.writeIndexes { throw HarnessFailure("round \(round): \(index)") }
        // Each acknowledged event is in the log where it was appended.
        try store.log.read { session in
            for line in acknowledged {
                let parts = line.split(separator: " ").map(String.init)
                guard parts.count == 3, let position = UInt64(parts[0]) else { throw HarnessFailure("round \(round): acknowledged \(line.debugDescription) is not a position, type and stream") }
                guard let event = try session.event(at: position), event.type == parts[1], event.stream == parts[2] else {
                    throw HarnessFailure("round \(round): acknowledged \(line) is missing")
                }
            }
        }
    }

    func checkImport(copy: String, round: Int) throws {
        let store = try Store(path: copy)
        let head = try store.verify()
        let sourceHead = try Store(path: path).log.head()
        guard head == 0 || head == sourceHead else {
            throw HarnessFailure("round \(round): a killed import left \(head) events: an import lands whole or not at all")
        }
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
