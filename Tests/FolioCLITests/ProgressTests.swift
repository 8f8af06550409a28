import Projections
import Testing

@testable import FolioCLI

@Suite("Progress bar")
struct ProgressTests {
    final class Frames {
        var written: [String] = []
    }

    @Test("a bar is drawn in place with its share done, at most twenty times a second, and ends in [Done] on its own line")
    func drawn() {
        let frames = Frames()
        // An hour between redraws: the second update comes before the next may be drawn, however slow the machine.
        let bar = Progress(title: "Importing", interval: .seconds(3600)) { frames.written.append($0) }
        bar.update(done: 0, total: nil)
        #expect(frames.written.isEmpty)
        bar.update(done: 40, total: 100)
        bar.update(done: 50, total: 100)
        #expect(frames.written == ["\r\u{1B}[2KImporting [==========               ] 40%"])
        bar.finish()
        #expect(frames.written.last == "\r\u{1B}[2KImporting [Done]\n")
        // Once: a second finish draws nothing more.
        bar.finish()
        #expect(frames.written.count == 2)
    }

    @Test("a bar fits a narrow terminal's line, which a wrapped line would fill with stale copies; narrower still, the percentage alone")
    func narrow() {
        for (columns, expected) in [
            (80, "Rebuilding [==========               ] 40%"), (30, "Rebuilding [====       ] 40%"), (23, "40%"),
        ] {
            let frames = Frames()
            Progress(title: "Rebuilding", columns: columns) { frames.written.append($0) }.update(done: 40, total: 100)
            let line = frames.written.first?.dropFirst("\r\u{1B}[2K".count)
            #expect(line.map(String.init) == (expected.hasPrefix("Rebuilding") ? expected : "Rebuilding " + expected), "\(columns)")
            #expect((line?.count ?? 0) < columns, "\(columns)")
        }
    }

    @Test("a rebuild's bar shows the log folded, then the rows written, each from 0 to 100%, the stage named and drawn at once when it changes")
    func rebuildStages() {
        let frames = Frames()
        let bar = Progress(title: "Rebuilding", interval: .seconds(3600), columns: 60) { frames.written.append($0) }
        bar.show(RebuildProgress(done: 0, total: 200, projectors: ["analytics"]))
        bar.show(RebuildProgress(done: 200, total: 200, projectors: ["analytics"]))
        bar.show(RebuildProgress(phase: .writing, done: 200, total: 200, rows: 0, rowsTotal: 40, projectors: ["analytics"]))
        bar.show(RebuildProgress(phase: .writing, done: 200, total: 200, rows: 40, rowsTotal: 40, projectors: ["analytics"]))
        bar.finish()
        #expect(frames.written == [
            "\r\u{1B}[2KRebuilding (folding the log) [                       ] 0%",
            "\r\u{1B}[2KRebuilding (writing rows) [                         ] 0%",
            "\r\u{1B}[2KRebuilding (writing rows) [Done]\n",
        ], "\(frames.written)")
        #expect(frames.written.allSatisfy { $0.count - "\r\u{1B}[2K".count < 60 })
    }

    @Test("more done than the total shows a full bar; a bar never shown leaves nothing behind")
    func edges() {
        let frames = Frames()
        Progress(title: "Exporting") { frames.written.append($0) }.update(done: 250, total: 100)
        #expect(frames.written == ["\r\u{1B}[2KExporting [=========================] 100%"])
        let silent = Frames()
        let unshown = Progress(title: "Rebuilding") { silent.written.append($0) }
        unshown.finish()
        #expect(silent.written.isEmpty)
    }
}
