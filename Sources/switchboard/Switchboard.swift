import ArgumentParser

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard: a real-time chat backend.",
        subcommands: [AuthCommand.self, Check.self, Probe.self])
}
