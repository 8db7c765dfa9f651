import ArgumentParser
import Logging
import ServiceKit

/// Serves `/health` and `/ready` for the backing servers, exactly as a service
/// does: for watching the stack, and the end-to-end test of ServiceKit.
struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve /health and /ready for MongoDB, Redis and RabbitMQ (PROBE_PORT, default 3999).")

    func run() async throws {
        let config = try ServiceConfiguration.load(service: "probe", defaultPort: 3999)
        ServiceLogging.bootstrap(level: config.logLevel, format: config.logFormat)
        let logger = Logger(label: "probe")
        let app = try buildProbe(config, logger: logger)
        try await app.runService()
        logger.info("stopped")
    }
}
