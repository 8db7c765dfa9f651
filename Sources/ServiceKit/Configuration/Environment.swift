import EdgeContract
import Foundation

/// Why the configuration could not be read. The message names the variable, and
/// shows the value only when the variable is not secret.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case malformed(variable: String, value: String?, expected: String)
    case missing(variable: String)

    public var description: String {
        switch self {
        case .malformed(let variable, let value, let expected):
            "\(variable)\(value.map { "=\"\($0)\"" } ?? "") is malformed: expected \(expected)"
        case .missing(let variable): "\(variable) is required but not set"
        }
    }
}

/// Typed reads of environment variables with defaults. Every variable read goes
/// through here, so a malformed value fails at start with its name.
public struct Environment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }

    /// Names containing these are never echoed back in errors.
    static let secretMarkers = ["PASSWORD", "SECRET", "TOKEN", "KEY"]

    private func shown(_ name: String, _ value: String) -> String? {
        Self.secretMarkers.contains { name.uppercased().contains($0) } ? nil : value
    }

    private func raw(_ name: String) -> String? {
        guard let v = values[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        return v
    }

    public func string(_ name: String, default fallback: String) -> String { raw(name) ?? fallback }

    public func requiredString(_ name: String) throws -> String {
        guard let v = raw(name) else { throw ConfigurationError.missing(variable: name) }
        return v
    }

    public func int(_ name: String, default fallback: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let v = raw(name) else { return fallback }
        guard let i = Int(v), range.contains(i) else {
            throw ConfigurationError.malformed(variable: name, value: shown(name, v), expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    public func port(_ name: String, default fallback: Int) throws -> Int {
        try int(name, default: fallback, in: 1...65535)
    }

    public func double(_ name: String, default fallback: Double, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
        guard let v = raw(name) else { return fallback }
        guard let d = Double(v), d.isFinite, range.contains(d) else {
            throw ConfigurationError.malformed(variable: name, value: shown(name, v), expected: "a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return d
    }

    public func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let v = raw(name) else { return fallback }
        switch v.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError.malformed(variable: name, value: shown(name, v), expected: "true or false")
        }
    }

    public func oneOf(_ name: String, _ choices: [String], default fallback: String) throws -> String {
        guard let v = raw(name) else { return fallback }
        guard choices.contains(v.lowercased()) else {
            throw ConfigurationError.malformed(variable: name, value: shown(name, v), expected: "one of \(choices.joined(separator: ", "))")
        }
        return v.lowercased()
    }

    /// A URL with one of `schemes`, such as `mongodb://127.0.0.1:27017/`.
    public func url(_ name: String, default fallback: String, schemes: [String]) throws -> String {
        let v = raw(name) ?? fallback
        guard let scheme = v.split(separator: ":", maxSplits: 1).first, schemes.contains(String(scheme)), v.contains("://") else {
            // A URL may carry a password: never echo it.
            throw ConfigurationError.malformed(variable: name, value: nil, expected: "a \(schemes.joined(separator: " or ")) URL")
        }
        return v
    }

    /// A comma-separated list of addresses or CIDR ranges, such as `127.0.0.1,10.0.0.0/8`.
    public func networks(_ name: String, default fallback: String) throws -> [IPNetwork] {
        let v = raw(name) ?? fallback
        return try v.split(separator: ",").map { item in
            guard let network = IPNetwork(item.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError.malformed(variable: name, value: v, expected: "comma-separated IP addresses or CIDR ranges")
            }
            return network
        }
    }
}
