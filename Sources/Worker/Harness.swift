import Domain
import EventStore
import Folio
import Foundation
import Projections
import SystemPackage

/// Runs a mix of commands through the command path, printing each acknowledged client or
/// version id as soon as its command has returned (and so has committed).
func runCommands(path: String, count: Int, seed: UInt64) throws {
    let store = try Store(path: path)
    var rng = SplitMix64(seed: seed)
    var clients: [(id: String, token: String?)] = []
    var versions: [String] = []
    for index in 0..<count {
        switch clients.isEmpty ? 0 : Int.random(in: 0..<6, using: &rng) {
        case 0:
            let row = try store.createClient(name: "Harness client \(index)")
            clients.append((row.id.lowercased, nil))
            acknowledge("client \(row.id.lowercased)")
        case 1:
            let pick = Int.random(in: 0..<clients.count, using: &rng)
            let row = try store.issueToken(client: clients[pick].id)
            clients[pick].token = row.activationToken?.description
            acknowledge("client \(row.id.lowercased)")
        case 2, 3:
            let client = clients.randomElement(using: &rng)!
            let row = try store.draftVersion(client: client.id, page: PageType.allCases.randomElement(using: &rng)!, content: .object(["n": .integer(Int64(index))]))
            versions.append(row.id.lowercased)
            acknowledge("version \(row.id.lowercased)")
        case 4 where !versions.isEmpty:
            let row = try store.promote(version: versions.randomElement(using: &rng)!)
            acknowledge("version \(row.id.lowercased)")
        default:
            if let client = clients.first(where: { $0.token != nil }), let token = client.token {
                _ = try? store.activate(token: token)
                acknowledge("client \(client.id)")
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
            } else if kind == 4, FileManager.default.fileExists(atPath: folio.path) {
                // An import into a fresh store beside this one: killed, it must leave that store empty or whole.
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
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let delay = Double.random(in: 0.05...0.6, using: &rng)
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            kills += 1
            // Only complete lines were acknowledged.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            if process.arguments?.first == "commands" { acknowledged += lines }
            try check(acknowledged: acknowledged, round: round)
            if kind == 4 { try checkImport(copy: path + "-import", round: round) }
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
        guard let tables = derived.readModelTables else { throw HarnessFailure("round \(round): the read models lag the log") }
        guard tables.isEmpty else { throw HarnessFailure("round \(round): the read models differ from a full fold of the log in \(tables.joined(separator: ", "))") }
        if let index = derived.writeIndexes { throw HarnessFailure("round \(round): \(index)") }
        try store.projections.read { model in
            for line in acknowledged {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let id = UUID(uuidString: String(parts[1])) else { continue }
                let found = parts[0] == "client" ? try model.client(id: id) != nil : try model.version(id: id) != nil
                guard found else { throw HarnessFailure("round \(round): acknowledged \(line) is missing") }
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
