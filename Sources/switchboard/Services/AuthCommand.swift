import ArgumentParser
import Auth
import Logging
import ServiceKit

/// `switchboard auth`: the auth service (AUTH_PORT, default 5000).
struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auth", abstract: "Run the auth service (AUTH_PORT, default 5000).")

    func run() async throws {
        let config = try AuthConfiguration.load()
        ServiceLogging.bootstrap(level: config.service.logLevel, format: config.service.logFormat)
        let logger = Logger(label: "auth")
        try await buildAuthApplication(config, logger: logger).runService()
    }
}
