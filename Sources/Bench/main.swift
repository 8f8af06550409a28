import EventStore
import Folio
import Foundation
import Projections
import SystemPackage

// Folio's benchmarks, each beside the same work done by raw LMDB in C (tools/bench/raw_lmdb.c),
// run by `tools/bench`. Prints a table of figures with the ratio folio/raw; asserts nothing.
//
//   Bench --events N --work DIR --raw PATH --folio PATH --trivial PATH [--appends N] [--fixtures FILE]
//         [--parser-floor PATH]

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func require(_ name: String) -> String {
    guard let value = option(name) else {
        FileHandle.standardError.write(Data("Bench: \(name) is required\n".utf8))
        exit(2)
    }
    return value
}

let events = Int(option("--events") ?? "1000000") ?? 1_000_000
let appends = Int(option("--appends") ?? "2000") ?? 2_000
let work = require("--work")
let raw = require("--raw")
let folioBinary = require("--folio")
let trivial = require("--trivial")
let fixtures = option("--fixtures")
/// The same command line parsed by swift-argument-parser alone (`Sources/ParserFloor`), for W4.
let parserFloor = option("--parser-floor")
/// `--only W1,W3` runs only those workloads (for profiling one of them).
let only = option("--only").map { Set($0.split(separator: ",").map(String.init)) }
func selected(_ workload: String) -> Bool { only?.contains(workload) ?? true }
/// `--nosync` measures W1 without fsync: what the command path costs in CPU alone.
let noSync = CommandLine.arguments.contains("--nosync")
try? FileManager.default.removeItem(atPath: work)
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Runs a program and returns its standard output.
func run(_ path: String, _ arguments: [String]) throws -> String {
    if path.hasSuffix("raw_lmdb"), arguments.count > 1 {
        try FileManager.default.createDirectory(atPath: arguments[1], withIntermediateDirectories: true)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw FolioError(.store, "\(path) \(arguments.joined(separator: " ")) failed") }
    return String(decoding: data, as: UTF8.self)
}

/// The `key=value` figures raw_lmdb prints.
func figures(_ line: String) -> [String: Double] {
    var out: [String: Double] = [:]
    for pair in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        let parts = pair.split(separator: "=")
        if parts.count == 2, let value = Double(parts[1]) { out[String(parts[0])] = value }
    }
    return out
}

struct Row {
    var workload: String
    var figure: String
    var folio: Double
    var raw: Double
    var target: String
    var unit: String
    var ratio: Double { folio / raw }
}
var rows: [Row] = []

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

// The history: the business's shape with small content, so that a million events fit in memory and minutes.
let clients = max(1, events / 33)
let history = work + "/history.jsonl"
do {
    log("generating a history of about \(events) events (\(clients) clients)…")
    let file = try FileDescriptor.create(history)
    let generator = HistoryGenerator(seed: 1, clients: clients, contentBytes: 800...2_400)
    let written = try file.closeAfter { only == ["W1"] ? 0 : try generator.write(to: file) }
    log("… \(written) events")
}

// W1: durable single-event appends through the command path.
if selected("W1") {
    log("W1: \(appends) synced commands…")
    let store = try Store(path: work + "/w1", options: Store.Options(environment: .init(unsafeNoSync: noSync)))
    var latencies: [Double] = []
    let start = now()
    for index in 0..<appends {
        let t = now()
        _ = try store.createClient(name: "Client \(index)", email: "client\(index)@example.com")
        latencies.append(now() - t)
    }
    let elapsed = now() - start
    let payload = try store.log.read { try $0.event(at: 1)?.payload.count ?? 100 }
    let rawFigures = figures(try run(raw, ["w1", work + "/raw-w1", String(appends), String(payload)]))
    rows.append(Row(workload: "W1 durable appends", figure: "events/s", folio: Double(appends) / elapsed, raw: rawFigures["events_per_second"]!, target: "≥ 0.8", unit: ""))
    let sorted = latencies.sorted()
    rows.append(Row(workload: "W1 durable appends", figure: "p50 ms", folio: sorted[sorted.count / 2] * 1e3, raw: rawFigures["p50_ms"]!, target: "", unit: "ms"))
    rows.append(Row(workload: "W1 durable appends", figure: "p99 ms", folio: sorted[Int(Double(sorted.count) * 0.99)] * 1e3, raw: rawFigures["p99_ms"]!, target: "", unit: "ms"))
    // For scale: raw LMDB writing into as many B-trees per commit as a `client create` does (log,
    // event ids, streams, stream heads, types, head mark, client state, two read-model tables,
    // checkpoints).
    let indexed = figures(try run(raw, ["w1", work + "/raw-w1-indexed", String(appends), String(payload), "10"]))
    rows.append(Row(workload: "W1 durable appends", figure: "events/s, raw in 10 B-trees", folio: Double(appends) / elapsed, raw: indexed["events_per_second"]!, target: "", unit: ""))
}

// W2: import with group commit and every projection; W3: rebuild of every projector.
let w2 = work + "/w2"
var imported = 0
if selected("W2") || selected("W3") || selected("W4") || selected("W5") {
    // Imported and rebuilt by `folio` itself, as a user runs them: the same build and the same
    // code paths (this process links all of Foundation; `folio` does not).
    log("W2: folio import…")
    var start = now()
    let report = try run(folioBinary, ["import", history, "--store", w2])
    let importSeconds = now() - start
    log("… \(report.trimmingCharacters(in: .whitespacesAndNewlines))")
    // Raw LMDB's figures move more between runs than Folio's (its import by half): the median of three.
    let rawImport = try (1...3).map { figures(try run(raw, ["w2", work + "/raw-w2-\($0)", history, "10000"]))["events_per_second"]! }.sorted()[1]

    log("W3: folio projections rebuild…")
    start = now()
    _ = try run(folioBinary, ["projections", "rebuild", "--store", w2])
    let rebuildSeconds = now() - start
    let rawScan = try (1...3).map { figures(try run(raw, ["w3", work + "/raw-w2-\($0)"]))["events_per_second"]! }.sorted()[1]

    let store = try Store(path: w2)
    imported = Int(try store.log.head())
    rows.append(Row(workload: "W2 import \(imported) events", figure: "events/s", folio: Double(imported) / importSeconds, raw: rawImport, target: "≥ 0.5", unit: ""))
    rows.append(Row(workload: "W3 rebuild all projectors", figure: "events/s", folio: Double(imported) / rebuildSeconds, raw: rawScan, target: "≥ 0.25", unit: ""))

    // W5: bytes on disk per event.
    let stats = try store.statistics()
    let payloadBytes = try store.log.read { session -> Int in
        var total = 0
        try session.scan { total += $0.payloadLength; return true }
        return total
    }
    let perEvent = { (bytes: Int) in Double(bytes) / Double(imported) }
    let rawPerEvent = perEvent(payloadBytes)
    rows.append(Row(workload: "W5 bytes per event", figure: "log records", folio: perEvent(stats.logBytes), raw: rawPerEvent, target: "≤ 1.3", unit: "B"))
    rows.append(Row(workload: "W5 bytes per event", figure: "log indexes", folio: perEvent(stats.logIndexBytes), raw: rawPerEvent, target: "", unit: "B"))
    rows.append(Row(workload: "W5 bytes per event", figure: "write indexes", folio: perEvent(stats.writeIndexBytes), raw: rawPerEvent, target: "", unit: "B"))
    rows.append(Row(workload: "W5 bytes per event", figure: "read models", folio: perEvent(stats.readModelBytes), raw: rawPerEvent, target: "", unit: "B"))
    rows.append(Row(workload: "W5 bytes per event", figure: "store file", folio: perEvent(stats.fileBytes), raw: rawPerEvent, target: "", unit: "B"))
}

// W4: one query as a whole process, against a trivial Swift executable's start.
if selected("W4") {
    log("W4: query processes…")
    let store = try Store(path: w2)
    let token = try store.projections.read { try $0.clients().first { $0.activationToken != nil }?.activationToken?.description } ?? "G0000"
    // Timed from the small C program: spawning from this process, which holds the folded history,
    // would cost more than starting either command.
    let times = figures(try run(raw, ["processes", "21", folioBinary, "client", "show", token, "--format", "json", "--store", w2, "--", trivial]))
    rows.append(Row(workload: "W4 client show (process)", figure: "median ms", folio: times["a_median_ms"]!, raw: times["b_median_ms"]!, target: "≤ 1.5", unit: "ms"))
    if let parserFloor {
        // What the command-line parser alone costs a process of the same shape: W4's floor.
        let floor = figures(try run(raw, ["processes", "21", parserFloor, "client", "show", token, "--format", "json", "--store", w2, "--", trivial]))
        rows.append(Row(workload: "W4 the parser alone (process)", figure: "median ms", folio: floor["a_median_ms"]!, raw: floor["b_median_ms"]!, target: "", unit: "ms"))
    }
}

// The fixtures' store.
if let fixtures {
    let store = try Store(path: work + "/fixtures")
    let count = try store.importLog(from: fixtures).events
    let stats = try store.statistics()
    log("fixtures: \(count) events, store file \(stats.fileBytes) bytes")
    rows.append(Row(workload: "W5 Fixtures/small.jsonl store", figure: "MiB", folio: Double(stats.fileBytes) / 1_048_576, raw: 100, target: "≪ 100 MB", unit: "MiB"))
}

func format(_ value: Double) -> String {
    value >= 1000 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.3f", value)
}
let header = ["workload", "figure", "folio", "raw", "folio/raw", "target"]
let table = rows.map { [$0.workload, $0.figure, format($0.folio), format($0.raw), String(format: "%.3f", $0.ratio), $0.target] }
let widths = header.indices.map { column in ([header] + table).map { $0[column].count }.max()! }
func line(_ cells: [String]) -> String {
    zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
}
print(line(header))
print(line(widths.map { String(repeating: "-", count: $0) }))
for row in table { print(line(row)) }
try? FileManager.default.removeItem(atPath: work)
