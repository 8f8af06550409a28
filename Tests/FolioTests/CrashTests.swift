import Foundation
import Testing

@Suite("Crashes")
struct CrashTests {
    @Test("writers, rebuilds and imports killed at random moments lose nothing acknowledged (a CI-sized harness run)")
    func harness() throws {
        let directory = try TemporaryDirectory()
        let result = try run("Worker", ["harness", "--store", directory.path("store"), "--rounds", "10", "--seed", "7"])
        #expect(result.status == 0, "\(result.err)")
        // "ok: 10 rounds, K kills, A acknowledged commands, none lost": every writer (six rounds of
        // ten) is stopped by its kill (the harness fails one that ends by itself), and something
        // was acknowledged before, for the check to mean anything.
        let figures = result.out.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(result.out.hasPrefix("ok: 10 rounds, ") && figures.count == 3, "\(result.out)")
        if figures.count == 3 {
            #expect(figures[1] >= 6 && figures[1] <= 10, "\(result.out)")
            #expect(figures[2] > 0, "\(result.out)")
        }
    }
}

@Suite("Fuzzing")
struct FuzzTests {
    @Test("a bounded fuzz run over import lines and content finds no crash (a count of inputs, so that a failure runs again from its seed)")
    func boundedRun() throws {
        let directory = try TemporaryDirectory()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = try run("Worker", [
            "fuzz", "--store", directory.path("fuzz"), "--inputs", "4000", "--seed", "11",
            root.appendingPathComponent("Fixtures/small.jsonl").path, root.appendingPathComponent("Fixtures/bad-input").path,
        ])
        #expect(result.status == 0, "the fuzzer crashed: \(result.err.prefix(2_000))")
        #expect(result.out == "ok: 4000 inputs tried, no crash\n", "\(result.out)")
    }
}
