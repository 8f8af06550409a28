import Domain
import Folio
import Projections
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Prints payment analytics: one JSON object, a table per section, or CSV rows tagged by section;
/// or one section alone.
struct AnalyticsPrinter {
    var format: OutputFormat
    /// The sections to print (all when `nil`); the funnel always follows.
    var sections: Set<String>? = nil

    static let figures = ["exposed", "payments_succeeded", "payments_failed", "revenue", "conversion_rate"]
    static let sections: [(key: String, columns: [String])] = [
        ("by_version", ["content_version_id", "client_id", "page_type", "version_number", "outcome"] + figures),
        ("by_page_type", ["page_type"] + figures),
        ("by_version_number", ["version_number"] + figures),
        ("by_outcome", ["outcome"] + figures),
    ]
    /// The funnel's counts, then the time between its steps, in the order a client takes them.
    static let funnelColumns = [
        "created", "token_issued", "activated", "paid",
        "median_seconds_created_to_token_issued", "median_seconds_token_issued_to_activated", "median_seconds_activated_to_paid",
    ]

    /// Prints one section alone, as a list command prints its rows: one JSON array, one table, or
    /// one CSV table under its header; the funnel as its one row (one JSON object).
    func render(section: AnalyticsSection, of analytics: Analytics) -> String {
        // That section alone is made.
        let object = [section.rawValue: analytics.jsonValue(section: section.rawValue) ?? .null]
        if section == .funnel {
            guard let funnel = Self.funnel(of: object) else { return "" }
            let printer = RowPrinter(format: format, columns: Self.funnelColumns)
            if format == .json { return RowPrinter.json(funnel, keys: printer.keys(of: [funnel])) + "\n" }
            var text = ""
            printer.write(objects: [funnel], to: &text)
            return text
        }
        guard let columns = Self.sections.first(where: { $0.key == section.rawValue })?.columns else { return "" }
        var text = ""
        RowPrinter(format: format, columns: columns).write(objects: Self.rows(of: object, section.rawValue), to: &text)
        return text
    }

    /// The rows of a section of the analytics' JSON object.
    static func rows(of object: [String: JSONValue], _ key: String) -> [[String: Cell]] {
        guard case .array(let rows)? = object[key] else { return [] }
        return rows.compactMap { row -> [String: Cell]? in if case .object(let fields) = row { fields.mapValues(Cell.init) } else { nil } }
    }

    /// The funnel of the analytics' JSON object, as one row.
    static func funnel(of object: [String: JSONValue]) -> [String: Cell]? {
        guard case .object(let fields)? = object["funnel"] else { return nil }
        return fields.mapValues(Cell.init)
    }

    func render(_ analytics: Analytics) -> String {
        let object = analytics.jsonObject
        switch format {
        case .json:
            // The sections in the order a table prints them, each row's keys in its columns'
            // order, as a list and `--section` print them.
            var members: [String] = []
            for section in Self.sections where sections?.contains(section.key) ?? true {
                guard case .array? = object[section.key] else { continue }
                let objects = Self.rows(of: object, section.key)
                let keys = RowPrinter(format: format, columns: section.columns).keys(of: objects)
                members.append("\"\(section.key)\":[" + objects.map { RowPrinter.json($0, keys: keys) }.joined(separator: ",") + "]")
            }
            if let funnel = Self.funnel(of: object) {
                members.append("\"funnel\":" + RowPrinter.json(funnel, keys: RowPrinter(format: format, columns: Self.funnelColumns).keys(of: [funnel])))
            }
            return "{" + members.joined(separator: ",") + "}\n"
        case .table, .csv:
            var out = ""
            for section in Self.sections where sections?.contains(section.key) ?? true {
                guard case .array? = object[section.key] else { continue }
                let objects = Self.rows(of: object, section.key)
                let printer = RowPrinter(format: format, columns: section.columns)
                let keys = printer.keys(of: objects)
                if format == .table {
                    out += "\(section.key.replacing(ascii: "_", with: " "))\n" + RowPrinter.table(objects, keys: keys) + "\n"
                } else {
                    out += "# \(section.key)\r\n" + RowPrinter.csv(objects, keys: keys)
                }
            }
            if let funnel = Self.funnel(of: object) {
                let keys = RowPrinter(format: format, columns: Self.funnelColumns).keys(of: [funnel])
                if format == .table {
                    out += "funnel\n" + RowPrinter.table([funnel], keys: keys)
                } else {
                    out += "# funnel\r\n" + RowPrinter.csv([funnel], keys: keys)
                }
            }
            return out
        }
    }
}

/// Prints a client's content history.
struct HistoryPrinter {
    var format: OutputFormat
    var diff: Bool

    func render(_ history: History) throws -> String {
        switch format {
        case .json: return JSONValue.object(json(history)).canonicalText + "\n"
        case .csv: return csv(history)
        case .table: return text(history)
        }
    }

    private func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.format($0)) } ?? .null }
    private func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }

    private func json(_ history: History) -> [String: JSONValue] {
        [
            "client_id": .string(history.clientID.lowercased), "name": .string(history.name),
            "deleted_at": time(history.deletedAt), "deleted_by": optional(history.deletedBy),
            "payments_without_version": history.paymentsWithoutVersion.map(payments) ?? .null,
            "pages": .array(history.pages.map { page in
                .object([
                    "page_type": .string(page.pageType.rawValue),
                    "versions": .array(page.versions.map { version in
                        var fields: [String: JSONValue] = [
                            "id": .string(version.id.lowercased), "version_number": .integer(Int64(version.versionNumber)),
                            "created_at": time(version.draftedAt), "created_by": .string(version.createdBy),
                            "iteration_notes": optional(version.iterationNotes), "hypothesis": optional(version.hypothesis),
                            "outcome": optional(version.outcome?.rawValue), "outcome_notes": optional(version.outcomeNotes),
                            "outcome_at": time(version.outcomeAt),
                            "outcomes": outcomes(version),
                            "promoted_at": .array(version.promotedAt.map { time($0) }),
                            "demoted_at": .array(version.demotedAt.map { time($0) }),
                            "timeline": timeline(version),
                            "payments": payments(version.payments),
                        ]
                        if diff { fields["changes"] = changes(version) }
                        return .object(fields)
                    }),
                ])
            }),
        ]
    }

    /// Payments (a version's, or those without one) as JSON: `id`, `stripe_payment_intent_id`,
    /// `amount`, the latest `status`, `created_at`, and every status reported (`reports`:
    /// `status`, `reason`, `recorded_at`, `actor`).
    private func payments(_ payments: [History.Payment]) -> JSONValue {
        .array(payments.map { payment in
            .object([
                "id": .string(payment.id.lowercased),
                "stripe_payment_intent_id": .string(payment.intent), "amount": .integer(payment.amount),
                "status": .string(payment.status.rawValue), "created_at": time(payment.at),
                "reports": .array(payment.reports.map { report in
                    .object([
                        "status": .string(report.status.rawValue), "reason": optional(report.reason), "recorded_at": time(report.at),
                        "actor": .string(report.actor),
                    ])
                }),
            ])
        })
    }

    /// Every outcome recorded for a version, oldest first, as JSON: `outcome`, `notes`,
    /// `recorded_at`, `actor`.
    private func outcomes(_ version: History.Version) -> JSONValue {
        .array(version.outcomes.map { judgement in
            .object([
                "outcome": .string(judgement.outcome.rawValue), "notes": optional(judgement.notes), "recorded_at": time(judgement.at),
                "actor": .string(judgement.actor),
            ])
        })
    }

    /// A version's promotions, demotions and outcomes in the order the log holds them, as JSON:
    /// `event` (`promoted`, `demoted`, `outcome`), `position`, `recorded_at`, `actor` (who
    /// recorded it: a demotion's is its promotion's); a promotion's `already_current` (the version
    /// was current for its page, and became its client's current version again), an outcome's
    /// `outcome` and `notes` too.
    private func timeline(_ version: History.Version) -> JSONValue {
        .array(version.timeline.map { moment in
            var fields: [String: JSONValue] = ["position": .integer(Int64(moment.position)), "recorded_at": time(moment.at), "actor": .string(moment.actor)]
            switch moment.kind {
            case .promoted(let again):
                fields["event"] = .string("promoted")
                fields["already_current"] = .bool(again)
            case .demoted: fields["event"] = .string("demoted")
            case .outcome(let index):
                fields["event"] = .string("outcome")
                fields["outcome"] = .string(version.outcomes[index].outcome.rawValue)
                fields["notes"] = optional(version.outcomes[index].notes)
            }
            return .object(fields)
        })
    }

    /// What changed in a version's content since the one before, as JSON: `kind`, `path`, `old`,
    /// `new`; `null` where nothing was compared: for the first version, which has none before it
    /// (where `[]` would say it changed nothing), and where the two were not compared
    /// (`History.Version.notCompared`).
    private func changes(_ version: History.Version) -> JSONValue {
        guard version.notCompared == nil, version.versionNumber > 1 else { return .null }
        return .array(version.changes.map { change in
            .object([
                "kind": .string(change.kind.rawValue), "path": .string(change.path),
                "old": change.old ?? .null, "new": change.new ?? .null,
            ])
        })
    }

    /// One line per version: `outcome` is the latest, `outcomes` (after the earlier columns) all of
    /// them as a JSON array, and `promoted_at`, `demoted_at`, `payments` and `timeline` JSON
    /// arrays, as in JSON; with `diff`, a last column holds its changes as a JSON array.
    private func csv(_ history: History) -> String {
        var keys = ["page_type", "version_number", "id", "created_at", "created_by", "iteration_notes", "hypothesis", "outcome", "promoted_at", "demoted_at", "payments", "outcomes", "timeline"]
        if diff { keys.append("changes") }
        var rows: [[String: JSONValue]] = []
        for page in history.pages {
            for version in page.versions {
                var row: [String: JSONValue] = [
                    "page_type": .string(page.pageType.rawValue), "version_number": .integer(Int64(version.versionNumber)),
                    "id": .string(version.id.lowercased), "created_at": time(version.draftedAt), "created_by": .string(version.createdBy),
                    "iteration_notes": optional(version.iterationNotes), "hypothesis": optional(version.hypothesis),
                    "outcome": optional(version.outcome?.rawValue), "outcomes": outcomes(version),
                    "promoted_at": .array(version.promotedAt.map { time($0) }), "demoted_at": .array(version.demotedAt.map { time($0) }),
                    "payments": payments(version.payments), "timeline": timeline(version),
                ]
                if diff { row["changes"] = changes(version) }
                rows.append(row)
            }
        }
        return RowPrinter.csv(rows.map { $0.mapValues(Cell.init) }, keys: keys)
    }

    private func text(_ history: History) -> String {
        // What people wrote is printed as a table's cells are: line breaks and tabs as spaces,
        // other control characters written out (`\u{1b}`), so that one field stays on its line
        // and cannot drive the terminal. So are content's keys in a diff's paths, which a key
        // holding a control character is quoted in, as a JSON string.
        var lines = ["\(history.name.escapingControls(spacing: true)) (\(history.clientID.lowercased))" + (history.deletedAt.map { ", deleted \(Timestamp.format($0))" + by(history.deletedBy ?? "") } ?? "")]
        if history.pages.allSatisfy(\.versions.isEmpty) {
            lines.append(history.pages.count == 1 ? "(no versions of its \(history.pages[0].pageType.rawValue) page)" : "(no content versions)")
        }
        for page in history.pages where !page.versions.isEmpty {
            lines.append("")
            lines.append("\(page.pageType.rawValue)")
            for version in page.versions {
                lines.append("  v\(version.versionNumber)  \(version.id.lowercased)  drafted \(Timestamp.format(version.draftedAt))\(by(version.createdBy))")
                if let notes = version.iterationNotes { lines.append("      why:        \(notes.escapingControls(spacing: true))") }
                if let hypothesis = version.hypothesis { lines.append("      hypothesis: \(hypothesis.escapingControls(spacing: true))") }
                // Promotions, demotions and outcomes in the log's order, which equal times keep.
                for moment in version.timeline {
                    let when = Timestamp.format(moment.at) + by(moment.actor)
                    switch moment.kind {
                    case .promoted(let again):
                        lines.append("      promoted    \(when)" + (again ? "  (current for its page already: its client's current version again)" : ""))
                    case .demoted: lines.append("      demoted     \(when)")
                    case .outcome(let index):
                        let judgement = version.outcomes[index]
                        lines.append("      outcome     \(when)  \(judgement.outcome.rawValue)" + (judgement.notes.map { " — \($0.escapingControls(spacing: true))" } ?? ""))
                    }
                }
                for payment in version.payments { lines += self.lines(payment, indent: "      ") }
                if diff {
                    // Values as JSON, so that a string reads apart from the number or null it
                    // replaced (`1 → "1"`), shortened to what fits.
                    func value(_ value: JSONValue?, limit: Int) -> String {
                        RowPrinter.cell(.json((value ?? .null).canonicalText), limit: limit)
                    }
                    if let why = version.notCompared {
                        lines.append("      (not compared with the version before: \(why.escapingControls(spacing: true)))")
                    } else if version.versionNumber > 1 && version.changes.isEmpty {
                        lines.append("      (content unchanged)")
                    }
                    for change in version.changes {
                        switch change.kind {
                        case .added: lines.append("      + \(change.path.escapingControls()): \(value(change.new, limit: 60))")
                        case .removed: lines.append("      - \(change.path.escapingControls()): \(value(change.old, limit: 60))")
                        case .changed:
                            // Text that reads the same both sides: say why it is a change.
                            var form = ""
                            if case .string(let old)? = change.old, case .string(let new)? = change.new, old == new { form = " (the same text in another Unicode form)" }
                            let (old, new) = Self.changedValues(change.old ?? .null, change.new ?? .null, limit: 40)
                            lines.append("      ~ \(change.path.escapingControls()): \(old) → \(new)" + form)
                        }
                    }
                }
            }
        }
        if let unlinked = history.paymentsWithoutVersion, !unlinked.isEmpty {
            lines += ["", "payments without a content version (none was current)"]
            for payment in unlinked { lines += self.lines(payment, indent: "  ") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A changed value's two sides as a table shows them, as JSON shortened to `limit` columns
    /// each. Where both begin alike for longer than that (a long text with one word changed),
    /// each is shown from a little before where they part, after a `…`, so that the change shows.
    /// What comes before is counted in columns, as wide characters take two, and a side never
    /// starts inside one of JSON's escapes (`\"`, `\u00e9`).
    static func changedValues(_ old: JSONValue, _ new: JSONValue, limit: Int) -> (String, String) {
        let old = old.canonicalText, new = new.canonicalText
        // Where they part, counted in characters (however far into a page), and where a side may
        // start before it.
        var common = 0, canStart: [Bool] = [], escapeLeft = 0
        for (a, b) in zip(old, new) {
            guard a == b else { break }
            common += 1
            canStart.append(escapeLeft == 0)
            if escapeLeft > 0 {
                escapeLeft -= 1
                if escapeLeft == 4, a != "u" { escapeLeft = 0 }
            } else if a == "\\" {
                escapeLeft = 5 // `\u` and four digits; any other escape ends at its next character.
            }
        }
        // The columns of the last characters before that point (each shows in one or more).
        let window = old.prefix(common).suffix(limit).map { String($0).escapingControls(spacing: true).displayWidth }
        let context = 12
        // A side cut short ends in `…`, which JSON text never does.
        let whole = (RowPrinter.cell(.json(old), limit: limit), RowPrinter.cell(.json(new), limit: limit))
        guard window.reduce(0, +) > limit - context, whole.0.hasSuffix("…") || whole.1.hasSuffix("…") else { return whole }
        var start = common, shown = 0
        while start > common - window.count, shown < context {
            start -= 1
            shown += window[start - (common - window.count)]
        }
        while start > 0, !canStart[start] { start -= 1 }
        return ("…" + RowPrinter.cell(.json(String(old.dropFirst(start))), limit: limit - 1),
                "…" + RowPrinter.cell(.json(String(new.dropFirst(start))), limit: limit - 1))
    }

    /// A payment's lines: its intent and amount, then each status as reported, when and by whom,
    /// a failure with its reason (`failed      2026-… by admin  (card declined)`).
    private func lines(_ payment: History.Payment, indent: String) -> [String] {
        ["\(indent)payment     \(payment.intent.escapingControls(spacing: true))  \(payment.amount) cents"]
            + payment.reports.map { report in
                let status = report.status.rawValue.padded(to: 10)
                return "\(indent)  \(status)  \(Timestamp.format(report.at))\(by(report.actor))" + (report.reason.map { "  (\($0.escapingControls(spacing: true)))" } ?? "")
            }
    }

    /// ` by NAME`, as a table prints who recorded a step.
    private func by(_ actor: String) -> String {
        actor.isEmpty ? "" : " by " + actor.escapingControls(spacing: true)
    }
}
