import ArgumentParser

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard: a real-time chat backend.",
        subcommands: [GatewayCommand.self, AuthCommand.self, ProfileCommand.self, RequestCommand.self, ChatCommand.self, SocketIOConformanceCommand.self, SocketIOFanoutCommand.self, Check.self, Probe.self])
}
