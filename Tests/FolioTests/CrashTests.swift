import Foundation
import Testing

@Suite("Crashes")
struct CrashTests {
    @Test("writers, rebuilds and imports killed at random moments lose nothing acknowledged (a CI-sized harness run)")
    func harness() throws {
        let directory = try TemporaryDirectory()
        let result = try run("Worker", ["harness", "--store", directory.path("store"), "--rounds", "10", "--seed", "7"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.hasPrefix("ok: 10 rounds, 10 kills"), "\(result.out)")
    }
}

@Suite("Fuzzing")
struct FuzzTests {
    @Test("a bounded fuzz run over import lines and content finds no crash")
    func boundedRun() throws {
        let directory = try TemporaryDirectory()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = try run("Worker", [
            "fuzz", "--store", directory.path("fuzz"), "--seconds", "3", "--seed", "11",
            root.appendingPathComponent("Fixtures/small.jsonl").path, root.appendingPathComponent("Fixtures/bad-input").path,
        ])
        #expect(result.status == 0, "the fuzzer crashed: \(result.err.prefix(2_000))")
        #expect(result.out.hasPrefix("ok: "), "\(result.out)")
    }
}
