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
