import Domain
import EventStore
import Folio
import Foundation
import Synchronization
import Testing

@Suite("Several processes on one store")
struct ConcurrencyTests {
    @Test("two processes drafting the same page get version numbers 1…n with no gap and no duplicate")
    func concurrentDrafts() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let client = try {
            let store = try Store(path: path)
            return try store.createClient(name: "Shared").id.lowercased
        }()
        let count = 25
        var acknowledged: [Int] = []
        var each: [[Int]] = []
        for (status, text) in try twoWorkers(["draft", "--store", path, "--client", client, "--count", String(count)], rounds: 2) {
            #expect(status == 0)
            each.append(text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } })
            acknowledged += each.last!
        }
        #expect(acknowledged.sorted() == Array(1...(2 * count)))
        // Both ran at once: the second barrier had each draft its first before either drafted more.
        #expect(each.count == 2 && each.allSatisfy { $0.count == count }, "\(each)")
        let store = try Store(path: path)
        let numbers = try store.projections.read { try $0.versions(client: UUID(uuidString: client)!, page: .agreement) }.map(\.versionNumber)
        #expect(numbers == Array(1...(2 * count)))
        #expect(try store.verify() == UInt64(1 + 2 * count))
    }

    @Test("processes promoting versions of one page at once leave one current version, each promotion demoting the one before it")
    func concurrentPromotions() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let (client, versions) = try {
            let store = try Store(path: path)
            let client = try store.createClient(name: "Raced").id
            let versions = try (0..<8).map { try store.draftVersion(client: client.uuidString, page: .agreement, content: .object(["n": .integer(Int64($0))])).id }
            return (client, versions)
        }()
        let processes = try versions.map { version in
            let process = try folioProcess(["version", "promote", version.lowercased, "--store", path])
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let store = try Store(path: path)
        var promotions: [VersionPromoted] = []
        try store.log.read { session in
            try session.scan(type: EventType.versionPromoted.rawValue) { view in
                let event = try view.withPayload { try Event.decode(type: view.type, schemaVersion: Int(view.schemaVersion), payload: $0) }
                if case .versionPromoted(let promoted) = event { promotions.append(promoted) }
                return true
            }
        }
        // Each in the log demoted the one promoted before it (rule 4), and all eight were promoted once.
        #expect(Set(promotions.map(\.versionID)) == Set(versions) && promotions.count == versions.count)
        #expect(promotions.map(\.previousVersionID) == [nil] + promotions.dropLast().map(\.versionID))
        let current = try store.projections.read { try $0.versions(client: client, page: .agreement, currentOnly: true) }.map(\.id)
        #expect(current == [promotions.last?.versionID])
        #expect(try store.projections.read { try $0.client(id: client) }?.currentVersionID == promotions.last?.versionID)
    }

    @Test("two processes issuing tokens at once never issue the same token")
    func concurrentTokens() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        _ = try Store(path: path)
        var tokens: [String] = []
        for (status, text) in try twoWorkers(["tokens", "--store", path, "--clients", "20"]) {
            #expect(status == 0)
            tokens += text.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        }
        #expect(tokens.count == 40)
        #expect(Set(tokens).count == 40)
    }

    @Test("a query opens the store and answers while another process holds the writer, as a long import does")
    func queryBesideWriter() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let created = try {
            let store = try Store(path: path)
            return try (0..<3).map { try store.createClient(name: "Client \($0)").id }
        }()
        // Were the query to wait for the writer, the writer is let go after a minute: the test then fails instead of hanging.
        let (writer, release) = try holdWriter(path)
        let answered = try Store(path: path).projections.read { try $0.clients() }.map(\.id)
        release.release(byWatchdog: false)
        writer.waitUntilExit()
        #expect(release.byWatchdog == false)
        #expect(Set(answered) == Set(created))
        #expect(writer.terminationStatus == 0)
    }

    @Test("a query as of a time no event is recorded after waits for a write under way, which may still record events before that time; one as of an earlier time does not, and a time to come is refused")
    func asOfNowBesideWriter() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        _ = try Store(path: path).createClient(name: "Before")
        _ = try Store(path: path).createClient(name: "After")
        let created = Timestamp.format(microseconds: try Store(path: path).log.read { try $0.event(at: 1)!.recordedAtMicroseconds })
        let now = Timestamp.format(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
        func query(_ time: String) throws -> (Process, Pipe) {
            let process = try folioProcess(["clients", "--as-of", time, "--format", "csv", "--store", path])
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            try process.run()
            return (process, out)
        }
        let (writer, release) = try holdWriter(path)
        // As of the first event's time, before the last one's: settled, answered while the writer is held.
        let (earlier, earlierOut) = try query(created)
        earlier.waitUntilExit()
        let answeredWhileHeld = writer.isRunning
        release.release(byWatchdog: false)
        writer.waitUntilExit()
        #expect(answeredWhileHeld && release.byWatchdog == false, "the query as of an earlier time waited for the writer")
        #expect(earlier.terminationStatus == 0 && String(decoding: earlierOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains(",Before,"))
        // As of now: it says on its terminal that it waits for the writer, and answers once it is let go.
        let latest = try folioProcess(["clients", "--as-of", now, "--format", "csv", "--store", path])
        let latestOut = Pipe()
        latest.standardOutput = latestOut
        let (said, terminal, holder, go) = try runWaiting(latest, holding: path)
        #expect(said == waitingLine, "\(said.debugDescription)")
        go.release(byWatchdog: false)
        holder.waitUntilExit()
        _ = terminal.read(until: nil)
        latest.waitUntilExit()
        #expect(go.byWatchdog == false)
        #expect(latest.terminationStatus == 0 && String(decoding: latestOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains(",Before,"))
        // A time to come names no state yet.
        let (later, laterOut) = try query("2999-01-01T00:00:00Z")
        later.waitUntilExit()
        let refusal = String(decoding: laterOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(later.terminationStatus == 1 && refusal.hasPrefix("folio: --as-of 2999-01-01T00:00:00Z is later than now ("), "\(refusal)")
    }

    @Test("a write command beside another process's long write says it waits, then does its work")
    func commandWaitsForWriter() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        _ = try Store(path: path).createClient(name: "Before")
        // Should the command never say it waits, the writer is let go after a minute and the test fails.
        let command = try folioProcess(["client", "create", "--name", "Waited", "--format", "json", "--store", path])
        let out = Pipe()
        command.standardOutput = out
        let (said, terminal, writer, release) = try runWaiting(command, holding: path)
        release.release(byWatchdog: false)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let cleared = terminal.read(until: nil)
        command.waitUntilExit()
        writer.waitUntilExit()
        #expect(release.byWatchdog == false)
        #expect(said == waitingLine)
        // The line is cleared once the wait is over, and nothing else is written.
        #expect(cleared == "\r\u{1B}[2K")
        #expect(command.terminationStatus == 0)
        #expect(printed.contains("\"name\":\"Waited\""))
        #expect(try Store(path: path).projections.read { try $0.clients() }.map(\.name).sorted() == ["Before", "Waited"])
    }

    @Test("a write interrupted while it waits for another process's write says so on the terminal, in place of the waiting line, and writes nothing")
    func interruptedWhileWaiting() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        _ = try Store(path: path).createClient(name: "Before")
        let command = try folioProcess(["client", "create", "--name", "Interrupted", "--store", path])
        command.standardOutput = Pipe()
        let said = try signalWhileWaiting(command, holding: path, SIGINT)
        #expect(said == "\r\u{1B}[2Kfolio: interrupted; the command was not carried out: it was waiting for another process's write to this store to finish\n")
        // Ended by the signal, as a shell expects of an interrupted command.
        #expect(command.terminationReason == .uncaughtSignal && command.terminationStatus == SIGINT)
        #expect(try Store(path: path).projections.read { try $0.clients() }.map(\.name) == ["Before"])
    }

    @Test("a write interrupted before its commit says that it was not carried out, where standard error is not a terminal too, and writes nothing")
    func interruptedBeforeCommit() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let (command, err, writer, release) = try runBesideHeldWriter(["client", "create", "--name", "Interrupted"], store: path)
        kill(command.processIdentifier, SIGTERM)
        #expect(endsSoon(command), "ended by the signal while it waits")
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        release.release(byWatchdog: false)
        writer.waitUntilExit()
        #expect(said == "folio: interrupted; the command was not carried out: it was waiting for another process's write to this store to finish\n")
        #expect(command.terminationReason == .uncaughtSignal && command.terminationStatus == SIGTERM)
        #expect(try Store(path: path).projections.read { try $0.clients() }.map(\.name) == ["Before"])
    }

    @Test("a write interrupted after its commit, as its result is printed, says that it was carried out, and its event is kept; where standard error takes nothing either, it ends all the same", arguments: [false, true])
    func interruptedAfterCommit(errorFull: Bool) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let out = try fullPipe()
        let err = errorFull ? try fullPipe() : Pipe()
        let command = try createWithRowBlocked(in: path, out: out, err: err)
        kill(command.processIdentifier, SIGTERM)
        #expect(endsSoon(command), "ended by the signal, its row unwritten")
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // With standard error full too, what is checked is that it ended (`endsSoon`): the line
        // waited for a writable standard error before, and the process with it.
        if !errorFull {
            #expect(said == "folio: interrupted; the command was carried out (`folio log` shows what it recorded), but was stopped as it printed its result, which may be cut short\n")
        }
        #expect(command.terminationReason == .uncaughtSignal && command.terminationStatus == SIGTERM)
        #expect(!printed.contains("Committed"))
        #expect(try Store(path: path).projections.read { try $0.clients() }.map(\.name).sorted() == ["Before", "Committed"])
    }

    @Test("a write interrupted after its commit whose result is read within half a second prints it whole, says nothing more, and ends by the signal")
    func printedWithinGrace() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let out = try fullPipe(), err = Pipe()
        let command = try createWithRowBlocked(in: path, out: out, err: err, format: "csv")
        kill(command.processIdentifier, SIGTERM)
        // The reader comes back at once (well within the half second) and reads all there is, on
        // this thread: the pipe's end stays open in the command alone, which ends by the signal.
        try out.fileHandleForWriting.close()
        // A command that never ended would keep the read waiting: it is killed in ten seconds.
        let pid = command.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { if command.isRunning { kill(pid, SIGKILL) } }
        let printed = out.fileHandleForReading.readDataToEndOfFile()
        #expect(endsSoon(command))
        try err.fileHandleForWriting.close()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let row = String(decoding: printed.drop { $0 == 0x2E }, as: UTF8.self)
        #expect(row.hasPrefix("id,name,") && row.contains(",Committed,") && row.hasSuffix("\r\n"), "\(row)")
        #expect(said.isEmpty, "\(said)")
        #expect(command.terminationReason == .uncaughtSignal && command.terminationStatus == SIGTERM)
    }

    @Test("a command that changes nothing, interrupted as it prints its row, says only that it changes nothing, and ends by the signal")
    func unchangedInterrupted() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let store = try Store(path: path)
        let client = try store.createClient(name: "Active")
        let token = try #require(try store.issueToken(client: client.id.lowercased).activationToken)
        _ = try store.activate(token: token.description)
        let out = try fullPipe(), err = Pipe()
        let command = try folioProcess(["client", "activate", token.description, "--store", path])
        command.standardOutput = out
        command.standardError = err
        try command.run()
        // Its note comes before its row, which waits for a standard output that takes nothing.
        var said = pollfd(fd: err.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&said, 1, 10_000) == 1)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(command.isRunning, "the row waits for a standard output that takes nothing")
        kill(command.processIdentifier, SIGTERM)
        #expect(endsSoon(command))
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text == "folio: client \(client.id.lowercased) is active already, and \(token) is its token: activating again changes nothing (rule 2)\n", "\(text)")
        #expect(command.terminationReason == .uncaughtSignal && command.terminationStatus == SIGTERM)
    }

    @Test("a command reading standard input from a terminal says so, and how to end it, rather than wait without a word", arguments: [true, false])
    func readsFromTerminal(draft: Bool) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let client = try Store(path: path).createClient(name: "A")
        let terminal = try PseudoTerminal()
        let command = try folioProcess(draft ? ["version", "draft", client.id.lowercased, "--page", "agreement", "--content", "-", "--store", path] : ["import", "-", "--store", directory.path("new")])
        let err = Pipe()
        command.standardInput = terminal.follower
        command.standardOutput = FileHandle.nullDevice
        command.standardError = err
        try command.run()
        var said = pollfd(fd: err.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&said, 1, 10_000) == 1, "it said nothing")
        kill(command.processIdentifier, SIGTERM)
        #expect(endsSoon(command))
        try err.fileHandleForWriting.close()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let what = draft ? "content" : "the history to import"
        #expect(text.hasPrefix("folio: reading \(what) from the terminal: type it, then press Ctrl-D on a line of its own (a long one is better given as a file)\n"), "\(text)")
        // Nothing was written: the draft's store holds its client alone, and no store was imported.
        if draft {
            #expect(try EventStore(path: path).head() == 1)
        } else {
            #expect(!FileManager.default.fileExists(atPath: directory.path("new")))
        }
    }

    @Test("a command that would read a terminal is refused at once where it cannot take what it reads: an import into a store that holds events, a draft for an unknown or deleted client", arguments: ["import", "unknown", "deleted"])
    func terminalInputRefusedFirst(case name: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let store = try Store(path: path)
        let client = try store.createClient(name: "A")
        if name == "deleted" { _ = try store.deleteClient(client.id.lowercased) }
        let arguments = name == "import" ? ["import", "-"] : ["version", "draft", name == "deleted" ? client.id.lowercased : "G9999", "--page", "agreement", "--content", "-"]
        let head = try EventStore(path: path).head()
        let terminal = try PseudoTerminal()
        let command = try folioProcess(arguments + ["--store", path])
        let err = Pipe()
        command.standardInput = terminal.follower
        command.standardOutput = FileHandle.nullDevice
        command.standardError = err
        try command.run()
        #expect(endsSoon(command), "it waited for the terminal")
        try err.fileHandleForWriting.close()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let refusal = switch name {
        case "import": "import needs an empty store: this one already holds 1 event"
        case "unknown": "token G9999 was never issued (rule 7: unknown tokens are refused)"
        default: "client \(client.id.lowercased) was deleted: its history is kept but it takes no more actions"
        }
        #expect(text == "folio: \(refusal)\n", "\(text)")
        #expect(command.terminationStatus == 1)
        #expect(try EventStore(path: path).head() == head)
    }

    @Test("a command refused after waiting for another process's write says one line, the refusal, where standard error is not a terminal")
    func refusalAfterWait() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let (command, err, writer, release) = try runBesideHeldWriter(["client", "activate", "G9999"], store: path)
        let waited = command.isRunning
        release.release(byWatchdog: false)
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        command.waitUntilExit()
        writer.waitUntilExit()
        #expect(waited, "the activation is decided in the write transaction, after the wait")
        #expect(said == "folio: token G9999 was never issued (rule 7: unknown tokens are refused)\n")
        #expect(command.terminationStatus == 1)
    }
}

@Suite("A rebuild killed")
struct KilledRebuildTests {
    enum Moment: String, CaseIterable { case whileFolding, onceFolded }

    @Test("a rebuild killed while it folds, or once it has folded and waits to write, leaves the old model serving", arguments: Moment.allCases)
    func killedRebuild(at moment: Moment) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let file = try writeHistory(in: directory, HistoryGenerator(seed: 3, clients: 120, contentBytes: 1_500...2_000))
        // Opened without rebuilding what is stale, so that a stale model is seen, not mended.
        func open() throws -> Store { try Store(path: path, options: Store.Options(rebuildStaleProjections: false)) }
        _ = try open().importLog(from: file)
        let before = try open().projections.read { (try $0.analytics(), try $0.clients()) }
        // Its terminal says how far it is: its bar's first draw as it starts folding, or, with
        // another process holding the writer, that it waits to write what it has folded.
        let holder = moment == .onceFolded ? try holdWriter(path) : nil
        let rebuild = try folioProcess(["projections", "rebuild", "--store", path])
        let terminal = try PseudoTerminal()
        rebuild.standardOutput = FileHandle.nullDevice
        rebuild.standardError = terminal.follower
        try rebuild.run()
        try terminal.closeFollower()
        let shown = moment == .onceFolded ? waitingLine : "] 0%"
        let said = terminal.read(until: shown)
        kill(rebuild.processIdentifier, SIGKILL)
        rebuild.waitUntilExit()
        if let (writer, release) = holder {
            release.release(byWatchdog: false)
            writer.waitUntilExit()
            #expect(release.byWatchdog == false)
        }
        #expect(said.hasSuffix(shown), "\(said.debugDescription)")
        #expect(rebuild.terminationReason == .uncaughtSignal, "the rebuild ended before its kill: \(said.debugDescription)")
        let store = try open()
        #expect(try store.projections.status().filter(\.isStale).isEmpty)
        let after = try store.projections.read { (try $0.analytics(), try $0.clients()) }
        #expect(after.0 == before.0 && after.1 == before.1)
        #expect(try store.verify() == store.log.head())
        let derived = try store.derivedDataCheck()
        #expect(derived.readModelTables.isEmpty && derived.notCompared.isEmpty && derived.writeIndexes == nil)
    }
}

@Suite("A stale model rebuilt as the store opens")
struct StaleRebuildTests {
    /// A store of `clients` clients' history whose analytics model looks built by another Folio's
    /// projector (its stored fingerprint changed), and a way to open it without mending that.
    func staleStore(in directory: TemporaryDirectory, clients: Int) throws -> (path: String, open: () throws -> Store) {
        let path = directory.path("store")
        let file = try writeHistory(in: directory, HistoryGenerator(seed: 4, clients: clients, contentBytes: 800...1_200))
        func open() throws -> Store { try Store(path: path, options: Store.Options(rebuildStaleProjections: false)) }
        _ = try open().importLog(from: file)
        try markStale(path)
        #expect(try open().projections.status().filter(\.isStale).map(\.name) == ["analytics"])
        return (path, open)
    }

    func markStale(_ path: String) throws {
        let log = try EventStore(path: path)
        let states = try log.environment.database("projections")
        try log.environment.write { txn in
            let state = String(decoding: try #require(try txn.get(states, Array("analytics".utf8))), as: UTF8.self)
            try txn.put(states, Array("analytics".utf8), Array(state.replacingOccurrences(of: #""fingerprint":""#, with: #""fingerprint":"older-"#).utf8))
        }
    }

    /// Starts `folio clients` on the store at `path`, its standard error a terminal.
    fileprivate func startQuery(_ path: String) throws -> (process: Process, terminal: PseudoTerminal) {
        let query = try folioProcess(["clients", "--store", path])
        let terminal = try PseudoTerminal()
        query.standardOutput = FileHandle.nullDevice
        query.standardError = terminal.follower
        try query.run()
        try terminal.closeFollower()
        return (query, terminal)
    }

    @Test("a query that finds a model built by other code rebuilds it first, saying which on a terminal; interrupted as it folds, it says the models are as they were, and they are")
    func interruptedStaleRebuild() throws {
        let directory = try TemporaryDirectory()
        let (path, open) = try staleStore(in: directory, clients: 150)
        let statusBefore = try open().projections.status()
        let analyticsBefore = try open().projections.read { try $0.analytics() }
        // Interrupted at the bar's first draw, as it starts folding. A machine busy enough to
        // deliver the signal only after the commit lets the rebuild finish: then the model is
        // made stale again and the query run again, a few times at most.
        var landed = false
        for _ in 0..<3 where !landed {
            let (query, terminal) = try startQuery(path)
            let said = terminal.read(until: "] 0%")
            kill(query.processIdentifier, SIGINT)
            let after = terminal.read(until: nil)
            query.waitUntilExit()
            #expect(said.hasPrefix("folio: rebuilding analytics from the log first: this Folio's projector differs from what built the stored model, or its record is damaged (folio projections status, folio verify)\n"), "\(said.debugDescription)")
            #expect(said.hasSuffix("Rebuilding (folding the log) [                         ] 0%"), "\(said.debugDescription)")
            #expect(query.terminationReason == .uncaughtSignal && query.terminationStatus == SIGINT)
            // Whether it came before the commit, the store says; the terminal must agree.
            let note = "\r\u{1B}[2Kfolio: interrupted; the command was not carried out: the read models it was rebuilding first are as they were (a rebuild is switched in whole, or not at all)\n"
            landed = try open().projections.status() == statusBefore
            if landed {
                #expect(after.hasSuffix(note), "\(after.debugDescription)")
                #expect(try open().projections.read { try $0.analytics() } == analyticsBefore)
            } else {
                #expect(!after.contains("interrupted"), "\(after.debugDescription)")
                #expect(try open().projections.status().filter(\.isStale).isEmpty)
                try markStale(path)
            }
        }
        #expect(landed, "the interruption came after the rebuild's commit each time")
    }

    @Test("a query on a stale store this user may only read says on a terminal that it folds the log instead, and answers as the store rebuilt does")
    func readOnlyStaleQuery() throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try staleStore(in: directory, clients: 8)
        let copy = directory.path("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: path + "/data.mdb", toPath: copy + "/data.mdb")
        // Its files may be read and not written: as the unprivileged user `nobody` when run as root.
        for file in ["data.mdb", "lock.mdb"] { #expect(chmod(path + "/" + file, 0o444) == 0) }
        #expect(chmod(path, 0o555) == 0 && chmod(directory.url.path, 0o755) == 0)
        defer { _ = chmod(path, 0o700) }
        func run(_ arguments: [String], _ store: String, as user: [String] = []) throws -> (printed: String, said: String, status: Int32) {
            let query = try folioProcess(arguments + ["--store", store])
            if let first = user.first, let folio = query.executableURL {
                query.executableURL = URL(fileURLWithPath: first)
                query.arguments = user.dropFirst() + [folio.path] + (query.arguments ?? [])
            }
            let out = Pipe(), terminal = try PseudoTerminal()
            query.standardOutput = out
            query.standardError = terminal.follower
            try query.run()
            try terminal.closeFollower()
            let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let said = terminal.read(until: nil)
            query.waitUntilExit()
            return (printed, said, query.terminationStatus)
        }
        let nobody = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        func analytics(_ store: String, as user: [String] = []) throws -> (printed: String, said: String, status: Int32) {
            try run(["analytics", "--format", "json"], store, as: user)
        }
        let readOnly = try analytics(path, as: nobody)
        #expect(readOnly.status == 0, "\(readOnly.said)")
        #expect(readOnly.said == "folio: analytics is not current (folio projections status) and cannot be rebuilt, as this store is read-only to this user: each query folds the log in memory instead, which takes longer (a copy this user may write is rebuilt once)\n", "\(readOnly.said.debugDescription)")
        // The writable copy rebuilds the model first, saying so, and answers the same.
        let rebuilt = try analytics(copy)
        #expect(rebuilt.status == 0 && rebuilt.said.hasPrefix("folio: rebuilding analytics from the log first"), "\(rebuilt.said.debugDescription)")
        #expect(!readOnly.printed.isEmpty && readOnly.printed == rebuilt.printed)
        // A write, refused, and a query as of a position, which folds the log whatever the
        // store, say nothing of it.
        let write = try run(["client", "create", "--name", "New"], path, as: nobody)
        #expect(write.status == 1 && write.said.split(separator: "\n").count == 1 && write.said.contains("is read-only to this user"), "\(write.said.debugDescription)")
        let asOf = try run(["clients", "--as-of", "3"], path, as: nobody)
        #expect(asOf.status == 0 && asOf.said.isEmpty, "\(asOf.said.debugDescription)")
    }

    @Test("a stale model's rebuild makes room first: in a map no larger than the data file, it folds and writes once, not again in a larger map with the writer let go in between")
    func rebuildFillingTheMap() throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try staleStore(in: directory, clients: 60)
        // A map no larger than the data file: the new slot's rows would not fit in it.
        let small = Store.Options(environment: .init(mapSize: 1 << 16))
        var folds = 0, written = 0
        let store = try Store(path: path, options: small) { progress in
            if progress.phase == .folding, progress.done == 0 { folds += 1 }
            if progress.phase == .writing, progress.rows == 0 { written += 1 }
        }
        #expect(written == 1 && folds == 1)
        #expect(try store.projections.status().filter(\.isStale).isEmpty)
        #expect(try store.derivedDataCheck().readModelTables.isEmpty)
    }

    @Test("commands that open a stale store together fold it once: the others wait for that rebuild's commit, then find the model current")
    func rebuiltOnce() throws {
        let directory = try TemporaryDirectory()
        let (path, open) = try staleStore(in: directory, clients: 20)
        // Both start while another process holds the writer, so that both find the model stale.
        let (writer, release) = try holdWriter(path)
        let first = try startQuery(path), second = try startQuery(path)
        let waited = [first.terminal.read(until: waitingLine), second.terminal.read(until: waitingLine)]
        release.release(byWatchdog: false)
        writer.waitUntilExit()
        let said = [first.terminal.read(until: nil), second.terminal.read(until: nil)]
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        #expect(release.byWatchdog == false)
        #expect(waited == [waitingLine, waitingLine], "\(waited)")
        #expect(first.process.terminationStatus == 0 && second.process.terminationStatus == 0)
        let rebuilt = said.filter { $0.contains("folio: rebuilding analytics from the log first") }
        #expect(rebuilt.count == 1, "\(said)")
        #expect(try open().projections.status().filter(\.isStale).isEmpty)
        #expect(try open().derivedDataCheck().readModelTables.isEmpty)
    }
}

@Suite("A memory fault")
struct FaultReportTests {
    @Test("a command stopped by a memory fault, or by LMDB's abort on an inconsistent page, once its store is named says so in one line, then ends by that signal")
    func faultReport() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        _ = try Store(path: path).createClient(name: "Before")
        for signal in [SIGBUS, SIGSEGV, SIGABRT] {
            // The command waits for the held writer, its store named: a fault sent then stands for
            // one met reading a damaged page.
            let command = Process()
            // Through a shell that forbids a core file, then becomes `folio` (the same process).
            command.executableURL = URL(fileURLWithPath: "/bin/sh")
            let folio = try productsDirectory().appendingPathComponent("folio").path
            command.arguments = ["-c", "ulimit -c 0; exec \"$0\" \"$@\"", folio, "client", "create", "--name", "Faulted", "--store", path]
            command.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
            command.standardOutput = Pipe()
            let said = try signalWhileWaiting(command, holding: path, signal)
            // On a terminal the report replaces the line that said it waits.
            let report = signal == SIGABRT
                ? "stopped by LMDB finding the store at \(path) inconsistent: a page of its data file may be damaged, or its lock file removed while in use"
                : "stopped by a memory fault reading the store at \(path): a page of its data file may be damaged"
            #expect(said == "\r\u{1B}[2Kfolio: \(report); `folio verify` checks every page\n", "signal \(signal)")
            #expect(command.terminationReason == .uncaughtSignal && command.terminationStatus == signal, "signal \(signal)")
        }
        #expect(try Store(path: path).projections.read { try $0.clients() }.map(\.name) == ["Before"])
    }
}

@Suite("Several processes recording payments")
struct ConcurrentPaymentTests {
    @Test("two processes delivering the same payment webhooks at once record each payment once")
    func concurrentWebhooks() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let (client, _) = try activeClient(try Store(path: path))
        let count = 20
        var acknowledged: [String: Set<String>] = [:]
        for (status, text) in try twoWorkers(["pay", "--store", path, "--client", client.uuidString.lowercased(), "--count", String(count)]) {
            #expect(status == 0)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                acknowledged[String(parts[1]), default: []].insert(String(parts[0]))
            }
        }
        // Both deliveries of an intent answered with the same payment.
        #expect(acknowledged.count == count)
        #expect(acknowledged.values.allSatisfy { $0.count == 1 })
        let store = try Store(path: path)
        let payments = try store.projections.read { try $0.payments(client: client) }
        #expect(payments.count == count)
        #expect(try store.statistics().eventsByType["PaymentSucceeded"] == count)
        // The client's three events and one per payment, nothing more.
        #expect(try store.verify() == UInt64(3 + count))
    }
}

@Suite("Opening a store beside other processes")
struct StoreOpeningTests {
    @Test("processes making one new store at once all open it and append, whichever commits its databases first")
    func concurrentCreators() throws {
        let directory = try TemporaryDirectory()
        for round in 0..<5 {
            let path = directory.path("store-\(round)")
            let workers = try (0..<4).map { _ in
                let process = Process()
                process.executableURL = try productsDirectory().appendingPathComponent("Worker")
                process.arguments = ["append", "--store", path, "--stream", "s", "--count", "1"]
                let out = Pipe(), err = Pipe()
                process.standardOutput = out
                process.standardError = err
                try process.run()
                return (process, out, err)
            }
            for (process, out, err) in workers {
                _ = out.fileHandleForReading.readDataToEndOfFile()
                let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "\(message)")
            }
            #expect(try EventStore(path: path).read { try $0.head() } == 4)
        }
    }

    @Test("reader slots of processes that died are cleared when a store is opened, though the table is full and another process still reads")
    func deadReaders() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        // Workers reading the store, with a reader table of four slots.
        func reader() throws -> (process: Process, input: Pipe) { try readingWorker(path, maxReaders: 4) }
        // One that lives keeps the store open, so that its reader table is not started anew.
        let live = try reader()
        for dead in try (0..<3).map({ _ in try reader() }) {
            kill(dead.process.processIdentifier, SIGKILL)
            dead.process.waitUntilExit()
        }
        // Every slot is taken, three by processes that died: opening clears those first.
        let store = try EventStore(path: path, options: .init(maxReaders: 4))
        #expect(try store.read { try $0.head() } == 0)
        try live.input.fileHandleForWriting.close()
        live.process.waitUntilExit()
        #expect(live.process.terminationStatus == 0)
    }

    @Test("a store whose reader table is full of live readers is waited on, and opened once one of them ends")
    func fullOfLiveReaders() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        // The first Worker makes the store, and its lock file of two slots.
        let readers = try (0..<2).map { _ in try readingWorker(path, maxReaders: 2) }
        // Opened on another thread: it waits for a slot, which the first reader gives up.
        let started = Atomic(false), released = Atomic(false)
        let opened = Mutex<Result<(UInt64, Bool), any Error>?>(nil)
        let thread = Thread {
            started.store(true, ordering: .sequentiallyConsistent)
            let result = Result { (try EventStore(path: path, options: .init(maxReaders: 2)).read { try $0.head() }, released.load(ordering: .sequentiallyConsistent)) }
            opened.withLock { $0 = result }
        }
        thread.start()
        // Once the open has begun, it is still waiting a while later.
        while !started.load(ordering: .sequentiallyConsistent) { usleep(1_000) }
        usleep(300_000)
        #expect(opened.withLock { $0 == nil }, "the open did not wait for a slot")
        released.store(true, ordering: .sequentiallyConsistent)
        try readers[0].input.fileHandleForWriting.close()
        readers[0].process.waitUntilExit()
        // Within the wait's ten seconds, with room for a slow machine; a hang fails, not stalls.
        let deadline = Date().addingTimeInterval(60)
        while opened.withLock({ $0 == nil }) && Date() < deadline { usleep(10_000) }
        guard let result = opened.withLock({ $0 }) else {
            Issue.record("the open never returned once a slot was given up")
            readers[1].process.terminate()
            return
        }
        let (head, afterRelease) = try result.get()
        #expect(head == 0 && afterRelease, "opened before a slot was given up: the table was not full")
        try readers[1].input.fileHandleForWriting.close()
        readers[1].process.waitUntilExit()
    }

    @Test("a store whose reader table stays full of live readers is refused after the wait's ten seconds, in one line saying it is busy")
    func fullOfLiveReadersRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let readers = try (0..<2).map { _ in try readingWorker(path, maxReaders: 2) }
        defer {
            for reader in readers {
                try? reader.input.fileHandleForWriting.close()
                reader.process.waitUntilExit()
            }
        }
        let start = ContinuousClock.now
        let refusal = #expect(throws: (any Error).self) { try EventStore(path: path, options: .init(maxReaders: 2)).read { try $0.head() } }
        let waited = ContinuousClock.now - start
        let message = refusal.map { FolioError.wrapping($0).message } ?? ""
        #expect(message.hasPrefix("the store is busy: as many processes as its reader table holds had it open for 10 seconds"), "\(message)")
        #expect(waited >= .seconds(10), "refused after \(waited), before the wait was over")
    }

    /// What is killed inside LMDB's open of a store.
    enum Opener: String, CaseIterable, CustomTestStringConvertible {
        /// A `folio` command, which opens LMDB under Folio's lock.
        case folio
        /// Another program of LMDB's (as `mdb_copy` is), which does not take it.
        case otherProgram
        var testDescription: String { rawValue }
    }

    @Test(
        "a process killed inside LMDB's open of a store, while it has it alone, takes no acknowledged write with it: a folio command waiting on it then commits; after another LMDB program, it is refused in one line, and commands work again once it has ended",
        arguments: Opener.allCases
    )
    func killedWhileOpening(_ opener: Opener) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        // Commands, not this process, open the store: one open here would share it with the one
        // to be killed, which then never has it alone.
        for name in ["First", "Second", "Third"] {
            #expect(try run("folio", ["client", "create", "--name", name, "--store", path]).status == 0)
        }
        // The opener stops inside LMDB's open: the lock file's shared state cleared, the data
        // file not yet opened, as a kill would find it there.
        let ready = directory.path("ready")
        let killed: Process
        switch opener {
        case .folio:
            killed = try folioProcess(["client", "create", "--name", "Killed", "--store", path])
        case .otherProgram:
            let program = directory.path("open-store")
            try compileC(
                """
                #include <lmdb.h>
                int main(int count, char **arguments) {
                    MDB_env *env;
                    return count != 2 || mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 64) != 0 || mdb_env_open(env, arguments[1], 0, 0600) != 0;
                }
                """,
                to: program, in: directory, ["-llmdb"]
            )
            killed = Process()
            killed.executableURL = URL(fileURLWithPath: program)
            killed.arguments = [path]
        }
        killed.environment = ProcessInfo.processInfo.environment.merging(
            ["LD_PRELOAD": try stallingLibrary(in: directory), "FOLIO_TEST_STALL_READY": ready]
        ) { $1 }
        killed.standardOutput = FileHandle.nullDevice
        killed.standardError = FileHandle.nullDevice
        try killed.run()
        defer { if killed.isRunning { kill(killed.processIdentifier, SIGKILL) } }
        try waitUntil("the opener to stop inside LMDB's open") { FileManager.default.fileExists(atPath: ready) }
        // A command waits for a lock on the store's files, then the opener is killed.
        let waiting = try folioProcess(["client", "create", "--name", "Waited", "--store", path, "--format", "json"])
        let out = Pipe(), err = Pipe()
        waiting.standardOutput = out
        waiting.standardError = err
        try waiting.run()
        defer { if waiting.isRunning { kill(waiting.processIdentifier, SIGKILL) } }
        try waitUntil("the command to wait for a lock") { waitsForLock(waiting.processIdentifier) }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let refusal = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        waiting.waitUntilExit()
        var names = ["First", "Second", "Third"]
        switch opener {
        case .folio:
            #expect(waiting.terminationStatus == 0, "\(refusal)")
            #expect(said.contains(#""name":"Waited""#))
            names.append("Waited")
        case .otherProgram:
            // LMDB let it go on from the cleared state, naming no commit: the first read is refused.
            #expect(waiting.terminationStatus == 1)
            #expect(refusal.hasPrefix("folio: the store cannot be used now: \(path): its lock file (lock.mdb) names commit 0 as the last, where its data file's last is "))
            #expect(refusal.hasSuffix("then run the command again (the next one to open it alone sets the lock file up anew)\n") && refusal.filter { $0 == "\n" }.count == 1, "\(refusal)")
            #expect(try run("folio", ["client", "create", "--name", "After", "--store", path]).status == 0)
            names.append("After")
        }
        let listed = try run("folio", ["clients", "--format", "csv", "--store", path])
        #expect(listed.out.split(separator: "\r\n").dropFirst().map { String($0.split(separator: ",")[1]) } == names)
        let verified = try run("folio", ["verify", "--store", path])
        #expect(verified.status == 0, "\(verified.err)")
    }

    @Test("a write is refused in one line, writing nothing, where another process holds the store open with its lock file naming the commit before the data file's last, as LMDB would then overwrite the last commit")
    func lockFileOneCommitBehind() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        for name in ["First", "Second", "Third"] {
            #expect(try run("folio", ["client", "create", "--name", name, "--store", path]).status == 0)
        }
        // A program of LMDB's opens the store alone, so that it sets the lock file up, and then
        // sets the lock file's last commit one back (a commit's meta page is in the data file a
        // moment before its number is in the lock file, so a read may see this, but a write,
        // which holds the writer's lock, never). Its descriptor of the lock file stays open, as
        // closing it would let go of LMDB's locks on the file.
        let program = directory.path("hold-store")
        try compileC(
            """
            #include <fcntl.h>
            #include <lmdb.h>
            #include <stdint.h>
            #include <stdio.h>
            #include <unistd.h>
            int main(int count, char **arguments) {
                MDB_env *env;
                MDB_envinfo info;
                char lockPath[4096];
                uint64_t named;
                if (count != 3 || mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 64) != 0
                    || mdb_env_open(env, arguments[1], 0, 0600) != 0 || mdb_env_info(env, &info) != 0) return 1;
                snprintf(lockPath, sizeof lockPath, "%s/lock.mdb", arguments[1]);
                int lock = open(lockPath, O_RDWR);
                /* The last commit's number follows the lock file's magic, format and mutex. */
                if (lock < 0 || pread(lock, &named, 8, 48) != 8 || named != info.me_last_txnid) return 2;
                named -= 1;
                if (pwrite(lock, &named, 8, 48) != 8) return 3;
                close(open(arguments[2], O_WRONLY | O_CREAT, 0600));
                for (;;) pause();
            }
            """,
            to: program, in: directory, ["-llmdb"]
        )
        let ready = directory.path("ready")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: program)
        holder.arguments = [path, ready]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        try waitUntil("the holder to set the lock file's last commit back") {
            FileManager.default.fileExists(atPath: ready) || !holder.isRunning
        }
        try #require(holder.isRunning, "the holder could not set the lock file's last commit back (exit \(holder.terminationStatus))")
        let refused = try run("folio", ["client", "create", "--name", "Refused", "--store", path])
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("folio: the store cannot be used now: \(path): its lock file (lock.mdb) names commit "))
        #expect(refused.err.contains(" as the last, where its data file's last is ") && refused.err.filter { $0 == "\n" }.count == 1, "\(refused.err)")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        // Nothing was written, and the next process to open the store alone sets its lock file up anew.
        #expect(try run("folio", ["client", "create", "--name", "After", "--store", path]).status == 0)
        let listed = try run("folio", ["clients", "--format", "csv", "--store", path])
        #expect(listed.out.split(separator: "\r\n").dropFirst().map { String($0.split(separator: ",")[1]) } == ["First", "Second", "Third", "After"])
        let verified = try run("folio", ["verify", "--store", path])
        #expect(verified.status == 0, "\(verified.err)")
    }
}

/// A library that, preloaded into a process given `FOLIO_TEST_STALL_READY`, stops it where it
/// opens a file named `data.mdb` for writing (LMDB, inside `mdb_env_open`), once it has made the
/// file that variable names.
private func stallingLibrary(in directory: TemporaryDirectory) throws -> String {
    let library = directory.path("libstall.so")
    try compileC(
        #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <fcntl.h>
        #include <stdarg.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>

        typedef int (*open_function)(const char *, int, ...);
        typedef int (*openat_function)(int, const char *, int, ...);

        static void stall(const char *path, int flags) {
            const char *ready = getenv("FOLIO_TEST_STALL_READY");
            size_t length = path ? strlen(path) : 0;
            if (!ready || length < 8 || strcmp(path + length - 8, "data.mdb") != 0 || (flags & O_ACCMODE) != O_RDWR) return;
            int made = ((open_function)dlsym(RTLD_NEXT, "open"))(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            if (made >= 0) close(made);
            for (;;) pause();
        }

        #define MODE mode_t mode = 0; if (flags & O_CREAT) { va_list list; va_start(list, flags); mode = va_arg(list, int); va_end(list); }
        int open(const char *path, int flags, ...) { MODE stall(path, flags); return ((open_function)dlsym(RTLD_NEXT, "open"))(path, flags, mode); }
        int open64(const char *path, int flags, ...) { MODE stall(path, flags); return ((open_function)dlsym(RTLD_NEXT, "open64"))(path, flags, mode); }
        int openat(int at, const char *path, int flags, ...) { MODE stall(path, flags); return ((openat_function)dlsym(RTLD_NEXT, "openat"))(at, path, flags, mode); }
        int openat64(int at, const char *path, int flags, ...) { MODE stall(path, flags); return ((openat_function)dlsym(RTLD_NEXT, "openat64"))(at, path, flags, mode); }
        """#,
        to: library, in: directory, ["-shared", "-fPIC", "-ldl"]
    )
    return library
}

/// Builds the C program (or, with `-shared`, library) `source` into `output`, with the compiler
/// beside `swift` (a toolchain ships one), else the system's.
private func compileC(_ source: String, to output: String, in directory: TemporaryDirectory, _ options: [String]) throws {
    let file = directory.path(URL(fileURLWithPath: output).lastPathComponent + ".c")
    try source.write(toFile: file, atomically: true, encoding: .utf8)
    let search = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    let candidates: [String] = ["clang", "cc"].flatMap { name in search.map { String($0) + "/" + name } }
    let compiler = candidates.first { access($0, X_OK) == 0 }
    let build = Process()
    build.executableURL = URL(fileURLWithPath: try #require(compiler, "no C compiler (clang or cc) on PATH"))
    // Options after the source, where libraries to link must come.
    build.arguments = ["-o", output, file] + options
    try build.run()
    build.waitUntilExit()
    try #require(build.terminationStatus == 0, "\(file) did not build")
}

/// Whether the process `pid` waits for a file lock (`/proc/locks` marks a waiter `->`).
private func waitsForLock(_ pid: Int32) -> Bool {
    guard let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
    return locks.split(separator: "\n").contains { line in
        let fields = line.split(separator: " ")
        return fields.count > 5 && fields[1] == "->" && fields[5] == "\(pid)"
    }
}

/// Waits for `condition`, checked every 10 ms, for up to a minute (room for a slow machine).
private func waitUntil(_ what: String, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(60)
    while !condition() {
        guard Date() < deadline else { throw FolioError(.store, "timed out waiting for \(what)") }
        usleep(10_000)
    }
}


/// A Worker holding a read of the store at `path`, with a reader table of `maxReaders` slots if
/// it is the first to open the store; it reads until its input is closed.
private func readingWorker(_ path: String, maxReaders: Int) throws -> (process: Process, input: Pipe) {
    let process = Process()
    process.executableURL = try productsDirectory().appendingPathComponent("Worker")
    process.arguments = ["hold-reader", "--store", path, "--max-readers", "\(maxReaders)"]
    let out = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardInput = input
    try process.run()
    #expect(read(out.fileHandleForReading, until: "\n") == "reading\n")
    return (process, input)
}

/// Two Workers running `arguments` at once: each opens the store and says it is ready, and only
/// then are both told to go. With `rounds` above one, each says ready again that many times less
/// one (a `draft` Worker once it has drafted its first version) and waits for both to be told.
/// Their inputs are closed after the last, so that a Worker waiting for more reads their end.
/// Returns their exit statuses and standard outputs.
private func twoWorkers(_ arguments: [String], rounds: Int = 1) throws -> [(status: Int32, out: String)] {
    let processes = try (0..<2).map { _ in
        let process = Process()
        process.executableURL = try productsDirectory().appendingPathComponent("Worker")
        process.arguments = arguments + ["--ready"]
        let out = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardInput = input
        try process.run()
        return (process, out, input)
    }
    var closed = false
    func closeInputs() {
        guard !closed else { return }
        closed = true
        for (_, _, input) in processes { try? input.fileHandleForWriting.close() }
    }
    // Also when one ended early: the other then reads the end of its input, not waits.
    defer { closeInputs() }
    var said = ["", ""]
    for _ in 0..<rounds {
        for (index, (_, out, _)) in processes.enumerated() {
            said[index] += read(out.fileHandleForReading, until: "ready\n")
            // A Worker that ended instead has nothing to be told: the test reads what it said.
            guard said[index].hasSuffix("ready\n") else { throw FolioError(.store, "a Worker ended before it was ready: \(said[index].debugDescription)") }
            said[index].removeLast("ready\n".count)
        }
        for (_, _, input) in processes { input.fileHandleForWriting.write(Data("go\n".utf8)) }
    }
    closeInputs()
    return zip(processes, said).map { worker, before in
        let (process, out, _) = worker
        let text = before + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// What a running process writes to `handle` until it ends with `suffix`, or until it closes it.
private func read(_ handle: FileHandle, until suffix: String) -> String {
    var said = ""
    while !said.hasSuffix(suffix) {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        said += String(decoding: chunk, as: UTF8.self)
    }
    return said
}

// Declared in <stdlib.h> only under _XOPEN_SOURCE, which the Glibc module leaves out.
@_silgen_name("posix_openpt") private func posix_openpt(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func grantpt(_ descriptor: Int32) -> Int32
@_silgen_name("unlockpt") private func unlockpt(_ descriptor: Int32) -> Int32
@_silgen_name("ptsname_r") private func ptsname_r(_ descriptor: Int32, _ name: UnsafeMutablePointer<CChar>, _ size: Int) -> Int32

/// A `folio` process to run with `arguments`.
private func folioProcess(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = try productsDirectory().appendingPathComponent("folio")
    process.arguments = arguments
    return process
}

/// A pseudo-terminal in raw mode: a child writes to `follower` as to a terminal, and the test
/// reads what it wrote from the other end.
///
/// Both ends are kept at descriptor numbers far above those the test process hands out: other
/// tests open and close descriptors at the same time, and should one be closed twice anywhere,
/// the second close would end whatever took its number in between, a low one, as the kernel
/// hands out the lowest free number.
private final class PseudoTerminal {
    private let leader: Int32
    let follower: FileHandle

    init() throws {
        let leader = Self.moveHigh(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC))
        var name = [CChar](repeating: 0, count: 128)
        guard leader >= 0, grantpt(leader) == 0, unlockpt(leader) == 0, ptsname_r(leader, &name, name.count) == 0 else {
            if leader >= 0 { close(leader) }
            throw FolioError(.store, "no pseudo-terminal: errno \(errno)")
        }
        let descriptor = Self.moveHigh(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC))
        guard descriptor >= 0 else {
            close(leader)
            let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw FolioError(.store, "cannot open \(path): errno \(errno)")
        }
        self.leader = leader
        var settings = termios()
        tcgetattr(descriptor, &settings)
        cfmakeraw(&settings)
        tcsetattr(descriptor, TCSANOW, &settings)
        follower = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    deinit { close(leader) }

    /// `descriptor` moved to the lowest free number from 900 up (still closed on exec), where the
    /// process may open that many; otherwise left where it is.
    private static func moveHigh(_ descriptor: Int32) -> Int32 {
        guard descriptor >= 0 else { return descriptor }
        let moved = fcntl(descriptor, F_DUPFD_CLOEXEC, 900)
        guard moved >= 0 else { return descriptor }
        close(descriptor)
        return moved
    }

    /// Closes this process's end of the follower once a child has it, so that reading ends when
    /// the child does.
    func closeFollower() throws { try follower.close() }

    /// Reads until what was read ends with `text`, or (`nil`, or never) until no process holds the
    /// follower; returns what was read. A read that fails otherwise than by the follower's close
    /// (`EIO`) is recorded as an issue, naming its error: the test then says why it read nothing.
    func read(until text: String?, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        var said: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end = text.map { Array($0.utf8) }
        while end.map({ !said.suffix($0.count).elementsEqual($0) }) ?? true {
            let count = Glibc.read(leader, &buffer, buffer.count)
            let cause = errno
            if count < 0, cause == EINTR { continue }
            guard count > 0 else {
                if count < 0, cause != EIO {
                    Issue.record("reading the pseudo-terminal failed: \(String(cString: strerror(cause)))", sourceLocation: sourceLocation)
                }
                break
            }
            said += buffer[..<count]
        }
        return String(decoding: said, as: UTF8.self)
    }
}

/// Starts a Worker holding the write transaction of the store at `path`, as a long import does,
/// and returns once it holds it. It lets go when `release` is called, or after a minute by a
/// watchdog (`release.byWatchdog`), so that a test waiting on it fails instead of hanging.
/// What a write command shows on a terminal while another process holds the store's writer.
private let waitingLine = "\r\u{1B}[2Kfolio: waiting for another process's write to this store to finish…"

/// Runs `command` with a pseudo-terminal as its standard error while another process holds the
/// writer of the store at `path`, and reads the terminal until the command says it waits: `said`
/// is `waitingLine`, unless the command wrote something else first.
private func runWaiting(_ command: Process, holding path: String) throws -> (said: String, terminal: PseudoTerminal, writer: Process, release: Release) {
    let (writer, release) = try holdWriter(path)
    let terminal = try PseudoTerminal()
    command.standardError = terminal.follower
    try command.run()
    try terminal.closeFollower()
    return (terminal.read(until: waitingLine), terminal, writer, release)
}

/// Runs `command` as `runWaiting` does, sends it `signal` once it says it waits, and returns what
/// it wrote after that, once it and the writer have ended.
private func signalWhileWaiting(_ command: Process, holding path: String, _ signal: Int32) throws -> String {
    let (waited, terminal, writer, release) = try runWaiting(command, holding: path)
    #expect(waited == waitingLine)
    kill(command.processIdentifier, signal)
    let said = terminal.read(until: nil)
    command.waitUntilExit()
    release.release(byWatchdog: false)
    writer.waitUntilExit()
    #expect(release.byWatchdog == false)
    return said
}

/// A pipe filled to the last byte it holds, for a child's output that takes nothing more.
private func fullPipe() throws -> Pipe {
    let pipe = Pipe()
    let end = pipe.fileHandleForWriting.fileDescriptor
    // Filled without blocking; the child is given the pipe blocking, as a pipe usually is.
    let flags = fcntl(end, F_GETFL)
    _ = fcntl(end, F_SETFL, flags | O_NONBLOCK)
    let byte: [UInt8] = [0x2E]
    while write(end, byte, 1) == 1 {}
    _ = fcntl(end, F_SETFL, flags)
    return pipe
}

/// Runs `folio ARGUMENTS --store PATH`, its standard error a pipe (`err`), while a Worker holds
/// the writer of that store, made with one client, "Before"; returns 1.5 s later, well past the
/// half second after which a command knows that it waits.
private func runBesideHeldWriter(_ arguments: [String], store path: String) throws -> (command: Process, err: Pipe, writer: Process, release: Release) {
    _ = try Store(path: path).createClient(name: "Before")
    let (writer, release) = try holdWriter(path)
    let command = try folioProcess(arguments + ["--store", path])
    let err = Pipe()
    command.standardOutput = Pipe()
    command.standardError = err
    try command.run()
    Thread.sleep(forTimeInterval: 1.5)
    return (command, err, writer, release)
}

/// Runs `folio client create --name Committed` on a store at `path` holding one client before it,
/// with `out`, a standard output that takes nothing more (`fullPipe()`): returns once its client is
/// committed and its row waits to be written.
private func createWithRowBlocked(in path: String, out: Pipe, err: Pipe, format: String = "table") throws -> Process {
    _ = try Store(path: path).createClient(name: "Before")
    let command = try folioProcess(["client", "create", "--name", "Committed", "--store", path, "--format", format])
    command.standardOutput = out
    command.standardError = err
    try command.run()
    var committed = false
    for _ in 0..<400 where !committed {
        committed = try EventStore(path: path).head() == 2
        if !committed { Thread.sleep(forTimeInterval: 0.05) }
    }
    #expect(committed)
    // Long enough for the command to reach the write of its row, had it not yet.
    Thread.sleep(forTimeInterval: 0.3)
    #expect(command.isRunning, "the row waits for a standard output that takes nothing")
    return command
}

/// Whether `command` ends within ten seconds; one that does not is killed (and has ended on return).
private func endsSoon(_ command: Process) -> Bool {
    for _ in 0..<200 where command.isRunning { Thread.sleep(forTimeInterval: 0.05) }
    let ended = !command.isRunning
    if !ended { kill(command.processIdentifier, SIGKILL) }
    command.waitUntilExit()
    return ended
}

private func holdWriter(_ path: String) throws -> (process: Process, release: Release) {
    let writer = Process()
    writer.executableURL = try productsDirectory().appendingPathComponent("Worker")
    writer.arguments = ["hold-writer", "--store", path]
    let out = Pipe(), input = Pipe()
    writer.standardOutput = out
    writer.standardInput = input
    try writer.run()
    let said = read(out.fileHandleForReading, until: "\n")
    guard said == "holding\n" else { throw FolioError(.store, "Worker hold-writer said \(said.debugDescription)") }
    let release = Release(input.fileHandleForWriting)
    DispatchQueue.global().asyncAfter(deadline: .now() + 60) { release.release(byWatchdog: true) }
    return (writer, release)
}

/// Closes a writer's standard input once, from the test or from its watchdog, and remembers which.
private final class Release: Sendable {
    private let state: Mutex<(handle: FileHandle?, byWatchdog: Bool?)>

    init(_ handle: FileHandle) { state = Mutex((handle, nil)) }

    func release(byWatchdog: Bool) {
        state.withLock { state in
            guard let handle = state.handle else { return }
            try? handle.close()
            state = (nil, byWatchdog)
        }
    }

    var byWatchdog: Bool? { state.withLock { $0.byWatchdog } }
}
