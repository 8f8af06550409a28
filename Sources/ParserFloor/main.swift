import ArgumentParser

// The floor under W4: `folio client show TOKEN --format json --store PATH` parsed by
// swift-argument-parser with the same command shape (a root, a `client` group, `show` with the
// store, format and as-of option groups and one argument), and no work after. `tools/bench/run`
// times it beside `folio` and a trivial executable, built as `folio` is.

enum Format: String, ExpressibleByArgument { case table, json, csv }

struct StoreOptions: ParsableArguments {
    @Option(help: "The store directory.") var store: String?
}

struct FormatOptions: ParsableArguments {
    @Option(help: "Output format.") var format: Format = .table
}

struct AsOfOptions: ParsableArguments {
    @Option(name: .customLong("as-of"), parsing: .unconditional, help: "A log position or time.") var asOf: String?
}

struct Floor: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "folio", subcommands: [Client.self])

    struct Client: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "client", subcommands: [Show.self])

        struct Show: ParsableCommand {
            // Named, as each of Folio's commands is: without a name the parser derives one from
            // the type's name at run time (FolioCommand.swift).
            static let configuration = CommandConfiguration(commandName: "show")

            @OptionGroup var store: StoreOptions
            @OptionGroup var output: FormatOptions
            @OptionGroup var asOf: AsOfOptions
            @Argument var client: String

            func run() { print("{}") }
        }
    }
}

Floor.main()
