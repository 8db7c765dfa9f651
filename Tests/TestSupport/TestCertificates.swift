import Foundation

/// A certificate authority and server certificates made for one test (by
/// Scripts/make_certificates.py, with Python's cryptography): `localhost` and `renewed`
/// (localhost and 127.0.0.1), `api` (api.test and *.api.test), `expired` (localhost, ended
/// yesterday), `other` (other.test). Each `NAME.pem` holds the leaf, then the CA.
public struct TestCertificates: Sendable {
    public let directory: URL
    /// Serial numbers by certificate name, lowercase hex.
    public let serials: [String: String]

    public static func make() async throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certificates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let run = try await PythonRun("Tests/TestSupport/Scripts/make_certificates.py", [directory.path])
        guard run.status == 0, let serials = try JSONSerialization.jsonObject(with: Data(run.lastLine.utf8)) as? [String: String] else {
            throw TestCertificatesError(output: run.output)
        }
        return TestCertificates(directory: directory, serials: serials)
    }

    public var authority: String { directory.appendingPathComponent("ca.pem").path }
    public func certificate(_ name: String) -> String { directory.appendingPathComponent("\(name).pem").path }
    public func key(_ name: String) -> String { directory.appendingPathComponent("\(name).key").path }
    public func remove() { try? FileManager.default.removeItem(at: directory) }
}

public struct TestCertificatesError: Error, CustomStringConvertible {
    public let output: String
    public var description: String { "make_certificates.py failed: \(output)" }
}
