import Foundation
import Testing

@Suite("Benchmarks")
struct BenchmarkTests {
    @Test("a CI-sized run of every workload still runs and prints its figures beside raw LMDB (no times asserted)")
    func smallRun() throws {
        let directory = try TemporaryDirectory()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let raw = directory.path("raw_lmdb"), trivial = directory.path("trivial")
        func sh(_ command: String) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try sh("cc -O2 -o '\(raw)' '\(root.path)/tools/bench/raw_lmdb.c' $(pkg-config --cflags --libs lmdb 2>/dev/null || echo -llmdb)") == 0)
        #expect(try sh("swiftc -o '\(trivial)' '\(root.path)/tools/bench/trivial.swift' 2>/dev/null") == 0)
        let products = try productsDirectory()
        let result = try run("Bench", [
            "--events", "1500", "--appends", "30", "--work", directory.path("work"), "--raw", raw,
            "--folio", products.appendingPathComponent("folio").path, "--trivial", trivial,
            "--parser-floor", products.appendingPathComponent("ParserFloor").path,
            "--fixtures", root.appendingPathComponent("Fixtures/small.jsonl").path,
        ])
        #expect(result.status == 0, "\(result.err)")
        for workload in ["W1 durable appends", "W2 import", "W3 rebuild all projectors", "W4 client show", "W4 the parser alone", "W5 bytes per event"] {
            #expect(result.out.contains(workload), "\(workload) is missing from:\n\(result.out)")
        }
        #expect(result.out.contains("folio/raw"))
    }
}
