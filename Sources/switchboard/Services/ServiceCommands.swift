import ArgumentParser
import Auth
import Chat
import Foundation
import Gateway
import NIOCore
import NIOPosix
import Hummingbird
import Logging
import Profile
import RequestService
import ServiceKit
import ServiceLifecycle

/// `switchboard auth`: the auth service (AUTH_PORT, default 5000).
struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auth", abstract: "Run the auth service (AUTH_PORT, default 5000).")

    func run() async throws {
        let config = try AuthConfiguration.load()
        try await runService("auth", config.service) { try await buildAuthApplication(config, logger: $0) }
    }
}

/// `switchboard profile`: the profile service (PROFILE_PORT, default 5001).
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile", abstract: "Run the profile service (PROFILE_PORT, default 5001).")

    func run() async throws {
        let config = try ProfileConfiguration.load()
        try await runService("profile", config.service) { try await buildProfileApplication(config, logger: $0) }
    }
}

/// `switchboard request`: the request service (REQUEST_PORT, default 5002).
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "request", abstract: "Run the request service (REQUEST_PORT, default 5002).")

    func run() async throws {
        let config = try RequestConfiguration.load()
        try await runService("request", config.service) { try await buildRequestApplication(config, logger: $0) }
    }
}

/// `switchboard chat`: the chat service with Socket.IO (CHAT_PORT, default 5003).
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chat", abstract: "Run the chat service and its Socket.IO endpoint (CHAT_PORT, default 5003).")

    func run() async throws {
        let config = try ChatConfiguration.load()
        try await runService("chat", config.service) { try await buildChatApplication(config, logger: $0) }
    }
}

/// `switchboard gateway`: the API gateway, configured by gateway.conf.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway", abstract: "Run the API gateway (routes, limits and policies from gateway.conf).")

    @Option(name: .long, help: "The configuration file (GATEWAY_CONFIG, default gateway.conf).")
    var config: String = ProcessInfo.processInfo.environment["GATEWAY_CONFIG"] ?? "gateway.conf"

    func run() async throws {
        let service = try ServiceConfiguration.load(service: "gateway", defaultPort: 3000)
        ServiceLogging.bootstrap(level: service.logLevel, format: service.logFormat)
        let loaded: GatewayConfig
        do {
            loaded = try GatewayConfig.load(path: config)
        } catch let error as GatewayConfigError {
            // file:line: reason, and nothing starts.
            FileHandle.standardError.write(Data("switchboard gateway: \(error)\n".utf8))
            throw ExitCode(2)
        }
        // GATEWAY_THREADS: event loops (default: one per core).
        let threads = try Environment().int("GATEWAY_THREADS", default: System.coreCount, in: 1...256)
        // JSON logs at info: access lines are encoded by the gateway and go straight to the log output.
        let accessLog: AccessLogOutput = service.logFormat == .json && service.logLevel <= .info
            ? .jsonLines { LogOutput.standardOutput.write(encoding: $0) } : .logger
        let gateway = GatewayServer(
            config: loaded, configPath: config, logger: Logger(label: "gateway"), accessLog: accessLog,
            group: MultiThreadedEventLoopGroup(numberOfThreads: threads), shutdownGrace: service.shutdownGrace)
        // The log output first: a ServiceGroup stops in reverse order, so it writes the last lines.
        var configuration = ServiceGroupConfiguration(services: [LogOutput.standardOutput, gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "gateway"))
        configuration.maximumGracefulShutdownDuration = service.shutdownGrace + .seconds(10)
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Logging as configured, then the service until SIGTERM or SIGINT. Its connections drain
/// within the grace period; whatever still runs 10 s after it is cancelled, and a process
/// that cancellation cannot stop either ends 5 s later: a stop always completes.
func runService<App: ApplicationProtocol>(_ name: String, _ service: ServiceConfiguration, build: (Logger) async throws -> App) async throws {
    ServiceLogging.bootstrap(level: service.logLevel, format: service.logFormat)
    let logger = Logger(label: name)
    // The log output first: a ServiceGroup stops in reverse order, so it writes the last lines.
    var configuration = ServiceGroupConfiguration(services: [LogOutput.standardOutput, try await build(logger)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = service.shutdownGrace + .seconds(10)
    configuration.maximumCancellationDuration = .seconds(5)
    try await ServiceGroup(configuration: configuration).run()
}
