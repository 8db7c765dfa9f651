import NIOSSL

/// The gateway's TLS certificates, built into contexts when the configuration is read (at
/// start and on SIGHUP, never on an event loop: it reads and parses files), and chosen per
/// connection by the name the client asked for (SNI).
public struct ServerCertificate: Sendable, Equatable {
    /// Names it answers for (lowercased; `*.example.com` covers one label); none: only as the default.
    public let names: [String]
    public let certificatePath: String
    public let keyPath: String
    private let chainPEM: [UInt8]
    private let keyPEM: [UInt8]
    let context: NIOSSLContext
    /// When the leaf certificate stops being valid (seconds since 1970).
    public let notValidAfter: Int

    /// Reads nothing itself: the PEM bytes of the chain (leaf first) and of its private key.
    public init(names: [String], certificatePath: String, keyPath: String, chainPEM: [UInt8], keyPEM: [UInt8]) throws(ServerCertificateError) {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMBytes(chainPEM) } catch { throw .unreadableCertificate }
        guard let leaf = chain.first else { throw .unreadableCertificate }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem) } catch { throw .unreadableKey }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        // TLS 1.2: forward secrecy and AEAD only (TLS 1.3's own suites all are).
        configuration.cipherSuiteValues = [
            .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        configuration.applicationProtocols = ["http/1.1"]
        do { context = try NIOSSLContext(configuration: configuration) } catch { throw .keyDoesNotFit("\(error)") }
        self.names = names.map { $0.lowercased() }
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
        notValidAfter = Int(leaf.notValidAfter)
    }

    func answers(_ serverName: String) -> Bool {
        names.contains { name in
            if name.hasPrefix("*.") {
                // One label: *.example.com covers a.example.com, not example.com or a.b.example.com.
                let suffix = name.dropFirst(1)
                guard serverName.hasSuffix(suffix) else { return false }
                let label = serverName.dropLast(suffix.count)
                return !label.isEmpty && !label.contains(".")
            }
            return name == serverName
        }
    }

    public static func == (a: ServerCertificate, b: ServerCertificate) -> Bool {
        a.names == b.names && a.chainPEM == b.chainPEM && a.keyPEM == b.keyPEM
    }
}

public enum ServerCertificateError: Error, Equatable, CustomStringConvertible {
    case unreadableCertificate
    case unreadableKey
    case keyDoesNotFit(String)

    public var description: String {
        switch self {
        case .unreadableCertificate: "the certificate file holds no PEM certificate"
        case .unreadableKey: "the key file holds no PEM private key"
        case .keyDoesNotFit(let reason): "the certificate and key make no TLS context: \(reason)"
        }
    }
}

extension GatewayConfig.TLS {
    /// The certificate for the name a client asked for; the first one when it asked for
    /// none, or for one no certificate names.
    func certificate(for serverName: String?) -> ServerCertificate {
        if let serverName = serverName?.lowercased(), let named = certificates.first(where: { $0.answers(serverName) }) { return named }
        return certificates[0]
    }
}
