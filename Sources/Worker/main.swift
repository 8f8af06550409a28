import EventStore
import Folio
import Foundation

// A long-running writer that tests and tools/ drive from outside: it prints each acknowledged
// id on its own line as soon as the append (or command) has returned, so a harness that kills it
// knows exactly what was acknowledged.
//
//   Worker append --store PATH --stream NAME --count N      raw single-event appends
//   Worker draft  --store PATH --client ID --count N [--page P]   drafts through the command path
//   Worker tokens --store PATH --clients N                  creates clients and issues their tokens
//   Worker mark-format --store PATH --format N              marks the store as written by format N
//   Worker hold-writer --store PATH                         holds the write transaction (prints "holding")
//                                                           until its standard input closes, as a long import would
//   Worker hold-reader --store PATH [--max-readers N]     holds a read transaction (prints "reading") until its
//                                                           standard input closes, with a reader table of N slots
//   Worker pay --store PATH --client ID --count N           succeeds intents pi_0…pi_N-1 of one client (webhook style)
//   Worker fuzz --store DIR --seconds S|--inputs N [--seed N] SEED-PATH…  mutation fuzzing of import lines and content
//   Worker commands --store PATH --count N                  a mix of commands; prints "POSITION TYPE STREAM" per event appended
//   Worker harness --store PATH --rounds N [--seed S]       kills `commands` writers at random moments and checks the store

func argument(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("Worker: \(message)\n".utf8))
    exit(2)
}

func acknowledge(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: Worker append|draft|tokens|mark-format --store PATH …") }
guard let path = argument("--store", in: arguments) else { fail("--store PATH is required") }
let count = Int(argument("--count", in: arguments) ?? "1") ?? 1

/// Once the store is open: with `--ready`, says "ready" and waits for a line on standard input,
/// so that a test starts several workers' commands at once, not as each process happens to start.
func awaitStart() {
    guard arguments.contains("--ready") else { return }
    acknowledge("ready")
    _ = readLine()
}

do {
    switch command {
    case "append":
        let store = try EventStore(path: path)
        let stream = argument("--stream", in: arguments) ?? "worker"
        for _ in 0..<count {
            let id = UUID()
            try store.append([ProposedEvent(id: id, type: "TestEvent", payload: Array("{}".utf8))], to: stream)
            acknowledge(id.uuidString.lowercased())
        }
    case "draft":
        let store = try Store(path: path)
        awaitStart()
        guard let client = argument("--client", in: arguments) else { fail("--client ID is required") }
        let page = argument("--page", in: arguments) ?? "agreement"
        for index in 0..<count {
            let row = try store.draftVersion(
                client: client, page: .init(rawValue: page) ?? .agreement, content: .object(["n": .integer(Int64(index))])
            )
            acknowledge("\(row.id.lowercased) \(row.versionNumber)")
            // Again after the first: each of several workers has drafted once before any drafts more.
            if index == 0 { awaitStart() }
        }
    case "tokens":
        let store = try Store(path: path)
        awaitStart()
        let clients = Int(argument("--clients", in: arguments) ?? "1") ?? 1
        for index in 0..<clients {
            let client = try store.createClient(name: "Worker client \(index)")
            let row = try store.issueToken(client: client.id.lowercased)
            acknowledge("\(row.id.lowercased) \(row.activationToken?.description ?? "-")")
        }
    case "fuzz":
        // --store names the working directory here: `current` (the input being tried) lives there.
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let seconds = Double(argument("--seconds", in: arguments) ?? "10") ?? 10
        var seedPaths: [String] = []
        var rest = arguments.dropFirst()[...]
        while let word = rest.popFirst() {
            if word.hasPrefix("--") { _ = rest.popFirst() } else { seedPaths.append(word) }
        }
        var fuzzer = Fuzzer(seed: UInt64(argument("--seed", in: arguments) ?? "1") ?? 1, seeds: fuzzSeeds(seedPaths), current: path + "/current")
        acknowledge("ok: \(fuzzer.run(seconds: seconds, inputs: argument("--inputs", in: arguments).flatMap { Int($0) })) inputs tried, no crash")
    case "pay":
        let store = try Store(path: path)
        awaitStart()
        guard let client = argument("--client", in: arguments) else { fail("--client ID is required") }
        for index in 0..<count {
            let row = try store.payment(.succeed, client: client, intent: "pi_\(index)", amount: 50_000)
            acknowledge("\(row.id.lowercased) \(row.stripePaymentIntentID)")
        }
    case "commands":
        try runCommands(path: path, count: count, seed: UInt64(argument("--seed", in: arguments) ?? "1") ?? 1)
    case "harness":
        let rounds = Int(argument("--rounds", in: arguments) ?? "10") ?? 10
        var harness = Harness(path: path, seed: UInt64(argument("--seed", in: arguments) ?? "1") ?? 1)
        let report = try harness.run(rounds: rounds)
        acknowledge(report)
    case "mark-format":
        // What a newer Folio would leave behind: tests check that this build refuses such a store.
        let store = try EventStore(path: path)
        let format = UInt32(argument("--format", in: arguments) ?? "2") ?? 2
        let meta = try store.environment.database("meta")
        try store.environment.write { txn in
            try txn.put(meta, Array("format".utf8), withUnsafeBytes(of: format.bigEndian) { Array($0) })
        }
    case "hold-reader":
        // A reader table of the size given, else of Folio's.
        let readers = argument("--max-readers", in: arguments).flatMap { Int($0) }
        let store = try readers.map { try EventStore(path: path, options: .init(maxReaders: $0)) } ?? EventStore(path: path)
        try store.read { _ in
            acknowledge("reading")
            _ = FileHandle.standardInput.readDataToEndOfFile()
        }
    case "hold-writer":
        try EventStore(path: path).write { _ in
            acknowledge("holding")
            _ = FileHandle.standardInput.readDataToEndOfFile()
        }
    default:
        fail("unknown subcommand \(command): append, draft, tokens, pay, commands, harness, fuzz, mark-format, hold-reader or hold-writer")
    }
} catch {
    fail("\(error)")
}
