import ArgumentParser
import Folio

/// `folio`: the command line of a Folio store.
///
/// Every command here names itself (`commandName`): left out, the argument parser derives the name
/// from the type's name through runtime reflection, a search of every protocol conformance in the
/// process, and that was a fifth of the time `folio` takes to start.
@main
struct FolioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "folio",
        abstract: "An event-sourced record of clients, their versioned pages and their payments.",
        discussion: """
            Every action is appended to an append-only log in LMDB; read models are folded from it.
            The store is a directory: --store PATH, else $FOLIO_STORE, else ./folio-store.
            `client create`, `import` and `demo` make it when there is none.

            Start with `folio demo`, then try `folio clients` or `folio analytics`.
            `folio --version` prints Folio's version.
            """,
        subcommands: [
            Demo.self, ClientGroup.self, TokenGroup.self, VersionGroup.self, PaymentGroup.self,
            Clients.self, Versions.self, Payments.self, AnalyticsCommand.self,
            HistoryCommand.self, LogCommand.self, Verify.self, Export.self, Import.self,
            ProjectionsGroup.self, Stats.self, Generate.self,
        ]
    )

    /// Folio's version, printed by `folio --version`.
    ///
    /// Answered before parsing rather than through the parser's `version:`, which would list a
    /// `--version` flag in every subcommand's help, beside the content `--version <version>` option
    /// of `payment` and `payments`, and print the version for `folio client show G0001 --version`.
    /// A flag of the root's own would not do either: the parser reads a root's options anywhere on
    /// the command line, so it would take the content option's name from those subcommands.
    static let release = "0.1.0"

    /// Runs the command; any error becomes one line on standard error and a non-zero exit.
    static func main() {
        _ = missingStandardDescriptors
        // The parser knows no `--version` of the root's (it is a payment command's option), and
        // would call it unknown with anything after it.
        if CommandLine.arguments.dropFirst().first == "--version" {
            guard CommandLine.arguments.count == 2 else {
                warn("folio: --version stands alone: it prints Folio's version, and takes nothing after it")
                terminate(ExitCode.validationFailure.rawValue)
            }
            emit(release + "\n")
            terminate(0)
        }
        // Swift reads arguments as UTF-8, putting U+FFFD where a byte is not one: a name or a
        // note would be stored changed (a file of such bytes is refused), a path would name
        // another file.
        if let index = (1..<Int(CommandLine.argc)).first(where: { CommandLine.unsafeArgv[$0].map { String(validatingCString: $0) == nil } ?? false }) {
            warn("folio: argument \(index) (\(CommandLine.arguments[index].escapingControls())) is not valid UTF-8: Folio reads its arguments, names, notes and paths alike, as UTF-8 text")
            terminate(1)
        }
        failWritesPastFileSizeLimit()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let refusal = optionBeforeCommand(arguments) ?? unknownCommand(arguments) ?? repeatedOption(arguments) {
            warn("folio: " + refusal)
            terminate(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot()
            // What a write prints, on either output, follows its commit: a reader gone must not
            // end it by SIGPIPE without a word, as it would a query's `folio log | head`.
            // (A query asks once: each such question of a type the runtime has not met searches
            // every conformance in the program.)
            if command is any WritesToStore {
                ignoreBrokenPipes()
                // Before any other thread starts, as `handleSignals()` asks.
                if command is any RecordsAction {
                    // Named first: a signal the moment the thread takes them finds what to say.
                    CommandNote.shared.beginWrite()
                    Interruption.handleSignals()
                }
            }
            try command.run()
            Interruption.yieldIfInterrupted()
        } catch {
            // The refusal says what became of the command: an interruption from here on adds
            // nothing to it (and one under way ends the process first, saying so).
            CommandNote.shared.finish()
            let code = exitCode(for: error)
            if code == .success {
                emit(fullMessage(for: error) + "\n")
                terminate(0)
            }
            let message = oneLine(error)
            warn("folio: " + (valueLikeAnOption(message, arguments) ?? message).escapingControls())
            terminate(code == .failure || code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// Why the command line, or `folio help NAME…`, names no command (`nil` when it does): given
    /// a word that is none of a group's commands (`folio payment succed G0427 --intent …`), the
    /// parser takes it for an argument and refuses the first option after it, as if that were
    /// the mistake; and its `help` shows the nearest command's help for an unknown name, and
    /// succeeds.
    static func unknownCommand(_ arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = FolioCommand.self
        var path = "folio"
        let names = arguments.first == "help" ? arguments.dropFirst() : arguments[...]
        for name in names.prefix(while: { !$0.hasPrefix("-") }) {
            // The parser's own `help` is no subcommand of Folio's.
            if path == "folio", name == "help" { return nil }
            let subcommands = command.configuration.subcommands
            // A command without subcommands takes the rest as its arguments, as the parser does.
            guard !subcommands.isEmpty else { break }
            guard let next = subcommands.first(where: { $0.configuration.commandName == name }) else {
                let names = subcommands.compactMap { $0.configuration.commandName }
                // `folio client list` is a natural guess: listing is the plural's (`folio clients`).
                let plural = String(path.split(separator: " ").last ?? "") + "s"
                let lists = ["list", "ls"].contains(name) && FolioCommand.configuration.subcommands.contains { $0.configuration.commandName == plural }
                return "\(path) has no command named \(name.debugDescription): its commands are \(names.joined(separator: ", "))"
                    + (lists ? "; `folio \(plural)` lists them" : "")
            }
            command = next
            path += " " + name
        }
        return nil
    }

    /// Why options given before the command are refused, saying where they go (`nil` when there
    /// are none): `folio --store PATH clients` (or `folio version --store PATH show V`) reads
    /// naturally, but `folio` and its groups take no options, and the parser would say only that
    /// `--store` is unknown.
    static func optionBeforeCommand(_ arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = FolioCommand.self
        var path: [String] = []
        var rest = arguments[...]
        // Down the groups named first (`version`, `payment`…).
        while let word = rest.first, let next = command.configuration.subcommands.first(where: { $0.configuration.commandName == word }) {
            guard !next.configuration.subcommands.isEmpty else { return nil }
            command = next
            path.append(word)
            rest = rest.dropFirst()
        }
        guard let first = rest.first, first.hasPrefix("-"), !["-h", "--help"].contains(first) else { return nil }
        // The options and their values, up to the first word that is neither.
        var index = rest.startIndex
        while index < rest.endIndex, rest[index].hasPrefix("-") {
            let option = rest[index]
            index += option.contains("=") || flags.contains(option) ? 1 : 2
        }
        // A request for help is the parser's to answer, wherever it stands.
        guard index < rest.endIndex, !rest[..<index].contains(where: { ["-h", "--help"].contains($0) }),
              command.configuration.subcommands.contains(where: { $0.configuration.commandName == rest[index] })
        else { return nil }
        let moved = path + rest[index...] + rest[..<index]
        return "options go after the command they are for, as in: folio \(moved.map(\.shellQuoted).joined(separator: " "))"
    }

    /// Folio's flags: every other option takes one value.
    static let flags: Set<String> = ["--current", "--diff", "--help"]

    /// Why an option given twice is refused, or `nil` when none is: the parser keeps the last
    /// value, and `payment succeed … --amount 100 --amount 200` would record 200 unseen. Every
    /// option of Folio's takes one value. A value is skipped as such, so a note that reads
    /// `--intent` is not taken for the option.
    static func repeatedOption(_ arguments: [String]) -> String? {
        var seen = Set<Substring>()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" { break }
            guard argument.hasPrefix("--") else { continue }
            let name = argument.split(separator: "=", maxSplits: 1)[0]
            if !argument.contains("="), !flags.contains(argument) { index += 1 }
            guard seen.insert(name).inserted else { return flags.contains(String(name)) ? "\(name) is given twice: a flag is given once" : "\(name) is given twice: an option takes one value" }
        }
        return nil
    }

    /// The parser's refusal of an option whose value starts with `-`, which it reads as another
    /// option (a note of `- first point`, a name of `-Ana`), with how to give such a value; `nil`
    /// for any other message. Reading such values as values would make `--name --help` a client
    /// named `--help`.
    static func valueLikeAnOption(_ message: String, _ arguments: [String]) -> String? {
        let prefix = "Missing value for '"
        guard message.hasPrefix(prefix), let name = message.dropFirst(prefix.count).split(separator: " ").first.map(String.init),
              let index = arguments.firstIndex(of: name), index + 1 < arguments.endIndex
        else { return nil }
        let value = arguments[index + 1]
        guard value.hasPrefix("-"), value != "--" else { return nil }
        return "\(message): \(value.shellQuoted) is read as an option; a value that starts with - is given after =, as in \((name + "=" + value).shellQuoted)"
    }

    /// An error's message, without the help and usage the parser prints after it (`message(for:)`
    /// leaves them out) or an "Error: " prefix; a line break left (in a value it quotes) is
    /// written out by the caller.
    static func oneLine(_ error: any Error) -> String {
        if let error = FolioError.known(error) { return error.message }
        // Folio's own validation messages are one line, unless a value quoted in one holds a break.
        if let error = error as? ValidationError { return error.message }
        var message = Substring(message(for: error))
        while message.last?.isNewline == true { message.removeLast() }
        // The parser's one message written on lines of its own quotes nothing: one line of it.
        if message.hasPrefix("Can't generate completion scripts for ") {
            return message.split(whereSeparator: \.isNewline).map { $0.drop { $0 == " " } }.joined(separator: " ")
        }
        return message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : String(message)
    }
}

extension String {
    /// The argument as a shell reads it back: as it is when it holds only characters a shell
    /// takes literally, else in single quotes.
    var shellQuoted: String {
        let plain = !isEmpty && unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_./=:@%+,".unicodeScalars.contains($0)) }
        guard !plain else { return self }
        // A quote inside ends the quoted part, is written escaped, and starts another.
        return "'" + split(separator: "'", omittingEmptySubsequences: false).joined(separator: #"'\''"#) + "'"
    }
}
