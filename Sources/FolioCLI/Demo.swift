import ArgumentParser
import Domain
import Folio
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a sample store and tour it: clients, current versions, analytics and one client's audit.",
        discussion: """
            On an empty store, imports Fixtures/small.jsonl when run from the project and neither --clients nor \
            --seed is given (else a history generated from the seed), then shows what Folio answers. A store that \
            already holds events is only shown.
            Example: folio demo --store /tmp/demo-store
            """
    )
    @OptionGroup var store: StoreOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("Clients in a generated history (default: 12).", valueName: "count"), transform: wholeNumber(atLeast: 1)) var clients: Int?
    @Option(parsing: .unconditional, help: "The generator's seed (default: 2026).", transform: wholeNumber()) var seed: UInt64?

    /// Imports the sample history through `load`: the fixture, when run from the project with
    /// neither `--clients` nor `--seed`, else a history generated into a temporary file, with a
    /// progress bar for each step. The file is removed from its directory as soon as it is made
    /// and read through its descriptor (`/proc/self/fd`), so that a process ended by any signal
    /// leaves no copy; where that cannot be read, it is removed once imported, or if the process
    /// is interrupted. An interruption while the history is generated says `sayingWhileGenerating`.
    private func importSample(
        sayingWhileGenerating generating: String? = nil, _ load: (String, @escaping (JobProgress) -> Void) throws -> ImportReport
    ) throws -> ImportReport {
        let fixture = FileManager.default.currentDirectoryPath + "/Fixtures/small.jsonl"
        let source: String
        var generated: Interruption.Leftover?
        defer { generated?.discard() }
        var history: FileDescriptor?
        defer { try? history?.close() }
        if clients == nil && seed == nil && FileManager.default.fileExists(atPath: fixture) {
            source = fixture
        } else {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("folio-demo-\(UUID.random().lowercased).jsonl").path
            // Made anew in a directory others write to: never through a link, nor into a file there.
            let (out, leftover) = try writing(to: path) {
                try Interruption.removeIfInterrupted(path, what: "the generated history") {
                    try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate, .noFollow], permissions: .ownerReadWrite)
                }
            }
            history = out
            generated = leftover
            let byDescriptor = "/proc/self/fd/\(out.rawValue)"
            if access(byDescriptor, F_OK) == 0, unlink(path) == 0 {
                leftover.forget()
                generated = nil
                source = byDescriptor
            } else {
                source = path
            }
            let note = generating.map { Interruption.sayIfInterrupted($0) }
            defer { note?.forget() }
            let bar = Progress(title: "Generating")
            defer { bar.finish() }
            _ = try writing(to: path) { try generator().write(to: out) { bar.update(done: $0.done, total: $0.total) } }
        }
        let bar = Progress(title: "Importing")
        defer { bar.finish() }
        return try load(source) { bar.update(done: $0.done, total: $0.total) }
    }

    /// The generator of a history asked for by `--clients` or `--seed`.
    private func generator() -> HistoryGenerator {
        HistoryGenerator(seed: seed ?? 2026, clients: clients ?? 12, contentBytes: 2_000...6_000)
    }

    func validate() throws {
        if let clients, clients < 1 { throw ValidationError("--clients must be 1 or more: a demo tours a client") }
    }

    func run() throws {
        // Before any thread starts: Ctrl-C removes a generated history, and a store being built.
        Interruption.handleSignals()
        let path = self.store.path
        let store: Store
        // Once a sample is imported, output that cannot be written says the store was made.
        var imported = false
        func emit(_ text: String) { FolioCLI.emit(text, done: imported) }
        // A store whose data file went missing is not filled with a sample.
        try self.store.checkCanMake()
        if Store.canStageImport(at: path) {
            // Built aside and put in place once filled, as an import's store is: a demo that
            // fails or is interrupted leaves no empty store behind.
            var removed: [String] = []
            let report: ImportReport
            do {
                // Until the store is being built (which an interruption removes, saying so).
                report = try importSample(sayingWhileGenerating: "no store was made at \(path.escapingControls())") { source, progress in
                    try Store.importLog(from: source, intoNewStoreAt: path, progress: progress) { removed.append($0) }
                }
            } catch let error as FolioError where error.code == .refused && !Store.canStageImport(at: path) {
                // Another process made a store there since this one looked: said as the demo's, not an import's.
                throw FolioError(.refused, "cannot build the demo store at \(path): another process made a store there meanwhile, which is left as it is; `folio demo` again shows it")
            }
            imported = true
            warnRemoved(removed, into: path)
            store = try self.store.open()
            emit("Imported \(counted(report.events, "event")) of \(counted(report.clients, "client")) into \(store.path)\n\n")
        } else {
            store = try self.store.open()
            if try store.log.head() == 0 {
                // Into the empty store there, in one transaction that an interruption never commits.
                let note = Interruption.sayIfInterrupted("nothing was imported into \(path.escapingControls())")
                defer { note.forget() }
                let report = try importSample { source, progress in try store.importLog(from: source, progress: progress, committing: note.settle) }
                imported = true
                emit("Imported \(counted(report.events, "event")) of \(counted(report.clients, "client")) into \(store.path)\n\n")
            } else {
                // Only shown, as a query shows it: a reader gone ends the demo by SIGPIPE, quietly,
                // where one that imported says that the store holds its result.
                restoreBrokenPipes()
                let ignored = [clients.map { _ in "--clients" }, seed.map { _ in "--seed" }].compactMap { $0 }
                let unused = ignored.isEmpty ? "" : " (\(ignored.joined(separator: " and ")) only shape\(ignored.count == 1 ? "s" : "") a history imported into an empty store)"
                emit("The store at \(store.path) already holds events; showing it as it is\(unused).\n\n")
            }
        }

        let clients = try store.projections.read { try $0.clients(status: nil) }
        emit("== Clients (folio clients)\n")
        emit(RowPrinter(format: .table, columns: ["activation_token", "name", "status", "email", "created_at"], onlyColumns: true).render(list: clients))
        let current = try store.projections.read { try $0.versions(client: clients.first?.id, page: nil, currentOnly: true) }
        emit("\n== Current versions of \(clients.first?.name ?? "the first client") (folio versions --client … --current)\n")
        emit(RowPrinter(format: .table, columns: ["page_type", "version_number", "id", "iteration_notes", "hypothesis"], onlyColumns: true).render(list: current))
        emit("\n== Analytics by page type and outcome, and the funnel (folio analytics)\n")
        emit(AnalyticsPrinter(format: .table, sections: ["by_page_type", "by_outcome"]).render(try store.projections.read { try $0.analytics() }))
        if let client = clients.first(where: { $0.status == .paid }) ?? clients.first {
            let reference = client.activationToken?.description ?? client.id.lowercased
            emit("\n== Audit of \(client.name) (folio history \(reference) --diff)\n")
            emit(try HistoryPrinter(format: .table, diff: true).render(try store.history(client: client.id.lowercased)))
        }
        // Named by --store, the store is named in each command, so that each runs as printed.
        let flag = self.store.store.map { " --store " + shellWord($0) } ?? ""
        emit("\nNext: folio clients --status paid\(flag), folio history CLIENT --diff\(flag), folio analytics --format json\(flag) (store: \(store.path))\n")
    }
}
