import ArgumentParser
import Domain
import Folio
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Projections
import SystemPackage

// The schema's columns in its order, then Folio's additions: every list has the same header,
// an empty one too.
private let clientColumns = [
    "id", "name", "email", "activation_token", "current_version_id", "status", "metadata", "created_at",
    "activated_at", "updated_at",
]
private let versionColumns = [
    "id", "client_id", "page_type", "content", "iteration_notes", "hypothesis", "outcome", "is_current", "version_number",
    "created_at", "created_by", "metadata", "promoted_at", "demoted_at",
]
private let paymentColumns = [
    "id", "client_id", "content_version_id", "stripe_payment_intent_id", "amount", "status", "created_at",
    "failure_reason", "updated_at",
]

extension ClientRow {
    static var columns: [String] { clientColumns }
}
extension VersionRow {
    static var columns: [String] { versionColumns }
}
extension PaymentRow {
    static var columns: [String] { paymentColumns }
}

struct ClientGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Create, show, activate or delete a client.",
        subcommands: [Create.self, Show.self, Activate.self, Delete.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a client (status pending).",
            discussion: "Example: folio client create --name \"Ada Lovelace\" --email ada@example.com --metadata '{\"source\":\"referral\"}'"
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @Option(help: "The client's name (white space at either end is dropped).") var name: String
        @Option(help: "The client's email address.") var email: String?
        @Option(help: ArgumentHelp("A JSON object of client metadata, or @FILE to read it from a file (@- from standard input).", valueName: "json|@file")) var metadata: String?
        @OptionGroup var by: ActorOptions

        func run() throws {
            let metadata = try parseJSONObject(metadata, option: "--metadata")
            // The rules a new client must keep are checked before a store is made for it.
            do {
                _ = try decide(.createClient(clientID: UUID.random(), name: name, email: email, metadata: metadata), state: .initial)
                try checkActor(by.name)
            } catch {
                throw FolioError.wrapping(error)
            }
            // A new store is said to be new: a mistyped --store, or a command run from another
            // directory without FOLIO_STORE, would otherwise put the client somewhere unexpected.
            let opened = try store.open(creating: true)
            let row = try opened.createClient(name: name, email: email, metadata: metadata, actor: by.name)
            // Said by the process whose client is the log's first event, which made the store, and
            // not by another that found no store there before it made one too.
            if (try? opened.log.read({ try $0.event(at: 1)?.stream })) == Event.stream(for: row.id) {
                warn("folio: made a new store at \(absolutePath(store.path).escapingControls()) for this client")
            }
            emit(RowPrinter(format: output.format, columns: ClientRow.columns).render(one: row), done: true)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one client.", discussion: "Example: folio client show G0427 --format json"
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var asOf: AsOfOptions
        @Argument(help: "The client's UUID or activation token.") var client: String

        func run() throws {
            let store = try store.open()
            let (id, found) = try asOf.read(store, client: client) { model, id in (id, try model.client(id: id)) }
            // A client the store knows (its id or token resolved) and without a row was deleted,
            // or (as of a point of the log) not created yet.
            guard let row = found else { throw try asOf.absentClient(id, in: store) }
            emit(RowPrinter(format: output.format, columns: ClientRow.columns).render(one: row))
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "activate",
            abstract: "Activate the client holding a token (pending → active).",
            discussion: "Activating an active client again with its token changes nothing. Example: folio client activate G0427"
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var by: ActorOptions
        @Argument(help: "The activation token (G + 4 digits).") var token: String

        func run() throws {
            // A client's id where its token goes: a token of the wrong form, as any other is (exit
            // 1), saying where the token is.
            if UUID(uuidString: token) != nil {
                throw FolioError(.invalidInput, "\(token) is a client's id: activation takes the client's token, G followed by 4 digits (rule 1), which `folio client show \(token)` shows and `folio token issue \(token)` issues")
            }
            let row = try store.open().activate(token: token, actor: by.name)
            emit(RowPrinter(format: output.format, columns: ClientRow.columns).render(one: row), done: true)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a client: its rows leave the read models; the log keeps its history.",
            discussion: "Prints the client's row as it was. Example: folio client delete G0427"
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var by: ActorOptions
        @Argument(help: "The client's UUID or activation token.") var client: String

        func run() throws {
            let row = try store.open().deleteClient(client, actor: by.name)
            emit(RowPrinter(format: output.format, columns: ClientRow.columns).render(one: row), done: true)
        }
    }
}

struct TokenGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue activation tokens.", subcommands: [Issue.self]
    )

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue",
            abstract: "Issue the client a new activation token; a reissue retires the old one for good.",
            discussion: "Tokens are drawn uniformly from G0000–G9999 and never issued twice. Example: folio token issue 3f2a6c1e-8b4d-4f7a-9c2e-5d1b7a3e9f60"
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var by: ActorOptions
        @Argument(help: "The client's UUID or current activation token.") var client: String

        func run() throws {
            let row = try store.open().issueToken(client: client, actor: by.name)
            emit(RowPrinter(format: output.format, columns: ClientRow.columns).render(one: row), done: true)
        }
    }
}

struct VersionGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Draft, promote, record the outcome of, or show content versions.",
        discussion: "These are a client's page content versions; Folio's own version is `folio --version`.",
        subcommands: [Draft.self, Promote.self, OutcomeCommand.self, Show.self]
    )

    struct Draft: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "draft",
            abstract: "Draft a new content version of a client's page; Folio numbers it.",
            discussion: """
                The content is a JSON object read from FILE, or from standard input with -.
                Example: folio version draft G0427 --page agreement --content page.json --notes "Shorter terms" --hypothesis "Shorter terms win more sign-ups"
                """
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "The client's UUID or activation token.") var client: String
        @Option(help: "The page: activation, agreement, confirmation or processing.", completion: .pages, transform: ruled(PageType.parse)) var page: PageType
        @Option(help: ArgumentHelp("A file holding the content as a JSON object, or - for standard input.", valueName: "file|-"), completion: .file()) var content: String
        @Option(help: ArgumentHelp("Why this change (iteration notes).", valueName: "text")) var notes: String?
        @Option(help: ArgumentHelp("What the change is expected to do.", valueName: "text")) var hypothesis: String?
        @OptionGroup var by: ActorOptions
        @Option(help: ArgumentHelp("A JSON object of version metadata, or @FILE to read it from a file (@- from standard input).", valueName: "json|@file")) var metadata: String?

        func run() throws {
            guard !content.isEmpty else { throw ValidationError("--content names no file: give a path, or - for standard input") }
            // The first to read standard input would take all of it, and the other find it empty.
            guard !(content == "-" && metadata == "@-") else {
                throw ValidationError("--content - and --metadata @- cannot both read standard input: give one of them a file")
            }
            // A page typed at a terminal is not asked for where there is no store to take it (the
            // open says so), nor for a client that cannot take it (unknown, or deleted).
            let opened = try store.open()
            try opened.checkTakesActions(client: client)
            let data = try readJSONInput(content, what: "content")
            let value: JSONValue
            do { value = try JSONValue.parse(data) } catch { throw FolioError(.invalidInput, "content \(FolioError.wrapping(error).message)") }
            let metadata = try parseJSONObject(metadata, option: "--metadata")
            let row = try opened.draftVersion(
                client: client, page: page, content: value, notes: notes, hypothesis: hypothesis, createdBy: by.name, metadata: metadata
            )
            emit(RowPrinter(format: output.format, columns: VersionRow.columns).render(one: row), done: true)
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote",
            abstract: "Make a version current for its page; the previous one is demoted in the same step.",
            discussion: "The version also becomes its client's current version (current_version_id). A version already current for its page is promoted again when it is not the client's current version, which moves the client's current version to it (the event names no previous version, as none is demoted); promoting the client's current version changes nothing, and says so. Example: folio version promote 9c1e4f0a-52b7-4d6e-8a3b-1f2e3d4c5b6a"
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var by: ActorOptions
        @Argument(help: "The content version's UUID.") var version: String

        func run() throws {
            let row = try store.open().promote(version: version, actor: by.name)
            emit(RowPrinter(format: output.format, columns: VersionRow.columns).render(one: row), done: true)
        }
    }

    struct OutcomeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "outcome", abstract: "Record what happened with a version: success, failure or pending.",
            discussion: "Example: folio version outcome 9c1e4f0a-52b7-4d6e-8a3b-1f2e3d4c5b6a success --notes \"Signed within a day\""
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var by: ActorOptions
        @Argument(help: "The content version's UUID.") var version: String
        @Argument(help: "success, failure or pending.", completion: .outcomes, transform: ruled(Outcome.parse)) var outcome: Outcome
        @Option(help: ArgumentHelp("What was learned.", valueName: "text")) var notes: String?

        func run() throws {
            let row = try store.open().recordOutcome(version: version, outcome: outcome, notes: notes, actor: by.name)
            emit(RowPrinter(format: output.format, columns: VersionRow.columns).render(one: row), done: true)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one content version.", discussion: "Example: folio version show 9c1e4f0a-52b7-4d6e-8a3b-1f2e3d4c5b6a --format json")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var asOf: AsOfOptions
        @Argument(help: "The content version's UUID.") var version: String

        func run() throws {
            guard let id = UUID(uuidString: version) else {
                throw FolioError(.invalidInput, "\"\(version)\" is not a content version id (a UUID)")
            }
            let store = try store.open()
            // The owner first: a version drafted after it was looked up is unknown, not deleted.
            let owner = try store.versionOwner(id)
            // As of a point, only its client's stream is folded, found once the point is settled
            // (a version drafted by then, by a write under way at the look-up above, has its owner).
            guard let row = try asOf.read(store, scope: try store.versionOwner(id).map { [$0] } ?? [], { try $0.version(id: id) }) else {
                guard let owner else { throw FolioError.unknownVersion(id) }
                // A version whose client was deleted has no row since, as its client has none.
                throw try asOf.absentVersion(id, owner: owner, in: store)
            }
            emit(RowPrinter(format: output.format, columns: VersionRow.columns).render(one: row))
        }
    }
}

struct PaymentGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payment", abstract: "Record what Stripe reports about a payment.",
        subcommands: [Start.self, Succeed.self, Fail.self, Cancel.self]
    )

    struct Arguments: ParsableArguments {
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: FormatOptions
        @OptionGroup var by: ActorOptions
        @Argument(help: "The client's UUID or activation token.") var client: String
        @Option(help: ArgumentHelp("The Stripe payment intent id (unique across the store).", valueName: "intent-id")) var intent: String
        @Option(name: .customLong("amount"), parsing: .unconditional, help: ArgumentHelp("The amount in cents, e.g. 50000 for $500.", valueName: "cents"))
        var amountText: String
        @Option(help: "The content version the client saw (default: for a new intent, the client's current version; for a known one, the version it was started with).") var version: String?

        /// A number that is not whole (`500.5`, `5e4`) is refused here as the rule has it; a whole
        /// one out of the rule's range, by the rule itself (`amount`).
        func validate() throws {
            guard !isWholeNumber(amountText) else { return }
            throw ValidationError("--amount \(amountText.debugDescription) is not a whole number of cents: an amount is a positive whole number of cents up to \(maximumAmount), e.g. 50000 for $500 (rule 6)")
        }

        /// `--amount`, refused as the rule refuses one out of its range where it is past 64 bits.
        func amount() throws -> Int64 {
            guard let amount = Int64(amountText) else { throw DomainError.amountRefused(amountText) }
            return amount
        }

        /// Digits after one sign at most: a whole number, whatever its size.
        private func isWholeNumber(_ text: String) -> Bool {
            text.dropFirst(text.first == "-" || text.first == "+" ? 1 : 0).isDigits
        }

        func run(_ action: PaymentAction, reason: String? = nil) throws {
            let amount = try amount()
            // A repeated or late report changes nothing, and says so on standard error (`open`).
            let row = try store.open().payment(action, client: client, intent: intent, amount: amount, version: version, reason: reason, actor: by.name)
            emit(RowPrinter(format: output.format, columns: PaymentRow.columns).render(one: row), done: true)
        }
    }

    /// `--reason` where a payment did not fail: not in the help, and refused naming why rather than
    /// as an unknown option.
    struct NoReason: ParsableArguments {
        @Option(help: .hidden) var reason: String?

        func validate() throws {
            guard reason == nil else {
                throw ValidationError("--reason is for `payment fail` only: only a failed payment keeps a reason")
            }
        }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "A payment was initiated (status pending).", discussion: "Started again after a failure, the payment is retried: it is pending again, and counts by that status (its failure stays in `folio history`). After a success or a cancellation it is a late report, and changes nothing. Example: folio payment start G0427 --intent pi_3NfA1b2C3d4E5f --amount 50000")
        @OptionGroup var arguments: Arguments
        @OptionGroup var noReason: NoReason
        func run() throws { try arguments.run(.start) }
    }

    struct Succeed: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "succeed", abstract: "A payment succeeded; the client becomes paid.", discussion: "The same intent reported again as succeeded is a no-op (webhooks retry). Example: folio payment succeed G0427 --intent pi_3NfA1b2C3d4E5f --amount 50000")
        @OptionGroup var arguments: Arguments
        @OptionGroup var noReason: NoReason
        func run() throws { try arguments.run(.succeed) }
    }

    struct Fail: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fail", abstract: "A payment failed; an active client becomes failed.", discussion: "After a success or a cancellation it is a late report of an earlier attempt, and changes nothing. Example: folio payment fail G0427 --intent pi_3NfA1b2C3d4E5f --amount 50000 --reason card_declined")
        @OptionGroup var arguments: Arguments
        @Option(help: ArgumentHelp("Why the payment failed, e.g. card_declined.", valueName: "text")) var reason: String?
        func run() throws { try arguments.run(.fail, reason: reason) }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "A payment was cancelled.", discussion: "A succeeded payment cannot be cancelled, nor a cancelled one succeed: either is refused. Example: folio payment cancel G0427 --intent pi_3NfA1b2C3d4E5f --amount 50000")
        @OptionGroup var arguments: Arguments
        @OptionGroup var noReason: NoReason
        func run() throws { try arguments.run(.cancel) }
    }
}
