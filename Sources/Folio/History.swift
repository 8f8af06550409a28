import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A client's content history, page by page and version by version: why content changed.
public struct History: Sendable {
    public var clientID: UUID
    public var name: String
    public var pages: [Page]
    /// When the client was deleted: its history is kept, its rows are gone.
    public var deletedAt: Date?
    /// Who deleted it (the event's actor).
    public var deletedBy: String?
    /// Payments linked to no content version: made while the client had no current version and
    /// named none (rule 6), each with every status reported; `nil` in a history of one page,
    /// which leaves them out.
    public var paymentsWithoutVersion: [Payment]?

    public struct Page: Sendable {
        public var pageType: PageType
        public var versions: [Version]
    }

    public struct Version: Sendable {
        public var id: UUID
        public var versionNumber: Int
        public var draftedAt: Date
        public var createdBy: String
        public var iterationNotes: String?
        public var hypothesis: String?
        /// Every outcome recorded, in order: a later judgement does not erase an earlier one.
        public var outcomes: [Judgement]
        /// The latest outcome recorded, its notes and when.
        public var outcome: Outcome? { outcomes.last?.outcome }
        public var outcomeNotes: String? { outcomes.last?.notes }
        public var outcomeAt: Date? { outcomes.last?.at }
        /// When it became current, each time.
        public var promotedAt: [Date]
        /// When another version replaced it as current, each time.
        public var demotedAt: [Date]
        /// Its promotions, demotions and outcomes in the order they happened, by log position
        /// (times can be equal: a clock behind the log stamps events with the log's last time).
        public var timeline: [Moment]
        /// Payments linked to this version, each with every status Stripe reported for it.
        public var payments: [Payment]
        /// The content, as stored; `.omitted` in a history that does not compare content, and
        /// for the pages a history of one page does not show.
        public var content: CanonicalJSON
        /// The change against the previous version of the page (empty for the first, and where
        /// the two were not compared).
        public var changes: [ContentChange]
        /// Why the content was not compared with the previous version's, where it was not: one
        /// of the two holds two keys that are one text in two Unicode forms (as an import of an
        /// earlier Folio's export may), which a comparison of values cannot tell apart.
        public var notCompared: String?
    }

    /// A promotion, a demotion or an outcome of a version, where the log holds it, and who
    /// recorded it (a demotion is its promotion's).
    public struct Moment: Sendable {
        public enum Kind: Sendable {
            /// `again`: the version was current for its page already, and became its client's
            /// current version once more (another page's had been); nothing was demoted.
            case promoted(again: Bool)
            case demoted
            /// The version's `outcomes[index]`.
            case outcome(index: Int)
        }
        public var kind: Kind
        public var position: UInt64
        public var at: Date
        public var actor: String
    }

    public struct Judgement: Sendable {
        public var outcome: Outcome
        public var notes: String?
        public var at: Date
        public var actor: String
    }

    public struct Payment: Sendable {
        public var id: UUID
        public var intent: String
        public var amount: Int64
        /// Every status reported, in order (a failure retried to success shows both).
        public var reports: [PaymentReport]
        /// The latest status.
        public var status: PaymentStatus { reports.last?.status ?? .pending }
        /// When the payment was first reported.
        public var at: Date { reports.first?.at ?? .distantPast }
    }

    public struct PaymentReport: Sendable {
        public var status: PaymentStatus
        /// Why it failed (a failure only).
        public var reason: String?
        public var at: Date
        /// Who recorded the report (the event's actor).
        public var actor: String
    }
}

extension History {
    /// Why content that failed to parse is not compared. Stored content always parses, unless two
    /// keys of an object are one text in two Unicode forms: a value keeps one of them.
    static func notComparable(_ failure: JSONParser.Failure, in content: String) -> String {
        guard case .equivalentKeys(let first, let second) = failure else { return "\(content) cannot be read as JSON" }
        return "\(content) holds \(String.equivalentKeys(first, second)) in one object, one text in two Unicode forms"
    }
}

extension Store {
    /// Replays one client's stream into its content history.
    ///
    /// - Parameters:
    ///   - page: only this page type, when given.
    ///   - comparing: whether each version's content is compared with the one before it
    ///     (`changes`); without it, no version's content is kept (`content` is `.omitted`), as a
    ///     history of thousands of versions would otherwise hold every page at once.
    public func history(client reference: String, page: PageType? = nil, comparing: Bool = true) throws -> History {
        let client = try resolveClient(reference)
        var name = ""
        var exists = false
        var order: [PageType: [UUID]] = [:]
        var versions: [UUID: History.Version] = [:]
        var pageOf: [UUID: PageType] = [:]
        var current: [PageType: UUID] = [:]
        // Where each intent's payment is: under its version, or (`nil`) among those without one.
        var paymentIndex: [String: (version: UUID?, index: Int)] = [:]
        var withoutVersion: [History.Payment] = []
        var deleted: (at: Date, by: String)?
        do {
            try log.read { session in
                try session.scan(stream: Event.stream(for: client)) { view in
                    let event = try view.withPayload {
                        try Event.decode(type: EventType.named(view.type), schemaVersion: Int(view.schemaVersion), payload: $0, copyingContent: comparing)
                    }
                    let at = Date(timeIntervalSince1970: Double(view.recordedAtMicroseconds) / 1_000_000)
                    let actor = view.actor
                    switch event {
                    case .clientCreated(let created):
                        name = created.name
                        exists = true
                    case .versionDrafted(let drafted):
                        order[drafted.pageType, default: []].append(drafted.versionID)
                        pageOf[drafted.versionID] = drafted.pageType
                        // Only the pages shown are compared.
                        let content = comparing && (page == nil || page == drafted.pageType) ? drafted.content : .omitted
                        versions[drafted.versionID] = History.Version(
                            id: drafted.versionID, versionNumber: drafted.versionNumber, draftedAt: at, createdBy: drafted.createdBy,
                            iterationNotes: drafted.iterationNotes, hypothesis: drafted.hypothesis, outcomes: [], promotedAt: [], demotedAt: [],
                            timeline: [], payments: [], content: content, changes: []
                        )
                    case .versionPromoted(let promoted):
                        // Promoted again while current (another page's version had become the
                        // client's current one): nothing is demoted.
                        let again = current[promoted.pageType] == promoted.versionID
                        if let previous = current[promoted.pageType], !again {
                            versions[previous]?.demotedAt.append(at)
                            versions[previous]?.timeline.append(History.Moment(kind: .demoted, position: view.position, at: at, actor: actor))
                        }
                        current[promoted.pageType] = promoted.versionID
                        versions[promoted.versionID]?.promotedAt.append(at)
                        versions[promoted.versionID]?.timeline.append(History.Moment(kind: .promoted(again: again), position: view.position, at: at, actor: actor))
                    case .outcomeRecorded(let recorded):
                        guard var version = versions[recorded.versionID] else { break }
                        version.timeline.append(History.Moment(kind: .outcome(index: version.outcomes.count), position: view.position, at: at, actor: actor))
                        version.outcomes.append(History.Judgement(outcome: recorded.outcome, notes: recorded.notes, at: at, actor: actor))
                        versions[recorded.versionID] = version
                    case .paymentInitiated(let payment), .paymentSucceeded(let payment), .paymentFailed(let payment), .paymentCancelled(let payment):
                        let report = History.PaymentReport(status: event.paymentStatus ?? .pending, reason: payment.reason, at: at, actor: actor)
                        switch paymentIndex[payment.stripePaymentIntentID] {
                        case let (version?, index)?:
                            versions[version]?.payments[index].reports.append(report)
                        case let (nil, index)?:
                            withoutVersion[index].reports.append(report)
                        case nil:
                            let made = History.Payment(id: payment.paymentID, intent: payment.stripePaymentIntentID, amount: payment.amount, reports: [report])
                            if let version = payment.contentVersionID, versions[version] != nil {
                                paymentIndex[payment.stripePaymentIntentID] = (version, versions[version]!.payments.count)
                                versions[version]?.payments.append(made)
                            } else {
                                paymentIndex[payment.stripePaymentIntentID] = (nil, withoutVersion.count)
                                withoutVersion.append(made)
                            }
                        }
                    case .clientDeleted:
                        deleted = (at, actor)
                    default:
                        break
                    }
                    return true
                }
            }
        } catch {
            throw FolioError.wrapping(error)
        }
        guard exists else {
            throw FolioError.unknownClient(client)
        }
        let pages = PageType.allCases.filter { page == nil || $0 == page }.map { type in
            var previous: Result<JSONValue, JSONParser.Failure>?
            let list = (order[type] ?? []).compactMap { id -> History.Version? in
                guard var version = versions[id] else { return nil }
                guard comparing else { return version }
                let content = Result { () throws(JSONParser.Failure) in try JSONParser.parse(version.content.bytes, maxDepth: .max) }
                switch (previous, content) {
                case (nil, _): break
                case (.success(let old)?, .success(let new)): version.changes = ContentChange.diff(from: old, to: new)
                case (.failure(let failure)?, _): version.notCompared = History.notComparable(failure, in: "the previous version's content")
                case (_, .failure(let failure)): version.notCompared = History.notComparable(failure, in: "its content")
                }
                previous = content
                return version
            }
            return History.Page(pageType: type, versions: list)
        }
        // Payments without a version belong to no page: a history of one page leaves them out.
        return History(clientID: client, name: name, pages: pages, deletedAt: deleted?.at, deletedBy: deleted?.by, paymentsWithoutVersion: page == nil ? withoutVersion : nil)
    }
}

/// One difference between two JSON documents, at a path such as `sections[2].title` (a key that
/// would read otherwise is written as a JSON string in brackets: `terms["a.b"]`, `[""]`).
public struct ContentChange: Hashable, Sendable {
    public enum Kind: String, Sendable { case added, removed, changed }
    public var kind: Kind
    public var path: String
    public var old: JSONValue?
    public var new: JSONValue?

    /// The structural difference from `old` to `new`: added, removed and changed paths, in the
    /// order of an object's keys and of an array's elements as they are matched up.
    public static func diff(from old: JSONValue, to new: JSONValue) -> [ContentChange] {
        var changes: [ContentChange] = []
        var cells = alignedCellsPerDiff
        walk(old, new, path: "", into: &changes, cells: &cells)
        return changes
    }

    /// How many pairs of elements one diff may compare to match up arrays (`unchanged`), in all
    /// its arrays together: content of a megabyte may hold hundreds of long arrays.
    static let alignedCellsPerDiff = 4_000_000

    /// The path of `key` inside `parent`: `parent.key`, or `parent["key"]` (a JSON string) for a
    /// key that would read otherwise, empty or holding `.`, `[`, `]`, `"`, `$`, white space, a
    /// control character (which the JSON string writes out, as `\u001b` or `\u007f`), a
    /// bidirectional control (which a table writes out, as it writes any text's) or a character
    /// that shows nothing where it stands (`scalarsShowingNothing`, written out as JSON's
    /// `\u200b`, so that `price` and `price` with a zero-width space after it read apart).
    static func path(_ parent: String, key: String) -> String {
        let hidden = key.scalarsShowingNothing
        let plain = !key.isEmpty && !hidden.contains(true) && key.unicodeScalars.allSatisfy { scalar in
            !".[]\"$".unicodeScalars.contains(scalar) && !scalar.properties.isWhitespace
                && scalar.properties.generalCategory != .control && !scalar.properties.isBidiControl
        }
        guard plain else {
            // The key as a JSON string, with what would not show written out as JSON's escapes:
            // the characters that show nothing, spaces past ASCII's, and controls past JSON's.
            var quoted = String.UnicodeScalarView(#"""#.unicodeScalars)
            for (scalar, hidden) in zip(key.unicodeScalars, hidden) {
                guard hidden || (scalar.value >= 0x7F && (scalar.properties.isWhitespace || scalar.properties.generalCategory == .control)) else {
                    quoted.append(contentsOf: String(decoding: JSONValue.string(String(scalar)).canonicalJSON().dropFirst().dropLast(), as: UTF8.self).unicodeScalars)
                    continue
                }
                // JSON's escape, in UTF-16 code units: a surrogate pair past the first plane.
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    quoted.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
                }
            }
            quoted.append("\"")
            return "\(parent)[\(String(quoted))]"
        }
        return parent.isEmpty ? key : "\(parent).\(key)"
    }

    private static func walk(_ old: JSONValue, _ new: JSONValue, path: String, into changes: inout [ContentChange], cells: inout Int) {
        switch (old, new) {
        case (.object(let a), .object(let b)):
            // Keys told apart as JSON tells them, by their code points, in that order: a key
            // written again in another Unicode form is one removed and one added.
            let old = JSONValue.object(a), new = JSONValue.object(b)
            let keys = Array(a.keys) + b.keys.filter { old.member(exactly: $0) == nil }
            for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let child = Self.path(path, key: key)
                switch (old.member(exactly: key), new.member(exactly: key)) {
                case (let x?, let y?): walk(x, y, path: child, into: &changes, cells: &cells)
                case (let x?, nil): changes.append(ContentChange(kind: .removed, path: child, old: x, new: nil))
                case (nil, let y?): changes.append(ContentChange(kind: .added, path: child, old: nil, new: y))
                case (nil, nil): break
                }
            }
        case (.array(let a), .array(let b)):
            // Elements left as they were are matched up first (`unchanged`), as a diff of lines
            // matches lines, so that a section inserted or removed is one change, not one for
            // every section after it. Between two matched elements, the others are compared in
            // turn, and what one side has more of is added or removed. A path names an element
            // by its index in the new content, a removed one by its index in the old.
            var (i, j) = (0, 0)
            for (x, y) in unchanged(a, b, cells: &cells) + [(a.count, b.count)] {
                while i < x, j < y {
                    walk(a[i], b[j], path: "\(path)[\(j)]", into: &changes, cells: &cells)
                    i += 1
                    j += 1
                }
                for index in i..<x { changes.append(ContentChange(kind: .removed, path: "\(path)[\(index)]", old: a[index], new: nil)) }
                for index in j..<y { changes.append(ContentChange(kind: .added, path: "\(path)[\(index)]", old: nil, new: b[index])) }
                (i, j) = (x + 1, y + 1)
            }
        default:
            if old != new { changes.append(ContentChange(kind: .changed, path: path.isEmpty ? "$" : path, old: old, new: new)) }
        }
    }

    /// The most elements of `a` and `b` that can be matched up in order, each to one equal to it:
    /// their indices `(in a, in b)`, ascending. Equal elements at the start and the end are
    /// matched directly. Between them, when there are at most a million pairs to compare and
    /// `cells` has as many left (taken from it), a longest common subsequence: a shortest edit
    /// script where it takes a few dozen edits at most, else from a table. Past that (arrays of
    /// thousands of elements), the elements found once on each side are matched up first, the
    /// most of them in order (as a patience diff does), and what lies between two of them is
    /// matched up in the same way; with none found, a shortest edit script as far as a million
    /// comparisons go (a long list of a few values changed in a few places); elements left where
    /// none of this applies are compared by position.
    static func unchanged(_ a: [JSONValue], _ b: [JSONValue], cells: inout Int) -> [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        match(a, 0..<a.count, b, 0..<b.count, into: &pairs, cells: &cells, depth: 0)
        return pairs
    }

    /// How deep matching up by unique elements goes within itself before what is left is compared
    /// by position: arrays built so that each level finds one such element would go as deep as
    /// they are long.
    static let anchoringDepth = 64

    private static func match(
        _ a: [JSONValue], _ inA: Range<Int>, _ b: [JSONValue], _ inB: Range<Int>, into pairs: inout [(Int, Int)], cells: inout Int, depth: Int
    ) {
        var (startA, startB) = (inA.lowerBound, inB.lowerBound)
        while startA < inA.upperBound, startB < inB.upperBound, a[startA] == b[startB] {
            pairs.append((startA, startB))
            startA += 1
            startB += 1
        }
        var (endA, endB) = (inA.upperBound, inB.upperBound)
        while endA > startA, endB > startB, a[endA - 1] == b[endB - 1] {
            endA -= 1
            endB -= 1
        }
        let (rows, columns) = (endA - startA, endB - startB)
        if rows > 0, columns > 0, rows * columns <= min(1_000_000, cells) {
            // Few edits are found in time proportional to the arrays' length times their number;
            // past a few dozen, the table of the longest common subsequence, which takes their
            // product, is as quick.
            let attempt = shortestEdit(a, startA..<endA, b, startB..<endB, limit: min(editsTried * (rows + columns), rows * columns), into: &pairs)
            cells -= attempt.work
            if !attempt.found {
                cells -= rows * columns
                longestCommonSubsequence(a, startA..<endA, b, startB..<endB, into: &pairs)
            }
        } else if rows > 0, columns > 0, rows + columns <= cells, depth < anchoringDepth,
                  case let anchors = uniqueAnchors(a, startA..<endA, b, startB..<endB), !anchors.isEmpty {
            cells -= rows + columns
            var (i, j) = (startA, startB)
            for (x, y) in anchors {
                match(a, i..<x, b, j..<y, into: &pairs, cells: &cells, depth: depth + 1)
                pairs.append((x, y))
                (i, j) = (x + 1, y + 1)
            }
            match(a, i..<endA, b, j..<endB, into: &pairs, cells: &cells, depth: depth + 1)
        } else if rows > 0, columns > 0 {
            // Long, and nothing found once on each side (a list of a few values, say): the
            // shortest edit script, as far as a million comparisons and half of what is left go;
            // past that, element by element.
            cells -= shortestEdit(a, startA..<endA, b, startB..<endB, limit: min(1_000_000, cells / 2), into: &pairs).work
        }
        pairs += (0..<(inA.upperBound - endA)).map { (endA + $0, endB + $0) }
    }

    /// The most edits (insertions and deletions) a shortest edit script is sought with before a
    /// table of the longest common subsequence takes over.
    static let editsTried = 64

    /// Appends a longest common subsequence of `a[inA]` and `b[inB]` to `pairs`, found as the
    /// shortest script of insertions and deletions (Myers' greedy algorithm, O((N+M)D)), when it
    /// takes about `limit` comparisons at most: `false`, appending nothing, when more edits are
    /// needed; with the comparisons it took (about).
    private static func shortestEdit(
        _ a: [JSONValue], _ inA: Range<Int>, _ b: [JSONValue], _ inB: Range<Int>, limit: Int, into pairs: inout [(Int, Int)]
    ) -> (found: Bool, work: Int) {
        let (n, m, startA, startB) = (inA.count, inB.count, inA.lowerBound, inB.lowerBound)
        let maxEdits = min(n + m, limit / (n + m))
        guard maxEdits > 0 else { return (false, 0) }
        // furthest[k + offset]: the furthest x reached on diagonal k = x - y; each edit count's
        // row (diagonals -d-1...d+1) is kept to trace the path back.
        let offset = maxEdits + 1
        var furthest = [Int32](repeating: 0, count: 2 * maxEdits + 3)
        var rows: [[Int32]] = []
        for edits in 0...maxEdits {
            rows.append(Array(furthest[(offset - edits - 1)...(offset + edits + 1)]))
            for k in stride(from: -edits, through: edits, by: 2) {
                var x = k == -edits || (k != edits && furthest[offset + k - 1] < furthest[offset + k + 1])
                    ? Int(furthest[offset + k + 1]) : Int(furthest[offset + k - 1]) + 1
                var y = x - k
                while x < n, y < m, a[startA + x] == b[startB + y] {
                    x += 1
                    y += 1
                }
                furthest[offset + k] = Int32(x)
                guard x >= n, y >= m else { continue }
                // Back from the end: each row says from which diagonal the last edit came.
                var matched: [(Int, Int)] = []
                var (x0, y0) = (n, m)
                for back in stride(from: edits, through: 0, by: -1) {
                    let row = rows[back], k = x0 - y0
                    func at(_ diagonal: Int) -> Int { Int(row[diagonal + back + 1]) }
                    let previous = k == -back || (k != back && at(k - 1) < at(k + 1)) ? k + 1 : k - 1
                    let (px, py) = back == 0 ? (0, 0) : (at(previous), at(previous) - previous)
                    // The snake after the edit: equal elements, matched.
                    while x0 > px, y0 > py, back == 0 || x0 > px + (previous == k - 1 ? 1 : 0) {
                        x0 -= 1
                        y0 -= 1
                        matched.append((startA + x0, startB + y0))
                    }
                    (x0, y0) = (px, py)
                }
                pairs += matched.reversed()
                return (true, (n + m) * (edits + 1))
            }
        }
        return (false, (n + m) * (maxEdits + 1))
    }

    /// Appends a longest common subsequence of `a[inA]` and `b[inB]` to `pairs`.
    private static func longestCommonSubsequence(_ a: [JSONValue], _ inA: Range<Int>, _ b: [JSONValue], _ inB: Range<Int>, into pairs: inout [(Int, Int)]) {
        let (rows, columns, startA, startB) = (inA.count, inB.count, inA.lowerBound, inB.lowerBound)
        // Hashes first, so that most pairs are told apart without comparing two documents.
        let hashA = a[inA].map(\.hashValue), hashB = b[inB].map(\.hashValue)
        func same(_ x: Int, _ y: Int) -> Bool { hashA[x] == hashB[y] && a[startA + x] == b[startB + y] }
        // lengths[x * (columns + 1) + y]: the longest common subsequence of the rows from
        // x on and the columns from y on.
        var lengths = [Int32](repeating: 0, count: (rows + 1) * (columns + 1))
        for x in stride(from: rows - 1, through: 0, by: -1) {
            for y in stride(from: columns - 1, through: 0, by: -1) {
                let here = x * (columns + 1) + y
                lengths[here] = same(x, y) ? lengths[here + columns + 2] + 1 : max(lengths[here + columns + 1], lengths[here + 1])
            }
        }
        var (x, y) = (0, 0)
        while x < rows, y < columns {
            if same(x, y) {
                pairs.append((startA + x, startB + y))
                x += 1
                y += 1
            } else if lengths[(x + 1) * (columns + 1) + y] >= lengths[x * (columns + 1) + y + 1] {
                x += 1
            } else {
                y += 1
            }
        }
    }

    /// Elements found exactly once in `a[inA]` and once in `b[inB]`, the most of them that keep
    /// their order on both sides (a longest increasing subsequence): `(in a, in b)`, ascending.
    private static func uniqueAnchors(_ a: [JSONValue], _ inA: Range<Int>, _ b: [JSONValue], _ inB: Range<Int>) -> [(Int, Int)] {
        var inOld: [JSONValue: Int] = [:], inNew: [JSONValue: Int] = [:]
        // An index, or -1 for an element found more than once.
        for i in inA { inOld[a[i]] = inOld[a[i]] == nil ? i : -1 }
        for j in inB { inNew[b[j]] = inNew[b[j]] == nil ? j : -1 }
        let candidates = inB.compactMap { j -> (Int, Int)? in
            guard inNew[b[j]] == j, let i = inOld[b[j]], i >= 0 else { return nil }
            return (i, j)
        }
        // Patience sorting on the indices in `a`, in the order of `b`: `tails[k]` is the candidate
        // ending the best run of length k + 1 found so far, `previous` links each to the one before.
        var tails: [Int] = [], previous = [Int](repeating: -1, count: candidates.count)
        for (n, candidate) in candidates.enumerated() {
            var (low, high) = (0, tails.count)
            while low < high {
                let middle = (low + high) / 2
                if candidates[tails[middle]].0 < candidate.0 { low = middle + 1 } else { high = middle }
            }
            if low > 0 { previous[n] = tails[low - 1] }
            if low == tails.count { tails.append(n) } else { tails[low] = n }
        }
        var anchors: [(Int, Int)] = []
        var n = tails.last ?? -1
        while n >= 0 {
            anchors.append(candidates[n])
            n = previous[n]
        }
        return anchors.reversed()
    }
}
