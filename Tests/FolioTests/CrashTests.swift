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
