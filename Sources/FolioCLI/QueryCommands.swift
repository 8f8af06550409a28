import ArgumentParser
import Domain
import Folio
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Projections
import SystemPackage

struct Clients: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clients", abstract: "List clients.", discussion: "Clients in the order they were created. Columns: \(ClientRow.columns.joined(separator: ", ")). Example: folio clients --status paid --columns activation_token,name,email --format csv")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Only clients with this status: pending, active, paid or failed.") var status: ClientStatus?
    @OptionGroup var list: ListOptions

    func validate() throws { try list.check(ClientRow.columns, of: "clients") }

    func run() throws {
        let store = try store.open()
        let rows = try asOf.read(store) { try $0.clients(status: status) }
        list.printer(output.format, columns: ClientRow.columns).emit(list: list.cut(rows))
    }
}

struct Versions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "versions", abstract: "List content versions.", discussion: "Versions by client, in the order the clients were created, then by page and number. Columns: \(VersionRow.columns.joined(separator: ", ")). Example: folio versions --client G0427 --current --columns page_type,version_number,id,hypothesis")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Only this client's versions (UUID or token).") var client: String?
    @Option(help: "Only this page: activation, agreement, confirmation or processing.", completion: .pages, transform: ruled(PageType.parse)) var page: PageType?
    @Flag(help: "Only the current version of each page.") var current = false
    @OptionGroup var list: ListOptions

    func validate() throws { try list.check(VersionRow.columns, of: "versions") }

    func run() throws {
        let store = try store.open()
        let rows = list.cut(try asOf.list(store, client: client) { model, id in try model.versions(client: id, page: page, currentOnly: current, content: false) })
        let printer = list.printer(output.format, columns: VersionRow.columns)
        guard printer.columns.contains("content") else { return printer.emit(list: rows) }
        // Pages are read from the log as their rows are printed, not all held first, and no
        // snapshot stays open while the output waits for its reader.
        try printer.emit(list: rows) { try store.projections.withContent($0) }
    }
}

struct Payments: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "payments", abstract: "List payments.", discussion: "Payments in the order they were first reported. Columns: \(PaymentRow.columns.joined(separator: ", ")). Example: folio payments --status succeeded --limit 20 --format json")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Only this client's payments (UUID or token).") var client: String?
    @Option(help: "Only payments linked to this content version.") var version: String?
    @Option(help: "Only payments with this status: pending, succeeded, failed or cancelled.") var status: PaymentStatus?
    @OptionGroup var list: ListOptions

    func validate() throws { try list.check(PaymentRow.columns, of: "payments") }

    func run() throws {
        let store = try store.open()
        let versionID = try version.map { try store.resolveVersion($0) }
        var versionAbsent = false
        // A version's payments are its client's: as of a point, only the streams of that client
        // and of the one --client names are folded.
        let scope = try versionID.map { try store.versionOwner($0).map { [$0] } ?? [] }
        let rows = try asOf.list(store, client: client, scope: scope) { model, id in
            let rows = try model.payments(client: id, version: versionID, status: status)
            if rows.isEmpty, let versionID, try model.version(id: versionID) == nil { versionAbsent = true }
            return rows
        }
        // A version filter naming a version without a row (its client deleted, or not drafted
        // yet as of --as-of) says so, where it would print no rows as for a version without any.
        if versionAbsent, let versionID, let owner = try store.versionOwner(versionID) {
            throw try asOf.absentVersion(versionID, owner: owner, in: store)
        }
        list.printer(output.format, columns: PaymentRow.columns).emit(list: list.cut(rows))
    }
}

struct AnalyticsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Conversion by content version, rolled up by page type, version number and outcome, and the funnel.",
        discussion: """
            A version is exposed once it has been current, and converted if it has a succeeded payment too; its \
            conversion_rate is 1 or 0. A roll-up counts clients: exposed is the clients who saw any of its versions \
            (a client who saw three versions of a page is one), conversion_rate the share of them with a succeeded \
            payment on one of those versions, rounded to four decimal places; payments and revenue are summed. \
            Funnel medians are seconds, to the millisecond. Without --section, a table and CSV print every \
            section in turn, each after a line naming it (`# by_version` in CSV), and JSON one object holding \
            them all. Example: folio analytics --section by_page_type --format csv
            """
    )
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Print one section alone, as a list command prints its rows (one CSV table, one JSON array; the funnel as one row).")
    var section: AnalyticsSection?

    func run() throws {
        let store = try store.open()
        // The funnel alone reads no version's figures.
        let analytics = try asOf.read(store) { try $0.analytics(versions: section != .funnel) }
        let printer = AnalyticsPrinter(format: output.format)
        if let section {
            emit(printer.render(section: section, of: analytics))
        } else {
            emit(printer.render(analytics))
        }
    }
}

/// A section of `folio analytics`.
enum AnalyticsSection: String, CaseIterable, ExpressibleByArgument {
    case byVersion = "by_version"
    case byPageType = "by_page_type"
    case byVersionNumber = "by_version_number"
    case byOutcome = "by_outcome"
    case funnel
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Why a client's content changed, version by version.",
        discussion: "Each version with when, who, notes, hypothesis, outcome, promotions and payments; --diff adds what changed. Example: folio history G0427 --page agreement --diff"
    )
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "The client's UUID or activation token.") var client: String
    @Option(help: "Only this page: activation, agreement, confirmation or processing.", completion: .pages, transform: ruled(PageType.parse)) var page: PageType?
    @Flag(help: "Show each version's content changes against the previous one: each changed path (+ added, - removed, ~ changed) with its values as JSON, in a table shortened to fit (a long value from where the two part); --format json gives them whole.") var diff = false

    func run() throws {
        // The log alone: stale read models are not rebuilt for it (nor can be past a damaged record).
        let history = try store.open(rebuildingStale: false).history(client: client, page: page, comparing: diff)
        emit(try HistoryPrinter(format: output.format, diff: diff).render(history))
    }
}

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Raw events as JSON Lines, filtered.",
        discussion: "Example: folio log --client G0427 --type VersionPromoted --limit 20"
    )
    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("after"), parsing: .unconditional, help: ArgumentHelp("Only events after this position.", valueName: "position"))
    var afterText: String?
    @Option(name: .customLong("limit"), parsing: .unconditional, help: ArgumentHelp("At most this many events.", valueName: "count"))
    var limitText: String?
    @Option(help: "Only events of this type, e.g. PaymentSucceeded.", completion: .list(EventType.allCases.map(\.rawValue))) var type: String?
    @Option(help: "Only this client's events (UUID or token).") var client: String?

    /// `--after`, once `validate()` has read it.
    var after: UInt64 { afterText.flatMap { UInt64($0) } ?? 0 }
    /// `--limit`, once `validate()` has read it; past what any log holds, no limit.
    var limit: Int? { limitText.map { Int($0) ?? .max } }

    func validate() throws {
        // Each says what it takes, where the parser would say only that the value is invalid.
        if let afterText, !afterText.isDigits || UInt64(afterText) == nil {
            throw ValidationError("--after takes a log position, a whole number from 0 to \(UInt64.max), not \(afterText.debugDescription)")
        }
        if let limitText, !limitText.isDigits {
            throw ValidationError("--limit takes a number of events, a whole number 0 or more, not \(limitText.debugDescription)")
        }
        // Named before the store is opened, as the option's other mistakes are.
        if let type {
            do { try Store.checkEventType(type) } catch let error as FolioError { throw ValidationError(error.message) }
        }
    }

    func run() throws {
        // The log alone: stale read models are not rebuilt for it (nor can be past a damaged record).
        let store = try store.open(rebuildingStale: false)
        // The log only grows: a position past its end now is one this log never had, where one
        // at its end is where a reader that follows the log waits for more.
        let head = try store.log.head()
        guard after <= head else {
            throw FolioError(.invalidInput, "--after \(after) is past the end of the log: its last position is \(head)")
        }
        try writing(to: standardOutput) { try store.writeLog(to: .standardOutput, after: after, limit: limit, type: type, client: client) }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every page of the store, every record's checksum and the hash chain of the whole log, then its indexes and read models against it.",
        discussion: "Exits non-zero naming the first damaged page or bad position, the first index entry that differs from the log folded anew (an export imported into a new store makes them whole), or the read models' tables that differ from it (`folio projections rebuild` makes them again). Example: folio verify"
    )
    @OptionGroup var store: StoreOptions

    func run() throws {
        let pages = try store.checkPages()
        if let meta = pages.metaPages { throw FolioError(.store, "the store is damaged: \(meta)") }
        // A check writes nothing: stale read models are left for the next command to rebuild.
        let store = try store.open(rebuildingStale: false)
        let bar = Progress(title: "Verifying")
        let count: UInt64
        do {
            defer { bar.finish() }
            count = try store.verify { bar.update(done: $0.done, total: $0.total) }
        }
        // A changed byte inside a row passes the page walk: the read models and the write side's
        // indexes are compared with the log folded anew.
        let derived = try store.derivedDataCheck()
        var problems: [String] = []
        if let index = derived.writeIndexes {
            problems.append("\(index) (`folio export FILE` and `folio import FILE --store NEW` make a store whose indexes are whole)")
        }
        // A projector's record that cannot be read is damage, which a rebuild mends.
        for damage in derived.damagedRecords {
            let name = damage.name
            let mend = store.isReadOnly
                ? "this store is read-only here, where queries fold the model from the log instead; `folio projections rebuild \(name)` where it can be written makes it again"
                : "`folio projections rebuild \(name)` makes it and its model again from the log, as does the next query or write"
            problems.append("the read models' record of \(name) is damaged (\(damage.why)): \(mend)")
        }
        // Models not current (stale, or behind the log) are not compared: a check rebuilds nothing.
        let damaged = derived.damagedRecords.map(\.name)
        let stale = derived.notCompared.filter { !damaged.contains($0) }
        let names = stale.count > 1 ? stale.dropLast().joined(separator: ", ") + " and " + stale.last! : stale.first ?? ""
        let why = "not current (built by another Folio's projectors, or behind the log) and not compared: " + (store.isReadOnly
            ? "this store is read-only here"
            : "`folio projections rebuild` makes them again, as does the next query or write")
        if !derived.readModelTables.isEmpty {
            problems.append("its read models differ from it in \(derived.readModelTables.joined(separator: ", ")) (`folio projections rebuild` makes them again from the log)"
                + (stale.isEmpty ? "" : "; \(names) \(stale.count == 1 ? "is" : "are") \(why)"))
        }
        if !problems.isEmpty {
            throw FolioError(.store, "the log is sound (\(counted(count, "event"))), but \(problems.joined(separator: "; and "))")
        }
        let models = if stale.isEmpty {
            "indexes and read models equal to the log folded anew"
        } else if stale.count == store.projections.projectors.count {
            "indexes equal to the log folded anew; read models \(why)"
        } else {
            "indexes and read models equal to the log folded anew, but for \(names), which \(stale.count == 1 ? "is" : "are") \(why)"
        }
        emit("ok: \(counted(count, "event")), checksums and hash chain intact; \(models); \(pages.pagesInUse) pages in \(pages.databases) databases well-formed (\(pages.freePages) free, \(pages.pages) in all)\n")
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the whole log as JSON Lines, to FILE or standard output.",
        discussion: "Each line carries its event's digest (SHA-256) and the export's last position, by which an import tells a file changed or cut short since. Example: folio export backup.jsonl"
    )
    @OptionGroup var store: StoreOptions
    @Argument(help: "The file to write, or - for standard output (also when omitted).", completion: .file()) var file: String?

    func run() throws {
        // `-` is standard output, as it is standard input to `import`.
        let file = file == "-" ? nil : file
        // Before any thread starts: Ctrl-C removes the unfinished file.
        if file != nil { Interruption.handleSignals() }
        // An export reads the log alone: stale read models are left for the next command to
        // rebuild, and an export still reaches a store whose read models' pages are damaged. A
        // damaged page of the log is named before the file is started.
        let pages = try store.checkPages(reading: Store.exportedDatabases)
        // Still exported (what LMDB opens may be all there is to save), but not without a word.
        if let meta = pages.metaPages {
            warn("folio: the store is damaged: \(meta); this export holds the log as LMDB opens it, which may end before the last commit")
        }
        let store = try store.open(rebuildingStale: false)
        guard let file else {
            try writing(to: standardOutput) { try store.exportLog(to: .standardOutput) }
            return
        }
        let target = try writing(to: file) { try OutputFile(file, permissions: .ownerReadWrite) }
        let bar = Progress(title: "Exporting")
        let count = try target.write(named: file, removed: { warnRemovedPartial($0, file) }) { out in
            try store.exportLog(to: out) { bar.update(done: $0.done, total: $0.total) }
        }
        bar.finish()
        warn("exported \(counted(count, "event")) to \(file.escapingControls())")
    }
}

/// Says that `partial`, left by an earlier export or generate into `file` that was stopped
/// outright, was removed.
func warnRemovedPartial(_ partial: String, _ file: String) {
    warn("folio: removed \(partial.escapingControls()), left unfinished by an earlier write into \(file.escapingControls()) that was stopped outright")
}

/// Says which staging directories of imports stopped outright an import into `path` removed.
func warnRemoved(_ removed: [String], into path: String) {
    for staging in removed {
        warn("folio: removed \(staging.escapingControls()), left unfinished by an earlier import into \(path.escapingControls()) that was stopped outright")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Append an exported log (JSON Lines) to an empty store.",
        discussion: "Every line is checked against the rules, and an export's lines against their digests and last position (a file changed or cut short since it was exported); a bad line refuses the whole file with its line number, and a store the import was to make is not made. Example: folio import backup.jsonl --store restored"
    )
    @OptionGroup var store: StoreOptions
    @Argument(help: "The file to read, or - for standard input.", completion: .file()) var file: String

    func run() throws {
        // A file that cannot be read is refused before the store is opened (and made, if new).
        if file != "-" { try FileDescriptor.checkReadable(file) }
        // Ctrl-C removes the store being built aside.
        Interruption.handleSignals()
        let path = store.path
        let bar = Progress(title: "Importing")
        let progress = { (job: JobProgress) in bar.update(done: job.done, total: job.total) }
        let report: ImportReport
        // Said once the import is done: a refused one says only why, in one line.
        var removed: [String] = []
        if Store.canStageImport(at: path) {
            if file == "-" { noteReadingTerminal("the history to import") }
            // Built aside and put in place once done: a refused file leaves no store.
            report = try Store.importLog(from: file, intoNewStoreAt: path, progress: progress) { removed.append($0) }
        } else {
            removed = Store.removeAbandonedImports(into: path)
            // Into the store there, in one transaction that an interruption never commits.
            let note = Interruption.sayIfInterrupted("nothing was imported into \(path.escapingControls())")
            defer { note.forget() }
            // Stale read models are not rebuilt first: a refused import changes nothing, and one
            // that succeeds folds every projector anew.
            let target = try store.open(rebuildingStale: false, creating: true)
            if file == "-" {
                // A store that holds events is refused before a terminal is asked for a history.
                try target.requireEmptyForImport(from: file)
                noteReadingTerminal("the history to import")
            }
            report = try target.importLog(from: file, progress: progress, committing: note.settle)
        }
        bar.finish()
        warnRemoved(removed, into: path)
        emit("imported \(counted(report.events, "event")) of \(counted(report.clients, "client"))\n", done: true)
    }
}

struct ProjectionsGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Show or rebuild the read models.",
        subcommands: [Status.self, Rebuild.self], defaultSubcommand: Status.self
    )

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Each projector's checkpoint, fingerprint and whether it is stale.", discussion: "Example: folio projections status")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let opened = try store.open(rebuildingStale: false)
            let rows = try opened.projections.status()
            emit(RowPrinter(format: output.format, columns: ["name", "version", "fingerprint", "stored_fingerprint", "checkpoint", "head", "stale"]).render(objects: rows.map(statusObject)))
        }
    }

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild",
            abstract: "Rebuild read models from the whole log, switched in atomically when done.",
            discussion: "With no NAME, rebuilds them all, switching each in whole, in one commit; writes go on meanwhile and are caught up. A model built by other code (a projector whose version changed) is also rebuilt by the next command that reads the read models or writes (clients, versions, payments, analytics, a show, a write) while it is stale; status, verify, history, log, export and stats only read the log or name it stale. Example: folio projections rebuild analytics"
        )
        @OptionGroup var store: StoreOptions
        @Argument(help: "Projector names: clients, content_versions, payments, analytics.", completion: .list(Projections.standard.map(\.name))) var names: [String] = []

        func run() throws {
            // A name no projector has is a usage error, named before any store is looked for;
            // checked here rather than in `validate()`, which runs before the parser names an
            // unknown option (`--format json` would be refused as a projector named "json").
            let known = Projections.standard.map(\.name)
            for name in names where !known.contains(name) {
                throw ValidationError("no projector is named \(name.debugDescription): the projectors are \(known.joined(separator: ", "))")
            }
            // As an option given twice is refused, so is a projector named twice.
            for (index, name) in names.enumerated() where names[..<index].contains(name) {
                throw ValidationError("projector \(name) is named twice: name each once")
            }
            // Ctrl-C (or SIGTERM, SIGHUP) says what became of the read models, in place of the bar.
            Interruption.handleSignals()
            let note = Interruption.sayIfInterrupted("the read models are as they were: a rebuild is switched in whole, or not at all")
            defer { note.forget() }
            // A rebuild reads the whole log and replaces whole tables: a damaged page is named first.
            try store.checkPages()
            let opened = try store.open(rebuildingStale: false)
            let bar = Progress(title: "Rebuilding")
            let reports = try opened.projections.rebuild(names.isEmpty ? nil : names, progress: { bar.show($0) }, committing: note.settle)
            bar.finish()
            for report in reports { emit("rebuilt \(report.name): \(counted(report.events, "event")), \(report.rows) rows and index entries written\n", done: true) }
        }
    }
}

/// A projector's status as one printed row.
private func statusObject(_ status: ProjectorStatus) -> [String: JSONValue] {
    [
        "name": .string(status.name), "version": .integer(Int64(status.version)), "fingerprint": .string(status.fingerprint),
        "stored_fingerprint": status.storedFingerprint.map(JSONValue.string) ?? .null,
        "checkpoint": .integer(Int64(status.checkpoint)),
        "head": .integer(Int64(status.head)), "stale": .bool(status.isStale),
    ]
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Events by type, streams, store size, head position and storage format.", discussion: "The store file's size is broken down into the log's records, its indexes, the write side's indexes, the read models, and the rest: pages LMDB keeps free for reuse (a rebuild frees its old models' pages) and its own. Example: folio stats --format json")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        // Counts and sizes: stale read models are not rebuilt for them.
        let stats = try store.open(rebuildingStale: false).statistics()
        var object: [String: JSONValue] = [
            "head": .integer(Int64(stats.head)), "storage_format": .integer(Int64(stats.storageFormat)),
            "streams": .integer(Int64(stats.streams)),
            "file_bytes": .integer(Int64(stats.fileBytes)), "log_bytes": .integer(Int64(stats.logBytes)),
            "log_index_bytes": .integer(Int64(stats.logIndexBytes)), "write_index_bytes": .integer(Int64(stats.writeIndexBytes)),
            "read_model_bytes": .integer(Int64(stats.readModelBytes)), "other_bytes": .integer(Int64(stats.otherBytes)),
        ]
        object["events_by_type"] = .object(stats.eventsByType.mapValues { .integer(Int64($0)) })
        switch output.format {
        case .json:
            emit(JSONValue.object(object).canonicalText + "\n")
        case .csv:
            var lines = ["name,value"]
            for key in object.keys.sorted() where key != "events_by_type" { lines.append("\(key),\(object[key]!.canonicalText)") }
            for (type, count) in stats.eventsByType.sorted(by: { $0.key < $1.key }) { lines.append("events.\(type),\(count)") }
            emit(lines.joined(separator: "\r\n") + "\r\n")
        case .table:
            var lines = [
                "head position     \(stats.head)",
                "storage format    \(stats.storageFormat)",
                "streams           \(stats.streams)",
                "store file        \(byteCount(stats.fileBytes))",
                "  log records     \(byteCount(stats.logBytes))",
                "  log indexes     \(byteCount(stats.logIndexBytes))",
                "  write indexes   \(byteCount(stats.writeIndexBytes))",
                "  read models     \(byteCount(stats.readModelBytes))",
                "  free and other  \(byteCount(stats.otherBytes))",
                "events by type",
            ]
            for (type, count) in stats.eventsByType.sorted(by: { $0.key < $1.key }) {
                lines.append("  " + type.padded(to: 17) + " " + String(count))
            }
            emit(lines.joined(separator: "\n") + "\n")
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic generated history as JSON Lines, the same for the same seed.",
        discussion: """
            Clients are created from 2026-01-05 on, 10 minutes to 4 hours apart, or closer together for a history \
            of more than about 2,700 clients, so that they are created within about 240 days and every history ends \
            by November 2026. Feed it to `folio import`. \
            Example: folio generate --clients 100 --seed 7 history.jsonl && folio import history.jsonl
            """
    )
    // Read by `wholeNumber`, whose refusal says what each takes; the help states each default itself.
    @Option(parsing: .unconditional, help: ArgumentHelp("How many clients. (default: 100)", valueName: "count"), transform: wholeNumber(atLeast: 1)) var clients: Int = 100
    @Option(parsing: .unconditional, help: "The seed: the same seed writes the same history. (default: 2026)", transform: wholeNumber()) var seed: UInt64 = 2026
    @Option(parsing: .unconditional, help: ArgumentHelp("Smallest content of a version, in bytes as stored (1500 at least). (default: 20000)", valueName: "bytes"), transform: wholeNumber()) var contentMin: Int = 20_000
    @Option(parsing: .unconditional, help: ArgumentHelp("Largest content of a version, in bytes as stored, 1000000 at most (kept to within a few bytes when less than 10 above --content-min). (default: 50000)", valueName: "bytes"), transform: wholeNumber()) var contentMax: Int = 50_000
    @Argument(help: "The file to write, or - for standard output (also when omitted).", completion: .file()) var file: String?

    func validate() throws {
        // A history of no clients holds no events, which an import refuses.
        guard clients >= 1 else { throw ValidationError("--clients must be 1 or more: a history of no clients holds no events, which `folio import` refuses") }
        guard contentMin >= 1_500 else {
            throw ValidationError("--content-min must be at least 1500, not \(contentMin): a page's headline, pricing, terms and call to action take up to about 1,100 bytes, and a section 200 more")
        }
        guard contentMax >= contentMin else {
            // An option left out is at its default, which the message says.
            func given(_ name: String) -> Bool { CommandLine.arguments.contains { $0 == name || $0.hasPrefix(name + "=") } }
            let minimum = "\(contentMin)" + (given("--content-min") ? "" : ", its default")
            let maximum = "\(contentMax)" + (given("--content-max") ? "" : ", its default")
            throw ValidationError("--content-min (\(minimum)) must be at most --content-max (\(maximum))")
        }
        // Content past 1 MiB would not import.
        guard contentMax <= 1_000_000 else { throw ValidationError("--content-max must be at most 1000000 bytes, so that a page stays within content's limit of 1 MiB") }
    }

    func run() throws {
        // `-` is standard output, as it is standard input to `import`.
        let file = file == "-" ? nil : file
        let generator = HistoryGenerator(seed: seed, clients: clients, contentBytes: contentMin...contentMax)
        guard let file else {
            try writing(to: standardOutput) { try generator.write(to: .standardOutput) }
            return
        }
        let target = try writing(to: file) { try OutputFile(file, permissions: [.ownerReadWrite, .groupRead, .otherRead]) }
        let bar = Progress(title: "Generating")
        let count = try target.write(named: file, removed: { warnRemovedPartial($0, file) }) { out in
            try generator.write(to: out) { bar.update(done: $0.done, total: $0.total) }
        }
        bar.finish()
        warn("wrote \(counted(count, "event")) of \(counted(clients, "client")) to \(file.escapingControls())")
    }
}
