import CryptoExtras

/// One RSA signing key for every auth service a test process starts (`AUTH_SIGNING_KEY`):
/// a new key is a second of CPU on these machines, and forty of them at once held up
/// every other test.
public enum TestSigningKey {
    public static let pem: String = {
        do { return try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation } catch { fatalError("no RSA key: \(error)") }
    }()
}
