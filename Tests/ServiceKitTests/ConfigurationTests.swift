import Logging
import ServiceKit
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsApplyWhenNothingIsSet() throws {
        let config = try ServiceConfiguration.load(service: "auth", defaultPort: 5000, from: Environment([:]))
        #expect(config.port == 5000 && config.host == "127.0.0.1")
        #expect(config.mongoURI == "mongodb://127.0.0.1:27017/" && config.mongoDatabase == "authDB")
        #expect(config.redisPort == 6379 && config.amqp.port == 5672 && config.amqp.user == "guest")
        #expect(config.logLevel == .info && config.logFormat == .json)
    }

    @Test func valuesAreReadFromTheEnvironment() throws {
        let env = Environment([
            "AUTH_PORT": "6000", "MONGO_URI": "mongodb://db:1/", "REDIS_PORT": "7000", "AMQP_HOST": "mq",
            "LOG_LEVEL": "debug", "LOG_FORMAT": "text", "AMQP_HEARTBEAT_SECONDS": "30", "MONGO_THREADS": "3",
        ])
        let config = try ServiceConfiguration.load(service: "auth", defaultPort: 5000, from: env)
        #expect(config.port == 6000 && config.mongoURI == "mongodb://db:1/" && config.redisPort == 7000 && config.mongoThreads == 3)
        #expect(config.amqp.host == "mq" && config.amqp.heartbeatSeconds == 30)
        #expect(config.logLevel == .debug && config.logFormat == .text)
    }

    @Test(arguments: [
        ("AUTH_PORT", "http", "AUTH_PORT=\"http\" is malformed"),
        ("AUTH_PORT", "70000", "AUTH_PORT=\"70000\" is malformed"),
        ("REDIS_PORT", "-1", "REDIS_PORT=\"-1\" is malformed"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL=\"loud\" is malformed"),
        ("MONGO_URI", "postgres://u:pw@h/", "MONGO_URI is malformed"),
    ])
    func malformedValueFailsNamingTheVariable(name: String, value: String, expected: String) {
        #expect {
            _ = try ServiceConfiguration.load(service: "auth", defaultPort: 5000, from: Environment([name: value]))
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test func secretsAreNeverEchoedInErrors() throws {
        let env = Environment(["JWT_SECRET_LENGTH": "hunter2", "MONGO_URI": "ftp://user:hunter2@host/"])
        #expect { _ = try env.int("JWT_SECRET_LENGTH", default: 1) } throws: { !"\($0)".contains("hunter2") }
        #expect { _ = try env.url("MONGO_URI", default: "", schemes: ["mongodb"]) } throws: { !"\($0)".contains("hunter2") }
        #expect(throws: ConfigurationError.missing(variable: "X")) { try env.requiredString("X") }
        #expect(try env.bool("B", default: true))
        #expect(throws: ConfigurationError.self) { try Environment(["B": "maybe"]).bool("B", default: true) }
    }
}
